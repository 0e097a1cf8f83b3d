"""R5: a linked officer spends at least ``visit_days_per_village`` days a month in each village, at least
``visit_hours`` hours a day.

Demand: per village ``visit_days_per_village`` full visit days; a full visit day lasts ``visit_hours`` plus its
share of the household visits of R6 when those take longer than the full visit days (:func:`visit_day_minutes`).
Constraint: soft; the village's first full visit day weighs as much as any requirement, each further one
:data:`W_MORE`, so further days are the first to go when officers are short. Where the household visits count
(R6), the full visit days are spread, one in each equal slice of the officer's month.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from planner.model import DroppedVisit, Violation
from planner.patrol.rulebook.r6 import household_minutes
from planner.patrol.rulebook.worktime import NO_ROAD, TOLERANCE
from planner.rules import PatrolRules
from planner.texts import check_lang

if TYPE_CHECKING:
    from planner.patrol.daymodel import DayModel, OfficerModel
    from planner.patrol.explain import OfficerOutcome

W_MORE = 50_000  # a village's second (third, ...) full visit day: half a missed requirement


def label(rules: PatrolRules, lang: str = "zh") -> str:
    """R5 in one line with the values in force (as the report lists the rules)."""
    n, h = rules.visit_days_per_village, rules.visit_hours
    if check_lang(lang) == "zh":
        return f"每村每月至少走访{n}天，每天至少{h:g}小时（驻村民警所驻的村按 R4 计）"
    return f"each village at least {n} days a month, {h:g} hours a day (a resident officer's own village: R4)"


# -- demand --------------------------------------------------------------------------------------------------


def visit_days_owed(rules: PatrolRules) -> int:
    """Full visit days a village owes in the month."""
    return rules.visit_days_per_village


def visit_day_minutes(rules: PatrolRules) -> int:
    """A full visit day's minutes: ``visit_hours`` plus the share of the household visits (R6) that do not fit
    the full visit days' hours; 0 when there are no full visit days."""
    hh = household_minutes(rules)
    nf = rules.visit_days_per_village
    base = rules.visit_hours * 60
    return math.ceil(base + max(0.0, hh - nf * base) / nf) if nf else 0


def full_visit_service(rules: PatrolRules) -> int:
    """A full visit's minutes in the day patterns: :data:`NO_ROAD` (never fits a day) when none are owed."""
    return visit_day_minutes(rules) if visit_days_owed(rules) else NO_ROAD


def governs(kind: str, home: str | None, village: str) -> bool:
    """Whether R5 applies to ``village`` of an officer of ``kind`` whose own village is ``home``: R5 is a linked
    officer's rule; a resident officer's own village is governed by R4 (its days a month) and not also by R5
    (docs/DOMAIN.md, "R4 and R5 by officer kind")."""
    return not (kind == "resident" and home is not None and village == home)


# -- constraint ----------------------------------------------------------------------------------------------


def add_visit_days(dm: DayModel, om: OfficerModel, j: int, village: str, *, rules: PatrolRules) -> None:
    """Village ``j`` of the officer gets its full visit days (soft, further days cheaper than the first); a
    resident officer's own village owes R4's days instead (:func:`governs`)."""
    if rules.visit_days_per_village and governs(om.officer.kind, om.officer.home, village):
        dm.soft(
            om,
            sum(om.full[d, j] for d in om.days),
            rules.visit_days_per_village,
            (village, "full"),
            more=W_MORE,
        )


def spread_visit_days(dm: DayModel, om: OfficerModel, j: int, *, rules: PatrolRules) -> None:
    """One full visit day of village ``j`` in each equal slice of the officer's days (soft); not for a resident
    officer's own village, which R4 governs (:func:`governs`)."""
    if not governs(om.officer.kind, om.officer.home, om.villages[j]):
        return
    dm.spread([om.full[d, j] for d in om.days], visit_days_owed(rules))


# -- explanation ---------------------------------------------------------------------------------------------


def explain(out: OfficerOutcome, village: str, round_trip: int) -> list[DroppedVisit]:
    """The village's missed full visit days: the round trip beyond the driving limit, trip plus visit day
    beyond the shift, or too few field days for the officer's villages."""
    key = (village, "full")
    miss = out.missed(key)
    if not miss:
        return []
    need = out.model.slacks[key][1]
    ctx, o = out.ctx, out.officer
    rules, work = ctx.rules, ctx.work
    rt, shift_h, full_h = round_trip / 60.0, rules.shift_hours, ctx.full / 60
    if round_trip > work.drive:
        en = (
            f"the round trip to {village} takes {rt:.1f} h, more than the {rules.max_drive_hours:g} h "
            f"driving limit: {miss} of {need} visit days missed"
        )
        zh = f"往返 {village} 需 {rt:.1f} 小时, 超过每日驾驶上限 {rules.max_drive_hours:g} 小时: {need} 个走访日中缺 {miss} 个"
    elif round_trip + ctx.full > work.shift:
        en = (
            f"the round trip to {village} takes {rt:.1f} h and a visit day {full_h:.1f} h, more than "
            f"the {shift_h:g} h shift: {miss} of {need} visit days missed"
        )
        zh = (
            f"往返 {village} 需 {rt:.1f} 小时, 走访需 {full_h:.1f} 小时, 超过 {shift_h:g} 小时班次: "
            f"{need} 个走访日中缺 {miss} 个"
        )
    else:
        n_v = len(o.villages)
        en = (
            f"{o.officer_id} has {out.field_days} field days after {out.office_days} office days for "
            f"{n_v} villages; the round trip to {village} takes {rt:.1f} h, so at most "
            f"{out.best_full} visit(s) of {round(full_h, 1):g} h fit in each {shift_h:g} h shift; the weekly visits and every "
            f"village's first visit day come first: {miss} of {need} visit days missed"
        )
        zh = (
            f"{o.officer_id} 除 {out.office_days} 个坐班日外仅有 {out.field_days} 个外勤日, 负责 {n_v} 个村; "
            f"往返 {village} 需 {rt:.1f} 小时, 每个 {shift_h:g} 小时班次最多容纳 {out.best_full} 次 {round(full_h, 1):g} 小时走访; "
            f"优先保证每周走访和每村第一个走访日: {need} 个走访日中缺 {miss} 个"
        )
    return [out.drop(village, en, zh)]


# -- check ---------------------------------------------------------------------------------------------------


def check_village(
    village: str, per_day: pd.Series, tag: tuple[str, str], *, rules: PatrolRules
) -> list[Violation]:
    """The village's full visit days (``per_day``: the village's visit minutes per officer and date)."""
    if not rules.visit_days_per_village:
        return []
    full = int((per_day >= rules.visit_hours * 60 - TOLERANCE).sum())
    if full >= rules.visit_days_per_village:
        return []
    n, h = rules.visit_days_per_village, rules.visit_hours
    return [
        Violation(
            "R5",
            village,
            f"village {village} has {full} visit day(s) of {h:g} h, needs {n}{tag[0]}",
            f"村 {village} 仅有 {full} 个 {h:g} 小时走访日, 需要 {n}{tag[1]}",
            kind="village",
        )
    ]
