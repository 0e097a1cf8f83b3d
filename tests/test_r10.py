"""R10 (planner.patrol.rulebook.r10): village needs, the weighted linking and every match met or missed, on a
hand-made district whose linking is worked out by hand."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from planner.errors import ValidationError
from planner.model import TravelTimes
from planner.patrol import plan_month
from planner.patrol.rulebook import r10
from planner.rules import MatchRules, PatrolRules, Rules

MONTH = "2026-10"
RULES = PatrolRules(holidays=(dt.date(2026, 10, 1), dt.date(2026, 10, 2), dt.date(2026, 10, 5)))


def _square() -> tuple[pd.DataFrame, TravelTimes]:
    """The office in V1; V2..V5 each 6 km from it (north, east, south, west) at 30 km/h: every village but the
    office's owes the same work, so the linking without preferences deals them out in id order."""
    xy = np.array([(0, 0), (0, 6), (6, 0), (0, -6), (-6, 0)], dtype=float)
    ids = [f"V{i}" for i in range(1, 6)]
    km = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    times = TravelTimes(pd.Index(ids), pd.Index(ids), km / 30.0 * 3600.0)
    a = pd.DataFrame(
        {
            "district_id": "D1",
            "office_id": "O1",
            "office_village_id": "V1",
            "officers": 2,
            "population": 1000,
            "access": "road",
        },
        index=pd.Index(ids, name="village_id"),
    )
    return a, times


ROSTER = pd.DataFrame(
    {
        "officer_id": ["A", "B"],
        "office": ["O1", "O1"],
        "kind": ["linked", "linked"],
        "village_id": [None, None],
        "unavailable": [[], []],
        "skills": ["traffic;patrol", "mediation;household"],
        "home_village": ["V4", "V2"],
    }
)


def _needs(main_road: list[str], high: list[str] = ()) -> pd.DataFrame:
    ids = [f"V{i}" for i in range(1, 6)]
    return pd.DataFrame(
        {
            "main_road_m": [50.0 if v in main_road else 2000.0 for v in ids],
            "main_road": [v in main_road for v in ids],
            "incidents": np.nan,
            "high_incident": [v in high for v in ids],
        },
        index=pd.Index(ids),
    )


def _links(matching: r10.Matching | None) -> dict[str, str]:
    a, times = _square()
    plan = plan_month(
        a, times, rules=RULES, month=MONTH, roster=ROSTER, matching=matching, seed=0, time_limit=5
    )
    return dict(plan.links)


def test_without_preferences_the_linking_deals_equal_villages_out_in_id_order():
    """V2 -> A, V3 -> B, V4 -> A, V5 -> B, then the office village V1 to A (equal loads, A first)."""
    assert _links(None) == {"V1": "A", "V2": "A", "V3": "B", "V4": "A", "V5": "B"}


def test_a_traffic_officer_takes_the_main_road_village_when_the_weight_allows():
    """V3 on a main road, A the traffic officer, weight 1 and home ignored: at V3 A carries one village (e), B
    none; A's key (e - 1 * e) ties B's 0 and A goes first: V3 -> A. Then V4 -> B (A 2e, B 0), V5 -> B, V1 -> A."""
    m = r10.Matching.of(ROSTER, _needs(["V3"]), rules=MatchRules(home="ignore"))
    assert _links(m) == {"V1": "A", "V2": "A", "V3": "A", "V4": "B", "V5": "B"}
    # with weight 0.5 the match is not worth half a village's work more: the linking of no preference
    half = r10.Matching.of(ROSTER, _needs(["V3"]), rules=MatchRules(home="ignore", traffic_weight=0.5))
    assert _links(half)["V3"] == "B"


def test_home_village_preferred_or_forbidden():
    """A's home is V4, B's V2 (e: one village's work). Preferred: V2 -> B (B's key -e < A's 0), V3 -> A,
    V4 -> A (e - e = 0 < B's e): both at home. Forbidden: V2 -> A (B's key +1000e), V3 -> B, V4 -> B."""
    links = _links(r10.Matching.of(ROSTER, _needs([]), rules=MatchRules(home="prefer")))
    assert (links["V2"], links["V3"], links["V4"]) == ("B", "A", "A")
    links = _links(r10.Matching.of(ROSTER, _needs([]), rules=MatchRules(home="forbid")))
    assert (links["V2"], links["V3"], links["V4"]) == ("A", "B", "B")


def test_evaluate_reports_every_match_met_or_missed_with_its_reason():
    """V3 (main road) linked to A: met. V5 (high incidents) wants an investigator, O1 has none: missed. A's home
    V4 went to B: missed, for balance; B's home V2 went to A: missed."""
    m = r10.Matching.of(ROSTER, _needs(["V3"], ["V5"]), rules=MatchRules())
    links = pd.Series({"V1": "A", "V2": "A", "V3": "A", "V4": "B", "V5": "B"})
    office = pd.Series("O1", index=links.index)
    got = {(x["need"], x["village_id"]): x for x in r10.evaluate(m, links, ROSTER, office)}
    assert got["traffic", "V3"]["met"] and got["traffic", "V3"]["officer_id"] == "A"
    assert not got["investigation", "V5"]["met"]
    assert "no officer of office O1 has the skill investigation" in got["investigation", "V5"]["reason"]
    assert "侦查" in got["investigation", "V5"]["reason_zh"]
    assert not got["home", "V4"]["met"] and "balanced" in got["home", "V4"]["reason"]
    assert (got["home", "V4"]["officer_id"], got["home", "V4"]["linked"]) == ("A", "B")
    assert [v.rule for v in r10.violations(list(got.values()))] == ["R10"] * 3
    assert all(not v.hard for v in r10.violations(list(got.values())))


def test_no_skills_in_the_roster_means_no_skill_match_is_wanted():
    m = r10.Matching.of(ROSTER.drop(columns=["skills"]), _needs(["V3"]), rules=MatchRules(home="ignore"))
    assert r10.evaluate(m, pd.Series({"V3": "A"}), ROSTER, pd.Series({"V3": "O1"})) == []


def test_village_needs_main_road_by_distance_and_the_top_incident_share():
    """A primary road along y = 0: V1 100 m off it, V2 1 km (a tertiary road beside it does not count);
    ten villages with incidents 1..10 and share 0.2: the top ceil(2) = the villages with 10 and 9."""
    net = SimpleNamespace(
        edge_highway=np.array(["primary", "tertiary"], dtype=object),
        edge_geometry=np.array([LineString([(0, 0), (10000, 0)]), LineString([(0, 1000), (10000, 1000)])]),
    )
    ids = [f"V{i}" for i in range(1, 11)]
    v = gpd.GeoDataFrame(
        {"incidents": list(range(1, 11))},
        geometry=[Point(500, 100), Point(500, 1000)] + [Point(500 + 100 * i, 5000) for i in range(8)],
        index=pd.Index(ids),
        crs="EPSG:32648",
    )
    needs = r10.village_needs(v, net, rules=MatchRules())
    assert needs.loc["V1", "main_road"] and not needs.loc["V2", "main_road"]
    assert needs.loc["V1", "main_road_m"] == pytest.approx(100.0)
    assert sorted(needs.index[needs["high_incident"]]) == ["V10", "V9"]


def test_r10_label_and_rules_keys():
    rules = Rules.from_dict({"matching": {"home": "forbid", "main_road_m": 200, "traffic_weight": 2}})
    label = r10.label(rules.matching, "en")
    assert "within 200 m" in label and "weight 2" in label and "home village" in label
    with pytest.raises(ValidationError, match=r"matching\.home"):
        Rules.from_dict({"matching": {"home": "sometimes"}})


def test_r10_chinese_words_name_the_office_the_officer_and_the_road_classes():
    """Regression: the zh reasons said "他在警务室 O06" (use 该民警), "本所交通民警" (the office's, not the
    station's: 本警务室), "名册定为 O02-1 的驻村村" (clumsy: 名册中 O02-1 驻村的村), and the label printed
    the OSM codes "motorway/trunk/primary" for the road classes."""
    roster = ROSTER.assign(
        kind=["linked", "resident"],
        village_id=[None, "V5"],
        skills=["investigation", "mediation"],
    )
    m = r10.Matching.of(roster, _needs([], ["V5"]), rules=MatchRules())
    links = pd.Series({"V1": "A", "V2": "A", "V3": "A", "V4": "B", "V5": "B"})
    office = pd.Series("O1", index=links.index)
    office["V4"] = "O2"
    got = {(x["need"], x["village_id"]): x for x in r10.evaluate(m, links, roster, office)}
    assert got["investigation", "V5"]["reason_zh"].endswith("但该村是名册中 B 驻村的村(侦查民警: A)")
    assert got["home", "V4"]["reason_zh"] == "A 的家乡村 V4 属警务室 O2, 该民警在警务室 O1"
    zh = [x["reason_zh"] for x in got.values()]
    assert not any("他" in z or "本所" in z or "名册定为" in z for z in zh)
    label = r10.label(MatchRules(), "zh")
    assert "主干道(高速公路、干线公路、一级公路) 300 米内的村配交通民警" in label and "motorway" not in label
    assert "motorway" in r10.label(MatchRules(), "en")
