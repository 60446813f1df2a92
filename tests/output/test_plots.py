"""Plots of result tables: what each function draws, and the plots of a results folder."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import json  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402

from fairshare import plots  # noqa: E402

from toy import TARGET_A, city, two_city_region, write_scenario  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    """Each test: SVG beside PNG (so that both writers are checked), figures closed after."""
    previous = plots.current_style()
    with plots.svg_as_well(True):
        yield
    plt.close("all")
    plots.use_style(previous)


def test_plots_are_png_only_unless_svg_is_asked(tmp_path):
    fairness_front("gini").to_csv(tmp_path / "pareto.csv", index=False)
    with plots.svg_as_well(False):
        assert [p.name for p in plots.redraw(tmp_path)] == ["pareto.png"]
    assert sorted(p.name for p in plots.redraw(tmp_path, svg=True)) == ["pareto.png", "pareto.svg"]


def _solve_to_folder(tmp, name, **keys):
    # imported here: the tests that draw given tables need no solver
    from fairshare.api import solve
    from fairshare.results import write_results
    from fairshare.scenario import load_scenario

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
    assert sorted(t.get_text() for t in labels(ax)) == ["Alpha", "Beta", "Gamma"]
    cbar_ax = [a for a in ax.figure.axes if a is not ax]
    assert len(cbar_ax) == 1 and "% of GDP" in cbar_ax[0].get_ylabel()
    assert "°E" in ax.get_xlabel() and "°N" in ax.get_ylabel() and ax.get_title()


def labels(ax):
    """The point labels of a map or front (annotations), not its notes."""
    return [t for t in ax.texts if isinstance(t, Annotation) and t.get_gid() != "no-value"]


GEO = pd.DataFrame({"city": ["a", "b", "c"], "name": ["Alpha", "Beta", "Gamma"],
                    "lat": [39.9, 39.1, 38.0], "lon": [116.4, 117.2, 114.5]})


def square(x0, y0, x1, y1):
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def outlines(n=6):
    """A FeatureCollection of ``n`` provinces tiling 110..122°E x 36..42°N (2° wide strips;
    the first a municipality, the third with a hole) and one neighbour for context."""
    features = []
    for i in range(n):
        x0 = 110.0 + 2 * i
        rings = [square(x0, 36.0, x0 + 2, 42.0)] + ([square(x0 + 0.5, 40, x0 + 1, 41)] if i == 2 else [])
        features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": rings},
                         "properties": {"name": f"P{i}", "name_zh": f"省{i}",
                                        "type": "Municipality" if i == 0 else "Province"}})
    features.append({"type": "Feature", "properties": {"name": "N", "role": "context"},
                     "geometry": {"type": "MultiPolygon",
                                  "coordinates": [[square(110.0, 30.0, 122.0, 36.0)]]}})
    return {"type": "FeatureCollection", "attribution": "outlines: test", "features": features}


def provinces(ax):
    return [p for p in ax.patches if str(p.get_gid()).startswith("province:")]


def test_city_map_draws_province_outlines_under_the_cities(cities):
    ax = plots.city_map(cities, GEO, outlines=outlines())
    drawn = provinces(ax)
    assert len(drawn) == 6 and [p.get_gid() for p in drawn] == [f"province:P{i}" for i in range(6)]
    assert all(len(p.get_path().vertices) >= 5 for p in drawn)
    assert list(drawn[2].get_path().codes).count(1) == 2  # the hole is part of its province
    (context,) = [p for p in ax.patches if p.get_gid() == "context:N"]
    assert context.get_zorder() < drawn[0].get_zorder()
    (pts,) = [c for c in ax.collections if len(c.get_offsets()) == 3]
    assert pts.get_zorder() > max(p.get_zorder() for p in drawn)  # the cities on top
    x0, x1 = ax.get_xlim()
    assert 113 < x0 < 114.5 and 117.2 < x1 < 119  # the view is the cities', not the provinces'
    names = [t.get_text() for t in ax.texts if t.get_gid() == "province-name"]
    assert "P0" not in names and {"P2", "P3"} <= set(names)  # municipalities are not named
    assert sorted(t.get_text() for t in labels(ax)) == ["Alpha", "Beta", "Gamma"]
    assert [t.get_text() for t in ax.texts if t.get_gid() == "map-note"] == ["outlines: test"]


def test_city_map_without_outlines_is_a_scatter_with_a_note(cities, tmp_path):
    ax = plots.city_map(cities, GEO)
    assert not provinces(ax)
    (note,) = [t for t in ax.texts if t.get_gid() == "map-note"]
    assert "no province outlines" in note.get_text() and plots.MAP_FILE in note.get_text()
    bad = tmp_path / "provinces.geojson"
    bad.write_text('{"type": "Feature"}')
    ax = plots.city_map(cities, GEO, outlines=bad)
    (note,) = [t for t in ax.texts if t.get_gid() == "map-note"]
    assert not provinces(ax) and "not drawn" in note.get_text() and "FeatureCollection" in note.get_text()
    path = tmp_path / "ok.geojson"
    path.write_text(json.dumps(outlines()))
    assert len(provinces(plots.city_map(cities, GEO, outlines=path))) == 6


def test_the_region_map_file_is_found_and_drawn(tmp_path, saved):
    folder, region = _solve_to_folder(tmp_path, "toy-map", targets=TARGET_A)
    (region / "map").mkdir()
    (region / "map" / "provinces.geojson").write_text(json.dumps(outlines(2)))
    plots.write_result_plots(folder, geo=region)
    ((_, fig),) = [(stem, fig) for stem, fig in saved if stem == "city_map"]
    assert len(provinces(fig.axes[0])) == 2
    saved.clear()
    plots.redraw(folder)  # the region named in summary.json
    ((_, fig),) = [(stem, fig) for stem, fig in saved if stem == "city_map"]
    assert len(provinces(fig.axes[0])) == 2
    outside = tmp_path / "elsewhere.geojson"  # a link out of the region folder is not read
    outside.write_text(json.dumps(outlines(3)))
    (region / "map" / "provinces.geojson").unlink()
    (region / "map" / "provinces.geojson").symlink_to(outside)
    saved.clear()
    plots.write_result_plots(folder, geo=region)
    ((_, fig),) = [(stem, fig) for stem, fig in saved if stem == "city_map"]
    assert not provinces(fig.axes[0])


def test_the_shipped_region_map_puts_every_city_in_its_province():
    """models/jjj-2plus26/map/provinces.geojson: the six provinces of the 2+26 channel,
    small, and each city of the region's cities.csv inside the outline of its province."""
    from matplotlib.path import Path as MPath

    region = Path(__file__).resolve().parents[2] / "models" / "jjj-2plus26"
    path = region / plots.MAP_FILE
    assert path.stat().st_size < 100_000
    shapes = plots.read_outlines(path)
    own = [f for f in shapes["features"] if f["properties"].get("role") == "region"]
    assert sorted(f["properties"]["name"] for f in own) == [
        "Beijing", "Hebei", "Henan", "Shandong", "Shanxi", "Tianjin"]
    cities = pd.read_csv(region / "cities.csv")
    for _, c in cities.iterrows():
        (feature,) = [f for f in own if str(c["province"]).strip() in
                      (f["properties"]["name"], f["properties"]["name_zh"])]
        inside = any(MPath(np.asarray(poly[0])).contains_point((c["lon"], c["lat"]))
                     for poly in feature["geometry"]["coordinates"])
        assert inside, f"{c['city']} at {c['lon']}, {c['lat']} is outside {c['province']}"


def pixels(ax):
    ax.figure.canvas.draw()
    return np.asarray(ax.figure.canvas.buffer_rgba())[..., :3].astype(int)


def test_colour_by_default_grey_on_request(cities):
    assert plots.current_style() == "colour"
    colour = pixels(plots.city_map(cities, GEO, outlines=outlines()))
    assert plots.use_style("grey") == "colour" and plots.current_style() == "grey"
    grey = pixels(plots.city_map(cities, GEO, outlines=outlines()))
    assert colour.shape == grey.shape and (colour != grey).any()
    chroma = lambda px: (px.max(axis=-1) - px.min(axis=-1)).max()  # noqa: E731
    assert chroma(colour) > 100  # viridis
    assert chroma(grey) <= 2  # greys only (anti-aliasing aside)
    with pytest.raises(ValueError, match="colour, grey"):
        plots.use_style("sepia")
    assert plots.current_style() == "grey"


@pytest.mark.parametrize("style", ["colour", "grey"])
def test_a_city_that_pays_nothing_still_shows(cities, style):
    plots.use_style(style)
    ax = plots.city_map(cities, GEO, outlines=outlines())
    ax.figure.canvas.draw()
    (pts,) = [c for c in ax.collections if len(c.get_offsets()) == 3]
    face = pts.get_facecolors()[2][:3]  # city c: no cost, burden 0
    land = np.array(matplotlib.colors.to_rgb(provinces(ax)[0].get_facecolor()))
    assert pts.get_sizes()[2] > 0
    assert max(1.0 - face) > 0.1  # not white, nor nearly
    assert np.abs(face - land).max() > 0.05  # and not the colour of the land under it
    assert all(tuple(e[:3]) == (0.0, 0.0, 0.0) for e in pts.get_edgecolors())  # outlined
    bars_ = plots.burden_by_city(cities).containers[0].patches
    assert all(max(1.0 - np.array(b.get_facecolor()[:3])) > 0.1 for b in bars_)


CHINESE = pd.DataFrame({"city": ["a", "b", "c"], "name": ["北京", "天津", "石家庄"],
                        "lat": [39.9, 39.1, 38.0], "lon": [116.4, 117.2, 114.5]})


def test_names_no_font_can_draw_fall_back_to_ids_with_one_warning(cities, monkeypatch, tmp_path):
    monkeypatch.setattr(plots, "_cjk_fonts", lambda: ())
    monkeypatch.setattr(plots, "_warned_fonts", [False])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ax = plots.city_map(cities, CHINESE, outlines=outlines())
        assert sorted(t.get_text() for t in labels(ax)) == ["a", "b", "c"]
        names = [t.get_text() for t in ax.texts if t.get_gid() == "province-name"]
        assert names and all(n.startswith("P") for n in names)  # not the Chinese names either
        plots._save(ax.figure, tmp_path, "map")
        table = comparison().assign(scenario=["最低成本", "b", "c", "d"])
        plots.write_comparison_plots(table, tmp_path)
        plots.city_map(cities, CHINESE)
    assert [w.category for w in caught] == [plots.FontWarning]  # one, and no per-glyph ones
    assert "'北京'" in str(caught[0].message) and "font" in str(caught[0].message)


def test_names_are_drawn_in_their_script_when_a_font_has_them(cities):
    fonts = plots._cjk_fonts()
    if not fonts:
        pytest.skip("no font with Chinese characters is installed")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = plots.city_map(cities, CHINESE, outlines=outlines())
        assert sorted(t.get_text() for t in labels(ax)) == sorted(CHINESE["name"])
        assert fonts[0][0] in labels(ax)[0].get_fontfamily()
        assert {"省2", "省3"} <= {t.get_text() for t in ax.texts if t.get_gid() == "province-name"}
        ax.figure.canvas.draw()


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
    front, dominated = ax.lines[:2]
    assert list(front.get_xdata()) == pytest.approx([1.0, 2.0, 2.0, 4.0])  # bn CNY/yr, by x
    assert list(front.get_ydata()) == pytest.approx([5.0, 3.0, 3.0, 1.0])
    assert front.get_linestyle() == "-"
    assert len(dominated.get_xdata()) == 3 and dominated.get_linestyle() == "None"
    assert dominated.get_markerfacecolor() == "none"  # hollow
    assert "bn CNY/yr" in ax.get_xlabel() and "Gini" in ax.get_ylabel()
    assert "2 of 9" in ax.get_title()
    assert any("2" in t.get_text() and "not drawn" in t.get_text()
               for t in ax.get_legend().get_texts())


def test_pareto_front_marks_least_cost_fairest_and_options():
    (least,) = [ln for ln in plots.pareto_front(POINTS).lines if ln.get_gid() == "least cost"]
    ax = least.axes
    assert list(least.get_xdata()) == [1.0] and list(least.get_ydata()) == [5.0]  # p0, not p6
    assert least.get_marker() == "*"
    (fairest,) = [ln for ln in ax.lines if ln.get_gid() == "fairest reachable"]
    assert list(fairest.get_xdata()) == [4.0] and list(fairest.get_ydata()) == [1.0]
    values = [t.get_text() for t in labels(ax)]
    assert "1 bn CNY/yr, 5" in values and "4 bn CNY/yr, 1" in values
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "least cost" in legend and "fairest reachable" in legend
    # shipped options: a table of name, cost and metric, or compare.csv as it is
    options = pd.DataFrame({"name": ["equal burden", "broken"], "total_cost_cny": [3e9, np.nan],
                            "gini_burden": [2.5, 1.0]})
    ax = plots.pareto_front(POINTS, options=options)
    (opt,) = [ln for ln in ax.lines if ln.get_gid() == "options"]
    assert list(opt.get_xdata()) == [3.0] and list(opt.get_ydata()) == [2.5]
    assert "equal burden" in [t.get_text() for t in labels(ax)]
    compare = comparison().assign(scenario=["jjj-least-cost", "jjj-cap", "jjj-beijing-30", "x"])
    ax = plots.pareto_front(fairness_front("max_burden"), y="max_burden", options=compare)
    (opt,) = [ln for ln in ax.lines if ln.get_gid() == "options"]
    assert list(opt.get_xdata()) == pytest.approx([32.7, 32.8])  # bn CNY/yr
    assert list(opt.get_ydata()) == pytest.approx([1.3, 1.3])  # % of GDP
    assert {"jjj-least-cost", "jjj-beijing-30"} <= {t.get_text() for t in labels(ax)}


def test_pareto_front_counts_unreachable_points_apart():
    front = fairness_front("gini")
    front.loc[3, "status"] = "unreachable"
    ax = plots.pareto_front(front)
    assert "1 of 4 points beyond the reachable end" in ax.get_title()
    assert "not optimal" not in ax.get_title()


def test_compare_bars_one_panel_per_metric_in_its_unit():
    table = pd.DataFrame({"scenario": ["jjj-least-cost", "jjj-burden-cap", "jjj-beijing-30"],
                          "status": ["optimal", "infeasible", "optimal"],
                          "total_cost_cny": [32.7e9, 53.7e9, 32.8e9],
                          "max_burden": [0.013, 0.008, 0.013],
                          "price_of_fairness_pct": [np.nan, 60.0, 0.3]})
    first = plots.compare_bars(table, ["total_cost_cny", "max_burden", "price_of_fairness_pct"])
    panels = first.figure.axes
    assert len(panels) == 3 and panels[0] is first
    assert [a.get_xlabel() for a in panels] == ["bn CNY/yr", "% of GDP", "% over least cost"]
    assert [a.get_title() for a in panels] == ["total cost", "max burden", "price of fairness"]
    widths = [[p.get_width() for p in a.containers[0]] for a in panels]
    assert widths[0][::2] == pytest.approx([32.7, 32.8]) and np.isnan(widths[0][1])  # absolute
    assert widths[1][::2] == pytest.approx([1.3, 1.3])
    # options by scenario name, less the prefix they share (in the title), first at the top
    assert [t.get_text() for t in first.get_yticklabels()] == ["least-cost", "burden-cap", "beijing-30"]
    assert first.get_ylim()[0] > first.get_ylim()[1] and "jjj-" in first.figure.get_suptitle()
    for a in panels:  # the infeasible option keeps its row in every panel, marked
        assert [(t.get_text(), t.get_position()[1]) for t in a.texts if t.get_gid() == "status"] \
            == [("infeasible", 1)]
    assert [t.get_text() for t in panels[2].texts if t.get_gid() == "no-value"] == ["–"]
    ax = plots.compare_bars(table, ["total_cost_cny", "max_burden"], relative=True)  # the old chart
    assert len(ax.containers) == 2 and "% of the largest" in ax.get_ylabel()
    assert [p.get_height() for p in ax.containers[0]][::2] == pytest.approx([99.7, 100], abs=0.1)


def test_option_names_are_scenario_names_not_files():
    names, prefix = plots._option_names(pd.DataFrame(
        {"scenario": ["a-least", "scenarios/b.yaml", "a-cap"]}))
    assert names == ["a-least", "b", "a-cap"] and prefix == ""
    names, prefix = plots._option_names(pd.DataFrame({"scenario": ["jjj-2030-x", "jjj-2030-y"]}))
    assert names == ["x", "y"] and prefix == "jjj-2030-"


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


# --- tables read back from CSV (pandas 3: Copy-on-Write, read-only arrays, str columns) -------

def round_trip(table, path):
    """The table as `fairshare plot` sees it: written as fairshare writes it, then read back."""
    table.to_csv(path, index=False, float_format="%.10g")
    return pd.read_csv(path)


def target_front():
    """A pareto.csv of `fairshare pareto --sweep target` (rows out of gamma order; the last
    point infeasible)."""
    gamma = [0.0, 0.5, 0.25, 0.75, 1.0]
    return pd.DataFrame({
        "point": range(5), "sweep": "target", "epsilon": gamma,
        "status": ["optimal"] * 4 + ["infeasible"],
        "total_cost_cny": [0.0, 2.5e9, 1e9, 6e9, np.nan],
        "solve_seconds": 0.01, "iterations": [0, 5, 3, 8, 2],
        "max_burden": [0.0, 0.002, 0.001, 0.005, np.nan],
        "gini_burden": [0.0, 0.2, 0.1, 0.3, np.nan],
        "pop_weighted_ugm3": [50.0, 40.0, 45.0, 35.0, np.nan],
        "gamma": gamma, "non_dominated": [True] * 4 + [False],
    })


def fairness_front(kind):
    """A pareto.csv of `fairshare pareto --y KIND`: cost rises as the metric is bounded."""
    front = pd.DataFrame({
        "point": range(4), "sweep": kind, "epsilon": [0.4, 0.3, 0.2, 0.0],
        "status": ["optimal"] * 3 + ["infeasible"],
        "total_cost_cny": [1e9, 1.5e9, 3e9, np.nan], "solve_seconds": 0.01, "iterations": 4,
    })
    for col in ("max_burden", "min_burden", "mean_burden", "regional_burden", "band_burden",
                "gini_burden", "gini_cost_per_capita"):
        front[col] = [0.004, 0.003, 0.002, np.nan]
    front["non_dominated"] = [True] * 3 + [False]
    return front


def comparison():
    """A compare.csv: one option infeasible, one a failed task (no metrics, an error)."""
    return pd.DataFrame({
        "scenario": ["least-cost", "cap-0.5", "beijing-30", "broken"],
        "description": ["", "cap", "", ""],
        "status": ["optimal", "infeasible", "optimal", "task_error"],
        "total_cost_bn_cny": [32.7, np.nan, 32.8, np.nan],
        "max_burden_pct": [1.3, np.nan, 1.3, np.nan],
        "gini_burden": [0.3, np.nan, 0.31, np.nan],
        "price_of_fairness_pct": [0.0, np.nan, 0.3, np.nan],
        "targets_attained": ["3/3", np.nan, "3/3", np.nan],
        "error": [np.nan, np.nan, np.nan, "RuntimeError: boom"],
    })


@pytest.fixture
def saved(monkeypatch):
    """(stem, figure) of every figure handed to plots._save, which still writes it."""
    figures = []
    real = plots._save

    def spy(fig, folder, stem):
        figures.append((stem, fig))
        return real(fig, folder, stem)

    monkeypatch.setattr(plots, "_save", spy)
    return figures


def assert_plots(paths, folder, stems):
    """PNG and SVG of each stem, non-empty and of the right kind, and no partial file left."""
    assert sorted(p.name for p in paths) == sorted(f"{s}.{e}" for s in stems for e in ("png", "svg"))
    for p in paths:
        data = p.read_bytes()
        assert p.parent == folder and len(data) > 1000
        if p.suffix == ".png":
            assert data[:8] == b"\x89PNG\r\n\x1a\n"
        else:
            assert b"<svg" in data[:2000]
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


def test_attainment_curve_on_a_target_front_read_back_from_csv(tmp_path):
    front = target_front()
    for table in (front, round_trip(front, tmp_path / "pareto.csv")):
        ax = plots.attainment_curve(table)
        (line,) = ax.lines
        assert list(line.get_xdata()) == pytest.approx([0.0, 0.25, 0.5, 0.75])  # by gamma
        assert list(line.get_ydata()) == pytest.approx([0.0, 1.0, 2.5, 6.0])  # bn CNY/yr
        assert "1 point not solved" in ax.get_title()
        assert "bn CNY/yr" in ax.get_ylabel()


@pytest.mark.filterwarnings("error")
def test_every_plot_function_on_tables_read_back_from_csv(tmp_path, cities, receptors):
    cities = round_trip(cities, tmp_path / "cities.csv")
    receptors = round_trip(receptors, tmp_path / "receptors.csv")
    geo = round_trip(pd.DataFrame({"city": ["a", "b", "c"], "name": ["Alpha", "Beta", "Gamma"],
                                   "lat": [39.9, 39.1, 38.0], "lon": [116.4, 117.2, 114.5]}),
                     tmp_path / "geo.csv")
    gini = round_trip(fairness_front("gini"), tmp_path / "gini.csv")
    target = round_trip(target_front(), tmp_path / "target.csv")
    options = round_trip(comparison(), tmp_path / "compare.csv")

    assert len(bars(plots.cost_by_city(cities))) == 3
    ax = plots.burden_by_city(cities, cap={"a": 0.005}, band=(0.002, 0.0005))
    assert len(ax.containers[0].patches) == 3 and len(ax.collections) == 1
    assert len(plots.burden_by_city(cities, cap=0.003).lines) == 1
    assert len(plots.concentrations(receptors, metric="PM25").collections) == 1
    assert len(labels(plots.city_map(cities, geo))) == 3
    assert len(provinces(plots.city_map(cities, geo, outlines=outlines()))) == 6
    assert plots.non_dominated(gini).tolist() == [True, True, True, False]
    ax = plots.pareto_front(gini, label="epsilon", options=options)
    assert len([t for t in ax.texts if t.get_gid() is None]) == 3
    assert len(plots.attainment_curve(target).lines[0].get_xdata()) == 4
    ax = plots.compare_bars(options, ["total_cost_bn_cny", "max_burden_pct"])
    assert len(ax.figure.axes) == 2
    for ax in [a for num in plt.get_fignums() for a in plt.figure(num).axes]:
        ax.figure.canvas.draw()  # the layout and text placement too


# --- writers: pareto, compare, and the one saver -------------------------------------------------

@pytest.mark.parametrize("kind, label", [("gini", "Gini of burden"), ("max_burden", "max burden"),
                                         ("band", "largest distance"), ("target", "total cost")])
def test_write_front_plots_draws_the_plot_of_the_sweep(tmp_path, saved, kind, label):
    front = target_front() if kind == "target" else fairness_front(kind)
    table = round_trip(front, tmp_path / "pareto.csv")
    written = plots.write_front_plots(table, tmp_path)
    assert_plots(written, tmp_path, ["pareto"])
    ((stem, fig),) = saved
    ax = fig.axes[0]
    assert stem == "pareto" and label in ax.get_ylabel()
    if kind == "target":
        assert "gap closure" in ax.get_xlabel() and len(ax.lines[0].get_xdata()) == 4
    else:  # the front: cost in bn CNY/yr against the sweep's metric
        assert "total cost" in ax.get_xlabel()
        assert list(ax.lines[0].get_xdata()) == pytest.approx([1.0, 1.5, 3.0])


def test_front_y_columns_match_the_sweeps():
    from fairshare.fronts import Y_METRICS

    assert plots.FRONT_Y == Y_METRICS


def test_write_front_plots_with_nothing_solved_or_an_unknown_sweep(tmp_path):
    failed = pd.DataFrame([{"sweep": "target", "epsilon": np.nan, "status": "infeasible",
                            "total_cost_cny": np.nan, "solve_seconds": 0.1, "iterations": 9}])
    assert plots.write_front_plots(failed, tmp_path) == []
    assert plots.write_front_plots(failed.assign(sweep="gini"), tmp_path) == []
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="sweep"):
        plots.write_front_plots(fairness_front("gini").assign(sweep="cost"), tmp_path)


def test_write_comparison_plots_keeps_a_failed_option_in_its_slot(tmp_path, saved):
    table = comparison()
    table.loc[1, "total_cost_bn_cny"] = 99.0  # the status wins over any number left in the row
    table = round_trip(table, tmp_path / "compare.csv")
    written = plots.write_comparison_plots(table, tmp_path)
    assert_plots(written, tmp_path, ["compare"])
    ((stem, fig),) = saved
    panels = fig.axes
    assert len(panels) == 4  # the four metrics of COLUMNS_FOR_PLOT, one panel each
    names = ["least-cost", "cap-0.5", "beijing-30", "broken"]
    assert [t.get_text() for t in panels[0].get_yticklabels()] == names
    assert [a.get_xlabel() for a in panels] == ["bn CNY/yr", "% of GDP", "0–1", "% over least cost"]
    for ax in panels:
        slots = [t for t in ax.texts if t.get_gid() == "status"]
        assert {t.get_text(): t.get_position()[1] for t in slots} == {"infeasible": 1, "task error": 3}
        widths = [p.get_width() for p in ax.containers[0].patches]
        assert np.isfinite(widths[0]) and np.isfinite(widths[2])
        assert np.isnan(widths[1]) and np.isnan(widths[3])  # no bars in a failed slot
        assert ax.get_ylim()[0] > 3.4 and ax.get_ylim()[1] < -0.4  # no slot is cut off
    assert [p.get_width() for p in panels[0].containers[0].patches][::2] == pytest.approx([32.7, 32.8])


def test_write_comparison_plots_leaves_out_metrics_no_option_has(tmp_path, saved):
    table = comparison().assign(price_of_fairness_pct=np.nan)
    plots.write_comparison_plots(round_trip(table, tmp_path / "compare.csv"), tmp_path)
    panels = saved[0][1].axes
    assert len(panels) == 3
    assert not any("price of fairness" in a.get_title() for a in panels)


def test_the_writers_take_a_style_for_one_call(tmp_path, saved):
    plots.write_comparison_plots(comparison(), tmp_path, style="grey")
    plots.write_front_plots(fairness_front("gini"), tmp_path, style="grey")
    assert plots.current_style() == "colour"  # only for the call
    grey_bar = saved[0][1].axes[0].containers[0].patches[0].get_facecolor()
    assert grey_bar[0] == grey_bar[1] == grey_bar[2]
    saved.clear()
    plots.write_comparison_plots(comparison(), tmp_path)
    colour_bar = saved[0][1].axes[0].containers[0].patches[0].get_facecolor()
    assert len({round(c, 3) for c in colour_bar[:3]}) == 3
    with pytest.raises(ValueError, match="unknown plot style 'sepia'"):
        plots.redraw(tmp_path, style="sepia")  # before anything is drawn


def test_write_comparison_plots_with_nothing_solved_writes_nothing(tmp_path):
    table = pd.DataFrame({"scenario": ["x", "y"], "description": ["", ""],
                          "status": ["infeasible", "task_error"], "error": [np.nan, "boom"]})
    assert plots.write_comparison_plots(table, tmp_path) == []
    assert plots.write_comparison_plots(comparison().iloc[[1, 3]], tmp_path) == []
    assert list(tmp_path.iterdir()) == []


def test_svg_is_the_same_on_every_redraw(tmp_path):
    first = plots.write_front_plots(fairness_front("gini"), tmp_path)
    svg = [p for p in first if p.suffix == ".svg"][0]
    before = svg.read_bytes()
    plots.write_front_plots(fairness_front("gini"), tmp_path)
    assert svg.read_bytes() == before


def test_save_leaves_no_partial_file_when_drawing_fails(tmp_path, monkeypatch):
    fig, _ = plots._figure((2.0, 2.0))

    def broken(path, **kw):
        with open(path, "wb") as f:
            f.write(b"half a")
        raise RuntimeError("disk full")

    monkeypatch.setattr(fig, "savefig", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        plots._save(fig, tmp_path, "pareto")
    assert list(tmp_path.iterdir()) == []


# --- redraw ---------------------------------------------------------------------------------------

KINDS_MESSAGE = ("a results folder (summary.json), a Pareto folder (pareto.csv), "
                 "a comparison folder (compare.csv), or a folder holding them")


def copy_result(folder, to, region_folder=None):
    """A copy of a results folder without its plots; ``region_folder`` rewrites where the
    summary says the region is."""
    shutil.copytree(folder, to, ignore=shutil.ignore_patterns("*.png", "*.svg"))
    if region_folder is not None:
        summary = json.loads((to / "summary.json").read_text())
        summary["region"]["folder"] = str(region_folder)
        (to / "summary.json").write_text(json.dumps(summary))
    return to


def test_redraw_a_parent_folder_draws_each_child(tmp_path, toy_result, saved):
    results = tmp_path / "results"
    copy_result(toy_result[0], results / "toy")
    copy_result(toy_result[0], results / "toy-moved", region_folder=tmp_path / "gone")
    for name, front in (("toy-pareto-target", target_front()), ("toy-pareto-gini", fairness_front("gini"))):
        (results / name).mkdir()
        front.to_csv(results / name / "pareto.csv", index=False)
    (results / "options").mkdir()
    comparison().to_csv(results / "options" / "compare.csv", index=False)
    hidden = results / ".toy.partial-123-abcd"
    hidden.mkdir()
    target_front().to_csv(hidden / "pareto.csv", index=False)
    (results / "notes").mkdir()
    (results / "notes" / "readme.txt").write_text("not a result")

    written = plots.redraw(results)
    by_folder = {}
    for p in written:
        by_folder.setdefault(p.parent.name, []).append(p)
    assert sorted(by_folder) == ["options", "toy", "toy-moved", "toy-pareto-gini", "toy-pareto-target"]
    result_stems = ["cost_by_city", "burden_by_city", "concentrations_PM25"]
    assert_plots(by_folder["toy"], results / "toy", [*result_stems, "city_map"])  # region still there
    assert_plots(by_folder["toy-moved"], results / "toy-moved", result_stems)  # region gone: no map
    assert_plots(by_folder["toy-pareto-gini"], results / "toy-pareto-gini", ["pareto"])
    assert_plots(by_folder["toy-pareto-target"], results / "toy-pareto-target", ["pareto"])
    assert_plots(by_folder["options"], results / "options", ["compare"])
    assert sorted(p.name for p in hidden.iterdir()) == ["pareto.csv"]
    assert sorted(p.name for p in (results / "notes").iterdir()) == ["readme.txt"]
    assert 2 * len(saved) == len(written)  # every file went through the one saver

    assert plots.redraw(results / "options") == by_folder["options"]  # one folder of a kind
    assert sorted(plots.redraw(results / "toy")) == sorted(by_folder["toy"])


def test_redraw_refuses_other_folders(tmp_path):
    with pytest.raises(ValueError, match=re.escape(KINDS_MESSAGE)):
        plots.redraw(tmp_path)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "pareto.txt").write_text("")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "compare.csv").write_text("scenario,status\nx,optimal\n")
    with pytest.raises(ValueError, match=re.escape(KINDS_MESSAGE)):
        plots.redraw(tmp_path)
    with pytest.raises(FileNotFoundError):
        plots.redraw(tmp_path / "nowhere")


def test_redraw_goes_on_after_a_failing_child(tmp_path):
    for name, table, file in (("a", fairness_front("band"), "pareto.csv"),
                              ("b", fairness_front("band").assign(sweep="nonsense"), "pareto.csv"),
                              ("c", comparison(), "compare.csv")):
        (tmp_path / name).mkdir()
        table.to_csv(tmp_path / name / file, index=False)
    with pytest.raises(plots.RedrawError) as caught:
        plots.redraw(tmp_path)
    err = caught.value
    assert [(f.name, type(e)) for f, e in err.failures] == [("b", ValueError)]
    assert "b" in str(err) and "nonsense" in str(err)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in err.written) == [
        "a/pareto.png", "a/pareto.svg", "c/compare.png", "c/compare.svg"]
    assert all(p.stat().st_size > 1000 for p in err.written)
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["pareto.csv"]
