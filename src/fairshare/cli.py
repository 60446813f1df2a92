"""The ``fairshare`` command: parses arguments, calls the API, maps outcomes to exit codes.

Exit codes (DESIGN §5): 0 solved; 2 invalid input; 3 infeasible (diagnosis printed
and written); 4 solver failure or limit reached; 1 an internal error (a bug:
rerun with --debug for the traceback and report it).
"""

from __future__ import annotations

import functools
import json
import sys
import traceback
from pathlib import Path

import click

from fairshare.errors import InputError

EXIT_INVALID, EXIT_INFEASIBLE, EXIT_SOLVER, EXIT_BUG = 2, 3, 4, 1


def _fail(message: str, code: int):
    click.echo(message, err=True)
    sys.exit(code)


def handle_errors(fn):
    """Turn input problems into one line each and exit 2; never show a traceback
    unless --debug was given."""

    @functools.wraps(fn)
    def wrapper(*args, debug=False, **kwargs):
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            for w in exc.warnings:
                click.echo(f"  {w}", err=True)
            _fail(str(exc), EXIT_INVALID)
        except SystemExit:
            raise
        except BrokenPipeError:  # output piped into e.g. `head`, which closed early
            sys.stderr.close()
            sys.exit(0)
        except Exception as exc:  # a bug: say so plainly
            from fairshare.results import ResultExists
            if isinstance(exc, ResultExists):
                _fail(f"error: {exc}", EXIT_INVALID)
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
    see DESIGN.md and the scenarios/ folder for examples.
    """


SCENARIO = click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))


@main.command()
@SCENARIO
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("results"), show_default=True,
              help="Folder under which <scenario name>/ is written.")
@click.option("--overwrite", is_flag=True, help="Replace an existing result of this scenario.")
@click.option("--plots/--no-plots", default=True, show_default=True,
              help="Draw cost, burden, concentration and map plots (PNG and SVG).")
@handle_errors
def run(scenario: Path, out_dir: Path, overwrite: bool, plots: bool):
    """Solve SCENARIO and write OUT/<scenario name>/: summary.json, cities.csv,
    receptors.csv, measures.csv (and diagnosis.json when infeasible).

    Exit code 0 solved, 2 invalid input, 3 infeasible, 4 solver failure or limit.
    """
    from fairshare import api
    from fairshare.results import ResultExists, result_folder, write_results
    from fairshare.scenario import load_scenario
    from fairshare.solver import Status

    sc = load_scenario(scenario)
    target = result_folder(out_dir, sc.name)
    if target.exists() and not overwrite:
        raise ResultExists(f"{target} already holds a result; use --overwrite to replace it")
    inst = api.prepare(sc)
    for w in inst.data.warnings:
        click.echo(f"  {w}", err=True)
    result = api.solve(inst)
    try:
        folder = write_results(result, out_dir, overwrite=overwrite,  # plots before the rename
                               extra_files=_write_plots if plots and result.status == Status.OPTIMAL
                               else None)
    except OSError as exc:  # e.g. no permission, disk full: the run is not lost, say where
        print_summary(result)
        _fail(f"error: cannot write the results folder under {out_dir}: "
              f"{exc.strerror or exc}; choose another folder with -o", EXIT_INVALID)
    print_summary(result)
    click.echo(f"\nresults written to {folder}")
    if result.status == Status.INFEASIBLE:
        sys.exit(EXIT_INFEASIBLE)
    if result.status != Status.OPTIMAL:
        sys.exit(EXIT_SOLVER)


@main.command()
@SCENARIO
@handle_errors
def validate(scenario: Path):
    """Check SCENARIO and its region data; list every problem found (exit 2 if any)."""
    from fairshare.api import prepare

    inst = prepare(scenario)
    for w in inst.data.warnings:
        click.echo(f"  {w}", err=True)
    d = inst.data
    click.echo(f"{scenario}: valid. Region '{d.name}' ({len(d.cities)} cities, "
               f"{len(d.measures)} measures, {len(d.pollutants)} pollutants, "
               f"metrics {', '.join(d.metrics) or 'none'}; year {d.year}); "
               f"{len(inst.aq.limit_ugm3)} concentration targets, {len(inst.caps)} emission caps.")


@main.command()
@SCENARIO
@click.option("-o", "--out", "out_csv", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the table to this CSV file.")
@handle_errors
def mtfr(scenario: Path, out_csv: Path | None):
    """Maximum technically feasible reduction: the lowest concentration each receptor
    can reach with every measure at its limit, against the scenario's targets."""
    from fairshare import api

    table = api.mtfr(scenario)
    click.echo(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    if out_csv:
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
@click.option("--y", "y_axis", type=click.Choice(["gini", "max_burden", "band"]), default="gini",
              show_default=True, help="The fairness metric bounded point by point.")
@click.option("--sweep", type=click.Choice(["fairness", "target"]), default="fairness",
              show_default=True,
              help="fairness: cost vs --y; target: cost of ambition, gap closure 0 to 1.")
@click.option("--points", type=click.IntRange(2, 1000), default=15, show_default=True)
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("results"), show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace an existing front of this scenario.")
@sweep_options
@handle_errors
def pareto(scenario: Path, x_axis: str, y_axis: str, sweep: str, points: int, out_dir: Path,
           overwrite: bool, workers: int | None, scheduler: str | None):
    """Pareto front of SCENARIO by the epsilon-constraint method: the least cost with the
    fairness metric (--y) bounded, from the least-cost plan's value down to the lowest
    reachable; or (--sweep target) the cost of raising ambition from the baseline (gap
    closure 0) to every receptor at its MTFR (1). Writes OUT/<name>-pareto-<y>/pareto.csv
    and pareto.png/.svg; an infeasible point is a row with its status.
    """
    from fairshare import fronts as front_mod
    from fairshare.results import result_folder, write_folder
    from fairshare.scenario import load_scenario

    sc = load_scenario(scenario)
    kind = "target" if sweep == "target" else y_axis
    name = f"{sc.name}-pareto-{kind}"
    _refuse_existing(result_folder(out_dir, name), overwrite)
    front = front_mod.pareto(sc, y=y_axis, points=points,
                             sweep="target" if sweep == "target" else None,
                             workers=workers, scheduler=scheduler)
    y_col = "gamma" if kind == "target" else front_mod.Y_METRICS[kind]

    def write(folder: Path) -> None:
        front.to_csv(folder / "pareto.csv", index=False, float_format="%.10g")
        _save_pareto_plot(front, y_col, kind, folder)

    folder = write_folder(out_dir, name, write, overwrite)
    shown = ["point", "epsilon", "status", "total_cost_cny", y_col, "non_dominated"]
    click.echo(front[[c for c in shown if c in front]].to_string(index=False))
    click.echo(f"\nfront written to {folder}")


def _save_pareto_plot(front, y_col: str, kind: str, folder: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from fairshare.plots import attainment_curve, pareto_front

    if kind == "target":
        ax = attainment_curve(front)
    else:
        ax = pareto_front(front, x="total_cost_cny", y=y_col)
    for ext in ("png", "svg"):
        ax.figure.savefig(folder / f"pareto.{ext}", dpi=150, bbox_inches="tight")
    plt.close(ax.figure)


@main.command()
@click.argument("scenarios", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("results"), show_default=True)
@click.option("--name", default="comparison", show_default=True,
              help="Folder name under OUT for the table and chart.")
@click.option("--overwrite", is_flag=True, help="Replace an existing comparison of this name.")
@sweep_options
@handle_errors
def compare(scenarios: tuple[Path, ...], out_dir: Path, name: str, overwrite: bool,
            workers: int | None, scheduler: str | None):
    """Roadmap options side by side: total cost, range of city costs, burdens and their
    Gini, price of fairness, targets attained, population-weighted concentration after
    control and reductions per pollutant. Writes OUT/NAME/compare.csv and compare.png/.svg.
    """
    from fairshare.comparison import COLUMNS_FOR_PLOT, compare as compare_options
    from fairshare.results import result_folder, write_folder
    from fairshare.scenario import load_scenario

    loaded = [load_scenario(p) for p in scenarios]  # every file checked before any solve
    _refuse_existing(result_folder(out_dir, name), overwrite)
    table = compare_options(loaded, workers=workers, scheduler=scheduler)

    def write(folder: Path) -> None:
        table.to_csv(folder / "compare.csv", index=False, float_format="%.10g")
        _save_compare_plot(table, [c for c in COLUMNS_FOR_PLOT if c in table], folder)

    folder = write_folder(out_dir, name, write, overwrite)
    click.echo(table.set_index("scenario").drop(columns=["description"], errors="ignore")
               .T.to_string(float_format=lambda v: f"{v:,.3f}"))
    click.echo(f"\ncomparison written to {folder}")


def _save_compare_plot(table, metrics: list[str], folder: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from fairshare.plots import compare_bars

    solved = table[table["status"] == "optimal"]
    if solved.empty or not metrics:
        return
    ax = compare_bars(solved, metrics)
    for ext in ("png", "svg"):
        ax.figure.savefig(folder / f"compare.{ext}", dpi=150, bbox_inches="tight")
    plt.close(ax.figure)


@main.command()
@click.argument("result_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@handle_errors
def plot(result_dir: Path):
    """Re-draw the plots of a results folder (cost and burden by city, concentrations
    against targets, a map of cities) as PNG and SVG."""
    paths = _write_plots(result_dir)
    click.echo("\n".join(str(p) for p in paths) or "nothing to plot (the result is not optimal)")


def _write_plots(result_dir: Path) -> list:
    from fairshare.plots import write_result_plots

    summary = json.loads((result_dir / "summary.json").read_text(encoding="utf-8"))
    region = Path(summary.get("region", {}).get("folder", ""))
    return write_result_plots(result_dir, geo=region if (region / "cities.csv").exists() else None)


def _refuse_existing(target: Path, overwrite: bool) -> None:
    from fairshare.results import ResultExists

    if target.exists() and not overwrite:
        raise ResultExists(f"{target} already exists; use --overwrite to replace it")


def print_summary(result) -> None:
    from fairshare.solver import Status

    s = result.summary
    click.echo(f"scenario {result.scenario}: {result.status.value}"
               + (f" ({result.message})" if result.status != Status.OPTIMAL else ""))
    if result.status == Status.INFEASIBLE and result.diagnosis:
        print_diagnosis(result.diagnosis)
        return
    if result.status != Status.OPTIMAL:
        return
    f = s["fairness"]
    click.echo(f"total cost {result.total_cost / 1e9:,.3f} bn CNY/yr "
               f"({100 * f['regional_burden']:.3f}% of regional GDP); "
               f"targets attained {s['targets_attained']}/{s['targets_total']}")
    click.echo(f"burden (cost/GDP): max {100 * f['max_burden']:.3f}%, "
               f"min {100 * f['min_burden']:.3f}%, Gini {f['gini_burden']:.3f}")
    if s.get("price_of_fairness") is not None:
        click.echo(f"price of fairness {100 * s['price_of_fairness']:+.2f}% against the least-cost "
                   f"plan ({s['least_cost_cny'] / 1e9:,.3f} bn CNY/yr); cost_shift_m_cny below is "
                   "each city's change")
    cities = result.cities.sort_values("cost_cny", ascending=False)
    columns = ["city", "cost_cny", "burden"] + (["cost_shift_cny"] if "cost_shift_cny" in cities else [])
    table = cities[columns].copy()
    table["cost_m_cny"] = table.pop("cost_cny") / 1e6
    table["burden_pct"] = 100 * table.pop("burden")
    if "cost_shift_cny" in table:
        table["cost_shift_m_cny"] = table.pop("cost_shift_cny") / 1e6
    click.echo("\n" + table.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    binding = result.receptors[result.receptors["shadow_price_cny_per_ugm3"] > 0]
    if len(binding):
        b = binding[["metric", "receptor", "final_ugm3", "target_ugm3",
                     "shadow_price_cny_per_ugm3"]].copy()
        b["shadow_price_m_cny_per_ugm3"] = b.pop("shadow_price_cny_per_ugm3") / 1e6
        click.echo("\nbinding targets (marginal cost of 1 µg/m³ tighter):\n"
                   + b.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))


def print_diagnosis(diagnosis: dict) -> None:
    below = diagnosis.get("targets_below_mtfr", [])
    if below:
        click.echo("targets below what every measure together can reach (MTFR):")
        for b in below:
            click.echo(f"  {b['metric']} at {b['receptor']}: target {b['target_ugm3']:.2f} µg/m³ "
                       f"< MTFR {b['mtfr_ugm3']:.2f} µg/m³ ({b['entry']})")
    rows = diagnosis.get("violated_rows", [])
    if rows:
        click.echo("the least violation of the rules (elastic solve) breaks:")
        for v in rows[:20]:
            click.echo(f"  {v['constraint']}: by {v['violation']:.4g} (bound {v['bound']:.4g})")
        if len(rows) > 20:
            click.echo(f"  ... and {len(rows) - 20} more (see diagnosis.json)")


if __name__ == "__main__":
    main()
