#!/usr/bin/env python3
"""Scale and speed: fairshare against the LP floor (and linopy) on synthetic regions.

    python bench/bench_scale.py                       # 28, 340 and 2,900 cities, 3 repeats
    python bench/bench_scale.py --sizes 28 340 --repeat 3
    python bench/bench_scale.py --skip-2900 --json bench/out/scale.json
    python bench/bench_scale.py --src /tmp/snapshot/src   # measure another source tree

A benchmark script, not a test: it prints figures. Every run of every route is a
fresh child process (``--child ...``), so import state, caches and memory never
carry over; the parent reads each child's peak resident memory with ``os.wait4``
(the child's own ``ru_maxrss``, not the maximum over all children).

Routes, all on the same region package and the same LP (bench/floor.py's docstring):

* ``fairshare``: ``load_scenario`` + ``prepare`` (read, check, arrays, instance) ->
  ``build_model`` (Pyomo) -> ``solve`` (standard-form compile, matrix blocks appended,
  one ``passModel`` = "compile/hand-off"; HiGHS ``run`` = "solve"; ``make_result``) ->
  ``write_results``. "End to end" is load -> results written, imports excluded (they are
  reported with the CLI figures).
* ``floor``: ``bench/floor.py`` read + assemble (incl. ``passModel``) + solve.
* ``linopy`` (if importable): the floor's arrays (same reader), the LP built with
  linopy, ``Model.solve(solver_name="highs", io_api="direct")`` ("solve" includes
  linopy's hand-off and reading the solution back).

Sizes 28 and 340 read the CSV packages; 2,900 the Parquet one. The 2,900-city LP is run
once per route with a HiGHS time limit (``--time-limit-2900``, default 480 s).
Also measured: ``fairshare run scenarios/jjj-2030-least-cost.yaml`` as a subprocess
(wall time including Python start-up, median of ``--cli-runs``) and a cProfile of that
run (top cumulative entries in fairshare/pyomo/pandas).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
REGIONS = BENCH / "regions"
JJJ = ROOT / "scenarios" / "jjj-2030-least-cost.yaml"
TARGET_RATIO_340 = 1.5      # fairshare end to end <= 1.5 x floor at 340 cities
TARGET_CLI_S = 2.0          # fairshare run jjj-2030-least-cost < 2 s including start-up
PROFILE_PACKAGES = ("/fairshare/", "/pyomo/", "/pandas/")


# ============================================================== children (one route, one run)

def _child_fairshare(a) -> dict:
    t_imp = time.perf_counter()
    from fairshare import api
    from fairshare.results import write_results
    from fairshare.scenario import load_scenario
    out = {"import_s": time.perf_counter() - t_imp}

    t0 = time.perf_counter()
    sc = load_scenario(a.scenario)
    if a.time_limit:
        sc = sc.variant({"solver.time_limit_s": float(a.time_limit)})
    inst = api.prepare(sc)
    t1 = time.perf_counter()
    model = api.build_model(inst)
    t2 = time.perf_counter()
    result = api.solve(inst, model=model)
    t3 = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="fs-bench-"))
    try:
        write_results(result, tmp)
        t4 = time.perf_counter()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    secs = result.summary.get("seconds", {})
    compile_s, solve_s = secs.get("build_solver_model", 0.0), secs.get("solve", 0.0)
    out.update(
        load_s=t1 - t0, load_data_s=secs.get("load_data"), instance_s=secs.get("prepare"),
        build_s=t2 - t1, compile_s=compile_s, solve_s=solve_s,
        make_result_s=(t3 - t2) - compile_s - solve_s, write_s=t4 - t3,
        results_s=(t3 - t2) - compile_s - solve_s + (t4 - t3), total_s=t4 - t0,
        status=str(getattr(result.status, "value", result.status)),
        objective_cny=result.summary.get("objective"),
        size=result.summary.get("problem_size", {}),
        iterations=result.summary.get("solver", {}).get("iterations"),
        message=result.message)
    return out


def _reduction_pct(scenario: Path) -> float:
    import yaml
    sc = yaml.safe_load(Path(scenario).read_text())
    return float(next(t["reduction_pct"] for t in sc["targets"] if "reduction_pct" in t))


def _child_floor(a) -> dict:
    sys.path.insert(0, str(BENCH))
    import floor
    import highspy
    red = _reduction_pct(a.scenario)
    h, info = floor.build_floor_lp(a.region, red)
    if a.time_limit:
        h.setOptionValue("time_limit", float(a.time_limit))
    t0 = time.perf_counter()
    h.run()
    solve_s = time.perf_counter() - t0
    ms = h.getModelStatus()
    ok = ms == highspy.HighsModelStatus.kOptimal
    return dict(read_s=info["read_s"], assemble_s=info["assemble_s"], solve_s=solve_s,
                total_s=info["read_s"] + info["assemble_s"] + solve_s,
                status=h.modelStatusToString(ms).lower(),
                objective_cny=h.getInfo().objective_function_value * floor.COST_UNIT if ok else None,
                size={"constraints": info["rows"], "variables": info["cols"],
                      "nonzeros": info["nnz"]},
                iterations=int(h.getInfo().simplex_iteration_count))


def _child_linopy(a) -> dict:
    sys.path.insert(0, str(BENCH))
    import floor
    import linopy
    import numpy as np
    import pandas as pd
    import xarray as xr
    red = _reduction_pct(a.scenario)
    t0 = time.perf_counter()
    d = floor.load_arrays(a.region)
    t1 = time.perf_counter()
    E, eff, amax, sec, ref, cu, f, T, c0 = (d[k] for k in ("E", "eff", "a", "sec", "ref", "cu",
                                                          "f", "T", "c0"))
    S, K, P = E.shape
    M = eff.shape[0]
    R = T.shape[0]
    cs, ms_, ps, rs = (pd.RangeIndex(n, name=nm) for n, nm in ((S, "s"), (M, "m"), (P, "p"),
                                                                (R, "r")))
    m = linopy.Model()
    x = m.add_variables(lower=0.0, upper=xr.DataArray(amax, coords=[cs, ms_]), name="x")
    dE = m.add_variables(coords=[cs, ps], name="reduction")
    cost = m.add_variables(coords=[cs], name="city_cost")
    removal = xr.DataArray((E[:, sec, :] / floor.EMISSION_UNIT) * eff[None, :, :],
                           coords=[cs, ms_, ps])                           # kt at x = 1
    m.add_constraints(dE - (removal * x).sum("m") == 0, name="reduction_def")
    kappa = f[:, None] * cu[None, :] * E[:, sec, ref] * eff[np.arange(M), ref][None, :] / floor.COST_UNIT
    m.add_constraints(cost - (xr.DataArray(kappa, coords=[cs, ms_]) * x).sum("m") == 0,
                      name="cost_def")
    # exclusivity[s, g] (groups of >= 2 measures) and removal_limit[s, k, p] (where the stack
    # can pass 1), each one constraint over a 0/1 or eff-weighted membership array; linopy
    # drops the zero terms when it builds the matrix.
    gc = d["group_codes"]
    multi = np.flatnonzero(np.bincount(gc) >= 2)
    if len(multi):
        G = (gc[None, :] == multi[:, None]).astype(float)                 # (g, m)
        gs = pd.RangeIndex(len(multi), name="g")
        m.add_constraints((xr.DataArray(G, coords=[gs, ms_]) * x).sum("m") <= 1,
                          name="exclusivity")
    ks = pd.RangeIndex(K, name="k")
    Keff = (sec[None, :] == np.arange(K)[:, None])[:, :, None] * eff[None, :, :]  # (k, m, p)
    need = np.einsum("sm,kmp->skp", amax, Keff) > 1.0
    if need.any():
        m.add_constraints((xr.DataArray(Keff, coords=[ks, ms_, ps]) * x).sum("m") <= 1,
                          name="removal_limit", mask=xr.DataArray(need, coords=[cs, ks, ps]))
    Tx = xr.DataArray(T, coords=[rs, cs, ps])
    m.add_constraints((Tx * dE).sum(["s", "p"]) >= xr.DataArray(c0 * red / 100.0, coords=[rs]),
                      name="aq_target")
    m.add_objective(cost.sum())
    t2 = time.perf_counter()
    kw = {"time_limit": float(a.time_limit)} if a.time_limit else {}
    status, condition = m.solve(solver_name="highs", io_api="direct", output_flag=False, **kw)
    t3 = time.perf_counter()
    return dict(read_s=t1 - t0, build_s=t2 - t1, solve_s=t3 - t2, total_s=t3 - t0,
                status=f"{status}/{condition}",
                objective_cny=(float(m.objective.value) * floor.COST_UNIT
                               if condition == "optimal" else None),
                size={"constraints": int(m.ncons), "variables": int(m.nvars)},
                linopy_version=linopy.__version__)


def _child_cli_profile(a) -> dict:
    import cProfile
    import pstats
    out_dir = Path(tempfile.mkdtemp(prefix="fs-prof-"))
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    from fairshare.cli import main
    try:
        main(["run", str(a.scenario), "-o", str(out_dir), "--overwrite"], standalone_mode=False)
    except SystemExit:
        pass
    prof.disable()
    wall = time.perf_counter() - t0
    shutil.rmtree(out_dir, ignore_errors=True)
    st = pstats.Stats(prof)
    rows, imports = [], 0.0
    for (file, line, fn), (_cc, nc, tt, ct, _callers) in st.stats.items():
        if fn == "_find_and_load" and "importlib" in file:
            imports = max(imports, ct)
        if any(p in file for p in PROFILE_PACKAGES):
            short = file.split("site-packages/")[-1].split("/src/")[-1]
            rows.append({"where": f"{short}:{line}({fn})", "calls": nc, "tottime_s": tt,
                         "cumtime_s": ct})
    rows.sort(key=lambda r: -r["cumtime_s"])
    by_tot = sorted(rows, key=lambda r: -r["tottime_s"])
    return {"profiled_wall_s": wall, "imports_cum_s": imports, "top_cumulative": rows[:a.top],
            "top_tottime": by_tot[:a.top]}


CHILDREN = {"fairshare": _child_fairshare, "floor": _child_floor, "linopy": _child_linopy,
            "cli-profile": _child_cli_profile}


def child_main(a) -> int:
    try:
        res = CHILDREN[a.child](a)
    except BaseException as exc:  # report, never hang the parent
        res = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
    Path(a.out).write_text(json.dumps(res, default=str))
    return 0


# ============================================================== parent

def _env(src: str | None) -> dict:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    return env


def run_child(route: str, region: Path, scenario: Path, src: str | None,
              time_limit: float | None = None, extra: list[str] = ()) -> dict:
    """One child process; returns its JSON plus wall_s and peak RSS (GB) from wait4."""
    with tempfile.TemporaryDirectory(prefix="fs-scale-") as tmp:
        out = Path(tmp) / "out.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", route, "--region",
               str(region), "--scenario", str(scenario), "--out", str(out), *extra]
        if time_limit:
            cmd += ["--time-limit", str(time_limit)]
        with open(Path(tmp) / "log", "w+") as log:
            t0 = time.perf_counter()
            p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=_env(src),
                                 cwd=ROOT)
            _, status, ru = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
            wall = time.perf_counter() - t0
            log.seek(0)
            text = log.read()
        res = json.loads(out.read_text()) if out.exists() else {
            "error": f"child exited {p.returncode} without output: {text[-2000:]}"}
    res.update(wall_s=wall, peak_rss_gb=ru.ru_maxrss / 1024 ** 2, route=route)
    return res


def ensure_region(n: int) -> tuple[Path, Path]:
    region = REGIONS / f"syn-{n}"
    if not (region / "scenario.yaml").exists():
        cmd = [sys.executable, str(BENCH / "make_region.py"), "--cities", str(n), "--out",
               str(region)]
        if n > 1000:
            cmd += ["--format", "parquet"]
        print(f"generating {region} ...", flush=True)
        subprocess.run(cmd, check=True, cwd=ROOT)
    return region, region / "scenario.yaml"


def machine() -> dict:
    def sh(cmd):
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
        except OSError:
            return "?"
    cpu = "?"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = sh("free -h | awk '/^Mem:/{print $2\" total, \"$7\" available\"}'")
    swap = sh("free -h | awk '/^Swap:/{print $2}'")
    vers = sh(f"{sys.executable} -c \"import highspy, pyomo.version, numpy, pandas, scipy; "
              "from importlib.metadata import version as v; "
              "print('highspy', v('highspy'), 'pyomo', pyomo.version.version, 'numpy', "
              "numpy.__version__, 'pandas', pandas.__version__, 'scipy', scipy.__version__)\"")
    return {"nproc": sh("nproc"), "cpu": cpu, "memory": mem, "swap": swap,
            "python": platform.python_version(), "versions": vers}


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def span(values):
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.3g}"
    return f"{min(values):.3g}–{max(values):.3g}"


def fmt(v, unit="s"):
    if v is None:
        return "–"
    if unit == "s":
        return f"{v:.3f} s" if v < 1 else f"{v:.2f} s" if v < 100 else f"{v:.0f} s"
    if unit == "GB":
        return f"{v:.2f} GB"
    return f"{v:.3g}"


def summarise(runs: list[dict], keys) -> dict:
    ok = [r for r in runs if "error" not in r]
    out = {k: med([r.get(k) for r in ok]) for k in keys}
    out["n"] = len(ok)
    out["errors"] = [r["error"] for r in runs if "error" in r]
    out["status"] = sorted({r.get("status") for r in ok}) or ["error"]
    out["objective_cny"] = med([r.get("objective_cny") for r in ok])
    out["size"] = ok[0].get("size") if ok else {}
    out["spans"] = {k: span([r.get(k) for r in ok]) for k in keys}
    return out


FS_KEYS = ("load_s", "build_s", "compile_s", "solve_s", "results_s", "make_result_s", "write_s",
           "total_s", "import_s", "wall_s", "peak_rss_gb", "iterations")
FLOOR_KEYS = ("read_s", "assemble_s", "solve_s", "total_s", "wall_s", "peak_rss_gb", "iterations")
LINOPY_KEYS = ("read_s", "build_s", "solve_s", "total_s", "wall_s", "peak_rss_gb")


def cli_timing(src: str | None, runs: int) -> dict:
    """Wall time of `fairshare run jjj` as a user types it, and its parts."""
    tmp = Path(tempfile.mkdtemp(prefix="fs-cli-"))
    env = _env(src)

    def timed(cmd):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        return time.perf_counter() - t0, p

    exe = shutil.which("fairshare")
    direct = [sys.executable, "-c", "import sys; from fairshare.cli import main; sys.exit(main())"]
    args = ["run", str(JJJ.relative_to(ROOT)), "-o", str(tmp), "--overwrite"]
    out = {"command": f"fairshare {' '.join(args[:2])}", "entry": exe}
    try:
        for label, cmd in (("fairshare (console script on PATH)", [exe, *args] if exe else None),
                           ("python -c 'fairshare.cli.main()'", direct + args),
                           ("python -c pass", [sys.executable, "-c", "pass"]),
                           ("python -c 'import fairshare.api, fairshare.results'",
                            [sys.executable, "-c", "import fairshare.api, fairshare.results"])):
            if cmd is None:
                continue
            times, rc = [], None
            for _ in range(runs):
                dt, p = timed(cmd)
                times.append(dt)
                rc = p.returncode
                if rc != 0:
                    out.setdefault("errors", []).append(f"{label}: exit {rc}: {p.stderr[-500:]}")
                    break
            out[label] = {"median_s": statistics.median(times), "span": span(times), "rc": rc}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def print_tables(report: dict) -> str:
    lines = []
    m = report["machine"]
    lines.append(f"Machine: nproc {m['nproc']}, {m['cpu']}, memory {m['memory']} (swap "
                 f"{m['swap']}); Python {m['python']}; {m['versions']}.")
    la = report["loadavg"]
    lines.append(f"Load average (1/5/15 min): start {la['start']}, end {la['end']}. "
                 f"Medians of {report['repeat']} runs (each a fresh process); ranges in "
                 "brackets.")
    if report.get("src"):
        lines.append(f"Source tree measured: {report['src']}")
    lines.append("")
    lines.append("| cities | LP rows × cols, nonzeros | fairshare load | build (Pyomo) | "
                 "compile/hand-off | HiGHS solve | results (make + write) | end to end | "
                 "peak RSS | floor end to end (read / assemble / solve) | floor RSS | "
                 "ratio fairshare/floor | linopy end to end (build / solve) | linopy RSS | "
                 "status, objective |")
    lines.append("|" + "---|" * 15)
    for n, s in report["sizes"].items():
        fs, fl, li = s["fairshare"], s["floor"], s.get("linopy")
        size = fs.get("size") or fl.get("size") or {}
        dims = (f"{size.get('constraints', 0):,} × {size.get('variables', 0):,}, "
                f"{size.get('nonzeros', 0):,}" if size else "–")
        ratio = (fs["total_s"] / fl["total_s"]) if fs.get("total_s") and fl.get("total_s") else None
        s["ratio"] = ratio
        if li and li.get("n"):
            lin = (f"{fmt(li['total_s'])} ({fmt(li['build_s'])} / {fmt(li['solve_s'])})",
                   fmt(li["peak_rss_gb"], "GB"))
        else:
            lin = ((li or {}).get("note") or "; ".join((li or {}).get("errors", [])) or "not run",
                   "–")
        objs = [fs.get("objective_cny"), fl.get("objective_cny"),
                (li or {}).get("objective_cny")]
        obj = "/".join(f"{o / 1e9:.6g}" if o else "–" for o in objs)
        status = "/".join(x["status"][0] if x and x.get("status") else "–"
                          for x in (fs, fl, li))
        if fs.get("errors") and not fs.get("n"):
            lines.append(f"| {n} | {dims} | error: {fs['errors'][0][:200]} |" + " |" * 13)
            continue
        lines.append(
            f"| {int(n):,} | {dims} | {fmt(fs['load_s'])} | {fmt(fs['build_s'])} | "
            f"{fmt(fs['compile_s'])} | {fmt(fs['solve_s'])} | {fmt(fs['results_s'])} | "
            f"{fmt(fs['total_s'])} [{fs['spans']['total_s']}] | {fmt(fs['peak_rss_gb'], 'GB')} | "
            f"{fmt(fl['total_s'])} [{fl['spans']['total_s']}] ({fmt(fl['read_s'])} / "
            f"{fmt(fl['assemble_s'])} / {fmt(fl['solve_s'])}) | {fmt(fl['peak_rss_gb'], 'GB')} | "
            f"{ratio:.2f}× | {lin[0]} | {lin[1]} | {status}; {obj} bn CNY |"
            if ratio is not None else
            f"| {int(n):,} | {dims} | {fmt(fs.get('load_s'))} | {fmt(fs.get('build_s'))} | "
            f"{fmt(fs.get('compile_s'))} | {fmt(fs.get('solve_s'))} | {fmt(fs.get('results_s'))} | "
            f"{fmt(fs.get('total_s'))} | {fmt(fs.get('peak_rss_gb'), 'GB')} | "
            f"{fmt(fl.get('total_s'))} | {fmt(fl.get('peak_rss_gb'), 'GB')} | – | {lin[0]} | "
            f"{lin[1]} | {status}; {obj} |")
    lines.append("")
    lines.append("Outside the HiGHS solve (solve time varies ±30 % run to run on a shared machine; "
                 "the time around it is the part fairshare controls):")
    lines.append("")
    for n, s in report["sizes"].items():
        fs, fl = s["fairshare"], s["floor"]
        if not fs.get("n") or not fl.get("n"):
            continue
        fo = fs["total_s"] - fs["solve_s"]
        flo = fl["total_s"] - fl["solve_s"]
        lines.append(f"* {int(n):,} cities: fairshare {fmt(fo)} (load {fmt(fs['load_s'])}, build "
                     f"{fmt(fs['build_s'])}, compile/hand-off {fmt(fs['compile_s'])}, results "
                     f"{fmt(fs['results_s'])}) against the floor's {fmt(flo)} (read + assemble): "
                     f"{fo - flo:+.2f} s; with the floor's solve time, end to end would be "
                     f"{(fo + fl['solve_s']) / fl['total_s']:.2f}× the floor.")
    lines.append("")
    lines.append("Targets:")
    for n, s in report["sizes"].items():
        fs = s["fairshare"]
        if not fs.get("n"):
            continue
        ok = fs["build_s"] <= fs["solve_s"]
        lines.append(f"* {int(n):,} cities: Pyomo build {fmt(fs['build_s'])} ≤ HiGHS solve "
                     f"{fmt(fs['solve_s'])}: {'met' if ok else 'MISSED'}"
                     + (f"; end to end {s['ratio']:.2f}× floor (target ≤ {TARGET_RATIO_340}×): "
                        f"{'met' if s['ratio'] <= TARGET_RATIO_340 else 'MISSED'}"
                        if n == "340" and s.get("ratio") else ""))
    cli = report.get("cli")
    if cli:
        lines.append("")
        lines.append(f"`{cli['command']}` as a subprocess (wall, incl. Python start-up; median "
                     f"of {report['cli_runs']}):")
        lines.append("")
        lines.append("| command | median | range |")
        lines.append("|---|---|---|")
        for k, v in cli.items():
            if isinstance(v, dict) and "median_s" in v:
                lines.append(f"| {k} | {v['median_s']:.2f} s | {v['span']} s |")
        main_key = "fairshare (console script on PATH)"
        if main_key in cli:
            t = cli[main_key]["median_s"]
            lines.append("")
            lines.append(f"Target < {TARGET_CLI_S:.0f} s: {'met' if t < TARGET_CLI_S else 'MISSED'} "
                         f"({t:.2f} s).")
        for e in cli.get("errors", []):
            lines.append(f"* error: {e}")
    prof = report.get("profile")
    if prof and "top_cumulative" in prof:
        lines.append("")
        lines.append(f"cProfile of the same run in one process (profiled wall "
                     f"{prof['profiled_wall_s']:.2f} s, of which imports {prof['imports_cum_s']:.2f} s "
                     "cumulative; cProfile inflates Python-heavy code):")
        lines.append("")
        lines.append("| cumulative | own | calls | where |")
        lines.append("|---|---|---|---|")
        for r in prof["top_cumulative"]:
            lines.append(f"| {r['cumtime_s']:.3f} s | {r['tottime_s']:.3f} s | {r['calls']:,} | "
                         f"`{r['where']}` |")
        lines.append("")
        lines.append("Largest own (tottime) entries in fairshare/pyomo/pandas:")
        lines.append("")
        lines.append("| own | cumulative | calls | where |")
        lines.append("|---|---|---|---|")
        for r in prof["top_tottime"]:
            lines.append(f"| {r['tottime_s']:.3f} s | {r['cumtime_s']:.3f} s | {r['calls']:,} | "
                         f"`{r['where']}` |")
    elif prof:
        lines.append(f"profile error: {prof.get('error')}")
    return "\n".join(lines)


def _cli(report: dict, a) -> None:
    print("CLI timing ...", flush=True)
    report["cli"] = cli_timing(a.src, a.cli_runs)
    print("cProfile ...", flush=True)
    report["profile"] = run_child("cli-profile", JJJ.parent, JJJ, a.src,
                                  extra=["--top", str(a.top)])


def parent_main(a) -> int:
    sizes = [n for n in a.sizes if not (a.skip_2900 and n == 2900)]
    try:
        import linopy  # noqa: F401
        have_linopy = not a.no_linopy
    except ImportError:
        have_linopy = False
    report = {"machine": machine(), "loadavg": {"start": " ".join(f"{x:.2f}" for x in
                                                                  os.getloadavg())},
              "repeat": a.repeat, "cli_runs": a.cli_runs, "src": a.src, "sizes": {}}
    print(f"machine: {report['machine']}\nload average at start: {report['loadavg']['start']}",
          flush=True)
    # small sizes first, then the CLI figures, then the slow 2,900-city run
    order = sorted(sizes, key=lambda n: (n > 1000, n))
    for n in order:
        if n > 1000 and not a.no_cli and "cli" not in report:
            _cli(report, a)
        region, scenario = ensure_region(n)
        big = n > 1000
        reps = 1 if big else a.repeat
        tl = a.time_limit_2900 if big else None
        routes = ["fairshare", "floor"] + (["linopy"] if have_linopy and not big else [])
        runs = {r: [] for r in routes}
        for i in range(reps):
            for route in routes:  # interleaved so that background load hits every route alike
                res = run_child(route, region, scenario, a.src, tl)
                runs[route].append(res)
                brief = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in res.items()
                         if k in ("total_s", "solve_s", "build_s", "status", "peak_rss_gb",
                                  "error", "wall_s")}
                print(f"  {n} cities, run {i + 1}/{reps}, {route}: {brief}  "
                      f"[load {os.getloadavg()[0]:.2f}]", flush=True)
        s = {"fairshare": summarise(runs["fairshare"], FS_KEYS),
             "floor": summarise(runs["floor"], FLOOR_KEYS), "runs": runs,
             "time_limit_s": tl}
        if "linopy" in runs:
            s["linopy"] = summarise(runs["linopy"], LINOPY_KEYS)
        elif big and have_linopy:
            s["linopy"] = {"note": "not run at this size (dense aq block of 42 M terms; "
                                   "floor and fairshare only, to save time)"}
        report["sizes"][str(n)] = s
    if not a.no_cli and "cli" not in report:
        _cli(report, a)
    report["loadavg"]["end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    text = print_tables(report)
    print()
    print(text)
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(report, indent=1, default=str))
    if a.markdown:
        Path(a.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(a.markdown).write_text(text + "\n")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[28, 340, 2900])
    ap.add_argument("--repeat", type=int, default=3, help="runs per route and size (2,900: 1)")
    ap.add_argument("--skip-2900", action="store_true")
    ap.add_argument("--time-limit-2900", type=float, default=480.0,
                    help="HiGHS time limit at 2,900 cities, s (fairshare and floor alike)")
    ap.add_argument("--no-linopy", action="store_true")
    ap.add_argument("--no-cli", action="store_true", help="skip the CLI timing and profile")
    ap.add_argument("--cli-runs", type=int, default=5)
    ap.add_argument("--top", type=int, default=10, help="profile entries shown")
    ap.add_argument("--src", default=None,
                    help="put this source folder first on PYTHONPATH in every child "
                         "(e.g. a snapshot of src/); default: the installed fairshare")
    ap.add_argument("--json", default=None, help="write every figure to this file")
    ap.add_argument("--markdown", default=None, help="write the tables to this file")
    # internal: one route in a child process
    ap.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    ap.add_argument("--region", help=argparse.SUPPRESS)
    ap.add_argument("--scenario", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--time-limit", type=float, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--from-json", default=None,
                    help="print the tables of a report saved with --json, run nothing")
    a = ap.parse_args(argv)
    if a.from_json:
        print(print_tables(json.loads(Path(a.from_json).read_text())))
        return 0
    return child_main(a) if a.child else parent_main(a)


if __name__ == "__main__":
    sys.exit(main())
