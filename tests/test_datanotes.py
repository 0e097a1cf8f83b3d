"""planner.outputs.datanotes: the report, the route sheets and the terminal say what the data was (issues 14, 16):
completeness against the official list, the estimated travel times naming their villages, the GCJ-02 note."""

from __future__ import annotations

import dataclasses

import pytest
from plan_fixture import QUOTE_NAME, make_plan

from planner.check import rules_of
from planner.cli.commands import say_data_notes
from planner.network.estimate import terrain_factors
from planner.outputs.datanotes import completeness_lines, estimated_sentence
from planner.outputs.html import escape
from planner.outputs.report import report_html
from planner.outputs.sheets import route_sheets_html
from planner.texts import t

NBS = {
    "county": {"code": "532323", "name": "牟定县", "full_name": "云南省 楚雄彝族自治州 牟定县"},
    "official": 89,
    "matched": 87,
    "matched_by_name": 1,
    "missing": [
        {"code": "532323101002", "name": "兴和社区居民委员会", "township": "共和镇"},
        {"code": "532323103212", "name": "丰乐村民委员会", "township": "江坡镇"},
    ],
    "extra": [{"village_id": "X-001", "name": "新增自然村", "township": "共和镇"}],
    "renamed": [
        {
            "village_id": "532323103201",
            "code": "532323103201",
            "name": "旧名村",
            "official_name": "龙排村民委员会",
        }
    ],
}


def _plan(**summary: object) -> object:
    plan = make_plan()
    return dataclasses.replace(plan, summary={**plan.summary, **summary})


def _section(page: str, key: str) -> str:
    return page.split(f"<section id='{key}'>")[1].split("</section>")[0]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_completeness_section_counts_and_names_every_unit(lang: str) -> None:
    """With nbs in the summary the report has the section: official and matched counts, each missing unit
    (name, code, township), the extra one, the renamed one as old -> new; none without nbs."""
    page = report_html(_plan(nbs=NBS), lang=lang)
    part = _section(page, "completeness")
    assert t("report.section.completeness", lang) in part
    assert "89" in part and "87" in part and "532323" in part
    for unit in (
        "兴和社区居民委员会 (532323101002) 共和镇",
        "丰乐村民委员会 (532323103212) 江坡镇",
        "新增自然村 (X-001)",
    ):
        assert unit in part
    assert "旧名村 → 龙排村民委员会 (532323103201)" in part
    assert escape(t("nbs.by_name", lang, n=1)) in part
    assert "id='completeness'" not in report_html(make_plan(), lang=lang)


def test_completeness_names_are_short_when_the_rules_say_so() -> None:
    """[names] short: the official names in the section lose their committee words too."""
    rules = {**rules_of({}).to_dict(), "names": {"short": True}}
    part = _section(report_html(_plan(nbs=NBS, rules=rules), lang="zh"), "completeness")
    assert "兴和社区 (532323101002)" in part and "旧名村 → 龙排村 (" in part and "委员会" not in part


def test_terminal_limits_each_list_and_says_how_many_more() -> None:
    """The terminal names at most ``limit`` units of a list, then how many more; -v (limit None) all."""
    lines = completeness_lines(NBS, "en", limit=1)
    missing = next(x for x in lines if "missing" in x)
    assert "兴和社区居民委员会" in missing and "丰乐" not in missing and "1 more" in missing
    assert "丰乐村民委员会" in next(x for x in completeness_lines(NBS, "en") if "missing" in x)


def test_estimated_villages_are_named_in_the_report_and_on_their_officers_sheets() -> None:
    """Two estimated villages (roads given, these beyond them): the report's data notes name both with the
    terrain's factor and speed; each officer's route sheet names only the estimated villages he visits."""
    plan = _plan(estimated_villages=["V8", "V4"], network={"roads": "osm"})
    circuity, kmh = terrain_factors(rules_of(plan.summary).network)
    data = _section(report_html(plan, lang="en"), "data")
    assert "新村" in data and escape(QUOTE_NAME) in data and f"x {circuity:g} at {kmh:g} km/h" in data
    sheets = route_sheets_html(plan, lang="en")
    p1 = sheets.split("data-officer='P1'")[1].split("</section>")[0]
    p2 = sheets.split("data-officer='P2'")[1].split("</section>")[0]
    assert (
        "estimates" in p1
        and escape(QUOTE_NAME) in p1
        and "新村" not in p1.split("estimated'>")[1].split("</p>")[0]
    )
    assert "新村" in p2.split("estimated'>")[1].split("</p>")[0]
    assert "class='note estimated'" not in route_sheets_html(make_plan(), lang="en")


def test_a_plan_without_roads_says_every_village_is_estimated_not_a_list() -> None:
    """When every village is estimated the sentence says all of them, not 88 names."""
    ids = [str(v) for v in make_plan().villages["village_id"]]
    plan = _plan(estimated_villages=ids, network={"roads": "none", "circuity": 1.6, "speed_kmh": 25})
    text = estimated_sentence(ids, {}, plan.summary, "zh")
    assert text == t("note.estimated_all", "zh", n=9, circuity="1.6", kmh="25")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_gcj02_note_in_report_and_terminal(lang: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A GCJ-02 input (crs_note in summary.json): the report and the terminal say the layers are WGS-84."""
    plan = _plan(crs_note=t("note.gcj02", "en"), crs_note_zh=t("note.gcj02", "zh"))
    assert escape(t("note.gcj02", lang)) in _section(report_html(plan, lang=lang), "data")
    say_data_notes(plan.summary, lang=lang, verbose=False)
    assert t("note.gcj02", lang) in capsys.readouterr().err
    assert "id='data'" not in report_html(make_plan(), lang=lang)


def test_first_page_names_the_county_and_what_the_official_list_found() -> None:
    """With nbs the title names the county, and the conclusion says how many units are missing, added and
    renamed."""
    page = report_html(_plan(nbs=NBS), lang="en")
    front = page.split("<div id='front'>")[1].split("<section id='figures'>")[0]
    assert "牟定县" in front.split("</p>")[0]
    assert t("report.conclusion.nbs", "en", county="牟定县", missing=2, extra=1, renamed=1) in front


def test_a_gcj02_plan_says_once_on_the_terminal_and_in_the_report_that_layers_are_wgs84(tmp_path) -> None:
    """plan --coords gcj02 (Amap points): summary.json has the note in en and zh, the terminal says it once
    after the plan, the report's data notes say it."""
    import json

    import geopandas as gpd
    from cli_run import run_planner

    from planner.io.files import DEMO_DIR

    v = gpd.read_file(DEMO_DIR / "villages.gpkg").head(10)
    pts = v.geometry.representative_point()
    path = tmp_path / "amap.csv"
    v.assign(lon=pts.x, lat=pts.y).drop(columns="geometry").to_csv(path, index=False)
    out = tmp_path / "plan"
    p = run_planner(
        "plan", "--villages", str(path), "--coords", "gcj02", "--roads", "none", "--out", str(out),
        "--month", "2026-12", "--lang", "zh", timeout=600,
    )  # fmt: skip
    assert p.returncode in (0, 1), p.stderr
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["crs_note"] == t("note.gcj02", "en") and s["crs_note_zh"] == t("note.gcj02", "zh")
    assert p.stderr.count(t("note.gcj02", "zh")) == 1
    assert escape(t("note.gcj02", "zh")) in (out / "report.html").read_text(encoding="utf-8")
