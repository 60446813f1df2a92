"""pydantic's validation errors in a planner's words, each a
:class:`~fairshare.errors.Problem` with the file and line that set the value.

Also :func:`salvage`: the valid part of an invalid scenario, so that its references to
the region (cities, zones, metrics ...) can be checked in the same pass and every
problem is reported at once.
"""

from __future__ import annotations

import re
from typing import Any

import annotated_types as at
from pydantic import BaseModel, ValidationError

from fairshare.errors import Problem, closest, did_you_mean
from fairshare.scenario.schema import (FAIRNESS_RULES, TARGET_KINDS, Scenario, model_tags,
                                       single_model_in)
from fairshare.spec import show
from fairshare.scenario.yaml_lines import Doc, KeyPath, dotted


def problems_from_validation(exc: ValidationError, data: dict, file: str,
                             where: dict | None = None) -> list[Problem]:
    """One problem per pydantic error (a misspelt key's "missing" twin dropped)."""
    doc = Doc(file, data, where or {}, [file])
    return [problem_from_error(err, doc) for err in drop_missing_explained_by_typo(exc.errors())]


def problem_from_error(err: Any, doc: Doc) -> Problem:
    path = _yaml_path(err["loc"], doc.data)
    if err["type"] == "union_tag_invalid":
        path += ("rule",)  # point at the `rule:` line
    file, line = _where(doc, path)
    return Problem(file, _message(err), line, dotted(path))


def salvage(data: dict, exc: ValidationError) -> Scenario | None:
    """The scenario without the entries and keys that failed validation, or None.

    A bad entry of ``targets`` or ``fairness`` is dropped; a bad optional key takes its
    default; without a valid ``name`` the name ``scenario`` stands in. None when the
    region itself is what failed (nothing can be checked against it).
    """
    drop: dict[str, set[int]] = {}
    keys: set[str] = set()
    for err in exc.errors():
        loc = err["loc"]
        if not loc:
            return None
        if loc[0] in ("targets", "fairness") and len(loc) > 1 and isinstance(loc[1], int):
            drop.setdefault(loc[0], set()).add(loc[1])
        else:
            keys.add(str(loc[0]))
    if "region" in keys:
        return None
    kept = {k: v for k, v in data.items() if k not in keys}
    for section, bad in drop.items():
        kept[section] = [e for i, e in enumerate(data.get(section) or []) if i not in bad]
    if "name" in keys:
        kept["name"] = "scenario"
    try:
        partial = Scenario.model_validate(kept)
    except ValidationError:
        return None
    # keep the entries' positions: ``targets[3]`` still names the file's fourth target
    partial._positions = {s: [i for i in range(len(data.get(s) or [])) if i not in drop.get(s, ())]
                          for s in ("targets", "fairness")}
    return partial


def _yaml_path(loc: tuple, data: dict) -> KeyPath:
    """pydantic's error location as the key path in the file.

    Drops the union tag pydantic inserts after a list index (``targets[2]``
    is validated as ``targets.2.concentration``) and puts back the objective
    name the mapping form ``{min_cost: {...}}`` is flattened from.
    """
    path = list(loc)
    tags = {"targets": TARGET_KINDS, "fairness": FAIRNESS_RULES}.get(path[0] if path else None, {})
    if len(path) > 2 and isinstance(path[1], int) and path[2] in tags:
        del path[2]
    objective = data.get("objective")
    if path[:1] == ["objective"] and len(path) > 1:
        path = path[:1] + [next(iter(objective))] + path[1:] if isinstance(objective, dict) else path[:1]
    return tuple(path)


def _where(doc: Doc, path: KeyPath) -> tuple[str, int | None]:
    """File and line of the deepest part of ``path`` the file has (a missing key: its parent)."""
    for n in range(len(path), 0, -1):
        if path[:n] in doc.where:
            return doc.where[path[:n]]
    return doc.file, None


def drop_missing_explained_by_typo(errors: list[Any]) -> list[Any]:
    """A misspelt key gives "unknown key 'metirc'" and "missing 'metric'"; keep only the first."""
    suggested = {
        (tuple(e["loc"][:-1]), closest(e["loc"][-1], _allowed_keys(e["loc"][:-1])))
        for e in errors
        if e["type"] == "extra_forbidden"
    }
    return [e for e in errors if not (e["type"] == "missing" and (tuple(e["loc"][:-1]), e["loc"][-1]) in suggested)]


def _message(err: Any) -> str:
    """The planner-facing text for one pydantic error."""
    kind, loc, value, ctx = err["type"], err["loc"], err.get("input"), err.get("ctx") or {}
    key = next((str(p) for p in reversed(loc) if isinstance(p, str)), "the scenario")
    field = _field_at(loc)
    if kind == "missing":
        about = f" ({field.description})" if field is not None and field.description else ""
        return f"missing required key '{key}'{about}"
    if kind == "extra_forbidden":
        return _unknown_key_message(str(loc[-1]), _allowed_keys(loc[:-1]))
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"{key} is {show(value)}, but it must be {_range_text(field, ctx)}"
    if kind == "literal_error":
        allowed = re.findall(r"'([^']*)'", ctx.get("expected", ""))
        hint = did_you_mean(value, allowed, " (did you mean '{}'?)")
        return f"{key} is {show(value)}{hint}; use {_or_list(allowed)}"
    if kind == "union_tag_invalid":
        tag = ctx.get("tag")
        rules = ", ".join(FAIRNESS_RULES)
        return f"'{tag}' is not a fairness rule{did_you_mean(tag, FAIRNESS_RULES, ' (did you mean {!r}?)')}; rules: {rules}"
    if kind == "union_tag_not_found":
        return f"missing key 'rule': say which fairness rule this is, one of {', '.join(FAIRNESS_RULES)}"
    if kind in ("all_or_ids", "by_year"):
        return f"{key} {err['msg']}"
    if kind in _TYPE_WORDS:
        return f"{key} must be {_TYPE_WORDS[kind]}, not {show(value)}"
    return str(err["msg"]).removeprefix("Value error, ")


_TYPE_WORDS = {
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "string_type": "text",
    "list_type": "a list (one entry per line starting with '- ', or [a, b])",
    "model_type": "a mapping of keys (key: value)",
    "model_attributes_type": "a mapping of keys (key: value)",
    "dict_type": "a mapping of keys (key: value)",
    "path_type": "a path (text)",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
}


def _unknown_key_message(key: str, allowed: list[str]) -> str:
    hint = did_you_mean(key, allowed, "; did you mean '{}'?")
    if hint:
        return f"unknown key '{key}'{hint}"
    return f"unknown key '{key}'; allowed here: {', '.join(allowed)}" if allowed else f"unknown key '{key}'"


def _range_text(field: Any, ctx: dict) -> str:
    """'greater than 0 and less than 100', from the field's bounds (or the error's one bound)."""
    words = {
        at.Gt: ("gt", "greater than"),
        at.Ge: ("ge", "at least"),
        at.Lt: ("lt", "less than"),
        at.Le: ("le", "at most"),
    }
    bounds = [m for m in (field.metadata if field is not None else []) if type(m) in words]
    if bounds:
        return " and ".join(f"{words[type(m)][1]} {show(getattr(m, words[type(m)][0]))}" for m in bounds)
    name, text = next(v for k, v in words.items() if v[0] in ctx)
    return f"{text} {show(ctx[name])}"


# --- which model sits at a location ----------------------------------------


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The model class validating the mapping at ``loc`` (pydantic's location), if one."""
    model: type[BaseModel] | None = Scenario
    tags = model_tags()
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None and part in tags:
            model = tags[part]
        elif model is not None and part in model.model_fields:
            model = single_model_in(model.model_fields[part].annotation)
        else:
            return None
    return model


def _field_at(loc: tuple) -> Any:
    """The pydantic FieldInfo of the key at ``loc``, if known."""
    if not loc or not isinstance(loc[-1], str):
        return None
    model = _model_at(loc[:-1])
    return model.model_fields.get(loc[-1]) if model is not None else None


def _allowed_keys(loc: tuple) -> list[str]:
    """The keys a file may use in the mapping at ``loc``."""
    model = _model_at(loc)
    if model is None:
        return []
    hidden = {"source_file", "kind"}
    keys = [k for k in model.model_fields if k not in hidden]
    return ["extends", *keys] if model is Scenario else keys


def _or_list(items: list[str]) -> str:
    quoted = [f"'{i}'" for i in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f" or {quoted[-1]}"
