"""The patrol rulebook (planner.patrol.rulebook): each rule's label, demand and calendar, on the rules in force."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from planner.patrol.rulebook import labels, r4, r5, r6, r7, r8
from planner.patrol.rulebook.calendar import month_weeks, office_days_required, working_days
from planner.patrol.rulebook.worktime import WorkTime
from planner.rules import PatrolRules
from planner.texts import t


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("rule", ["R4", "R5", "R6", "R7", "R8"])
def test_default_labels_read_as_the_report_texts(rule, lang):
    """With the default rules each rule's label reads exactly as texts.py's rule.R4..rule.R8."""
    assert labels(PatrolRules(), lang)[rule] == t(f"rule.{rule}", lang)


def test_labels_follow_the_rules_in_force():
    """A rules file's values appear in the labels instead of the defaults."""
    rules = PatrolRules(
        visit_days_per_village=3,
        visit_hours=5.5,
        households_per_month=30,
        night_days=("Tue", "Thu"),
        night_window=(dt.time(19, 30), dt.time(21, 0)),
        office_days_per_week=1,
        weekly_visit=False,
        resident_days_per_month=10,
        linked_days_per_month=6,
    )
    assert r5.label(rules, "en") == (
        "each village at least 3 days a month, 5.5 hours a day (a resident officer's own village: R4)"
    )
    assert r5.label(rules, "zh") == "每村每月至少走访3天，每天至少5.5小时（驻村民警所驻的村按 R4 计）"
    assert r6.label(rules, "en") == "at least 30 households per village per month"
    assert r7.label(rules, "zh") == "周二、四晚19:30–21:00夜访"
    assert r7.label(rules, "en") == "night visits Tue/Thu 19:30–21:00"
    assert r8.label(rules, "en") == "office 1 days a week"
    assert r4.label(rules, "zh") == "驻村民警每月在村至少10天，挂村民警至少6天"


def test_visit_day_carries_the_household_visits_beyond_its_hours():
    """R5/R6 demand: 20 households of 30 min over 2 days of 4 h make each full visit day 5 h."""
    rules = PatrolRules(household_minutes=30.0)
    assert r6.household_minutes(rules) == 600.0
    assert r5.visit_day_minutes(rules) == 300
    assert r5.visit_day_minutes(PatrolRules()) == 240
    assert r5.visit_day_minutes(PatrolRules(visit_days_per_village=0)) == 0


def test_weekly_visit_carries_households_without_visit_days():
    """R8 demand: without full visit days the weekly visits carry R6's 300 min, spread over the weeks."""
    rules = PatrolRules(visit_days_per_village=0)
    assert r8.weekly_visit_length(rules, 4) == 75
    assert r8.weekly_visit_length(PatrolRules(), 4) == 60


def test_office_days_pro_rata_to_the_days_worked_in_the_week():
    """C2: office days are round(2 * days / 5), halves up: 4 days owe 2, 3 days 1, 6 days (a week joined by a
    short one) 2, 7 days 3; never more than the officer's days that week."""
    rules = PatrolRules()
    assert [office_days_required(n, rules=rules) for n in (1, 2, 3, 4, 5, 6, 7)] == [0, 1, 1, 2, 2, 2, 3]
    assert office_days_required(1, rules=PatrolRules(office_days_per_week=5)) == 1


def test_holidays_remove_working_days_and_weeks():
    """C1: the National Day holidays leave October 2026's first week without a working day; the bureau's
    holidays of [patrol] holidays add to the official ones."""
    rules = PatrolRules(holidays=(dt.date(2026, 10, 8),))
    assert len(working_days("2026-10", rules=rules)) == 17
    assert "2026-W40" not in month_weeks("2026-10", rules=rules)


def test_worktime_limits_from_the_rules():
    """C3: a night-visit day is a late shift of shift_hours (no overtime by default, night_overtime_hours when
    the bureau pays it); the night trip must fit it and the driving limit."""
    w = WorkTime.of(PatrolRules())
    assert (w.shift, w.drive, w.start, w.limit) == (480, 240, 510, 480)
    assert (w.night_start, w.night_len, sorted(w.night_days)) == (1200, 60, [0, 2, 4])
    assert w.night_trip_fits(240) and not w.night_trip_fits(241)
    # a visit in the office village: 13:00-21:00; 30 min each way: 13:30-21:30, 390 min of work before it
    assert w.late_start(0, 0) == 13 * 60 and w.late_start(30, 30) == 13 * 60 + 30
    assert w.room_before_night(30, 60) == 480 - 60 - 60
    assert w.office_fits_night(w.room_before_night(30, 60)) and not w.office_fits_night(200)
    assert WorkTime.of(PatrolRules(night_overtime_hours=2)).limit == 600


def test_night_check_names_the_weekdays_in_chinese():
    """R7's check in Chinese says 周二 and 周一、三、五, not the rules file's English weekday codes."""
    night = pd.DataFrame(
        [
            {
                "village_id": "V1",
                "activity": "night_visit",
                "s0": 20 * 60,
                "s1": 21 * 60,
                "start": "20:00",
                "end": "21:00",
            }
        ]
    )
    rows = list(night.itertuples(index=False))
    (v,) = r7.check_night_rows("O1", "2026-12-01", dt.date(2026, 12, 1), rows, rules=PatrolRules())
    assert "周二" in v.detail_zh and "周一、三、五" in v.detail_zh
    assert "Tue" in v.detail and "Mon/Wed/Fri" in v.detail
