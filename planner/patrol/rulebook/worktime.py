"""C3, the working day: the shift, the driving limit, overtime and the night trip's limits.

An officer's whole day, night visit and its travel included, stays within the shift: a night-visit day is a
*late shift* that ends with the drive back from the night visit (e.g. 13:00-21:00 for a visit in the office
village), so the day's work before the trip, the trip and the visit together stay within ``shift_hours`` plus
``night_overtime_hours`` (0 unless the bureau pays overtime for night visits; at most :data:`OVERTIME_HOURS`).
On such a day an office day keeps office hours from the late shift's start until the trip leaves, at least half
a shift. The day's driving, every leg of the day and of the night trip, stays within ``max_drive_hours``. Times
are planned in whole minutes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from planner.model import Violation
from planner.rules import WEEKDAYS, PatrolRules

OVERTIME_HOURS = (
    3.0  # Labour Law of the PRC, art. 41: overtime at most 3 hours a day (night_overtime_hours' cap)
)

NO_ROAD = 10**6  # minutes standing for "no road" (and for a visit that never fits a day)

TOLERANCE = 1  # minutes: a re-checked schedule is in whole minutes, so one minute of rounding is allowed


def minute_of_day(t: dt.time) -> int:
    """Minutes since midnight of a clock time."""
    return t.hour * 60 + t.minute


def hhmm(minute_of_day: int) -> str:
    """A minute of the day as HH:MM."""
    return f"{minute_of_day // 60:02d}:{minute_of_day % 60:02d}"


def to_minutes(x: object) -> int:
    """Minutes since midnight of an HH:MM (or HH:MM:SS) text."""
    h, m = str(x).strip().split(":")[:2]
    return int(h) * 60 + int(m)


@dataclass(frozen=True)
class WorkTime:
    """The working-day limits of the rules in force, in whole minutes.

    Attributes
    ----------
    shift, drive
        The shift's length and the day's driving limit.
    start
        The shift's start (minute of the day).
    limit
        The longest night-visit day: shift plus the rules' ``night_overtime_hours``.
    night_start, night_len
        The night window's start (minute of the day) and length (R7).
    night_days
        The weekdays (0 = Monday) of the night visits (R7).
    """

    shift: int
    drive: int
    start: int
    limit: int
    night_start: int
    night_len: int
    night_days: frozenset[int]

    @classmethod
    def of(cls, rules: PatrolRules) -> WorkTime:
        """The limits of ``rules``."""
        night_start = minute_of_day(rules.night_window[0])
        return cls(
            shift=round(rules.shift_hours * 60),
            drive=round(rules.max_drive_hours * 60),
            start=minute_of_day(rules.shift_start),
            limit=round((rules.shift_hours + rules.night_overtime_hours) * 60),
            night_start=night_start,
            night_len=minute_of_day(rules.night_window[1]) - night_start,
            night_days=frozenset(WEEKDAYS.index(d) for d in rules.night_days),
        )

    def night_trip_fits(self, trip: int) -> bool:
        """Whether a night trip of ``trip`` minutes' driving (there and back) is allowed at all."""
        return not (trip > self.drive or trip + self.night_len > self.limit)

    def room_before_night(self, go: int, trip: int) -> int:
        """Minutes of day work that leave room for a night trip (``go`` minutes out, ``trip`` there and back):
        the late shift ends with the drive back and lasts at most :attr:`limit`, and it starts no earlier than
        the shift's start."""
        return min(self.limit - trip - self.night_len, self.night_start - go - self.start)

    def late_start(self, go: int, back: int) -> int:
        """The start (minute of the day) of the late shift of a night-visit day (``go`` out, ``back`` home)."""
        return max(self.start, self.night_start + self.night_len + back - self.limit)

    def office_fits_night(self, room: int) -> bool:
        """Whether an office day can precede a night trip that leaves ``room`` minutes of day work: office
        hours of at least half a shift."""
        return room >= self.shift // 2


def check_day_work(
    officer: str, date: str, day: Sequence[Any], *, rules: PatrolRules
) -> tuple[int, list[Violation]]:
    """C3 on the day's work of one officer-day (rows with s0, s1, dur, activity; night trip excluded): its span
    within the shift and its driving within the limit. Returns the span (minutes) and the violations."""
    out: list[Violation] = []
    if not day:
        return 0, out
    work = int(max(r.s1 for r in day) - min(r.s0 for r in day))
    if work > rules.shift_hours * 60 + TOLERANCE:
        out.append(
            Violation(
                "shift",
                officer,
                f"{officer} on {date}: the shift lasts {work / 60:.1f} h, more than {rules.shift_hours:g} h",
                f"{officer} 在 {date}: 班次 {work / 60:.1f} 小时, 超过 {rules.shift_hours:g} 小时",
                kind="officer",
            )
        )
    dr = int(sum(r.dur for r in day if r.activity == "travel"))
    if dr > rules.max_drive_hours * 60 + TOLERANCE:
        out.append(
            Violation(
                "drive",
                officer,
                f"{officer} on {date}: {dr / 60:.1f} h of driving, more than {rules.max_drive_hours:g} h",
                f"{officer} 在 {date}: 驾驶 {dr / 60:.1f} 小时, 超过 {rules.max_drive_hours:g} 小时",
                kind="officer",
            )
        )
    return work, out


def check_night_trip(
    officer: str, date: str, day: Sequence[Any], night: Sequence[Any], work: int, *, rules: PatrolRules
) -> list[Violation]:
    """C3 on a night-visit day (``work``: the span of the day's work): the whole day, first row to the drive
    back, within shift + ``night_overtime_hours`` (a late shift); every leg's driving within the limit; the trip
    leaving after the day's work."""
    out: list[Violation] = []
    if not night:
        return out
    ot = rules.night_overtime_hours
    limit = (rules.shift_hours + ot) * 60
    both = [*day, *night]
    dr = int(sum(r.dur for r in both if r.activity == "travel"))
    first, last = int(min(r.s0 for r in both)), int(max(r.s1 for r in both))
    span = last - first
    if dr > rules.max_drive_hours * 60 + TOLERANCE:
        out.append(
            Violation(
                "drive",
                officer,
                f"{officer} on {date}: {dr / 60:.1f} h of driving with the night trip, more than "
                f"{rules.max_drive_hours:g} h",
                f"{officer} 在 {date}: 含夜访驾驶 {dr / 60:.1f} 小时, 超过 {rules.max_drive_hours:g} 小时",
                kind="officer",
            )
        )
    if span > limit + TOLERANCE:
        extra, extra_zh = (f" + {ot:g} h overtime", f" + 加班 {ot:g} 小时") if ot else ("", "")
        out.append(
            Violation(
                "shift",
                officer,
                f"{officer} on {date}: the night-visit day lasts {span / 60:.1f} h "
                f"({hhmm(first)}-{hhmm(last)}), more than "
                f"{rules.shift_hours:g} h{extra}",
                f"{officer} 在 {date}: 夜访日工作 {span / 60:.1f} 小时 "
                f"({hhmm(first)}-{hhmm(last)}), 超过 {rules.shift_hours:g} 小时{extra_zh}",
                kind="officer",
            )
        )
    if day and max(r.s1 for r in day) > min(r.s0 for r in night):
        out.append(
            Violation(
                "shift",
                officer,
                f"{officer} on {date}: the night trip starts before the day's work ends",
                f"{officer} 在 {date}: 夜访在白天工作结束前出发",
                kind="officer",
            )
        )
    return out
