"""What a results, Pareto or comparison folder holds beside its tables: the plots,
``report.html`` and ``results.xlsx``. Extras never cost the tables: they are written
after them, and a failure is a warning, not an error (redraw with ``fairshare plot``)."""

from __future__ import annotations

from pathlib import Path


def write_extras(folder: Path, plots: bool = True, style: str | None = None,
                 svg: bool = False, worker=None) -> list[str]:
    """Draw the plots (unless ``plots=False``; ``style`` "colour" or "grey" for print;
    ``svg`` SVG beside PNG), then the report (which embeds them) and the spreadsheet;
    return one warning per extra that failed. ``worker``: a
    :class:`fairshare.plot_worker.PlotWorker` that draws the plots while this process
    writes the spreadsheet (drawn here if it cannot)."""
    from fairshare.plot_worker import WorkerGone
    from fairshare.report import write_report
    from fairshare.spreadsheet import write_spreadsheet

    warnings: list[str] = []

    def attempt(what: str, write) -> None:
        try:
            write(folder)
        except Exception as exc:  # an extra; the tables are the result
            warnings.append(f"warning: {what} could not be written ({type(exc).__name__}: "
                            f"{exc}); the tables are written")

    asked = plots and worker is not None and worker.ask(folder, style, svg)
    if asked:
        attempt("results.xlsx", write_spreadsheet)
        try:
            worker.answer()
        except WorkerGone:  # draw them here
            attempt("the plots", lambda f: _draw_here(f, style, svg))
        except RuntimeError as exc:  # the drawing failed, as it would have here
            warnings.append(f"warning: the plots could not be written ({exc}); "
                            f"the tables are written")
        attempt("report.html", write_report)
        return warnings
    if plots:
        attempt("the plots", lambda f: _draw_here(f, style, svg))
    attempt("report.html", write_report)
    attempt("results.xlsx", write_spreadsheet)
    return warnings


def _draw_here(folder: Path, style: str | None, svg: bool) -> None:
    from fairshare.plots import redraw

    redraw(folder, style=style, svg=svg)
