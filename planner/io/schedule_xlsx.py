"""schedule.xlsx: the monthly plan as a workbook a bureau reads and edits, and reading it back.

The first sheet holds every row (officer, typed date, typed start and end times, village id, village and
township names, activity, minutes), then a summary sheet (per officer: days, visits, night visits, office days,
hours, km) and a sheet per officer. Headers and activity names are in the plan's language; reading back
accepts either language, so ``planner check`` applies edits made in Excel or WPS. Text cells that a
spreadsheet would run as formulas are neutralised (a leading ``'``), as in schedule.csv.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from planner.errors import ValidationError
from planner.model import SCHEDULE_COLUMNS

#: Column -> header, per language; ``village_name`` and ``township`` are shown beside the ids, not read back.
HEADERS: dict[str, dict[str, str]] = {
    "zh": {
        "officer_id": "民警",
        "date": "日期",
        "start": "开始",
        "end": "结束",
        "village_id": "村代码",
        "village_name": "村名",
        "township": "乡镇",
        "activity": "事项",
        "minutes": "分钟",
        "walk_minutes": "其中步行分钟",
        "note": "备注",
    },
    "en": {
        "officer_id": "officer",
        "date": "date",
        "start": "start",
        "end": "end",
        "village_id": "village id",
        "village_name": "village",
        "township": "township",
        "activity": "activity",
        "minutes": "minutes",
        "walk_minutes": "of which on foot (min)",
        "note": "note",
    },
}
#: Activity code (schedule.csv) -> its name in the workbook.
ACTIVITIES: dict[str, dict[str, str]] = {
    "zh": {"visit": "走访", "night_visit": "夜访", "office": "坐班", "travel": "路途"},
    "en": {"visit": "visit", "night_visit": "night visit", "office": "office day", "travel": "travel"},
}
SUMMARY_HEADERS: dict[str, list[str]] = {
    "zh": ["民警", "出勤天数", "走访次数", "夜访次数", "坐班天数", "工作小时", "路途公里"],
    "en": ["officer", "days", "visits", "night visits", "office days", "hours", "km"],
}
SHEETS = {"zh": ("全部", "汇总"), "en": ("all", "summary")}
_WIDTHS = {"officer_id": 12, "date": 12, "start": 8, "end": 8, "village_id": 18, "village_name": 16}
_WIDTHS |= {"township": 14, "activity": 10, "minutes": 8, "walk_minutes": 10, "note": 20}
#: The columns after schedule.csv's seven that the workbook carries and reads back when present.
OPTIONAL_COLUMNS = ["walk_minutes", "note"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def _text(value: Any) -> Any:
    """A text cell Excel will not run as a formula."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def sheet_names(officers: list[str], reserved: tuple[str, ...]) -> dict[str, str]:
    """Valid, unique, inert Excel sheet names (<= 31 characters, none of []:*?/\\ or control characters, not
    starting like a formula, none of ``reserved`` or Excel's reserved 'History')."""
    used = {r.lower() for r in reserved} | {"history"}
    names: dict[str, str] = {}
    for o in officers:
        base = re.sub(r"[\[\]:*?/\\\x00-\x1f\x7f]", "_", o).strip("'") or "officer"
        if base.startswith(FORMULA_START):
            base = "_" + base
        base = base[:31]
        name, k = base, 2
        while name.lower() in used:
            suffix = f"~{k}"
            name = base[: 31 - len(suffix)] + suffix
            k += 1
        used.add(name.lower())
        names[o] = name
    return names


def _cell_date(value: Any) -> Any:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return _text(str(value))


def _cell_time(value: Any) -> Any:
    m = _TIME.match(str(value).strip())
    if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
        return dt.time(int(m.group(1)), int(m.group(2)))
    return _text(str(value))


def _number(value: Any) -> float | int | None:
    return None if pd.isna(value) else float(value) if float(value) % 1 else int(value)


def officer_summary(schedule: pd.DataFrame, km: Mapping[str, float]) -> pd.DataFrame:
    """Per officer: days with any activity, visits, night visits, office days, hours of work, km driven."""
    s = schedule.assign(officer_id=schedule["officer_id"].astype(str))
    minutes = pd.to_numeric(s["minutes"], errors="coerce").fillna(0)
    rows = []
    for officer, grp in s.groupby("officer_id", sort=True):
        act = grp["activity"].astype(str)
        rows.append(
            [
                officer,
                int(grp["date"].nunique()),
                int((act == "visit").sum()),
                int((act == "night_visit").sum()),
                int(grp.loc[act == "office", "date"].nunique()),
                round(float(minutes[grp.index].sum()) / 60, 1),
                round(float(km.get(str(officer), 0.0)), 1),
            ]
        )
    return pd.DataFrame(rows, columns=SUMMARY_HEADERS["en"])


def write_schedule_xlsx(
    schedule: pd.DataFrame,
    path: Path,
    *,
    lang: str = "zh",
    names: Mapping[str, str] | None = None,
    townships: Mapping[str, str] | None = None,
    km: Mapping[str, float] | None = None,
    labels: Mapping[str, str] | None = None,
) -> None:
    """Write schedule.xlsx: every row, a summary sheet and a sheet per officer (see the module docstring).

    ``schedule`` has :data:`~planner.model.SCHEDULE_COLUMNS` (dates and times as ISO text); ``names`` and
    ``townships`` map village ids to their names; ``km`` the kilometres each officer drives (routes layer);
    ``labels`` officer ids to the names the summary sheet shows ("苏英艳 (O01-1)").
    """
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    lang = lang if lang in HEADERS else "en"
    names, townships, km = names or {}, townships or {}, km or {}
    cols = [
        "officer_id",
        "date",
        "start",
        "end",
        "village_id",
        "village_name",
        "township",
        "activity",
        "minutes",
        *OPTIONAL_COLUMNS,
    ]
    acts = ACTIVITIES[lang]
    rows = []
    table = schedule.assign(
        **{
            c: schedule[c] if c in schedule.columns else d
            for c, d in zip(OPTIONAL_COLUMNS, (0, ""), strict=True)
        }
    )
    for r in table[[*SCHEDULE_COLUMNS, *OPTIONAL_COLUMNS]].itertuples(index=False):
        vid = str(r.village_id)
        minutes = pd.to_numeric(r.minutes, errors="coerce")
        walk = pd.to_numeric(r.walk_minutes, errors="coerce")
        note = "" if pd.isna(r.note) else str(r.note)
        rows.append(
            [
                _text(str(r.officer_id)),
                _cell_date(r.date),
                _cell_time(r.start),
                _cell_time(r.end),
                _text(vid),
                _text(names.get(vid, "")),
                _text(townships.get(vid, "")),
                _text(acts.get(str(r.activity), str(r.activity))),
                _number(minutes),
                _number(walk),
                _text(note) if note else None,
            ]
        )
    officers = sorted({str(o) for o in schedule["officer_id"]})
    all_name, summary_name = SHEETS[lang]
    per_officer = sheet_names(officers, (all_name, summary_name))
    wb = Workbook()
    header = [HEADERS[lang][c] for c in cols]

    def fill(ws: Any, data: list[list[Any]]) -> None:
        ws.append(header)
        for row in data:
            ws.append(row)
        for j, c in enumerate(cols, start=1):
            letter = get_column_letter(j)
            ws.column_dimensions[letter].width = _WIDTHS[c]
            fmt = {"date": "yyyy-mm-dd", "start": "hh:mm", "end": "hh:mm"}.get(c)
            if fmt:
                for cell in ws[letter][1:]:
                    cell.number_format = fmt
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{len(data) + 1}"

    ws = wb.active
    ws.title = all_name
    fill(ws, rows)
    summary = officer_summary(schedule, km)
    ws = wb.create_sheet(summary_name)
    ws.append(SUMMARY_HEADERS[lang])
    shown = labels or {}
    for row in summary.itertuples(index=False):
        ws.append([_text(shown.get(str(row[0]), str(row[0]))), *row[1:]])
    for j in range(1, len(SUMMARY_HEADERS[lang]) + 1):
        ws.column_dimensions[get_column_letter(j)].width = 12
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(SUMMARY_HEADERS[lang]))}{len(summary) + 1}"
    officer_col = [str(o) for o in schedule["officer_id"]]
    for officer in officers:
        fill(
            wb.create_sheet(per_officer[officer]),
            [r for r, o in zip(rows, officer_col, strict=True) if o == officer],
        )
    wb.save(path)


def _restored(value: str) -> str:
    # a carriage return comes back from the workbook's XML as a line feed
    return value[1:] if value.startswith("'") and value[1:2] in (*FORMULA_START, "\n") else value


def _read_cell(col: str, value: Any, activity_codes: Mapping[str, str]) -> str:
    if value is None:
        return ""
    if col == "date" and isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    if col in ("start", "end") and isinstance(value, dt.time | dt.datetime):
        return value.strftime("%H:%M")
    if col in ("start", "end") and isinstance(value, float) and 0 <= value < 1:  # a time typed as a fraction
        m = round(value * 24 * 60)
        return f"{m // 60:02d}:{m % 60:02d}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = _restored(str(value).strip())
    return activity_codes.get(text, text) if col == "activity" else text


def read_schedule_xlsx(path: Path) -> pd.DataFrame:
    """The first sheet of schedule.xlsx as schedule.csv's table (all text; activity codes; ISO dates and HH:MM),
    with ``walk_minutes`` and ``note`` when the sheet has them (:data:`OPTIONAL_COLUMNS`).

    Headers may be in Chinese or English (:data:`HEADERS`); the village and township names are not read back.

    Raises
    ------
    ValidationError
        The file cannot be opened as a workbook, or a column of the schedule is missing (named).
    """
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (
        OSError,
        KeyError,
        ValueError,
        zipfile.BadZipFile,
    ) as exc:  # what a damaged or non-xlsx file raises
        raise ValidationError(
            f"{path} cannot be read as a workbook ({type(exc).__name__}: {exc}); save it again as .xlsx",
            zh=f"{path} 无法作为工作簿读取({type(exc).__name__}: {exc});请重新另存为 .xlsx",
        ) from None
    try:
        ws = wb.worksheets[0]
        rows = list(ws.iter_rows(values_only=True))
    finally:
        wb.close()
    by_header = {h: c for lang in HEADERS for c, h in HEADERS[lang].items()}
    by_header |= {c: c for c in [*SCHEDULE_COLUMNS, *OPTIONAL_COLUMNS]}
    codes = {name: code for lang in ACTIVITIES for code, name in ACTIVITIES[lang].items()}
    header = [
        by_header.get(str(h).strip(), str(h)) if h is not None else "" for h in (rows[0] if rows else [])
    ]
    missing = [HEADERS["zh"][c] + "/" + c for c in SCHEDULE_COLUMNS if c not in header]
    if missing:
        raise ValidationError(
            f"{path}: sheet '{ws.title}' lacks column(s) {', '.join(missing)}; restore the header row",
            zh=f"{path}:工作表“{ws.title}”缺少字段 {'、'.join(missing)};请恢复表头",
        )
    columns = [*SCHEDULE_COLUMNS, *(c for c in OPTIONAL_COLUMNS if c in header)]
    at = {c: header.index(c) for c in columns}
    data = [
        {c: _read_cell(c, row[at[c]] if at[c] < len(row) else None, codes) for c in columns}
        for row in rows[1:]
        if any(v is not None and str(v).strip() for v in row)
    ]
    return pd.DataFrame(data, columns=columns, dtype=object)
