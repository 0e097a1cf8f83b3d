"""C4, shared capacity: the officers of an office share its villages, a neighbouring office helps when the rules
allow it, and `planner check` flags a working day under half a shift beside a visit the office misses."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import planner.settings
from planner.model import TravelTimes
from planner.patrol import plan_month
from planner.patrol.rulebook.calendar import working_days
from tests.test_month import CLUSTER, MONTH, RULES, _district


def _two_officers_one_away() -> tuple[pd.DataFrame, TravelTimes, pd.DataFrame]:
    """Four villages, two officers; B is on leave for the first three weeks, so whatever village is linked to
    him misses its weekly visits there, while A has days to spare."""
    a, times = _district(CLUSTER[:4], officers=2)
    away = working_days(MONTH, rules=RULES)[:15]
    roster = pd.DataFrame(
        {
            "officer_id": ["A", "B"],
            "office": ["O1", "O1"],
            "kind": ["linked", "linked"],
            "village_id": [None, None],
            "unavailable": [[], away],
        }
    )
    return a, times, roster


def test_without_sharing_the_check_flags_an_idle_day_beside_a_drop(monkeypatch):
    """With the re-link switched off, the linked-once plan drops visits while A has short days: the check's
    soft C4 names A."""
    monkeypatch.setattr(planner.settings, "RELINK_ROUNDS", 0)
    a, times, roster = _two_officers_one_away()
    plan = plan_month(a, times, rules=RULES, month=MONTH, roster=roster, seed=0, time_limit=5)
    assert plan.dropped_visits
    c4 = [v for v in plan.violations if v.rule == "C4"]
    assert c4 and all(not v.hard for v in c4)
    assert {v.subject for v in c4} == {"A"}
    assert "4 h" in c4[0].detail and "不足" in c4[0].detail_zh


def test_sharing_moves_the_village_to_the_colleague_with_slack():
    """The office shares its villages: the village of the officer on leave moves to A and nothing is dropped."""
    a, times, roster = _two_officers_one_away()
    plan = plan_month(a, times, rules=RULES, month=MONTH, roster=roster, seed=0, time_limit=5)
    assert plan.dropped_visits == []
    assert not [v for v in plan.violations if v.rule == "C4"]
    assert dict(plan.links) == {"V1": "A", "V2": "A", "V3": "A", "V4": "A"}
    again = plan_month(a, times, rules=RULES, month=MONTH, roster=roster, seed=0, time_limit=5)
    pd.testing.assert_frame_equal(plan.schedule, again.schedule)


def _two_offices() -> tuple[pd.DataFrame, TravelTimes]:
    """Office O1: the eight villages of CLUSTER and one officer (too few: second full days are missed); office
    O2, 5 km away, two villages and one officer with days to spare."""
    pts = [*CLUSTER, (5, 0), (6, 1)]
    ids = [f"V{i + 1}" for i in range(8)] + ["W1", "W2"]
    xy = np.asarray(pts, dtype=float)
    km = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    times = TravelTimes(pd.Index(ids), pd.Index(ids), km / 30.0 * 3600.0)
    a = pd.DataFrame(
        {
            "district_id": ["D1"] * 8 + ["D2"] * 2,
            "office_id": ["O1"] * 8 + ["O2"] * 2,
            "office_village_id": ["V1"] * 8 + ["W1"] * 2,
            "officers": 1,
            "population": 1500,
            "access": "road",
        },
        index=pd.Index(ids, name="village_id"),
    )
    return a, times


@pytest.mark.parametrize("aid", [False, True])
def test_mutual_aid_only_when_the_rules_allow_it(aid):
    """With mutual_aid the officer of the neighbouring office takes a village of the short office, fewer visits
    are dropped, and his rows say whom he helps; without it nobody crosses."""
    a, times = _two_offices()
    rules = dataclasses.replace(RULES, mutual_aid=aid)
    plan = plan_month(a, times, rules=rules, month=MONTH, seed=0, time_limit=10)
    base = plan_month(a, times, rules=RULES, month=MONTH, seed=0, time_limit=10)
    s = plan.schedule
    helped = s[s["note"] != ""]
    if not aid:
        assert plan.mutual_aid == () and helped.empty
        assert all(v.startswith("V") == o.startswith("O1") for v, o in plan.links.items())
        return
    assert plan.mutual_aid, "the short office got no help"
    e = plan.mutual_aid[0]
    assert e["office_id"] == "O1" and e["helper_office"] == "O2"
    assert plan.links[e["village_id"]] == e["officer_id"] and e["officer_id"].startswith("O2")
    assert set(helped["officer_id"]) == {e["officer_id"]}
    assert (helped["note"].str.contains("O1")).all()
    assert plan.visit_requirements_met_pct > base.visit_requirements_met_pct
    assert len(plan.dropped_visits) < len(base.dropped_visits)


def test_workload_spread_is_the_officers_hours_and_the_report_shows_it():
    """summary()'s workload is each office's least, mean and most scheduled hours across its officers, read
    from the schedule; the report's workload section shows them, with the shortfall's officer-hours."""
    from planner.outputs.report import report_html
    from tests.plan_fixture import make_plan

    a, times, roster = _two_officers_one_away()
    plan = plan_month(a, times, rules=RULES, month=MONTH, roster=roster, seed=0, time_limit=5)
    (w,) = plan.summary()["workload"]
    hours = plan.schedule.groupby("officer_id")["minutes"].sum() / 60
    assert w["office_id"] == "O1" and w["officers"] == 2
    assert w["hours_min"] == round(hours.min(), 1) and w["hours_max"] == round(hours.max(), 1)
    assert w["hours_min"] <= w["hours_mean"] <= w["hours_max"]
    assert w["officer_min"] == "B"  # on leave three weeks
    # available: each officer's working days (B's leave taken off) x shift hours; spare: available - worked
    days = {
        str(r.officer_id): len(working_days(MONTH, rules=RULES, unavailable=r.unavailable))
        for r in roster.itertuples()
    }
    avail = sum(days.values()) * RULES.shift_hours
    assert days["B"] < days["A"] and w["hours_available"] == round(avail, 1)
    assert w["hours_spare"] == round(avail - hours.sum(), 1)
    shown = make_plan()
    shown.summary["workload"] = [w]
    shown.summary["shortfall"] = [
        {
            "office_id": "O1",
            "detail": "office O1 needs 26 officer-days (208 officer-hours)",
            "detail_zh": "缺 24 警员小时",
        }
    ]
    for lang in ("zh", "en"):
        page = report_html(shown, lang=lang)
        section = page.split("<section id='workload'>")[1].split("</section>")[0]
        assert str(w["hours_max"]) in section and "(B)" in section
        assert ("缺 24 警员小时" if lang == "zh" else "208 officer-hours") in section
