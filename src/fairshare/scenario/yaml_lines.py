"""Reading scenario YAML: the line of every key, ``extends:`` chains, and limits on what
is read.

A scenario is a few kilobytes of YAML written by a person; anything far outside that is
refused before it is parsed or expanded, each with one :class:`~fairshare.errors.Problem`:

* only a regular file of at most ``MAX_FILE_BYTES`` is read (a FIFO would block for
  ever, a device would never end);
* nesting deeper than ``MAX_DEPTH`` levels, and a document that would expand (through
  ``&anchor`` / ``*alias``) to more than ``MAX_NODES`` values, are refused before any
  Python object is built from them (a "billion laughs" alias bomb is a few lines);
* an ``extends:`` chain of more than ``MAX_EXTENDS`` files, a cycle, a missing base and
  a path with a NUL character are problems, not exceptions.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import yaml

from fairshare.errors import Problem
from fairshare.spec import show

KeyPath = tuple[Union[str, int], ...]  # e.g. ("targets", 2, "max_ugm3")

MAX_FILE_BYTES = 1 << 20   # a scenario is a few kB; 1 MiB is far beyond any real one
MAX_DEPTH = 50             # real scenarios nest 4 levels
MAX_NODES = 100_000        # values after alias expansion; real scenarios have < 1,000
MAX_EXTENDS = 32           # files in one extends chain


@dataclass(frozen=True)
class Replacement:
    """A list (or value) of a base file that a file extending it replaced whole."""

    key: str          # dotted key path, e.g. "targets"
    file: str         # the file that replaced it (as given)
    line: int | None
    base_file: str
    base_entries: int | None  # entries of the base's list (None: not a list)
    entries: int | None       # entries of the replacing list

    def __str__(self) -> str:
        where = f"{self.file}" + (f", line {self.line}" if self.line else "")
        if self.base_entries is None or self.entries is None:
            return f"{where}: '{self.key}' replaces the list set in {self.base_file}"
        return (f"{where}: '{self.key}' replaces the {_count(self.base_entries)} of "
                f"{self.base_file} with {_count(self.entries)} (lists are replaced, not merged)")


def _count(n: int) -> str:
    return f"{n} entr{'y' if n == 1 else 'ies'}"


@dataclass
class Doc:
    """A scenario mapping and, for each key path, the file (as shown) and line that set it.

    A list entry's path maps to the line where the entry starts.
    """

    file: str
    data: dict[str, Any]
    where: dict[KeyPath, tuple[str, int]]
    files: list[str]  # this file, then the files it extends
    replaced: list[Replacement] = field(default_factory=list)


# ---------------------------------------------------------------------------
# One file
# ---------------------------------------------------------------------------


def read_yaml(shown: str) -> tuple[Doc | None, list[Problem]]:
    """Parse one file; None and the problems when it is not a readable mapping."""
    text, problem = _read_text(shown)
    if problem is not None:
        return None, [problem]
    parsed, problems = _parse_checked(text, shown)
    if parsed is None:
        return None, problems
    node, data, where = parsed
    if node is None:
        return None, [Problem(shown, "the file is empty; a scenario needs at least 'name' and 'region'", 1)]
    if not isinstance(data, dict):
        message = ("the top level must be a mapping of keys (name: ..., region: ..., targets: ...),"
                   f" not {_yaml_kind(data)}")
        return None, [Problem(shown, message, node.start_mark.line + 1)]
    return Doc(shown, data, where, [shown]), problems


def safe_load(text: str, shown: str) -> tuple[Any, list[Problem]]:
    """YAML text to Python data within the same limits (depth, alias expansion) as a
    scenario; None and the problem when it is invalid or too large (region.yaml)."""
    parsed, problems = _parse_checked(text, shown)
    return (None if parsed is None else parsed[1]), problems


def _parse_checked(text: str, shown: str):
    """((node, data, lines), duplicate-key problems), or (None, the problem that stopped it)."""
    try:
        node, data, where, problems = _parse(text, shown)
    except yaml.YAMLError as exc:
        return None, [_yaml_syntax_problem(shown, exc)]
    except _TooLarge as exc:
        return None, [Problem(shown, str(exc), exc.line)]
    return (node, data, where), problems


def _read_text(shown: str) -> tuple[str, Problem | None]:
    """The file's text, if it is a regular UTF-8 file of a scenario's size."""
    try:
        info = os.stat(shown)  # stat does not open: a FIFO cannot block here
    except FileNotFoundError:
        return "", Problem(shown, "file does not exist")
    except (OSError, ValueError) as exc:
        return "", Problem(shown, f"cannot read the file: {getattr(exc, 'strerror', None) or exc}")
    if not stat.S_ISREG(info.st_mode):
        return "", Problem(shown, f"is {_file_kind(info.st_mode)}, not a scenario file "
                                  "(a YAML text file)")
    if info.st_size > MAX_FILE_BYTES:
        return "", Problem(shown, f"is {info.st_size:,} bytes; a scenario file is a few kB of "
                                  f"YAML (at most {MAX_FILE_BYTES:,} bytes are read)")
    try:
        with open(shown, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        return "", Problem(shown, f"is not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it "
                                  "as UTF-8", line)
    except OSError as exc:
        return "", Problem(shown, f"cannot read the file: {exc.strerror or exc}")


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


class _TooLarge(Exception):
    """The document nests too deep or expands to too many values."""

    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.line = line


class _NameKeyLoader(yaml.SafeLoader):
    """SafeLoader that keeps mapping keys as written (``1:`` is the key '1', ``yes:`` the
    key 'yes': every key in a scenario is a name, so a stray number or boolean key becomes
    an "unknown key" problem) and refuses nesting deeper than MAX_DEPTH while composing
    (the composer recurses once per level)."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise _TooLarge(f"the YAML nests more than {MAX_DEPTH} levels deep (line "
                                f"{mark.line + 1}); a scenario nests a few levels",
                                mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    "found a key that is not a name", key_node.start_mark,
                )
            mapping[key_node.value] = self.construct_object(value_node, deep=deep)
        return mapping


def _parse(text: str, shown: str) -> tuple[yaml.Node | None, Any, dict[KeyPath, tuple[str, int]], list[Problem]]:
    """Compose the node tree (which has the lines), bound its size, index it, then build
    the Python data."""
    loader = _NameKeyLoader(text)
    try:
        node = loader.get_single_node()
        where: dict[KeyPath, tuple[str, int]] = {}
        problems: list[Problem] = []
        if node is not None:
            _check_expanded_size(node)
            _index_lines(node, (), _LineIndex(shown, where, problems, set()))
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return node, data, where, problems


def _check_expanded_size(root: yaml.Node) -> None:
    """Refuse a document whose values, with every alias expanded, exceed MAX_NODES.

    Counted once per distinct node (memo), so an alias bomb is measured, not expanded.
    """
    memo: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        if id(node) in memo:
            return memo[id(node)]
        memo[id(node)] = 1  # a self-referencing alias counts once rather than for ever
        if isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(item) for item in node.value)
        elif isinstance(node, yaml.MappingNode):
            total = 1 + sum(size(k) + size(v) for k, v in node.value)
        else:
            total = 1
        memo[id(node)] = total
        return total

    total = size(root)
    if total > MAX_NODES:
        raise _TooLarge(f"the YAML expands to {total:,} values through its aliases (*name); "
                        f"a scenario has far fewer (at most {MAX_NODES:,} are read)", None)


@dataclass
class _LineIndex:
    """Where ``_index_lines`` writes: lines by key path, duplicate-key problems, nodes already seen."""

    shown: str
    where: dict[KeyPath, tuple[str, int]]
    problems: list[Problem]
    seen: set[int]


def _index_lines(node: yaml.Node, path: KeyPath, index: _LineIndex) -> None:
    """Record the line of every mapping key and list entry below ``node``; flag duplicate keys.

    An alias (``*name``) is the anchored node itself, so problems inside it
    point at the lines where the anchored values are written; it is indexed
    once, which also stops a self-referencing alias from recursing forever.
    Keys brought in by a ``<<:`` merge point at the entry that merges them.
    """
    if id(node) in index.seen:
        return
    index.seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            index.where[path + (i,)] = (index.shown, item.start_mark.line + 1)
            _index_lines(item, path + (i,), index)
    elif isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<:` merge keys: merged values fall back to the parent's line
            key_path, line = path + (key_node.value,), key_node.start_mark.line + 1
            if key_path in index.where:
                first = index.where[key_path][1]
                message = f"key '{key_node.value}' appears twice (lines {first} and {line}); keep one"
                index.problems.append(Problem(index.shown, message, line, dotted(key_path)))
            index.where[key_path] = (index.shown, line)
            _index_lines(value_node, key_path, index)


def _yaml_syntax_problem(shown: str, exc: yaml.YAMLError) -> Problem:
    """Invalid YAML: the line (row) and column from the parser's mark, in the message too."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is None:
        return Problem(shown, f"invalid YAML: {exc}")
    what = ": ".join(s for s in (getattr(exc, "context", None), getattr(exc, "problem", None)) if s)
    return Problem(shown, f"invalid YAML at line {mark.line + 1}, column {mark.column + 1}: {what}", mark.line + 1)


def _yaml_kind(data: Any) -> str:
    return {list: "a list", str: "a single text value"}.get(type(data), f"a single value ({show(data)})")


def dotted(path: KeyPath) -> str:
    """("targets", 2, "max_ugm3") -> "targets[2].max_ugm3" (list indices count from 0)."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# ---------------------------------------------------------------------------
# `extends:` and `region`
# ---------------------------------------------------------------------------


def read_chain(shown: str) -> tuple[Doc | None, list[Problem]]:
    """Read ``shown`` and the files it extends, merged child over base.

    Returns None (with the problems) when the chain cannot be assembled.
    """
    docs: list[Doc] = []
    problems: list[Problem] = []
    visited: list[tuple[Path, str]] = []
    current = shown
    while True:
        doc, read_problems = read_yaml(current)
        problems += read_problems
        if doc is None:
            return None, problems
        problems += _anchor_region(doc)
        docs.append(doc)
        visited.append((Path(current).resolve(), current))
        if "extends" not in doc.data:
            break
        ref = doc.data.pop("extends")
        _, line = doc.where.pop(("extends",))
        if len(docs) == 1 and "name" not in doc.data:
            message = (f"this scenario extends {show(ref)} but has no name of its own; add name: ..."
                       " (each scenario needs its own, as it names the results folder)")
            problems.append(Problem(current, message, line, "name"))
        base, problem = _base_file(current, ref, line, visited)
        if problem is not None:
            return None, problems + [problem]
        current = base
    merged = docs[-1]
    for child in reversed(docs[:-1]):
        merged = _merge(merged, child)
    return merged, problems


def _base_file(shown: str, ref: Any, line: int, visited: list[tuple[Path, str]]) -> tuple[str, Problem | None]:
    """The base file named by ``extends:`` (relative to ``shown``), or the problem with it."""
    if not isinstance(ref, str) or not ref.strip():
        message = "extends must be the path of another scenario file, e.g. extends: base.yaml"
        return "", Problem(shown, message, line, "extends")
    if "\x00" in ref:
        return "", Problem(shown, "extends contains a NUL character; give the path of a scenario "
                                  "file", line, "extends")
    base_shown = str(Path(shown).parent / ref)
    resolved = [path for path, _ in visited]
    if Path(base_shown).resolve() in resolved:
        names = [name for _, name in visited]
        cycle = names[resolved.index(Path(base_shown).resolve()):] + [base_shown]
        return "", Problem(shown, f"extends makes a cycle: {' extends '.join(cycle)}", line, "extends")
    if len(visited) >= MAX_EXTENDS:
        return "", Problem(shown, f"the extends chain is longer than {MAX_EXTENDS} files; "
                                  "flatten it (a base usually sits one or two files up)",
                           line, "extends")
    if not Path(base_shown).exists():
        message = f"the base scenario file '{base_shown}' named by extends does not exist"
        return "", Problem(shown, message, line, "extends")
    return base_shown, None


def _anchor_region(doc: Doc) -> list[Problem]:
    """Make ``region`` absolute, relative to the folder of the file that declared it."""
    region = doc.data.get("region")
    if not isinstance(region, str) or not region.strip():
        return []
    if "\x00" in region:
        _, line = doc.where.get(("region",), (doc.file, None))
        doc.data.pop("region")
        return [Problem(doc.file, "region contains a NUL character; give the path of the "
                                  "region data folder", line, "region")]
    doc.data["region"] = str((Path(doc.file).parent / region).resolve())
    return []


def _merge(base: Doc, child: Doc) -> Doc:
    """Child over base: mappings merge key by key, anything else (lists included) is
    replaced; each list replaced is recorded so that ``fairshare validate`` can show it."""
    replaced: list[KeyPath] = []
    data = _deep_merge(base.data, child.data, (), replaced)
    for key, other in EXCLUSIVE_KEYS.items():
        if key in child.data and other not in child.data:
            data.pop(other, None)  # a child's years: replaces the base's year:, and back
    where = {p: w for p, w in base.where.items() if not any(p[: len(r)] == r for r in replaced)}
    where.update(child.where)
    # A scalar override (name, description) is the point of extending; a list replaced
    # whole is easy to miss (a child with one target drops the base's 27).
    notes = [_replacement(path, base, child) for path in replaced
             if isinstance(_get(base.data, path), list)]
    return Doc(child.file, data, where, child.files + base.files, base.replaced + notes)


def _replacement(path: KeyPath, base: Doc, child: Doc) -> Replacement:
    old, new = _get(base.data, path), _get(child.data, path)
    line = child.where.get(path, (child.file, None))[1]
    base_file = base.where.get(path, (base.file, None))[0]
    return Replacement(dotted(path), child.file, line, base_file,
                       len(old) if isinstance(old, list) else None,
                       len(new) if isinstance(new, list) else None)


def _get(data: Any, path: KeyPath) -> Any:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


# Top-level keys of which a file gives one: a child giving one drops the base's other.
EXCLUSIVE_KEYS = {"years": "year", "year": "years"}

# Mappings that name one choice ({min_cost: {...}} or {min_max_burden: null}): a child's
# choice replaces the base's whole, or the two choices would be merged into one mapping.
REPLACED_WHOLE = {("objective",)}


def _deep_merge(base: dict, child: dict, path: KeyPath, replaced: list[KeyPath]) -> dict:
    merged = dict(base)
    for key, value in child.items():
        whole = path + (key,) in REPLACED_WHOLE
        if isinstance(value, dict) and isinstance(base.get(key), dict) and not whole:
            merged[key] = _deep_merge(base[key], value, path + (key,), replaced)
        else:
            merged[key] = value
            replaced.append(path + (key,))
    return merged
