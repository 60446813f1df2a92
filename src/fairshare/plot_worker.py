"""A plotting process that warms up while the model is solved.

``fairshare run`` spends about as long importing matplotlib and drawing as it does
loading, solving and writing the tables. :class:`PlotWorker` starts ``python -m
fairshare.plot_worker`` first thing, so that its imports overlap the solve; once the
tables are written, it draws the folder's plots while the main process writes
results.xlsx. If the worker cannot start or dies, the plots are drawn in the main
process as before: the worker is an optimisation, never a requirement (a plot that
fails to draw is reported the same way either way: a warning, the tables kept).

The protocol is one JSON line each way: ``{"folder", "style", "svg"}`` in,
``{"written": [...]}`` or ``{"error": "..."}`` out.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


class WorkerGone(RuntimeError):
    """The plotting process is not there to answer (it never started, or it died)."""


class PlotWorker:
    """``python -m fairshare.plot_worker``, started now, asked later (:meth:`draw`)."""

    def __init__(self) -> None:
        try:
            self.proc: subprocess.Popen | None = subprocess.Popen(
                [sys.executable, "-m", "fairshare.plot_worker"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, encoding="utf-8")
        except OSError:
            self.proc = None

    def ask(self, folder: Path, style: str | None, svg: bool) -> bool:
        """Ask the worker to draw ``folder``'s plots; False if it cannot be asked."""
        if self.proc is None:
            return False
        try:
            self.proc.stdin.write(json.dumps({"folder": str(folder), "style": style,
                                              "svg": svg}) + "\n")
            self.proc.stdin.flush()
        except (OSError, ValueError):
            return False
        return True

    def answer(self) -> list[str]:
        """The files the worker wrote for the last :meth:`ask`. :class:`WorkerGone` if it
        is not there to answer (the caller then draws the plots itself); RuntimeError with
        the worker's message if drawing failed."""
        try:
            line = self.proc.stdout.readline() if self.proc is not None else ""
        except (OSError, ValueError) as exc:
            raise WorkerGone(f"the plotting process is gone ({exc})") from None
        if not line:
            raise WorkerGone("the plotting process ended without an answer")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply["written"]

    def close(self) -> None:
        """End the worker (at once if it is still importing or drawing)."""
        if self.proc is None:
            return
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def __enter__(self) -> PlotWorker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def serve() -> None:
    """Import the plotting code, then answer one JSON task per line of stdin."""
    from fairshare.plots import redraw  # the import is the point: it overlaps the solve

    for line in sys.stdin:
        task = json.loads(line)
        try:
            written = redraw(task["folder"], style=task["style"], svg=task["svg"])
            reply = {"written": [str(p) for p in written]}
        except Exception as exc:  # reported to the main process, which warns
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    try:
        serve()
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group; the main process reports it
        sys.exit(130)
