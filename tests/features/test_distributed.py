"""Sweeps on Dask distributed (fairshare.distributed): serial and a two-worker local
cluster give the same rows in the same order; a failing task becomes an error record
and the other tasks still succeed."""
from __future__ import annotations

import pickle

import pytest

from fairshare.distributed import (ScenarioTask, TaskError, is_error, map_tasks,
                                   solve_summary_row)

from toy import two_city_region, write_scenario

# Two cities, C0 = 20 µg/m³ everywhere, MTFR 14: three feasible targets of rising cost.
LIMITS = (18.0, 17.0, 16.0)


@pytest.fixture(scope="module")
def scenario_files(tmp_path_factory) -> list[str]:
    root = tmp_path_factory.mktemp("sweep")
    region = two_city_region(root / "region")
    return [str(write_scenario(root / f"toy-{int(lim)}.yaml", region, name=f"toy-{int(lim)}",
                               targets=[{"metric": "PM25", "receptors": "all", "max_ugm3": lim}]))
            for lim in LIMITS]


def _without_traceback(rows):
    return [{k: v for k, v in r.items() if k != "traceback"} for r in rows]


def test_serial_rows_are_flat_summaries(scenario_files):
    rows = map_tasks(solve_summary_row, scenario_files, progress=False)
    assert [r["scenario"] for r in rows] == ["toy-18", "toy-17", "toy-16"]
    assert all(r["status"] == "optimal" for r in rows)
    costs = [r["total_cost_cny"] for r in rows]
    assert costs[0] < costs[1] < costs[2]
    for r in rows:
        assert r["targets_attained"] == r["targets_total"] == 2
        assert {"max_burden", "gini_burden", "gini_cost_per_capita"} <= set(r)
        assert all(not isinstance(v, (dict, list)) for v in r.values())  # flat
        pickle.dumps(r)


def test_two_worker_cluster_matches_serial_and_keeps_going_after_a_failure(scenario_files,
                                                                          tmp_path):
    missing = str(tmp_path / "no-such-scenario.yaml")
    tasks = [scenario_files[0], missing, scenario_files[1], scenario_files[2]]
    serial = map_tasks(solve_summary_row, tasks, progress=False)
    parallel = map_tasks(solve_summary_row, tasks, workers=2, progress=True, desc="toy sweep")

    assert len(parallel) == 4
    assert parallel[0] == serial[0] and parallel[2] == serial[2] and parallel[3] == serial[3]
    assert [parallel[i]["scenario"] for i in (0, 2, 3)] == ["toy-18", "toy-17", "toy-16"]
    assert all(parallel[i]["status"] == "optimal" for i in (0, 2, 3))

    err = parallel[1]
    assert is_error(err) and isinstance(err, TaskError)
    assert err["status"] == "task_error" and err["task_index"] == 1
    assert "no-such-scenario.yaml" in err["task"] and err["error"]
    assert "Traceback" in err["traceback"]
    assert _without_traceback([err]) == _without_traceback([serial[1]])


def test_existing_scheduler_address_and_scenario_objects(scenario_files):
    from distributed import LocalCluster

    from fairshare.scenario import load_scenario

    tasks = [load_scenario(scenario_files[2]),
             ScenarioTask(scenario_files[0], {"name": "toy-18-as-17",
                                              "targets": [{"metric": "PM25", "receptors": "all",
                                                           "max_ugm3": 17.0}]})]
    serial = map_tasks(solve_summary_row, tasks, progress=False)
    # In-process workers (threads) keep this test fast; the address path is the same one a
    # `dask scheduler` on another machine would take.
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:
        remote = map_tasks(solve_summary_row, tasks, scheduler=cluster.scheduler_address,
                           progress=False)
    assert remote == serial
    assert serial[0]["scenario"] == "toy-16"
    assert serial[1]["scenario"] == "toy-18-as-17"
    assert serial[1]["total_cost_cny"] == pytest.approx(
        map_tasks(solve_summary_row, [scenario_files[1]], progress=False)[0]["total_cost_cny"])


def _fails_on_odd(n: int) -> int:
    if n % 2:
        raise ValueError(f"odd {n}")
    return n * 10


def test_serial_order_errors_and_arguments():
    rows = map_tasks(_fails_on_odd, [0, 1, 2, 3, 4], progress=False)
    assert [r if not is_error(r) else "E" for r in rows] == [0, "E", 20, "E", 40]
    assert rows[1]["error"] == "ValueError: odd 1" and rows[3]["task_index"] == 3
    assert pickle.loads(pickle.dumps(rows[1])) == rows[1]
    assert map_tasks(_fails_on_odd, [], workers=2) == []
    with pytest.raises(ValueError):
        map_tasks(_fails_on_odd, [0], workers=2, scheduler="tcp://127.0.0.1:1")
    with pytest.raises(ValueError):
        map_tasks(_fails_on_odd, [0], workers=0)
