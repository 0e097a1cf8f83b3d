"""The monthly patrol plan (planner.patrol) on small hand-made districts with direct travel times."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from planner.model import TravelTimes
from planner.patrol import check_schedule, plan_month
from planner.patrol.rulebook.calendar import iso_week
from planner.rules import PatrolRules

MONTH = "2026-10"
HOLIDAYS = (dt.date(2026, 10, 1), dt.date(2026, 10, 2), dt.date(2026, 10, 5))  # National Day


def _district(
    xy_km: list[tuple[float, float]], *, officers: int, kmh: float = 30.0, access: list[str] | None = None
) -> tuple[pd.DataFrame, TravelTimes]:
    """Villages V1..Vn at the given points (km); the office is in V1; straight-line travel at ``kmh``."""
    ids = [f"V{i + 1}" for i in range(len(xy_km))]
    xy = np.asarray(xy_km, dtype=float)
    km = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    seconds = km / kmh * 3600.0
    times = TravelTimes(pd.Index(ids), pd.Index(ids), seconds)
    a = pd.DataFrame(
        {
            "district_id": "D1",
            "office_id": "O1",
            "office_village_id": "V1",
            "officers": officers,
            "population": 1500,
            "access": access or ["road"] * len(ids),
        },
        index=pd.Index(ids, name="village_id"),
    )
    return a, times


EASY = [(0, 0), (8, 0), (0, 9), (-7, -5), (6, -8)]
RULES = PatrolRules(holidays=HOLIDAYS)


@pytest.fixture(scope="module")
def easy():
    a, times = _district(EASY, officers=2)
    return a, times, plan_month(a, times, rules=RULES, month=MONTH, seed=1, time_limit=10)


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def _day_rows(s: pd.DataFrame) -> pd.DataFrame:
    # night trips leave the office after 17:00 at the earliest (the window opens at 20:00); day work starts 08:30
    return s[[_minutes(x) < 17 * 60 for x in s["start"]]]


def test_every_requirement_met_when_feasible(easy):
    """An easy district: nothing dropped, no violation, every village gets its R6 time and R7 night, every
    village but the resident officer's own its R5 days, and the resident his R4 days in his village."""
    a, _, plan = easy
    assert plan.dropped_visits == []
    assert plan.violations == []
    assert plan.visit_requirements_met_pct == 100.0
    s = plan.schedule
    visits = s[s["activity"] == "visit"]
    resident = plan.roster[plan.roster["kind"] == "resident"].iloc[0]
    own = str(resident["village_id"])
    for v in a.index:
        per_day = visits[visits["village_id"] == v].groupby(["officer_id", "date"])["minutes"].sum()
        if v == own:  # R4 governs it, not R5 (docs/DOMAIN.md): his days there, office days included
            mine = s[(s["officer_id"] == resident["officer_id"]) & (s["village_id"] == v)]
            days = set(mine.loc[mine["activity"] == "office", "date"]) | {
                d
                for (o, d), m in per_day.items()
                if o == resident["officer_id"] and m >= RULES.visit_hours * 60
            }
            assert len(days) >= RULES.resident_days_per_month, v
        else:
            assert (per_day >= RULES.visit_hours * 60).sum() >= RULES.visit_days_per_village, v
        assert per_day.sum() >= RULES.households_per_month * RULES.household_minutes, v
        assert ((s["activity"] == "night_visit") & (s["village_id"] == v)).sum() >= 1, v
    assert plan.shortfall == []
    assert plan.offices_not_proven == ()  # a small district's day assignment is proven best


def test_night_visits_only_on_night_days_inside_window(easy):
    """Night visits fall on Mon/Wed/Fri, 20:00-21:00, reached by a trip from the office and back."""
    _, _, plan = easy
    s = plan.schedule
    nights = s[s["activity"] == "night_visit"]
    assert len(nights) >= 5
    for _, r in nights.iterrows():
        assert dt.date.fromisoformat(r["date"]).weekday() in (0, 2, 4)
        assert r["start"] >= "20:00" and r["end"] <= "21:00"


def test_weekly_visit_in_every_iso_week_with_working_days(easy):
    """R8: every village is visited in each ISO week of the month that has working days."""
    a, _, plan = easy
    days = [dt.date(2026, 10, d) for d in range(1, 32)]
    weeks = {iso_week(d) for d in days if d.weekday() < 5 and d not in HOLIDAYS}
    visits = plan.schedule[plan.schedule["activity"] == "visit"]
    for v in a.index:
        seen = {iso_week(dt.date.fromisoformat(d)) for d in visits.loc[visits["village_id"] == v, "date"]}
        assert weeks <= seen, (v, weeks - seen)


def test_shift_and_driving_within_limits(easy):
    """Each officer-day's shift and driving stay within the rules; legs add up to the travel rows."""
    _, _, plan = easy
    day = _day_rows(plan.schedule)
    for (_o, _d), g in day.groupby(["officer_id", "date"]):
        span = max(map(_minutes, g["end"])) - min(map(_minutes, g["start"]))
        assert span <= RULES.shift_hours * 60
        assert g.loc[g["activity"] == "travel", "minutes"].sum() <= RULES.max_drive_hours * 60
    travel = plan.schedule[plan.schedule["activity"] == "travel"]
    assert plan.legs["minutes"].sum() == travel["minutes"].sum()
    assert (plan.legs["from_id"] != plan.legs["to_id"]).all()


def test_office_days_per_week_rotate(easy):
    """R8: two office days per officer in each full week, and the two officers are not both in the office
    on every office day."""
    _, _, plan = easy
    s = plan.schedule
    off = s[s["activity"] == "office"].copy()
    off["week"] = [iso_week(dt.date.fromisoformat(d)) for d in off["date"]]
    for o in plan.roster["officer_id"]:
        counts = off[off["officer_id"] == o].groupby("week")["date"].nunique()
        for w in ("2026-W42", "2026-W43"):  # full Mon-Fri weeks
            assert counts.get(w, 0) >= 2, (o, w)
    both = off.groupby("date")["officer_id"].nunique()
    assert (both < 2).any()


def test_holidays_and_weekends_skipped(easy):
    """No work on holidays (the bureau's and the official ones, 2026-10-01 to 07) or on weekends but the
    调休 Saturday 2026-10-10, a working day of the official calendar."""
    _, _, plan = easy
    dates = {dt.date.fromisoformat(d) for d in plan.schedule["date"]}
    assert not dates & {dt.date(2026, 10, d) for d in range(1, 8)}
    assert all(d.weekday() < 5 or d == dt.date(2026, 10, 10) for d in dates)


def test_roster_resident_and_unavailable_dates():
    """A given roster is used: the officer's unavailable dates stay free and the resident keeps R4 days at home."""
    a, times = _district(EASY[:4], officers=2)
    away = [dt.date(2026, 10, 13), dt.date(2026, 10, 14)]
    roster = pd.DataFrame(
        {
            "officer_id": ["A", "B"],
            "office": ["O1", "O1"],
            "kind": ["resident", "linked"],
            "village_id": ["V1", None],
            "unavailable": [[], away],
        }
    )
    plan = plan_month(a, times, rules=RULES, month=MONTH, roster=roster, seed=0, time_limit=10)
    s = plan.schedule
    assert set(s["officer_id"]) == {"A", "B"}
    b_dates = set(s.loc[s["officer_id"] == "B", "date"])
    assert not {d.isoformat() for d in away} & b_dates
    home = s[(s["officer_id"] == "A") & (s["village_id"] == "V1") & s["activity"].isin(["office", "visit"])]
    assert home["date"].nunique() >= RULES.resident_days_per_month
    assert plan.links["V1"] == "A"


def test_far_village_is_dropped_with_its_reason():
    """A village 130 km out (4.3 h round trip at 60 km/h > 4 h driving) is reported with the numbers."""
    a, times = _district([(0, 0), (8, 0), (0, 9), (130, 0)], officers=1, kmh=60.0)
    plan = plan_month(a, times, rules=RULES, month=MONTH, seed=0, time_limit=10)
    far = [d for d in plan.dropped_visits if d.village_id == "V4"]
    assert far, plan.dropped_visits
    assert any("round trip to V4 takes 4.3 h" in d.reason and "driving limit" in d.reason for d in far)
    assert all(d.reason_zh for d in far)
    assert "V4" not in set(plan.schedule["village_id"])
    assert plan.visit_requirements_met_pct < 100.0
    assert {v.subject for v in plan.violations} == {"V4"}


def test_unreachable_village_reported():
    """A village without road access is never scheduled and is reported."""
    a, times = _district(EASY[:3], officers=1, access=["road", "road", "unreachable"])
    plan = plan_month(a, times, rules=RULES, month=MONTH, seed=0, time_limit=5)
    assert any(d.village_id == "V3" and "unreachable" in d.reason for d in plan.dropped_visits)
    assert "V3" not in set(plan.schedule["village_id"])


def test_too_few_officers_gives_shortfall():
    """Eight villages for one officer: the office's shortfall says how many officers are missing."""
    pts = [(0, 0), (10, 0), (0, 12), (-8, -6), (15, 10), (5, -14), (-12, 8), (12, -10)]
    a, times = _district(pts, officers=1)
    plan = plan_month(a, times, rules=RULES, month=MONTH, seed=0, time_limit=6)
    assert plan.shortfall and plan.shortfall[0]["more_officers"] >= 1
    sf = plan.shortfall[0]
    assert sf["needed_days"] > sf["available_days"]
    assert plan.dropped_visits


def test_same_seed_same_plan(easy):
    """The plan is reproducible for a seed."""
    a, times, plan = easy
    again = plan_month(a, times, rules=RULES, month=MONTH, seed=1, time_limit=10)
    pd.testing.assert_frame_equal(plan.schedule, again.schedule)
    pd.testing.assert_frame_equal(plan.legs, again.legs)


def test_check_schedule_catches_hand_edits(easy):
    """check_schedule finds a night visit moved to Tuesday, a stretched shift, a lost weekly visit and a lost
    office day; the untouched plan passes."""
    a, times, plan = easy
    s = plan.schedule.copy()
    assert check_schedule(s, a, times, rules=RULES, month=MONTH, roster=plan.roster) == []
    night = s.index[s["activity"] == "night_visit"][0]
    s.loc[night, "date"] = "2026-10-20"  # a Tuesday
    visit = s.index[(s["activity"] == "visit") & (s["minutes"] >= 240)][0]
    s.loc[visit, "end"] = "23:00"
    s.loc[visit, "minutes"] = _minutes("23:00") - _minutes(s.loc[visit, "start"])
    v3_w43 = s.index[
        (s["village_id"] == "V3") & (s["activity"] == "visit") & s["date"].between("2026-10-19", "2026-10-23")
    ]
    s = s.drop(v3_w43)
    o1 = plan.roster["officer_id"].iloc[0]
    office = s.index[
        (s["activity"] == "office") & (s["officer_id"] == o1) & s["date"].between("2026-10-12", "2026-10-16")
    ]
    s.loc[office, "activity"] = "visit"
    found = check_schedule(s, a, times, rules=RULES, month=MONTH, roster=plan.roster)
    rules_hit = {(v.rule, v.subject) for v in found}
    assert ("R7", s.loc[night, "officer_id"]) in rules_hit
    assert ("shift", s.loc[visit, "officer_id"]) in rules_hit
    assert ("R8", "V3") in rules_hit
    assert ("R8", o1) in rules_hit
    assert all(v.detail and v.detail_zh for v in found)


def test_roster_all_on_leave_drops_every_visit_with_the_reason():
    """Issue 12: every officer on leave the whole month gives a plan with every visit dropped and the reason
    stated (it used to end in KeyError: 'officer_id')."""
    a, times = _district(EASY[:3], officers=1)
    month = [dt.date(2026, 10, d) for d in range(1, 32)]
    roster = pd.DataFrame({"officer_id": ["A"], "office": ["O1"], "kind": ["linked"], "unavailable": [month]})
    plan = plan_month(a, times, rules=RULES, month=MONTH, roster=roster, seed=0, time_limit=2)
    assert plan.schedule.empty and plan.legs.empty
    assert {d.village_id for d in plan.dropped_visits} == set(a.index)
    assert all("no working day in 2026-10" in d.reason and d.reason_zh for d in plan.dropped_visits)
    assert plan.visit_requirements_met_pct == 0.0
    assert {v.subject for v in plan.violations if v.rule == "R8"} == set(a.index)


def test_month_of_holidays_drops_every_visit_with_the_reason():
    """Issue 12: a month whose every working day is a holiday gives a plan with every visit dropped and the
    reason stated, not a crash."""
    a, times = _district(EASY[:3], officers=1)
    rules = PatrolRules(holidays=tuple(dt.date(2026, 10, d) for d in range(1, 32)))
    plan = plan_month(a, times, rules=rules, month=MONTH, seed=0, time_limit=2)
    assert plan.schedule.empty
    assert {d.village_id for d in plan.dropped_visits} == set(a.index)
    assert all("(leave or holidays)" in d.reason for d in plan.dropped_visits)
    assert (
        check_schedule(plan.schedule, a, times, rules=rules, month=MONTH, roster=plan.roster)
        == plan.violations
    )


# Eight villages within 4 km of the office (round trips under 20 min at 30 km/h) and one officer. October 2026
# in the official calendar (National Day 1-7, the 调休 Saturday 10 worked) has 18 working days (W41: 8-10, 3 days;
# W42-W44: 5 each; W40 is all holiday), of which R8 makes round(2 * 3 / 5) + 2 + 2 + 2 = 7 office days, so 11
# field days. A 4 h visit day (240 min) leaves 240 min of the 8 h
# shift, so one full visit fits a day beside three 60 min weekly visits (4 villages a day, tour < 60 min), and
# two full visits never do. The officer is the resident officer of the office village V1, which owes R4's 8 days
# (his 7 office days there and one full visit day) and no R5 days (docs/DOMAIN.md); V2-V8 owe 2 full days each.
# The best plan visits every village every week, gives V1 its R4 day and every other village its first full day,
# and misses 14 - (11 - 1) = 4 second full days.
CLUSTER = [(0, 0), (3, 0), (0, 3), (-3, 0), (0, -3), (2.5, 2.5), (-2.5, 2.5), (2.5, -2.5)]


@pytest.fixture(scope="module")
def short_staffed():
    a, times = _district(CLUSTER, officers=1)
    return a, times, plan_month(a, times, rules=RULES, month=MONTH, seed=0, time_limit=5)


def test_short_officer_uses_every_field_day(short_staffed):
    """Regression: the solver once returned its all-office starting plan ("0 field days after 19 office days")
    when its budget ran out. The officer must keep only the R8 office days and work every other day in the field,
    each field day carrying a full visit day."""
    _, _, plan = short_staffed
    s = plan.schedule
    office_days = s.loc[s["activity"] == "office", "date"].nunique()
    field = s.loc[s["activity"] == "visit"]
    assert office_days == 7
    assert field["date"].nunique() == 11
    full_days = field[field["minutes"] >= RULES.visit_hours * 60].groupby("date").size()
    assert len(full_days) == 11 and (full_days == 1).all()


def test_short_officer_keeps_weekly_visits_and_first_full_day(short_staffed):
    """When officers are short, the weekly visits (R8) and each village's first full day come before second full
    days: only four R5 shortfalls, each explained, and the office's shortfall asks for one more officer."""
    a, _, plan = short_staffed
    rules_hit = [(v.rule, v.subject) for v in plan.violations]
    assert [r for r, _ in rules_hit].count("R5") == 4, rules_hit
    assert "V1" not in {subj for r, subj in rules_hit if r == "R5"}  # R4 governs the resident's own village
    assert {r for r, _ in rules_hit} == {"R5"}, rules_hit
    visits = plan.schedule[plan.schedule["activity"] == "visit"]
    for v in a.index:
        mins = visits[visits["village_id"] == v].groupby("date")["minutes"].sum()
        assert (mins >= RULES.visit_hours * 60).sum() >= 1, v
    explained = {d.village_id for d in plan.dropped_visits if "visit days missed" in d.reason}
    assert explained == {subj for r, subj in rules_hit if r == "R5"}
    assert plan.shortfall and plan.shortfall[0]["more_officers"] == 1


def test_night_visit_day_is_a_late_shift_within_the_shift(easy):
    """C3: every officer-day with a night visit, from its first row to the drive back, lasts at most the 8 h
    shift (a late shift ending with the night visit, e.g. 13:00-21:00), and its driving, every leg, stays within
    the limit; check_schedule agrees."""
    a, times, plan = easy
    s = plan.schedule
    night_days = s.loc[s["activity"] == "night_visit", ["officer_id", "date"]].drop_duplicates()
    assert len(night_days) >= 5
    for o, d in night_days.itertuples(index=False):
        g = s[(s["officer_id"] == o) & (s["date"] == d)]
        span = max(map(_minutes, g["end"])) - min(map(_minutes, g["start"]))
        assert span <= RULES.shift_hours * 60, (o, d, span)
        assert g.loc[g["activity"] == "travel", "minutes"].sum() <= RULES.max_drive_hours * 60
        assert min(g["start"]) >= "12:00"  # the day starts late, not at 08:30
    assert check_schedule(s, a, times, rules=RULES, month=MONTH, roster=plan.roster) == []


def test_check_flags_a_day_shift_plus_a_night_trip(easy):
    """C3: a night-visit day started two hours earlier than its late shift breaks the 8 h shift, unless the
    bureau pays up to 3 h of overtime for night visits (night_overtime_hours)."""
    a, times, plan = easy
    s = plan.schedule.copy()
    o, d = s.loc[s["activity"] == "night_visit", ["officer_id", "date"]].iloc[0]
    first = s[(s["officer_id"] == o) & (s["date"] == d)].index[0]
    m = _minutes(s.loc[first, "start"]) - 120
    s.loc[first, "start"] = f"{m // 60:02d}:{m % 60:02d}"
    found = check_schedule(s, a, times, rules=RULES, month=MONTH, roster=plan.roster)
    assert any(v.rule == "shift" and "night-visit day" in v.detail for v in found)
    paid = PatrolRules(holidays=HOLIDAYS, night_overtime_hours=3)
    found = check_schedule(s, a, times, rules=paid, month=MONTH, roster=plan.roster)
    assert not any(v.rule == "shift" and "night-visit day" in v.detail for v in found)


def test_far_night_visit_follows_office_hours_that_do_not_count_as_an_office_day():
    """A village 100 min out (a 200-minute night trip) whose trip fits no field day (every other village 25 min
    out, the driving limit passed) and leaves under half a shift of office hours before it: the night visit is
    made after short office hours (a whole late shift), and R8's office days are still met without that day."""
    a, times = _district([(0, 0), (25, 0), (0, 25), (100, 0)], officers=1, kmh=60.0)
    plan = plan_month(a, times, rules=RULES, month=MONTH, seed=0, time_limit=10)
    s = plan.schedule
    night = s[(s["activity"] == "night_visit") & (s["village_id"] == "V4")]
    assert len(night) == 1, plan.dropped_visits
    assert not [v for v in plan.violations if v.hard], plan.violations
    day = s[(s["officer_id"] == night["officer_id"].iloc[0]) & (s["date"] == night["date"].iloc[0])]
    office = day[day["activity"] == "office"]
    # the trip may follow office hours too short to count as an R8 office day, or stand alone as a late shift
    assert len(office) <= 1 and (office["minutes"] < 240).all()
    span = _minutes(day["end"].max()) - _minutes(day["start"].min())
    assert span <= 8 * 60
    assert not [
        v for v in check_schedule(s, a, times, rules=RULES, month=MONTH, roster=plan.roster) if v.hard
    ]


def test_short_officer_reasons_say_a_visit_of_hours_and_which_days_are_missed(short_staffed):
    """A missed R5 day's reason names what fits in a shift as visits of R5's hours (not "full visit days", a
    4-hour visit is no day), and what is missed as "1 of 2 visit days" (zh "2 个走访日中缺 1 个", not "缺 1/2",
    which reads as half a day)."""
    _, _, plan = short_staffed
    r5 = [d for d in plan.dropped_visits if "visit days missed" in d.reason]
    assert r5
    h = f"{RULES.visit_hours:g}"
    for d in r5:
        assert f"visit(s) of {h} h fit in each" in d.reason and "full visit day" not in d.reason
        assert f"次 {h} 小时走访" in d.reason_zh and "整日" not in d.reason_zh
        assert "/" not in d.reason_zh and "个走访日中缺 1 个" in d.reason_zh
