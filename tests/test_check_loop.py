"""`planner check` closes the QGIS loop: edits to plan.gpkg's villages layer and to schedule.xlsx are checked,
named, and with --write regenerated; `plan --current` reads an edited plan's villages layer."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import pytest

from planner.cli import main
from planner.io import read_current, read_villages
from planner.io.files import DEMO_DIR


@pytest.fixture
def plan_dir(demo_plan: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path) -> Path:
    """A fresh copy of the demo plan to edit."""
    out, p = demo_plan
    assert p.returncode == 0, p.stderr[-2000:]
    return Path(shutil.copytree(out, tmp_path / "plan"))


def _edit_villages(plan: Path, changes: dict[str, str]) -> gpd.GeoDataFrame:
    """Set district_id of villages (id -> district) in plan.gpkg's villages layer, as QGIS would save it."""
    gpkg = plan / "plan.gpkg"
    v = gpd.read_file(gpkg, layer="villages")
    for vid, d in changes.items():
        v.loc[v["village_id"] == vid, "district_id"] = d
    pyogrio.write_dataframe(v, gpkg, layer="villages", driver="GPKG")
    return v


def _movable(plan: Path, district: str, n: int = 1) -> list[str]:
    v = gpd.read_file(plan / "plan.gpkg", layer="villages")
    sites = set(gpd.read_file(plan / "plan.gpkg", layer="offices")["village_id"])
    return sorted(set(v.loc[v["district_id"] == district, "village_id"]) - sites)[:n]


def _check(plan: Path, capsys: pytest.CaptureFixture[str], *more: str) -> tuple[int, str, str]:
    code = main(["check", str(plan), "--lang", "zh", "-v", *more])  # -v: every break, one line each
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_new_district_id_is_checked_not_a_crash(plan_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two villages given a district id the plan never had: exit 1 (not 3), the new district's sizes and the
    stale visits of their old officer named with village names; no numpy repr leaks."""
    moved = _movable(plan_dir, "D03", 2)
    _edit_villages(plan_dir, dict.fromkeys(moved, "D99"))
    code, out, err = _check(plan_dir, capsys)
    assert code == 1, err
    assert "R1\t硬\tD99" in out
    v = gpd.read_file(plan_dir / "plan.gpkg", layer="villages").set_index("village_id")
    stale = [line for line in out.splitlines() if line.startswith("schedule") and "D99" in line]
    assert stale and all(any(f"{m} ({v.at[m, 'name']})" in line for m in moved) for line in stale)
    assert "np.str_" not in out and "排班表读自" in err


def test_moved_village_names_its_stale_visits(plan_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A village moved from D01 to D02: one line per old officer still visiting it, naming the officer, the
    village's name, every date, the new office and the command that re-plans on the edited districts."""
    (vid,) = _movable(plan_dir, "D01")
    _edit_villages(plan_dir, {vid: "D02"})
    code, out, _ = _check(plan_dir, capsys)
    assert code == 1
    lines = [x for x in out.splitlines() if x.startswith("schedule") and vid in x]
    sched = pd.read_csv(plan_dir / "schedule.csv", dtype=str, encoding="utf-8-sig")
    visits = sched[(sched["village_id"] == vid) & sched["activity"].isin(["visit", "night_visit"])]
    assert len(visits) > 0 and len(lines) == visits["officer_id"].nunique()
    for officer, dates in visits.groupby("officer_id")["date"]:
        (line,) = [x for x in lines if f"民警 {officer}" in x]
        assert "O02" in line and "--lock all" in line and all(d in line for d in dates)


def test_changed_office_site_makes_office_days_stale(
    plan_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """O01 moved (offices layer) to another village of D01: the office days at the old site are named."""
    gpkg = plan_dir / "plan.gpkg"
    o = gpd.read_file(gpkg, layer="offices")
    (new_site,) = _movable(plan_dir, "D01")
    old_site = o.loc[o["office_id"] == "O01", "village_id"].iloc[0]
    o.loc[o["office_id"] == "O01", "village_id"] = new_site
    pyogrio.write_dataframe(o, gpkg, layer="offices", driver="GPKG")
    code, out, _ = _check(plan_dir, capsys)
    assert code == 1
    assert any(x.startswith("schedule") and old_site in x and new_site in x for x in out.splitlines())


def test_xlsx_edit_is_the_schedule_checked(plan_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A visit handed to an officer of another office in schedule.xlsx: check says it read the xlsx and names
    the row."""
    wb = openpyxl.load_workbook(plan_dir / "schedule.xlsx")
    ws = wb.worksheets[0]
    row = next(
        r
        for r in range(2, ws.max_row + 1)
        if ws.cell(r, 8).value == "走访" and ws.cell(r, 1).value.startswith("O01-")
    )
    ws.cell(row, 1).value = "O02-1"
    wb.save(plan_dir / "schedule.xlsx")
    later = (plan_dir / "schedule.csv").stat().st_mtime + 5
    os.utime(plan_dir / "schedule.xlsx", (later, later))
    code, out, err = _check(plan_dir, capsys)
    assert code == 1 and "schedule.xlsx" in err
    assert any(x.startswith("schedule") and f"第 {row} 行" in x and "O02-1" in x for x in out.splitlines())


def test_write_regenerates_the_edited_plan(plan_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--write: the districts and offices layers follow the villages layer (a new district gets an office),
    summary.json counts them, report, map and sheets are written again, travel times kept."""
    moved = _movable(plan_dir, "D03", 2)
    _edit_villages(plan_dir, dict.fromkeys(moved, "D99"))
    before = json.loads((plan_dir / "summary.json").read_text(encoding="utf-8"))
    code, _, err = _check(plan_dir, capsys, "--write")
    assert code == 1 and "已重新生成" in err
    d = gpd.read_file(plan_dir / "plan.gpkg", layer="districts").set_index("district_id")
    o = gpd.read_file(plan_dir / "plan.gpkg", layer="offices").set_index("office_id")
    v = gpd.read_file(plan_dir / "plan.gpkg", layer="villages").set_index("village_id")
    assert d.at["D99", "n_villages"] == 2 and o.at[d.at["D99", "office_id"], "village_id"] in moved
    assert set(v.loc[moved, "office_id"]) == {d.at["D99", "office_id"]}
    summary = json.loads((plan_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["districts"] == before["districts"] + 1 and summary["edited"] is True
    assert any(x["subject"] == "D99" and x["rule"] == "R1" for x in summary["violations"])
    for name in ("report.html", "map.html", "route_sheets.html", "schedule.xlsx", "travel_times.npz"):
        assert (plan_dir / name).is_file(), name
    sched = pd.read_csv(plan_dir / "schedule.csv", dtype=str, encoding="utf-8-sig")
    assert sched["minutes"].str.fullmatch(r"\d+").all()  # whole minutes as the plan wrote them, not 480.0
    code, out, _ = _check(plan_dir, capsys)  # the regenerated plan reads back and checks the same
    assert code == 1 and "R1\t硬\tD99" in out


@pytest.mark.slow
def test_lock_all_plans_the_month_on_the_edited_districts(
    plan_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The advice check gives after an edit: `plan --current EDITED --lock all` keeps every village where the
    bureau put it (the moved one too), and the new month visits the moved village by its new office's officer;
    the edited districts are judged as `planner check` judges them (the same contiguity breaks)."""
    (vid,) = _movable(plan_dir, "D01")
    _edit_villages(plan_dir, {vid: "D02"})
    _, checked, _ = _check(plan_dir, capsys)
    pieces = sorted(x.split("\t")[2] for x in checked.splitlines() if x.startswith(("contiguity", "C5\t硬")))
    edited = gpd.read_file(plan_dir / "plan.gpkg", layer="villages").set_index("village_id")["district_id"]
    out = tmp_path / "replan"
    args = ["--villages", str(DEMO_DIR / "villages.gpkg"), "--roads", str(DEMO_DIR / "roads.osm.bz2")]
    code = main(
        ["plan", *args, "--current", str(plan_dir), "--lock", "all", "--out", str(out), "--lang", "zh"]
    )
    assert code in (0, 1)
    v = gpd.read_file(out / "plan.gpkg", layer="villages").set_index("village_id")
    pairs = pd.crosstab(v["district_id"], edited.reindex(v.index))
    assert ((pairs > 0).sum(axis=1) == 1).all() and ((pairs > 0).sum(axis=0) == 1).all()  # the same partition
    assert (v["district_id"] == edited.reindex(v.index)).all()  # under the bureau's own ids
    new_office = v.at[vid, "office_id"]
    sched = pd.read_csv(out / "schedule.csv", dtype=str, encoding="utf-8-sig")
    visits = sched[(sched["village_id"] == vid) & (sched["activity"] == "visit")]
    assert len(visits) > 0 and visits["officer_id"].str.startswith(f"{new_office}-").all()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert sorted(x["subject"] for x in summary["violations"] if x["rule"] == "contiguity") == pieces


def test_current_from_a_plan_dir_reads_its_villages_layer(plan_dir: Path) -> None:
    """`--current PLAN` (the directory or its plan.gpkg) takes each village's district_id from the villages
    layer as edited, not from the districts layer."""
    moved = _movable(plan_dir, "D03", 2)
    _edit_villages(plan_dir, dict.fromkeys(moved, "D99"))
    villages = read_villages(DEMO_DIR / "villages.gpkg")
    for path in (plan_dir, plan_dir / "plan.gpkg"):
        current = read_current(path, villages)
        assert set(current[moved]) == {"D99"}


def test_check_groups_breaks_by_cause_as_the_report_does(
    plan_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without -v, check prints one line per cause (hard or goal, the count, the rule) with at most eight
    villages named below it and how many more, grouped as the report groups; no tab-separated line."""
    from planner.check import check_plan, rules_of
    from planner.io.plan_files import TIMES_FILE, read_plan_dir, times_from_npz
    from planner.outputs.front import TERMINAL_NAMES, group_breaks

    plan = read_plan_dir(plan_dir)
    found = check_plan(plan, rules=rules_of(plan.summary), times=times_from_npz(plan_dir / TIMES_FILE))
    groups = group_breaks([v.to_dict() for v in found], "en")
    big = max(groups, key=lambda g: len(g.subjects))
    # the terminal names TERMINAL_NAMES villages a cause; fewer here, so that the demo's biggest cause is cut
    limit = min(TERMINAL_NAMES, len(big.subjects) - 1)
    assert limit >= 1  # the demo has a cause shared by several villages
    monkeypatch.setattr("planner.cli.commands.TERMINAL_NAMES", limit)
    code = main(["check", str(plan_dir), "--lang", "en"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 1 and not any("\t" in x for x in lines)
    heads = [x for x in lines if x.startswith("  [")]
    assert len(heads) == len(groups)
    n_hard = sum(v.hard for v in found)
    from planner.outputs.front import rule_tag

    rules = sorted({rule_tag(g.rule, "en") for g in groups if g.hard})
    n_rules = len(rules)
    assert lines[0].startswith(f"{n_hard} hard rule breaks ({n_rules} rule{'s' if n_rules > 1 else ''}: ")
    assert all(r in lines[0].split(";")[0] for r in rules)
    kinds = [x.startswith("  [hard]") for x in heads]
    assert kinds == sorted(kinds, reverse=True)  # every hard break before the goals
    at = lines.index(
        next(x for x in heads if x.startswith(f"  [hard] {len(big.subjects)} villages {big.rule}"))
    )
    v = plan.villages.set_index("village_id")
    first = big.subjects[0]
    assert f"{first} ({v.at[first, 'name']})" in lines[at + 1]
    assert f"{len(big.subjects) - limit} more" in lines[at + 1] and big.subjects[-1] not in lines[at + 1]
    main(["check", str(plan_dir), "--lang", "en", "-v"])
    full = capsys.readouterr().out.splitlines()
    assert big.subjects[-1] in full[at + 1]  # -v names every village of the group
    assert sum("\thard\t" in x for x in full) == n_hard


def test_plan_prints_breaks_grouped(demo_plan: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    """`planner plan` (here the demo) prints each cause once with its count, not a line per village."""
    out, p = demo_plan
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    r5 = [v for v in summary["violations"] if v["rule"] == "R5"]
    assert len(r5) > 1
    assert sum(" R5：" in x for x in p.stderr.splitlines()) == 1
    assert f"[硬性] {len(r5)}个行政村 R5" in p.stderr


def test_write_keeps_coverage_the_own_office_figure(
    plan_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After --write summary.json's coverage_pct is still each village's own office (as a fresh plan and the
    report define it), computed from the written villages layer; the nearest-any-office figure keeps its name."""
    from planner.offices import coverage_by_minutes, own_office_coverage

    moved = _movable(plan_dir, "D03", 2)
    _edit_villages(plan_dir, dict.fromkeys(moved, "D01"))
    main(["check", str(plan_dir), "--write", "--lang", "en"])
    capsys.readouterr()
    summary = json.loads((plan_dir / "summary.json").read_text(encoding="utf-8"))
    v = gpd.read_file(plan_dir / "plan.gpkg", layer="villages")
    own = coverage_by_minutes(own_office_coverage(v, thresholds_min=(15, 30, 60)))
    assert summary["coverage_pct"] == own
    assert set(summary["coverage_any_office_pct"]) == set(own)


def test_plan_prints_each_reason_for_dropped_visits_once(
    demo_plan: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    """The visits `planner plan` could not place are one line per reason (count, officers), as in the report."""
    from planner.outputs.front import dropped_groups

    out, p = demo_plan
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    groups = dropped_groups(summary, "zh")
    assert groups  # the demo drops visits
    lines = [x for x in p.stderr.splitlines() if x.startswith("    ") and "次走访 (" in x]
    assert len(lines) == len(groups)
    assert [int(x.split("次走访")[0]) for x in lines] == [len(g.subjects) for g in groups]
