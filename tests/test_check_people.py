"""``planner check`` on R9 and R10 with the plan's roster and with an edited one, the stations layer through the
plan directory, and the report's station and match tables; the small plan of tests/plan_fixture.py."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from plan_fixture import make_plan
from shapely.geometry import Point

from planner.check import check_plan
from planner.io.plan_files import read_plan_dir, write_plan_dir
from planner.model import PlanData
from planner.outputs.report import report_html
from planner.rules import Rules


def _plan() -> PlanData:
    """The fixture plan with two stations: S01 (共和派出所) over D1 and D2 with 4 other officers, S02 over D3 with
    its force unknown; V4 lies on a main road, V8 has the most incidents. P1 (office O1) visits V4 and V7, P2
    (office O2) V2 and V8."""
    plan = make_plan()
    stations = gpd.GeoDataFrame(
        {
            "station_id": ["S01", "S02"],
            "name": ["共和派出所", "戌街派出所"],
            "village_id": ["V1", "V3"],
            "townships": ["共和镇;安乐乡", "戌街乡"],
            "districts": ["D1;D2", "D3"],
            "n_districts": [2, 1],
            "n_villages": [6, 3],
            "population": [7780, 4300],
            "other_officers": [4.0, np.nan],
            "rural": [True, True],
        },
        geometry=[Point(101.51, 25.31), Point(101.57, 25.31)],
        crs="EPSG:4326",
    )
    needs = {
        f"V{i}": {
            "main_road": i == 4,
            "main_road_m": 50 if i == 4 else 900,
            "incidents": float(i),
            "high_incident": i == 8,
        }
        for i in range(1, 10)
    }
    roster = [
        {
            "officer_id": "P1",
            "office": "O1",
            "kind": "linked",
            "village_id": "",
            "unavailable": [],
            "skills": "traffic;patrol",
        },
        {
            "officer_id": "P2",
            "office": "O2",
            "kind": "linked",
            "village_id": "",
            "unavailable": [],
            "skills": "patrol;mediation",
        },
    ]
    summary = {**plan.summary, "village_needs": needs, "roster": roster}
    return PlanData(
        villages=plan.villages,
        districts=plan.districts,
        offices=plan.offices,
        summary=summary,
        routes=plan.routes,
        schedule=plan.schedule,
        stations=stations,
    )


def _people(found: list) -> dict[tuple[str, str], str]:
    return {(v.rule, str(v.subject)): v.detail for v in found if v.rule in ("R9", "R10")}


def test_check_finds_r9_and_r10_with_the_plans_roster():
    """S01: P1 + P2 = 2 community of 6, 33% < 40%; S02 unchecked. V4 (main road) is P1's, a traffic officer: met;
    V8 (most incidents) is P2's, and office O2 has no investigator: missed."""
    found = _people(check_plan(_plan(), rules=Rules(), times=None))
    assert set(found) == {("R9", "S01"), ("R10", "V8")}
    assert "2 community officers of a force of 6 (33%)" in found["R9", "S01"]
    assert "no officer of office O2 has the skill investigation" in found["R10", "V8"]


def test_check_with_an_edited_roster_rechecks_r9_and_r10():
    """P2 made an investigator and moved to 戌街派出所: V8 is met; S01 has 1 community officer of 5 (20%)."""
    edited = pd.DataFrame(
        {
            "officer_id": ["P1", "P2"],
            "office": ["V1", "V5"],  # offices as officers.csv writes them: the office's village id
            "kind": ["linked", "linked"],
            "village_id": ["", ""],
            "unavailable": [(), ()],
            "station": ["", "戌街派出所"],
            "skills": ["traffic;patrol", "investigation;patrol"],
        }
    )
    found = _people(
        check_plan(_plan(), rules=Rules(), times=None, roster=edited, roster_source="officers.csv")
    )
    assert set(found) == {("R9", "S01")}
    assert "1 community officers of a force of 5 (20%)" in found["R9", "S01"]


def test_the_stations_layer_goes_through_the_plan_directory(tmp_path):
    plan = _plan()
    write_plan_dir(plan, tmp_path / "p")
    back = read_plan_dir(tmp_path / "p")
    assert back.stations is not None
    assert list(back.stations["name"]) == ["共和派出所", "戌街派出所"]
    assert list(back.stations["districts"]) == ["D1;D2", "D3"]
    assert pd.isna(back.stations["other_officers"].iloc[1])


def test_the_report_shows_every_station_figure_and_every_match_in_both_languages():
    plan = _plan()
    force = [
        {
            "station_id": "S01",
            "name": "共和派出所",
            "resident": 0,
            "linked": 2,
            "community": 2,
            "other": 4,
            "force": 6,
            "community_pct": 33.3,
            "rural": True,
            "checked": True,
            "r9_share_ok": False,
            "r9_min_ok": True,
            "more_community": 1,
        },
        {
            "station_id": "S02",
            "name": "戌街派出所",
            "resident": 0,
            "linked": 0,
            "community": 0,
            "other": None,
            "force": None,
            "community_pct": None,
            "rural": True,
            "checked": False,
            "r9_share_ok": None,
            "r9_min_ok": None,
            "more_community": 0,
        },
    ]
    listed = [
        {
            "station_id": "S01",
            "name": "共和派出所",
            "village_id": "V1",
            "townships": ["共和镇"],
            "districts": ["D1", "D2"],
            "villages": 6,
            "population": 7780,
            "other_officers": 4,
            "rural": True,
        },
        {
            "station_id": "S02",
            "name": "戌街派出所",
            "village_id": "V3",
            "townships": ["戌街乡"],
            "districts": ["D3"],
            "villages": 3,
            "population": 4300,
            "other_officers": None,
            "rural": True,
        },
    ]
    matches = [
        {
            "rule": "R10",
            "need": "traffic",
            "skill": "traffic",
            "village_id": "V4",
            "officer_id": "P1",
            "office_id": "O1",
            "met": True,
            "reason": "linked to P1, a traffic officer",
            "reason_zh": "由交通民警 P1 联系",
        },
        {
            "rule": "R10",
            "need": "investigation",
            "skill": "investigation",
            "village_id": "V8",
            "officer_id": "P2",
            "office_id": "O2",
            "met": False,
            "reason": "no investigator in O2",
            "reason_zh": "O2 没有侦查民警",
        },
    ]
    shortfall = [
        {
            "office_id": "共和派出所",
            "station_id": "S01",
            "more_officers": 1,
            "needed_days": 0,
            "available_days": 0,
            "detail": "station 共和派出所 needs 1 more community officer(s) (R9: 2 of 6)",
            "detail_zh": "派出所 共和派出所 还需 1 名社区民警 (R9: 现有 2/6)",
        }
    ]
    summary = {
        **plan.summary,
        "stations": {"source": "townships", "list": listed, "force": force, "notes": []},
        "matches": matches,
        "shortfall": shortfall,
    }
    plan = PlanData(villages=plan.villages, districts=plan.districts, offices=plan.offices, summary=summary)
    zh, en = report_html(plan, lang="zh"), report_html(plan, lang="en")
    assert "派出所与警力" in zh and "Police stations and their force" in en
    assert "33%" in zh and "社区民警不足40%" in zh and "community below 40%" in en
    # a station without other_officers: a dash in its R9 cell and one note under the table that says why
    assert "R9 需要全所警力" in zh and "give other_officers (its non-community officers)" in en
    assert (
        "派出所 共和派出所 还需 1 名社区民警" in zh
        and "station 共和派出所 needs 1 more community officer" in en
    )
    assert "共 2 项匹配需求：满足 1 项，未满足 1 项。" in zh and "2 wanted matches: 1 met, 1 missed." in en
    assert "O2 没有侦查民警" in zh and "no investigator in O2" in en
    # a miss is a row with its reason; the matches met are one line per need, naming village and officer
    assert "满足 · 主干道沿线村：交通民警: " in zh and "met · main-road village: traffic officer: " in en
    assert zh.count("<tr><td>警情多发村：侦查民警</td>") == 1 and "<tr><td>主干道沿线村" not in zh


def test_the_station_section_states_r9_and_r10_with_the_values_in_force():
    plan = _plan()
    rules = Rules.from_dict({"stations": {"community_share": 0.5}, "matching": {"main_road_m": 150}})
    listed = [
        {"station_id": "S01", "name": "共和派出所", "districts": ["D1"], "villages": 6, "population": 1}
    ]
    summary = {
        **plan.summary,
        "rules": rules.to_dict(),
        "matches": [
            {
                "need": "traffic",
                "village_id": "V4",
                "officer_id": "P1",
                "met": True,
                "reason": "",
                "reason_zh": "",
            }
        ],
        "stations": {"source": "townships", "list": listed, "force": [], "notes": []},
    }
    zh = report_html(
        PlanData(villages=plan.villages, districts=plan.districts, offices=plan.offices, summary=summary)
    )
    assert "不少于派出所警力的50%" in zh and "150 米内" in zh


def test_the_rule_checks_point_to_the_r9_and_r10_tables_instead_of_listing_them_twice():
    """A soft R10 miss is listed once, in the matches table: the rule checks say how many and where; a hard
    break keeps its own line."""
    from planner.outputs.front import breaks_html

    plan = make_plan()
    misses = [
        {"rule": "R10", "subject": v, "detail": f"on a main road, no traffic officer ({v})", "hard": False}
        for v in ("V1", "V2", "V3")
    ]
    hard = {"rule": "R2", "subject": "D1", "detail": "has 12,000 residents", "hard": True, "kind": "district"}
    summary = {**plan.summary, "violations": [hard, *misses]}
    plan = PlanData(villages=plan.villages, districts=plan.districts, offices=plan.offices, summary=summary)
    en = breaks_html(plan, {}, "en")
    zh = breaks_html(plan, {}, "zh")
    assert "R10: 3 not met, each listed in the table “Officers matched to villages (R10)”" in en
    assert "R10：3处未满足" in zh and "no traffic officer" not in en
    assert "has 12,000 residents" in en
