"""R4: a resident officer works in his village at least ``resident_days_per_month`` days a month, a linked
officer in his linked villages at least ``linked_days_per_month`` days.

Demand: per officer, those days. A resident officer's days count his office days when the office is in his
village (he works in the village) plus his full visit days there; a linked officer's days are his full visit
days (R5). Constraint: soft at the full weight.
Check: with the roster, :func:`check` counts the same days in the schedule. A resident officer's own village
is governed by R4 alone, not also by R5 (docs/DOMAIN.md, "R4 and R5 by officer kind").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from planner.model import DroppedVisit, Violation
from planner.patrol.rulebook.worktime import TOLERANCE
from planner.rules import PatrolRules
from planner.texts import check_lang

if TYPE_CHECKING:
    from planner.patrol.daymodel import DayModel, OfficerModel
    from planner.patrol.explain import OfficerOutcome


def label(rules: PatrolRules, lang: str = "zh") -> str:
    """R4 in one line with the values in force (as the report lists the rules)."""
    r, k = rules.resident_days_per_month, rules.linked_days_per_month
    if check_lang(lang) == "zh":
        return f"驻村民警每月在村至少{r}天，挂村民警至少{k}天"
    return f"resident officers {r} days a month in the village, linked {k}"


def add_days_in_village(dm: DayModel, om: OfficerModel, office_village: str, *, rules: PatrolRules) -> None:
    """The officer's R4 days (soft): a resident officer's in his village, a linked officer's in his villages."""
    o, days = om.officer, om.days
    if o.kind == "resident" and o.home is not None and rules.resident_days_per_month:
        at_home = sum(om.off[d] for d in days) if o.home == office_village else 0
        if o.home in om.villages:
            j = om.villages.index(o.home)
            dm.soft(
                om,
                at_home + sum(om.full[d, j] for d in days),
                rules.resident_days_per_month,
                (o.home, "resident"),
            )
        elif o.home == office_village:
            dm.soft(om, at_home, rules.resident_days_per_month, (o.home, "resident"))
    elif o.kind == "linked" and rules.linked_days_per_month and om.villages:
        n = len(om.villages)
        dm.soft(
            om,
            sum(om.full[d, j] for d in days for j in range(n)),
            rules.linked_days_per_month,
            ("", "linked"),
        )


def explain_resident(out: OfficerOutcome, village: str) -> list[DroppedVisit]:
    """The resident officer's missing days in his village."""
    key = (village, "resident")
    miss = out.missed(key)
    if not miss:
        return []
    need, o = out.model.slacks[key][1], out.officer.officer_id
    return [
        out.drop(
            village,
            f"resident officer {o} spends {need - miss} of the {need} days a month in his village {village} (R4)",
            f"驻村民警 {o} 在本村 {village} 每月 {need} 天中仅有 {need - miss} 天 (R4)",
        )
    ]


def explain_linked(out: OfficerOutcome) -> list[DroppedVisit]:
    """The linked officer's missing days in his villages."""
    key = ("", "linked")
    miss = out.missed(key)
    if not miss:
        return []
    need, o = out.model.slacks[key][1], out.officer.officer_id
    return [
        out.drop(
            "",
            f"linked officer {o} spends {need - miss} of the {need} days a month in his villages (R4)",
            f"挂村民警 {o} 在联系村每月 {need} 天中仅有 {need - miss} 天 (R4)",
        )
    ]


def check(s: pd.DataFrame, roster: pd.DataFrame | None, *, rules: PatrolRules) -> list[Violation]:
    """R4 on a parsed schedule (``dur`` minutes per row) with the roster: a resident officer's days in his own
    village (office days there, and days of at least ``visit_hours`` of visits there), a linked officer's full
    visit days (a village and a day with at least ``visit_hours`` of visits), as the planner counts them."""
    if roster is None or not len(s):
        return []
    full = rules.visit_hours * 60 - TOLERANCE
    out: list[Violation] = []
    # each officer's rows, split once (a mask per officer costs minutes on a 5,000-village month)
    by_officer = {str(o): rows for o, rows in s.groupby(s["officer_id"].astype(str), sort=False)}
    for r in roster.itertuples(index=False):
        oid, kind, home = str(r.officer_id), str(r.kind), r.village_id
        mine = by_officer.get(oid, s.iloc[:0])
        visits = mine[mine["activity"] == "visit"].groupby(["village_id", "date"])["dur"].sum()
        if kind == "resident" and home and rules.resident_days_per_month:
            at_office = set(
                mine.loc[(mine["activity"] == "office") & (mine["village_id"] == str(home)), "date"]
            )
            visiting = {d for (vid, d), m in visits.items() if vid == str(home) and m >= full}
            got, need = len(at_office | visiting), rules.resident_days_per_month
            if got < need:
                out.append(
                    Violation(
                        "R4",
                        oid,
                        f"resident officer {oid} spends {got} of the {need} days a month in his village {home}",
                        f"驻村民警 {oid} 在本村 {home} 仅 {got}/{need} 天",
                        kind="officer",
                    )
                )
        elif kind == "linked" and rules.linked_days_per_month and len(mine):
            got, need = int((visits >= full).sum()), rules.linked_days_per_month
            if got < need:
                out.append(
                    Violation(
                        "R4",
                        oid,
                        f"linked officer {oid} spends {got} of the {need} days a month in his villages",
                        f"挂村民警 {oid} 在联系村仅 {got}/{need} 天",
                        kind="officer",
                    )
                )
    return out
