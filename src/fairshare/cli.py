"""The ``fairshare`` command: parses arguments, calls the API, maps outcomes to exit codes.

Exit codes: 0 solved; 2 invalid input (or an output folder that cannot be written);
3 infeasible (diagnosis printed and written); 4 solver failure or limit reached;
130 interrupted (Ctrl-C), 143 terminated (SIGTERM), nothing half-written left behind;
1 an internal error (a bug: rerun with --debug for the traceback and report it).
"""

from __future__ import annotations

import functools
import json
import signal
import sys
import traceback
from pathlib import Path

import click

from fairshare.errors import InputError
from fairshare.families import SWEEPS

EXIT_INVALID, EXIT_INFEASIBLE, EXIT_SOLVER, EXIT_BUG = 2, 3, 4, 1
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Python runs so that it unwinds like Ctrl-C (HiGHS is stopped,
    temporary folders removed)."""


def _on_sigterm(signum, frame):
    raise Terminated()


def _fail(message: str, code: int):
    click.echo(message, err=True)
    sys.exit(code)


def handle_errors(fn):
    """Turn input problems into one line each and exit 2, an interrupt into one line and
    exit 130/143; never show a traceback unless --debug was given."""

    @functools.wraps(fn)
    def wrapper(*args, debug=False, **kwargs):
        from fairshare.folders import ResultExists

        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            for w in exc.warnings:
                click.echo(f"  {w}", err=True)
            _fail(str(exc), EXIT_INVALID)
        except ResultExists as exc:
            _fail(f"error: {exc}", EXIT_INVALID)
        except Terminated:
            _fail("terminated (SIGTERM): stopped; nothing was written", EXIT_TERMINATED)
        except KeyboardInterrupt:
            _fail("interrupted (Ctrl-C): stopped; nothing was written", EXIT_INTERRUPTED)
        except SystemExit:
            raise
        except BrokenPipeError:  # output piped into e.g. `head`, which closed early
            sys.stderr.close()
            sys.exit(0)
        except Exception as exc:  # a bug: say so plainly
            if debug:
                traceback.print_exc()
            _fail(f"internal error: {type(exc).__name__}: {exc}\n"
                  "This is a bug in fairshare; rerun with --debug and report the traceback.",
                  EXIT_BUG)

    wrapper = click.option("--debug", is_flag=True, help="Show Python tracebacks.")(wrapper)
    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fairshare")
def main():
    """fairshare: which control measures, in which city and sector, meet every city's
    air-quality target at the lowest total cost, and how to share that cost fairly.

    A scenario file (YAML) names a region data package, targets and fairness rules;
    see docs/scenario.md and the scenarios/ folder for examples.
    """
    signal.signal(signal.SIGTERM, _on_sigterm)


SCENARIO = click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
STYLE = click.option("--style", type=click.Choice(["colour", "grey"]), default="colour",
                     show_default=True, help="Plots in colour, or in greys and hatching for print.")
SVG = click.option("--svg", is_flag=True,
                   help="Write each plot as SVG too (for print and editing), beside the PNG.")
FRONT_NAMES = [name for name, s in SWEEPS.items() if s.loose is not None]  # gini, max_burden, band


def _warn(inst) -> None:
    for w in inst.warnings:
        click.echo(f"  {w}", err=True)


@main.command()
@SCENARIO
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("results"), show_default=True,
              help="Folder under which <scenario name>/ is written.")
@click.option("--overwrite", is_flag=True, help="Replace an existing result of this scenario.")
@click.option("--plots/--no-plots", default=True, show_default=True,
              help="Draw cost, burden, concentration and map plots (PNG).")
@STYLE
@SVG
@handle_errors
def run(scenario: Path, out_dir: Path, overwrite: bool, plots: bool, style: str, svg: bool):
    """Solve SCENARIO and write OUT/<scenario name>/: summary.json, cities.csv,
    receptors.csv, measures.csv, the plots, report.html and results.xlsx (and
    diagnosis.json when infeasible).

    Exit code 0 solved, 2 invalid input, 3 infeasible, 4 solver failure or limit.
    """
    if not plots:
        return _run(scenario, out_dir, overwrite, False, style, svg, None)
    from fairshare.plot_worker import PlotWorker

    with PlotWorker() as worker:  # imports matplotlib while this process solves
        return _run(scenario, out_dir, overwrite, True, style, svg, worker)


def _run(scenario: Path, out_dir: Path, overwrite: bool, plots: bool, style: str, svg: bool,
         worker) -> None:
    from fairshare import api
    from fairshare.folders import check_output
    from fairshare.results import write_results
    from fairshare.solver import Status

    inst = api.prepare(scenario)
    check_output(out_dir, inst.scenario.name, overwrite)  # before the solve, not after
    _warn(inst)
    shown = len(inst.warnings)
    result = api.solve(inst)
    for w in inst.warnings[shown:]:  # found while solving
        click.echo(f"  {w}", err=True)
    extras = _extras(plots and result.status == Status.OPTIMAL, style, svg, worker)
    folder = write_results(result, out_dir, overwrite=overwrite, extra_files=extras)
    print_summary(result)
    click.echo(f"\nresults written to {folder}")
    sys.exit(result.status.exit_code)


def _extras(plots: bool, style: str | None = None, svg: bool = False, worker=None):
    """The writer's extra files (plots, report.html, results.xlsx), each failure a warning:
    the tables, written first, are never lost to them."""
    from fairshare.extras import write_extras

    def write(folder: Path) -> None:
        for warning in write_extras(folder, plots, style, svg, worker):
            click.echo(f"  {warning}", err=True)
    return write



@main.command()
@SCENARIO
@handle_errors
def validate(scenario: Path):
    """Check SCENARIO and its region data; list every problem found (exit 2 if any), the
    warnings, and the lists that a file extending another replaced."""
    from fairshare import families
    from fairshare.api import prepare

    inst = prepare(scenario)
    _warn(inst)
    for replacement in getattr(inst.scenario, "replaced", ()):
        click.echo(f"  note: {replacement}")
    d = inst.data

    def entries(one) -> tuple[str, str]:
        counts = ", ".join(f"{len(one.of(f))} {f.NAME}" for f in families.FAMILIES if one.of(f))
        return counts or "none", f"{len(one.aq.limit_ugm3)} concentration target rows"

    periods = getattr(inst, "periods", None)
    if periods is None:
        when, held = f"year {d.year}", "entries: {}; {}".format(*entries(inst))
        if inst.members:  # a robust plan: the transport targets again under every member
            held += "; robust over transport members " + ", ".join(
                f"{one.data.member} ({len(one.aq.limit_ugm3)} target rows)"
                for one in [inst, *inst.members.values()])
    else:
        when = f"roadmap {', '.join(map(str, inst.years))}"
        held = "entries by year: " + "; ".join(
            "{} {} ({})".format(y, *entries(one)) for y, one in zip(inst.years, periods))
        if inst.horizon is not None:
            held += "; over the horizon {} ({})".format(*entries(inst.horizon))
    click.echo(f"{scenario}: valid. Region '{d.name}' ({len(d.cities)} cities, "
               f"{len(d.measures)} measures, {len(d.pollutants)} pollutants, "
               f"metrics {', '.join(d.metrics) or 'none'}; {when}); {held}.")


@main.command()
@SCENARIO
@click.option("-o", "--out", "out_csv", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the table to this CSV file (its folder is made if missing).")
@handle_errors
def mtfr(scenario: Path, out_csv: Path | None):
    """Maximum technically feasible reduction: the lowest concentration each receptor
    can reach with every measure at its limit, against the scenario's targets."""
    from fairshare import api

    inst = api.prepare(scenario)
    _warn(inst)
    table = api.mtfr(inst)
    if table.empty:
        click.echo(f"region '{inst.data.name}' has no air-quality metric with transport "
                   "coefficients: there is no concentration to compute an MTFR for "
                   "(a region planned with emission caps only)")
    else:
        click.echo(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    if out_csv:
        out_csv.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out_csv, index=False)
    infeasible = table["target_feasible"].eq(False).sum()
    if infeasible:
        click.echo(f"\n{infeasible} target(s) are below their MTFR and cannot be met.")


@main.command()
@handle_errors
def schema():
    """Print the JSON Schema of the scenario file (for editors)."""
    from fairshare.scenario import scenario_json_schema

    click.echo(json.dumps(scenario_json_schema(), indent=2))


SWEEP_OPTIONS = [
    click.option("--workers", type=click.IntRange(1), default=None,
                 help="Run the points/scenarios on a local Dask cluster of N worker processes."),
    click.option("--scheduler", default=None, metavar="ADDRESS",
                 help="Run on an existing Dask cluster, e.g. tcp://10.0.0.5:8786."),
]


def sweep_options(fn):
    for option in reversed(SWEEP_OPTIONS):
        fn = option(fn)
    return fn


@main.command()
@SCENARIO
@click.option("--x", "x_axis", type=click.Choice(["cost"]), default="cost", show_default=True,
              help="The x axis: total cost (CNY/yr).")
@click.option("--y", "y_axis", type=click.Choice(list(FRONT_NAMES)), default="gini",
              show_default=True, help="The fairness metric bounded point by point.")
@click.option("--sweep", type=click.Choice(["fairness", "target"]), default="fairness",
              show_default=True,
              help="fairness: cost vs --y; target: cost of ambition, gap closure 0 to 1.")
@click.option("--points", type=click.IntRange(2, 1000), default=15, show_default=True,
              help="Number of points on the front (the two ends included).")
@click.option("--year", type=int, default=None,
              help="A roadmap: the year whose targets the target sweep moves (default: the last).")
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("results"), show_default=True,
              help="Folder under which <name>-pareto-<y>/ is written.")
@click.option("--overwrite", is_flag=True, help="Replace an existing front of this scenario.")
@STYLE
@SVG
@sweep_options
@handle_errors
def pareto(scenario: Path, x_axis: str, y_axis: str, sweep: str, points: int, year: int | None,
           out_dir: Path, overwrite: bool, style: str, svg: bool, workers: int | None,
           scheduler: str | None):
    """Pareto front of SCENARIO by the epsilon-constraint method: the least cost with the
    fairness metric (--y) bounded, from the least-cost plan's value down to the lowest
    reachable; or (--sweep target) the cost of raising ambition from the baseline (gap
    closure 0) to every receptor at its MTFR (1).

    Every point minimises total cost, whatever objective the scenario names (min-max
    burden, a weighted fairness objective); its targets and fairness rules hold at every
    point. Writes OUT/<name>-pareto-<y>/pareto.csv and pareto.png (.svg with --svg); an
    infeasible point is a row with its status.
    """
    from fairshare import api
    from fairshare import fronts as front_mod
    from fairshare.folders import check_output, write_folder
    from fairshare.solver import Status

    inst = api.prepare(scenario)
    kind = "target" if sweep == "target" else y_axis
    name = f"{inst.scenario.name}-pareto-{kind}"
    if getattr(inst.scenario, "is_roadmap", False):
        name += f"-{year if year is not None else inst.scenario.years[-1]}"
    check_output(out_dir, name, overwrite)
    _warn(inst)
    front = front_mod.pareto(inst, y=y_axis, points=points,
                             sweep="target" if sweep == "target" else None,
                             workers=workers, scheduler=scheduler, year=year)

    def write(folder: Path) -> None:
        front.to_csv(folder / "pareto.csv", index=False, float_format="%.10g")
        _extras(True, style, svg)(folder)

    folder = write_folder(out_dir, name, write, overwrite)
    y_col = front_mod.SWEEPS[kind].column
    shown = ["point", "epsilon", "status", "total_cost_cny", y_col, "non_dominated"]
    click.echo(front[[c for c in shown if c in front]].to_string(index=False))
    click.echo(f"\nfront written to {folder}")
    if not (front["status"] == "optimal").any():
        first = front["status"].iloc[0]
        _fail(f"no point of the front solved: the scenario itself is {first} (its targets and "
              f"rules, before any bound of the front); `fairshare run` explains why",
              Status(first).exit_code)


@main.command()
@click.argument("scenarios", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("results"), show_default=True,
              help="Folder under which the comparison folder (--name) is written.")
@click.option("--name", default="comparison", show_default=True,
              help="Folder name under OUT for the table and chart.")
@click.option("--overwrite", is_flag=True, help="Replace an existing comparison of this name.")
@STYLE
@SVG
@sweep_options
@handle_errors
def compare(scenarios: tuple[Path, ...], out_dir: Path, name: str, overwrite: bool, style: str,
            svg: bool, workers: int | None, scheduler: str | None):
    """Roadmap options side by side: total cost, range of city costs, burdens and their
    Gini, price of fairness, targets attained, population-weighted concentration after
    control and reductions per pollutant. Writes OUT/NAME/compare.csv and compare.png
    (.svg with --svg).
    """
    from fairshare.comparison import compare as compare_options
    from fairshare.errors import InputError as _InputError
    from fairshare.folders import check_output, write_folder
    from fairshare.scenario import load_scenario

    loaded, problems = [], []
    for path in scenarios:  # every file checked before any solve, all problems at once
        try:
            loaded.append(load_scenario(path))
        except _InputError as exc:
            problems += exc.problems
    if problems:
        raise _InputError(problems)
    check_output(out_dir, name, overwrite)
    table = compare_options(loaded, workers=workers, scheduler=scheduler)

    def write(folder: Path) -> None:
        table.to_csv(folder / "compare.csv", index=False, float_format="%.10g")
        _extras(True, style, svg)(folder)

    folder = write_folder(out_dir, name, write, overwrite)
    click.echo(table.set_index("scenario").drop(columns=["description"], errors="ignore")
               .T.to_string(float_format=lambda v: f"{v:,.3f}"))
    click.echo(f"\ncomparison written to {folder}")


@main.command()
@click.argument("result_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@STYLE
@SVG
@handle_errors
def plot(result_dir: Path, style: str, svg: bool):
    """Re-draw the plots of RESULT_DIR: a results folder (summary.json), a Pareto folder
    (pareto.csv), a comparison folder (compare.csv), or a folder holding them such as
    results/ (each is redrawn)."""
    from fairshare.plots import RedrawError, redraw

    try:
        paths = redraw(result_dir, style=style, svg=svg)
    except RedrawError as exc:
        click.echo("\n".join(str(p) for p in exc.written))
        _fail(f"error: {exc}", EXIT_INVALID)
    except ValueError as exc:
        _fail(f"error: {exc}", EXIT_INVALID)
    click.echo("\n".join(str(p) for p in paths) or "nothing to plot (no optimal result)")


def print_summary(result) -> None:
    """The result in words and display units (see :mod:`fairshare.display`)."""
    from fairshare.display import money_bn, percent
    from fairshare.solver import Status

    s = result.summary
    click.echo(f"scenario {result.scenario}: {result.status.value}"
               + (f" ({result.message})" if result.status != Status.OPTIMAL else ""))
    if result.status == Status.INFEASIBLE and result.diagnosis:
        print_diagnosis(result.diagnosis)
        return
    if result.status != Status.OPTIMAL:
        return
    if "npv_cny" in s:
        _print_roadmap(result)
        return
    f = s["fairness"]
    targets = (f"targets attained {s['targets_attained']} of {s['targets_total']}"
               if s["targets_total"] else "no concentration targets")
    click.echo(f"total cost {money_bn(result.total_cost)} bn CNY/yr "
               f"({percent(f['regional_burden'], 3)} of regional GDP); {targets}")
    click.echo(f"burden (cost / GDP): largest {percent(f['max_burden'], 3)}, "
               f"smallest {percent(f['min_burden'], 3)}, Gini {f['gini_burden']:.3f}")
    if s.get("price_of_fairness") is not None:
        click.echo(f"price of fairness {100 * s['price_of_fairness']:+.2f}% against the "
                   f"least-cost plan ({money_bn(s['least_cost_cny'])} bn CNY/yr)")
    _print_cities(result)
    _print_binding_targets(result)
    _print_caps(s)
    _print_rules(s)


def _print_roadmap(result) -> None:
    """The path: present value, then each period's cost, burden and attainment."""
    import pandas as pd

    from fairshare.display import money_bn, percent

    s = result.summary
    click.echo(f"roadmap {', '.join(map(str, s['years']))} ({s['foresight']} foresight, "
               f"discount rate {100 * s['discount_rate']:g}%/yr): net present value "
               f"{money_bn(s['npv_cny'])} bn CNY")
    rows = []
    for period in s["periods"]:
        year = str(period["year"])
        attained, total = s["attained_by_year"].get(year, [0, 0])
        f = s["fairness_by_year"][year]
        rows.append({"Year": year, "Years": period["years"],
                     "Cost (bn CNY/yr)": money_bn(s["cost_by_year_cny"][year]),
                     "Share of GDP": percent(f["regional_burden"], 3),
                     "Largest burden": percent(f["max_burden"], 3),
                     "Targets attained": f"{attained} of {total}" if total else "–"})
    click.echo("\n" + pd.DataFrame(rows).to_string(index=False))
    comparison = s.get("foresight_comparison")
    if comparison and comparison.get("cost_of_myopia_cny") is not None:
        click.echo(f"\ncost of myopia {money_bn(comparison['cost_of_myopia_cny'])} bn CNY "
                   f"(myopic {money_bn(comparison['npv_myopic_cny'])}, perfect foresight "
                   f"{money_bn(comparison['npv_perfect_cny'])})")
    _print_caps(s)
    _print_rules(s)


def _print_cities(result) -> None:
    from fairshare.display import money_m, percent, text_table

    cities = result.cities.sort_values("cost_cny", ascending=False)
    formats = {"City": lambda r: r.get("name", r["city"]),
               "Cost (M CNY/yr)": lambda r: money_m(r["cost_cny"]),
               "Burden (% of GDP)": lambda r: percent(r["burden"], 3)}
    if "cost_shift_cny" in cities:
        formats["Change vs least cost (M CNY/yr)"] = lambda r: money_m(r["cost_shift_cny"])
    click.echo("\n" + text_table(cities, formats, what="cities (all in cities.csv)"))


def _print_binding_targets(result) -> None:
    from fairshare.display import text_table

    binding = result.receptors[result.receptors["shadow_price_cny_per_ugm3"] > 0]
    if not len(binding):
        return
    binding = binding.sort_values("shadow_price_cny_per_ugm3", ascending=False)
    member = {"Transport member": lambda r: r["member"]} if "member" in binding else {}
    click.echo("\nbinding targets (marginal cost of 1 µg/m³ tighter):\n" + text_table(binding, {
        **member,
        "Metric": lambda r: str(r["metric"]).replace("PM25", "PM2.5"),
        "Receptor": lambda r: r.get("name", r["receptor"]),
        "After (µg/m³)": lambda r: f"{r['final_ugm3']:.2f}",
        "Target (µg/m³)": lambda r: f"{r['target_ugm3']:.2f}",
        "Marginal cost (M CNY/yr per µg/m³)": lambda r: f"{r['shadow_price_cny_per_ugm3'] / 1e6:,.2f}",
    }, what="binding targets (all in receptors.csv)"))


def _print_caps(s: dict) -> None:
    caps = s.get("emission_caps") or []
    if caps:
        click.echo("\nemission caps (t/yr; marginal cost of 1 t/yr tighter):")
    for c in caps:
        click.echo(f"  {c['entry']}{_year_of(c)} {c['pollutant']} zone {c['zone']}: {c['final_t']:,.0f} "
                   f"of {c['cap_t']:,.0f} allowed (baseline {c['baseline_t']:,.0f}); "
                   f"{c['shadow_price_cny_per_t']:,.0f} CNY/t")


def _print_rules(s: dict) -> None:
    """Every fairness rule, and whether it shapes the plan: a rule that does not bind costs
    nothing and changes nothing (its bound may be looser than intended)."""
    rules = [r for r in s.get("rules") or [] if r["entry"].startswith("fairness")]
    if rules:
        click.echo("\nfairness rules:")
    for r in rules:
        where = ", ".join(r["binding"][:6]) + (" ..." if len(r["binding"]) > 6 else "")
        state = f"binds ({where})" if r["binds"] else r.get("note") or \
            "does not bind: the plan meets it with room to spare, so it changes nothing"
        click.echo(f"  {r['entry']}{_year_of(r)} {r['rule']}: {state}")


def _year_of(row: dict) -> str:
    """A row's tag: ' (2030)' in a roadmap, ' (member high)' in a robust plan, else ''."""
    tags = ([str(row["year"])] if "year" in row else []) + (
        [f"member {row['member']}"] if row.get("member") else [])
    return f" ({', '.join(tags)})" if tags else ""


def print_diagnosis(diagnosis: dict) -> None:
    below = diagnosis.get("targets_below_mtfr", [])
    if below:
        click.echo("targets below what every measure together can reach (MTFR):")
        for b in below:
            click.echo(f"  {b['metric']} at {b['receptor']}: target {b['target_ugm3']:.2f} µg/m³ "
                       f"< MTFR {b['mtfr_ugm3']:.2f} µg/m³ ({b['entry']}{_year_of(b)})")
    titles = {"rules_must_give": "with every target kept, these rules would have to give (together, "
                                 "in the plan that breaks them least):",
              "targets_must_give": "with every rule kept, these targets would have to give (together, "
                                   "in the plan that breaks them least):"}
    for key, title in titles.items():
        stage = diagnosis.get(key)
        if not stage:
            continue
        relaxations = stage.get("relaxations", [])
        if stage.get("status") != "optimal":
            click.echo(f"{title.split(',')[0]}, no plan exists ({stage.get('status')})")
            continue
        click.echo(title)
        for r in relaxations[:20]:
            where = f" ({r['file']}, line {r['line']})" if r.get("line") else ""
            click.echo(f"  {r['entry']}{_year_of(r)} {r['rule']}{where}, {r['subject']}: {r['fix']}")
        if len(relaxations) > 20:
            click.echo(f"  ... and {len(relaxations) - 20} more (see diagnosis.json)")


from fairshare.cli_compensate import compensate  # noqa: E402  (it imports cli only when run)

main.add_command(compensate)

if __name__ == "__main__":
    main()
