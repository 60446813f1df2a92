"""The reference parts of the documentation, generated from the code.

Pages hold *generated blocks*::

    <!-- generated: keys burden_cap -->
    (anything: what GitHub shows until the site is built)
    <!-- end generated -->

:func:`expand` replaces each block with Markdown made from the code when the site is
built (``docs/conf.py`` loads :mod:`fairshare_docs`, which calls it), so the site cannot
drift from the code. The kinds of block:

=====================  ===================================================================
``keys SECTION``       the keys of one part of the scenario file, from its JSON Schema
                       (:func:`fairshare.scenario.scenario_json_schema`): ``scenario`` (the
                       top level), a target kind or fairness rule (``concentration``,
                       ``burden_cap`` ...), ``objective``, a top-level mapping
                       (``solver``, ``quadratic`` ...) or a nested list (``ability_to_pay.classes``)
``keys-unlisted``      a section for every part of the scenario file that no ``keys`` block
                       of the page shows: a new rule or key is never missing from the site
``columns TABLE``      the columns of one region table (:data:`fairshare.tables.TABLES`)
``columns-unlisted``   a section for every region table the page does not show
``cli``                every command of ``fairshare`` (:data:`fairshare.cli.main`), its
                       arguments and options with their help and defaults
``families``           every rule family of :data:`fairshare.families.FAMILIES` and the
                       physics of :mod:`fairshare.model`: their docstrings (the maths and
                       symbol tables), rendered by Sphinx autodoc
=====================  ===================================================================

Nothing here needs Sphinx: ``tests/docs/test_docs.py`` runs every generator.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
import textwrap
from typing import Any, Callable

BLOCK = re.compile(
    r"<!-- generated: (?P<kind>[\w-]+)(?:[ \t]+(?P<arg>[^\s>]+))?[ \t]*-->\n"
    r"(?P<body>.*?)<!-- end generated -->",
    re.DOTALL,
)


class DocsError(Exception):
    """A generated block that cannot be made (an unknown section, a misspelt kind)."""


# --- Markdown helpers ---------------------------------------------------------------


def text(value: str) -> str:
    """Plain prose from a docstring or help text, safe inside a Markdown table cell:
    ``code`` of reStructuredText becomes `code`, and |, <, * are escaped."""
    value = re.sub(r":\w+:`~?([^`]+)`", r"`\1`", value)  # :func:`x` -> `x`
    value = value.replace("``", "`")
    parts = re.split(r"(`[^`]*`)", " ".join(value.split()))
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(part.replace("|", "\\|"))
        else:
            out.append(part.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")
                       .replace("*", "\\*").replace("_", "\\_"))
    return "".join(out)


def code(value: Any) -> str:
    """A value as inline code (a table cell may hold it: | is escaped)."""
    shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return "`" + str(shown).replace("|", "\\|") + "`"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell or "" for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def number(value: float) -> str:
    """1e-06 -> 1e-6, 10000000.0 -> 1e7, 0.5 -> 0.5, 256 -> 256."""
    if isinstance(value, bool):
        return str(value).lower()
    if float(value).is_integer() and abs(value) < 1e5:
        return str(int(value))
    shown = f"{value:g}"
    return re.sub(r"e([+-])0*(\d)", lambda m: "e" + ("-" if m[1] == "-" else "") + m[2], shown)


# --- the scenario file: keys from the JSON Schema --------------------------------------


def _schema() -> dict:
    from fairshare.scenario import scenario_json_schema
    return scenario_json_schema()


def _entry_kinds() -> tuple[dict[str, str], dict[str, str]]:
    """(target kind -> $defs name, fairness rule -> $defs name), in the families' order."""
    from fairshare.scenario.schema import FAIRNESS_RULES, TARGET_KINDS

    return ({k: cls.__name__ for k, cls in TARGET_KINDS.items()},
            {k: cls.__name__ for k, cls in FAIRNESS_RULES.items()})


def _resolve(node: dict, defs: dict) -> dict:
    while "$ref" in node:
        node = defs[node["$ref"].split("/")[-1]]
    return node


def _non_null(node: dict) -> tuple[list[dict], bool]:
    """The alternatives of a property other than null, and whether null is allowed."""
    options = node.get("anyOf") or node.get("oneOf") or [node]
    kept = [o for o in options if o.get("type") != "null"]
    return kept, len(kept) < len(options) or "null" in (node.get("type") or [])


def _bounds(node: dict) -> str:
    low = ("≥", node["minimum"]) if "minimum" in node else (
        (">", node["exclusiveMinimum"]) if "exclusiveMinimum" in node else None)
    high = ("≤", node["maximum"]) if "maximum" in node else (
        ("<", node["exclusiveMaximum"]) if "exclusiveMaximum" in node else None)
    parts = []
    if low and high:
        lo_sign = "≤" if low[0] == "≥" else "<"
        parts.append(f"{number(low[1])} {lo_sign} x {high[0]} {number(high[1])}")
    elif low:
        parts.append(f"{low[0]} {number(low[1])}")
    elif high:
        parts.append(f"{high[0]} {number(high[1])}")
    if "maxLength" in node:
        parts.append(f"at most {node['maxLength']} characters")
    if "pattern" in node:
        parts.append(f"matches {code(node['pattern'])}")
    if "minItems" in node:
        parts.append(f"at least {node['minItems']} item" + ("s" if node["minItems"] > 1 else ""))
    return "; ".join(parts)


def _type(node: dict, defs: dict, link: Callable[[str], str]) -> tuple[str, str]:
    """(type, bounds) of one property as a planner reads it."""
    if "$ref" in node:
        name = node["$ref"].split("/")[-1]
        return link(name), ""
    options, nullable = _non_null(node)
    if len(options) > 1:
        shown = [_type(o, defs, link) for o in options]
        kinds = " or ".join(t for t, _ in shown)
        bounds = "; ".join(b for _, b in shown if b)
        return kinds + (" or `null`" if nullable else ""), bounds
    only = options[0] if options else {}
    if "$ref" in only:
        kind, bounds = _type(only, defs, link)
    elif "const" in only:
        kind, bounds = code(only["const"]), ""
    elif "enum" in only:
        kind, bounds = " \\| ".join(code(v) for v in only["enum"]), ""
    else:
        kinds = only.get("type", "any")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        names = []
        for k in kinds:
            if k == "array":
                items = only.get("items", {})
                if "oneOf" in items or "anyOf" in items:
                    names.append("list of entries (below)")
                elif "$ref" in items:
                    names.append("list of mappings (below)")
                else:
                    item_kind, _ = _type(items, defs, link)
                    plural = {"number": "numbers", "whole number": "whole numbers", "text": "texts",
                              "path": "paths"}.get(item_kind, item_kind)
                    names.append(f"list of {plural}")
            elif k == "object":
                names.append("mapping")
            elif k == "string":
                names.append("path" if only.get("format") == "path" else "text")
            else:
                names.append({"number": "number", "integer": "whole number", "boolean": "true/false",
                              "null": "`null`"}.get(k, k))
        kind, bounds = " or ".join(names), _bounds(only)
        item_types = (only.get("items") or {}).get("type") or []
        if kinds == ["array"] and item_types and set(item_types) <= {"string", "integer"}:
            kind = "list of ids"
    return kind + (" or `null`" if nullable else ""), bounds


def _default(node: dict, required: bool) -> str:
    if required:
        return "**required**"
    if "default" not in node:
        return "see below" if "$ref" in node else "–"
    value = node["default"]
    if value is None:
        return "–"
    if isinstance(value, float):
        return code(number(value))
    if value == "":
        return '`""` (empty)'
    return code(value)


def _sections() -> dict[str, tuple[str, str]]:
    """Every part of the scenario file: section -> (title, what it is)."""
    schema = _schema()
    defs = schema["$defs"]
    targets, rules = _entry_kinds()
    out = {"scenario": ("Top-level keys", "")}
    for kind, name in targets.items():
        out[kind] = (f"Target `{kind}`", defs[name].get("description", ""))
    for kind, name in rules.items():
        out[kind] = (f"Fairness rule `{kind}`", defs[name].get("description", ""))
    out["objective"] = ("`objective`", schema["properties"]["objective"].get("description", ""))
    for key, prop in schema["properties"].items():
        if "$ref" in prop:
            out[key] = (f"`{key}:`", prop.get("description", ""))
    for kind, name in {**targets, **rules}.items():
        for key, prop in defs[name].get("properties", {}).items():
            items = prop.get("items", {})
            if prop.get("type") == "array" and "$ref" in items:
                out[f"{kind}.{key}"] = (f"`{kind}` `{key}`", prop.get("description", ""))
    return out


def _section_node(section: str) -> tuple[dict, dict]:
    """(object schema holding the section's keys, $defs)."""
    schema = _schema()
    defs = schema["$defs"]
    targets, rules = _entry_kinds()
    if section == "scenario":
        return schema, defs
    if section in targets or section in rules:
        return defs[{**targets, **rules}[section]], defs
    if section == "objective":
        mapping = next(o for o in schema["properties"]["objective"]["anyOf"] if o.get("type") == "object")
        return mapping["properties"]["min_cost"], defs
    prop = schema["properties"].get(section)
    if prop is not None and "$ref" in prop:
        return _resolve(prop, defs), defs
    if "." in section:
        kind, key = section.split(".", 1)
        if kind in targets or kind in rules:
            parent = defs[{**targets, **rules}[kind]]
            items = parent.get("properties", {}).get(key, {}).get("items", {})
            if "$ref" in items:
                return _resolve(items, defs), defs
    known = ", ".join(_sections())
    raise DocsError(f"no part of the scenario file is called {section!r} (known: {known})")


def _def_link(name: str) -> str:
    """A $defs model named in a type cell: the sections that show it."""
    targets, rules = _entry_kinds()
    for kind, def_name in {**targets, **rules}.items():
        if def_name == name:
            return f"`{kind}` entry"
    return "mapping"


def scenario_keys(section: str) -> str:
    """The key table of one part of the scenario file."""
    node, defs = _section_node(section)
    required = set(node.get("required", []))
    rows = []
    for key, prop in node.get("properties", {}).items():
        kind, bounds = _type(prop, defs, _def_link)
        if prop.get("default", "") is None:  # null is the same as leaving the key out
            kind = kind.removesuffix(" or `null`")
        default = _default(prop, key in required)
        if section == "scenario" and key == "region":
            default = "**required** (or from the `extends` base)"
        if "const" in prop:  # the tag of a rule: write it as shown
            default, kind = "**required**", code(prop["const"])
        rows.append([code(key), kind, default, bounds, text(prop.get("description", ""))])
    if not rows:
        raise DocsError(f"the scenario section {section!r} has no keys")
    return (f"(scenario-keys-{section})=\n\n"
            + table(["key", "type", "default", "bounds", "meaning"], rows))


def scenario_unlisted(listed: set[str]) -> str:
    """A section for every part of the scenario file that the page does not show."""
    out = []
    for section, (title, about) in _sections().items():
        if section in listed:
            continue
        out.append(f"### {title}\n")
        if about:
            out.append(text(about) + "\n")
        out.append(scenario_keys(section))
    if not out:
        return ""
    return ("## Other keys\n\nParts of the scenario file that the sections above do not "
            "describe yet, as the schema states them.\n\n" + "\n".join(out))


def scenario_sections() -> list[str]:
    return list(_sections())


# --- the region data package: columns from fairshare.tables -----------------------------


def region_tables() -> dict:
    from fairshare.tables import TABLES
    return TABLES


def region_columns(name: str) -> str:
    """The column table of one region table."""
    tables = region_tables()
    if name not in tables:
        raise DocsError(f"no region table is called {name!r} (known: {', '.join(tables)})")
    t = tables[name]
    refs = {col: f"{ref_table}.{ref_col}" for col, ref_table, ref_col in t.references}
    rows = []
    for c in t.columns:
        kind = {"str": "id or text", "float": "number", "int": "whole number"}[c.kind]
        bounds = []
        if c.positive:
            bounds.append("> 0")
        if c.low is not None and c.high is not None:
            bounds.append(f"{number(c.low)} ≤ x ≤ {number(c.high)}")
        elif c.low is not None:
            bounds.append(f"≥ {number(c.low)}")
        elif c.high is not None:
            bounds.append(f"≤ {number(c.high)}")
        if c.minimum is not None:
            bounds.append(f"at least {number(c.minimum)}")
        usual = f"{number(c.usual[0])} .. {number(c.usual[1])}" if c.usual else ""
        limit = f"\\|x\\| ≤ {number(c.limit)}" if c.limit is not None else ""
        needed = "required" if c.required else "optional"
        if c.blank_ok:
            needed += ", blank allowed"
        if c.name in t.key:
            needed += ", key"
        if c.name in refs:
            needed += f", defined in `{refs[c.name].split('.')[0]}`"
        rows.append([code(c.name), kind, text(c.unit), needed, "; ".join(bounds), usual, limit])
    file_note = "optional file" if t.optional_file else "required file"
    key = ", ".join(code(k) for k in t.key)
    return (f"*{file_note}; one row per* {key}\n\n"
            + table(["column", "holds", "unit", "", "bounds", "usual range", "limit"], rows))


def region_unlisted(listed: set[str]) -> str:
    out = [f"### {name}\n\n" + region_columns(name) for name in region_tables() if name not in listed]
    if not out:
        return ""
    return ("## Other tables\n\nTables that the sections above do not describe yet, as "
            "`fairshare.tables` states them.\n\n" + "\n".join(out))


# --- the command line: from the click definitions --------------------------------------


def _param_type(param) -> str:
    import click

    t = param.type
    if getattr(param, "is_flag", False) and not getattr(param, "secondary_opts", None):
        return "flag"
    if getattr(param, "is_flag", False):
        return "flag pair"
    if isinstance(t, click.Choice):
        return " \\| ".join(code(c) for c in t.choices)
    if isinstance(t, click.IntRange):
        lo, hi = t.min, t.max
        bounds = (f" {lo}..{hi}" if lo is not None and hi is not None
                  else f" ≥ {lo}" if lo is not None else f" ≤ {hi}" if hi is not None else "")
        return "whole number" + bounds
    if isinstance(t, click.Path):
        what = "folder" if not t.file_okay else "file" if not t.dir_okay else "path"
        return what + (", must exist" if t.exists else "")
    name = getattr(t, "name", "text")
    return {"text": "text", "integer": "whole number", "float": "number",
            "boolean": "true/false"}.get(name, name)


def _param_default(ctx, param) -> str:
    import click

    if isinstance(param, click.Argument):
        return "**required**" if param.required else "–"
    default = param.get_default(ctx, call=False)
    if callable(default) or type(default).__name__ == "Sentinel":
        return "–"
    if getattr(param, "is_flag", False):
        if param.secondary_opts:
            return code(param.opts[-1] if default else param.secondary_opts[-1])
        return "off" if not default else "on"
    if default is None or default == ():
        return "–"
    return code(str(default))


def _param_name(param) -> str:
    import click

    if isinstance(param, click.Argument):
        name = param.human_readable_name
        return code(name + (" ..." if param.nargs == -1 else ""))
    names = ", ".join(code(o) for o in param.opts)
    if param.secondary_opts:
        names += " / " + ", ".join(code(o) for o in param.secondary_opts)
    if getattr(param, "metavar", None):
        names += f" {code(param.metavar)}"
    return names


def _help(doc: str | None) -> list[str]:
    """A command's help as Markdown paragraphs (click's \\b markers dropped)."""
    doc = inspect.cleandoc(doc or "").replace("\b\n", "")
    return [text(p) for p in re.split(r"\n\s*\n", doc) if p.strip()]


def cli_reference() -> str:
    import click
    from fairshare.cli import main

    root = click.Context(main, info_name="fairshare", **main.context_settings)
    out = []
    out += [p + "\n" for p in _help(main.help)]
    out.append("```text\n" + main.get_usage(root) + "\n```\n")
    out.append(_params_table(root, main.get_params(root)))
    for name, cmd in main.commands.items():
        ctx = click.Context(cmd, info_name=name, parent=root)
        out.append(f"## `fairshare {name}`\n")
        out.append("```text\n" + cmd.get_usage(ctx) + "\n```\n")
        out += [p + "\n" for p in _help(cmd.help)]
        out.append(_params_table(ctx, cmd.get_params(ctx)))
    return "\n".join(out)


def _params_table(ctx, params) -> str:
    rows = []
    for p in params:
        if getattr(p, "hidden", False):
            continue
        help_text = getattr(p, "help", None) or ""
        if not help_text and p.name == "version":
            help_text = "Show the version and exit."
        rows.append([_param_name(p), _param_type(p), _param_default(ctx, p), text(help_text)])
    return table(["argument or option", "takes", "default", "meaning"], rows) if rows else ""


def cli_commands() -> list[str]:
    from fairshare.cli import main
    return list(main.commands)


# --- the maths: the rule families' and the model's docstrings ----------------------------


def _math_functions(module) -> list[str]:
    """Public functions of a model module whose docstring holds maths."""
    names = []
    for name, fn in vars(module).items():
        if (inspect.isfunction(fn) and fn.__module__ == module.__name__ and not name.startswith("_")
                and ".. math::" in (fn.__doc__ or "")):
            names.append(name)
    return names


def model_math() -> list[tuple[str, list[str]]]:
    """(module, [functions with maths]) of every module of fairshare.model, in build order."""
    import fairshare.model as model_pkg

    out = []
    for info in pkgutil.iter_modules(model_pkg.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"fairshare.model.{info.name}")
        out.append((module.__name__, _math_functions(module)))
    order = ["measures", "emissions", "costs", "air_quality", "objective"]
    out.sort(key=lambda item: (order.index(item[0].rsplit(".", 1)[1])
                               if item[0].rsplit(".", 1)[1] in order else len(order), item[0]))
    return out


def _rst_block(directive: str) -> str:
    return "```{eval-rst}\n" + directive + "\n```\n"


def families_reference() -> str:
    from fairshare import families

    out = ["## The physics\n",
           "The measures, reductions, costs and concentrations every scenario shares "
           "(`fairshare.model`), then the objective.\n"]
    for module, functions in model_math():
        short = module.rsplit(".", 1)[1]
        out.append(f"### `{short}`\n")
        out.append(_rst_block(f".. automodule:: {module}"))
        for fn in functions:
            out.append(_rst_block(f".. autofunction:: {module}.{fn}"))
        if short == "objective":
            out.append(_rst_block(f".. autofunction:: {module}.add_objective")
                       if "add_objective" not in functions else "")
    for title, group in (("Targets", families.TARGETS), ("Fairness rules", families.RULES)):
        out.append(f"## {title}\n")
        for fam in group:
            out.append(f"### `{fam.NAME}`\n")
            facts = [f"rows: {', '.join(code(r) for r in fam.ROWS)}"]
            facts.append(f"keys: {{ref}}`{fam.SECTION}: entry <scenario-keys-{fam.NAME}>`")
            if getattr(fam, "CONSTRAINS_COSTS", False):
                facts.append("constrains city costs (quadratic `auto` takes the piecewise-linear LP)")
            sweep = getattr(fam, "SWEEP", None)
            if sweep is not None:
                facts.append(f"Pareto front: `{sweep.name}`")
            facts.append(f"module: `{fam.__name__}`")
            out.append("*" + "; ".join(facts) + "*\n")
            out.append(_rst_block(f".. automodule:: {fam.__name__}"))
    return "\n".join(out)


# --- expanding a page --------------------------------------------------------------------


FENCED = re.compile(r"^([ \t]*)(```|~~~).*?^\1\2[ \t]*$", re.MULTILINE | re.DOTALL)


def _prose(source: str) -> str:
    """The page with its fenced code blocks blanked (a marker shown as an example is not one)."""
    return FENCED.sub(lambda m: "\n" * m[0].count("\n"), source)


def _listed(source: str, kind: str) -> set[str]:
    return {m["arg"] for m in BLOCK.finditer(_prose(source)) if m["kind"] == kind and m["arg"]}


def generate(kind: str, arg: str | None, source: str) -> str:
    """The Markdown of one generated block (``source``: the whole page, for *-unlisted)."""
    makers: dict[str, Callable[[], str]] = {
        "keys": lambda: scenario_keys(_need(kind, arg)),
        "keys-unlisted": lambda: scenario_unlisted(_listed(source, "keys")),
        "columns": lambda: region_columns(_need(kind, arg)),
        "columns-unlisted": lambda: region_unlisted(_listed(source, "columns")),
        "cli": cli_reference,
        "families": families_reference,
    }
    if kind not in makers:
        raise DocsError(f"unknown generated block {kind!r} (known: {', '.join(makers)})")
    return makers[kind]()


def _need(kind: str, arg: str | None) -> str:
    if not arg:
        raise DocsError(f"a '{kind}' block needs an argument: <!-- generated: {kind} NAME -->")
    return arg


def expand(source: str) -> tuple[str, list[str]]:
    """The page with every generated block replaced; the problems found (one per block
    that could not be made, and markers left unclosed)."""
    problems: list[str] = []

    def replace(match: re.Match) -> str:
        try:
            body = generate(match["kind"], match["arg"], source)
        except DocsError as exc:
            problems.append(str(exc))
            return match[0]
        return body.rstrip("\n") + "\n"

    pieces, end = [], 0
    for fence in FENCED.finditer(source):  # prose expanded, code blocks kept as written
        pieces += [BLOCK.sub(replace, source[end:fence.start()]), fence[0]]
        end = fence.end()
    expanded = "".join(pieces) + BLOCK.sub(replace, source[end:])
    prose = _prose(source)
    problems += stale_column_notes(prose)
    opened = len(re.findall(r"<!-- generated:", prose))
    if opened != len(BLOCK.findall(prose)):
        problems.append("a '<!-- generated: ... -->' marker has no '<!-- end generated -->' "
                        "or is written differently")
    return expanded, problems


def stale_column_notes(source: str) -> list[str]:
    """The notes after a ``columns TABLE`` block (``* `column`: ...``) must name columns
    that the table has: a note on a column removed from the code is stale."""
    problems = []
    for m in BLOCK.finditer(source):
        if m["kind"] != "columns" or m["arg"] not in region_tables():
            continue
        after = source[m.end():]
        after = after[:re.search(r"^#", after, re.MULTILINE).start()] if re.search(r"^#", after, re.MULTILINE) else after
        columns = {c.name for c in region_tables()[m["arg"]].columns}
        for note in re.findall(r"^\* `([^`]+)`:", after, re.MULTILINE):
            if note not in columns:
                problems.append(f"a note on column {note!r} follows the column table of "
                                f"{m['arg']!r}, which has no such column (its columns: "
                                f"{', '.join(sorted(columns))})")
    return problems


def dedent(value: str) -> str:
    return textwrap.dedent(value).strip() + "\n"
