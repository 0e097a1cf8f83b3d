"""C1/C2, the month's calendar: the official PRC calendar, the bureau's own days, the weeks of the month, and the
planner and ``check_schedule`` agreeing on each calendar case (a plan of a small easy district per month)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from planner.model import TravelTimes
from planner.patrol import check_schedule, plan_month
from planner.patrol.rulebook.calendar import (
    check_working_day,
    describe,
    month_calendar,
    month_weeks,
    working_days,
)
from planner.rules import CalendarRules, PatrolRules

NONE = CalendarRules(country="")


def _easy() -> tuple[pd.DataFrame, TravelTimes]:
    """Five villages within 10 km of the office (V1), two officers, straight-line travel at 30 km/h."""
    xy = np.asarray([(0, 0), (8, 0), (0, 9), (-7, -5), (6, -8)], dtype=float)
    ids = [f"V{i + 1}" for i in range(len(xy))]
    km = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    times = TravelTimes(pd.Index(ids), pd.Index(ids), km / 30.0 * 3600.0)
    a = pd.DataFrame(
        {
            "district_id": "D1",
            "office_id": "O1",
            "office_village_id": "V1",
            "officers": 2,
            "population": 1500,
            "access": "road",
        },
        index=pd.Index(ids, name="village_id"),
    )
    return a, times


def test_spring_festival_and_tiaoxiu_saturdays_2026_02():
    """C1: in February 2026 Spring Festival (16-20 and the 23rd) is off, the 调休 Saturdays 14 and 28 are worked."""
    cal = month_calendar("2026-02", PatrolRules())
    assert not {dt.date(2026, 2, d) for d in (16, 17, 18, 19, 20, 23)} & set(cal.working)
    assert {dt.date(2026, 2, 14), dt.date(2026, 2, 28)} <= set(cal.working)
    assert cal.weekend_work == frozenset({dt.date(2026, 2, 14), dt.date(2026, 2, 28)})
    assert len(cal.working) == 16
    assert [name for name, _ in cal.weeks] == ["2026-W06", "2026-W07", "2026-W09"]  # W08 is all holiday


def test_tiaoxiu_off_and_no_country():
    """C1: weekend_workdays = false leaves the 调休 Saturdays off; country = "" plans Monday to Friday."""
    off = month_calendar("2026-02", PatrolRules(calendar=CalendarRules(weekend_workdays=False)))
    assert dt.date(2026, 2, 14) not in off.working and len(off.working) == 14
    plain = month_calendar("2026-02", PatrolRules(calendar=NONE))
    assert len(plain.working) == 20 and not plain.days_off


def test_bureau_extra_holiday_and_workday():
    """C1: the bureau's extra holiday is off (with [patrol] holidays still adding to it); its extra workday (a
    Saturday) is worked."""
    cr = CalendarRules(extra_holidays=(dt.date(2026, 12, 25),), extra_workdays=(dt.date(2026, 12, 19),))
    rules = PatrolRules(holidays=(dt.date(2026, 12, 31),), calendar=cr)
    days = working_days("2026-12", rules=rules)
    assert dt.date(2026, 12, 25) not in days and dt.date(2026, 12, 31) not in days
    assert dt.date(2026, 12, 19) in days
    found = check_working_day("O1-1", "2026-12-25", dt.date(2026, 12, 25), rules=rules, month="2026-12")
    assert found and "bureau holiday" in found[0].detail


def test_new_year_is_a_holiday_and_short_weeks_join_their_neighbour():
    """C1/C2: 2027-01 starts on a Friday: officially 元旦 (no week 2026-W53); without a calendar the Friday is a
    one-day week that joins the next. 2027-05 ends on a Monday, which joins the week before."""
    assert month_weeks("2027-01", rules=PatrolRules()) == ["2027-W01", "2027-W02", "2027-W03", "2027-W04"]
    assert month_weeks("2027-01", rules=PatrolRules(calendar=NONE))[0] == "2026-W53+2027-W01"
    assert month_weeks("2027-05", rules=PatrolRules())[-1] == "2027-W21+W22"
    assert month_weeks("2026-08", rules=PatrolRules())[-1] == "2026-W35+W36"  # Monday 31 August
    # a month starting on a Sunday (2026-11): the Sunday holds no working day, so no week of its own
    assert month_weeks("2026-11", rules=PatrolRules())[0] == "2026-W45"


def test_min_week_days_is_the_rules_key():
    """C2: with min_week_days = 1 a one-day week stands alone."""
    rules = PatrolRules(calendar=CalendarRules(country="", min_week_days=1))
    assert month_weeks("2027-01", rules=rules)[0] == "2026-W53"


CASES = [
    ("2027-01", NONE),  # starts on a Friday (a one-day week, joined to the next)
    ("2026-05", NONE),  # starts on a Friday
    ("2026-11", CalendarRules()),  # starts on a Sunday
    ("2027-05", CalendarRules()),  # ends on a Monday
    ("2026-02", CalendarRules()),  # Spring Festival and two 调休 Saturdays
    ("2026-12", CalendarRules(extra_holidays=(dt.date(2026, 12, 24),))),  # a bureau's own holiday
]


@pytest.mark.parametrize(("month", "cal"), CASES)
def test_plan_and_check_agree_on_every_calendar_case(month: str, cal: CalendarRules):
    """An easy district meets every rule in each calendar case, works only on working days (a 调休 Saturday
    included), visits each village in every week of the month, and check_schedule finds nothing."""
    a, times = _easy()
    rules = PatrolRules(calendar=cal)
    plan = plan_month(a, times, rules=rules, month=month, seed=0, time_limit=5)
    assert plan.violations == [] and plan.dropped_visits == [], [v.detail for v in plan.violations]
    assert check_schedule(plan.schedule, a, times, rules=rules, month=month, roster=plan.roster) == []
    c = month_calendar(month, rules)
    dates = {dt.date.fromisoformat(d) for d in plan.schedule["date"]}
    assert dates <= set(c.working)
    visits = plan.schedule[plan.schedule["activity"] == "visit"]
    for v in a.index:
        seen = {c.week_of(dt.date.fromisoformat(d)) for d in visits.loc[visits["village_id"] == v, "date"]}
        assert seen >= set(month_weeks(month, rules=rules)), v
    if month == "2026-02":
        assert {dt.date(2026, 2, 14), dt.date(2026, 2, 28)} <= dates  # the 调休 Saturdays are worked


def test_check_flags_work_on_a_holiday():
    """check_schedule names the holiday a hand edit schedules work on."""
    a, times = _easy()
    rules = PatrolRules()
    plan = plan_month(a, times, rules=rules, month="2026-10", seed=0, time_limit=5)
    s = plan.schedule.copy()
    s.loc[s.index[0], "date"] = "2026-10-01"
    found = check_schedule(s, a, times, rules=rules, month="2026-10", roster=plan.roster)
    assert any("2026-10-01" in v.detail and "National Day" in v.detail for v in found)


def test_the_calendar_line_names_the_days_off_and_the_tiaoxiu():
    """2026-10 (National Day, its 调休 Saturday 10-10 known): the C1 line names the holiday in Chinese from the
    `holidays` package, the Saturday worked, and gives no warning."""
    cal = month_calendar("2026-10", PatrolRules()).summary()
    assert cal["official_known"] and cal["weekend_workdays"] == ["2026-10-10"]
    assert cal["working_days"] == len(working_days("2026-10", rules=PatrolRules()))
    zh = describe(cal, "2026-10", "zh")
    assert "国庆节 10月1日–7日" in zh and "调休上班: 10月10日" in zh and "注意" not in zh
    assert "National Day 1–7 Oct" in describe(cal, "2026-10", "en")


def test_a_year_without_the_official_arrangement_is_flagged():
    """A year whose State Council arrangement the `holidays` package lacks (no weekend workday known) is
    flagged, with the rules keys that fill it in; a bureau's own extra workday, or no country, clears it."""
    year = next(y for y in range(2026, 2040) if not month_calendar(f"{y}-10", PatrolRules()).weekend_work)
    rules = PatrolRules()
    assert not month_calendar(f"{year}-02", rules).official_known
    assert "extra_workdays" in describe(month_calendar(f"{year}-02", rules).summary(), f"{year}-02", "zh")
    assert month_calendar(f"{year}-02", PatrolRules(calendar=CalendarRules(country=""))).official_known
    own = PatrolRules(calendar=CalendarRules(extra_workdays=(dt.date(year, 2, 6),)))
    assert month_calendar(f"{year}-02", own).official_known


def test_the_weeks_r8_counts_are_shown_with_the_short_weeks_joined():
    """2026-12 ends on a Thursday: 28-31 Dec (4 working days) is a week of its own; 2027-01 starts on a Friday
    whose week (New Year's Day off: no working day) is not one, and 2027-02's Spring Festival week leaves too
    few working days, so that week joins its neighbour. summary.json's calendar lists the weeks; the report's
    C2 line names them, saying which are joined."""
    from planner.patrol.rulebook.calendar import describe_weeks

    rules = PatrolRules()
    for month in ("2026-12", "2027-01", "2027-02"):
        cal = month_calendar(month, rules)
        weeks = cal.summary()["weeks"]
        assert [w["week"] for w in weeks] == [name for name, _ in cal.weeks]
        assert sum(w["working_days"] for w in weeks) == len(cal.working)
        for w, (_name, ds) in zip(weeks, cal.weeks, strict=True):
            assert (w["first"], w["last"]) == (ds[0].isoformat(), ds[-1].isoformat())
    feb = month_calendar("2027-02", rules)
    joined = [name for name, _ in feb.weeks if "+" in name]
    assert joined  # the Spring Festival week is short
    zh, en = describe_weeks(feb.summary(), "zh"), describe_weeks(feb.summary(), "en")
    assert zh.count("短周并入") == len(joined) and en.count("a short week joined") == len(joined)
    first = feb.weeks[0][1]
    assert (
        f"{first[0].month}月{first[0].day}日–{first[-1].month}月{first[-1].day}日 ({len(first)} 个工作日"
        in zh
    )
    assert describe_weeks({}, "zh") == ""
