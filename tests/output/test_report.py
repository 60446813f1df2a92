"""report.html: one self-contained page per results, Pareto and comparison folder, and the
short HTML of an in-memory Result; then the page in a real browser (headless Chromium).

The folders are made with the command line on the two-city toy region (tests/toy.py):
an optimal run with plots, an infeasible one whose diagnosis has both stages (a burden
cap too tight for the target), a Pareto front and a comparison.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import SCENARIOS, invoke
from toy import TARGET_A, city, two_city_region, write_scenario

from fairshare import report
from fairshare.report import result_html, rule_sentence, target_sentence, write_report


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """{kind: folder} of toy results, written once for the module."""
    root = tmp_path_factory.mktemp("report")
    region = two_city_region(root / "region")
    toy = write_scenario(root / "toy.yaml", region, targets=TARGET_A)
    tight = write_scenario(root / "tight.yaml", region, name="toy-tight", targets=TARGET_A,
                           fairness=[{"rule": "burden_cap", "max_share_of_gdp": 1e-7}])
    out = root / "out"
    assert invoke("run", toy, "-o", out).exit_code == 0
    assert invoke("run", tight, "-o", out, "--no-plots").exit_code == 3
    assert invoke("pareto", toy, "--y", "max_burden", "--points", 3, "-o", out).exit_code == 0
    assert invoke("compare", toy, tight, "-o", out, "--name", "cmp").exit_code == 0
    return {"result": out / "toy", "infeasible": out / "toy-tight",
            "pareto": out / "toy-pareto-max_burden", "compare": out / "cmp", "region": region}


class _Refs(HTMLParser):
    """Every tag, and every address a page would load (src, href, srcset, url(...))."""

    def __init__(self):
        super().__init__()
        self.tags, self.refs = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.refs += [v for k, v in attrs if k in ("src", "href", "srcset", "data", "poster") and v]


def _page(folder: Path) -> tuple[str, _Refs]:
    text = write_report(folder).read_text(encoding="utf-8")
    parser = _Refs()
    parser.feed(text)
    return text, parser


def _text(page: str) -> str:
    """The page's words, tags removed and entities decoded (what a reader sees)."""
    import html
    no_images = re.sub(r'src="data:[^"]*"', "", page)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", no_images)))


def _self_contained(page: str, refs: _Refs) -> None:
    assert "script" not in refs.tags, "the page has no JavaScript"
    assert all(r.startswith("data:") for r in refs.refs), [r for r in refs.refs if not r.startswith("data:")]
    assert "url(" not in page and "@import" not in page  # nothing loaded from the CSS
    assert "Content-Security-Policy" in page


def test_result_report_reads_top_to_bottom(folders):
    page, refs = _page(folders["result"])
    _self_contained(page, refs)
    text = _text(page)
    order = ["The question", "Headline", "Tables", "Plots",
             "Binding targets and caps, with their marginal costs"]
    assert [text.index(h) for h in order] == sorted(text.index(h) for h in order)
    # the question in words, from scenario_resolved
    assert "PM2.5 at most 17 µg/m³ at A (a)" in text
    assert "the least total cost" in text
    # the headline: total cost (0.3 M CNY/yr), share of GDP, targets, price of fairness
    assert "0.30 M CNY/yr" in text and "% of GDP" in text and "1 of 1" in text
    assert "Price of fairness" in text
    # tables with units and names beside ids
    for header in ("Cost (M CNY/yr)", "Burden (% of GDP)", "Marginal cost (M CNY/yr per µg/m³)",
                   "After the plan (µg/m³)", "PM2.5 reduction (t/yr)"):
        assert header in text
    assert "A (a)" in text and "B (b)" in text
    # every plot of the folder, embedded
    pngs = sorted(p.stem for p in folders["result"].glob("*.png"))
    assert pngs and page.count("data:image/png;base64,") == len(pngs)
    # the binding target with its marginal cost: 0.1 M CNY/yr per µg/m³ (5 x_a + x_b >= 3)
    binding = text[text.index("Binding concentration targets"):]
    assert "Binding concentration targets (1 of 1)" in binding and "0.10" in binding
    assert re.search(r"targets\[0\] concentration PM2\.5 at most 17 .* yes", binding)


def test_report_is_deterministic_and_holds_nothing_time_dependent(folders, tmp_path):
    first = write_report(folders["result"]).read_bytes()
    assert write_report(folders["result"]).read_bytes() == first
    # a copy whose summary.json has other timings gives the same page
    copy = tmp_path / "toy"
    shutil.copytree(folders["result"], copy)
    summary = json.loads((copy / "summary.json").read_text(encoding="utf-8"))
    summary["seconds"] = {k: v + 12.5 for k, v in summary["seconds"].items()}
    (copy / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    assert write_report(copy).read_bytes() == first
    assert not list(folders["result"].glob(".report.html*")), "no temporary file is left"


@pytest.mark.parametrize("kind", ["result", "pareto", "compare"])
def test_report_written_inside_the_temporary_folder_names_the_final_one(folders, tmp_path, kind):
    """Written while the folder is still the hidden .<name>.partial-<pid>-<hex> that
    fairshare.folders renames when complete, the page is the finished folder's."""
    final = folders[kind]
    partial = tmp_path / f".{final.name}.partial-4242-0123abcd"
    shutil.copytree(final, partial, ignore=shutil.ignore_patterns("report.html", "results.xlsx"))
    assert write_report(partial).read_bytes() == write_report(final).read_bytes()
    assert "partial" not in (partial / "report.html").read_text(encoding="utf-8")


def test_infeasible_report_shows_the_diagnosis(folders):
    page, refs = _page(folders["infeasible"])
    _self_contained(page, refs)
    text = _text(page)
    diagnosis = json.loads((folders["infeasible"] / "diagnosis.json").read_text(encoding="utf-8"))
    assert "Why no plan meets every target and rule" in text
    assert "With every target kept, these rules would have to give" in text
    assert "With every rule kept, these targets would have to give" in text
    for stage in ("rules_must_give", "targets_must_give"):
        for r in diagnosis[stage]["relaxations"]:
            assert r["fix"] in text
            assert f"{Path(r['file']).name}, line {r['line']}" in text
    assert "no city pays more than 1e-05% of its GDP" in text  # the rule, in words
    assert "Tables" not in text and "data:image/png" not in page


def test_limit_or_failure_shows_the_status_message(folders, tmp_path):
    folder = tmp_path / "limit"
    folder.mkdir()
    summary = json.loads((folders["result"] / "summary.json").read_text(encoding="utf-8"))
    summary.update(status="time_limit", total_cost_cny=None, best_objective_cny=2.5e8,
                   message="HiGHS stopped at the time limit (300 s); raise solver.time_limit_s")
    for key in ("fairness", "rules", "emission_caps", "cost_caps", "targets_attained"):
        summary.pop(key, None)
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    text = _text(write_report(folder).read_text(encoding="utf-8"))
    assert "time_limit" in text and "HiGHS stopped at the time limit (300 s)" in text
    assert "Best objective found" in text and "0.25 bn CNY/yr" in text


def test_pareto_report(folders):
    page, refs = _page(folders["pareto"])
    _self_contained(page, refs)
    text = _text(page)
    assert "Pareto front: toy-pareto-max_burden" in text
    assert "the largest burden" in text and "3 of 3" in text
    assert "Total cost (M CNY/yr)" in text and "Bound on the largest burden (% of GDP)" in text
    assert "0.30" in text  # point 0 is the least-cost plan
    assert page.count("data:image/png;base64,") == 1


def test_comparison_report(folders):
    page, refs = _page(folders["compare"])
    _self_contained(page, refs)
    text = _text(page)
    assert "2 roadmap options side by side" in text
    assert "toy-tight" in text and "infeasible" in text
    assert "Targets attained" in text and "Targets in total" in text
    assert not re.search(r"\b\d+/\d+\b", text), "no k/n counts"
    assert page.count("data:image/png;base64,") == 1


def test_text_from_files_is_escaped(tmp_path):
    """A city name and a scenario description with markup are shown, never run."""
    evil = "<img src=x onerror=alert(1)>&<b>"
    region = two_city_region(tmp_path / "region", cities=[{**city("a"), "name": evil},
                                                          city("b", gdp_bn_cny=50.0)])
    sc = write_scenario(tmp_path / "evil.yaml", region, targets=TARGET_A,
                        description="</title><script>alert(2)</script>")
    assert invoke("run", sc, "-o", tmp_path / "out", "--no-plots").exit_code == 0
    page, refs = _page(tmp_path / "out" / "toy")
    _self_contained(page, refs)
    assert evil not in page and "<script>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;&amp;&lt;b&gt;" in page
    assert "&lt;/title&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in page


def test_region_gone_falls_back_to_ids(folders, tmp_path):
    """A result whose region was moved away still has a report; the names come from the
    result's own tables, and without those the ids stand alone."""
    copy = tmp_path / "toy"
    shutil.copytree(folders["result"], copy)
    summary = json.loads((copy / "summary.json").read_text(encoding="utf-8"))
    summary["region"]["folder"] = str(tmp_path / "no-such-region")
    (copy / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    for name in ("cities", "receptors", "measures"):  # files without name columns (older results)
        path = copy / f"{name}.csv"
        lines = path.read_text(encoding="utf-8").splitlines()
        header = lines[0].split(",")
        keep = [i for i, h in enumerate(header) if h not in ("name", "measure_name")]
        path.write_text("\n".join(",".join(line.split(",")[i] for i in keep) for line in lines) + "\n",
                        encoding="utf-8")
    text = _text(write_report(copy).read_text(encoding="utf-8"))
    assert "Cost (M CNY/yr)" in text and "A (a)" not in text
    assert re.search(r"Cities .* a 0\.30", text)


def test_result_html_for_jupyter(folders):
    import fairshare as fs

    res = fs.solve(fs.load_scenario(folders["result"].parent.parent / "toy.yaml"))
    page = result_html(res)
    text = _text(page)
    assert "optimal" in text and "0.30 M CNY/yr" in text and "1 of 1" in text
    assert "Price of fairness" in text
    assert re.search(r"City Name .* a A 0\.30", text)
    assert "<script" not in page and "<style" not in page
    infeasible = fs.solve(fs.load_scenario(folders["result"].parent.parent / "tight.yaml"))
    assert "infeasible" in _text(result_html(infeasible))


# Examples of every fairness rule and target kind of docs/scenario.md.
RULES = [
    {"rule": "burden_cap", "max_share_of_gdp": 0.008, "cities": "all"},
    {"rule": "burden_band", "width": 0.004},
    {"rule": "equal_reduction", "pollutant": "NOx", "min_pct": 8.0},
    {"rule": "equal_reduction", "pollutant": "SO2", "band_pct": 5.0},
    {"rule": "unified_standard", "zone": "all", "measure": "m1", "min_application": 0.5},
    {"rule": "unified_standard", "zone": "z1", "sector": "steel", "pollutant": "NOx", "min_removal": 0.4},
    {"rule": "ability_to_pay", "max_share_of_gdp": 0.006, "cities": ["a"]},
    {"rule": "ability_to_pay", "class_by": "gdp_per_capita",
     "classes": [{"max_gdp_per_capita_cny": 60000.0, "max_share_of_gdp": 0.003},
                 {"max_share_of_gdp": 0.008}]},
    {"rule": "gini", "of": "burden", "max": 0.2},
    {"rule": "per_capita", "pollutant": "NOx", "band_t_per_person": 0.002},
    {"rule": "polluter_pays", "min_fraction": 0.5},
]
TARGETS = [
    ({"metric": "PM25", "receptors": "all", "max_ugm3": 35.0}, "PM2.5 at most 35 µg/m³ at every receptor"),
    ({"metric": "PM25", "receptors": ["a"], "reduction_pct": 15.0},
     "PM2.5 at least 15% below its baseline at A (a)"),
    ({"metric": "PM25", "receptors": "all", "gap_closure": 0.6}, "closes 60% of the gap"),
    ({"metric": "PM25", "exposure": "population_weighted", "max_ugm3": 32.0, "receptors": "all"},
     "population-weighted PM2.5 over every receptor at most 32 µg/m³"),
    ({"emission_cap": "NOx", "zone": "all", "reduction_pct": 10.0},
     "NOx emissions of the whole region cut by at least 10% from the baseline"),
    ({"emission_cap": "VOC", "zone": "z1", "max_t": 450000.0},
     "VOC emissions of zone z1 at most 450,000 t/yr"),
]


def test_every_rule_and_target_has_a_sentence():
    """Each family of fairshare.families reads as a sentence (a new family fails here until
    report.rule_sentence knows it)."""
    from fairshare import families

    names = report.Names(cities={"a": "A"})
    fairness = {f.NAME for f in families.FAMILIES if f.SECTION == "fairness"}
    assert fairness == {r["rule"] for r in RULES}
    for r in RULES:
        sentence = rule_sentence(r, names)
        assert not sentence.startswith(f"{r['rule']}:"), sentence
    assert rule_sentence(RULES[0], names) == "no city pays more than 0.8% of its GDP"
    assert "none of A (a) pays more than 0.6% of its GDP" in rule_sentence(RULES[6], names)
    for t, words in TARGETS:
        assert words in target_sentence(t, names)
    kinds = {f.NAME for f in families.FAMILIES if f.SECTION == "targets"}
    assert kinds == {"concentration", "exposure", "emission_cap"}


# --- in a real browser ---------------------------------------------------------------------------

# Headless Chromium (Debian package `chromium`; .ci/run installs it). One run dumps the
# rendered DOM to stdout and writes a screenshot; --enable-logging=stderr --v=0 puts every
# console message on stderr as "...:INFO:CONSOLE(:<line>|(<line>))] "<message>", source: ...".
# The page has no JavaScript and a CSP that forbids loading anything, so any console
# message at all (a script error, a blocked load, a CSP violation) is a failure.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
                  "--enable-logging=stderr", "--v=0"]
CONSOLE = re.compile(r"\bCONSOLE[(:]")


def _chromium() -> str:
    if os.environ.get("FAIRSHARE_NO_BROWSER") == "1":
        pytest.skip("FAIRSHARE_NO_BROWSER=1: the browser test is skipped")
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if found is None:  # never a skip on CI: .ci/run installs it
        pytest.fail("headless Chromium is needed for this test: `apt-get install chromium` "
                    "(Debian), or set FAIRSHARE_NO_BROWSER=1 to skip it locally")
    return found


def _open(chromium: str, page: Path, work: Path, screenshot: Path | None = None):
    """(rendered DOM, console lines) of ``page``; a screenshot when asked."""
    shot = [f"--screenshot={screenshot}", "--window-size=1280,2400"] if screenshot else []
    proc = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={work / 'profile'}",
                           "--dump-dom", *shot, page.resolve().as_uri()],
                          capture_output=True, text=True, timeout=180, cwd=work,
                          env={**os.environ, "HOME": os.environ.get("HOME", str(work))})
    assert proc.returncode == 0, proc.stderr[-3000:]
    console = [line for line in proc.stderr.splitlines() if CONSOLE.search(line)]
    return proc.stdout, console


def test_report_in_headless_chromium(tmp_path):
    chromium = _chromium()
    # The console check can fail: a page with a script error and a blocked load is caught.
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
                   f"<meta http-equiv=\"Content-Security-Policy\" content=\"{report.CSP}\">"
                   "<title>bad</title></head><body><p>bad</p><img src=\"https://example.com/x.png\">"
                   "</body></html>", encoding="utf-8")
    dom, console = _open(chromium, bad, tmp_path)
    assert "<p>bad</p>" in dom and console, "the browser reports a blocked load on its console"

    # The default scenario, as `fairshare run` writes it, with its report.
    out = tmp_path / "out"
    assert invoke("run", SCENARIOS / "jjj-2030-least-cost.yaml", "-o", out).exit_code == 0
    page = write_report(out / "jjj-2030-least-cost")
    shot = Path(os.environ.get("FAIRSHARE_SCREENSHOT_DIR") or tmp_path) / "report.png"
    dom, console = _open(chromium, page, tmp_path, screenshot=shot)
    assert console == [], console
    words = _text(dom)
    summary = json.loads((out / "jjj-2030-least-cost" / "summary.json").read_text())
    total = f"{summary['total_cost_cny'] / 1e9:.2f} bn CNY/yr"  # the run's own headline
    attained = f"{summary['targets_attained']} of {summary['targets_total']}"
    assert total in words and attained in words and summary["targets_total"] == 28
    assert "jjj-2030-least-cost" in words and "PM2.5 at most 35 µg/m³ at every receptor" in words
    assert dom.count("data:image/png;base64,") >= 4  # the plots, in the rendered page

    from PIL import Image  # a dependency of matplotlib

    with Image.open(shot) as im:
        assert im.format == "PNG" and im.size == (1280, 2400)
        grey = im.convert("L")
        dark = sum(grey.histogram()[:128])
    assert shot.stat().st_size > 50_000, "a rendered page, not a blank one"
    assert dark > 0.01 * 1280 * 2400, "text and tables are drawn"
    print(f"screenshot: {shot}", file=sys.stderr)
