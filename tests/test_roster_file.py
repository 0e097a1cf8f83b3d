"""A bureau's roster: the documented columns, offices named by their village, one line per office without
officers, the roster's officer count, officers.csv written back as a template."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from planner.cli import main
from planner.errors import ValidationError
from planner.io import read_roster, read_villages
from planner.io.files import DEMO_DIR
from planner.patrol.roster import check_roster, name_roster_offices


def test_blank_village_id_is_no_village_and_errors_name_file_and_line() -> None:
    """A linked officer with an empty village_id passes; a wrong village_id names the file and its CSV line."""
    a = pd.DataFrame({"office_id": ["O01", "O01"]}, index=pd.Index(["V1", "V2"], name="village_id"))
    ok = pd.DataFrame({"officer_id": ["P1", "P2"], "office": ["O01"] * 2, "kind": ["resident", "linked"]})
    ok["village_id"] = ["V1", ""]
    checked = check_roster(ok, a, source="officers.csv")["village_id"]
    assert checked[0] == "V1" and pd.isna(checked[1])
    bad = ok.assign(village_id=["V1", "V9"])
    with pytest.raises(ValidationError, match=r"officers\.csv: line 3: village_id 'V9'"):
        check_roster(bad, a, source="officers.csv")


def test_offices_named_by_village_name() -> None:
    """'上庄村' and '上庄村警务室' name the village 上庄村 when its name is unique; ids stay as they are."""
    villages = pd.DataFrame({"name": ["上庄村", "下庄村", "下庄村"]}, index=pd.Index(["V1", "V2", "V3"]))
    roster = pd.DataFrame({"office": ["上庄村", "上庄村警务室", "V2", "O03", "下庄村"]})
    assert name_roster_offices(roster, villages)["office"].tolist() == ["V1", "V1", "V2", "O03", "下庄村"]


def test_roster_for_two_offices(
    demo_plan: tuple[Path, subprocess.CompletedProcess[str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The --help columns (officer_id, office, kind, unavailable; no village_id), offices by village name or id:
    the plan counts the roster's 4 officers, each office without officers is one line, and officers.csv is the
    roster used, which reads back as a roster."""
    demo, p = demo_plan
    assert p.returncode == 0, p.stderr[-2000:]
    offices = gpd.read_file(demo / "plan.gpkg", layer="offices")
    v = gpd.read_file(demo / "plan.gpkg", layer="villages").set_index("village_id")
    a, b = offices["village_id"].iloc[:2]
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "officer_id,office,kind,unavailable\n"
        f"张三,{v.at[a, 'name']},resident,\n李四,{a},linked,\n王五,{b},resident,2027-01-05\n赵六,{b},linked,\n",
        encoding="utf-8",
    )
    out = tmp_path / "plan"
    argv = ["plan", "--villages", str(DEMO_DIR / "villages.gpkg"), "--roads", str(DEMO_DIR / "roads.osm.bz2")]
    argv += ["--officers", str(roster), "--month", "2027-01", "--out", str(out), "--lang", "zh"]
    code = main([*argv, "--basemap", "none", "--time-limit", "10"])
    cap = capsys.readouterr()
    assert code in (0, 1), cap.err[-2000:]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["officers"] == 4 and "4 名民警" in cap.out
    n_offices = summary["offices"]
    unstaffed = [x for x in summary["violations"] if x["rule"] == "R3" and x["subject"].startswith("O")]
    assert len(unstaffed) == n_offices - 2
    assert len([line for line in cap.err.splitlines() if "在名册中没有民警" in line]) == n_offices - 2
    assert len(cap.err.splitlines()) < 60
    officers = pd.read_csv(out / "officers.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert officers["officer_id"].tolist() == ["张三", "李四", "王五", "赵六"]
    assert set(officers["office"]) == {a, b} and officers.loc[2, "unavailable"] == "2027-01-05"
    back = read_roster(out / "officers.csv")
    assert len(back) == 4
    villages = read_villages(DEMO_DIR / "villages.gpkg")
    assert set(name_roster_offices(back, villages)["office"]) <= set(villages.index)


def test_roster_keeps_name_station_home_village_and_skills(tmp_path):
    """The optional R9/R10 columns, Chinese headers accepted; a home village written as a unique name becomes
    its id."""
    import pandas as pd

    from planner.io import read_roster
    from planner.patrol.roster import name_roster_homes

    p = tmp_path / "r.csv"
    p.write_text(
        "警号,姓名,警务室,类型,派出所,家乡村,专长\n053121,王建国,V1,驻村,中枢派出所,上庄村,traffic;investigation\n",
        encoding="utf-8",
    )
    r = read_roster(p)
    assert r.loc[0, ["name", "station", "home_village", "skills"]].tolist() == [
        "王建国",
        "中枢派出所",
        "上庄村",
        "traffic;investigation",
    ]
    villages = pd.DataFrame({"name": ["上庄村", "下庄村"]}, index=pd.Index(["V1", "V2"]))
    assert name_roster_homes(r, villages).loc[0, "home_village"] == "V1"
