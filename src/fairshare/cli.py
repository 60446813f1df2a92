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
@handle_errors
def run(scenario: Path, out_dir: Path, overwrite: bool):
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
        folder = write_results(result, out_dir, overwrite=overwrite)
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
