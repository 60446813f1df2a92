"""Solving many coalitions: in this process or on Dask, resumable from a cache file.

* :class:`Store`: the coalitions solved so far, kept in memory and, when given a path,
  appended to a cache file after every chunk (flushed and synced). A run that is
  interrupted keeps what it solved; the next run of the same game (same scenario, region
  files, players and options: the game's key, in the file's first line) starts from it. A
  cache of another game is replaced.
* :class:`Runner`: runs chunks of coalitions with :func:`fairshare.distributed.map_tasks`,
  in this process or on a Dask cluster (``workers=N`` starts a local cluster once for the
  whole run; ``scheduler=ADDRESS`` uses a running one). Each task is ``(spec, masks)``:
  the worker builds the model once (the first time it sees the game) and solves its masks
  in order, warm-starting each from the last.
* :class:`Evaluator`: the two together, with a progress bar.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from fairshare.compensation.game import GameError, GameSpec, Value, solve_chunk

CACHE_HEADER = "# fairshare compensation cache "
COLUMNS = "mask,status,met,cost_mcny,shortfall_ugm3,alt_cost_mcny,alt_shortfall_ugm3"
SERIAL_CHUNK = 256     # coalitions per cache write when solving in this process
MAX_CHUNK = 2048       # coalitions per Dask task at most
ROUND_CHUNKS = 4       # Dask: chunks per worker between two cache writes


class Store:
    def __init__(self, path: str | Path | None, key: str, players: list[str], fresh: bool = False):
        self.path = Path(path) if path is not None else None
        self.key = key
        self.values: dict[int, Value] = {}
        self.resumed = 0
        self.note = ""
        self._file = None
        if self.path is None:
            return
        if self.path.exists() and not fresh:
            self._read()
        if not self.values:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "w", encoding="utf-8") as f:
                f.write(CACHE_HEADER + json.dumps({"key": key, "players": players}) + "\n")
                f.write(COLUMNS + "\n")
        self._file = open(self.path, "a", encoding="utf-8")

    def _read(self) -> None:
        with open(self.path, encoding="utf-8") as f:
            first = f.readline()
            try:
                header = json.loads(first[len(CACHE_HEADER):]) if first.startswith(CACHE_HEADER) else {}
            except ValueError:
                header = {}
            if header.get("key") != self.key:
                self.note = f"{self.path} holds coalitions of another game; started afresh"
                return
            for line in f:
                parts = line.rstrip("\n").split(",")
                if len(parts) != 7 or parts[0] == "mask":
                    continue  # the header, or a line cut short by an interruption
                try:
                    v = Value(int(parts[0]), parts[1], parts[2] == "1", *map(float, parts[3:]))
                except ValueError:
                    continue
                self.values[v.mask] = v
        self.resumed = len(self.values)

    def __contains__(self, mask: int) -> bool:
        return int(mask) in self.values

    def __len__(self) -> int:
        return len(self.values)

    def add(self, values: list[Value]) -> None:
        for v in values:
            self.values[v.mask] = v
        if self._file is not None and values:
            self._file.write("".join(f"{v.mask},{v.status},{int(v.met)},{v.cost!r},{v.shortfall!r},"
                                     f"{v.alt_cost!r},{v.alt_shortfall!r}\n" for v in values))
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self, remove: bool = False) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if remove and self.path is not None:
            self.path.unlink(missing_ok=True)


class Runner:
    """Where chunks run: this process, a local cluster started once, or a running one."""

    def __init__(self, workers: int | None = None, scheduler: str | None = None):
        if workers is not None and scheduler is not None:
            raise ValueError("give either workers=N (a local cluster) or scheduler=ADDRESS, not both")
        self.workers, self.scheduler = workers, scheduler
        self.address: str | None = None
        self.slots = 1
        self._cluster = None

    def __enter__(self) -> Runner:
        if self.workers:
            from distributed import LocalCluster

            self._cluster = LocalCluster(n_workers=int(self.workers), threads_per_worker=1,
                                         processes=True, dashboard_address=None)
            self.address, self.slots = self._cluster.scheduler_address, int(self.workers)
        elif self.scheduler:
            from distributed import Client

            with Client(self.scheduler) as client:
                self.slots = max(1, sum(client.nthreads().values()))
            self.address = self.scheduler
        return self

    def __exit__(self, *exc) -> None:
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    @property
    def distributed(self) -> bool:
        return self.address is not None

    def run(self, spec: GameSpec, chunks: list[list[int]]) -> list[list[tuple]]:
        from fairshare.distributed import is_error, map_tasks

        results = map_tasks(solve_chunk, [(spec, list(map(int, c))) for c in chunks],
                            scheduler=self.address, progress=False, desc="coalitions")
        for r in results:
            if is_error(r):
                raise GameError(f"a task of coalition LPs failed: {r['error']}")
        return results


class Evaluator:
    """Coalition costs on demand: ``ensure(masks)`` solves those not known yet."""

    def __init__(self, spec: GameSpec, store: Store, runner: Runner, bar=None):
        self.spec, self.store, self.runner, self.bar = spec, store, runner, bar
        self.solved = 0  # coalitions solved by this run

    def ensure(self, masks) -> None:
        todo = [int(m) for m in masks if int(m) not in self.store and int(m) != 0]
        if not todo:
            return
        if self.runner.distributed:
            size = max(16, min(MAX_CHUNK, math.ceil(len(todo) / (ROUND_CHUNKS * self.runner.slots))))
            per_round = ROUND_CHUNKS * self.runner.slots
        else:
            size, per_round = SERIAL_CHUNK, 1
        chunks = [todo[i:i + size] for i in range(0, len(todo), size)]
        for k in range(0, len(chunks), per_round):
            batch = chunks[k:k + per_round]
            for result in self.runner.run(self.spec, batch):
                values = [Value(*t) for t in result]
                self.store.add(values)
                self.solved += len(values)
                if self.bar is not None:
                    self.bar.update(len(values))

    def value(self, mask: int) -> Value:
        return self.store.values[int(mask)]

    def cost(self, mask: int) -> float:
        return 0.0 if mask == 0 else self.store.values[int(mask)].cost

    def alt_cost(self, mask: int) -> float:
        return 0.0 if mask == 0 else self.store.values[int(mask)].alt_cost

    def arrays(self, n: int):
        """(cost, alt cost) arrays over every mask (exact games)."""
        c = np.zeros(1 << n)
        alt = np.zeros(1 << n)
        for mask, v in self.store.values.items():
            if mask < (1 << n):
                c[mask], alt[mask] = v.cost, v.alt_cost
        return c, alt

    def failed(self) -> list[Value]:
        return [v for v in self.store.values.values() if v.status != "optimal"]
