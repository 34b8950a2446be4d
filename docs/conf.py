"""Sphinx configuration of neuroport's documentation site (``make docs``; README "Documentation").

The API pages (``docs/api/``) are built from the docstrings by autodoc with napoleon reading the
numpy-style sections; the Markdown pages of ``docs/`` by myst-parser. The gallery's figures are
drawn at build time by ``docs/gallery.py`` (small networks, a few seconds) into
``docs/_generated/`` (gitignored), so a clean clone builds with nothing else.
"""

import os
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("MPLBACKEND", "Agg")

project = "neuroport"
author = "neuroport developers"
copyright = "neuroport developers"
try:
    from importlib.metadata import version as _version

    release = _version("neuroport")
except Exception:  # pragma: no cover - the docs are built from an installed checkout
    release = "unknown"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_generated", "Thumbs.db", ".DS_Store"]

# numpy-style docstrings ("Parameters", "Returns", "Examples"); no Google style.
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_preprocess_types = False

autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_member_order = "bysource"
autodoc_typehints = "none"            # the docstrings state types with units; signatures stay short
add_module_names = False

# The Markdown pages link to sections by their heading (docs/diehl_cook.md: ``(#fixed-point-training)``);
# their links to source files (``[x](../neuroport/x.py)``) become downloads of that file.
myst_heading_anchors = 3

html_theme = "alabaster"
html_title = f"neuroport {release}"


def _draw_gallery(app):
    import gallery

    gallery.build(HERE / "_generated")


def setup(app):
    app.connect("builder-inited", _draw_gallery)
