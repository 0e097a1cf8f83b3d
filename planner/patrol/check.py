"""Re-check a schedule (fresh or edited by hand) against R4-R8 and the working-time limits (C1, C3).

The schedule is parsed once here (minutes, dates, which rows make a night trip); each rule's part of the check
lives in its rulebook module.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd

from planner.model import SCHEDULE_COLUMNS, TravelTimes, Violation, clock_minutes
from planner.patrol.rulebook import c4, r4, r5, r6, r7, r8
from planner.patrol.rulebook.calendar import check_working_day, parse_month
from planner.patrol.rulebook.worktime import TOLERANCE, check_day_work, check_night_trip, to_minutes
from planner.rules import PatrolRules

_ACTIVITIES = {"visit", "night_visit", "office", "travel"}
# a parsed schedule row as the per-day checks read it (:func:`_parse`, :func:`_mark_night_trips`)
_ROW_COLUMNS = [
    "officer_id",
    "date",
    "village_id",
    "activity",
    "start",
    "end",
    "s0",
    "s1",
    "dur",
    "d",
    "night",
]


def check_schedule(
    schedule: pd.DataFrame,
    assignment: pd.DataFrame,
    times: TravelTimes,
    *,
    rules: PatrolRules,
    month: str,
    roster: pd.DataFrame | None = None,
) -> list[Violation]:
    """Re-check a schedule (fresh or edited by hand) against R4-R8 and the working-time limits.

    Checks per officer-day: shift length, driving (day and night trip separately), day plus night trip within
    shift + overtime, night visits on a night weekday inside the night window, no work on weekends or holidays,
    travel rows at least as long as the road network says; per village: a visit each ISO week (R8), full visit
    days (R5, ``visit_hours``), household time (R6), night visits (R7); per officer: office days per ISO week (R8)
    and no working day under half a shift beside a visit his office misses that he could have made (C4, soft).

    Parameters
    ----------
    schedule
        The schedule's rows (:data:`planner.model.SCHEDULE_COLUMNS`).
    assignment
        Indexed by village_id: office_village_id and access (at least).
    times
        Travel times between all villages and office villages (seconds).
    rules, month
        The patrol rules and the month (``YYYY-MM``).
    roster
        With unavailable dates, refines the office-day weeks; without it every working day counts.

    Returns
    -------
    list of Violation
    """
    a = assignment.copy()
    a.index = a.index.astype(str)
    s = _parse(schedule)
    out = _check_rows(s, a, month)
    s = _mark_night_trips(s)
    # officer-days as lists of rows, not sub-frames: 30,000 pandas groups cost a minute at 5,000 villages
    days = [
        (key, list(g))
        for key, g in itertools.groupby(
            s[_ROW_COLUMNS].itertuples(index=False, name="Row"), key=lambda r: (r.officer_id, r.date)
        )
    ]
    for (oid, ds), g in days:
        out += _check_officer_day(str(oid), str(ds), g, rules=rules, month=month)
    out += _check_travel(days, a, times)
    own = {}  # a resident officer's own village: R4 governs it, not R5
    if roster is not None:
        own = {
            str(r.village_id): str(r.officer_id)
            for r in roster.itertuples(index=False)
            if r.kind == "resident" and r.village_id
        }
    out += _check_villages(s, a, month, rules=rules, own=own)
    out += r4.check(s, roster, rules=rules)
    unavailable: dict[str, set[dt.date]] = defaultdict(set)
    officers = sorted(set(s["officer_id"]))
    if roster is not None:
        for row in roster.itertuples(index=False):
            unavailable[str(row.officer_id)] = set(getattr(row, "unavailable", []) or [])
        officers = sorted(set(officers) | set(roster["officer_id"].astype(str)))
    out += r8.check_office_days(s, officers, unavailable, month, rules=rules)
    out += c4.check(s, a, times, out, rules=rules, month=month, office_of=c4.officer_offices(s, a, roster))
    return out


def _parse(schedule: pd.DataFrame) -> pd.DataFrame:
    """The schedule with ids as text and, per row, its minutes ``s0``, ``s1``, ``dur`` and its date ``d``."""
    s = schedule.copy()
    if not len(s):
        s = pd.DataFrame({c: pd.Series(dtype=object) for c in SCHEDULE_COLUMNS})
    for c in ("officer_id", "date", "village_id", "activity"):
        s[c] = s[c].astype(str)
    s["s0"] = [to_minutes(x) for x in s["start"]]
    s["s1"] = [to_minutes(x) for x in s["end"]]
    s["dur"] = s["s1"] - s["s0"]
    s["d"] = [dt.date.fromisoformat(x[:10]) for x in s["date"]]
    return s


def _check_rows(s: pd.DataFrame, a: pd.DataFrame, month: str) -> list[Violation]:
    """Rows the plan cannot hold: unknown activities, villages not of the plan, dates outside the month."""
    out: list[Violation] = []
    bad_act = sorted(set(s["activity"]) - _ACTIVITIES)
    if bad_act:
        out.append(
            Violation(
                "schedule",
                "activity",
                f"unknown activity {bad_act}; use visit, night_visit, office or travel",
                f"未知的活动 {bad_act}; 请用 visit、night_visit、office 或 travel",
                kind="schedule",
            )
        )
    known = set(a.index) | set(a["office_village_id"].astype(str))
    for vid in sorted(set(s["village_id"]) - known):
        out.append(
            Violation(
                "schedule",
                vid,
                f"village {vid} in the schedule is not a village of the plan",
                f"计划表中的村 {vid} 不在规划中",
                kind="schedule",
            )
        )
    days = set(parse_month(month))
    # a boolean array, not a list: an empty list would select no columns and lose officer_id (issue 12)
    outside = s[np.array([d not in days for d in s["d"]], dtype=bool)]
    for (oid, ds), _g in outside.groupby(["officer_id", "date"]):
        out.append(
            Violation(
                "schedule",
                str(oid),
                f"{oid} has work on {ds}, outside the month {month}",
                f"{oid} 在 {ds} 有安排, 不在 {month} 月内",
                kind="officer",
            )
        )
    return out


def _mark_night_trips(s: pd.DataFrame) -> pd.DataFrame:
    """The schedule sorted by officer, date and time, with ``night``: each night_visit row and the travel rows
    that adjoin it without a gap (the evening trip), which C3 measures apart from the day's work."""
    s = s.sort_values(["officer_id", "date", "s0", "s1"], kind="stable").reset_index(drop=True)
    night = np.zeros(len(s), dtype=bool)

    def same_trip(j: int, i: int) -> bool:
        return bool(
            s.at[j, "activity"] == "travel"
            and s.at[j, "officer_id"] == s.at[i, "officer_id"]
            and s.at[j, "date"] == s.at[i, "date"]
        )

    for i in map(int, np.flatnonzero(s["activity"].to_numpy() == "night_visit")):
        night[i] = True
        j = i - 1
        while j >= 0 and same_trip(j, i) and s.at[j, "s1"] == s.at[j + 1, "s0"]:
            night[j] = True
            j -= 1
        j = i + 1
        while j < len(s) and same_trip(j, i) and s.at[j, "s0"] == s.at[j - 1, "s1"]:
            night[j] = True
            j += 1
    s["night"] = night
    return s


def _check_officer_day(
    officer: str, date: str, g: list[Any], *, rules: PatrolRules, month: str
) -> list[Violation]:
    """One officer-day (its rows, :data:`_ROW_COLUMNS`): a working day (C1), the day's work (C3), the night
    visits (R7) and the night trip (C3)."""
    d = g[0].d
    day = [r for r in g if not r.night]
    night = [r for r in g if r.night]
    out = check_working_day(officer, date, d, rules=rules, month=month)
    work, found = check_day_work(officer, date, day, rules=rules)
    out += found
    out += r7.check_night_rows(officer, date, d, night, rules=rules)
    out += check_night_trip(officer, date, day, night, work, rules=rules)
    return out


def _check_travel(
    days: list[tuple[tuple[str, str], list[Any]]], a: pd.DataFrame, times: TravelTimes
) -> list[Violation]:
    """Travel rows against the network: a hand edit may shorten a drive below what the roads allow
    (``days``: the rows of each officer-day, :data:`_ROW_COLUMNS`)."""
    out: list[Violation] = []
    if not any(r.activity == "travel" for _key, g in days for r in g):
        return out
    ids = sorted(set(a.index) | set(a["office_village_id"]))
    tt = times.subset(ids, ids)
    pos = {x: i for i, x in enumerate(ids)}
    for _key, g in days:
        prev = None
        for r in g:
            if r.activity == "travel" and prev is not None and prev in pos and r.village_id in pos:
                need = tt.seconds[pos[prev], pos[r.village_id]] / 60.0
                if r.dur + TOLERANCE < need:
                    out.append(
                        Violation(
                            "travel",
                            r.officer_id,
                            f"{r.officer_id} on {r.date}: {r.dur} min to drive "
                            f"{prev} -> {r.village_id}, the roads need {clock_minutes(need):.0f} min",
                            f"{r.officer_id} 在 {r.date}: {prev} -> {r.village_id} 只留 {r.dur} 分钟, "
                            f"道路需 {clock_minutes(need):.0f} 分钟",
                            kind="officer",
                        )
                    )
            prev = r.village_id if r.activity in ("travel", "visit", "night_visit") else None
    return out


def _check_villages(
    s: pd.DataFrame, a: pd.DataFrame, month: str, *, rules: PatrolRules, own: dict[str, str]
) -> list[Violation]:
    """Each village's month: weekly visits (R8), full visit days (R5; not a resident officer's own village in
    ``own``, which R4 governs), household time (R6), night visits (R7)."""
    out: list[Violation] = []
    vis = s[s["activity"] == "visit"]
    # grouped once: a mask over the whole schedule per village costs villages x rows (minutes at 5,000)
    visits = dict(tuple(vis.groupby("village_id", sort=False)))
    per_day = {
        v: g for v, g in vis.groupby(["village_id", "officer_id", "date"])["dur"].sum().groupby(level=0)
    }
    nights = s.loc[s["activity"] == "night_visit", "village_id"].value_counts()
    none, no_days = vis.iloc[:0], pd.Series(dtype=float)
    for vid in sorted(a.index):
        mv = visits.get(vid, none)
        unreachable = a.loc[vid, "access"] == "unreachable"
        tag = (" (the village is unreachable)", " (该村无路可达)") if unreachable else ("", "")
        out += r8.check_village(vid, mv, month, tag, rules=rules)
        if vid not in own:
            out += r5.check_village(vid, per_day.get(vid, no_days), tag, rules=rules)
        out += r6.check_village(vid, mv, tag, rules=rules)
        out += r7.check_village(vid, int(nights.get(vid, 0)), tag, rules=rules)
    return out
