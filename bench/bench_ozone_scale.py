"""Ozone on response surfaces at scale: a 340-city SYNTHETIC region (docs/ozone.md).

    python bench/bench_ozone_scale.py [--cities 340] [--grids 3 5 8] [--time-limit 300]
        [--wall-limit 900] [--percentile 75] [--check-mtfr K] [--seed 1] [--out DIR]
        [--full-mip]

Everything below is SYNTHETIC (drawn at random, seeded, deterministic; no number is a
fact about any real city):

1. bench/make_region.py writes the region (PM25 only; pollutants include NOx and VOC)
   and its scenario (PM25 -R % at every city).
2. An O3 metric is added:
   * transport.csv: O3 rows from NOx and VOC of every (city receptor, source): the
     region's own PM25 kernel of that pollutant, scaled so that a full cut of it removes,
     at the median city, half of the produced O3 (baseline - background). In the
     VOC-limited cores the own NOx coefficient is negative (titration). These rows only
     weight the regional surfaces (|T|, src/fairshare/surfaces.py) and give the reported
     linear_final_ugm3: the baseline is not background + T E.
   * concentrations.csv: an O3 baseline per city, uniform 150-190 µg/m³.
   * response.csv: per city a local and a regional surface on an even grid of n points
     per axis (0..1), the parametric isopleth of models/jjj-2plus26/build_response.py,
         change = A [g(1-u_nox, 1-u_voc; k) - g(1, 1; k)],  g = 2 k n v^2 / (n^2 + k^2 v^2)
     Local k: the 15 % most populous cities are VOC-limited cores (k uniform 0.45-0.8),
     the others NOx-limited (k uniform 2-3). Regional k = K_REG (0.2, titrating, like the
     shipped 0.198). Amplitudes: with every NOx and VOC emission cut, a city's O3 falls to
     its "background", uniform 100-110 µg/m³; the local part's share of that fall is the
     linear model's (own VOC full-cut effect over all cities'), clipped to 10-50 %.
3. The scenario: make_region's PM25 target plus O3 <= X at every city, with
   solver {time_limit_s: --time-limit, mip_rel_gap: 1e-6}. X: the --percentile
   percentile of the O3 that the PM25-only plan (solved once, not timed) leaves on the
   analytic surfaces, so the O3 target binds where the PM plan leaves more (about
   100 - percentile % of the cities). Feasibility is not checked beforehand by default:
   fairshare's O3 MTFR on the surfaces costs about a minute per receptor at 340 cities
   (one LP over the 339 other cities' measures per regional surface, then one per
   triangle), so ``--check-mtfr K`` computes it (coarsest grid, not timed) only at the K
   cities with the highest baseline and raises X to their largest MTFR + 1 if needed. An
   infeasible target shows as status ``infeasible`` below.
4. Per grid: the whole ``fairshare.solve(fairshare.load_scenario(path))`` (load, lazy
   rounds, results; the results table's MTFR is skipped by fairshare at this size), timed
   in a child process (peak RSS) that is killed after ``--wall-limit`` seconds (status
   ``wall_limit``): HiGHS's time limit bounds the rounds, not the rest.
   ``--full-mip``: also every binary from the start.

Each line: status, seconds, binaries in the model / made integer, lazy rounds, pairs with
binaries, cost, the largest interpolation error estimate at the plan, the load average
(the machine's other work slows HiGHS).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from make_region import make_region  # noqa: E402

K_REG = 0.2                    # SYNTHETIC: regional regime, titrating (shipped: 0.198)
CORE_SHARE = 0.15              # SYNTHETIC: share of cities that are VOC-limited cores
K_CORE = (0.45, 0.8)           # SYNTHETIC
K_OTHER = (2.0, 3.0)           # SYNTHETIC
O3_BASE = (150.0, 190.0)       # SYNTHETIC: O3 baseline, µg/m³
O3_FLOOR = (100.0, 110.0)      # SYNTHETIC: O3 with every NOx and VOC emission cut
LOCAL_SHARE = (0.10, 0.50)     # clip of the local part's share of the fall


def g(n, v, k):
    """The isopleth of models/jjj-2plus26/build_response.py."""
    n, v = np.asarray(n, float), np.asarray(v, float)
    den = n * n + k * k * v * v
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, 2 * k * n * v * v / np.where(den > 0, den, 1), 0.0)


class Ozone:
    """The synthetic O3 of a make_region region: baselines, regimes, amplitudes, weights."""

    def __init__(self, region: Path, seed: int):
        rng = np.random.default_rng([seed, 3])
        cities = pd.read_csv(region / "cities.csv")
        self.cities = cities["city"].astype(str).tolist()
        S = len(self.cities)
        em = pd.read_csv(region / "emissions.csv")
        em = em[em.pollutant.isin(["NOx", "VOC"])].groupby(["city", "pollutant"])["emission_t"] \
            .sum().unstack().reindex(self.cities)
        self.E = em[["NOx", "VOC"]].to_numpy(float).T / 1000           # [2, S] kt
        tr = pd.read_csv(region / "transport.csv")
        tr = tr[(tr.metric == "PM25") & tr.pollutant.isin(["NOx", "VOC"])]
        idx = {c: i for i, c in enumerate(self.cities)}
        T = np.zeros((2, S, S))                                          # [p, r, s]
        T[tr.pollutant.map({"NOx": 0, "VOC": 1}).to_numpy(), tr.receptor.map(idx).to_numpy(),
          tr.source.map(idx).to_numpy()] = tr.coef_ugm3_per_kt.to_numpy()
        self.base = rng.uniform(*O3_BASE, S)
        floor = rng.uniform(*O3_FLOOR, S)
        produced = self.base - floor
        full = np.einsum("prs,ps->pr", T, self.E)                        # [2, R]
        T *= (0.5 * np.median(produced) / np.median(full, axis=1))[:, None, None]
        pop = cities["population"].to_numpy()
        n_core = int(round(CORE_SHARE * S))
        self.core = np.zeros(S, bool)
        self.core[np.argsort(-pop, kind="stable")[:n_core]] = True
        self.k = np.where(self.core, rng.uniform(*K_CORE, S), rng.uniform(*K_OTHER, S))
        own = np.arange(S)
        T[0, own[self.core], own[self.core]] *= -1                       # titration
        self.T = T
        voc_full = T[1] * self.E[1][None, :]
        share = np.clip(voc_full[own, own] / voc_full.sum(axis=1), *LOCAL_SHARE)
        self.share = share
        self.A = share * produced / g(1, 1, self.k)
        self.B = (1 - share) * produced / g(1, 1, K_REG)
        # regional weights as fairshare derives them: |T| of the others, over their emission
        w = np.abs(T).copy()
        w[:, own, own] = 0.0
        self.W = w / np.einsum("prs,ps->pr", w, self.E)[:, :, None]    # [p, r, s]

    def value(self, u_nox, u_voc) -> np.ndarray:
        """[R] O3 at the cities' own cut shares u (analytic surfaces, not the grid)."""
        dE = np.stack([u_nox, u_voc]) * self.E
        w = np.einsum("prs,ps->pr", self.W, dE)
        return (self.base + self.A * (g(1 - u_nox, 1 - u_voc, self.k) - g(1, 1, self.k))
                + self.B * (g(1 - w[0], 1 - w[1], K_REG) - g(1, 1, K_REG)))

    def write_tables(self, region: Path) -> None:
        S = len(self.cities)
        c = np.repeat(np.array(self.cities, object), S)
        s = np.tile(np.array(self.cities, object), S)
        rows = [pd.DataFrame({"metric": "O3", "receptor": c, "source": s, "pollutant": p,
                              "coef_ugm3_per_kt": self.T[a].reshape(-1)})
                for a, p in enumerate(("NOx", "VOC"))]
        pd.concat(rows).to_csv(region / "transport.csv", mode="a", header=False, index=False,
                               float_format="%.8g", lineterminator="\n")
        pd.DataFrame({"metric": "O3", "receptor": self.cities, "baseline_ugm3": self.base}) \
            .to_csv(region / "concentrations.csv", mode="a", header=False, index=False,
                    float_format="%.4f", lineterminator="\n")

    def response(self, points: int) -> pd.DataFrame:
        grid = np.linspace(0, 1, points).round(6)
        un, uv = (a.ravel() for a in np.meshgrid(grid, grid, indexing="ij"))
        out = []
        for part, amp, k in (("local", self.A, self.k),
                             ("regional", self.B, np.full(len(self.cities), K_REG))):
            z = amp[:, None] * (g(1 - un[None, :], 1 - uv[None, :], k[:, None])
                                - g(1, 1, k)[:, None])
            out.append(pd.DataFrame({
                "metric": "O3", "receptor": np.repeat(self.cities, len(un)), "part": part,
                "nox_cut_share": np.tile(un, len(self.cities)),
                "voc_cut_share": np.tile(uv, len(self.cities)),
                "change_ugm3": np.round(z.ravel(), 4) + 0.0}))
        return pd.concat(out, ignore_index=True)


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


class Trace:
    """Where the time goes, without touching fairshare: wraps each HiGHS run of the solve
    (not the MTFR's) and the lazy step that makes violated pairs' binaries integer (fairshare's summary has
    no ``solver.mip`` when a MIP ends at its limit)."""

    def __init__(self):
        import highspy
        from fairshare.model import surfaces as ms
        from fairshare.solver import highs

        self.runs, self.added, self.in_model = [], [], None
        run_once, needed = highs._run_once, ms.LazyBinaries.needed

        def traced_run(h):
            t = time.perf_counter()
            status, text = run_once(h)
            if not h.HandleUserInterrupt:  # an MTFR LP (fairshare runs those plainly)
                return status, text
            info = h.getInfo()
            lp = h.getLp()
            n_int = sum(1 for v in (lp.integrality_ or []) if v != highspy.HighsVarType.kContinuous)
            self.runs.append({"seconds": time.perf_counter() - t, "status": status.value,
                              "integer": n_int, "nodes": int(info.mip_node_count),
                              "dual_bound": float(info.mip_dual_bound),
                              "objective": float(info.objective_function_value),
                              "has_solution": int(info.primal_solution_status) == 2})
            return status, text

        def traced_needed(lazy, x, lp):
            more = needed(lazy, x, lp)
            self.in_model = int(len(lazy._bin))
            self.added.append((len(more), int(sum(len(m[0]) for m in more))))
            return more

        highs._run_once, ms.LazyBinaries.needed = traced_run, traced_needed

    def text(self) -> str:
        out, adds = [], iter(self.added)
        for k, r in enumerate(self.runs):
            what = f"MIP ({r['integer']} integer)" if r["integer"] else "LP"
            extra = (f", bound {r['dual_bound']:.4f}, "
                     + (f"best {r['objective']:.4f}" if r["has_solution"] else "no incumbent")
                     + f", {r['nodes']} nodes") if r["integer"] else (
                f", {r['objective']:.4f}" if r["status"] == "optimal" else "")
            out.append(f"{what} {r['seconds']:.1f} s {r['status']}{extra}")
            add = next(adds, None)
            if add and add[0]:
                out.append(f"+{add[0]} pairs / {add[1]} binaries integer")
        return " -> ".join(out)


def timed(path: Path, full_mip: bool = False) -> dict:
    import fairshare as fs
    import fairshare.api  # noqa: F401  (imports outside the timing, as in a warm process)
    import fairshare.scenario  # noqa: F401

    trace = Trace()
    t0 = time.perf_counter()
    try:
        if full_mip:  # every binary integer from the start (as bench/bench_ozone.py)
            from fairshare.solver import solve_model

            sc = fs.load_scenario(path)
            model = fs.build_model(sc)
            if hasattr(model, "_fs_lazy_binaries"):
                del model._fs_lazy_binaries
            out = solve_model(model, time_limit_s=sc.solver.time_limit_s)
            ints = [r["integer"] for r in trace.runs]
            return {"status": out.status.value, "seconds": time.perf_counter() - t0,
                    "cost_bn": None if out.objective is None else out.objective / 1e3,
                    "binaries": max(ints, default=None), "integer": max(ints, default=None),
                    "rounds": len(trace.runs), "pairs": "-", "bound": None,
                    "load": load_average(), "trace": trace.text()}
        res = fs.solve(fs.load_scenario(path))
    except Exception:  # a crash inside fairshare is a result: print it, go on
        return {"status": "CRASH", "seconds": time.perf_counter() - t0, "cost_bn": None,
                "binaries": None, "integer": None, "rounds": None, "pairs": None, "bound": None,
                "load": load_average(), "traceback": traceback.format_exc(),
                "trace": trace.text()}
    seconds = time.perf_counter() - t0
    mip = res.summary["solver"].get("mip") or {}
    resp = res.summary.get("response") or {}
    # the lazy rounds as traced (fairshare's own figures when it reports them)
    pairs = sum(a[0] for a in trace.added)
    return {"status": res.status.value, "seconds": seconds,
            "cost_bn": None if res.total_cost is None else res.total_cost / 1e9,
            "binaries": mip.get("binaries_in_model", resp.get("binaries", trace.in_model)),
            "integer": mip.get("integer_columns", sum(a[1] for a in trace.added)),
            "rounds": mip.get("rounds", 1 + sum(1 for a in trace.added if a[0])),
            "pairs": mip.get("pairs_with_binaries", pairs),
            "bound": resp.get("max_error_bound_ugm3"), "load": load_average(),
            "o3_binding": _binding(res), "trace": trace.text()}


def _binding(res) -> int | None:
    """Cities whose O3 ends within 0.01 µg/m³ of the target."""
    r = res.receptors
    if r is None or "final_ugm3" not in r or "metric" not in r:
        return None
    o3 = r[r.metric == "O3"]
    if "target_ugm3" not in o3:
        return None
    return int(((o3.target_ugm3 - o3.final_ugm3).abs() <= 0.01).sum())


def in_child(path: Path, wall_limit: float, full_mip: bool = False) -> dict:
    """timed() in a fresh Python process, killed (by its own pid) after wall_limit s."""
    with tempfile.TemporaryDirectory(prefix="bench-ozone-child-") as tmp:
        out = Path(tmp) / "out.json"
        cmd = [sys.executable, __file__, "--child", str(path), "--result", str(out)]
        if full_mip:
            cmd.append("--full-mip")
        with open(Path(tmp) / "log", "w+") as log:
            t0 = time.perf_counter()
            p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
            try:
                p.wait(timeout=wall_limit)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            wall = time.perf_counter() - t0
            log.seek(0)
            text = log.read()
        if out.exists():
            r = json.loads(out.read_text())
        else:
            status = "wall_limit" if p.returncode == -signal.SIGKILL else "CRASH"
            r = {"status": status, "seconds": wall, "cost_bn": None, "binaries": None,
                 "integer": None, "rounds": None, "pairs": None, "bound": None,
                 "load": load_average()}
            if status == "CRASH":
                r["traceback"] = text[-3000:]
    r["peak_rss_gb"] = usage.ru_maxrss / 1024 ** 2  # the largest child so far
    return r


def line(label: str, r: dict) -> str:
    cost = "-" if r["cost_bn"] is None else f"{r['cost_bn']:.4f}"
    bound = "-" if r["bound"] is None else f"{r['bound']:.2f}"
    binding = r.get("o3_binding")
    return (f"  {label:>8} {r['status']:>10} {r['seconds']:8.2f} s  binaries {r['binaries']!s:>6} "
            f"integer {r['integer']!s:>5}  rounds {r['rounds']!s:>2}  pairs {r['pairs']!s:>3}  "
            f"cost {cost} bn  err@plan {bound}  O3 at target {binding if binding is not None else '-'}"
            f"  load {r['load']}  rss {r.get('peak_rss_gb', float('nan')):.2f} GB")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cities", type=int, default=340)
    ap.add_argument("--grids", type=int, nargs="+", default=[3, 5, 8])
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument("--percentile", type=float, default=75.0,
                    help="X = this percentile of the PM plan's O3 (default 75)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=None, help="default: a temporary folder, removed")
    ap.add_argument("--full-mip", action="store_true")
    ap.add_argument("--wall-limit", type=float, default=None,
                    help="kill a solve after this many seconds (default 2 x time limit + 300)")
    ap.add_argument("--check-mtfr", type=int, default=0, metavar="K",
                    help="O3 MTFR at the K highest-baseline cities first (about 1 min each)")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--result", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        Path(a.result).write_text(json.dumps(timed(Path(a.child), a.full_mip)))
        return 0
    wall_limit = a.wall_limit or 2 * a.time_limit + 300
    import fairshare as fs

    folder = Path(a.out) if a.out else Path(tempfile.mkdtemp(prefix="bench-ozone-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"load average {load_average()} on {os.cpu_count()} cpus; folder {folder}", flush=True)
    t0 = time.perf_counter()
    base = make_region(folder / "base", cities=a.cities, seed=a.seed)
    oz = Ozone(base, a.seed)
    base_sc = yaml.safe_load((base / "scenario.yaml").read_text())
    print(f"region: {a.cities} cities = receptors, {int(oz.core.sum())} VOC-limited cores "
          f"(k {oz.k[oz.core].min():.2f}-{oz.k[oz.core].max():.2f}), others k "
          f"{oz.k[~oz.core].min():.2f}-{oz.k[~oz.core].max():.2f}, regional k {K_REG}; "
          f"local share {oz.share.min():.2f}-{oz.share.max():.2f} (median "
          f"{np.median(oz.share):.2f}); O3 baseline {oz.base.min():.1f}-{oz.base.max():.1f}; "
          f"made in {time.perf_counter() - t0:.1f} s", flush=True)

    # X from the PM25-only plan's O3 on the analytic surfaces (not timed)
    t1 = time.perf_counter()
    pm = fs.solve(fs.load_scenario(base / "scenario.yaml"))
    cut = pm.cities.set_index("city").reindex(oz.cities)
    o3_pm = oz.value(cut.reduction_pct_NOx.to_numpy() / 100, cut.reduction_pct_VOC.to_numpy() / 100)
    x = round(float(np.percentile(o3_pm, a.percentile)), 1)
    print(f"PM25-only plan ({base_sc['targets'][0]}): {pm.status.value}, "
          f"{pm.total_cost / 1e9:.4f} bn, {time.perf_counter() - t1:.1f} s; its O3 on the "
          f"surfaces {o3_pm.min():.1f}-{o3_pm.max():.1f} (median {np.median(o3_pm):.1f}); "
          f"p{a.percentile:g} -> X = {x} µg/m³ ({int((o3_pm > x).sum())} cities above)",
          flush=True)

    scenarios = {}
    for n in a.grids:
        region = folder / f"syn-o3-{n}"
        shutil.rmtree(region, ignore_errors=True)
        shutil.copytree(base, region, ignore=shutil.ignore_patterns("scenario.yaml"))
        oz.write_tables(region)
        resp = oz.response(n)
        resp.to_csv(region / "response.csv", index=False, float_format="%.6g",
                    lineterminator="\n")
        path = folder / f"co-control-{n}.yaml"
        path.write_text(yaml.safe_dump({
            "name": f"syn-{a.cities}-co-control-{n}",
            "description": "SYNTHETIC: PM25 target of make_region plus O3 <= X at every city",
            "region": str(region), "objective": "min_cost", "cost_model": "linear",
            "solver": {"time_limit_s": a.time_limit, "mip_rel_gap": 1e-6},
            "targets": [base_sc["targets"][0],
                        {"metric": "O3", "receptors": "all", "max_ugm3": x}]}, sort_keys=False))
        scenarios[n] = path
        print(f"grid {n} x {n}: {len(resp):,} response rows, {2 * a.cities} surfaces "
              f"({a.cities} receptors x local/regional), {n * n} points each", flush=True)
    if a.check_mtfr:
        from fairshare.api import prepare
        from fairshare.model.surfaces import surface_mtfr

        t1 = time.perf_counter()
        inst = prepare(fs.load_scenario(scenarios[min(a.grids)]))
        q = list(inst.data.metrics).index("O3")
        pick = np.argsort(-oz.base, kind="stable")[:a.check_mtfr]
        rec = [list(inst.data.receptors).index(oz.cities[i]) for i in pick]
        m = surface_mtfr(inst.data, q, np.array(rec))
        print(f"O3 MTFR (grid {min(a.grids)}) at the {len(pick)} highest baselines: "
              f"{np.nanmin(m):.1f}-{np.nanmax(m):.1f} µg/m³ ({time.perf_counter() - t1:.1f} s)",
              flush=True)
        if x < np.nanmax(m) + 1:
            x = round(float(np.nanmax(m)) + 1, 1)
            print(f"X raised to {x} µg/m³: {int((o3_pm > x).sum())} cities above it in the "
                  "PM plan", flush=True)
            for path in scenarios.values():
                sc = yaml.safe_load(path.read_text())
                sc["targets"][1]["max_ugm3"] = x
                path.write_text(yaml.safe_dump(sc, sort_keys=False))

    print(f"co-control (PM25 target + O3 <= {x}), time limit {a.time_limit:g} s per solve, "
          f"mip_rel_gap 1e-6, wall limit {wall_limit:g} s; whole fairshare.solve, own process:",
          flush=True)
    crashes = []
    for n in a.grids:
        r = in_child(scenarios[n], wall_limit)
        print(line(f"{n} x {n}", r), flush=True)
        print(f"           HiGHS runs: {r.get('trace') or '-'}", flush=True)
        if "traceback" in r:
            crashes.append((n, r["traceback"]))
        if a.full_mip:
            r = in_child(scenarios[n], wall_limit, full_mip=True)
            print(line("full MIP", r), flush=True)
            print(f"           HiGHS runs: {r.get('trace') or '-'}", flush=True)
            if "traceback" in r:
                crashes.append((n, r["traceback"]))
    for n, tb in crashes:
        print(f"--- crash on grid {n} x {n} (scenario {scenarios[n]}):\n{tb}")
    if not a.out:
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if crashes else 0


if __name__ == "__main__":
    raise SystemExit(main())
