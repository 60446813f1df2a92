"""What the commands must never do: lose solved work to a plot, crash on a folder they
wrote, keep the scenario's objective on a front, ignore Ctrl-C while HiGHS runs, or
replace a result another run wrote.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import BENCH, SCENARIOS
from fairshare.cli import main

from toy import two_city_region, write_scenario

def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


# --- fronts minimise cost whatever the scenario's objective --------------------------------

def shipped_cost_bn(name: str) -> float:
    """The total cost of a shipped option, solved here (the fronts must start and end there)."""
    import fairshare as fs
    return fs.solve(SCENARIOS / f"{name}.yaml").total_cost / 1e9


def test_a_front_from_a_min_max_scenario_runs_from_least_cost_to_the_min_max_plan(tmp_path):
    least, min_max = shipped_cost_bn("jjj-2030-least-cost"), shipped_cost_bn("jjj-2030-min-max-burden")
    r = cli("pareto", SCENARIOS / "jjj-2030-min-max-burden.yaml", "--y", "max_burden",
            "--points", "3", "-o", tmp_path)
    assert r.exit_code == 0, r.output
    front = pd.read_csv(tmp_path / "jjj-2030-min-max-burden-pareto-max_burden/pareto.csv")
    cost_bn = front["total_cost_cny"].to_numpy() / 1e9
    assert cost_bn[0] == pytest.approx(least, rel=1e-6)  # was the min-max cost at every point
    assert cost_bn[-1] == pytest.approx(min_max, rel=1e-4)
    assert min_max > 1.5 * least
    assert list(cost_bn) == sorted(cost_bn) and cost_bn[1] < cost_bn[-1]
    assert (front["max_burden"] <= front["epsilon"] * (1 + 1e-6)).all()


def test_a_front_from_a_weighted_objective_minimises_cost(tmp_path):
    path = tmp_path / "weighted.yaml"
    path.write_text(f"extends: {SCENARIOS / 'jjj-2030-least-cost.yaml'}\nname: weighted\n"
                    "objective: {min_cost: {fairness_weight: 1.0e+12, fairness_metric: gini}}\n")
    r = cli("pareto", path, "--y", "gini", "--points", "2", "-o", tmp_path)
    assert r.exit_code == 0, r.output
    front = pd.read_csv(tmp_path / "weighted-pareto-gini/pareto.csv")
    assert front["total_cost_cny"].iloc[0] / 1e9 == pytest.approx(
        shipped_cost_bn("jjj-2030-least-cost"), rel=1e-6)
    help_text = " ".join(cli("pareto", "--help").output.split())
    assert "Every point minimises total cost, whatever objective the scenario names" in help_text


# --- solved work is never lost to a plot ----------------------------------------------------

def test_the_readme_attainment_command_writes_the_front(tmp_path):
    r = cli("pareto", SCENARIOS / "jjj-2030-least-cost.yaml", "--sweep", "target",
            "--points", "3", "-o", tmp_path)
    assert r.exit_code == 0, r.output
    folder = tmp_path / "jjj-2030-least-cost-pareto-target"
    assert sorted(p.name for p in folder.iterdir()) == ["pareto.csv", "pareto.png",
                                                        "report.html", "results.xlsx"]
    assert list(pd.read_csv(folder / "pareto.csv")["gamma"]) == [0.0, 0.5, 1.0]


@pytest.mark.parametrize("command", ["run", "pareto", "compare"])
def test_a_plot_that_fails_is_a_warning_and_the_tables_are_written(tmp_path, monkeypatch, command):
    import fairshare.plots as plots

    from fairshare.plot_worker import PlotWorker

    def broken(*a, **k):
        raise ValueError("output array is read-only")
    for name in ("redraw", "write_front_plots", "write_comparison_plots"):
        monkeypatch.setattr(plots, name, broken)
    monkeypatch.setattr(PlotWorker, "ask", lambda *a: False)  # draw in this process
    region = two_city_region(tmp_path / "region")
    path = write_scenario(tmp_path / "toy.yaml", region, name="toy",
                          targets=[{"metric": "PM25", "receptors": ["a"], "max_ugm3": 17}])
    args = {"run": ["run", path], "pareto": ["pareto", path, "--points", "2"],
            "compare": ["compare", path]}[command]
    r = cli(*args, "-o", tmp_path / "out")
    assert r.exit_code == 0, r.output
    assert "warning: the plots could not be written" in r.output
    table = {"run": "toy/cities.csv", "pareto": "toy-pareto-gini/pareto.csv",
             "compare": "comparison/compare.csv"}[command]
    assert (tmp_path / "out" / table).is_file()


class FakeWorker:
    """A plotting process that answers as told: files, a drawing error, or nothing."""

    def __init__(self, answer):
        self.asked, self._answer = [], answer

    def ask(self, folder, style, svg):
        self.asked.append((folder, style, svg))
        return True

    def answer(self):
        if isinstance(self._answer, Exception):
            raise self._answer
        return self._answer


@pytest.mark.parametrize("answer, warned, drawn_here", [
    (["cost_by_city.png"], False, False),                   # the worker drew them
    (RuntimeError("ValueError: boom"), True, False),         # its drawing failed: a warning
    ("gone", False, True),                                   # it died: drawn in this process
])
def test_the_plotting_process_draws_or_the_run_draws_itself(tmp_path, monkeypatch, answer,
                                                           warned, drawn_here):
    import fairshare.plots as plots
    from fairshare.extras import write_extras
    from fairshare.plot_worker import WorkerGone

    drawn = []
    monkeypatch.setattr(plots, "redraw", lambda folder, **kw: drawn.append(folder) or [])
    worker = FakeWorker(WorkerGone("gone") if answer == "gone" else answer)
    region = two_city_region(tmp_path / "region")
    path = write_scenario(tmp_path / "toy.yaml", region, name="toy",
                          targets=[{"metric": "PM25", "receptors": ["a"], "max_ugm3": 17}])
    assert cli("run", path, "-o", tmp_path / "out", "--no-plots").exit_code == 0
    folder = tmp_path / "out" / "toy"
    warnings = write_extras(folder, True, "grey", True, worker)
    assert worker.asked == [(folder, "grey", True)]
    assert bool(warnings) == warned and (not warned or "boom" in warnings[0])
    assert drawn == ([folder] if drawn_here else [])
    assert (folder / "report.html").is_file() and (folder / "results.xlsx").is_file()


def test_the_plotting_process_answers_and_ends(tmp_path):
    """The real worker: draws a Pareto folder, answers with its files, ends when closed."""
    import fairshare.plots as plots
    from fairshare.plot_worker import PlotWorker

    from test_plots import fairness_front  # noqa: E402
    fairness_front("gini").to_csv(tmp_path / "pareto.csv", index=False)
    with PlotWorker() as worker:
        assert worker.ask(tmp_path, None, False)
        assert worker.answer() == [str(tmp_path / "pareto.png")]
        proc = worker.proc
    assert proc.poll() is not None and (tmp_path / "pareto.png").stat().st_size > 1000
    assert plots  # imported in this process too: the worker's answer is independent of it


# --- small crashes --------------------------------------------------------------------------

def test_mtfr_makes_the_folder_of_its_output_file(tmp_path):
    r = cli("mtfr", SCENARIOS / "jjj-2030-least-cost.yaml", "-o", tmp_path / "new/dir/m.csv")
    assert r.exit_code == 0, r.output
    assert len(pd.read_csv(tmp_path / "new/dir/m.csv")) == 28 * 2  # PM25 and O3 receptors


def test_plot_redraws_fronts_comparisons_and_a_folder_of_them(tmp_path):
    region = two_city_region(tmp_path / "region")
    path = write_scenario(tmp_path / "toy.yaml", region, name="toy",
                          targets=[{"metric": "PM25", "receptors": ["a"], "max_ugm3": 17}])
    out = tmp_path / "results"
    for args in (["run", path, "--no-plots"], ["pareto", path, "--points", "2"],
                 ["compare", path]):
        assert cli(*args, "-o", out).exit_code == 0
    for png in out.rglob("*.png"):
        png.unlink()
    for folder in ("toy-pareto-gini", "comparison"):
        r = cli("plot", out / folder)
        assert r.exit_code == 0, r.output
    r = cli("plot", out)
    assert r.exit_code == 0, r.output
    assert {p.parent.name for p in out.rglob("*.png")} == {"toy", "toy-pareto-gini", "comparison"}
    r = cli("plot", tmp_path / "region")
    assert r.exit_code == 2 and "a results folder (summary.json)" in r.output


# --- a second run never replaces the first's result ----------------------------------------

def test_a_result_written_meanwhile_is_not_replaced(tmp_path):
    """The existence check and the rename used to be two steps: a second run that finished
    while the first was writing was replaced without --overwrite."""
    from fairshare.folders import ResultExists, write_folder

    target = tmp_path / "out" / "toy"

    def write(folder: Path) -> None:
        (folder / "summary.json").write_text('{"who": "second"}')
        target.mkdir(parents=True)  # the first run finishes now
        (target / "summary.json").write_text('{"who": "first"}')

    with pytest.raises(ResultExists):
        write_folder(tmp_path / "out", "toy", write)
    assert json.loads((target / "summary.json").read_text()) == {"who": "first"}
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["toy"]  # no leftovers


# --- Ctrl-C and SIGTERM stop HiGHS ------------------------------------------------------------

CHILD = textwrap.dedent("""
    import sys
    import fairshare.solver.highs as highs

    real = highs._run_interruptibly

    def announce(h):
        print("HIGHS RUNNING", flush=True)
        real(h)
    highs._run_interruptibly = announce
    from fairshare.cli import main
    main(sys.argv[1:])
""")


@pytest.fixture(scope="module")
def slow_region(tmp_path_factory):
    """A synthetic region whose least-cost LP takes HiGHS several seconds."""
    sys.path.insert(0, str(BENCH))
    from make_region import make_region

    out = tmp_path_factory.mktemp("slow") / "syn-340"
    make_region(out, cities=340)
    return out


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("sig, code, word", [(signal.SIGINT, 130, "interrupted"),
                                             (signal.SIGTERM, 143, "terminated")])
def test_a_signal_during_the_solve_stops_it_at_once(tmp_path, slow_region, sig, code, word):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, str(script), "run", str(slow_region / "scenario.yaml"),
                             "-o", str(out), "--no-plots"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        t0 = time.monotonic()
        while "HIGHS RUNNING" not in proc.stdout.readline():
            assert proc.poll() is None and time.monotonic() - t0 < 120, "no solve started"
        time.sleep(0.5)  # HiGHS is now inside the simplex
        sent = time.monotonic()
        proc.send_signal(sig)
        rest, _ = proc.communicate(timeout=30)
        stopped_after = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, rest
    assert f"{word}" in rest and "nothing was written" in rest and "Traceback" not in rest
    assert stopped_after < 5  # the uninterrupted solve takes several seconds more
    assert not out.exists() or not any(out.iterdir())  # nothing partial left


def test_a_front_of_an_infeasible_scenario_exits_3(tmp_path):
    r = cli("pareto", SCENARIOS / "jjj-2030-infeasible-10ugm3.yaml", "--points", "3",
            "-o", tmp_path)
    assert r.exit_code == 3, r.output
    assert "no point of the front solved: the scenario itself is infeasible" in r.output
    front = pd.read_csv(tmp_path / "jjj-2030-infeasible-10ugm3-pareto-gini/pareto.csv")
    assert front["status"].tolist() == ["infeasible"] and not front["non_dominated"].any()


def test_the_target_sweep_without_concentration_targets_is_an_input_problem(tmp_path):
    region = two_city_region(tmp_path / "region")
    path = write_scenario(tmp_path / "caps.yaml", region, name="caps",
                          targets=[{"emission_cap": "PM25", "zone": "all", "reduction_pct": 20}])
    r = cli("pareto", path, "--sweep", "target", "--points", "2", "-o", tmp_path / "out")
    assert r.exit_code == 2, r.output
    assert "the target sweep moves the concentration targets" in r.output
