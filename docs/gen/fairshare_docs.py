"""Sphinx extension of the fairshare documentation (loaded by ``docs/conf.py``).

* Expands the generated blocks of every page (``<!-- generated: ... -->``, see
  :mod:`reference`) from the code, before the page is parsed: the scenario keys, the
  region tables' columns, the command line and the maths of every rule family are
  made while the site is built, never copied into it.
* Links between the Markdown files stay the links GitHub follows (``scenario.md#targets``,
  ``../models/jjj-2plus26/README.md``). A link to a Markdown file outside ``docs/`` is
  pointed at the page of the site that includes that file (``{include}``); any other
  link MyST cannot resolve is a warning, so ``-W`` fails the build on it.
* A block that cannot be made is a warning too (``-W``: an error).
"""

from __future__ import annotations

import re
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

import reference

logger = logging.getLogger("fairshare_docs")
REPO = Path(__file__).resolve().parents[2]

LINK = re.compile(r"(?<!!)\[(?P<text>[^\]\n]*)\]\((?P<target>[^)\s]+)\)")
INCLUDE = re.compile(r"^```\{include\}\s+(?P<path>\S+)\s*$", re.MULTILINE)


def _docs(app: Sphinx) -> Path:
    return Path(app.srcdir).resolve()


def _included(app: Sphinx) -> dict[Path, str]:
    """Markdown files that a page includes whole (``{include}``) -> that page's docname:
    a link to such a file goes to the page (``README.md`` -> the index, ``../README.md``
    -> the project overview, the region's README -> its page)."""
    found = {}
    for page in _docs(app).glob("*.md"):
        for m in INCLUDE.finditer(page.read_text(encoding="utf-8")):
            found[(page.parent / m["path"]).resolve()] = page.stem
    return found


def _rewrite_links(app: Sphinx, source: str, file_dir: Path, page_dir: Path) -> str:
    """Links written relative to ``file_dir`` (where the Markdown file lies) made relative
    to ``page_dir`` (the page that shows it); links leaving docs/ to an included file
    go to the page that includes it."""
    docs = _docs(app)
    included = app.env.fairshare_included  # type: ignore[attr-defined]

    def fix(m: re.Match) -> str:
        text, target = m["text"], m["target"]
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith(("#", "/")):
            return m[0]
        path, _, anchor = target.partition("#")
        if not path:
            return m[0]
        resolved = (file_dir / path).resolve()
        anchor = "#" + anchor if anchor else ""
        if resolved in included:  # shown by a page of the site
            return f"[{text}]({included[resolved]}.md{anchor})"
        if resolved.is_relative_to(docs):  # a page, written relative to another folder
            new = Path(_relpath(resolved, page_dir)).as_posix()
            return m[0] if file_dir == page_dir else f"[{text}]({new}{anchor})"
        if resolved.suffix == ".md" and resolved.is_file() and resolved.is_relative_to(REPO):
            # a Markdown file of the checkout that no page shows: offered as a download
            new = Path(_relpath(resolved, page_dir)).as_posix()
            label = text.replace("`", "") or resolved.name  # a role's text is plain
            return f"{{download}}`{label} <{new}>`"
        if file_dir != page_dir and resolved.exists():
            return f"[{text}]({Path(_relpath(resolved, page_dir)).as_posix()}{anchor})"
        return m[0]  # MyST: a file of the checkout becomes a download, a missing one a warning

    return _outside_code(source, lambda chunk: LINK.sub(fix, chunk))


def _relpath(path: Path, start: Path) -> str:
    import os
    return os.path.relpath(path, start)


def _outside_code(source: str, fn) -> str:
    """Apply ``fn`` to the parts of a Markdown text outside fenced code blocks."""
    parts = re.split(r"(^```.*?^```[ \t]*$)", source, flags=re.MULTILINE | re.DOTALL)
    return "".join(part if i % 2 else fn(part) for i, part in enumerate(parts))


def on_builder_inited(app: Sphinx) -> None:
    app.env.fairshare_included = _included(app)  # type: ignore[attr-defined]


OTHER_PAGES = re.compile(r"<!-- generated: other-pages -->\n.*?<!-- end generated -->", re.DOTALL)


def _other_pages(app: Sphinx, source: str) -> str:
    """A hidden toctree of every page that no toctree of ``source`` lists: a page added to
    docs/ is in the site (under "More") without anyone editing the index."""
    listed = set()
    for m in re.finditer(r"```\{toctree\}\n(.*?)```", source, re.DOTALL):
        for line in m[1].splitlines():
            entry = line.strip()
            if entry and not entry.startswith(":"):
                titled = re.search(r"<([^>]+)>$", entry)  # Title <docname>
                listed.add(titled[1] if titled else entry)
    root = app.config.root_doc
    others = sorted(d for d in app.env.found_docs if d not in listed and d != root)
    if not others:
        return ""
    return "```{toctree}\n:hidden:\n:caption: More\n\n" + "\n".join(others) + "\n```\n"


def on_source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    page = _docs(app) / f"{docname}.md"
    source[0] = OTHER_PAGES.sub(lambda m: _other_pages(app, source[0]), source[0])
    expanded, problems = reference.expand(source[0])
    for problem in problems:
        logger.warning(problem, location=docname)
    source[0] = _rewrite_links(app, expanded, page.parent, page.parent)


def on_include_read(app: Sphinx, relative_path: Path, parent_docname: str,
                    content: list[str]) -> None:
    page_dir = (_docs(app) / parent_docname).parent
    file_dir = (page_dir / relative_path).resolve().parent
    content[0] = _rewrite_links(app, content[0], file_dir, page_dir)


# --- docstrings: the code's reStructuredText, as its authors mean it ---------------------

BORDER = re.compile(r"^(\s*)(=+)(\s+)(=+)\s*$")
LITERAL_START = re.compile(r"(::\s*$)|(^\s*\.\.\s+\w[\w-]*::)")


def widen_tables(lines: list[str]) -> list[str]:
    """Two-column simple tables whose first-column text runs into the second column
    (``text in column margin``, an error to docutils) get a wider first column: the
    docstrings are written for people reading the source, who see the intent."""
    out = list(lines)
    borders = [i for i, line in enumerate(out) if BORDER.match(line)]
    for top, bottom in zip(borders[0::2], borders[1::2]):
        indent, first, gap, second = BORDER.match(out[top]).groups()
        end1, col2 = len(indent) + len(first), len(indent) + len(first) + len(gap)
        rows = []
        for line in out[top + 1:bottom]:
            if not line[:col2].strip():  # blank, or a continuation of the second column
                rows.append((None, line[col2:] if line.strip() else ""))
            elif not line[end1:col2].strip():  # fits
                rows.append((line[:end1].strip(), line[col2:]))
            else:  # runs into the margin: the first column is its leading ``literals``
                m = re.match(r"^\s*(``[^`]*``(?:,\s*``[^`]*``)*|\S+)\s+(.*)$", line)
                rows.append((m[1], m[2]) if m else (line.strip(), ""))
        width = max([len(first)] + [len(c1) for c1, _ in rows if c1])
        if width == len(first):
            continue
        pad = indent + " " * (width + len(gap))
        out[top] = out[bottom] = f"{indent}{'=' * width}{gap}{second}"
        for k, (c1, c2) in enumerate(rows, start=top + 1):
            out[k] = (f"{indent}{c1.ljust(width)}{gap}{c2}" if c1 is not None
                      else (pad + c2 if c2 else ""))
    return out


def escape_bars(lines: list[str]) -> list[str]:
    """``|x|`` in prose is an absolute value, not a substitution: escape the bars outside
    inline literals, literal blocks and math."""
    out, block_indent = [], None
    for line in lines:
        indent = len(line) - len(line.lstrip())
        if block_indent is not None and line.strip() and indent <= block_indent:
            block_indent = None
        if block_indent is None and "|" in line and not BORDER.match(line):
            parts = re.split(r"(``.*?``|`[^`]*`)", line)
            line = "".join(p if i % 2 else p.replace("|", "\\|") for i, p in enumerate(parts))
        if block_indent is None and LITERAL_START.search(line):
            block_indent = indent
        out.append(line)
    return out


def on_docstring(app: Sphinx, what: str, name: str, obj, options, lines: list[str]) -> None:
    lines[:] = escape_bars(widen_tables(lines))


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx.ext.autodoc")
    app.connect("builder-inited", on_builder_inited)
    app.connect("source-read", on_source_read)
    app.connect("include-read", on_include_read)
    app.connect("autodoc-process-docstring", on_docstring)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
