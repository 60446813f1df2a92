"""Pareto fronts and the cost-of-ambition curve: every point respects its bound, the
warm-started sweep equals cold solves, an infeasible point is a point."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fairshare as fs
from fairshare.fronts import pareto


@pytest.fixture
def toy(toy_scenario):
    return fs.load_scenario(toy_scenario())  # target C_a <= 17


@pytest.mark.parametrize("y, column", [("gini", "gini_burden"), ("max_burden", "max_burden"),
                                       ("band", "band_burden")])
def test_every_point_respects_its_bound(toy, y, column):
    front = pareto(toy, y=y, points=6, progress=False)
    assert len(front) == 6
    ok = front[front.status == "optimal"]
    assert len(ok) >= 2
    assert (ok[column] <= ok["epsilon"] + 1e-6).all()
    # Tighter bounds never cost less (epsilon falls point by point).
    assert np.all(np.diff(ok["total_cost_cny"].to_numpy()) >= -1e-3)
    assert front.loc[0, "total_cost_cny"] == pytest.approx(300_000)  # the least-cost plan


def test_gini_front_end_points_by_hand(toy):
    # Start: least cost, Gini 0.5. End: Gini 0, equal burdens: 4.5/11 M CNY (test_fairness).
    front = pareto(toy, y="gini", points=3, progress=False)
    assert front.epsilon.tolist() == pytest.approx([0.5, 0.25, 0.0])
    assert front.total_cost_cny.tolist() == pytest.approx([3e5, 10.5e6 / 31, 4.5e6 / 11], rel=1e-6)
    assert front.non_dominated.all()


def test_warm_sweep_equals_cold_solves(toy):
    warm = pareto(toy, y="max_burden", points=5, progress=False)
    from fairshare.api import prepare
    from fairshare.fronts import _cold_point

    base = prepare(toy)
    cold = [_cold_point((base, "max_burden", e)) for e in warm.epsilon]
    assert [c["status"] for c in cold] == warm.status.tolist()
    assert np.allclose([c["total_cost_cny"] for c in cold], warm.total_cost_cny, rtol=1e-7)


def test_target_sweep_runs_from_baseline_to_mtfr(toy):
    # gamma = 0 is the baseline (no cost); gamma = 1 puts a at its MTFR 14 µg/m³, which needs
    # every measure fully applied in both cities: 1.0 M CNY.
    front = pareto(toy, sweep="target", points=4, progress=False)
    assert front.gamma.tolist() == pytest.approx([0, 1 / 3, 2 / 3, 1])
    assert front.loc[0, "total_cost_cny"] == pytest.approx(0)
    assert front.loc[3, "total_cost_cny"] == pytest.approx(1e6)


def test_an_infeasible_epsilon_is_reported_not_raised(tmp_path, toy_region, toy_scenario):
    region = toy_region(applicability=[{"city": "b", "measure": "m1", "max_application": 0.0}])
    sc = fs.load_scenario(toy_scenario(tmp_path / "s.yaml", region=region))
    front = pareto(sc, y="gini", points=4, progress=False)
    # b cannot spend anything, so only a plan with all cost in a exists: Gini 0.5 always.
    assert front.status.iloc[0] == "optimal"
    assert (front.status.iloc[1:] == "infeasible").all()
    assert front.non_dominated.tolist() == [True, False, False, False]


def test_cli_pareto_writes_csv_and_plots(toy, tmp_path, cli):
    r = cli("pareto", toy.source_file, "--y", "gini", "--points", "4", "-o", tmp_path / "out")
    assert r.exit_code == 0, r.output
    folder = tmp_path / "out" / "toy-pareto-gini"
    front = pd.read_csv(folder / "pareto.csv")
    assert len(front) == 4 and {"status", "total_cost_cny", "gini_burden",
                                 "non_dominated"} <= set(front.columns)
    assert (folder / "pareto.png").exists() and (folder / "pareto.svg").exists()


def test_cli_compare(tmp_path, toy_region, toy_scenario, cli):
    region = toy_region()
    a = toy_scenario(tmp_path / "a.yaml", region=region, name="least")
    b = toy_scenario(tmp_path / "b.yaml", region=region, name="equal",
                     fairness=[{"rule": "burden_band", "width": 0.0}])
    r = cli("compare", a, b, "-o", tmp_path / "out")
    assert r.exit_code == 0, r.output
    table = pd.read_csv(tmp_path / "out" / "comparison" / "compare.csv").set_index("scenario")
    assert table.loc["least", "total_cost_bn_cny"] == pytest.approx(3e-4)
    assert table.loc["equal", "price_of_fairness_pct"] == pytest.approx(100 * ((4.5 / 11) / 0.3 - 1))
    assert table.loc["equal", "gini_burden"] == pytest.approx(0, abs=1e-6)
    assert (tmp_path / "out" / "comparison" / "compare.png").exists()


def test_api_functions_are_not_shadowed_by_modules():
    """DESIGN §7: fs.solve, fs.mtfr, fs.pareto stay functions after every module is imported."""
    import fairshare.comparison  # noqa: F401
    import fairshare.feasibility  # noqa: F401
    import fairshare.fronts  # noqa: F401
    import fairshare.solver  # noqa: F401

    for name in ("load_scenario", "build_model", "solve", "mtfr", "pareto", "compare"):
        assert callable(getattr(fs, name)), name


OBJECTIVES = ["min_cost", "min_max_burden",
              {"min_cost": {"fairness_weight": 1e9, "fairness_metric": "gini"}},
              {"min_cost": {"fairness_weight": 1e9, "fairness_metric": "band"}},
              {"min_cost": {"fairness_weight": 1e9, "fairness_metric": "max_burden"}}]
SWEEPS = [("gini", None, "gini_burden"), ("max_burden", None, "max_burden"),
          ("band", None, "band_burden"), ("gini", "target", "gamma")]


@pytest.mark.parametrize("objective", OBJECTIVES, ids=["min_cost", "min_max_burden", "w_gini",
                                                       "w_band", "w_max_burden"])
@pytest.mark.parametrize("y, sweep, column", SWEEPS, ids=["gini", "max_burden", "band", "target"])
def test_every_objective_under_every_sweep_minimises_cost(toy_scenario, objective, y, sweep,
                                                          column):
    """Whatever the scenario minimises, a front's points are least-cost plans under the
    front's bound: the first (loose) point is the least-cost plan (0.3 M CNY; for the target
    sweep gamma 0 costs nothing), and every optimal point is the cost-minimal plan at its
    bound, as a plain least-cost scenario with the same bound gives it."""
    plain = pareto(fs.load_scenario(toy_scenario()), y=y, sweep=sweep, points=4, progress=False)
    front = pareto(fs.load_scenario(toy_scenario(objective=objective)), y=y, sweep=sweep,
                   points=4, progress=False)
    assert front.loc[0, "total_cost_cny"] == pytest.approx(0 if sweep else 3e5, abs=1e-3)
    assert front["status"].tolist() == plain["status"].tolist()
    assert np.allclose(front["total_cost_cny"], plain["total_cost_cny"], rtol=1e-7,
                       equal_nan=True)
    assert np.allclose(front[column], plain[column], rtol=1e-6, atol=1e-12, equal_nan=True)
