"""The unmet requirements of one officer's month, in plain words with their numbers, and the units met.

The texts come from the rules' explanation functions (:mod:`planner.patrol.rulebook`); this module decides
their order (per village: leave weeks, no road, R5, R6, R4, R7, R8, the night trip; then the officer's R4 and
the visits the routes could not fit) and counts the requirement units behind ``visit_requirements_met_pct``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from planner.model import DroppedVisit
from planner.patrol.context import MonthContext
from planner.patrol.daymodel import Officer, OfficerModel, SlackKey
from planner.patrol.rulebook import r4, r5, r6, r7, r8


@dataclass
class OfficerOutcome:
    """One officer's solved month as the explanations read it.

    Attributes
    ----------
    ctx, officer, model
        The month, the officer and his part of the day model.
    solver
        The CP-SAT solver holding the chosen solution.
    office_village
        The village of his office.
    field_days, office_days
        His working days in the field and in the office.
    best_full
        The most full visit days one shift can hold (over his patterns).
    """

    ctx: MonthContext
    officer: Officer
    model: OfficerModel
    solver: Any
    office_village: str
    field_days: int
    office_days: int
    best_full: int

    @classmethod
    def of(cls, ctx: MonthContext, om: OfficerModel, solver: Any, office_village: str) -> OfficerOutcome:
        """The outcome of ``om`` in the solver's solution."""
        o = om.officer
        field_days = sum(1 for d in o.days if not solver.value(om.off[d]))
        best_full = max((len(q.full) for q in om.patterns), default=0)
        return cls(ctx, o, om, solver, office_village, field_days, len(o.days) - field_days, best_full)

    def missed(self, key: SlackKey) -> int:
        """Units of the requirement ``key`` the solution misses (0 when it has no such requirement)."""
        if key not in self.model.slacks:
            return 0
        return int(self.solver.value(self.model.slacks[key][0]))

    def drop(self, village: str, en: str, zh: str) -> DroppedVisit:
        """A dropped visit of this officer."""
        return DroppedVisit(self.officer.officer_id, village, en, zh)


def explain_officer(
    out: OfficerOutcome, times: np.ndarray, ids: list[str], moved_out: list[tuple[dt.date, str, int]]
) -> tuple[list[DroppedVisit], float, float]:
    """Unmet requirements of one officer with the reason and the numbers.

    Parameters
    ----------
    out
        The officer's solved month.
    times, ids
        Whole minutes among the office's villages (office village first) and their ids.
    moved_out
        The visits (date, village, minutes) the day routes could not fit on any day of their week.

    Returns
    -------
    The dropped visits, the requirement units met and the units required.
    """
    rules, o, om = out.ctx.rules, out.officer, out.model
    drops: list[DroppedVisit] = []
    met_units = 0.0
    required = 0.0
    per_village = out.ctx.village_units()
    for v in o.villages:
        k = ids.index(v)
        round_trip = int(times[0, k] + times[k, 0])
        req = per_village
        if not r5.governs(
            o.kind, o.home, v
        ):  # a resident's own village owes R4's days, not R5's (R4 counts them)
            req -= r5.visit_days_owed(rules)
        required += req
        away = r8.weeks_away(out)
        if away and v in om.villages:
            req -= len(away)  # counted as required, never met
            drops += r8.explain_away(out, v, away)
        if v not in om.villages:
            drops.append(_unreachable(out, v, req))
            continue
        met = req
        for (vv, kind), (_s, need) in om.slacks.items():
            if vv != v:
                continue
            miss = out.missed((vv, kind))
            if kind == "resident":
                required += need
                met_units += need - miss
            elif kind != "households":
                met -= miss
        drops += r5.explain(out, v, round_trip)
        drops += r6.explain(out, v)
        drops += r4.explain_resident(out, v)
        drops += r7.explain(out, v, round_trip)
        drops += r8.explain(out, v, round_trip)
        if rules.night_visits_per_village and (v, "night") not in om.slacks:
            met -= rules.night_visits_per_village
        drops += r7.explain_no_trip(out, v, round_trip)
        met_units += max(met, 0)
    if ("", "linked") in om.slacks:
        need = om.slacks["", "linked"][1]
        required += need
        met_units += need - out.missed(("", "linked"))
        drops += r4.explain_linked(out)
    for d, v, s in moved_out:
        drops.append(
            out.drop(
                v,
                f"the route of {d.isoformat()} could not fit the {s} min visit to {v} and no other day of the "
                "week had room",
                f"{d.isoformat()} 的路线排不下 {v} 的 {s} 分钟走访, 本周其他日期也无空余",
            )
        )
    if not o.days:
        drops = [_no_working_day(out, v) for v in o.villages]
    return drops, met_units, required


def _unreachable(out: OfficerOutcome, village: str, req: int) -> DroppedVisit:
    """A village of the officer that cannot be visited at all: no road to it, or its access is unreachable."""
    unreachable = out.ctx.a.loc[village, "access"] == "unreachable"
    home = out.office_village
    why = "its access is 'unreachable'" if unreachable else f"no road links it with the office village {home}"
    why_zh = "无路可达" if unreachable else f"与警务室所在村 {home} 无道路相连"
    return out.drop(
        village,
        f"village {village} cannot be visited: {why}; all {req} visit requirement(s) missed",
        f"村 {village} 无法走访: {why_zh}; {req} 项走访要求均未完成",
    )


def _no_working_day(out: OfficerOutcome, village: str) -> DroppedVisit:
    """A village of an officer without a single working day in the month (leave or holidays, issue 12)."""
    o, month = out.officer.officer_id, out.ctx.month
    return out.drop(
        village,
        f"{o} has no working day in {month} (leave or holidays): no visit to {village} this month",
        f"{o} 在 {month} 没有工作日 (休假或节假日): 本月未走访 {village}",
    )
