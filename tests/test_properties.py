"""Property-based tests: random small counties keep the plan's invariants (each village in one district,
contiguity, size and population rules met or listed, shifts and driving within limits, visits counted right)."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, box

from planner.districts import check_districts, plan_districts
from planner.io.roads import lines_to_roads
from planner.network import build_network, locate_villages, travel_times
from planner.offices import place_offices
from planner.pipeline import make_plan
from planner.rules import Rules

CRS = "EPSG:32648"
X0, Y0 = 500_000.0, 2_700_000.0


@st.composite
def counties(draw: st.DrawFn) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A grid of 6-16 square villages (random size, population and township) with a road along every row of
    centres and along a random non-empty subset of the columns (the gaps lengthen the drives)."""
    rows, cols = draw(st.sampled_from([(r, c) for r in range(2, 5) for c in range(2, 5) if 6 <= r * c <= 16]))
    size = draw(st.sampled_from([1500.0, 2500.0, 4000.0]))
    n = rows * cols
    pops = draw(st.lists(st.integers(100, 4000), min_size=n, max_size=n))
    towns = draw(st.lists(st.sampled_from(["东乡", "西乡", "南乡"]), min_size=n, max_size=n))
    col_roads = draw(st.sets(st.integers(0, cols - 1), min_size=1))
    recs = []
    for r in range(rows):
        for c in range(cols):
            k = r * cols + c
            recs.append(
                {
                    "village_id": f"V{r}{c}",
                    "name": f"村{r}{c}",
                    "township": towns[k],
                    "population": pops[k],
                    "geometry": box(X0 + c * size, Y0 + r * size, X0 + (c + 1) * size, Y0 + (r + 1) * size),
                }
            )
    villages = gpd.GeoDataFrame(recs, crs=CRS).set_index("village_id")
    lines = [
        {
            "highway": "tertiary",
            "geometry": LineString(
                [(X0 + size / 2, Y0 + (r + 0.5) * size), (X0 + (cols - 0.5) * size, Y0 + (r + 0.5) * size)]
            ),
        }
        for r in range(rows)
    ]
    lines += [
        {
            "highway": "unclassified",
            "geometry": LineString(
                [(X0 + (c + 0.5) * size, Y0 + size / 2), (X0 + (c + 0.5) * size, Y0 + (rows - 0.5) * size)]
            ),
        }
        for c in sorted(col_roads)
    ]
    return villages, lines_to_roads(gpd.GeoDataFrame(lines, crs=CRS))


RULES = Rules.from_dict({"districts": {"min_villages": 2, "max_villages": 5, "residents_per_officer": 3000}})


def _district_invariants(villages: gpd.GeoDataFrame, dplan, times, rules: Rules) -> None:
    v = dplan.villages
    # every village in exactly one district
    assert sorted(v.index) == sorted(villages.index)
    assert v.index.is_unique
    assert v["district_id"].notna().all()
    # contiguity, re-checked independently of the solver
    found = check_districts(v, times, rules=rules, offices=dplan.offices)
    assert not [x for x in found if x.rule in ("contiguity", "membership")], found
    listed = {x.rule for x in dplan.violations}
    r = rules.districts
    sizes = v.groupby("district_id").size()
    if not sizes.between(r.min_villages, r.max_villages).all():
        assert "R1" in listed, (sizes.to_dict(), dplan.violations)
    cap = r.max_officers * r.residents_per_officer
    pops = v.groupby("district_id")["population"].sum()
    if (pops > cap).any():
        assert "R2" in listed, (pops.to_dict(), dplan.violations)
    # an R1/R2 break the re-check finds is one the plan listed
    assert {x.rule for x in found if x.rule in ("R1", "R2")} <= listed


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(county=counties(), seed=st.integers(0, 3))
def test_random_county_districts_keep_their_invariants(county, seed: int) -> None:
    """Districts of a random county: each village once, contiguous, R1/R2 met or listed as breaks."""
    villages, roads = county
    network = build_network(roads, rules=RULES.network, crs=villages.crs)
    access = locate_villages(network, villages, rules=RULES.network)
    assert (access["access"] != "unreachable").all()
    times = travel_times(network, access)
    dplan = place_offices(
        plan_districts(villages, times, access, rules=RULES, seed=seed, time_limit=3.0), rules=RULES
    )
    _district_invariants(villages, dplan, times, RULES)


def _to_min(hhmm: str) -> int:
    h, m = str(hhmm).split(":")[:2]
    return int(h) * 60 + int(m)


@pytest.mark.slow
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(county=counties(), seed=st.integers(0, 3))
def test_random_county_plans_keep_shift_drive_and_visit_invariants(county, seed: int) -> None:
    """A whole plan of a random county: the district invariants, each day's work inside the shift, driving
    within max_drive_hours, and every visit requirement the schedule misses is listed as dropped or a break."""
    villages, roads = county
    result = make_plan(villages, roads, rules=RULES, month="2026-12", seed=seed, time_limit=10)
    p = RULES.patrol
    s = result.plan.schedule.copy()
    summary = result.plan.summary
    assert summary["villages"] == len(villages)
    assert summary["population"] == int(villages["population"].sum())
    v = result.plan.villages.set_index("village_id")
    assert sorted(v.index) == sorted(villages.index) and v["district_id"].notna().all()
    assert not [x for x in summary["violations"] if x["rule"] in ("contiguity", "membership")]

    listed = {(x["rule"], x["subject"]) for x in summary["violations"]}
    listed_rules = {x["rule"] for x in summary["violations"]}
    dropped = {x["village_id"] for x in summary["dropped_visits"]}
    s["s0"] = s["start"].map(_to_min)
    s["s1"] = s["end"].map(_to_min)
    # C3: an officer's whole day, a night visit and its drives included, stays within the shift (a night-visit
    # day is a late shift ending with the drive back), and the day's driving counts every leg
    span_max = (p.shift_hours + p.night_overtime_hours) * 60 + 1
    for (officer, date), day in s.groupby(["officer_id", "date"]):
        d = dt.date.fromisoformat(str(date)[:10])
        assert d.isoformat()[:7] == "2026-12"
        if not {("shift", officer), ("shift", f"{officer} {date}")} & listed:
            assert day["s1"].max() - day["s0"].min() <= span_max, day
        drive = day.loc[day["activity"] == "travel", "minutes"].sum()
        if "drive" not in listed_rules:
            assert drive <= p.max_drive_hours * 60 + 1e-6, (officer, date, drive)
    # visits counted right: a village short of its full visit days or night visits is listed
    full = s[(s["activity"] == "visit") & (s["minutes"] >= p.visit_hours * 60 - 1e-6)]
    full_days = full.groupby("village_id")["date"].nunique()
    nights = s[s["activity"] == "night_visit"].groupby("village_id")["date"].nunique()
    reachable = v.index[v["access"] != "unreachable"]
    # a resident officer's own village owes R4's days, not R5's full visit days (issue 15)
    own = {
        str(r["village_id"])
        for r in summary.get("roster") or []
        if r.get("kind") == "resident" and r.get("village_id")
    }
    short = [
        vid
        for vid in reachable
        if (vid not in own and full_days.get(vid, 0) < p.visit_days_per_village)
        or nights.get(vid, 0) < p.night_visits_per_village
    ]
    for vid in short:
        assert vid in dropped or any(subj == vid for _, subj in listed), vid
    if summary["visit_requirements_met_pct"] >= 100.0:
        assert not short and not dropped
    else:
        assert dropped or listed
    assert np.isfinite(pd.to_numeric(s["minutes"])).all()
