"""Sphinx configuration of the fairshare documentation (``docs/``).

Build (what ``.ci/run`` runs; ``-W`` turns every warning, a broken link or anchor
included, into an error)::

    python -m pip install -e '.[docs]'
    python -m sphinx -W --keep-going -b html docs build/docs   # build/ is git-ignored

The pages are Markdown (MyST), readable on GitHub as they are. The reference parts
(scenario keys, region table columns, the command line, the maths of every rule family)
are generated from the code while the site is built: see ``docs/gen/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "gen"))

import fairshare  # noqa: E402  (the installed package documented here)

project = "fairshare"
release = version = fairshare.__version__
copyright = "the fairshare authors (MIT licence)"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "fairshare_docs",  # docs/gen/fairshare_docs.py: the generated references and link checks
]

root_doc = "index"
source_suffix = {".md": "markdown"}
# README.md is the index on GitHub; the site's index.md includes it.
exclude_patterns = ["_build", "gen", "README.md"]

myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 4  # GitHub's anchors: [x](scenario.md#burden_cap) works on both
myst_url_schemes = ["http", "https", "mailto"]

autodoc_default_options = {"no-index": True}
autodoc_typehints = "none"  # the docstrings say the units; signatures stay short

html_theme = "furo"
html_title = f"fairshare {release}"
html_show_sourcelink = False
html_copy_source = False

# Strict: every warning is an error in CI (-W); nothing is suppressed here.
suppress_warnings: list[str] = []
