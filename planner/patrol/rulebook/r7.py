"""R7: ``night_visits_per_village`` night visits a month to each village, on the ``night_days`` inside the
``night_window``, when farmers are home.

Demand: per village ``night_visits_per_village`` evenings on the officer's working night days.
Constraint: a night visit is its own evening trip office -> village -> office, arriving at the window's start
and staying to its end; the day is a late shift ending with the drive back, so the day's work plus the trip
stays within the shift (plus ``night_overtime_hours``), and the day's driving, trip included, within the
driving limit (C3, :class:`~planner.patrol.rulebook.worktime.WorkTime`); a day pattern too long for the trip
excludes it; an office day before it counts as an R8 office day only when half a shift of office hours fits
before the trip; one night visit an evening. Soft, spread over the month.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from planner.model import DroppedVisit, Violation
from planner.patrol.rulebook.worktime import hhmm, minute_of_day
from planner.rules import WEEKDAYS, PatrolRules
from planner.texts import check_lang

if TYPE_CHECKING:
    from planner.patrol.daymodel import DayModel, OfficerModel
    from planner.patrol.explain import OfficerOutcome
    from planner.patrol.rulebook.worktime import WorkTime

_WEEKDAYS_ZH = ("一", "二", "三", "四", "五", "六", "日")


def days_zh(days: tuple[str, ...] | list[str]) -> str:
    """The night weekdays in Chinese: ("Mon", "Wed", "Fri") -> 周一、三、五."""
    return "周" + "、".join(_WEEKDAYS_ZH[WEEKDAYS.index(d)] for d in days)


def label(rules: PatrolRules, lang: str = "zh") -> str:
    """R7 in one line with the values in force (as the report lists the rules)."""
    start, end = (t.strftime("%H:%M") for t in rules.night_window)
    n = rules.night_visits_per_village
    if check_lang(lang) == "zh":
        return f"{days_zh(rules.night_days)}晚{start}–{end}夜访" + ("" if n == 1 else f"，每村每月{n}次")
    return f"night visits {'/'.join(rules.night_days)} {start}–{end}" + (
        "" if n == 1 else f", {n} a village a month"
    )


def nights_owed(rules: PatrolRules) -> int:
    """Night visits a village owes in the month."""
    return rules.night_visits_per_village


# -- constraint ----------------------------------------------------------------------------------------------


def add_night_visits(
    dm: DayModel, om: OfficerModel, times: np.ndarray, *, work: WorkTime, rules: PatrolRules
) -> dict[dt.date, Any]:
    """The officer's night visits (``times``: whole minutes of the office's matrix, office village first).

    A night trip so long that less than half a shift of office hours fits before it may still follow office
    hours (from the late start until the trip leaves: a whole late shift), but that day is no R8 office day.
    Returns those days' booleans ("office hours too short to count"), for
    :func:`planner.patrol.rulebook.r8.add_office_days` to leave out of the office days.
    """
    cut: dict[dt.date, Any] = {}
    if not rules.night_visits_per_village:
        return cut
    model = dm.model
    for j, v in enumerate(om.villages):
        k = om.reachable[j]
        trip = int(times[0, k] + times[k, 0])
        if not work.night_trip_fits(trip):
            continue
        nd = [d for d in om.days if d.weekday() in work.night_days]
        room = work.room_before_night(int(times[0, k]), trip)
        too_long = [q for q, pat in enumerate(om.patterns) if pat.load > room or pat.tour + trip > work.drive]
        for d in nd:
            xn = model.new_bool_var("")
            om.night[d, j] = xn
            if too_long:
                model.add_at_most_one([xn, *(om.x[d, q] for q in too_long)])
            if not work.office_fits_night(room):
                cut.setdefault(d, []).append(xn)
        dm.soft(om, sum(om.night[d, j] for d in nd), rules.night_visits_per_village, (v, "night"))
        dm.spread([om.night[d, j] for d in nd], rules.night_visits_per_village)
    for d in om.days:
        here = [x for (dd, _), x in om.night.items() if dd == d]
        if len(here) > 1:
            model.add_at_most_one(here)
    out: dict[dt.date, Any] = {}
    for d, nights in cut.items():
        c = model.new_bool_var("")  # an office day cut short by the night trip: off and one of these nights
        model.add(c >= om.off[d] + sum(nights) - 1)
        out[d] = c
    return out


# -- explanation ---------------------------------------------------------------------------------------------


def explain(out: OfficerOutcome, village: str, round_trip: int) -> list[DroppedVisit]:
    """The village's missed night visits: evenings on the night days against the officer's villages."""
    key = (village, "night")
    miss = out.missed(key)
    if not miss:
        return []
    need = out.model.slacks[key][1]
    ctx, o = out.ctx, out.officer
    rules = ctx.rules
    nd = [d for d in o.days if d.weekday() in ctx.work.night_days]
    trip_h = round_trip / 60.0 + ctx.work.night_len / 60
    n_v, days = len(o.villages), "/".join(rules.night_days)
    return [
        out.drop(
            village,
            f"{miss} of {need} night visit(s) to {village} missed: {len(nd)} evenings on {days} for {n_v} "
            f"villages, the night trip takes {trip_h:.1f} h",
            f"{village} {need} 次夜访中缺 {miss} 次: {days_zh(rules.night_days)} 共 {len(nd)} 个晚上, 负责 {n_v} 个村, 夜访往返需 {trip_h:.1f} 小时",
        )
    ]


def explain_no_trip(out: OfficerOutcome, village: str, round_trip: int) -> list[DroppedVisit]:
    """A village whose night trip no evening allows (beyond the driving limit or the longest working day)."""
    rules = out.ctx.rules
    if not rules.night_visits_per_village or (village, "night") in out.model.slacks:
        return []
    rt = round_trip / 60.0
    trip = round_trip + out.ctx.work.night_len
    n, day_h = rules.night_visits_per_village, rules.shift_hours + rules.night_overtime_hours
    return [
        out.drop(
            village,
            f"the night trip to {village} takes {trip / 60:.1f} h (driving {rt:.1f} h), beyond the "
            f"{rules.max_drive_hours:g} h driving limit or {day_h:g} h working day: {n} night visit(s) missed",
            f"夜访 {village} 往返需 {trip / 60:.1f} 小时 (驾驶 {rt:.1f} 小时), 超出驾驶上限或 "
            f"{day_h:g} 小时工作日: 缺 {n} 次夜访",
        )
    ]


# -- check ---------------------------------------------------------------------------------------------------


def check_night_rows(
    officer: str, date: str, d: dt.date, night: Sequence[Any], *, rules: PatrolRules
) -> list[Violation]:
    """The night visits of one officer-day (its night-trip rows, with village_id, activity, s0, s1, start,
    end): on a night weekday, inside the night window."""
    out: list[Violation] = []
    n0, n1 = minute_of_day(rules.night_window[0]), minute_of_day(rules.night_window[1])
    wd = WEEKDAYS[d.weekday()]
    for r in (r for r in night if r.activity == "night_visit"):
        v = r.village_id
        if wd not in rules.night_days:
            out.append(
                Violation(
                    "R7",
                    officer,
                    f"{officer}: night visit to {v} on {date}, a {wd}; night visits are on "
                    f"{'/'.join(rules.night_days)}",
                    f"{officer}: {date} ({days_zh([wd])}) 夜访 {v}; 夜访只在 {days_zh(rules.night_days)}",
                    kind="officer",
                )
            )
        if r.s0 < n0 or r.s1 > n1:
            out.append(
                Violation(
                    "R7",
                    officer,
                    f"{officer}: night visit to {v} on {date} at {r.start}-{r.end}, outside "
                    f"{hhmm(n0)}-{hhmm(n1)}",
                    f"{officer}: {date} 夜访 {v} 在 {r.start}-{r.end}, 不在 {hhmm(n0)}-{hhmm(n1)} 内",
                    kind="officer",
                )
            )
    return out


def check_village(village: str, nn: int, tag: tuple[str, str], *, rules: PatrolRules) -> list[Violation]:
    """The village's night visits in the month (``nn``: its night_visit rows in the schedule)."""
    n = rules.night_visits_per_village
    if not n:
        return []
    if nn >= n:
        return []
    return [
        Violation(
            "R7",
            village,
            f"village {village} has {nn} night visit(s), needs {n}{tag[0]}",
            f"村 {village} 夜访 {nn} 次, 需要 {n} 次{tag[1]}",
            kind="village",
        )
    ]
