"""R6: at least ``households_per_month`` households visited per village per month, ``household_minutes`` each.

Demand: per village ``households_per_month * household_minutes`` minutes of visits a month
(:func:`household_minutes`), folded into the full visit days (R5) or, without them, into the weekly visits
(R8). Constraint: soft, priced per missing minute (:data:`W_HOUSEHOLD`); the full visit days that carry them
are spread over the month (R5's :func:`~planner.patrol.rulebook.r5.spread_visit_days`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from planner.model import DroppedVisit, Violation
from planner.patrol.rulebook.worktime import TOLERANCE
from planner.rules import PatrolRules
from planner.texts import check_lang

if TYPE_CHECKING:
    from planner.patrol.daymodel import DayModel, OfficerModel
    from planner.patrol.explain import OfficerOutcome

W_HOUSEHOLD = 800  # per minute of household time missing: an hour weighs about like a further visit day


def label(rules: PatrolRules, lang: str = "zh") -> str:
    """R6 in one line with the values in force (as the report lists the rules)."""
    n = rules.households_per_month
    if check_lang(lang) == "zh":
        return f"每村每月至少走访{n}户"
    return f"at least {n} households per village per month"


def household_minutes(rules: PatrolRules) -> float:
    """Minutes a month that the household visits of one village take."""
    return rules.households_per_month * rules.household_minutes


def add_household_time(
    dm: DayModel, om: OfficerModel, j: int, village: str, *, visit_day: int, rules: PatrolRules
) -> None:
    """Village ``j``'s household visits' time over its visits of the month (soft), then the spread of the full
    visit days that carry it (``visit_day``: a full visit day's minutes)."""
    from planner.patrol.rulebook import r5

    hh = household_minutes(rules)
    if hh <= 0:
        return
    short = om.short
    extra = (visit_day - short) if r5.visit_days_owed(rules) else 0
    dm.soft(
        om,
        sum(short * om.visited[d, j] + extra * om.full[d, j] for d in om.days),
        math.ceil(hh),
        (village, "households"),
        weight=W_HOUSEHOLD,
    )
    r5.spread_visit_days(dm, om, j, rules=rules)


def explain(out: OfficerOutcome, village: str) -> list[DroppedVisit]:
    """The village's missing household time, with the minutes it got and needs."""
    key = (village, "households")
    miss = out.missed(key)
    if not miss:
        return []
    need = out.model.slacks[key][1]
    got = need - miss
    o, n_hh, n_v = out.officer.officer_id, out.ctx.rules.households_per_month, len(out.officer.villages)
    return [
        out.drop(
            village,
            f"village {village} gets {got} min of visits, the {n_hh} household visits need {need} min (R6): "
            f"{o}'s field days are taken by the visits of his {n_v} villages",
            f"村 {village} 仅有 {got} 分钟走访, {n_hh} 户入户走访需 {need} 分钟 (R6): "
            f"{o} 的外勤日已排满其 {n_v} 个村的走访",
        )
    ]


def check_village(
    village: str, visits: pd.DataFrame, tag: tuple[str, str], *, rules: PatrolRules
) -> list[Violation]:
    """The village's visit minutes against its household visits' time (``visits``: its visit rows)."""
    hh = household_minutes(rules)
    total = int(visits["dur"].sum())
    if not hh or total + TOLERANCE >= hh:
        return []
    n = rules.households_per_month
    return [
        Violation(
            "R6",
            village,
            f"village {village} gets {total} min of visits, the {n} household visits need {hh:.0f} min{tag[0]}",
            f"村 {village} 走访 {total} 分钟, {n} 户入户走访需 {hh:.0f} 分钟{tag[1]}",
            kind="village",
        )
    ]
