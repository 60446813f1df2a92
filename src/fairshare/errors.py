"""Problems found in input files, reported all at once.

Every check in fairshare appends :class:`Problem` records instead of raising on
the first one; :class:`InputError` carries the whole list to the caller. The CLI
prints one line per problem and exits 2.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable, Literal


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one place in one input file.

    ``row`` is 1-based as a spreadsheet shows it: in a CSV the header is row 1,
    so the first data row is row 2. In a YAML file ``row`` is the line and
    ``column`` names the key path (e.g. ``targets[2].max_ugm3``); they print as
    "line" and "key".
    """

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        yaml = self.file.lower().endswith((".yaml", ".yml"))
        where = self.file
        if self.row is not None:
            where += f", {'line' if yaml else 'row'} {self.row}"
        if self.column:
            where += f", {'key' if yaml else 'column'} '{self.column}'"
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}: {prefix}{self.message}"


class InputError(Exception):
    """Invalid scenario or region data; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = [p for p in problems if p.severity == "error"]
        self.warnings = [p for p in problems if p.severity == "warning"]
        self.partial = None  # a scenario file's valid part, when it has problems (see load_scenario)
        super().__init__(self._text())

    def _text(self) -> str:
        n = len(self.problems)
        lines = [f"{n} problem{'s' if n != 1 else ''} in the input:"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


def raise_if_errors(problems: list[Problem]) -> list[Problem]:
    """Raise :class:`InputError` if any problem is an error; return the warnings."""
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
    return [p for p in problems if p.severity == "warning"]


def closest(word, choices: Iterable, cutoff: float = 0.6) -> str | None:
    """The choice most like ``word`` (difflib ratio at least ``cutoff``), or None."""
    matches = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=cutoff)
    return matches[0] if matches else None


def did_you_mean(word, choices: Iterable, template: str = "; did you mean '{}'?") -> str:
    """``template`` filled with the closest choice, or "" when nothing is close: the one
    place every "did you mean" hint in fairshare comes from."""
    match = closest(word, choices)
    return template.format(match) if match is not None else ""
