"""What a results, Pareto or comparison folder holds beside its tables: the plots,
``report.html`` and ``results.xlsx``. Extras never cost the tables: they are written
after them, and a failure is a warning, not an error (redraw with ``fairshare plot``)."""

from __future__ import annotations

from pathlib import Path


def write_extras(folder: Path, plots: bool = True, style: str | None = None) -> list[str]:
    """Draw the plots (unless ``plots=False``; ``style`` "colour" or "grey" for print),
    then the report (which embeds them) and the spreadsheet; return one warning per extra
    that failed."""
    from fairshare.plots import redraw
    from fairshare.report import write_report
    from fairshare.spreadsheet import write_spreadsheet

    steps = ([("the plots", lambda f: redraw(f, style=style))] if plots else []) + [
        ("report.html", write_report), ("results.xlsx", write_spreadsheet)]
    warnings = []
    for what, write in steps:
        try:
            write(folder)
        except Exception as exc:  # an extra; the tables are the result
            warnings.append(f"warning: {what} could not be written ({type(exc).__name__}: "
                            f"{exc}); the tables are written")
    return warnings
