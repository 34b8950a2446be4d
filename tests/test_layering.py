"""Imports point one way: core <- models <- backends.

Every ``.py`` file of ``neuroport/`` (the core, with ``neuroport.commands``,
``neuroport.testing`` and ``neuroport.apps``), ``models/``
(``neuroport.models``) and ``backends/`` (``neuroport.backends``) is parsed
with :mod:`ast`; every ``import`` / ``from ... import`` anywhere in it,
inside functions included, with relative imports resolved, and every
``importlib.import_module("...")`` with a literal name, is checked against
the rules below. The registry reaches backends through entry points
(``importlib.metadata``), which is not an import of ``neuroport.backends``.
"""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]

#: source folder -> the package it is importable as (pyproject's package-dir mapping)
TREES = {"neuroport": "neuroport", "models": "neuroport.models", "backends": "neuroport.backends"}

#: (importing layer, forbidden target prefix)
RULES = (
    ("core", "neuroport.backends"),
    ("models", "neuroport.backends"),
)


def module_name(path: pathlib.Path, folder: pathlib.Path, package: str) -> str:
    """Dotted module name of ``path`` inside ``folder``, importable as ``package``.

    Parameters
    ----------
    path : pathlib.Path
        A ``.py`` file under ``folder``.
    folder : pathlib.Path
        The source folder (``models/``).
    package : str
        What the folder is importable as (``"neuroport.models"``).

    Returns
    -------
    str
        ``models/networks/ei.py`` -> ``"neuroport.models.networks.ei"``;
        an ``__init__.py`` is its package.
    """
    parts = list(path.relative_to(folder).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([package, *parts])


def layer_of(module: str) -> str:
    """``"backends"``, ``"models"`` or ``"core"`` for a module under ``neuroport``."""
    for layer, prefix in (("backends", "neuroport.backends"), ("models", "neuroport.models")):
        if module == prefix or module.startswith(prefix + "."):
            return layer
    return "core"


def imported_modules(tree: ast.AST, module: str, is_package: bool):
    """Yield ``(line, module)`` for every module an AST imports, anywhere in it.

    ``from a import b`` yields ``a`` and ``a.b`` (``b`` may be a submodule:
    ``from neuroport import backends``); relative imports are resolved
    against ``module``.
    """
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield node.lineno, target
            for alias in node.names:
                if alias.name != "*":
                    yield node.lineno, f"{target}.{alias.name}"
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module"
                   or isinstance(node.func, ast.Name) and node.func.id in ("import_module", "__import__"))):
            yield node.lineno, node.args[0].value


def wrong_way_imports(root: pathlib.Path, trees=TREES, rules=RULES) -> list:
    """Every import that breaks a layering rule, as ``"file:line imports module"`` strings.

    Parameters
    ----------
    root : pathlib.Path
        The repository root holding the source folders.
    trees : dict[str, str]
        Source folder (relative to ``root``) -> package it is importable as.
    rules : iterable of (str, str)
        ``(layer, forbidden module prefix)``.

    Returns
    -------
    list of str
        Sorted; empty when the layering holds.
    """
    found = set()
    for folder_name, package in trees.items():
        folder = root / folder_name
        for path in sorted(folder.rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            module = module_name(path, folder, package)
            layer = layer_of(module)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for line, target in imported_modules(tree, module, path.name == "__init__.py"):
                for rule_layer, prefix in rules:
                    if layer == rule_layer and (target == prefix or target.startswith(prefix + ".")):
                        found.add((str(path.relative_to(root)), line, target))
    # ``from a import b`` yields ``a`` and ``a.b``: report ``a`` when it is itself forbidden
    keep = {(f, ln, t) for f, ln, t in found
            if not any(f2 == f and ln2 == ln and t.startswith(t2 + ".") for f2, ln2, t2 in found)}
    return [f"{f}:{ln} imports {t}" for f, ln, t in sorted(keep)]


def test_no_wrong_way_imports():
    wrong = wrong_way_imports(ROOT)
    assert not wrong, ("imports must point core <- models <- backends; wrong-way imports:\n  "
                       + "\n  ".join(wrong))


def test_module_names_follow_the_package_dir_mapping():
    assert module_name(ROOT / "models/networks/ei.py", ROOT / "models", "neuroport.models") == \
        "neuroport.models.networks.ei"
    assert module_name(ROOT / "backends/__init__.py", ROOT / "backends", "neuroport.backends") == \
        "neuroport.backends"
    assert layer_of("neuroport.commands.run") == "core"
    assert layer_of("neuroport.models") == "models"
    assert layer_of("neuroport.backendsx") == "core"


def _write(root: pathlib.Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_checker_reports_a_synthetic_wrong_way_import(tmp_path):
    for folder in TREES:
        _write(tmp_path, f"{folder}/__init__.py", "")
    _write(tmp_path, "neuroport/ok.py", "from neuroport.backend import get\nimport numpy\n")
    _write(tmp_path, "neuroport/bad.py", "import os\n\n\ndef f():\n    import neuroport.backends.numpy\n")
    _write(tmp_path, "neuroport/sub/__init__.py", "")
    _write(tmp_path, "neuroport/sub/rel.py", "def g():\n    from .. import backends\n")
    _write(tmp_path, "models/bad.py", "from neuroport.backends.numpy_fixed import sign\n")
    _write(tmp_path, "models/rel.py", "from ..backends import base\n")
    _write(tmp_path, "models/dyn.py", "import importlib\nimportlib.import_module('neuroport.backends.lava')\n")
    _write(tmp_path, "backends/numpy.py", "from neuroport.models import neurons\nfrom . import base\n")
    assert wrong_way_imports(tmp_path) == [
        "models/bad.py:1 imports neuroport.backends.numpy_fixed",
        "models/dyn.py:2 imports neuroport.backends.lava",
        "models/rel.py:1 imports neuroport.backends",
        "neuroport/bad.py:5 imports neuroport.backends.numpy",
        "neuroport/sub/rel.py:2 imports neuroport.backends",
    ]
