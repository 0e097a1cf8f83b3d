"""C1/C2, the month's calendar: its dates, working days, ISO weeks and the office days owed in a week.

C1: no field work, office day or night visit on a statutory holiday (rules ``[patrol] holidays``) or a weekend.
C2: the weekly rules (R8) are counted per ISO week; a week cut by the month's edge owes a proportional share of
the office days, ``ceil(office_days_per_week * weekdays_in_month / 5)``, capped by the officer's working days.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Iterable

from planner.errors import ValidationError
from planner.model import Violation
from planner.rules import PatrolRules


def parse_month(month: str) -> list[dt.date]:
    """Every date of a YYYY-MM month."""
    try:
        first = dt.date.fromisoformat(f"{month}-01")
    except (TypeError, ValueError):
        raise ValidationError(
            f"month '{month}' is not a month; write it as YYYY-MM, e.g. 2026-12.",
            zh=f"月份 '{month}' 无效; 请写成 YYYY-MM, 例如 2026-12。",
        ) from None
    n = calendar.monthrange(first.year, first.month)[1]
    return [first + dt.timedelta(days=i) for i in range(n)]


def working_days(
    month: str, *, holidays: Iterable[dt.date] = (), unavailable: Iterable[dt.date] = ()
) -> list[dt.date]:
    """Monday to Friday of the month, minus holidays and the officer's unavailable dates."""
    skip = set(holidays) | set(unavailable)
    return [d for d in parse_month(month) if d.weekday() < 5 and d not in skip]


def iso_week(d: dt.date) -> str:
    """The ISO week of a date as YYYY-Www."""
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}"


def month_weeks(month: str, *, rules: PatrolRules) -> list[str]:
    """The ISO weeks of the month that hold at least one working day (holidays of the rules excluded), sorted."""
    return sorted({iso_week(d) for d in working_days(month, holidays=rules.holidays)})


def days_in_week(days: Iterable[dt.date], week: str) -> list[dt.date]:
    """The dates of ``days`` that fall in the ISO week ``week``, in their order."""
    return [d for d in days if iso_week(d) == week]


def office_days_required(month: str, week: str, available: int, *, rules: PatrolRules) -> int:
    """R8 office days an officer owes in one ISO week of the month (proportional in weeks cut by the month)."""
    weekdays = sum(1 for d in parse_month(month) if d.weekday() < 5 and iso_week(d) == week)
    return min(available, math.ceil(rules.office_days_per_week * weekdays / 5 - 1e-9))


def check_working_day(officer: str, date: str, d: dt.date, *, rules: PatrolRules) -> list[Violation]:
    """C1 on one officer-day of a schedule: no work on a weekend day or holiday (reported under R8, whose
    office and visit weeks are made of working days)."""
    if d.weekday() >= 5 or d in set(rules.holidays):
        return [
            Violation(
                "R8",
                officer,
                f"{officer} works on {date}, a weekend day or holiday",
                f"{officer} 在 {date} (周末或节假日) 有安排",
                kind="officer",
            )
        ]
    return []
