"""The package list in pyproject.toml matches the folders, and backends register through entry points."""

import pathlib
import re
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

if sys.version_info >= (3, 11):
    import tomllib
else:
    tomllib = pytest.importorskip("tomli")


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _folders_with_init(root: pathlib.Path, package: str) -> set:
    found = set()
    for init in root.rglob("__init__.py"):
        rel = init.parent.relative_to(root)
        if "__pycache__" in rel.parts:
            continue
        found.add(".".join([package, *rel.parts]) if rel.parts else package)
    return found


def test_package_list_matches_folders():
    cfg = _pyproject()["tool"]["setuptools"]
    listed = set(cfg["packages"])
    dirs = cfg["package-dir"]
    expected = _folders_with_init(ROOT / "neuroport", "neuroport")
    for package, folder in dirs.items():
        expected |= _folders_with_init(ROOT / folder, package)
    assert listed == expected, f"missing from pyproject: {expected - listed}; listed but absent: {listed - expected}"


def test_models_and_backends_import_under_neuroport():
    import neuroport.backends.base as base
    import neuroport.models.neurons as neurons

    assert pathlib.Path(base.__file__).parent == ROOT / "backends"
    assert pathlib.Path(neurons.__file__).parent == ROOT / "models"


def test_in_tree_backends_registered_through_entry_points():
    from importlib import metadata

    eps = {ep.name: ep.value for ep in metadata.entry_points(group="neuroport.backends")}
    declared = _pyproject()["project"]["entry-points"]["neuroport.backends"]
    assert eps == declared
    assert "numpy" in eps
    from neuroport import backends

    numpy_backend = backends.get("numpy")
    assert type(numpy_backend).__module__ == "neuroport.backends.numpy"
    assert numpy_backend.available() == (True, "")


def test_import_does_not_pull_optional_backends():
    import subprocess

    code = ("import sys, neuroport, neuroport.backends; neuroport.backends.names(); "
            "print(sorted(m for m in ('lava', 'brian2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_backend_names_the_registered_ones():
    from neuroport import backends
    from neuroport.errors import NeuroportError

    with pytest.raises(NeuroportError, match=r"unknown backend 'lavaa'; registered: numpy") as info:
        backends.get("lavaa")
    assert isinstance(info.value, KeyError)


def test_makefile_and_ci_use_the_readme_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^test:", (ROOT / "Makefile").read_text(), re.M)
