"""R4 and R5 by officer kind: R5's visit days apply to a linked officer's villages; a resident officer's own
village is governed by R4 alone (docs/DOMAIN.md). Hand-made schedules whose answers are counted by hand."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from planner.model import TravelTimes
from planner.patrol import check_schedule, plan_month
from planner.patrol.rulebook.calendar import working_days
from planner.rules import PatrolRules

MONTH = "2026-11"  # no statutory holiday in November
# only R4 and R5 speak: no weekly visits, night visits, household visits or office days owed
RULES = PatrolRules(
    weekly_visit=False, night_visits_per_village=0, households_per_month=0, office_days_per_week=0
)
IDS = ["V1", "V2", "V3"]
TIMES = TravelTimes(pd.Index(IDS), pd.Index(IDS), np.where(np.eye(3) > 0, 0.0, 600.0))
ASSIGN = pd.DataFrame(
    {
        "district_id": "D1",
        "office_id": "O1",
        "office_village_id": "V1",
        "officers": 2,
        "population": 900,
        "access": "road",
    },
    index=pd.Index(IDS, name="village_id"),
)
ROSTER = pd.DataFrame(
    {
        "officer_id": ["R", "L"],
        "office": ["O1", "O1"],
        "kind": ["resident", "linked"],
        "village_id": ["V1", None],
        "unavailable": [(), ()],
    }
)


def _schedule(office_days: int, linked_visit_days: dict[str, int]) -> pd.DataFrame:
    """R keeps office in V1 on his first ``office_days`` working days; L makes full 4-hour visits (with the
    10-minute drives) on the first days of the month, ``linked_visit_days`` per village."""
    days = [d.isoformat() for d in working_days(MONTH, rules=RULES)]
    rows = [(("R", days[k], "08:30", "16:30", "V1", "office", 480)) for k in range(office_days)]
    k = 0
    for v, n in linked_visit_days.items():
        for _ in range(n):
            rows += [
                ("L", days[k], "08:30", "08:40", v, "travel", 10),
                ("L", days[k], "08:40", "12:40", v, "visit", 240),
                ("L", days[k], "12:40", "12:50", "V1", "travel", 10),
            ]
            k += 1
    return pd.DataFrame(
        rows, columns=["officer_id", "date", "start", "end", "village_id", "activity", "minutes"]
    )


def _found(schedule: pd.DataFrame) -> list[tuple[str, str]]:
    got = check_schedule(schedule, ASSIGN, TIMES, rules=RULES, month=MONTH, roster=ROSTER)
    return sorted((v.rule, v.subject) for v in got if v.rule in ("R4", "R5"))


def test_a_residents_own_village_owes_r4_days_not_r5_visit_days():
    """R: 8 office days in V1, no visit day there: R4 met (8 of 8), and no R5 break for V1. L: 2 full days in
    V2 and 2 in V3: R5 met in both, and R4's 4 days of a linked officer met (2 + 2)."""
    assert _found(_schedule(8, {"V2": 2, "V3": 2})) == []


def test_r4_and_r5_breaks_are_counted_by_kind():
    """R: 7 office days (7 of 8): R4 on R. L: V2 2 days, V3 1 day: R5 on V3 (1 of 2) and R4 on L (3 of 4)."""
    found = _found(_schedule(7, {"V2": 2, "V3": 1}))
    assert found == [("R4", "L"), ("R4", "R"), ("R5", "V3")]
    got = check_schedule(
        _schedule(7, {"V2": 2, "V3": 1}), ASSIGN, TIMES, rules=RULES, month=MONTH, roster=ROSTER
    )
    texts = {v.subject: v.detail for v in got if v.rule == "R4"}
    assert "7 of the 8 days" in texts["R"] and "3 of the 4 days" in texts["L"]


def test_without_the_roster_every_village_owes_r5():
    """Without the roster nothing says V1 is a resident's own village: R5 applies to it (0 of 2)."""
    got = check_schedule(_schedule(8, {"V2": 2, "V3": 2}), ASSIGN, TIMES, rules=RULES, month=MONTH)
    assert sorted(v.subject for v in got if v.rule == "R5") == ["V1"]


def test_the_planner_asks_no_r5_visit_days_of_a_residents_own_village():
    """Planned with the roster, V1 (R's village) gets no R5 requirement: no R5 break and no dropped R5 visit for
    V1, and R's R4 days (office days in V1 count) are met."""
    plan = plan_month(
        ASSIGN,
        TIMES,
        rules=PatrolRules(office_days_per_week=2),
        month=MONTH,
        roster=ROSTER,
        seed=0,
        time_limit=5,
    )
    assert not [v for v in plan.violations if v.rule in ("R4", "R5") and v.subject in ("V1", "R")]
    assert not [d for d in plan.dropped_visits if d.village_id == "V1" and "R5" in d.reason]
    r_days = plan.schedule[(plan.schedule["officer_id"] == "R") & (plan.schedule["village_id"] == "V1")]
    assert r_days["date"].nunique() >= 8


def test_r5_adds_no_visit_day_requirement_for_a_residents_own_village():
    """The day model gets R5's soft requirement for a linked officer's village and for a resident officer's
    other villages, never for the resident's own village."""
    from planner.patrol.daymodel import Officer
    from planner.patrol.rulebook import r5

    calls: list[str] = []
    dm = SimpleNamespace(soft=lambda om, expr, need, key, **kw: calls.append(key[0]))
    for kind, home, village in (("resident", "V1", "V1"), ("resident", "V1", "V2"), ("linked", None, "V1")):
        om = SimpleNamespace(officer=Officer("X", "O1", kind, home, []), days=[], full={})
        r5.add_visit_days(dm, om, 0, village, rules=PatrolRules())
    assert calls == ["V2", "V1"]
