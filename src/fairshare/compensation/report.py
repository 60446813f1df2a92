"""The game's tables and summary (CNY/yr), the results folder, the printed table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fairshare.compensation import allocation as al
from fairshare.compensation.transfers import settle
from fairshare.units import CNY_PER_MCNY

RULE_TEXT = {
    "met": "targets met",
    "penalty": "penalty: shortfall priced",
    "reachable": "reachable: targets relaxed to the least total shortfall",
}
FILES = ("allocation.csv", "transfers.csv", "coalitions.csv", "summary.json")


def _key(method: str) -> str:
    return method.replace(":", "_")


def assemble(lc, inst, pl, ev, res, info: dict):
    from fairshare.compensation.api import GAME_METHODS, Compensation

    n = pl.n
    methods = info["methods"]
    unmet = info["unmet"]
    other = "reachable" if unmet == "penalty" else "penalty"
    values = ev.store.values
    needing = sorted((v for v in values.values() if not v.met and v.mask < (1 << n)),
                     key=lambda v: (bin(v.mask).count("1"), v.mask))
    to_cny = CNY_PER_MCNY
    tol = 1e-6 * max(1.0, abs(res.c_full))
    names = list(pl.names)

    table = pd.DataFrame({
        "player": names,
        "members": [";".join(pl.members(i)) for i in range(n)],
        "plan_cost_cny": res.plan_cost * to_cny,
        "standalone_cost_cny": res.standalone * to_cny,
    })
    for m in methods:
        table[f"alloc_{_key(m)}_cny"] = res.alloc[m] * to_cny
        table[f"transfer_{_key(m)}_cny"] = (res.alloc[m] - res.plan_cost) * to_cny
        if m in res.se:
            table[f"se_{_key(m)}_cny"] = res.se[m] * to_cny
    if needing:
        for m in methods:
            if m in GAME_METHODS:
                table[f"alloc_{_key(m)}_if_{other}_cny"] = res.alt[m] * to_cny

    flows = []
    for m in methods:
        x = res.alloc[m]
        if not np.isfinite(x).all():
            continue
        for payer, receiver, amount in settle(names, (x - res.plan_cost), tol, info["via"]):
            flows.append({"method": m, "from": payer, "to": receiver, "amount_cny": amount * to_cny})
    transfers = pd.DataFrame(flows, columns=["method", "from", "to", "amount_cny"])

    coalitions = None
    if info["exact"]:
        rows = []
        for mask in range(1, 1 << n):
            v = values[mask]
            rows.append({"coalition": pl.label(mask), "mask": mask, "size": bin(mask).count("1"),
                         "cost_cny": v.cost * to_cny,
                         "definition": RULE_TEXT["met" if v.met else unmet],
                         "shortfall_ugm3": v.shortfall,
                         f"cost_if_{other}_cny": v.alt_cost * to_cny,
                         f"shortfall_if_{other}_ugm3": v.alt_shortfall, "status": v.status})
        coalitions = pd.DataFrame(rows)

    summary = _summary(lc, inst, pl, ev, res, info, needing, other, tol)
    costs = ev.arrays(n)[0] * to_cny if info["exact"] else None
    return Compensation(inst.scenario.name, pl, table, transfers, coalitions, summary, costs)


def _per_player(names, x) -> dict:
    return {p: float(v) * CNY_PER_MCNY for p, v in zip(names, x)}


def _summary(lc, inst, pl, ev, res, info, needing, other, tol) -> dict:
    from fairshare import __version__
    from fairshare.solver import highs_version

    n = pl.n
    names = list(pl.names)
    exact = info["exact"]
    to_cny = CNY_PER_MCNY
    sc = inst.scenario
    standalone_total = float(res.standalone.sum())
    saving = standalone_total - res.c_full
    methods = {}
    for m in info["methods"]:
        x = res.alloc[m]
        entry = {"allocation_cny": _per_player(names, x),
                 "transfer_cny": _per_player(names, x - res.plan_cost),
                 "sum_cny": float(np.sum(x)) * to_cny}
        check = res.core.get(m)
        if check is not None:
            entry["in_core"] = check["in_core"] if exact or not check["in_core"] else None
            entry["in_core_among_checked"] = check["in_core"]
            entry["min_excess_cny"] = check["min_excess"] * to_cny
            entry["blocking"] = [{"coalition": pl.label(b["mask"]), "saving_cny": b["saving"] * to_cny}
                                 for b in check["blocking"]]
        if m in res.se:
            entry["standard_error_cny"] = _per_player(names, res.se[m])
        if m == "nucleolus":
            entry["over"] = res.nucleolus_over
        if m in res.weights:
            w = res.weights[m]
            entry["weights"] = {p: float(v) for p, v in zip(names, w)}
            if not np.isfinite(x).all():
                entry["note"] = "every weight is 0: the scheme is undefined"
        if needing and m in ("shapley", "nucleolus", "least_core"):
            entry["if_" + other] = {"allocation_cny": _per_player(names, res.alt[m]),
                                    "largest_change_cny": float(np.abs(res.alt[m] - x).max()) * to_cny}
        methods[m] = entry
    sampled = info["sampled"]
    summary = {
        "scenario": sc.name,
        "status": "optimal",
        "players_kind": pl.kind,
        "players": pl.table(),
        "outside_game": [c for c, p in zip(pl.cities, pl.city_player) if p < 0],
        "receptors": [{"receptor": r, "player": names[p] if p >= 0 else None, "rule": rule}
                      for r, p, rule in zip(pl.receptors, pl.receptor_player, pl.receptor_rule)],
        "game": {
            "characteristic_cost": (
                "c(S): the least annual cost for the cities of S to meet the targets S holds "
                "(at its players' receptors) using only their own measures, "
                + ("every other city at its baseline" if info["others"] == "baseline" else
                   "every other player carrying out its stand-alone plan")),
            "others": info["others"],
            "objective": "least cost",
            "fairness_rules_left_out": [w for w, _ in sc.entries() if w.startswith("fairness")],
            "scenario_objective_left_out": None if sc.objective.is_plain_cost else str(sc.objective.kind),
            "unmet_rule": info["unmet"],
            "alternative_rule": other,
            "penalty_cny_per_ugm3": info["price"] * to_cny,
            "penalty_source": info["price_source"],
            "joint_plan_shadow_prices_cny_per_ugm3": {k: v for k, v in info["joint_prices"].items()
                                                      if v > 0},
            "coalitions_needing_rule": len(needing),
            "needing_rule": [{"coalition": pl.label(v.mask), "shortfall_ugm3": v.shortfall,
                              "cost_cny": v.cost * to_cny, f"cost_if_{other}_cny": v.alt_cost * to_cny}
                             for v in needing[:50]],
        },
        "exact": exact,
        "coalitions_solved": len(ev.store),
        "coalitions_solved_this_run": info["solved_this_run"],
        "joint_cost_cny": res.c_full * to_cny,
        "standalone_total_cny": standalone_total * to_cny,
        "saving_of_cooperation_cny": saving * to_cny,
        "saving_of_cooperation_pct": 100 * saving / standalone_total if standalone_total > 0 else None,
        "core": {
            "nonempty": (bool(res.least_core_eps >= -tol) if exact and res.least_core_eps is not None
                         else None),
            "least_core_epsilon_cny": (res.least_core_eps * to_cny
                                       if res.least_core_eps is not None else None),
            "exhaustive": exact,
            "coalitions_checked": res.pool,
        },
        "methods": methods,
        "payments": {"via": info["via"]},
        "resume": {"cache": info["cache"], "coalitions_resumed": info["resumed"],
                   "note": info["store_note"] or None},
        "seconds": info["seconds"],
        "versions": {"fairshare": __version__, "highs": highs_version()},
    }
    if exact:
        summary["axioms"] = axioms(ev.arrays(n)[0], n, res, info["methods"], tol)
    if sampled is not None:
        summary["sampling"] = {
            "method": "random orders (Castro, Gómez & Tejada 2009), standard error per player",
            "permutations": int(len(sampled.permutations)), "seed": info["seed"],
            "batch": info["batch"], "se_target_cny": sampled.se_target * to_cny,
            "se_target_share_of_joint_cost": info["se_target"],
            "largest_se_cny": float(sampled.se.max()) * to_cny,
            "converged": sampled.converged, "stopped_by": sampled.stopped_by,
            "constraint_generation": "local search over coalitions one player apart; not a proof "
                                     "that no other coalition blocks",
        }
    return summary


def axioms(c: np.ndarray, n: int, res, methods, tol: float) -> dict:
    """Efficiency, symmetry and the null player, checked on every allocation of an exact game."""
    pairs = al.symmetric_pairs(c, n, tol)
    nulls = al.null_players(c, n, tol)
    out = {"symmetric_pairs": [list(p) for p in pairs], "null_players": nulls, "methods": {}}
    for m in methods:
        x = res.alloc[m]
        if not np.isfinite(x).all():
            continue
        out["methods"][m] = {
            "efficiency_gap_cny": float(abs(x.sum() - res.c_full)) * CNY_PER_MCNY,
            "symmetry_gap_cny": float(max((abs(x[i] - x[j]) for i, j in pairs), default=0.0)) * CNY_PER_MCNY,
            "null_player_gap_cny": float(max((abs(x[i]) for i in nulls), default=0.0)) * CNY_PER_MCNY,
        }
    return out


# --- the folder ---------------------------------------------------------------------------

def folder_name(scenario_name: str) -> str:
    return f"{scenario_name}-compensation"


def write_tables(comp, folder: Path) -> None:
    from fairshare.folders import write_json

    comp.allocation.to_csv(folder / "allocation.csv", index=False, float_format="%.10g")
    comp.transfers.to_csv(folder / "transfers.csv", index=False, float_format="%.10g")
    if comp.coalitions is not None:
        comp.coalitions.to_csv(folder / "coalitions.csv", index=False, float_format="%.10g")
    write_json(folder / "summary.json", comp.summary)


def write(comp, out_dir: str | Path, overwrite: bool = False, plots: bool = True, geo=None,
          warn=None) -> Path:
    """Write ``out_dir/<name>-compensation/`` atomically: the tables, then the plots (a plot
    that fails is a warning through ``warn``; the tables are kept)."""
    from fairshare.folders import write_folder

    def fill(folder: Path) -> None:
        write_tables(comp, folder)
        if plots:
            try:
                from fairshare.compensation.plots import write_plots
                write_plots(comp, folder, geo)
            except Exception as exc:  # a plot is an extra; the tables are the result
                if warn is not None:
                    warn(f"warning: the plots could not be drawn ({type(exc).__name__}: {exc}); "
                         "the tables are written")

    return write_folder(out_dir, folder_name(comp.scenario), fill, overwrite)


def format_table(comp) -> str:
    """The printed table: per player its cost in the plan, alone, and per method its
    allocation and transfer (bn CNY/yr; a positive transfer is paid)."""
    s = comp.summary
    t = comp.allocation
    lines = []
    kind = "exact" if s["exact"] else f"sampled ({s['sampling']['permutations']} orders)"
    lines.append(f"scenario {s['scenario']}: {len(t)} players ({s['players_kind']}), game {kind}, "
                 f"{s['coalitions_solved']} coalitions")
    lines.append(f"joint plan {s['joint_cost_cny'] / 1e9:,.3f} bn CNY/yr; each alone "
                 f"{s['standalone_total_cny'] / 1e9:,.3f}; saving of cooperation "
                 f"{s['saving_of_cooperation_cny'] / 1e9:,.3f}"
                 + (f" ({s['saving_of_cooperation_pct']:.1f}%)"
                    if s["saving_of_cooperation_pct"] is not None else ""))
    if not s["exact"] and not s["sampling"]["converged"]:
        lines.append(f"NOT CONVERGED: after {s['sampling']['permutations']} orders the largest "
                     f"standard error is {s['sampling']['largest_se_cny'] / 1e9:,.4f} bn CNY/yr, "
                     f"above the target {s['sampling']['se_target_cny'] / 1e9:,.4f} "
                     "(raise --max-permutations)")
    g = s["game"]
    if g["coalitions_needing_rule"]:
        lines.append(f"{g['coalitions_needing_rule']} coalition(s) cannot meet their targets alone: "
                     f"c(S) by the {g['unmet_rule']} rule"
                     + (f" at {g['penalty_cny_per_ugm3'] / 1e6:,.1f} M CNY/yr per µg/m³"
                        if g["unmet_rule"] == "penalty" else "")
                     + f"; allocations under the {g['alternative_rule']} rule in allocation.csv")
    core = s["core"]
    if core["nonempty"] is not None:
        lines.append("core: " + ("non-empty" if core["nonempty"] else "EMPTY")
                     + f" (least-core epsilon {core['least_core_epsilon_cny'] / 1e9:,.4f} bn CNY/yr)")
    show = pd.DataFrame({"player": t["player"], "plan": t["plan_cost_cny"] / 1e9,
                         "alone": t["standalone_cost_cny"] / 1e9})
    for m in s["methods"]:
        show[f"{m}"] = t[f"alloc_{_key(m)}_cny"] / 1e9
        show[f"{m} transfer"] = t[f"transfer_{_key(m)}_cny"] / 1e9
    lines.append("")
    lines.append("bn CNY/yr (transfer > 0: pays, < 0: receives)")
    lines.append(show.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    lines.append("")
    for m, e in s["methods"].items():
        se = ""
        if "standard_error_cny" in e:
            se = f"; largest standard error {max(e['standard_error_cny'].values()) / 1e9:,.4f} bn"
        if "in_core_among_checked" in e:
            state = ("in the core" if e["in_core_among_checked"] else "NOT in the core")
            if not s["exact"]:
                state += f" (among {s['core']['coalitions_checked']} coalitions checked)"
            if e.get("blocking"):
                b = e["blocking"][0]
                state += f"; {b['coalition']} would save {b['saving_cny'] / 1e9:,.4f} bn alone"
        else:
            state = e.get("note", "")
        lines.append(f"  {m}: {state}{se}")
    return "\n".join(lines)
