"""C1/C2, the month's calendar: its dates, working days, weeks and the office days owed in a week.

C1: no field work, office day or night visit on a day off. The working days are Monday to Friday plus the
weekend days the State Council declares working days (调休, ``[calendar] weekend_workdays``), minus the
statutory holidays; both lists come from the `holidays` package (``[calendar] country``, "CN" by default, ""
for none), never from a table written here. The bureau adds its own days off (``[calendar] extra_holidays``
and the older ``[patrol] holidays``) and its own working days (``[calendar] extra_workdays``).

C2: the weekly rules (R8) are counted per *week of the month*: the ISO weeks that hold working days inside the
month, where a week with fewer than ``[calendar] min_week_days`` working days joins its neighbour (the previous
week if there is one, else the next). A week is named by its ISO weeks, e.g. ``2027-W21`` or ``2027-W21+W22``.
The office days an officer owes in a week are pro rata to his working days in it,
``round(office_days_per_week * days / 5)`` (halves up), at most his working days.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

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


def iso_week(d: dt.date) -> str:
    """The ISO week of a date as YYYY-Www."""
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}"


@dataclass(frozen=True)
class MonthCalendar:
    """One month under the rules in force (C1/C2).

    Attributes
    ----------
    month
        ``YYYY-MM``.
    days_off
        The month's days off that would otherwise be working days, with their names (holiday or the bureau's).
    weekend_work
        The month's weekend days that are working days (调休 or the bureau's).
    working
        The month's working days, in order.
    weeks
        The weeks of the month (C2): per week its name and its working days.
    official_known
        False when the official calendar is on but the `holidays` package has no State Council arrangement for
        the year (no 调休 weekend workday known): its holidays are then its rule-based estimate, and the bureau
        should add the weekend workdays itself (``[calendar] extra_workdays``) once they are published.
    """

    month: str
    days_off: dict[dt.date, str]
    weekend_work: frozenset[dt.date]
    working: tuple[dt.date, ...]
    weeks: tuple[tuple[str, tuple[dt.date, ...]], ...]
    official_known: bool = True
    names_zh: dict[dt.date, str] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """summary.json's ``calendar``: the figures the report's C1 line and the terminal read."""
        return {
            "working_days": len(self.working),
            "days_off": [
                {"date": d.isoformat(), "name": n, "name_zh": self.names_zh.get(d, n)}
                for d, n in sorted(self.days_off.items())
            ],
            "weekend_workdays": sorted(d.isoformat() for d in self.weekend_work),
            "official_known": self.official_known,
            # C2: the weeks R8 counts, each with its first and last working day (a short week joined in)
            "weeks": [
                {
                    "week": name,
                    "first": ds[0].isoformat(),
                    "last": ds[-1].isoformat(),
                    "working_days": len(ds),
                }
                for name, ds in self.weeks
                if ds
            ],
        }

    def week_of(self, d: dt.date) -> str:
        """The week of the month a date falls in (its ISO week when no week of the month holds that one)."""
        iso = iso_week(d)
        for name, _ in self.weeks:
            if iso in _iso_weeks(name):
                return name
        return iso


def _iso_weeks(name: str) -> list[str]:
    """The ISO weeks a week of the month is made of (``2027-W21+W22`` -> 2027-W21, 2027-W22)."""
    first, *more = name.split("+")
    return [first, *(m if len(m) > 4 else f"{first[:4]}-{m}" for m in more)]


def _week_name(isos: list[str]) -> str:
    name = isos[0]
    for w in isos[1:]:
        name += "+" + (w[5:] if w[:4] == isos[0][:4] else w)
    return name


def _official(country: str, year: int) -> tuple[dict[dt.date, str], set[dt.date]]:
    """The official holidays and weekend working days of one year (the `holidays` package), names in English."""
    if not country:
        return {}, set()
    import holidays

    cal = holidays.country_holidays(country, years=year, language="en_US")
    days = {d: str(n) for d, n in cal.items()}
    return days, {d for d in getattr(cal, "weekend_workdays", set()) if d.year == year}


@lru_cache(maxsize=16)
def _names_zh(country: str, year: int) -> dict[dt.date, str]:
    """The holidays' Chinese names where the `holidays` package has them (China: zh_CN), else none."""
    import holidays

    cal = holidays.country_holidays(country, years=year)
    if "zh_CN" not in getattr(cal, "supported_languages", ()):
        return {}
    return {d: str(n) for d, n in holidays.country_holidays(country, years=year, language="zh_CN").items()}


@lru_cache(maxsize=64)
def month_calendar(month: str, rules: PatrolRules) -> MonthCalendar:
    """The month's calendar under ``rules`` (its ``calendar`` section and ``holidays``)."""
    dates = parse_month(month)
    cr = rules.calendar
    official, weekend = _official(cr.country, dates[0].year)
    known = not cr.country or bool(weekend) or bool(cr.extra_workdays)
    if not cr.weekend_workdays:
        weekend = set()
    extra_off = set(cr.extra_holidays) | set(rules.holidays)
    extra_work = set(cr.extra_workdays)
    days_off: dict[dt.date, str] = {}
    weekend_work: set[dt.date] = set()
    working: list[dt.date] = []
    for d in dates:
        if d in extra_off:
            days_off[d] = "bureau holiday"
            continue
        if d in extra_work:
            if d.weekday() >= 5 or d in official:
                weekend_work.add(d)
            working.append(d)
            continue
        if d in weekend:
            weekend_work.add(d)
            working.append(d)
        elif d in official:
            if d.weekday() < 5:
                days_off[d] = official[d]
        elif d.weekday() < 5:
            working.append(d)
    return MonthCalendar(
        month,
        days_off,
        frozenset(weekend_work),
        tuple(working),
        _weeks(working, cr.min_week_days),
        known,
        _names_zh(cr.country, dates[0].year) if cr.country else {},
    )


def describe(cal: dict[str, Any], month: str, lang: str = "zh", *, brief: bool = False) -> str:
    """The month's calendar in one sentence (C1) from summary.json's ``calendar``: the working days, the days
    off (runs of days as ranges) and the weekend workdays, and a warning when the year's official arrangement
    is not known yet (``brief``: one line for the report's rules table)."""
    from planner.texts import check_lang

    zh = check_lang(lang) == "zh"
    work = [dt.date.fromisoformat(x) for x in cal.get("weekend_workdays", [])]

    def day(d: dt.date) -> str:
        return f"{d.month}月{d.day}日" if zh else f"{d.day} {d.strftime('%b')}"

    def span(a: dt.date, b: dt.date) -> str:
        if a == b:
            return day(a)
        if a.month != b.month:
            return f"{day(a)}–{day(b)}"
        return f"{day(a)}–{b.day}日" if zh else f"{a.day}–{b.day} {b.strftime('%b')}"

    runs: list[tuple[str, dt.date, dt.date]] = []  # (name, first, last) of consecutive days of one name
    for x in cal.get("days_off", []):
        name, d = _holiday_name(x, zh), dt.date.fromisoformat(str(x["date"]))
        # a weekend between counts as a run; a day off in lieu of a worked weekend (调休) joins the holiday it
        # extends
        lieu = name.startswith(("休息日", "Day off"))
        if runs and (runs[-1][0] == name or lieu) and (d - runs[-1][2]).days <= 3:
            runs[-1] = (runs[-1][0], runs[-1][1], d)
        else:
            runs.append((name, d, d))
    parts = [f"{n} {span(a, b)}" for n, a, b in runs]
    n = cal.get("working_days", 0)
    known = cal.get("official_known", True)
    sep = "、" if zh else ", "
    year = month[:4]
    if zh:
        text = f"{month} 共 {n} 个工作日; 放假: {sep.join(parts) or '无'}; 调休上班: {sep.join(map(day, work)) or '无'}"
        if not known and brief:
            return (
                text + f" ({year} 年国务院放假安排尚未收录: 假日为推算; 公布后, 增加的放假日请在 [calendar] "
                "extra_holidays、调休上班日请在 extra_workdays 中补充)"
            )
        if not known:
            text += (
                f"。注意: 所用 holidays 包尚无 {year} 年国务院放假安排, 假日按规则推算、调休上班日未知; "
                "安排公布后请在规则文件 [calendar] extra_workdays / extra_holidays 中补充"
            )
        return text
    text = f"{month}: {n} working days; days off: {sep.join(parts) or 'none'}; weekend working days: "
    text += sep.join(map(day, work)) or "none"
    if not known and brief:
        return text + (
            f" (the State Council's {year} arrangement is not known yet: the days off are an estimate; once "
            "published, add further days off under [calendar] extra_holidays and weekend working days under "
            "extra_workdays)"
        )
    if not known:
        text += (
            f". Note: the holidays package has no State Council arrangement for {year} yet: the holidays are "
            "its estimate and the weekend working days (调休) unknown; add them under [calendar] extra_workdays / "
            "extra_holidays once published"
        )
    return text


def describe_weeks(cal: dict[str, Any], lang: str = "zh") -> str:
    """C2 in one line from summary.json's ``calendar``: the weeks R8 counts, with their working days, and which
    of them are two ISO weeks joined (a short week, e.g. the days around Spring Festival, joins its neighbour).
    Empty for a summary without weeks."""
    from planner.texts import check_lang

    zh = check_lang(lang) == "zh"
    parts = []
    for w in cal.get("weeks", []):
        a, b = dt.date.fromisoformat(str(w["first"])), dt.date.fromisoformat(str(w["last"]))
        if zh:
            when = f"{a.month}月{a.day}日" + ("" if a == b else f"–{b.month}月{b.day}日")
        else:
            when = f"{a.day} {a.strftime('%b')}" + ("" if a == b else f"–{b.day} {b.strftime('%b')}")
        joined = len(_iso_weeks(str(w["week"]))) > 1
        n = int(w["working_days"])
        if zh:
            parts.append(f"{when} ({n} 个工作日{', 短周并入' if joined else ''})")
        else:
            parts.append(
                f"{when} ({n} working day{'s' if n != 1 else ''}{', a short week joined' if joined else ''})"
            )
    if not parts:
        return ""
    if zh:
        return "R8 的每周规则 (每周坐班、每村每周走访) 按以下各周计: " + "、".join(parts)
    return "R8's weekly rules (office days, every village each week) count these weeks: " + "; ".join(parts)


def _holiday_name(x: dict[str, Any], zh: bool) -> str:
    """A day off's name as the bureau says it ("Labor Day (observed)" -> Labor Day; 劳动节 in Chinese)."""
    name = str(x.get("name_zh", x["name"])) if zh else str(x["name"])
    if name == "bureau holiday":
        return "本局假日" if zh else name
    return re.sub(r"\s*[(（](observed|观察日|补假)[)）]|（观察日）", "", name).strip()


def _weeks(working: list[dt.date], min_days: int) -> tuple[tuple[str, tuple[dt.date, ...]], ...]:
    """C2: the ISO weeks of the working days, a week shorter than ``min_days`` joined to its neighbour."""
    iso: dict[str, list[dt.date]] = {}
    for d in working:
        iso.setdefault(iso_week(d), []).append(d)
    groups: list[tuple[list[str], list[dt.date]]] = []
    pending: tuple[list[str], list[dt.date]] | None = None  # short weeks before the first long one
    for w in sorted(iso):
        days = iso[w]
        if len(days) >= min_days:
            names, ds = ([], []) if pending is None else pending
            groups.append(([*names, w], [*ds, *days]))
            pending = None
        elif groups:
            groups[-1][0].append(w)
            groups[-1][1].extend(days)
        else:
            names, ds = ([], []) if pending is None else pending
            pending = ([*names, w], [*ds, *days])
    if pending is not None:  # no week long enough: the short ones make one week
        groups.append(pending)
    return tuple((_week_name(n), tuple(ds)) for n, ds in groups)


def working_days(month: str, *, rules: PatrolRules, unavailable: Iterable[dt.date] = ()) -> list[dt.date]:
    """The month's working days under ``rules`` (C1), minus the officer's unavailable dates."""
    skip = set(unavailable)
    return [d for d in month_calendar(month, rules).working if d not in skip]


def month_weeks(month: str, *, rules: PatrolRules) -> list[str]:
    """The weeks of the month (C2), in order."""
    return [name for name, _ in month_calendar(month, rules).weeks]


def days_in_week(month: str, days: Iterable[dt.date], week: str, *, rules: PatrolRules) -> list[dt.date]:
    """The dates of ``days`` that fall in the week ``week`` of the month, in their order."""
    cal = month_calendar(month, rules)
    return [d for d in days if cal.week_of(d) == week]


def office_days_required(available: int, *, rules: PatrolRules) -> int:
    """R8 office days an officer owes in a week of the month where he works ``available`` days (pro rata)."""
    return min(available, math.floor(rules.office_days_per_week * available / 5 + 0.5))


def check_working_day(
    officer: str, date: str, d: dt.date, *, rules: PatrolRules, month: str
) -> list[Violation]:
    """C1 on one officer-day of a schedule: no work on a day off (reported under R8, whose office and visit
    weeks are made of working days)."""
    cal = month_calendar(month, rules)
    if d.strftime("%Y-%m") != month or d in cal.working:
        return []
    name = cal.days_off.get(d)
    what = f"a holiday ({name})" if name else "a weekend day"
    what_zh = f"节假日 ({name})" if name else "周末"
    return [
        Violation(
            "R8",
            officer,
            f"{officer} works on {date}, {what}",
            f"{officer} 在 {date} ({what_zh}) 有安排",
            kind="officer",
        )
    ]
