"""``fairshare compensate``: who pays whom, from the cooperative game of joint control.

Registered on the ``fairshare`` group by :mod:`fairshare.cli`. It imports nothing from
:mod:`fairshare.cli` at import time (so either module may be imported first); the
error handling of the other commands (exit codes 2, 130, 143, 1) is applied when it runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

PLAYERS_HELP = ("city, province, zone, or a CSV (columns city, player) / YAML mapping file "
                "grouping the cities into players (cities left out are outside the game)")


@click.command("compensate")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--players", default="city", show_default=True, metavar="KIND|FILE", help=PLAYERS_HELP)
@click.option("--method", "methods", multiple=True, default=("shapley",), show_default=True,
              metavar="METHOD",
              help="shapley, nucleolus, least_core, proportional:gdp, proportional:polluter, "
                   "proportional:benefit; repeat the option (or separate by commas) for several.")
@click.option("--others", type=click.Choice(["baseline", "standalone"]), default="baseline",
              show_default=True,
              help="Non-members of a coalition stay at their baseline, or carry out their "
                   "stand-alone plans.")
@click.option("--unmet", type=click.Choice(["penalty", "reachable"]), default="penalty",
              show_default=True,
              help="c(S) of a coalition that cannot meet its targets alone: shortfall priced at "
                   "--penalty, or targets relaxed to the least total shortfall. The other rule "
                   "is reported too.")
@click.option("--penalty", "penalty", type=click.FloatRange(min=0), default=None,
              metavar="CNY_PER_UGM3",
              help="Price of 1 µg/m³ of shortfall at one receptor, CNY/yr (default: the highest "
                   "shadow price of a target in the least-cost plan).")
@click.option("--exact/--sampled", "exact", default=None,
              help="Solve every coalition, or sample the Shapley value (default: exact up to "
                   "--exact-max players).")
@click.option("--exact-max", type=click.IntRange(1, 24), default=16, show_default=True)
@click.option("--se-target", type=click.FloatRange(min=0, min_open=True), default=0.01,
              show_default=True,
              help="Sampled Shapley: stop when every player's standard error is at most this "
                   "share of the joint cost.")
@click.option("--max-permutations", type=click.IntRange(2), default=2000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--via", type=click.Choice(["direct", "fund"]), default="direct", show_default=True,
              help="Payments payer -> receiver (fewest flows), or through a regional fund.")
@click.option("--workers", type=click.IntRange(1), default=None,
              help="Solve the coalition LPs on a local Dask cluster of N worker processes.")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Solve them on an existing Dask cluster, e.g. tcp://10.0.0.5:8786.")
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("results"), show_default=True,
              help="Folder under which <scenario name>-compensation/ is written.")
@click.option("--overwrite", is_flag=True, help="Replace an existing compensation folder.")
@click.option("--plots/--no-plots", default=True, show_default=True)
@click.option("--fresh", is_flag=True,
              help="Ignore the coalitions an interrupted run left (start afresh).")
@click.option("--debug", is_flag=True, help="Show Python tracebacks.")
def compensate(debug: bool, **options):
    """Who pays whom: the cooperative cost game of SCENARIO's joint least-cost plan.

    Each coalition of players is costed as the least cost of meeting its own targets with
    its own measures (docs/compensation.md); the joint cost is shared by each --method,
    and each player's transfer is its allocation minus what its measures cost in the
    joint plan (> 0 pays, < 0 receives). Writes OUT/<name>-compensation/: allocation.csv,
    transfers.csv, coalitions.csv (exact games), summary.json and plots.

    An interrupted run keeps the coalitions it solved in OUT/.<name>-compensation.coalitions.csv;
    the same command resumes from them.

    Exit code 0 done, 2 invalid input, 3 the joint plan is infeasible, 4 solver failure.
    """
    from fairshare.cli import handle_errors

    return handle_errors(_compensate)(debug=debug, **options)


def _compensate(scenario: Path, players: str, methods: tuple, others: str, unmet: str,
                penalty: float | None, exact: bool | None, exact_max: int, se_target: float,
                max_permutations: int, seed: int, via: str, workers: int | None,
                scheduler: str | None, out_dir: Path, overwrite: bool, plots: bool, fresh: bool):
    from fairshare import api
    from fairshare.compensation import GameError, compensate as run_game, parse_methods
    from fairshare.compensation.report import folder_name, format_table, write
    from fairshare.folders import check_output

    if workers is not None and scheduler is not None:
        raise click.UsageError("give either --workers or --scheduler, not both")
    methods = parse_methods(methods)
    inst = api.prepare(scenario)
    name = folder_name(inst.scenario.name)
    check_output(out_dir, name, overwrite)  # before the coalition LPs, not after
    for w in inst.warnings:
        click.echo(f"  {w}", err=True)
    cache = Path(out_dir) / f".{name}.coalitions.csv"
    try:
        comp = run_game(inst, players=players, methods=methods, others=others, unmet=unmet,
                        penalty_cny_per_ugm3=penalty, exact=exact, exact_max=exact_max,
                        se_target=se_target, max_permutations=max_permutations, seed=seed,
                        via=via, workers=workers, scheduler=scheduler, progress=True,
                        cache=cache, fresh=fresh)
    except KeyboardInterrupt:
        if cache.exists():
            solved = max(0, sum(1 for _ in open(cache, encoding="utf-8")) - 2)
            click.echo(f"  {solved} coalitions solved are kept in {cache}; the same command "
                       "resumes from them", err=True)
        raise
    except GameError as exc:
        from fairshare.solver import Status

        click.echo(f"error: {exc}", err=True)
        sys.exit((exc.status or Status.ERROR).exit_code)
    note = comp.summary["resume"]["note"]
    if note:
        click.echo(f"  note: {note}", err=True)
    if comp.summary["resume"]["coalitions_resumed"]:
        click.echo(f"  resumed from {comp.summary['resume']['coalitions_resumed']} coalitions "
                   f"solved before ({cache})", err=True)
    geo = inst.data.city_table.reset_index().rename(columns={"index": "city"})
    folder = write(comp, out_dir, overwrite=overwrite, plots=plots, geo=geo,
                   warn=lambda text: click.echo(f"  {text}", err=True))
    cache.unlink(missing_ok=True)
    click.echo(format_table(comp))
    click.echo(f"\ncompensation written to {folder}")
