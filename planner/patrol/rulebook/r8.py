"""R8: officers keep office hours at least ``office_days_per_week`` working days a week, and every village is
visited every week (``weekly_visit``).

Demand: per officer and week of the month (C2: ISO weeks, a short one joined to its neighbour) the office days of
:func:`~planner.patrol.rulebook.calendar.office_days_required` (pro rata to his days that week); per village one
visit in each week of the month the officer works. A weekly
visit that is not one of the full visit days lasts ``weekly_visit_minutes``; when there are no full visit days
(``visit_days_per_village = 0``) the weekly visits carry the household visits of R6.
Constraint: the office days are hard (the greedy first month and every pattern respect them); the weekly visits
are soft at the full weight. Officers of one office take turns in the office (a soft rotation).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from planner.model import DroppedVisit, Violation
from planner.patrol.rulebook import r5
from planner.patrol.rulebook.calendar import (
    days_in_week,
    month_calendar,
    month_weeks,
    office_days_required,
    working_days,
)
from planner.patrol.rulebook.r6 import household_minutes
from planner.rules import PatrolRules
from planner.texts import check_lang

if TYPE_CHECKING:
    import datetime as dt

    from planner.patrol.daymodel import DayModel, OfficerModel
    from planner.patrol.explain import OfficerOutcome

W_ROTATE = 300  # a day on which every officer of the office sits in the office


def label(rules: PatrolRules, lang: str = "zh") -> str:
    """R8 in one line with the values in force (as the report lists the rules)."""
    k = rules.office_days_per_week
    if check_lang(lang) == "zh":
        return f"每周至少坐班{k}天" + ("，每村每周至少走访一次" if rules.weekly_visit else "")
    return f"office {k} days a week" + (", every village every week" if rules.weekly_visit else "")


# -- demand --------------------------------------------------------------------------------------------------


def weekly_visit_length(rules: PatrolRules, weeks: int) -> int:
    """A weekly visit's minutes; it carries the household visits (R6) when there are no full visit days."""
    if r5.visit_days_owed(rules) == 0 and weeks:
        return math.ceil(max(float(rules.weekly_visit_minutes), household_minutes(rules) / weeks))
    return math.ceil(float(rules.weekly_visit_minutes))


def weekly_visits_owed(month: str, *, rules: PatrolRules) -> int:
    """Weekly visits a village owes in the month: one per week with working days."""
    return len(month_weeks(month, rules=rules)) if rules.weekly_visit else 0


# -- constraint ----------------------------------------------------------------------------------------------


def add_office_days(
    dm: DayModel,
    om: OfficerModel,
    month: str,
    *,
    rules: PatrolRules,
    cut: Mapping[dt.date, Any] | None = None,
) -> None:
    """The officer's office days in each ISO week he works (hard); ``cut``: days whose office hours a night trip
    cuts under half a shift (:func:`planner.patrol.rulebook.r7.add_night_visits`), which do not count."""
    for w in om.weeks:
        wd = days_in_week(month, om.days, w, rules=rules)
        need = office_days_required(len(wd), rules=rules)
        if cut is None:
            dm.model.add(sum(om.off[d] for d in wd) >= need)
        elif any(d in cut for d in wd):
            dm.model.add(sum(om.off[d] for d in wd) - sum(cut[d] for d in wd if d in cut) >= need)


def add_weekly_visits(
    dm: DayModel, om: OfficerModel, j: int, village: str, month: str, *, rules: PatrolRules
) -> None:
    """Village ``j`` of the officer visited in each week of the month he works (soft)."""
    if not rules.weekly_visit:
        return
    for w in om.weeks:
        wd = days_in_week(month, om.days, w, rules=rules)
        dm.soft(om, sum(om.visited[d, j] for d in wd), 1, (village, f"weekly:{w}"))


def add_office_rotation(dm: DayModel, staff: list[OfficerModel]) -> None:
    """Not every officer of the office in the office on the same day (soft): the office is shared."""
    if len(staff) <= 1:
        return
    for d in sorted({d for om in staff for d in om.days}):
        here = [om.off[d] for om in staff if d in om.off]
        if len(here) > 1:
            s = dm.model.new_bool_var("")
            dm.model.add(sum(here) <= len(here) - 1 + s)
            dm.penalties.append(W_ROTATE * s)


# -- explanation ---------------------------------------------------------------------------------------------


def weeks_away(out: OfficerOutcome) -> list[str]:
    """The month's weeks in which the officer has no working day (leave or holidays)."""
    if not out.ctx.rules.weekly_visit:
        return []
    return [w for w in month_weeks(out.ctx.month, rules=out.ctx.rules) if w not in out.model.weeks]


def explain_away(out: OfficerOutcome, village: str, away: list[str]) -> list[DroppedVisit]:
    """The weekly visits of the weeks the officer does not work."""
    o = out.officer.officer_id
    return [
        out.drop(
            village,
            f"{o} has no working day in week(s) {', '.join(away)} (leave or holidays): no weekly visit to "
            f"{village} then",
            f"{o} 在 {', '.join(away)} 周没有工作日 (休假或节假日): 该周未走访 {village}",
        )
    ]


def explain(out: OfficerOutcome, village: str, round_trip: int) -> list[DroppedVisit]:
    """The missed weekly visits of a village, grouped by why: every working day an office day, the village too
    far for one shift, or the field days taken by other visits."""
    ctx, om, o = out.ctx, out.model, out.officer
    rules, work = ctx.rules, ctx.work
    groups: dict[str, list[tuple[str, int, int]]] = {"office": [], "far": [], "busy": []}
    for (vv, kind), _slack in om.slacks.items():
        if vv != village or not kind.startswith("weekly:") or not out.missed((vv, kind)):
            continue
        w = kind.split(":", 1)[1]
        wd = days_in_week(ctx.month, o.days, w, rules=rules)
        need_off = office_days_required(len(wd), rules=rules)
        if len(wd) <= need_off:
            groups["office"].append((w, len(wd), need_off))
        elif round_trip > work.drive or round_trip + om.short > work.shift:
            groups["far"].append((w, len(wd), need_off))
        else:
            groups["busy"].append((w, len(wd), need_off))
    rt = round_trip / 60.0
    shift_h = rules.shift_hours
    res: list[DroppedVisit] = []
    if groups["office"]:
        ws = ", ".join(f"{w} ({n} day(s), {k} office)" for w, n, k in groups["office"])
        ws_zh = ", ".join(f"{w} ({n} 个工作日, 坐班 {k} 天)" for w, n, k in groups["office"])
        res.append(
            out.drop(
                village,
                f"no weekly visit to {village} in {ws}: every working day of {o.officer_id} is an R8 office day",
                f"{ws_zh} 未走访 {village}: {o.officer_id} 的工作日均需按 R8 坐班",
            )
        )
    if groups["far"]:
        ws = ", ".join(w for w, _, _ in groups["far"])
        if round_trip > work.drive:
            en = (
                f"the round trip to {village} takes {rt:.1f} h, more than the {rules.max_drive_hours:g} h "
                "driving limit"
            )
            zh = f"往返 {village} 需 {rt:.1f} 小时, 超过每日驾驶上限 {rules.max_drive_hours:g} 小时"
        else:
            en = (
                f"the round trip to {village} takes {rt:.1f} h, with a {om.short} min visit more than the "
                f"{shift_h:g} h shift"
            )
            zh = f"往返 {village} 需 {rt:.1f} 小时, 加 {om.short} 分钟走访超过 {shift_h:g} 小时班次"
        res.append(out.drop(village, f"{en}: no weekly visit in {ws}", f"{zh}: {ws} 周未走访"))
    if groups["busy"]:
        ws = ", ".join(f"{w} ({n - k} field day(s))" for w, n, k in groups["busy"])
        ws_zh = ", ".join(f"{w} ({n - k} 个外勤日)" for w, n, k in groups["busy"])
        n_v = len(o.villages)
        res.append(
            out.drop(
                village,
                f"no weekly visit to {village} in {ws}: {o.officer_id}'s field days there are taken by the other "
                f"visits of his {n_v} villages (the round trip to {village} takes {rt:.1f} h)",
                f"{ws_zh} 未走访 {village}: {o.officer_id} 的外勤日已排满其 {n_v} 个村的走访 (往返 {village} 需 {rt:.1f} 小时)",
            )
        )
    return res


# -- check ---------------------------------------------------------------------------------------------------


def check_village(
    village: str, visits: pd.DataFrame, month: str, tag: tuple[str, str], *, rules: PatrolRules
) -> list[Violation]:
    """A visit to the village in every week of the month (C2; ``visits``: its visit rows with their dates
    ``d``; ``tag``: what to add to the texts, en and zh)."""
    if not rules.weekly_visit:
        return []
    cal = month_calendar(month, rules)
    weeks = month_weeks(month, rules=rules)
    seen = {cal.week_of(d) for d in visits["d"]}
    return [
        Violation(
            "R8",
            village,
            f"village {village} has no visit in week {w}{tag[0]}",
            f"村 {village} 在 {w} 周没有走访{tag[1]}",
            kind="village",
        )
        for w in weeks
        if w not in seen
    ]


def check_office_days(
    s: pd.DataFrame,
    officers: list[str],
    unavailable: dict[str, set[dt.date]],
    month: str,
    *,
    rules: PatrolRules,
) -> list[Violation]:
    """Each officer's office days in each ISO week he works (``s``: the parsed schedule)."""
    out: list[Violation] = []
    if not rules.office_days_per_week:
        return out
    off = s[s["activity"] == "office"]
    cal = month_calendar(month, rules)
    for oid in officers:
        od = working_days(month, rules=rules, unavailable=unavailable[oid])
        have = {
            w: n
            for w, n in pd.Series([cal.week_of(d) for d in set(off.loc[off["officer_id"] == oid, "d"])])
            .value_counts()
            .items()
        }
        for w in month_weeks(month, rules=rules):
            n_days = sum(1 for d in od if cal.week_of(d) == w)
            if not n_days:
                continue
            need = office_days_required(n_days, rules=rules)
            if have.get(w, 0) < need:
                out.append(
                    Violation(
                        "R8",
                        oid,
                        f"{oid} keeps office hours on {have.get(w, 0)} day(s) in week {w}, needs {need}",
                        f"{oid} 在 {w} 周坐班 {have.get(w, 0)} 天, 需要 {need} 天",
                        kind="officer",
                    )
                )
    return out
