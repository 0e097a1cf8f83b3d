"""The office stage (planner.offices): where each district's office goes, the plan it completes, R11's words."""

from __future__ import annotations

import numpy as np
from district_fixtures import make_access, make_times, make_villages, rules

from planner.districts import plan_districts
from planner.model import Violation
from planner.offices import choose_office, place_offices, r11_label
from planner.rules import OfficeRules, Rules
from planner.texts import t


def test_office_objectives_choose_different_sites_on_a_line() -> None:
    """On villages 10 min apart with residents at one end: p-median sits with the residents, p-center in the
    middle, maximal covering where most residents are within reach."""
    x = np.arange(5) * 10.0
    minutes = np.abs(x[:, None] - x[None, :])
    members = np.arange(5)
    pop = np.array([1000.0, 1000.0, 10.0, 10.0, 10.0])
    assert choose_office(members, minutes, pop, objective="pmedian", coverage_min=10) in (0, 1)
    assert choose_office(members, minutes, pop, objective="pcenter", coverage_min=10) == 2
    pop2 = np.array([600.0, 0.0, 0.0, 500.0, 500.0])
    assert choose_office(members, minutes, pop2, objective="coverage", coverage_min=10) in (3, 4)
    # T = 40 reaches everyone from anywhere: the tie goes to the least resident-minutes (site 3: 23,000)
    assert choose_office(members, minutes, pop2, objective="coverage", coverage_min=40) == 3


def test_pmedian_keeps_the_engines_centre_and_the_others_choose_again() -> None:
    """pmedian puts each office at the district engine's centre; pcenter and coverage choose inside the same
    districts and never move a village to another district."""
    villages = make_villages(4, 6, np.random.default_rng(5).integers(200, 2000, 24))
    times, access = make_times(villages), make_access(villages)
    r = rules(mode="villages")
    part = plan_districts(villages, times, access, rules=r)
    plan = place_offices(part, rules=r)
    assert plan.offices["village_id"].tolist() == [str(villages.index[c]) for c in part.centers]
    assert plan.villages["district_id"].equals(part.villages["district_id"])
    for objective in ("pcenter", "coverage"):
        other = Rules(districts=r.districts, offices=OfficeRules(objective=objective, coverage_min=10.0))
        placed = place_offices(part, rules=other)
        assert placed.villages["district_id"].equals(part.villages["district_id"])
        for _, office in placed.offices.iterrows():
            assert placed.villages.loc[office["village_id"], "district_id"] == office["district_id"]
        worst = placed.districts["max_travel_min"].max()
        if objective == "pcenter":
            assert worst <= plan.districts["max_travel_min"].max() + 1e-9


def test_the_plan_summary_gives_summary_jsons_figures() -> None:
    """DistrictPlan.summary() gives the residents' (weighted) mean travel, rounded as summary.json rounds it."""
    villages = make_villages(3, 5, np.arange(1, 16) * 100)
    times, access = make_times(villages), make_access(villages)
    r = rules(mode="villages")
    plan = place_offices(plan_districts(villages, times, access, rules=r), rules=r)
    s = plan.summary()
    travel = plan.villages["travel_min_to_office"].to_numpy(float)
    pop = plan.villages["population"].to_numpy(float)
    assert s["mean_travel_min"] == round(float(np.average(travel, weights=pop)), 2)
    assert s["max_travel_min"] == round(float(travel.max()), 2)
    assert isinstance(s["district_population"]["cv"], float) and s["districts"] == len(plan.districts)
    assert all(isinstance(v, dict) for v in s["violations"])


def test_rule_labels_read_as_the_texts_with_default_rules_and_follow_the_rules_in_force() -> None:
    """R1, R2 and R11 in plain words: with the defaults exactly texts.py's labels; else the numbers in force."""
    from planner.districts import r1_label, r2_label

    default = Rules()
    for lang in ("zh", "en"):
        assert r1_label(default, lang) == t("rule.R1", lang)
        assert r2_label(default, lang) == t("rule.R2", lang)
        assert r11_label(default, lang) == t("rule.R11", lang)
    other = rules(min_villages=3, max_villages=6, residents_per_officer=4000)
    assert r1_label(other, "en").startswith("3 to 6 villages")
    assert "4,000" in r2_label(other, "en") and "4000" in r2_label(other, "zh")


def test_violations_of_the_stage_say_what_their_subject_is() -> None:
    """A broken rule names the kind of its subject, so that nobody parses it back out of the text."""
    villages = make_villages(2, 3, np.full(6, 100))
    r = rules(mode="villages", min_villages=4, max_villages=4)
    plan = place_offices(
        plan_districts(villages, make_times(villages), make_access(villages), rules=r), rules=r
    )
    kinds = {v.kind for v in plan.violations if isinstance(v, Violation)}
    assert kinds and kinds <= {"village", "district", "township", "piece"}
