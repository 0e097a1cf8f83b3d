"""schedule.xlsx: in the plan's language, typed, with names, a summary sheet, and read back when edited."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import openpyxl

from planner.io.plan_files import read_plan_dir, write_plan_dir
from planner.io.schedule_xlsx import read_schedule_xlsx, write_schedule_xlsx
from tests.test_plan_files import _plan


def test_xlsx_is_in_chinese_typed_named_and_filtered(tmp_path: Path) -> None:
    """zh headers and activity names, village name and township beside the id, date and time cells with formats,
    frozen header, filters, widths; the summary sheet counts days, visits, night visits, office days, hours, km."""
    plan = _plan()
    out = write_plan_dir(plan, tmp_path / "plan", lang="zh")
    wb = openpyxl.load_workbook(out / "schedule.xlsx")
    ws = wb["全部"]
    assert [c.value for c in ws[1]] == [
        "民警",
        "日期",
        "开始",
        "结束",
        "村代码",
        "村名",
        "乡镇",
        "事项",
        "分钟",
        "其中步行分钟",
        "备注",
    ]
    row = [c for c in ws[3]]  # P01's visit
    assert row[1].value == dt.datetime(2026, 12, 1) and row[1].number_format == "yyyy-mm-dd"
    assert row[2].value == dt.time(8, 7) and row[2].number_format == "hh:mm"
    vid = row[4].value
    names = dict(zip(plan.villages["village_id"], plan.villages["name"], strict=True))
    towns = dict(zip(plan.villages["village_id"], plan.villages["township"], strict=True))
    assert row[5].value == names[vid] and row[6].value == towns[vid]
    assert [ws.cell(r, 8).value for r in range(2, 6)] == ["路途", "走访", "夜访", "坐班"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:K5"
    assert ws.column_dimensions["F"].width >= 12
    summary = [[c.value for c in r] for r in wb["汇总"].iter_rows()]
    assert summary[0] == ["民警", "出勤天数", "走访次数", "夜访次数", "坐班天数", "工作小时", "路途公里"]
    assert summary[1] == ["P01", 1, 1, 0, 0, 4.1, 6.2]
    assert summary[2] == ["P02", 1, 0, 1, 0, 1.0, 0.0]
    assert summary[3] == ["警员/3", 1, 0, 0, 1, 8.0, 0.0]


def test_english_xlsx(tmp_path: Path) -> None:
    """lang='en': English headers, sheet names and activity names."""
    out = write_plan_dir(_plan(), tmp_path / "plan", lang="en")
    wb = openpyxl.load_workbook(out / "schedule.xlsx", read_only=True)
    assert wb.sheetnames[:2] == ["all", "summary"]
    rows = list(wb["all"].iter_rows(values_only=True))
    assert rows[0][:2] == ("officer", "date") and [r[7] for r in rows[1:]] == [
        "travel",
        "visit",
        "night visit",
        "office day",
    ]


def test_edited_xlsx_is_the_schedule_read(tmp_path: Path) -> None:
    """An edit saved in schedule.xlsx (newer than schedule.csv) is what read_plan_dir returns, and it says so;
    an untouched workbook leaves schedule.csv the source."""
    out = write_plan_dir(_plan(), tmp_path / "plan", lang="zh")
    assert read_plan_dir(out).schedule.attrs["source"].endswith("schedule.csv")
    wb = openpyxl.load_workbook(out / "schedule.xlsx")
    ws = wb["全部"]
    ws["A3"] = "P09"  # another officer makes P01's visit
    ws["C3"] = dt.time(9, 0)
    ws["H3"] = "夜访"
    wb.save(out / "schedule.xlsx")
    later = (out / "schedule.csv").stat().st_mtime + 5
    os.utime(out / "schedule.xlsx", (later, later))
    back = read_plan_dir(out).schedule
    assert back.attrs["source"].endswith("schedule.xlsx")
    assert back.loc[1, ["officer_id", "date", "start", "activity"]].tolist() == [
        "P09",
        "2026-12-01",
        "09:00",
        "night_visit",
    ]
    assert back["minutes"].tolist() == [7.0, 240.0, 60.0, 480.0]


def test_walk_minutes_and_note_are_written_and_read_back(tmp_path: Path) -> None:
    """schedule.csv's walk_minutes and note columns are in the workbook under the plan's headers (zh and en) and
    come back as the same values; a workbook without them reads as the seven columns."""
    plan = _plan()
    schedule = plan.schedule.assign(walk_minutes=[5, 0, 0, 0], note=["", "支援 O1 / aid to O1", "", ""])
    for lang, walk_h, note_h in (("zh", "其中步行分钟", "备注"), ("en", "of which on foot (min)", "note")):
        path = tmp_path / f"s-{lang}.xlsx"
        write_schedule_xlsx(schedule, path, lang=lang)
        rows = list(openpyxl.load_workbook(path, read_only=True).worksheets[0].iter_rows(values_only=True))
        assert rows[0][-2:] == (walk_h, note_h)
        assert [r[-2] for r in rows[1:]] == [5, 0, 0, 0]
        assert rows[2][-1] == "支援 O1 / aid to O1" and rows[1][-1] is None
        back = read_schedule_xlsx(path)
        assert back["walk_minutes"].tolist() == ["5", "0", "0", "0"]
        assert back["note"].tolist() == ["", "支援 O1 / aid to O1", "", ""]
    wb = openpyxl.load_workbook(tmp_path / "s-en.xlsx")
    ws = wb.worksheets[0]
    ws.delete_cols(10, 2)  # an older workbook, without the two columns
    wb.save(tmp_path / "old.xlsx")
    assert "note" not in read_schedule_xlsx(tmp_path / "old.xlsx").columns
