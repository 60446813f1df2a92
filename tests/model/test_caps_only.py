"""A region planned on emission caps only: no transport and no concentrations table.

The region data package allows it (tonnage targets, as in total-emission-control
plans), and the textbook emission-cap LPs are exactly this shape. Before the fix,
``fairshare run`` crashed reshaping an empty transport array and ``fairshare mtfr``
crashed on a missing column.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import fairshare as fs
from conftest import REGION_JJJ
from fairshare.cli import main
from fairshare.solver import Status

from toy import city, measure, write_region, write_scenario

# Hillier & Lieberman, Introduction to Operations Research, section 3.4 "Controlling air
# pollution" (the Nori & Leets Co. steel works): six abatement methods (taller smokestacks,
# filters, better fuels, each at the blast furnaces and the open-hearth furnaces), x_j the
# fraction of each method's maximum feasible use. Reduction in emission rate at full use
# (million pounds per year) of particulates, sulfur oxides, hydrocarbons:
REDUCTION = {
    "stacks_bf": (12, 35, 37), "stacks_oh": (9, 42, 53),
    "filters_bf": (25, 18, 28), "filters_oh": (20, 31, 24),
    "fuels_bf": (17, 56, 29), "fuels_oh": (13, 49, 20),
}
COST_M_USD = {"stacks_bf": 8, "stacks_oh": 10, "filters_bf": 7, "filters_oh": 6,
              "fuels_bf": 11, "fuels_oh": 9}
REQUIRED = (60, 150, 125)  # the clean-air standard: required reduction, million lb/yr
POLLUTANTS = ("particulates", "sox", "hc")
# The published optimum: Z = 32.16 (million USD/yr) at x = (1, 0.623, 0.343, 1, 0.048, 1).
PUBLISHED_X = {"stacks_bf": 1, "stacks_oh": 0.623, "filters_bf": 0.343, "filters_oh": 1,
               "fuels_bf": 0.048, "fuels_oh": 1}


def nori_leets_region(folder):
    """The steel works as a one-city region, caps only.

    One million pounds is written as 1,000 t (the model works in kt, so its numbers are
    the book's). Each furnace type is a sector; every method is its own exclusivity group
    (the book's methods stack). A sector's baseline of a pollutant is the sum of its
    methods' reductions, so a method's efficiency is its reduction over that baseline and
    the removal shares of a sector add up to at most 1, as they must. Unit costs are per
    tonne of particulates removed, so that full use costs the book's annual cost (USD
    written as CNY: the unit is only a label here).
    """
    sector = {m: "blast_furnace" if m.endswith("_bf") else "open_hearth" for m in REDUCTION}
    base = {(k, p): sum(r[i] for m, r in REDUCTION.items() if sector[m] == k)
            for k in set(sector.values()) for i, p in enumerate(POLLUTANTS)}
    return write_region(
        folder,
        cities=[city("works", gdp_bn_cny=10.0)],
        emissions=[{"city": "works", "sector": k, "pollutant": p, "emission_t": 1000.0 * v}
                   for (k, p), v in sorted(base.items())],
        measures=[measure(m, sector=sector[m], group=m, ref="particulates",
                          cost=COST_M_USD[m] * 1e6 / (REDUCTION[m][0] * 1000.0))
                  for m in REDUCTION],
        efficiencies=[{"measure": m, "pollutant": p, "efficiency": r[i] / base[sector[m], p]}
                      for m, r in REDUCTION.items() for i, p in enumerate(POLLUTANTS)],
    ), base


def caps_for(base) -> list[dict]:
    total = {p: sum(v for (k, q), v in base.items() if q == p) for p in POLLUTANTS}
    return [{"emission_cap": p, "zone": "all", "max_t": 1000.0 * (total[p] - need)}
            for p, need in zip(POLLUTANTS, REQUIRED)]


def test_textbook_emission_cap_lp_reproduces_its_published_optimum(tmp_path):
    region, base = nori_leets_region(tmp_path / "steel")
    path = write_scenario(tmp_path / "nori.yaml", region, name="nori-leets", targets=caps_for(base))
    res = fs.solve(fs.load_scenario(path))
    assert res.status == Status.OPTIMAL
    # The book's Z = 32.16 is its rounded x priced (8 + 6.23 + 2.401 + 6 + 0.528 + 9 = 32.159);
    # the exact optimum is 32.1546, so agreement is to the book's rounding.
    assert res.total_cost / 1e6 == pytest.approx(32.16, abs=0.01)
    assert sum(COST_M_USD[m] * x for m, x in PUBLISHED_X.items()) == pytest.approx(32.159)
    applied = res.measures.set_index("measure")["application"]
    for m, x in PUBLISHED_X.items():
        assert applied.get(m, 0.0) == pytest.approx(x, abs=5e-4), m
    # every cap holds and the three bind (the book's three standards are all tight)
    caps = res.summary["emission_caps"]
    assert [c["final_t"] <= c["cap_t"] + 1e-6 for c in caps] == [True] * 3
    assert all(c["shadow_price_cny_per_t"] > 0 for c in caps)
    assert res.receptors.empty and res.summary["targets_total"] == 0


def test_caps_only_region_through_the_cli(tmp_path):
    region, base = nori_leets_region(tmp_path / "steel")
    path = write_scenario(tmp_path / "nori.yaml", region, name="nori-leets", targets=caps_for(base))
    runner = CliRunner()
    r = runner.invoke(main, ["run", str(path), "-o", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    assert "emission caps" in r.output and "Traceback" not in r.output
    summary = json.loads((tmp_path / "out/nori-leets/summary.json").read_text())
    assert summary["total_cost_cny"] == pytest.approx(32.1546e6, rel=1e-5)
    r = runner.invoke(main, ["mtfr", str(path), "-o", str(tmp_path / "new/dir/m.csv")])
    assert r.exit_code == 0, r.output
    assert "no concentration to compute" in r.output
    assert (tmp_path / "new/dir/m.csv").is_file()


def test_a_concentration_target_on_a_caps_only_region_is_an_input_problem(tmp_path):
    region, base = nori_leets_region(tmp_path / "steel")
    path = write_scenario(tmp_path / "bad.yaml", region, name="bad",
                          targets=[{"metric": "PM25", "max_ugm3": 35}])
    r = CliRunner().invoke(main, ["run", str(path), "-o", str(tmp_path / "out")])
    assert r.exit_code == 2, r.output
    assert "targets[0].metric" in r.output and "emission caps only" in r.output


def test_the_shipped_region_without_its_optional_tables_solves_a_nox_cap(tmp_path):
    """The default region with transport.csv and concentrations.csv removed, and the
    same NOx cap as the shipped NOx/VOC option: the plan meets the cap at least cost."""
    import shutil

    from fairshare.api import mtfr

    region = tmp_path / "jjj"
    shutil.copytree(REGION_JJJ, region)
    for name in ("transport.csv", "concentrations.csv"):
        (region / name).unlink()
    path = write_scenario(tmp_path / "caps.yaml", region, name="caps", year=2030,
                          targets=[{"emission_cap": "NOx", "zone": "all", "reduction_pct": 10}])
    res = fs.solve(fs.load_scenario(path))
    assert res.status == Status.OPTIMAL
    (cap,) = res.summary["emission_caps"]
    assert cap["final_t"] == pytest.approx(0.9 * cap["baseline_t"], rel=1e-9)
    assert mtfr(path).empty
