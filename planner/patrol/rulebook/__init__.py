"""The patrol rulebook: one module per bureau rule of the monthly plan (CONVENTIONS §12).

Each rule module holds the rule's **demand** (what each village or officer owes), its **constraint** (its part of
the CP-SAT day-assignment model, :mod:`planner.patrol.daymodel`), its **explanation** (the plain-words zh/en
texts of its unmet requirements, built from the rules in force) and its **check** (its part of
:func:`planner.patrol.check_schedule`), plus ``label(rules, lang)``, its one-line description for reports.

- :mod:`~planner.patrol.rulebook.r4`: resident / linked officers' days a month in their villages;
- :mod:`~planner.patrol.rulebook.r5`: visit days per village and their hours;
- :mod:`~planner.patrol.rulebook.r6`: household visits;
- :mod:`~planner.patrol.rulebook.r7`: night visits;
- :mod:`~planner.patrol.rulebook.r8`: office days per week and the weekly visit;
- :mod:`~planner.patrol.rulebook.calendar`: C1/C2, the month's working days and ISO weeks;
- :mod:`~planner.patrol.rulebook.worktime`: C3, the shift, driving limit, overtime and the night trip's limits.
"""

from __future__ import annotations

from planner.patrol.rulebook import r4, r5, r6, r7, r8
from planner.rules import PatrolRules

_LABELS = {"R4": r4.label, "R5": r5.label, "R6": r6.label, "R7": r7.label, "R8": r8.label}


def labels(rules: PatrolRules, lang: str = "zh") -> dict[str, str]:
    """The one-line description of R4-R8 with the values in force, by rule id."""
    return {rule: label(rules, lang) for rule, label in _LABELS.items()}


__all__ = ["labels", "r4", "r5", "r6", "r7", "r8"]
