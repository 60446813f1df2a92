"""Sweeps (scenario lists, Pareto points, transport-matrix ensembles) on Dask distributed.

:func:`map_tasks` runs ``fn(task)`` for every task and returns the results in task
order, in one of three places:

* in this process, one task after another, when neither ``workers`` nor ``scheduler``
  is given;
* on a local cluster started for the call, ``workers=N`` worker processes with one
  thread each (``distributed.LocalCluster(n_workers=N, threads_per_worker=1,
  processes=True)``), closed when the call returns;
* on an existing cluster, ``scheduler="tcp://host:8786"`` (started elsewhere with
  ``dask scheduler`` and ``dask worker tcp://host:8786``); the cluster is left running.

A task is a *description* of the work, never a Pyomo model: a scenario object from
:func:`fairshare.scenario.load_scenario`, a scenario file path, or a
:class:`ScenarioTask` (a path plus overrides such as ``{"solver.time_limit_s": 60}``).
Each task builds and solves its model on the worker. ``fn`` must be picklable
(a module-level function such as :func:`solve_summary_row`).

Errors: an exception raised by ``fn`` for one task does not stop the sweep. That
task's result is a :class:`TaskError` (a ``dict``) with ``status = "task_error"``,
``task_index``, ``task`` (its repr), ``error`` (``"ExceptionType: message"``) and
``traceback``; every other task keeps its own result. A worker that dies (out of
memory, a crash inside the solver) gives an error record for its task the same way.
Test for one with :func:`is_error`. Because the same guard runs in the serial path,
a serial run and a distributed run give identical results, error records included
(apart from the traceback text).

Region data are read by the worker: on a remote cluster the scenario's region
folder (and the scenario file, for a path task) must be readable at the same path
on every worker machine, and fairshare must be installed there at the same version.

From the shell (a sweep over scenario files, one summary row each)::

    python -m fairshare.distributed scenarios/jjj-2030-*.yaml --workers 2
    python -m fairshare.distributed scenarios/*.yaml --scheduler tcp://10.0.0.5:8786 --csv rows.csv
"""

from __future__ import annotations

import sys
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ERROR_STATUS = "task_error"


class TaskError(dict):
    """The result of a task whose function raised: a plain dict (it fits in a table of rows)
    with ``status``, ``task_index``, ``task``, ``error`` and ``traceback``."""

    def __reduce__(self):  # pickles as itself across processes
        return (TaskError, (dict(self),))


def is_error(result: Any) -> bool:
    """True if ``result`` is the error record of a failed task."""
    return isinstance(result, TaskError) or (
        isinstance(result, dict) and result.get("status") == ERROR_STATUS and "error" in result)


def _error_record(index: int, task: Any, exc: BaseException, tb: str | None = None) -> TaskError:
    return TaskError(status=ERROR_STATUS, task_index=index, task=_short_repr(task),
                     error=f"{type(exc).__name__}: {exc}",
                     traceback=tb if tb is not None else "".join(
                         traceback.format_exception(type(exc), exc, exc.__traceback__)))


def _short_repr(task: Any, limit: int = 300) -> str:
    text = repr(task)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _guarded(fn: Callable, index: int, task: Any):
    """Run ``fn(task)`` where the task runs (worker or this process); an exception becomes
    the task's error record."""
    try:
        return fn(task)
    except Exception as exc:  # one failing task must not lose the others
        return _error_record(index, task, exc)


def _progress_bar(total: int, progress: bool, desc: str):
    from tqdm.auto import tqdm
    # disable=None: tqdm switches itself off when stderr is not a terminal
    return tqdm(total=total, desc=desc or None, disable=None if progress else True,
                unit="task", leave=False)


def map_tasks(fn: Callable, tasks: list, *, workers: int | None = None,
              scheduler: str | None = None, progress: bool = True, desc: str = "") -> list:
    """``[fn(t) for t in tasks]``, serially or on Dask distributed; results in task order.

    ``workers=N`` starts a local cluster of N single-threaded worker processes for this
    call; ``scheduler="tcp://host:port"`` uses a running cluster; neither runs serially
    in this process. A task whose ``fn`` raises gets a :class:`TaskError` record as its
    result (see the module docstring); the other results are unaffected.
    """
    tasks = list(tasks)
    if workers is not None and scheduler is not None:
        raise ValueError("give either workers=N (a local cluster) or scheduler=ADDRESS, not both")
    if workers is not None and int(workers) < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if not tasks:
        return []
    if workers is None and scheduler is None:
        results = []
        with _progress_bar(len(tasks), progress, desc) as bar:
            for i, task in enumerate(tasks):
                results.append(_guarded(fn, i, task))
                bar.update(1)
        return results

    from distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler) as client:
            return _run_on(client, fn, tasks, progress, desc)
    with LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        return _run_on(client, fn, tasks, progress, desc)


def _run_on(client, fn: Callable, tasks: list, progress: bool, desc: str) -> list:
    from distributed import as_completed

    name = f"{desc or getattr(fn, '__name__', 'task')}-{uuid.uuid4().hex[:12]}"
    futures = [client.submit(_guarded, fn, i, task, pure=False, key=f"{name}-{i}")
               for i, task in enumerate(tasks)]
    position = {f.key: i for i, f in enumerate(futures)}
    results: list = [None] * len(tasks)
    try:
        with _progress_bar(len(tasks), progress, desc) as bar:
            for future in as_completed(futures):
                i = position[future.key]
                try:
                    results[i] = future.result()
                except Exception as exc:  # the worker died, or the task could not be sent
                    results[i] = _error_record(i, tasks[i], exc)
                bar.update(1)
    finally:
        for f in futures:
            f.release()
    return results


# --- scenario tasks --------------------------------------------------------------------

@dataclass(frozen=True)
class ScenarioTask:
    """A scenario file plus overrides, resolved on the worker.

    ``overrides`` maps a dotted key of the scenario to a new value, e.g.
    ``{"solver.time_limit_s": 60, "name": "jjj-beta-0.6"}``; whole keys such as
    ``targets`` or ``fairness`` take lists of mappings as in the YAML file. The result
    is validated like a scenario file.
    """

    path: str
    overrides: dict = field(default_factory=dict)

    def load(self):
        from fairshare.scenario import load_scenario
        return with_overrides(load_scenario(self.path), self.overrides)


def with_overrides(scenario, overrides: dict):
    """A copy of ``scenario`` with dotted keys replaced, validated again
    (:meth:`fairshare.scenario.Scenario.variant`)."""
    return scenario.variant(overrides) if overrides else scenario


def resolve_scenario(task):
    """A scenario object from a task: a scenario, a path, or a :class:`ScenarioTask`."""
    if isinstance(task, ScenarioTask):
        return task.load()
    if isinstance(task, (str, Path)):
        from fairshare.scenario import load_scenario
        return load_scenario(task)
    return task


def solve_summary_row(scenario) -> dict:
    """Solve one scenario and return its summary as a flat dict (one row of a sweep table).

    Keys: ``scenario``, ``status``, ``message``, ``total_cost_cny`` (None unless
    optimal), ``objective_cny``, every fairness metric of ``summary["fairness"]``
    (``max_burden``, ``gini_burden``, ...), ``targets_attained`` and ``targets_total``.
    No timings, so the row of a scenario is the same wherever it was solved.
    """
    from fairshare.api import solve

    sc = resolve_scenario(scenario)
    summary = solve(sc).summary
    row = {"scenario": summary.get("scenario", getattr(sc, "name", None)),
           "status": summary.get("status"), "message": summary.get("message"),
           "total_cost_cny": summary.get("total_cost_cny"),
           "objective_cny": summary.get("objective")}
    row.update(summary.get("fairness") or {})
    row["targets_attained"] = summary.get("targets_attained")
    row["targets_total"] = summary.get("targets_total")
    return row


def main(argv=None) -> int:
    """``python -m fairshare.distributed SCENARIO... [--workers N | --scheduler ADDR]``."""
    import argparse

    import pandas as pd

    ap = argparse.ArgumentParser(prog="python -m fairshare.distributed",
                                 description="Solve a list of scenario files, one summary row each.")
    ap.add_argument("scenarios", nargs="+", help="scenario YAML files")
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, help="start a local cluster of N workers")
    where.add_argument("--scheduler", default=None, help="use a running cluster, e.g. tcp://host:8786")
    ap.add_argument("--csv", default=None, help="also write the rows to this CSV file")
    ap.add_argument("--no-progress", action="store_true")
    a = ap.parse_args(argv)
    tasks = [str(Path(p).resolve()) for p in a.scenarios]
    rows = map_tasks(solve_summary_row, tasks, workers=a.workers, scheduler=a.scheduler,
                     progress=not a.no_progress, desc="scenarios")
    frame = pd.DataFrame([{k: v for k, v in r.items() if k != "traceback"} for r in rows])
    print(frame.to_string(index=False))
    if a.csv:
        frame.to_csv(a.csv, index=False)
    return 1 if any(is_error(r) for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
