"""Stations, R9 and R10 through the whole pipeline on the corpus's small grid county, and `planner check`
agreeing with the plan on them."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point
from test_pipeline import small_county

from planner.check import check_plan
from planner.io.plan_files import TIMES_FILE, read_plan_dir, times_from_npz
from planner.pipeline import make_plan, write_outputs
from planner.rules import Rules

RULES = Rules.from_dict(
    {
        "districts": {"min_villages": 2, "max_villages": 3},
        "matching": {"main_road_classes": ["tertiary"], "main_road_m": 50},
    }
)


def test_stations_r9_and_r10_through_the_pipeline_and_check_agrees(tmp_path: Path) -> None:
    """Two stations given as points (东乡 with 1 other officer, 西乡 with 6); officers with skills and home
    villages: every district in one station, the stations' villages and residents add up, each station's force
    is its roster officers plus its other officers, every main-road village is a traffic match, and the check
    of the written plan finds the same R9 and R10 breaks."""
    villages, roads = small_county(cols=3, rows=2)
    first = make_plan(villages, roads, rules=RULES, month="2026-12", seed=0, time_limit=20)
    roster = pd.DataFrame(first.plan.summary["roster"]).drop(columns=["station"])
    roster["unavailable"] = [() for _ in range(len(roster))]
    roster["skills"] = ["traffic;patrol" if i % 2 else "investigation;mediation" for i in range(len(roster))]
    roster["home_village"] = ["V02" if i % 2 else "V10" for i in range(len(roster))]
    roster["name"] = [f"民警{i}号" for i in range(len(roster))]
    stations = gpd.GeoDataFrame(
        {
            "name": ["东乡派出所", "西乡派出所"],
            "townships": [("东乡",), ("西乡",)],
            "other_officers": [1.0, 6.0],
            "rural": [True, True],
        },
        geometry=[villages.geometry["V00"].centroid, Point(villages.geometry["V12"].centroid.coords[0])],
        crs=villages.crs,
    )
    result = make_plan(
        villages,
        roads,
        rules=RULES,
        month="2026-12",
        roster=roster,
        stations=stations,
        stations_source="s.csv",
        seed=0,
        time_limit=20,
    )
    s = result.plan.summary
    listed = s["stations"]["list"]
    districts = [d for st in listed for d in st["districts"]]
    assert sorted(districts) == sorted(result.plan.districts["district_id"].astype(str))
    assert sum(st["villages"] for st in listed) == 6
    assert sum(st["population"] for st in listed) == int(villages["population"].sum())
    force = {f["name"]: f for f in s["stations"]["force"]}
    assert force["东乡派出所"]["other"] == 1 and force["西乡派出所"]["other"] == 6
    assert sum(f["community"] for f in force.values()) == len(roster)
    for f in force.values():
        assert f["force"] == f["community"] + f["other"]
        assert f["r9_share_ok"] == (f["community"] >= 0.4 * f["force"] - 1e-9)
    on_road = {v for v, n in s["village_needs"].items() if n["main_road"]}
    assert on_road and on_road == {m["village_id"] for m in s["matches"] if m["need"] == "traffic"}
    assert {m["officer_id"] for m in s["matches"] if m["need"] == "home"} == set(roster["officer_id"])
    out = tmp_path / "plan"
    write_outputs(result, out, lang="zh", overwrite=False)
    back = read_plan_dir(out)
    assert back.stations is not None and len(back.stations) == 2
    # the roster's names reach what officers hold: their route sheets, the map's route layers, the xlsx summary
    first_officer = str(roster["officer_id"].iloc[0])
    assert f"民警 民警0号 ({first_officer}) " in (out / "route_sheets.html").read_text(encoding="utf-8")
    assert "\\u6c11\\u8b660\\u53f7 (" in (out / "map.html").read_text(encoding="utf-8")
    xlsx = pd.read_excel(out / "schedule.xlsx", sheet_name=1)
    assert f"民警0号 ({first_officer})" in set(xlsx.iloc[:, 0])
    found = {
        (v.rule, str(v.subject))
        for v in check_plan(back, rules=RULES, times=times_from_npz(out / TIMES_FILE))
        if v.rule in ("R9", "R10")
    }
    planned = {(v["rule"], v["subject"]) for v in s["violations"] if v["rule"] in ("R9", "R10")}
    assert found == planned and ("R9", "S02") in planned
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "东乡派出所" in report and "民警与村的匹配" in report
