"""The month's constants for the patrol stage, derived once from the rules in force."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from planner.model import TravelTimes, clock_minutes
from planner.patrol.rulebook import r5, r6, r7, r8
from planner.patrol.rulebook.worktime import NO_ROAD, WorkTime
from planner.rules import PatrolRules


class MonthContext:
    """Per-month constants derived from the rules.

    Attributes
    ----------
    a
        The checked assignment (villages indexed by village_id as text).
    times
        The travel times (seconds).
    rules, month, days
        The rules, the month (``YYYY-MM``) and its dates.
    work
        The working-day limits (C3).
    full
        A full visit day's minutes (R5 with its share of R6).
    household_minutes
        A village's household visits' minutes a month (R6).
    """

    def __init__(
        self, a: pd.DataFrame, times: TravelTimes, rules: PatrolRules, month: str, days: list[dt.date]
    ) -> None:
        self.a = a
        self.times = times
        self.rules = rules
        self.month = month
        self.days = days
        self.work = WorkTime.of(rules)
        self.full = r5.visit_day_minutes(rules)
        self.household_minutes = r6.household_minutes(rules)
        self.matching: Any = (
            None  # R10's preferences (planner.patrol.rulebook.r10.Matching), set by plan_month
        )

    def short(self, weeks: int) -> int:
        """A weekly visit's length for an officer working ``weeks`` ISO weeks (R8, carrying R6 without R5)."""
        return r8.weekly_visit_length(self.rules, weeks)

    def village_units(self) -> int:
        """Requirement units a village owes in the month: full visit days, weekly visits, night visits."""
        r = self.rules
        return r5.visit_days_owed(r) + r8.weekly_visits_owed(self.month, rules=r) + r7.nights_owed(r)

    def matrix(self, ids: Sequence[str]) -> np.ndarray:
        """Whole minutes (rounded up) among ``ids``; NO_ROAD where no road."""
        sub = self.times.subset(list(ids), list(ids)).seconds
        out = np.where(np.isfinite(sub), clock_minutes(sub / 60.0), NO_ROAD)
        np.fill_diagonal(out, 0)
        return out.astype(np.int64)
