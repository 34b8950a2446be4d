"""The documentation: the site builds without a warning, every public function has a runnable example
(and the examples pass), and the docs and help texts cite only files that exist.

"Public function", as this file checks it (``public_functions``):

* the callables of the top-level ``neuroport`` namespace (it has no ``__all__``: the names without a
  leading underscore that are not modules): its functions (``neuroport.run``, ``compile``, ``read``,
  ``write``, ``quantize``, the lazily loaded ``neuroport.map``, and ``neuroport.sweep(...)``, the
  module that can be called, i.e. ``neuroport.sweep.sweep``) and its classes except the
  exceptions (``Network``, ``Simulator``, the neuron specs ``LIF`` ... ``CondLIF``, ``Program``,
  ``FloatProgram``, ``FixedProgram``, ``Population``, ``Projection``): a class's own docstring;
* the public methods (plain, class- and static methods; not properties or attributes) of
  :class:`neuroport.Network`, :class:`neuroport.Simulator` and :class:`neuroport.result.Result`;
* the functions in ``__all__`` of ``neuroport.encoders``, ``neuroport.decoders`` and
  ``neuroport.compare``, and every function of ``neuroport.io`` whose name has no leading
  underscore.

Each needs an ``Examples`` section with ``>>>`` lines in its own docstring. The doctests of every
neuroport module that has any (not only those) run here, in a temporary working directory.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

#: Modules whose doctests are not run here, with the reason: they take seconds each (the doctests
#: here stay under ~30 s together); tests/test_diehl_cook.py tests the same calls.
SLOW_DOCTEST_MODULES = {
    "neuroport.apps.diehl_cook": "loads scikit-learn's digits and trains a Diehl & Cook network (~10 s)",
}

#: Where the importable modules live: folder -> dotted prefix (pyproject's package-dir).
SOURCE_FOLDERS = {"neuroport": "neuroport", "models": "neuroport.models", "backends": "neuroport.backends"}


# --------------------------------------------------------------------------- which functions are public
def _own_functions(module) -> list:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in vars(module) if not n.startswith("_")]
    found = []
    for name in names:
        obj = getattr(module, name)
        if inspect.isfunction(obj) and obj.__module__ == module.__name__:
            found.append((f"{module.__name__}.{name}", obj))
    return found


def public_functions() -> list:
    """(qualified name, function) for every function this file's docstring calls public."""
    import neuroport
    from neuroport.result import Result

    found = []
    for name in sorted(n for n in dir(neuroport) if not n.startswith("_")) + ["map"]:
        obj = getattr(neuroport, name)
        if inspect.isfunction(obj) or (inspect.isclass(obj) and not issubclass(obj, BaseException)):
            found.append((f"neuroport.{name}", obj))
    found.append(("neuroport.sweep", importlib.import_module("neuroport.sweep").sweep))
    for cls in (neuroport.Network, neuroport.Simulator, Result):
        for name, raw in vars(cls).items():
            if name.startswith("_"):
                continue
            if isinstance(raw, (classmethod, staticmethod)):
                raw = raw.__func__
            if inspect.isfunction(raw):
                found.append((f"{cls.__name__}.{name}", raw))
    for module_name in ("encoders", "decoders", "compare", "io"):
        found += _own_functions(importlib.import_module(f"neuroport.{module_name}"))
    return found


def _has_example(obj) -> bool:
    return any(line.lstrip().startswith(">>>") for line in (inspect.getdoc(obj) or "").splitlines())


def test_public_function_list_is_not_empty_and_spans_the_modules():
    names = [name for name, _ in public_functions()]
    for expected in ("neuroport.run", "neuroport.read", "neuroport.map", "neuroport.sweep", "neuroport.LIF",
                     "neuroport.Program",
                     "Network.connect", "Simulator.run",
                     "Result.save_npz", "neuroport.encoders.poisson", "neuroport.decoders.bin_counts",
                     "neuroport.compare.compare", "neuroport.io.write"):
        assert expected in names, f"{expected} is missing from public_functions()"
    assert "neuroport.InputError" not in names and "neuroport.annotations" not in names


def test_every_public_function_has_a_runnable_example():
    missing = sorted(name for name, obj in public_functions() if not _has_example(obj))
    assert not missing, ("public functions without an Examples section (>>> lines) in their docstring: "
                         + ", ".join(missing))


def test_example_detection_can_fail():
    def documented():
        """Add one.

        Examples
        --------
        >>> 1 + 1
        2
        """

    def undocumented():
        """No example here; ``>>>`` inside prose does not count."""

    assert _has_example(documented) and not _has_example(undocumented)


# --------------------------------------------------------------------------- the doctests themselves
def _modules_with_examples() -> list:
    names = []
    for folder, prefix in SOURCE_FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "__pycache__" in path.parts or ">>>" not in path.read_text(encoding="utf-8"):
                continue
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            names.append(".".join([prefix, *parts]))
    return names


DOCTEST_MODULES = _modules_with_examples()


def test_doctest_modules_found():
    for expected in ("neuroport.api", "neuroport.encoders", "neuroport.network", "neuroport.simulator",
                     "neuroport.result", "neuroport.io", "neuroport.compare"):
        assert expected in DOCTEST_MODULES


@pytest.mark.parametrize("module_name", [m for m in DOCTEST_MODULES if m not in SLOW_DOCTEST_MODULES])
def test_docstring_examples_pass(module_name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)          # examples that write files write them here
    monkeypatch.setenv("MPLBACKEND", "Agg")
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    failures = []
    for test in finder.find(module, module_name):
        runner.run(test, out=failures.append)
    assert not failures, "".join(failures)


# --------------------------------------------------------------------------- the site
@pytest.mark.slow
def test_site_builds_without_warnings(tmp_path):
    """``make docs``'s build (warnings as errors) into a temporary folder: ~25 s of CPU."""
    pytest.importorskip("sphinx", reason="the docs extra is not installed: pip install -e '.[docs]'")
    pytest.importorskip("myst_parser", reason="the docs extra is not installed: pip install -e '.[docs]'")
    out = tmp_path / "html"
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q",
                           "-d", str(tmp_path / "doctrees"), str(ROOT / "docs"), str(out)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr[-6000:] or proc.stdout[-3000:]
    encoders_page = (out / "api" / "encoders.html").read_text(encoding="utf-8")
    assert "poisson" in encoders_page and "Examples" in encoders_page
    assert (out / "timing.html").exists() and (out / "gallery.html").exists()
    from neuroport.cli import COMMANDS

    cli_page = (out / "api" / "cli.html").read_text(encoding="utf-8")
    assert all(f"neuroport {command}" in cli_page for command in COMMANDS)
    gallery_page = (out / "gallery.html").read_text(encoding="utf-8")
    images = re.findall(r'<img [^>]*src="([^"]+)"', gallery_page)
    assert len(images) >= 5 and all((out / src).is_file() for src in images), images


def test_every_core_module_has_an_api_page():
    """Each module of ``neuroport/`` is on a page of docs/api/ (``neuroport.cli`` as the CLI page)."""
    documented = set()
    for page in (ROOT / "docs" / "api").glob("*.rst"):
        documented |= set(re.findall(r"^\.\. automodule:: (\S+)", page.read_text(encoding="utf-8"), re.M))
    assert "neuroport-cli::" in (ROOT / "docs" / "api" / "cli.rst").read_text(encoding="utf-8")
    modules = {f"neuroport.{p.stem}" for p in (ROOT / "neuroport").glob("*.py") if not p.stem.startswith("_")}
    missing = sorted(modules - documented - {"neuroport.cli"})
    assert not missing, f"modules on no page of docs/api/ (add an automodule directive): {', '.join(missing)}"


# --------------------------------------------------------------------------- cited files exist
#: A file path as the docs write one: a top-level folder of the repository, then a file with an extension.
PATH_PATTERN = re.compile(r"(?<![\w./-])((?:\.\./)+[\w./-]*\w\.\w+|"
                          r"(?:docs|examples|benchmarks|tests|neuroport|models|backends|tools)/[\w./-]*\w\.\w+)")
#: A bare Markdown or design file name (``DESIGN.md``, ``timing.md``).
BARE_DOC_PATTERN = re.compile(r"(?<![\w./-])([A-Za-z][\w-]*\.md)\b")
#: Outputs the docs mention that a build or a run writes (not in a clean clone).
OUTPUT_PREFIXES = ("docs/_build/", "docs/_generated/")


def cited_paths(text: str) -> list:
    """The file paths ``text`` names, without placeholders (``<case>.nir``) or wildcards."""
    found = PATH_PATTERN.findall(text) + BARE_DOC_PATTERN.findall(text)
    return [p.rstrip(".") for p in found if not any(c in p for c in "<>*{}")]


def _exists(cited: str, base: pathlib.Path) -> bool:
    """Whether ``cited`` names a file of the repository (from its root, or from ``base``, the citing
    file's folder); a path that leaves the repository (``../outside/DESIGN.md``) does not count."""
    if cited.lstrip("./").startswith(OUTPUT_PREFIXES):
        return True
    bases = [ROOT, base] + ([ROOT / "docs"] if "/" not in cited else [])
    for folder in bases:
        candidate = (folder / cited).resolve()
        if candidate.exists() and candidate.is_relative_to(ROOT):
            return True
    return False


def _help_texts() -> dict:
    from neuroport.cli import build_parser

    parser = build_parser()
    texts = {"neuroport --help": parser.format_help()}
    for action in parser._actions:
        if getattr(action, "choices", None) and isinstance(action.choices, dict):
            for name, sub in action.choices.items():
                texts[f"neuroport {name} --help"] = sub.format_help()
    return texts


def test_cited_path_detection_can_fail(tmp_path):
    text = "see docs/timing.md, examples/nothing_here.py, ../outside/DESIGN.md and <case>.nir"
    cited = cited_paths(text)
    assert cited == ["docs/timing.md", "examples/nothing_here.py", "../outside/DESIGN.md"]
    assert _exists("docs/timing.md", ROOT) and not _exists("examples/nothing_here.py", ROOT)
    assert not _exists("../outside/DESIGN.md", ROOT) and not _exists("DESIGN.md", ROOT)
    outside = tmp_path / "DESIGN.md"  # a file that exists, outside the repository: still not citable
    outside.write_text("# design\n")
    assert not _exists(os.path.relpath(outside, ROOT), ROOT)
    assert cited_paths("the design (DESIGN.md, section 4)") == ["DESIGN.md"]


def test_docs_and_help_texts_cite_only_files_that_exist():
    sources = {str(p.relative_to(ROOT)): (p.read_text(encoding="utf-8"), p.parent)
               for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]}
    help_texts = _help_texts()
    assert len(help_texts) > 5, "the CLI's subcommands were not found"
    sources.update({name: (text, ROOT) for name, text in help_texts.items()})
    missing = [f"{where}: {cited}" for where, (text, base) in sources.items()
               for cited in cited_paths(text) if not _exists(cited, base)]
    assert not missing, "cited files that are not in the repository:\n" + "\n".join(missing)
