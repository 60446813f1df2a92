"""Plots of result tables: what each function draws, and the plots of a results folder."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from fairshare import plots  # noqa: E402
from fairshare.api import solve  # noqa: E402
from fairshare.results import write_results  # noqa: E402
from fairshare.scenario import load_scenario  # noqa: E402

from toy import city, two_city_region, write_scenario  # noqa: E402

TARGET_A = [{"metric": "PM25", "receptors": ["a"], "max_ugm3": 17}]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _solve_to_folder(tmp, name, **keys):
    region = two_city_region(tmp / "region", cities=[city("a", lat=39.9, lon=116.4),
                                                     city("b", gdp_bn_cny=50.0, lat=39.1, lon=117.2)])
    sc = write_scenario(tmp / f"{name}.yaml", region, name=name, **keys)
    return write_results(solve(load_scenario(sc)), tmp / "results"), region


@pytest.fixture(scope="module")
def toy_result(tmp_path_factory):
    """Toy optimum: A and B each apply m1 at 0.6 -> 300 000 CNY/yr each (DESIGN test case)."""
    tmp = tmp_path_factory.mktemp("plots")
    return _solve_to_folder(tmp, "toy", targets=TARGET_A,
                            fairness=[{"rule": "burden_cap", "max_share_of_gdp": 0.01}])


@pytest.fixture
def cities():
    return pd.DataFrame({"city": ["a", "b", "c"], "cost_cny": [2e9, 5e8, 0.0],
                         "burden": [0.004, 0.001, 0.0]})


@pytest.fixture
def receptors():
    return pd.DataFrame({
        "metric": ["PM25", "PM25", "PM25", "O3"],
        "receptor": ["a", "b", "c", "a"],
        "baseline_ugm3": [50.0, 40.0, 30.0, 160.0],
        "final_ugm3": [35.0, 35.0, 30.0, 150.0],
        "target_ugm3": [35.0, 35.0, np.nan, np.nan],
        "mtfr_ugm3": [25.0, 22.0, 20.0, np.nan],
    })


def bars(ax):
    return [p for c in ax.containers for p in c.patches]


def test_cost_by_city_sorted_bars_in_bn_cny(cities):
    ax = plots.cost_by_city(cities)
    assert len(bars(ax)) == 3
    widths = [p.get_width() for p in ax.containers[0].patches]
    assert widths == pytest.approx([0.0, 0.5, 2.0])  # ascending from the bottom: largest on top
    assert [t.get_text() for t in ax.get_yticklabels()] == ["c", "b", "a"]
    assert "bn CNY/yr" in ax.get_xlabel()
    assert ax.get_ylabel() and ax.get_title()


def test_burden_by_city_in_percent_with_cap_and_band(cities):
    ax = plots.burden_by_city(cities, cap=0.003, band=(0.002, 0.0005))
    assert [p.get_width() for p in ax.containers[0].patches] == pytest.approx([0.0, 0.1, 0.4])
    assert "% of GDP" in ax.get_xlabel()
    xs = sorted(line.get_xdata()[0] for line in ax.lines)  # regional ratio and cap, in %
    assert xs == pytest.approx([0.2, 0.3])
    span = [p for p in ax.patches if p not in ax.containers[0].patches]
    assert len(span) == 1
    x0, x1 = span[0].get_window_extent().x0, span[0].get_window_extent().x1
    data = ax.transData.inverted().transform([[x0, 0], [x1, 0]])[:, 0]
    assert data == pytest.approx([0.15, 0.25], abs=1e-6)
    assert len(ax.get_legend().get_texts()) == 3


def test_burden_by_city_plain_and_per_city_caps(cities):
    ax = plots.burden_by_city(cities)
    assert not ax.lines and ax.get_legend() is None
    ax = plots.burden_by_city(cities, cap={"a": 0.005})
    (caps,) = ax.collections
    assert len(caps.get_segments()) == 1 and caps.get_segments()[0][0][0] == pytest.approx(0.5)


def test_concentrations_bars_target_and_mtfr(receptors):
    ax = plots.concentrations(receptors, metric="PM25")
    base, final = ax.containers
    assert sorted(p.get_width() for p in base.patches) == [30.0, 40.0, 50.0]
    assert sorted(p.get_width() for p in final.patches) == [30.0, 35.0, 35.0]
    (targets,) = ax.collections
    assert len(targets.get_segments()) == 2  # receptor c has no target
    (mtfr,) = ax.lines
    assert sorted(mtfr.get_xdata()) == [20.0, 22.0, 25.0]
    assert "µg/m³" in ax.get_xlabel() and "PM2.5" in ax.get_title()
    ax = plots.concentrations(receptors, metric="O3")
    assert len(bars(ax)) == 2 and not ax.collections and not ax.lines
    with pytest.raises(ValueError, match="NO2"):
        plots.concentrations(receptors, metric="NO2")


def test_city_map_sizes_shades_labels(cities):
    geo = pd.DataFrame({"city": ["a", "b", "c"], "name": ["Alpha", "Beta", "Gamma"],
                        "lat": [39.9, 39.1, 38.0], "lon": [116.4, 117.2, 114.5]})
    ax = plots.city_map(cities, geo)
    (pts,) = ax.collections
    assert len(pts.get_offsets()) == 3
    sizes = pts.get_sizes()
    assert sizes[0] > sizes[1] > sizes[2] > 0  # area grows with cost; zero cost still shows
    assert list(pts.get_array()) == pytest.approx([0.4, 0.1, 0.0])  # shade = burden in %
    assert sorted(t.get_text() for t in ax.texts) == ["Alpha", "Beta", "Gamma"]
    cbar_ax = [a for a in ax.figure.axes if a is not ax]
    assert len(cbar_ax) == 1 and cbar_ax[0].get_ylabel() == "% of GDP"
    assert "°E" in ax.get_xlabel() and "°N" in ax.get_ylabel()


# Hand-worked: both minimised; p6 is infeasible (would dominate all), p8 has no x value.
POINTS = pd.DataFrame({
    "total_cost_cny": [1e9, 2e9, 2e9, 2e9, 3e9, 4e9, 0.5e9, 5e9, np.nan],
    "gini_burden": [5.0, 3.0, 3.0, 4.0, 3.0, 1.0, 0.5, 1.0, 2.0],
    "status": ["optimal"] * 6 + ["infeasible"] + ["optimal"] * 2,
}, index=[f"p{i}" for i in range(9)])
FRONT = [True, True, True, False, False, True, False, False, False]
# p1, p2 tie (both stay); p3 same x as p1 but worse y; p4 same y as p1 but worse x; p7 vs p5 likewise


def test_non_dominated_hand_worked():
    nd = plots.non_dominated(POINTS, "total_cost_cny", "gini_burden")
    assert list(nd.index) == list(POINTS.index)
    assert nd.tolist() == FRONT
    # Without a status column every point takes part: p6 then dominates all others.
    nd_all = plots.non_dominated(POINTS.drop(columns="status"), "total_cost_cny", "gini_burden")
    assert nd_all.tolist() == [False] * 6 + [True, False, False]


def test_pareto_front_draws_front_dominated_and_counts_the_rest():
    ax = plots.pareto_front(POINTS)
    front, dominated = ax.lines
    assert list(front.get_xdata()) == pytest.approx([1.0, 2.0, 2.0, 4.0])  # bn CNY/yr, by x
    assert list(front.get_ydata()) == pytest.approx([5.0, 3.0, 3.0, 1.0])
    assert front.get_linestyle() == "-"
    assert len(dominated.get_xdata()) == 3 and dominated.get_linestyle() == "None"
    assert dominated.get_markerfacecolor() == "none"  # hollow
    assert "bn CNY/yr" in ax.get_xlabel() and "Gini" in ax.get_ylabel()
    assert "2 of 9" in ax.get_title()
    assert any("2" in t.get_text() and "not drawn" in t.get_text()
               for t in ax.get_legend().get_texts())


def test_compare_bars_grouped_and_hatched():
    table = pd.DataFrame({"scenario": ["least-cost", "burden-cap", "beijing-30"],
                          "total_cost_cny": [32.7e9, 53.7e9, 32.8e9],
                          "max_burden": [0.013, 0.008, 0.013]})
    ax = plots.compare_bars(table, ["max_burden"])
    assert len(ax.containers) == 1 and len(bars(ax)) == 3
    assert [p.get_height() for p in bars(ax)] == pytest.approx([1.3, 0.8, 1.3])
    assert "% of GDP" in ax.get_ylabel()
    ax = plots.compare_bars(table, ["total_cost_cny", "max_burden"])  # units differ: relative
    assert len(ax.containers) == 2 and len(bars(ax)) == 6
    assert {p.get_hatch() for p in ax.containers[0]} != {p.get_hatch() for p in ax.containers[1]}
    assert [p.get_height() for p in ax.containers[0]] == pytest.approx([60.89, 100, 61.08], abs=0.01)
    assert "%" in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["least-cost", "burden-cap", "beijing-30"]


def test_functions_draw_on_a_given_axes(cities):
    fig, ax = plt.subplots()
    assert plots.cost_by_city(cities, ax=ax) is ax


def test_write_result_plots_on_a_solved_folder(toy_result):
    folder, region = toy_result
    written = plots.write_result_plots(folder, geo=pd.read_csv(region / "cities.csv"))
    stems = ["cost_by_city", "burden_by_city", "city_map", "concentrations_PM25"]
    assert sorted(p.name for p in written) == sorted(f"{s}.{e}" for s in stems for e in ("png", "svg"))
    for p in written:
        assert p.parent == folder and p.stat().st_size > 1000
        assert p.read_bytes()[:4] == b"\x89PNG" if p.suffix == ".png" else b"<svg" in p.read_bytes()
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]
    cities = pd.read_csv(folder / "cities.csv")
    cap, band = plots._fairness_lines({"scenario_resolved": {"fairness": [
        {"rule": "burden_cap", "max_share_of_gdp": 0.01, "cities": "all"},
        {"rule": "burden_cap", "max_share_of_gdp": 0.004, "cities": ["b"]},
        {"rule": "burden_band", "width": 0.001}]}, "fairness": {"regional_burden": 0.002}}, cities)
    assert cap == {"a": 0.01, "b": 0.004} and band == (0.002, 0.001)


def test_write_result_plots_on_an_infeasible_folder(tmp_path):
    folder, region = _solve_to_folder(tmp_path, "toy-infeasible",
                                      targets=[{"metric": "PM25", "receptors": "all", "max_ugm3": 5}])
    assert not (folder / "cities.csv").exists()
    before = sorted(p.name for p in folder.iterdir())
    assert plots.write_result_plots(folder, geo=region) == []
    assert sorted(p.name for p in folder.iterdir()) == before
    with pytest.raises(FileNotFoundError):
        plots.write_result_plots(tmp_path / "nowhere")
