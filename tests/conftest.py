"""Shared ground of the tests, one folder per stage of the pipeline:

    input/     scenario files and region tables: loading, checks, problems reported
    model/     the LP of each rule family and fairness rule, on hand-worked toys
    solve/     HiGHS: faults, diagnosis of infeasibility, row generation
    output/    results folders, plots, the command line
    features/  Pareto fronts, comparisons, distributed sweeps
    shipped/   every shipped scenario against the independent LP (and regression values)
    bench/     the benchmark generator and the LP floor

Beside them: ``toy.py`` (the two-city toy region, written from dicts), ``independent.py``
(the one LP oracle: scipy linprog, no fairshare code) and ``data/`` (static fixtures).
Test file names are unique across the folders (pytest's default import mode).

Plain names, for module level (``from conftest import REPO``): the paths below,
:func:`invoke` and :func:`load_bench`. Fixtures: ``cli``, ``toy_region``, ``toy_scenario``,
``shipped_scenario``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:  # toy.py and independent.py, from every stage folder
    sys.path.insert(0, str(TESTS))

from toy import TARGET_A, two_city_region, write_scenario  # noqa: E402

REPO = TESTS.parent
DATA = TESTS / "data"                          # static fixtures: data/bad/, data/scenarios/
SCENARIOS = REPO / "scenarios"                 # the shipped scenario files
SHIPPED_SCENARIOS = sorted(SCENARIOS.glob("*.yaml"))
REGION_JJJ = REPO / "models" / "jjj-2plus26"   # the shipped region
BENCH = REPO / "bench"                         # benchmark scripts (not a package)


def invoke(*args, **kwargs):
    """``fairshare ARGS...`` in-process (click's CliRunner); arguments may be paths or
    numbers. Returns click's Result: ``.exit_code``, ``.output``."""
    from click.testing import CliRunner

    from fairshare.cli import main

    return CliRunner().invoke(main, [str(a) for a in args], **kwargs)


def load_bench(stem: str):
    """The script ``bench/<stem>.py`` as a module (loaded once)."""
    name = f"fairshare_bench_{stem}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, BENCH / f"{stem}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture
def cli():
    """Run the command line: ``cli("run", scenario, "-o", out)`` -> click Result."""
    return invoke


@pytest.fixture
def toy_region(tmp_path):
    """Factory of the two-city toy region (toy.two_city_region): ``toy_region()`` writes it
    to tmp_path/region; ``toy_region(folder, cities=[...])`` elsewhere, tables replaced."""
    def make(folder: Path | None = None, **overrides) -> Path:
        return two_city_region(folder or tmp_path / "region", **overrides)
    return make


@pytest.fixture
def toy_scenario(tmp_path):
    """Factory of a scenario file on the toy region: ``toy_scenario()`` writes
    tmp_path/toy.yaml (name "toy", target C_a <= 17) and the region beside it
    (tmp_path/region) unless ``region`` is given; other keywords are scenario keys."""
    def make(path: Path | None = None, region: Path | None = None, **keys) -> Path:
        path = Path(path or tmp_path / "toy.yaml")
        if region is None:
            region = two_city_region(path.parent / "region")
        keys.setdefault("targets", TARGET_A)
        return write_scenario(path, region, **keys)
    return make


@pytest.fixture
def shipped_scenario():
    """Path of a shipped scenario by name: ``shipped_scenario("jjj-2030-least-cost")``."""
    def path(name: str) -> Path:
        found = SCENARIOS / f"{name}.yaml"
        assert found in SHIPPED_SCENARIOS, f"no shipped scenario {name!r} in {SCENARIOS}"
        return found
    return path
