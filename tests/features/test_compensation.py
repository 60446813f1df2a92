"""The compensation game (fairshare.compensation, ``fairshare compensate``): textbook cost
games built as tiny regions whose coalition costs are worked by hand, the axioms on the
shipped region's 6-province game, sampled against exact Shapley, coalition costs against
the independent LP (tests/independent.py), Dask, resuming an interrupted run.

The **uniform toy** (``uniform_region``): n cities, each emitting 1 kt PM2.5, one measure
removing 50 % at 1,000 CNY/t times the city's cost factor f; every source moves every
receptor by tau = 10 µg/m³ per kt, baseline 20 µg/m³. Full application in city j removes
0.5 kt = 5 µg/m³ at *every* receptor for 0.5 f_j M CNY: 0.1 f_j M CNY per µg/m³, capacity
5 µg/m³. A receptor i with limit 20 - e_i needs e_i µg/m³. A coalition S needs
max_{i in S} e_i µg/m³ everywhere and buys it from its cheapest member (capacity 5 >= every
need), so

    c(S) = 0.1 M CNY * min_{j in S} f_j * max_{i in S} e_i .
"""

from __future__ import annotations

import json
import math
from itertools import permutations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from fairshare.compensation import GameError, compensate
from fairshare.compensation import allocation as al
from fairshare.compensation.transfers import settle
from fairshare.cli_compensate import compensate as compensate_command
from fairshare.errors import InputError

from conftest import REGION_JJJ, SCENARIOS
from independent import Region, solve_independently
from toy import city, measure, write_region, write_scenario

M = 1e6  # CNY per million CNY
JJJ = SCENARIOS / "jjj-2030-least-cost.yaml"


def uniform_region(folder: Path, factors, needs, tau=10.0, c0=20.0, no_measures=()):
    """The uniform toy (module docstring); players p1..pn; ``no_measures``: cities whose
    measure is not applicable (applicability 0)."""
    ids = [f"p{i + 1}" for i in range(len(factors))]
    region = write_region(
        folder / "region",
        cities=[city(c, cost_factor=f) for c, f in zip(ids, factors)],
        emissions=[{"city": c, "sector": "ind", "pollutant": "PM25", "emission_t": 1000.0}
                   for c in ids],
        measures=[measure("m1")],
        efficiencies=[{"measure": "m1", "pollutant": "PM25", "efficiency": 0.5}],
        transport=[{"metric": "PM25", "receptor": r, "source": s, "pollutant": "PM25",
                    "coef_ugm3_per_kt": tau} for r in ids for s in ids],
        concentrations=[{"metric": "PM25", "receptor": r, "baseline_ugm3": c0} for r in ids],
        applicability=[{"city": ids[i], "measure": "m1", "max_application": 0.0}
                       for i in no_measures] or None)
    targets = [{"metric": "PM25", "receptors": [c], "max_ugm3": c0 - e}
               for c, e in zip(ids, needs) if e > 0]
    return write_scenario(folder / "game.yaml", region, name="game", targets=targets)


def costs_by_coalition(comp) -> dict[str, float]:
    return dict(zip(comp.coalitions["coalition"], comp.coalitions["cost_cny"]))


def alloc(comp, method: str) -> np.ndarray:
    return comp.allocation[f"alloc_{method.replace(':', '_')}_cny"].to_numpy()


# --- textbook games, worked by hand ---------------------------------------------------

def test_three_player_game_shapley_nucleolus_least_core_by_hand(tmp_path):
    # f = (1, 2, 3), e = (1, 2, 3); in units of 0.1 M CNY, c = min f * max e:
    #   c(1)=1 c(2)=4 c(3)=9 c(12)=2 c(13)=3 c(23)=6 c(123)=3.
    # Shapley, marginal costs over the 6 orders (player 1, 2, 3):
    #   123: 1, 1, 1   132: 1, 0, 2   213: -2, 4, 1   231: -3, 4, 2   312: -6, 0, 9
    #   321: -3, -3, 9   ->  phi = (-12, 6, 24)/6 = (-2, 1, 4).
    # Nucleolus: excesses 1-x1, 4-x2, 9-x3, e12 = x3-1, e13 = x2, e23 = x1+3; all >= t
    # needs x1 >= t-3, x2 >= t, x3 >= t+1, so 3 = sum x >= 3t-2: t* = 5/3, at equality
    # x = (-4/3, 5/3, 8/3), unique: the nucleolus, and the least core has epsilon 5/3 > 0.
    comp = compensate(uniform_region(tmp_path, [1, 2, 3], [1, 2, 3]),
                      methods=["shapley", "nucleolus", "least_core"])
    unit = 0.1 * M
    expected = {"p1": 1, "p2": 4, "p3": 9, "p1 + p2": 2, "p1 + p3": 3, "p2 + p3": 6,
                "p1 + p2 + p3": 3}
    got = costs_by_coalition(comp)
    assert got == pytest.approx({k: v * unit for k, v in expected.items()}, rel=1e-7)
    assert alloc(comp, "shapley") == pytest.approx(np.array([-2, 1, 4]) * unit, rel=1e-7)
    assert alloc(comp, "nucleolus") == pytest.approx(np.array([-4, 5, 8]) / 3 * unit, rel=1e-6)
    assert alloc(comp, "least_core") == pytest.approx(np.array([-4, 5, 8]) / 3 * unit, rel=1e-6)
    s = comp.summary
    assert s["core"]["nonempty"] is True
    assert s["core"]["least_core_epsilon_cny"] == pytest.approx(5 / 3 * unit, rel=1e-7)
    assert s["methods"]["shapley"]["in_core"] and s["methods"]["nucleolus"]["in_core"]
    # the joint plan: p1 abates 3 µg/m³ for 0.3 M; Shapley transfers (-5, 1, 4) * 0.1 M:
    # p2 and p3 pay p1, in two flows (the fewest: three players, one group)
    assert comp.allocation["plan_cost_cny"].to_numpy() == pytest.approx([0.3 * M, 0, 0], abs=1e-3)
    flows = comp.transfers[comp.transfers["method"] == "shapley"]
    assert sorted(zip(flows["from"], flows["to"], flows["amount_cny"].round(3))) == \
        [("p2", "p1", 0.1 * M), ("p3", "p1", 0.4 * M)]
    assert s["saving_of_cooperation_cny"] == pytest.approx((1 + 4 + 9 - 3) * unit)


def test_airport_game_shapley_has_its_closed_form_with_symmetry_and_a_null_player(tmp_path):
    # f = 1 everywhere: c(S) = 0.1 M * max e (an airport game: the runway the longest need
    # asks for). Needs e = (1, 2, 3, 4, 4) and a sixth city p6 with no applicable measure
    # and no target: a null player. Littlechild & Owen: with needs sorted c_(1) <= ... <=
    # c_(n), phi_(k) = sum_{j<=k} (c_(j) - c_(j-1)) / (n - j + 1) over the n = 5 players
    # that need something (the null player adds nothing to any coalition):
    #   0.1/5, + 0.1/4, + 0.1/3, + 0.1/2 (twice, for the two equal needs), in M CNY.
    comp = compensate(uniform_region(tmp_path, [1] * 6, [1, 2, 3, 4, 4, 0], no_measures=[5]),
                      methods=["shapley", "nucleolus", "least_core"])
    c = [0.1, 0.2, 0.3, 0.4, 0.4]
    phi, running = [], 0.0
    for k in range(5):
        running += (c[k] - (c[k - 1] if k else 0.0)) / (5 - k)
        phi.append(running)
    expected = np.array(phi + [0.0]) * M
    assert alloc(comp, "shapley") == pytest.approx(expected, rel=1e-7, abs=1e-3)
    assert expected[:5].sum() == pytest.approx(0.4 * M)
    ax = comp.summary["axioms"]
    assert ax["symmetric_pairs"] == [[3, 4]] and ax["null_players"] == [5]
    for method, gaps in ax["methods"].items():
        assert gaps["efficiency_gap_cny"] < 1e-3, method
        assert gaps["symmetry_gap_cny"] < 1e-2, method
        assert gaps["null_player_gap_cny"] < 1e-2, method
    # an airport game is concave: its Shapley value is in the core
    assert comp.summary["methods"]["shapley"]["in_core"] is True


def test_an_empty_core_is_reported_as_such(tmp_path):
    # Two cities, each 1 kt; own transport 10, cross -2 (titration: a's measure raises b's
    # concentration). Targets 17 (3 µg/m³ each). Alone: 5 x = 3, x = 0.6, c = 0.3 M each.
    # Together: 5 x_a - x_b >= 3 and 5 x_b - x_a >= 3: x = 0.75 each, c(N) = 0.75 M > 0.6.
    # The core is empty; the least core is x_i = c(i) + (c(N) - c(1) - c(2))/2 = 0.375 M
    # with epsilon = -0.075 M; so are the (pre-)nucleolus and the Shapley value.
    region = write_region(
        tmp_path / "region", cities=[city("a"), city("b")],
        emissions=[{"city": c, "sector": "ind", "pollutant": "PM25", "emission_t": 1000.0}
                   for c in "ab"],
        measures=[measure("m1")],
        efficiencies=[{"measure": "m1", "pollutant": "PM25", "efficiency": 0.5}],
        transport=[{"metric": "PM25", "receptor": r, "source": s, "pollutant": "PM25",
                    "coef_ugm3_per_kt": 10.0 if r == s else -2.0} for r in "ab" for s in "ab"],
        concentrations=[{"metric": "PM25", "receptor": r, "baseline_ugm3": 20.0} for r in "ab"])
    path = write_scenario(tmp_path / "t.yaml", region, name="titration",
                          targets=[{"metric": "PM25", "receptors": "all", "max_ugm3": 17}])
    comp = compensate(path, methods=["shapley", "nucleolus", "least_core"])
    assert costs_by_coalition(comp) == pytest.approx({"a": 0.3 * M, "b": 0.3 * M,
                                                      "a + b": 0.75 * M}, rel=1e-7)
    s = comp.summary
    assert s["core"]["nonempty"] is False
    assert s["core"]["least_core_epsilon_cny"] == pytest.approx(-0.075 * M, rel=1e-6)
    assert s["saving_of_cooperation_cny"] == pytest.approx(-0.15 * M, rel=1e-6)
    for method in ("shapley", "nucleolus", "least_core"):
        assert alloc(comp, method) == pytest.approx([0.375 * M] * 2, rel=1e-6)
        entry = s["methods"][method]
        assert entry["in_core"] is False
        assert entry["blocking"][0]["saving_cny"] == pytest.approx(0.075 * M, rel=1e-5)
    assert s["methods"]["nucleolus"]["over"] == "pre-imputations"  # sum c(i) < c(N)
    assert "EMPTY" in CliRunner().invoke(
        compensate_command, [str(path), "--method", "least_core", "-o", str(tmp_path / "out"),
                             "--no-plots"]).output


def weak_city_scenario(tmp_path: Path, **keys) -> Path:
    """Two cities; only a's receptor has a target (17, so 3 µg/m³). a's measure moves its own
    receptor by 2 per kt, b's by 10 per kt: alone, a reaches at most 1 µg/m³ (x_a = 1 for
    0.5 M CNY, 0.5 M per µg/m³); b does it for 0.1 M per µg/m³."""
    region = write_region(
        tmp_path / "region", cities=[city("a"), city("b")],
        emissions=[{"city": c, "sector": "ind", "pollutant": "PM25", "emission_t": 1000.0}
                   for c in "ab"],
        measures=[measure("m1")],
        efficiencies=[{"measure": "m1", "pollutant": "PM25", "efficiency": 0.5}],
        transport=[{"metric": "PM25", "receptor": r, "source": s, "pollutant": "PM25",
                    "coef_ugm3_per_kt": 2.0 if r == s else 10.0} for r in "ab" for s in "ab"],
        concentrations=[{"metric": "PM25", "receptor": r, "baseline_ugm3": 20.0} for r in "ab"])
    return write_scenario(tmp_path / "weak.yaml", region, name="weak",
                          targets=[{"metric": "PM25", "receptors": ["a"], "max_ugm3": 17}], **keys)


def test_a_coalition_that_cannot_meet_its_target_alone_is_priced_by_the_stated_rule(tmp_path):
    # c(N): b abates 3 µg/m³ at a for 0.3 M; the target's shadow price is 0.1 M per µg/m³,
    # the default penalty P. c(b) = 0 (b holds no target). c(a): a cannot reach 3 µg/m³.
    #   penalty (P = 0.1 M): min 0.5 x + 0.1 (3 - x), x = 0: 0.3 M, shortfall 3 µg/m³;
    #     Shapley a = (0.3 + (0.3 - 0))/2 = 0.3 M, b = (0 + (0.3 - 0.3))/2 = 0.
    #   reachable: shortfall at least 2 (x = 1), cost 0.5 M;
    #     Shapley a = (0.5 + 0.3)/2 = 0.4 M, b = (0 + 0.3 - 0.5)/2 = -0.1 M.
    path = weak_city_scenario(tmp_path)
    comp = compensate(path, methods=["shapley", "nucleolus"])
    s = comp.summary
    assert s["game"]["penalty_cny_per_ugm3"] == pytest.approx(0.1 * M, rel=1e-6)
    assert s["game"]["coalitions_needing_rule"] == 1
    row = comp.coalitions.set_index("coalition").loc["a"]
    assert row["cost_cny"] == pytest.approx(0.3 * M, rel=1e-6)
    assert row["shortfall_ugm3"] == pytest.approx(3.0, rel=1e-6)
    assert row["cost_if_reachable_cny"] == pytest.approx(0.5 * M, rel=1e-6)
    assert row["shortfall_if_reachable_ugm3"] == pytest.approx(2.0, rel=1e-6)
    assert row["definition"].startswith("penalty")
    assert alloc(comp, "shapley") == pytest.approx([0.3 * M, 0.0], abs=1e-2)
    assert comp.allocation["alloc_shapley_if_reachable_cny"].to_numpy() == \
        pytest.approx([0.4 * M, -0.1 * M], rel=1e-6)
    assert s["methods"]["shapley"]["if_reachable"]["largest_change_cny"] == pytest.approx(0.1 * M)

    # The other rule chosen, and a stated price: P = 1 M per µg/m³ makes a abate (0.5 M)
    # and pay 2 µg/m³ * 1 M: c(a) = 2.5 M; Shapley a = (2.5 + 0.3)/2 = 1.4 M, b = -1.1 M.
    reach = compensate(path, unmet="reachable")
    assert alloc(reach, "shapley") == pytest.approx([0.4 * M, -0.1 * M], rel=1e-6)
    priced = compensate(path, penalty_cny_per_ugm3=1 * M)
    assert alloc(priced, "shapley") == pytest.approx([1.4 * M, -1.1 * M], rel=1e-6)


def test_others_carrying_out_their_standalone_plans(tmp_path):
    # The three-player game with others="standalone": alone, player i brings every receptor
    # down by e_i µg/m³ (uniform transport). Non-members of S apply those plans:
    #   c(1) = c(2) = c(3) = c(12) = 0 (the others' plans already do more than S needs);
    #   c(13): p2's 2 µg/m³ leave 1 to buy at 0.1 M -> 0.1 M;
    #   c(23): p1's 1 µg/m³ leave 2 at 0.2 M per µg/m³ -> 0.4 M;  c(123) = 0.3 M.
    comp = compensate(uniform_region(tmp_path, [1, 2, 3], [1, 2, 3]), others="standalone")
    expected = {"p1": 0, "p2": 0, "p3": 0, "p1 + p2": 0, "p1 + p3": 0.1, "p2 + p3": 0.4,
                "p1 + p2 + p3": 0.3}
    assert costs_by_coalition(comp) == pytest.approx({k: v * M for k, v in expected.items()},
                                                     abs=1e-3)
    assert comp.summary["game"]["others"] == "standalone"


# --- the allocation rules alone -------------------------------------------------------------

def test_shapley_formula_equals_the_average_over_every_order_and_transfers_settle():
    rng = np.random.default_rng(3)
    n = 5
    c = np.r_[0.0, rng.uniform(1, 10, (1 << n) - 1)]
    brute = np.zeros(n)
    orders = list(permutations(range(n)))
    for order in orders:
        mask = 0
        for i in order:
            brute[i] += c[mask | 1 << i] - c[mask]
            mask |= 1 << i
    assert al.shapley_exact(c, n) == pytest.approx(brute / len(orders))
    # payments: two zero-sum groups {+3, -3} and {+1, +1, -2} settle in 1 + 2 flows
    flows = settle(list("abcde"), np.array([3.0, -3.0, 1.0, 1.0, -2.0]), 1e-9)
    assert len(flows) == 3 and ("a", "b", 3.0) in flows
    net = dict.fromkeys("abcde", 0.0)
    for payer, receiver, amount in flows:
        net[payer] += amount
        net[receiver] -= amount
    assert list(net.values()) == pytest.approx([3, -3, 1, 1, -2])
    fund = settle(list("abcde"), np.array([3.0, -3.0, 1.0, 1.0, -2.0]), 1e-9, via="fund")
    assert len(fund) == 5


# --- the shipped region ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def provinces(tmp_path_factory):
    """The 6-province game of 2+26, every method, through the command (one run)."""
    out = tmp_path_factory.mktemp("provinces")
    result = CliRunner().invoke(compensate_command, [
        str(JJJ), "--players", "province", "--method", "shapley,nucleolus,least_core",
        "--method", "proportional:gdp", "--method", "proportional:polluter",
        "--method", "proportional:benefit", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out / "jjj-2030-least-cost-compensation", result.output


def test_the_province_game_folder_tables_and_axioms(provinces):
    folder, output = provinces
    for name in ("allocation.csv", "transfers.csv", "coalitions.csv", "summary.json",
                 "allocation.png", "transfers_shapley.png"):
        assert (folder / name).is_file(), name
    summary = json.loads((folder / "summary.json").read_text(), parse_constant=pytest.fail)
    table = pd.read_csv(folder / "allocation.csv")
    assert sorted(table["player"]) == ["Beijing", "Hebei", "Henan", "Shandong", "Shanxi", "Tianjin"]
    coalitions = pd.read_csv(folder / "coalitions.csv")
    assert len(coalitions) == 63 and (coalitions["status"] == "optimal").all()
    c_full = summary["joint_cost_cny"]
    import fairshare as fs
    assert c_full == pytest.approx(fs.solve(JJJ).total_cost, rel=1e-6)  # the least-cost plan
    assert table["plan_cost_cny"].sum() == pytest.approx(c_full, rel=1e-9)
    transfers = pd.read_csv(folder / "transfers.csv")
    for m in summary["methods"]:
        k = m.replace(":", "_")
        assert table[f"alloc_{k}_cny"].sum() == pytest.approx(c_full, rel=1e-9)   # efficiency
        assert table[f"transfer_{k}_cny"].sum() == pytest.approx(0, abs=1e-6 * c_full)
        flows = transfers[transfers["method"] == m]
        net = (flows.groupby("from")["amount_cny"].sum()
               .sub(flows.groupby("to")["amount_cny"].sum(), fill_value=0))
        expected = table.set_index("player")[f"transfer_{k}_cny"]
        assert net.reindex(expected.index, fill_value=0).to_numpy() == \
            pytest.approx(expected.to_numpy(), abs=1e-6 * c_full)
        assert len(flows) <= (expected.abs() > 1e-6 * c_full).sum() - 1 + 1e-9
    # the nucleolus and the least-core point are in the core exactly when it is non-empty
    nonempty = summary["core"]["nonempty"]
    assert summary["methods"]["nucleolus"]["in_core"] is nonempty
    assert summary["methods"]["least_core"]["in_core"] is nonempty
    assert (summary["core"]["least_core_epsilon_cny"] >= -1e-6 * c_full) is nonempty
    for gaps in summary["axioms"]["methods"].values():
        assert gaps["efficiency_gap_cny"] < 1e-6 * c_full
    assert summary["saving_of_cooperation_cny"] == pytest.approx(
        table["standalone_cost_cny"].sum() - c_full, rel=1e-9, abs=1.0)
    assert "saving of cooperation" in output
    assert f"nucleolus: {'in' if nonempty else 'NOT in'} the core" in output


def restricted_region(tmp_path: Path, members: list[str]) -> Path:
    """A copy of the 2+26 region where only ``members`` may apply measures (applicability 0
    for every other city, in every year the table has): the coalition's restricted LP for
    the independent oracle."""
    import shutil

    folder = tmp_path / "restricted"
    shutil.copytree(REGION_JJJ, folder)
    measures = pd.read_csv(folder / "measures.csv")["measure"]
    cities = pd.read_csv(folder / "cities.csv")["city"]
    given = pd.read_csv(folder / "applicability.csv")
    years = sorted(given["year"].unique()) if "year" in given.columns else [None]
    zero = [{"city": c, "measure": m, "max_application": 0.0, **({"year": y} if y else {})}
            for c in cities if c not in members for m in measures for y in years]
    table = pd.concat([given[given["city"].isin(members)], pd.DataFrame(zero)], ignore_index=True)
    table.to_csv(folder / "applicability.csv", index=False)
    return folder


def independent_coalition_cost(members: list[str], price_cny: float) -> tuple[bool, float]:
    """(meets its targets, c(S) in CNY/yr) of the coalition of ``members`` by the
    independent formulation: the restricted LP (tests/independent.py); when it is
    infeasible, the penalty rule: min cost x + P sum_r u_r with C0 - a_r x - u_r <= L_r."""
    from scipy.optimize import linprog

    import fairshare as fs

    sc = fs.load_scenario(JJJ)
    tmp = Path(__import__("tempfile").mkdtemp())
    reg = Region(restricted_region(tmp, members), sc.year,
                 getattr(getattr(sc, "transport", None), "member", None))
    limits = {}
    for t in sc.targets:
        assert t.max_ugm3 is not None  # the shipped least-cost targets
        for r in members:
            if t.receptors == "all" or r in t.receptors:
                limits[t.metric, r] = min(t.max_ugm3, limits.get((t.metric, r), math.inf))
    targets = [{"metric": q, "receptors": [r], "max_ugm3": v} for (q, r), v in limits.items()]
    status, cost, _ = solve_independently(reg, {"year": sc.year, "targets": targets})
    if status == 0:
        return True, cost
    A, b = reg.technology()
    K = len(limits)
    rows = [np.r_[-reg.conc_row(q, r), -np.eye(K)[k]] for k, (q, r) in enumerate(limits)]
    A_ub = np.vstack([np.c_[A, np.zeros((len(A), K))]] + rows)
    b_ub = np.r_[b, [v - reg.c0[key] for key, v in limits.items()]]
    c = np.r_[[reg.cost_mcny(s, m) for s, m in reg.vars], np.full(K, price_cny / M)]
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=reg.bounds() + [(0, None)] * K, method="highs")
    assert res.status == 0
    return False, res.fun * M


@pytest.mark.parametrize("coalition", [["Hebei", "Beijing", "Tianjin"], ["Henan"], ["Shanxi"],
                                       ["Henan", "Shandong", "Shanxi"]])
def test_coalition_costs_equal_the_independent_restricted_lp(provinces, coalition):
    folder, _ = provinces
    coalitions = pd.read_csv(folder / "coalitions.csv").set_index("coalition")
    price = json.loads((folder / "summary.json").read_text())["game"]["penalty_cny_per_ugm3"]
    cities = pd.read_csv(REGION_JJJ / "cities.csv")
    members = cities.loc[cities["province"].isin(coalition), "city"].tolist()
    met, cost = independent_coalition_cost(members, price)
    row = coalitions.loc[" + ".join(sorted(coalition))]
    assert (row["definition"] == "targets met") == met
    assert row["cost_cny"] == pytest.approx(cost, rel=1e-6)


def test_a_city_that_cannot_meet_its_target_alone_against_the_independent_elastic_lp(tmp_path):
    # Anyang's target set between what the whole region can reach there (MTFR) and what
    # Anyang's own measures can: the joint plan meets it, Anyang alone cannot. c({anyang})
    # by both rules, against linprog on the restricted region: penalty = min cost x + P u
    # (C0 - a x - u <= L); reachable = the least u, then the least cost keeping it.
    from scipy.optimize import linprog

    import fairshare as fs

    sc = fs.load_scenario(JJJ)
    reg = Region(restricted_region(tmp_path, ["anyang"]), sc.year,
                 getattr(getattr(sc, "transport", None), "member", None))
    A, b = reg.technology()
    a = reg.conc_row("PM25", "anyang")
    c0 = reg.c0["PM25", "anyang"]
    alone = linprog(-a, A_ub=A, b_ub=b, bounds=reg.bounds(), method="highs")
    mtfr_alone = c0 + alone.fun
    mtfr_all = float(fs.mtfr(JJJ).set_index(["metric", "receptor"]).loc[("PM25", "anyang"),
                                                                         "mtfr_ugm3"])
    assert mtfr_all < mtfr_alone - 1
    limit = (mtfr_all + mtfr_alone) / 2
    path = tmp_path / "one-city.yaml"
    path.write_text(f"extends: {JJJ}\nname: one-city\n"
                    f"targets:\n  - {{metric: PM25, receptors: [anyang], max_ugm3: {limit}}}\n")
    cities = pd.read_csv(REGION_JJJ / "cities.csv")["city"].tolist()
    players = {"anyang": ["anyang"], "rest": [c for c in cities if c != "anyang"]}
    comp = compensate(path, players=players, methods=["shapley"])
    row = comp.coalitions.set_index("coalition").loc["anyang"]
    assert row["definition"].startswith("penalty") and row["shortfall_ugm3"] > 0
    assert comp.coalitions.set_index("coalition").loc["rest", "cost_cny"] == 0  # no target
    P = comp.summary["game"]["penalty_cny_per_ugm3"] / M
    cost = np.array([reg.cost_mcny(s, m) for s, m in reg.vars])
    bounds = reg.bounds() + [(0, None)]
    A_ub = np.vstack([np.c_[A, np.zeros(len(A))], np.r_[-a, -1.0]])
    b_ub = np.r_[b, limit - c0]
    pen = linprog(np.r_[cost, P], A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs")
    assert row["cost_cny"] == pytest.approx(pen.fun * M, rel=1e-6)
    least = linprog(np.r_[np.zeros(len(cost)), 1.0], A_ub=A_ub, b_ub=b_ub, bounds=bounds,
                    method="highs")
    assert least.fun == pytest.approx(mtfr_alone - limit, rel=1e-6)
    bounds[-1] = (0, least.fun * (1 + 1e-7) + 1e-7)
    reach = linprog(np.r_[cost, 0.0], A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs")
    assert row["shortfall_if_reachable_ugm3"] == pytest.approx(least.fun, rel=1e-5)
    assert row["cost_if_reachable_cny"] == pytest.approx(reach.fun * M, rel=1e-5)


# --- sampled against exact, Dask, resuming ----------------------------------------------------

@pytest.fixture(scope="module")
def ten_city(tmp_path_factory):
    """A 10-city region with random transport, costs and targets (seed 7): some cities
    cannot meet their targets alone. Returns the scenario path."""
    root = tmp_path_factory.mktemp("ten")
    rng = np.random.default_rng(7)
    ids = [f"c{i:02d}" for i in range(10)]
    lat, lon = rng.uniform(35, 40, 10), rng.uniform(113, 118, 10)
    region = write_region(
        root / "region",
        cities=[city(c, cost_factor=float(rng.uniform(0.6, 1.6)), gdp_bn_cny=float(rng.uniform(50, 500)),
                     lat=float(la), lon=float(lo)) for c, la, lo in zip(ids, lat, lon)],
        emissions=[{"city": c, "sector": "ind", "pollutant": "PM25",
                    "emission_t": float(rng.uniform(500, 2000))} for c in ids],
        measures=[measure("m1", group="g1", cost=800.0, max_application=0.8),
                  measure("m2", group="g2", cost=3000.0, max_application=0.7)],
        efficiencies=[{"measure": "m1", "pollutant": "PM25", "efficiency": 0.4},
                      {"measure": "m2", "pollutant": "PM25", "efficiency": 0.5}],
        transport=[{"metric": "PM25", "receptor": r, "source": s, "pollutant": "PM25",
                    "coef_ugm3_per_kt": float(rng.uniform(3, 6) if r == s else rng.uniform(0.2, 1.5))}
                   for r in ids for s in ids],
        concentrations=[{"metric": "PM25", "receptor": r, "baseline_ugm3": 30.0} for r in ids])
    targets = [{"metric": "PM25", "receptors": [c], "max_ugm3": float(rng.uniform(24, 27))}
               for c in ids]
    return write_scenario(root / "ten.yaml", region, name="ten", targets=targets)


def test_sampled_shapley_is_within_its_stated_confidence_of_the_exact_value(ten_city, tmp_path):
    cache = tmp_path / "coalitions.csv"
    exact = compensate(ten_city, methods=["shapley"], cache=cache)
    assert exact.summary["exact"] and len(exact.coalitions) == 1023
    assert exact.summary["game"]["coalitions_needing_rule"] > 0
    # The same game sampled: its coalitions come from the cache (no LP is solved again).
    sampled = compensate(ten_city, methods=["shapley", "nucleolus"], exact=False, cache=cache,
                         se_target=0.01, seed=11)
    assert sampled.summary["coalitions_solved_this_run"] == 0
    s = sampled.summary["sampling"]
    assert s["converged"] and s["largest_se_cny"] <= 0.01 * sampled.summary["joint_cost_cny"]
    truth, est = alloc(exact, "shapley"), alloc(sampled, "shapley")
    se = sampled.allocation["se_shapley_cny"].to_numpy()
    z = np.abs(est - truth) / se
    assert (z < 3.5).all(), z                       # every player within 3.5 SE
    assert (z < 1.96).mean() >= 0.7, z               # about 95 % within 1.96 SE
    assert est.sum() == pytest.approx(exact.summary["joint_cost_cny"], rel=1e-9)  # efficient
    assert sampled.summary["core"]["exhaustive"] is False
    assert sampled.summary["methods"]["nucleolus"]["sum_cny"] == pytest.approx(
        exact.summary["joint_cost_cny"], rel=1e-9)


def test_dask_gives_the_serial_costs(ten_city, tmp_path):
    serial = compensate(ten_city, players={f"c{i:02d}": f"c{i:02d}" for i in range(6)})
    dask = compensate(ten_city, players={f"c{i:02d}": f"c{i:02d}" for i in range(6)}, workers=2)
    assert dask.coalitions["cost_cny"].to_numpy() == \
        pytest.approx(serial.coalitions["cost_cny"].to_numpy(), rel=1e-7)
    assert alloc(dask, "shapley") == pytest.approx(alloc(serial, "shapley"), rel=1e-7)
    assert serial.summary["outside_game"] == ["c06", "c07", "c08", "c09"]
    # a running cluster, by its address (in-process workers keep this fast)
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:
        remote = compensate(ten_city, players={f"c{i:02d}": f"c{i:02d}" for i in range(6)},
                            scheduler=cluster.scheduler_address, via="fund")
    assert alloc(remote, "shapley") == pytest.approx(alloc(serial, "shapley"), rel=1e-7)
    assert set(remote.transfers["from"]) | set(remote.transfers["to"]) >= {"regional fund"}


def test_an_interrupted_run_resumes_from_the_coalitions_it_solved(ten_city, tmp_path, monkeypatch):
    import fairshare.compensation.game as game

    out = tmp_path / "out"
    args = [str(ten_city), "--method", "shapley", "-o", str(out), "--no-plots"]
    real = game.CoalitionSolver.value
    calls = {"n": 0}

    def interrupted(self, mask, want_plan=False):
        calls["n"] += 1
        if calls["n"] > 600:
            raise KeyboardInterrupt
        return real(self, mask, want_plan)

    monkeypatch.setattr(game.CoalitionSolver, "value", interrupted)
    first = CliRunner().invoke(compensate_command, args)
    assert first.exit_code == 130
    cache = out / ".ten-compensation.coalitions.csv"
    assert cache.is_file() and "the same command resumes" in first.output
    assert not (out / "ten-compensation").exists()
    kept = sum(1 for _ in open(cache)) - 2
    assert 256 <= kept < 1023
    monkeypatch.setattr(game.CoalitionSolver, "value", real)
    game._SOLVERS.clear()
    second = CliRunner().invoke(compensate_command, args)
    assert second.exit_code == 0, second.output
    summary = json.loads((out / "ten-compensation" / "summary.json").read_text())
    assert summary["resume"]["coalitions_resumed"] == kept
    assert summary["coalitions_solved_this_run"] == 1023 - kept
    assert not cache.exists()
    fresh = compensate(ten_city)
    assert pd.read_csv(out / "ten-compensation" / "allocation.csv")["alloc_shapley_cny"].to_numpy() \
        == pytest.approx(alloc(fresh, "shapley"), rel=1e-7)


# --- players and input problems ---------------------------------------------------------------

def test_players_from_a_file_and_receptors_that_are_not_cities(tmp_path):
    # Receptors r_a and r_b (receptors.csv), owned by the city that contributes most.
    region = write_region(
        tmp_path / "region", cities=[city("a"), city("b"), city("c")],
        emissions=[{"city": c, "sector": "ind", "pollutant": "PM25", "emission_t": 1000.0}
                   for c in "abc"],
        measures=[measure("m1")],
        efficiencies=[{"measure": "m1", "pollutant": "PM25", "efficiency": 0.5}],
        transport=[{"metric": "PM25", "receptor": f"r_{r}", "source": s, "pollutant": "PM25",
                    "coef_ugm3_per_kt": 10.0 if r == s else 1.0} for r in "ab" for s in "abc"],
        concentrations=[{"metric": "PM25", "receptor": f"r_{r}", "baseline_ugm3": 20.0}
                        for r in "ab"],
        receptors=[{"receptor": f"r_{r}", "population": 1e6} for r in "ab"])
    path = write_scenario(tmp_path / "s.yaml", region, name="rec",
                          targets=[{"metric": "PM25", "receptors": "all", "max_ugm3": 18}])
    groups = tmp_path / "groups.csv"
    pd.DataFrame({"city": ["a", "b", "c"], "player": ["west", "east", "east"]}).to_csv(groups, index=False)
    comp = compensate(path, players=groups, methods=["shapley", "proportional:benefit"])
    assert list(comp.allocation["player"]) == ["west", "east"]
    rules = {r["receptor"]: (r["player"], r["rule"]) for r in comp.summary["receptors"]}
    assert rules == {"r_a": ("west", "largest contributor: a"),
                     "r_b": ("east", "largest contributor: b")}
    assert alloc(comp, "proportional:benefit").sum() == pytest.approx(
        comp.summary["joint_cost_cny"], rel=1e-9)

    bad = CliRunner().invoke(compensate_command, [str(path), "--players", "provnice"])
    assert bad.exit_code == 2 and "did you mean 'province'" in bad.output
    with pytest.raises(InputError, match="not a city of the region"):
        compensate(path, players={"x": ["a", "zz"]})
    bad = CliRunner().invoke(compensate_command, [str(path), "--method", "proportional"])
    assert bad.exit_code == 2 and "proportional:gdp" in bad.output


def test_an_infeasible_joint_plan_exits_3(tmp_path):
    path = weak_city_scenario(tmp_path)
    infeasible = write_scenario(tmp_path / "inf.yaml", tmp_path / "region", name="inf",
                                targets=[{"metric": "PM25", "receptors": ["a"], "max_ugm3": 5}])
    result = CliRunner().invoke(compensate_command, [str(infeasible), "-o", str(tmp_path / "o")])
    assert result.exit_code == 3 and "does not solve" in result.output
    with pytest.raises(GameError):
        compensate(infeasible)
    assert path.exists()


def test_roadmaps_and_robust_plans_are_refused_by_name(tmp_path):
    roadmap = tmp_path / "roadmap.yaml"
    roadmap.write_text(f"extends: {JJJ}\nname: roadmap\nyears: [2030, 2035]\n")
    with pytest.raises(InputError, match="a roadmap"):
        compensate(roadmap)
    result = CliRunner().invoke(compensate_command, [str(roadmap), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and "a roadmap (years:) is not supported" in result.output
    robust = tmp_path / "robust.yaml"
    robust.write_text(f"extends: {JJJ}\nname: robust\ntransport: {{robust: [low, high]}}\n")
    with pytest.raises(InputError, match="robust plan"):
        compensate(robust)
