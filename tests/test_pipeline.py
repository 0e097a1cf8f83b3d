"""The whole pipeline: a small hand-made county end to end, and the real demo region (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from corpus.make_corpus import CRS, county

from planner.check import check_plan
from planner.io.plan_files import TIMES_FILE, read_plan_dir, times_from_npz
from planner.io.roads import lines_to_roads
from planner.pipeline import make_plan, write_outputs
from planner.rules import Rules

SUMMARY_KEYS = {
    "villages",
    "population",
    "districts",
    "offices",
    "officers",
    "coverage_pct",
    "max_travel_min",
    "mean_travel_min",
    "district_villages",
    "district_population",
    "visit_requirements_met_pct",
    "unreachable_villages",
    "violations",
    "dropped_visits",
    "seconds",
}


def small_county(cols: int = 4, rows: int = 3) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The corpus's grid county of square villages, with its roads as planner.io.roads gives them."""
    villages, lines = county(cols=cols, rows=rows)
    return villages, lines_to_roads(lines)


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory):
    villages, roads = small_county()
    result = make_plan(villages, roads, rules=Rules(), month="2026-12", seed=0, time_limit=20)
    out = tmp_path_factory.mktemp("plan") / "plan"
    write_outputs(result, out, lang="zh", overwrite=False)
    return villages, result, out


def test_every_village_in_exactly_one_district_with_an_office_inside(planned) -> None:
    """Invariants of any plan: each village once, each district's office is one of its villages."""
    villages, result, _ = planned
    v = result.plan.villages.set_index("village_id")
    assert sorted(v.index) == sorted(villages.index)
    assert v["district_id"].notna().all()
    offices = result.plan.offices.set_index("office_id")
    for district_id, group in v.groupby("district_id"):
        office_ids = group["office_id"].unique()
        assert len(office_ids) == 1
        assert offices.loc[office_ids[0], "village_id"] in group.index
        assert offices.loc[office_ids[0], "district_id"] == district_id


def test_summary_has_every_interface_key_and_consistent_figures(planned) -> None:
    """summary.json holds the INTERFACE.md keys, and its figures agree with the layers."""
    villages, result, out = planned
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert set(s) >= SUMMARY_KEYS
    assert s["villages"] == len(villages)
    assert s["population"] == int(villages["population"].sum())
    assert s["districts"] == len(result.plan.districts) == result.plan.villages["district_id"].nunique()
    assert s["officers"] == int(result.plan.offices["officers"].sum())
    assert set(s["coverage_pct"]) == {"15", "30", "60"}
    assert 0 <= s["visit_requirements_met_pct"] <= 100
    assert s["solver"]["districts"]["stopped_by_time"] is False  # a small county finishes on its counts
    assert all(isinstance(v["hard"], bool) for v in s["violations"])


def test_schedule_respects_shift_and_activities(planned) -> None:
    """Every schedule row has a known activity and no officer-day's day work exceeds the shift."""
    _, result, _ = planned
    sched = result.plan.schedule
    assert len(sched) > 0
    assert set(sched["activity"]) <= {"visit", "night_visit", "office", "travel"}
    day = sched[~sched["activity"].isin(["night_visit"])]
    # night trips (travel rows adjacent to night visits) are not day work: count visits and office only
    work = day[day["activity"].isin(["visit", "office"])].groupby(["officer_id", "date"])["minutes"].sum()
    assert (work <= Rules().patrol.shift_hours * 60 + 1e-6).all()


def test_plan_directory_reads_back_and_check_agrees(planned) -> None:
    """`planner check` finds no break on a fresh plan that the plan itself did not report."""
    _, result, out = planned
    assert {p.name for p in out.iterdir()} >= {
        "plan.gpkg",
        "summary.json",
        "schedule.csv",
        "schedule.xlsx",
        "map.html",
        "report.html",
        TIMES_FILE,
    }
    back = read_plan_dir(out)
    times = times_from_npz(out / TIMES_FILE)
    found = {(v.rule, str(v.subject)) for v in check_plan(back, rules=Rules(), times=times)}
    reported = {(v["rule"], v["subject"]) for v in result.plan.summary["violations"]}
    assert found <= reported


def test_same_seed_same_plan() -> None:
    """The same input and seed give the same districts, offices and schedule."""
    villages, roads = small_county(cols=3, rows=2)
    rules = Rules.from_dict({"districts": {"min_villages": 2, "max_villages": 3}})
    a = make_plan(villages, roads, rules=rules, month="2026-12", seed=3, time_limit=20)
    b = make_plan(villages, roads, rules=rules, month="2026-12", seed=3, time_limit=20)
    cols = ["village_id", "district_id", "office_id"]
    pd.testing.assert_frame_equal(pd.DataFrame(a.plan.villages[cols]), pd.DataFrame(b.plan.villages[cols]))
    pd.testing.assert_frame_equal(
        a.plan.schedule.reset_index(drop=True), b.plan.schedule.reset_index(drop=True)
    )
    assert np.array_equal(a.times.seconds, b.times.seconds)


@pytest.mark.slow
def test_demo_runs_and_check_agrees(demo_plan) -> None:
    """`planner demo` writes every file of a plan directory and `planner check` reports no unreported break."""
    out, p = demo_plan
    assert p.returncode == 0, p.stderr[-2000:]
    assert "Traceback" not in p.stderr
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["villages"] == 66
    assert "osm-n58957648 (安道尔城)" in p.stderr  # breaks name the village, not only its id
    back = read_plan_dir(out)
    found = {
        (v.rule, str(v.subject))
        for v in check_plan(back, rules=Rules(), times=times_from_npz(out / TIMES_FILE))
    }
    assert found <= {(v["rule"], v["subject"]) for v in s["violations"]}


def test_outputs_offline_basemap_and_gbk_shapefiles(planned, tmp_path: Path) -> None:
    """--basemap none leaves no tile server in map.html; --shapefile-encoding GBK writes readable GBK Shapefiles."""
    _, result, _ = planned
    out = tmp_path / "plan"
    write_outputs(result, out, lang="en", overwrite=False, basemap="none", shapefile_encoding="GBK")
    assert "tile.openstreetmap.org" not in (out / "map.html").read_text(encoding="utf-8")
    cpg = sorted((out / "shp").rglob("*.cpg"))
    assert cpg and all(p.read_text().strip().upper() in {"GBK", "CP936"} for p in cpg)
    shp = next(p for p in (out / "shp").rglob("*.shp") if "village" in p.name)
    back = gpd.read_file(shp, encoding="GBK")
    assert set(back["name"]) == set(result.plan.villages["name"])


def test_roster_offices_given_as_villages_become_their_districts_office() -> None:
    """A bureau names an officer's office by its village; the planner maps it to that district's office."""
    from planner.errors import ValidationError
    from planner.pipeline import resolve_roster_offices

    assignment = pd.DataFrame({"office_id": ["O01", "O01", "O02"]}, index=pd.Index(["A", "B", "C"]))
    roster = pd.DataFrame(
        {"officer_id": ["p1", "p2", "p3"], "office": ["B", "O02", "C"], "kind": ["linked"] * 3}
    )
    assert resolve_roster_offices(roster, assignment, source="r.csv")["office"].tolist() == [
        "O01",
        "O02",
        "O02",
    ]
    with pytest.raises(ValidationError, match=r"r\.csv: line 3: office 'O09'"):
        resolve_roster_offices(roster.assign(office=["A", "O09", "C"]), assignment, source="r.csv")


def test_office_sites_become_candidate_villages(tmp_path: Path) -> None:
    """--offices: a CSV of village ids or a point layer gives the villages that may hold an office."""
    from planner.errors import ValidationError
    from planner.io import read_office_sites

    villages, _ = small_county()
    (tmp_path / "sites.csv").write_text("village_id\nV00\nV12\n", encoding="utf-8")
    assert read_office_sites(tmp_path / "sites.csv", villages) == ["V00", "V12"]
    pts = gpd.GeoDataFrame(geometry=villages.loc[["V21", "V03"]].representative_point().values, crs=CRS)
    pts.to_file(tmp_path / "sites.gpkg")
    assert read_office_sites(tmp_path / "sites.gpkg", villages) == ["V21", "V03"]
    (tmp_path / "bad.csv").write_text("village_id\nV00\nV99\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="V99"):
        read_office_sites(tmp_path / "bad.csv", villages)


def test_leave_dates_are_kept_and_check_agrees(tmp_path: Path) -> None:
    """An officer's leave week gets no work, and `planner check` (reading the roster back) reports nothing new."""
    import datetime as dt

    villages, roads = small_county(cols=3, rows=2)
    rules = Rules.from_dict({"districts": {"min_villages": 2, "max_villages": 3}})
    first = make_plan(villages, roads, rules=rules, month="2026-12", seed=0, time_limit=20)
    roster = pd.DataFrame(first.plan.summary["roster"])
    leave = tuple(dt.date(2026, 12, d) for d in range(7, 12))
    roster["unavailable"] = [leave if i == 0 else () for i in range(len(roster))]
    result = make_plan(villages, roads, rules=rules, month="2026-12", roster=roster, seed=0, time_limit=20)
    sched = result.plan.schedule
    away = roster["officer_id"].iloc[0]
    assert not sched[
        (sched["officer_id"] == away) & sched["date"].astype(str).isin([str(d) for d in leave])
    ].size
    assert result.plan.summary["roster"][0]["unavailable"] == [str(d) for d in leave]
    out = tmp_path / "plan"
    write_outputs(result, out, lang="en", overwrite=False)
    back = read_plan_dir(out)
    found = {
        (v.rule, str(v.subject))
        for v in check_plan(back, rules=rules, times=times_from_npz(out / TIMES_FILE))
    }
    assert found <= {(v["rule"], v["subject"]) for v in result.plan.summary["violations"]}


def test_lock_keeps_a_current_district_together() -> None:
    """--lock with a current district id keeps its villages in one district of the new plan."""
    from planner.errors import ValidationError
    from planner.io import locked_villages

    villages, roads = small_county()
    current = pd.Series(["东" if v[2] in "01" else "西" for v in villages.index], index=villages.index)
    lock = locked_villages("东,V02", current)
    assert sorted(lock) == sorted([*villages.index[current == "东"], "V02"])
    with pytest.raises(ValidationError, match="--current"):
        locked_villages("东", None)
    with pytest.raises(ValidationError, match="'北'"):
        locked_villages("北", current)
    east = list(villages.index[current == "东"])
    result = make_plan(
        villages, roads, rules=Rules(), month="2026-12", current=current, locked=east, seed=0, time_limit=20
    )
    v = result.plan.villages.set_index("village_id")
    assert v.loc[east, "district_id"].nunique() == 1
    assert v["district_id"].nunique() == result.plan.summary["districts"]  # no district left empty
    assert not [x for x in result.plan.summary["violations"] if x["rule"] in ("contiguity", "membership")]


def test_pcenter_offices_shorten_the_worst_response() -> None:
    """[offices] objective = "pcenter" keeps the districts and never lengthens a district's worst response."""
    villages, roads = small_county()
    runs = {}
    for objective in ("pmedian", "pcenter"):
        rules = Rules.from_dict({"offices": {"objective": objective}})
        result = make_plan(villages, roads, rules=rules, month="2026-12", seed=0, time_limit=20)
        runs[objective] = result
    a, b = (runs[k].plan.villages.set_index("village_id") for k in ("pmedian", "pcenter"))
    assert (a["district_id"] == b["district_id"]).all()
    t = runs["pmedian"].times.frame()
    office_village = {k: r.plan.offices.set_index("office_id")["village_id"] for k, r in runs.items()}
    for d, members in a.groupby("district_id").groups.items():
        worst = {
            k: t.loc[office_village[k][v.loc[members[0], "office_id"]], list(members)].max()
            for k, v in (("pmedian", a), ("pcenter", b))
        }
        assert worst["pcenter"] <= worst["pmedian"] + 1e-9, d


def test_coverage_figures_agree_in_summary_report_chart_and_terminal(planned, capsys) -> None:
    """Coverage is each village's own office, one value: summary.json, the report's tiles, its chart's marks
    and the terminal line all show it."""
    import re

    from planner.cli.commands import _say_result
    from planner.offices import own_office_coverage
    from planner.outputs.html import number
    from planner.outputs.report import coverage_curve

    _, result, out = planned
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    own = own_office_coverage(result.plan.villages, thresholds_min=Rules().offices.coverage_thresholds_min)
    assert s["coverage_pct"] == {f"{t:g}": round(float(r["residents_pct"]), 2) for t, r in own.iterrows()}
    page = (out / "report.html").read_text(encoding="utf-8")
    figures = page.split("<section id='figures'>")[1].split("</section>")[0]
    charts = page.split("<section id='charts'>")[1].split("</section>")[0]
    marks = re.findall(r"<text class='mark'[^>]*>([^<]*)</text>", charts)
    curve = coverage_curve(read_plan_dir(out))
    for minutes, pct in s["coverage_pct"].items():
        assert f"{number(pct, 1)}%" in figures
        assert curve[int(minutes)] * 100 == pytest.approx(pct, abs=0.01)  # the chart's line, from the layer
    assert marks == [f"{number(pct, 1)}%" for pct in s["coverage_pct"].values()]
    _say_result(result, out, "zh")
    assert f"30 分钟覆盖 {s['coverage_pct']['30']}% 居民" in capsys.readouterr().out


def test_report_pdf_is_printed_beside_report_html(planned) -> None:
    """write_outputs prints report.pdf with headless Chromium and summary.json says it was made."""
    _, _, out = planned
    if not (out / "report.pdf").exists():
        pytest.skip("headless Chromium is not installed")
    assert (out / "report.pdf").read_bytes()[:5] == b"%PDF-"
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["report_pdf"] == {"made": True}


def test_without_chromium_the_plan_is_written_and_says_how_to_get_the_pdf(
    planned, tmp_path, monkeypatch
) -> None:
    """No Chromium: no crash, no silent skip; summary.json and a warning say report.pdf was not made and how."""
    import logging

    _, result, _ = planned
    monkeypatch.setenv("PLANNER_CHROMIUM", str(tmp_path / "no-such-chromium"))
    out = tmp_path / "plan"
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("planner.pipeline").addHandler(handler)
    try:
        write_outputs(result, out, lang="en", overwrite=False)
    finally:
        logging.getLogger("planner.pipeline").removeHandler(handler)
    assert (out / "report.html").is_file() and not (out / "report.pdf").exists()
    status = json.loads((out / "summary.json").read_text(encoding="utf-8"))["report_pdf"]
    assert status["made"] is False and "Chromium" in status["reason"] and "Chromium" in status["reason_zh"]
    assert any("report.pdf not made" in r.getMessage() for r in records)
