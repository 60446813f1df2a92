"""The documentation cannot rot: its commands run as written, its examples load, and its
references cover the code.

* **The tutorial** (``docs/tutorial.md``) is one session in a fresh folder holding the
  shipped ``scenarios/`` and ``models/``: every ``bash`` block runs in order, every
  ``yaml`` block whose first line is ``# FILE`` is written to FILE first, every
  ``python`` block runs as a script, and a ``text`` block right after a ``bash`` block is
  an excerpt of the last command's output: each of its lines must be printed.
* **The READMEs** (``README.md``, ``docs/README.md``): every ``fairshare`` command of
  their ``bash`` blocks runs (each block in a fresh folder; a command that needs a Dask
  scheduler is left out), and their ``python`` blocks run.
* **The worked examples** of ``region-data.md``, ``scenario.md`` and ``results.md``:
  the files they show are written (a block right after a line naming the file in
  backticks, or a ``yaml`` block whose first line is ``# FILE``) and every ``$ command``
  of a transcript runs; the lines shown after it must be printed.
* A command exits 0 unless its comment (or the text before its block) says
  ``exit N`` / ``exits N``.
* A block right after ``<!-- docs-test: skip -->`` is not run.

Output is compared line by line with runs of spaces collapsed and digits masked: the
layout and wording of a printout are checked, not the region's numbers (the shipped
region's data may be revised). Lines holding ``...`` or ``…`` stand for elided output.

The generated references (``docs/gen/reference.py``) are exercised here too, without
Sphinx: every part of the scenario file, every region table, every command and every
rule family has its section, and the hand-written pages name every rule family.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import signal
import subprocess
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
sys.path.insert(0, str(DOCS / "gen"))

import reference  # noqa: E402  (docs/gen/reference.py)

SKIP = "<!-- docs-test: skip -->"
FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
                   re.MULTILINE | re.DOTALL)
EXIT = re.compile(r"\bexits?(?: with code)? (\d+)\b")
TIMEOUT_S = 300


@dataclass
class Block:
    lang: str
    body: str
    before: str  # the text between the previous block and this one
    skip: bool = False
    after: str = ""  # the text up to the next block


@dataclass
class Step:
    kind: str  # "file", "shell", "python", "expect"
    text: str
    path: str = ""
    exit_code: int = 0
    where: str = ""


@dataclass
class Session:
    folder: Path
    log: list[str] = field(default_factory=list)
    last_output: str = ""


def blocks(markdown: str) -> list[Block]:
    out, end = [], 0
    for m in FENCE.finditer(markdown):
        before = markdown[end:m.start()]
        if out:
            out[-1].after = before
        body = "\n".join(line[len(m["indent"]):] for line in m["body"].splitlines())
        out.append(Block(m["lang"], body, before, before.rstrip().endswith(SKIP)))
        end = m.end()
    if out:
        out[-1].after = markdown[end:]
    return out


def commands(shell: str) -> list[tuple[str, int]]:
    """(command, expected exit code) of a shell block: continuation lines joined, comments
    dropped (``# exit 3`` sets the exit code)."""
    out = []
    for line in re.sub(r"\\\n\s*", " ", shell).splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        command, _, comment = line.partition(" #")
        m = EXIT.search(comment)
        out.append((command.strip(), int(m[1]) if m else 0))
    return out


def file_name(block: Block) -> str | None:
    """The file a block shows: named on its first line (``# tight-cap.yaml``), or by the
    text just before it (a line ending in a backticked path, with a colon or a remark in
    brackets after it)."""
    first = block.body.splitlines()[0] if block.body else ""
    m = re.fullmatch(r"#\s*([\w./-]+\.(?:ya?ml|csv))", first.strip())
    if not (m and block.lang in ("yaml", "")):
        last = block.before.strip().splitlines()[-1] if block.before.strip() else ""
        m = re.search(r"`([\w./-]+\.(?:ya?ml|csv))`(?: \([^)]*\))?:?$", last)
    if not m or m[1].startswith(("scenarios/", "models/", "/", "..")):
        return None  # a shipped file shown as it is, or none
    return m[1]


def expected_exit(block: Block) -> int:
    """The exit code the text around a transcript states: its last line before, or the
    first paragraph after ("The exit code is 2.")."""
    before = block.before.strip().splitlines()[-1] if block.before.strip() else ""
    after = block.after.strip().split("\n\n")[0]
    m = EXIT.search(before) or re.search(r"\bexit code is (\d+)\b", after)
    return int(m[1]) if m else 0


def tutorial_steps(markdown: str, where: str) -> list[Step]:
    steps: list[Step] = []
    previous = None
    for b in blocks(markdown):
        if b.skip:
            previous = None
            continue
        if b.lang == "yaml" and (name := file_name(b)):
            steps.append(Step("file", b.body, path=name, where=where))
        elif b.lang in ("bash", "sh"):
            for command, code in commands(b.body):
                steps.append(Step("shell", command, exit_code=code, where=where))
        elif b.lang == "python":
            steps.append(Step("python", b.body, where=where))
        elif b.lang == "text" and previous is not None and previous.lang in ("bash", "sh"):
            steps.append(Step("expect", b.body, where=where))
        previous = b
    return steps


def transcript_steps(markdown: str, where: str) -> list[Step]:
    """Files shown and ``$ command`` transcripts of a reference page, in order."""
    steps: list[Step] = []
    for b in blocks(markdown):
        if b.skip:
            continue
        name = file_name(b)
        if name and not b.body.lstrip().startswith("$"):
            steps.append(Step("file", b.body, path=name, where=where))
            continue
        if b.lang in ("bash", "sh"):
            steps += [Step("shell", c, exit_code=code, where=where) for c, code in commands(b.body)]
            continue
        if not b.body.lstrip().startswith("$ "):
            continue
        chunks = re.split(r"^\$ ", b.body, flags=re.MULTILINE)[1:]
        for chunk in chunks:
            command, _, output = chunk.partition("\n")
            if command.startswith("cat "):
                continue  # shows a file written above
            steps.append(Step("shell", command.strip(), exit_code=expected_exit(b), where=where))
            if output.strip():
                steps.append(Step("expect", output, where=where))
    return steps


def readme_steps(markdown: str, where: str) -> list[list[Step]]:
    """One list of steps per block: the fairshare commands and the Python of a README."""
    out = []
    for b in blocks(markdown):
        if b.skip:
            continue
        if b.lang in ("bash", "sh"):
            steps = []
            for command, code in commands(b.body):
                for part in command.split("&&"):
                    part = part.strip()
                    if part.startswith("fairshare ") and "--scheduler" not in part:
                        steps.append(Step("shell", part, exit_code=code, where=where))
            if steps:
                out.append(steps)
        elif b.lang == "python":
            out.append([Step("python", b.body, where=where)])
    return out


# --- running ---------------------------------------------------------------------------------


def environment() -> dict:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["MPLBACKEND"] = "Agg"
    env["PYTHONPATH"] = ""
    env.pop("PYTHONWARNINGS", None)
    return env


def shape(text: str) -> list[str]:
    """Lines as compared: spaces collapsed, digits masked; elisions and blanks dropped."""
    out = []
    for line in text.splitlines():
        line = " ".join(line.split())
        if not line or "..." in line or "…" in line:
            continue
        out.append(re.sub(r"\d+", "#", line))
    return out


def run(step: Step, session: Session) -> None:
    folder = session.folder
    if step.kind == "file":
        path = folder / step.path
        path.parent.mkdir(parents=True, exist_ok=True)
        # never through the links to the checkout's scenarios/ and models/
        assert path.resolve().is_relative_to(folder.resolve()), path
        path.write_text(step.text, encoding="utf-8")
        return
    if step.kind == "expect":
        shown = shape(session.last_output.replace(str(folder), "/tmp/ex"))
        missing = [line for line in shape(step.text) if line not in shown]
        assert not missing, (f"{step.where}: the output shown is not what the command prints "
                             f"(masked lines missing: {missing})\n--- printed:\n{session.last_output}")
        return
    if step.kind == "python":
        code, output = run_python(step.text, folder)
    elif IN_PROCESS.match(step.text) and "--workers" not in step.text:
        code, output = run_fairshare(shlex.split(step.text)[1:], folder)
    else:  # a shell line as written (redirection, globs, other programs; Dask workers)
        proc = subprocess.run(["bash", "-c", step.text], cwd=folder, env=environment(),
                              capture_output=True, text=True, timeout=TIMEOUT_S,
                              stdin=subprocess.DEVNULL)
        code, output = proc.returncode, proc.stdout + proc.stderr
    session.last_output = output
    session.log.append(f"$ {step.text}  -> {code}")
    assert code == step.exit_code, (
        f"{step.where}: `{step.text}` exited {code}, the docs say {step.exit_code}\n"
        f"--- output:\n{output[-4000:]}")


# A plain `fairshare ...` line (no shell syntax) runs in this process, as the CLI tests do:
# the same command, without paying the imports again for every line.
IN_PROCESS = re.compile(r"^fairshare(\s+[^|&;<>*?`$(){}\\]+)?$")


@contextlib.contextmanager
def inside(folder: Path):
    before, term = Path.cwd(), signal.getsignal(signal.SIGTERM)
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)
        signal.signal(signal.SIGTERM, term)  # the CLI installs its own handler


def run_fairshare(args: list[str], folder: Path) -> tuple[int, str]:
    from click.testing import CliRunner

    from fairshare.cli import main

    with inside(folder):
        result = CliRunner().invoke(main, args)
    output = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        output += "".join(traceback.format_exception(result.exception))
    return result.exit_code, output


def run_python(source: str, folder: Path) -> tuple[int, str]:
    out = io.StringIO()
    with inside(folder), contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            exec(compile(source, "<docs python block>", "exec"), {"__name__": "__main__"})
        except Exception:  # reported with the block's output
            traceback.print_exc(file=out)
            return 1, out.getvalue()
    return 0, out.getvalue()


def checkout(tmp_path: Path) -> Path:
    """A folder that looks like the top of a checkout: the shipped scenarios and models."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    for name in ("scenarios", "models"):
        (tmp_path / name).symlink_to(REPO / name, target_is_directory=True)
    return tmp_path


def read(name: str) -> str:
    return (REPO / name).read_text(encoding="utf-8")


# --- the commands of the docs ------------------------------------------------------------------


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory) -> Path:
    """The tutorial, run once: its folder (the results folder test reads it too)."""
    steps = tutorial_steps(read("docs/tutorial.md"), "docs/tutorial.md")
    kinds = {s.kind for s in steps}
    assert {"file", "shell", "python", "expect"} <= kinds, "the tutorial lost a kind of step"
    session = Session(checkout(tmp_path_factory.mktemp("tutorial")))
    for step in steps:
        run(step, session)
    return session.folder


def test_tutorial_runs_as_written(tutorial):
    tmp_path = tutorial
    # what the tutorial says it wrote
    for folder in ("jjj-2030-least-cost", "tutorial-fair", "tutorial-too-fair",
                   "jjj-2030-least-cost-pareto-max_burden", "jjj-2030-least-cost-pareto-target",
                   "tutorial-options"):
        assert (tmp_path / "results" / folder).is_dir(), folder
    assert (tmp_path / "results" / "tutorial-too-fair" / "diagnosis.json").is_file()


@pytest.mark.parametrize("name", ["README.md", "docs/README.md"])
def test_readme_commands_run(tmp_path, name):
    groups = readme_steps(read(name), name)
    assert groups, f"{name} has no command to run"
    for n, steps in enumerate(groups):
        session = Session(checkout(tmp_path / f"block{n}"))
        for step in steps:
            run(step, session)


def test_worked_examples_run(tmp_path):
    """region-data.md's two-city region, then the scenario and results examples on it."""
    session = Session(checkout(tmp_path))
    ran = 0
    for name in ("docs/region-data.md", "docs/scenario.md", "docs/results.md", "docs/roadmaps.md"):
        for step in transcript_steps(read(name), name):
            run(step, session)
            ran += step.kind == "shell"
    assert ran >= 6


# --- the generated references cover the code ------------------------------------------------


def test_every_part_of_the_scenario_file_has_a_key_table():
    sections = reference.scenario_sections()
    from fairshare.families import FAMILIES
    assert {f.NAME for f in FAMILIES} <= set(sections)
    for section in sections:
        assert "| key |" in reference.scenario_keys(section)
    listed = reference._listed(read("docs/scenario.md"), "keys")
    assert "keys-unlisted" in read("docs/scenario.md")
    page = reference.scenario_unlisted(listed)
    for section in set(sections) - listed:
        assert section in page
    # every key of the JSON Schema appears in the tables of its section
    schema = reference._schema()
    top = reference.scenario_keys("scenario")
    for key in schema["properties"]:
        assert f"`{key}`" in top


def test_scenario_page_shows_every_rule_by_hand():
    """A new rule family needs its section in scenario.md (prose and an example), not only
    the generated table that 'Other keys' would show."""
    from fairshare.families import FAMILIES
    listed = reference._listed(read("docs/scenario.md"), "keys")
    missing = [f.NAME for f in FAMILIES if f.NAME not in listed]
    assert not missing, f"docs/scenario.md has no '<!-- generated: keys NAME -->' section for {missing}"


def test_every_region_table_has_its_columns():
    listed = reference._listed(read("docs/region-data.md"), "columns")
    missing = set(reference.region_tables()) - listed
    assert not missing, f"docs/region-data.md has no column table for {sorted(missing)}"
    for name in reference.region_tables():
        assert "| column |" in reference.region_columns(name)
    assert reference.stale_column_notes(read("docs/region-data.md")) == []


def test_every_command_is_in_the_cli_reference():
    page = reference.cli_reference()
    from fairshare.cli import main
    for name, cmd in main.commands.items():
        assert f"## `fairshare {name}`" in page
        for param in cmd.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("-"):
                    assert f"`{opt}`" in page, (name, opt)


def test_formulation_covers_every_family():
    """docs/formulation.md is written by hand: every rule family and every component that
    holds its rows must be in it, so that a new rule cannot be forgotten. (docs/families.md
    shows every family's docstring by itself.)"""
    from fairshare.families import FAMILIES, RULES, TARGETS
    text = read("docs/formulation.md")
    targets = text[text.index("## Targets"):text.index("## Fairness rules")]
    rules = text[text.index("## Fairness rules"):text.index("## Objectives")]
    for fam in TARGETS:
        for row in fam.ROWS:
            assert f"`{row}" in targets, f"formulation.md's Targets section misses {fam.NAME} ({row})"
    for fam in RULES:
        assert f"`{fam.NAME}`" in rules, f"formulation.md's Fairness rules table misses {fam.NAME}"
        for row in fam.ROWS:
            assert f"`{row}" in rules, f"formulation.md misses {fam.NAME}'s rows {row}"
    families_page = reference.families_reference()
    for fam in FAMILIES:
        assert f".. automodule:: {fam.__name__}" in families_page


def test_every_family_module_is_registered():
    """A module in src/fairshare/families/ that FAMILIES does not list would be missing from
    the model and from the docs alike."""
    import fairshare.families as pkg
    from fairshare.families import FAMILIES
    modules = {p.stem for p in Path(pkg.__file__).parent.glob("*.py")} - {"__init__", "base"}
    assert modules == {f.__name__.rsplit(".", 1)[1] for f in FAMILIES}


def test_results_page_names_every_column_written(tutorial):
    """Every column of cities.csv, receptors.csv, measures.csv, pareto.csv and compare.csv,
    and every key of summary.json, that the tutorial's commands wrote is in docs/results.md
    (per-pollutant and per-metric columns as their pattern, e.g. reduction_t_<pollutant>)."""
    import json

    import pandas as pd

    page = read("docs/results.md")
    documented = set(re.findall(r"`([\w<>]+)`", page))
    patterns = [re.compile("^" + re.sub(r"<\w+>", r"\\w+", d) + "$") for d in documented if "<" in d]
    results = tutorial / "results"
    files = [results / "tutorial-fair" / f for f in ("cities.csv", "receptors.csv", "measures.csv")]
    files += sorted(results.glob("*/pareto.csv")) + sorted(results.glob("*/compare.csv"))
    assert len(files) >= 6
    missing = {}
    for f in files:
        for column in pd.read_csv(f, nrows=0).columns:
            if column not in documented and not any(p.match(column) for p in patterns):
                missing.setdefault(f.name, []).append(column)
    assert not missing, f"docs/results.md does not describe these columns: {missing}"
    for name in ("tutorial-fair", "tutorial-too-fair"):
        keys = set(json.loads((results / name / "summary.json").read_text()))
        assert not keys - documented, f"docs/results.md does not describe summary.json keys {keys - documented}"
    diagnosis = json.loads((results / "tutorial-too-fair" / "diagnosis.json").read_text())
    assert not set(diagnosis) - documented
