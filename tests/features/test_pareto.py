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


def test_a_front_that_cannot_move_is_one_point_then_unreachable_ones(tmp_path, toy_region,
                                                                    toy_scenario):
    region = toy_region(applicability=[{"city": "b", "measure": "m1", "max_application": 0.0}])
    sc = fs.load_scenario(toy_scenario(tmp_path / "s.yaml", region=region))
    front = pareto(sc, y="gini", points=4, progress=False)
    # b cannot spend anything, so only a plan with all cost in a exists: Gini 0.5 always.
    assert front.status.tolist() == ["optimal", "unreachable", "unreachable", "unreachable"]
    assert front.reachable.tolist() == [True, False, False, False]
    assert front.epsilon.tolist() == pytest.approx([0.5, 1 / 3, 1 / 6, 0.0])  # towards the aim
    assert front.total_cost_cny.iloc[1:].isna().all()
    assert front.non_dominated.tolist() == [True, False, False, False]


# b can apply its measure to a tenth of its base only (0.05 M CNY/yr at most). Equal
# burdens (Gini 0, band 0) would need x_b = x_a / 2, and 5 x_a + x_b >= 3 then needs
# x_b = 3/11 > 0.1: unreachable. The least Gini has x_b = 0.1, x_a = 0.58: burdens 2.9 and
# 1 (1e-6 of GDP), Gini = |2.9 - 1| / (2 (2.9 + 1)) = 19/78, at 0.5 (0.58 + 0.1) = 0.34 M CNY.
B_SMALL = [{"city": "b", "measure": "m1", "max_application": 0.1}]


@pytest.mark.parametrize("y, column", [("gini", "gini_burden"), ("band", "band_burden")])
def test_no_point_lies_beyond_the_reachable_end(tmp_path, toy_region, toy_scenario, y, column):
    from fairshare.fronts import END_REL_TOL

    sc = fs.load_scenario(toy_scenario(tmp_path / "s.yaml", region=toy_region(applicability=B_SMALL)))
    front = pareto(sc, y=y, points=8, progress=False)
    assert (front.status == "optimal").all() and front.reachable.all()  # was 0..4 infeasible
    assert np.all(np.diff(front.epsilon) < 0)
    start = front.epsilon.iloc[0]
    end = front.epsilon.iloc[-1]
    assert (front[column] <= front.epsilon + 1e-9).all()
    assert front.total_cost_cny.iloc[-1] == pytest.approx(0.34e6, rel=1e-3)
    if y == "gini":
        assert end == pytest.approx(19 / 78, abs=END_REL_TOL * start)
        assert end >= 19 / 78 - 1e-9
    # one step further is infeasible: the end is the least reachable bound (within END_REL_TOL)
    from fairshare.api import prepare
    from fairshare.fronts import _cold_point

    beyond = _cold_point((prepare(sc), y, end - 2 * END_REL_TOL * start))
    assert beyond["status"] == "infeasible"


@pytest.fixture
def full_toy(toy_scenario):
    return fs.load_scenario(toy_scenario())


def test_points_go_where_the_front_bends(full_toy):
    """The full toy's Gini front (cost 0.3 + 0.4 (3 - 6G) / (11 + 18G) M CNY) steepens
    towards Gini 0, three times as steep there as at 0.5: after 5 even points the two
    extra ones go to the steep half, where the front bends towards equal burdens."""
    front = pareto(full_toy, y="gini", points=7, progress=False)
    eps = front.epsilon.to_numpy()
    assert eps[0] == pytest.approx(0.5) and eps[-1] == pytest.approx(0.0)
    assert eps.tolist() == pytest.approx([0.5, 0.375, 0.25, 0.1875, 0.125, 0.0625, 0.0])
    cost = front.total_cost_cny.to_numpy() / 1e6
    by_hand = 0.3 + 0.4 * (3 - 6 * eps) / (11 + 18 * eps)
    assert cost == pytest.approx(by_hand, rel=1e-6)
    assert (eps < 0.25).sum() > (eps > 0.25).sum()  # more points on the steep half


def _curve_runner(curve):
    """A fake solver for place_points: the least cost at a bound v is curve(v)."""
    def run(values):
        return [{"sweep": "gini", "epsilon": v, "status": "optimal", "total_cost_cny": curve(v)}
                for v in values]
    return run


def test_place_points_crowd_the_knee_of_a_kinked_front():
    from fairshare.fronts import SWEEPS, place_points

    # flat (cost 1) down to the knee at 0.3, then steep to 0: cost 1 + 30 (0.3 - v)
    rows = place_points(_curve_runner(lambda v: 1.0 + 30.0 * max(0.0, 0.3 - v)),
                        start=1.0, end=0.0, aim=0.0, points=15, sweep=SWEEPS["gini"])
    eps = np.array([r["epsilon"] for r in rows])
    assert len(eps) == 15 and eps[0] == 1.0 and eps[-1] == 0.0 and np.all(np.diff(eps) < 0)
    near = ((eps > 0.15) & (eps < 0.45)).sum()
    assert near >= 7  # an even grid puts 4 there
    gaps = -np.diff(eps)
    knee = np.argmin(np.abs(eps[:-1] + eps[1:] - 0.6))  # the gap around 0.3
    assert gaps[knee] == gaps.min() and gaps.max() >= 4 * gaps.min()
    assert (eps <= 0.3).sum() >= 6  # the steep part: an even grid puts 5 there
    assert (eps > 0.5).sum() <= 4  # the flat stretch, half the range, few
    same = place_points(_curve_runner(lambda v: 1.0 + 30.0 * max(0.0, 0.3 - v)),
                        start=1.0, end=0.0, aim=0.0, points=15, sweep=SWEEPS["gini"])
    assert [r["epsilon"] for r in same] == eps.tolist()  # deterministic
    line = place_points(_curve_runner(lambda v: 2.0 - v), start=1.0, end=0.0, aim=0.0, points=9,
                        sweep=SWEEPS["gini"])
    assert [r["epsilon"] for r in line] == pytest.approx(np.linspace(1, 0, 9))  # a straight front


def test_cli_pareto_writes_csv_and_plots(toy, tmp_path, cli):
    r = cli("pareto", toy.source_file, "--y", "gini", "--points", "4", "-o", tmp_path / "out",
            "--svg")
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
