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


def _cli_help_sections():
    """(title, help text) for ``neuroport --help`` and every command's ``--help``, from the parser itself."""
    import argparse

    from neuroport.cli import build_parser

    parser = build_parser()
    sections = [("neuroport", parser.format_help())]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            sections += [(f"neuroport {name}", sub.format_help()) for name, sub in action.choices.items()]
    return sections


def _cli_directive():
    from docutils import nodes
    from docutils.parsers.rst import Directive

    class NeuroportCLI(Directive):
        """``.. neuroport-cli::``: one section per command with its ``--help`` text (docs/api/cli.rst)."""

        def run(self):
            out = []
            for title, text in _cli_help_sections():
                section = nodes.section(ids=[nodes.make_id(title)])
                section += nodes.title(text=title)
                section += nodes.literal_block(text, text)
                out.append(section)
            return out

    return NeuroportCLI


def setup(app):
    app.connect("builder-inited", _draw_gallery)
    app.add_directive("neuroport-cli", _cli_directive())
