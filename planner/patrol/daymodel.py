"""The day-assignment model of one office (CP-SAT): its variables per officer and its soft requirements.

Every working day of every officer is an office day or one day *pattern* (a set of villages, each visited for
a full visit day or a short weekly visit; see :mod:`planner.patrol.patterns`): one boolean per day and pattern,
exactly one per day. The rules of :mod:`planner.patrol.rulebook` add their parts through :meth:`DayModel.soft`,
so that a requirement that cannot be met leaves a penalised slack (the shortfall, explained afterwards) instead
of an infeasible model.

The order in which variables, constraints, hints and objective terms are added is part of the plan: CP-SAT's
search depends on it, so a seed gives the same plan only while that order stays the same.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from planner.patrol.patterns import Pattern

# objective weights: a missed requirement outweighs any amount of driving in a month. When officers are short, a
# station chief keeps every village in sight first: the weekly visits (R8), each village's first full visit day
# (R5), its night visit (R7) and R4 weigh W_MISS; a further full visit day weighs less (planner.patrol.rulebook.r5),
# so it is the first to go; the household time of R6 is priced per missing minute (planner.patrol.rulebook.r6).
W_MISS = 100_000

W_SPREAD = 200  # a slice of the month without its visit (R5 days, R7 nights spread over the month)

#: A requirement's key in :attr:`OfficerModel.slacks`: (village_id or "", kind), kind one of "weekly:<week>",
#: "full", "households", "resident", "linked", "night".
SlackKey = tuple[str, str]


@dataclass
class Officer:
    """One officer of the roster as the month sees him: his working days and, once linked, his villages."""

    officer_id: str
    office: str
    kind: str  # resident / linked
    home: str | None  # a resident officer's village
    days: list[dt.date]
    villages: list[str] = field(default_factory=list)


@dataclass
class OfficerModel:
    """One officer's part of the day-assignment model.

    Attributes
    ----------
    officer
        The officer.
    reachable
        Indices (in the office's matrix) of his villages that can be visited from the office.
    villages
        Their village ids, in the patterns' local order (index ``j`` below).
    patterns
        His feasible day patterns.
    times
        Whole minutes among the office village (0) and ``reachable``.
    weeks
        The ISO weeks of his working days, sorted.
    short
        A weekly visit's length (minutes).
    off
        Per working day, the boolean "office day".
    x
        Per (day, pattern), the boolean "this pattern that day".
    visited, full
        Per (day, j), the linear expressions "village j visited" and "village j has its full visit day".
    field_load
        Per day, the minutes of field work (tour plus service) of the chosen pattern.
    night
        Per (day, j), the boolean "night visit to village j" (R7).
    slacks
        Per requirement (:data:`SlackKey`), its slack expression and the units it needs.
    """

    officer: Officer
    reachable: list[int]
    villages: list[str]
    patterns: list[Pattern]
    times: np.ndarray
    weeks: list[str]
    short: int
    off: dict[dt.date, Any]
    x: dict[tuple[dt.date, int], Any]
    visited: dict[tuple[dt.date, int], Any]
    full: dict[tuple[dt.date, int], Any]
    field_load: dict[dt.date, Any]
    night: dict[tuple[dt.date, int], Any] = field(default_factory=dict)
    slacks: dict[SlackKey, tuple[Any, int]] = field(default_factory=dict)

    @property
    def days(self) -> list[dt.date]:
        """The officer's working days."""
        return self.officer.days


class DayModel:
    """The CP-SAT model of one office with its two objectives.

    Attributes
    ----------
    model
        The CP-SAT model.
    penalties
        The requirements' penalty terms (phase 1 minimises their sum).
    driving
        The officers' field minutes (phase 2 minimises their sum with the requirements held).
    """

    def __init__(self) -> None:
        from ortools.sat.python import cp_model

        self.model = cp_model.CpModel()
        self.penalties: list[Any] = []
        self.driving: list[Any] = []

    def soft(
        self,
        om: OfficerModel,
        expr: Any,
        need: int,
        key: SlackKey,
        *,
        weight: int = W_MISS,
        more: int | None = None,
    ) -> None:
        """``expr >= need`` with a penalised slack recorded in ``om.slacks[key]``.

        With ``more``, the first unit missed costs ``weight`` and every further unit ``more`` (so a cheap unit
        is given up before an expensive one).
        """
        if need <= 0:
            return
        model = self.model
        if more is None or need == 1:
            s = model.new_int_var(0, need, "")
            self.penalties.append(weight * s)
            om.slacks[key] = (s, need)
            model.add(expr + s >= need)
            return
        # the last unit (the village's minimum) is the expensive one: need - 1 cheap units go first
        cheap = model.new_int_var(0, need - 1, "")
        last = model.new_int_var(0, 1, "")
        self.penalties.append(more * cheap + weight * last)
        om.slacks[key] = (cheap + last, need)
        model.add(expr + cheap + last >= need)

    def spread(self, hits: list[Any], slices: int) -> None:
        """At least one of ``hits`` (booleans or expressions in date order) in each of ``slices`` equal slices
        of them, each slice missed priced :data:`W_SPREAD`: the visits are spread over the month."""
        for s_i in range(slices):
            seg = hits[len(hits) * s_i // slices : len(hits) * (s_i + 1) // slices]
            if seg:
                sp = self.model.new_bool_var("")
                self.model.add(sum(seg) + sp >= 1)
                self.penalties.append(W_SPREAD * sp)
