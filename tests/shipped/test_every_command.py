"""Every command on every shipped scenario, as a planner would type them: the exit code
each should give (0, or 3 for the scenario infeasible on purpose), the files each writes,
and no traceback. The review before issue 8 found crashes in exactly these seams (a
command never run on a kind of scenario)."""

from __future__ import annotations

import json

import pytest

from conftest import SHIPPED_SCENARIOS

ROADMAP = "roadmap"          # scenarios with years: [...]
INFEASIBLE = "infeasible"    # infeasible on purpose: exit 3


def expected_exit(path) -> int:
    return 3 if INFEASIBLE in path.stem else 0


def assert_clean(result, code: int) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output


@pytest.mark.parametrize("path", SHIPPED_SCENARIOS, ids=lambda p: p.stem)
def test_validate_run_plot_and_mtfr(path, tmp_path, cli):
    assert_clean(cli("validate", path), 0)
    out = tmp_path / "results"
    assert_clean(cli("run", path, "-o", out), expected_exit(path))
    folder = out / path.stem
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == ("infeasible" if INFEASIBLE in path.stem else "optimal")
    written = {p.name for p in folder.iterdir()}
    if summary["status"] == "optimal":
        assert {"summary.json", "cities.csv", "receptors.csv", "measures.csv", "report.html",
                "results.xlsx"} <= written and any(n.endswith(".png") for n in written)
    else:  # no plan: the diagnosis says which targets cannot be met
        assert {"summary.json", "diagnosis.json"} <= written
    assert_clean(cli("plot", folder), 0)
    assert_clean(cli("mtfr", path, "-o", tmp_path / "mtfr.csv"), 0)
    assert (tmp_path / "mtfr.csv").stat().st_size > 0


@pytest.mark.parametrize("path", [p for p in SHIPPED_SCENARIOS if INFEASIBLE not in p.stem],
                         ids=lambda p: p.stem)
def test_every_front(path, tmp_path, cli):
    """The target sweep on every scenario; the fairness fronts on every one-year option
    (a roadmap's fronts sweep one year's targets, and say so for --y)."""
    out = tmp_path / "fronts"
    assert_clean(cli("pareto", path, "--sweep", "target", "--points", "3", "-o", out), 0)
    for y in ("max_burden", "gini", "band"):
        result = cli("pareto", path, "--y", y, "--points", "3", "-o", out)
        if ROADMAP in path.stem:
            assert_clean(result, 2)
            assert "fronts of cost against fairness are for one year" in result.output
        else:
            assert_clean(result, 0)
    assert_clean(cli("plot", out), 0)


def test_compare_every_shipped_scenario(tmp_path, cli):
    """All options side by side, the infeasible one and the roadmap included."""
    out = tmp_path / "results"
    result = cli("compare", *SHIPPED_SCENARIOS, "-o", out, "--name", "all")
    assert_clean(result, 0)
    table = (out / "all" / "compare.csv").read_text()
    for path in SHIPPED_SCENARIOS:
        assert path.stem in table
    assert_clean(cli("plot", out / "all"), 0)


@pytest.mark.parametrize("path", SHIPPED_SCENARIOS, ids=lambda p: p.stem)
def test_compensate(path, tmp_path, cli):
    """The province game on every option: exit 0 with the allocation; 3 when the joint plan
    is infeasible; a roadmap is refused with exit 2 and says why."""
    out = tmp_path / "results"
    result = cli("compensate", path, "--players", "province", "--method",
                 "shapley,nucleolus", "-o", out)
    if ROADMAP in path.stem:
        assert_clean(result, 2)
        assert "roadmap" in result.output
    elif INFEASIBLE in path.stem:
        assert_clean(result, 3)
    else:
        assert_clean(result, 0)
        assert (out / f"{path.stem}-compensation" / "allocation.csv").exists()
