"""Contiguous police districts: invariants on every plan, a brute-forced optimum, rule modes and breaks."""

from __future__ import annotations

import dataclasses
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from district_fixtures import connected, grid_graph, make_access, make_times, make_villages, rules
from shapely.geometry import Point

from planner.districts import DistrictPlan, check_districts, plan_districts, village_adjacency
from planner.engines.districting import contiguous_districts
from planner.model import TravelTimes, Violation
from planner.offices import place_offices
from planner.rules import Rules


def draw_and_place(
    villages: gpd.GeoDataFrame, times: TravelTimes, access: pd.DataFrame, *, rules: Rules, **kw: Any
) -> DistrictPlan:
    """The district stage, then the office stage, as make_plan runs them."""
    return place_offices(plan_districts(villages, times, access, rules=rules, **kw), rules=rules)


def assert_plan_invariants(plan, villages: gpd.GeoDataFrame, r: Rules) -> None:
    v = plan.villages
    assert v.index.equals(villages.index) and v["district_id"].notna().all()
    adj = village_adjacency(villages)
    pos = {vid: i for i, vid in enumerate(villages.index)}
    listed = {x.subject for x in plan.violations}
    for _, d in plan.districts.iterrows():
        mem = [pos[x] for x in v.index[v["district_id"] == d["district_id"]]]
        assert connected(mem, adj) or d["district_id"] in listed
        office = plan.offices.set_index("district_id").loc[d["district_id"], "village_id"]
        assert v.loc[office, "district_id"] == d["district_id"]
        if r.districts.uses_villages and not (
            r.districts.min_villages <= len(mem) <= r.districts.max_villages
        ):
            assert d["district_id"] in listed
    assert len(plan.offices) == len(plan.districts)


def test_r1_villages_mode_makes_fewest_districts() -> None:
    """R1 alone: 30 villages at 5-8 per district give ceil(30/8) = 4 districts, every size within 5-8."""
    villages = make_villages(5, 6, np.full(30, 800))
    r = rules(mode="villages")
    plan = draw_and_place(villages, make_times(villages), make_access(villages), rules=r)
    assert len(plan.districts) == 4
    assert plan.districts["n_villages"].between(5, 8).all()
    assert_plan_invariants(plan, villages, r)
    assert not [x for x in plan.violations if x.rule in ("R1", "contiguity", "office")]
    assert (plan.districts["officers"] == 1).all()


def test_r2_population_mode_officers_and_caps() -> None:
    """R2 alone: districts hold at most 2 x 5,000 residents and get ceil(pop/5000) officers."""
    villages = make_villages(4, 5, np.full(20, 2400))  # 48,000 people -> 10 officers -> 5 districts
    r = rules(mode="population")
    plan = draw_and_place(villages, make_times(villages), make_access(villages), rules=r)
    assert len(plan.districts) == 5
    assert (plan.districts["population"] <= 10000).all()
    expect = np.clip(np.ceil(plan.districts["population"] / 5000), 1, 2).astype(int)
    assert (plan.districts["officers"].to_numpy() == expect.to_numpy()).all()
    assert_plan_invariants(plan, villages, r)


def test_village_of_14000_is_a_listed_break_not_a_crash() -> None:
    """A village of 14,000 alone exceeds 2 officers x 5,000: the plan lists the R2 break with the numbers."""
    pop = np.full(20, 900)
    pop[7] = 14000
    villages = make_villages(4, 5, pop)
    r = rules(mode="both")
    plan = draw_and_place(villages, make_times(villages), make_access(villages), rules=r)
    r2 = [x for x in plan.violations if x.rule == "R2" and x.subject == "V007"]
    assert r2 and "14,000" in r2[0].detail and "10,000" in r2[0].detail
    assert_plan_invariants(plan, villages, r)


def test_check_names_the_village_too_big_for_r2_as_the_plan_does() -> None:
    """`planner check` (check_districts on the plan's villages) names the village of 14,000 that the plan names,
    once: the plan and the check report the same R2 breaks."""
    pop = np.full(20, 900)
    pop[7] = 14000
    villages = make_villages(4, 5, pop)
    r = rules(mode="both")
    times = make_times(villages)
    plan = draw_and_place(villages, times, make_access(villages), rules=r)
    offices = plan.offices.reset_index() if "office_id" not in plan.offices.columns else plan.offices
    checked = check_districts(plan.villages, times, rules=r, offices=offices)
    key = lambda vs: sorted((x.rule, x.subject) for x in vs if x.rule == "R2")  # noqa: E731
    assert ("R2", "V007") in key(checked)
    assert key(checked) == key(plan.violations)


def test_within_township_keeps_districts_inside_and_names_small_townships() -> None:
    """within_township: no district crosses a township; a township of 3 villages is named as an R1 break."""
    tw = ["A"] * 10 + ["B"] * 7 + ["C"] * 3  # row-major 4x5: A rows 0-1, B 7 cells, C last 3 cells
    villages = make_villages(4, 5, np.full(20, 500), township=tw)
    r = rules(mode="villages", within_township=True)
    plan = draw_and_place(villages, make_times(villages), make_access(villages), rules=r)
    for _, grp in plan.villages.groupby("district_id"):
        assert grp["township"].nunique() == 1
    r1 = [x for x in plan.violations if x.rule == "R1" and "C" in x.subject]
    assert r1 and "3 villages" in r1[0].detail
    assert_plan_invariants(plan, villages, r)


def test_locked_villages_stay_and_comparison_lists_moves() -> None:
    """Locked villages keep their current district together; the comparison lists every village that moves."""
    villages = make_villages(4, 6, np.full(24, 700))
    current = pd.Series(["X"] * 12 + ["Y"] * 12, index=villages.index)  # two halves, too big for R1
    locked = ["V000", "V001", "V006"]
    r = rules(mode="villages")
    plan = draw_and_place(
        villages,
        make_times(villages),
        make_access(villages),
        rules=r,
        current=current,
        locked=locked,
        time_limit=1,
    )
    assert plan.villages.loc[locked, "district_id"].nunique() == 1
    cmp_ = plan.comparison
    assert cmp_ is not None
    assert set(cmp_.districts["plan"]) == {"current", "proposed"}
    moved = set(cmp_.moved["village_id"])
    prop = plan.villages["district_id"]
    # a village stays when its proposed district was matched to its current one
    for vid in villages.index:
        match = cmp_.moved.set_index("village_id")["matched_current"].get(vid)
        assert (vid in moved) == (match is not None and match != current[vid])
    assert len(moved) >= 24 - 2 * 8  # two current districts of 12 can keep at most 8 villages each
    assert prop.nunique() == len(plan.districts)


def test_same_seed_same_plan_whatever_the_time_limit() -> None:
    """The searches stop on counts: the same seed gives the same plan under a 30 s and a 600 s cap (neither
    cuts), and the plan says the cap did not cut it; another seed still gives a valid plan."""
    villages = make_villages(5, 6, np.random.default_rng(1).integers(300, 3000, 30))
    r = rules()
    times, access = make_times(villages), make_access(villages)
    plans = [
        draw_and_place(villages, times, access, rules=r, seed=3, time_limit=limit) for limit in (30, 600)
    ]
    assert plans[0].villages["district_id"].equals(plans[1].villages["district_id"])
    assert plans[0].offices["village_id"].equals(plans[1].offices["village_id"])
    assert not plans[0].stopped_by_time and plans[0].summary()["stopped_by_time"] is False
    assert "proven_optimal" in plans[0].summary()
    assert_plan_invariants(draw_and_place(villages, times, access, rules=r, seed=4), villages, r)


def test_time_cap_cut_is_recorded_and_plan_still_whole() -> None:
    """A cap of 0 s cuts the search at once: the plan is still whole and valid, and says it was cut."""
    villages = make_villages(5, 6, np.full(30, 800))
    r = rules(mode="villages")
    plan = draw_and_place(villages, make_times(villages), make_access(villages), rules=r, time_limit=0)
    assert plan.stopped_by_time and plan.summary()["stopped_by_time"] is True
    assert not plan.proven_optimal
    assert_plan_invariants(plan, villages, r)
    adj, xy = grid_graph(4, 4)
    cost = np.abs(xy[:, None, :] - xy[None, :, :]).sum(-1)
    sol = contiguous_districts(adj, np.full(16, 10.0), cost, 2, min_size=8, max_size=8, time_limit=0)
    assert sol.stopped_by_time and not sol.proven_optimal
    assert sorted(np.bincount(sol.labels).tolist()) == [8, 8] or sol.breaks


def test_check_districts_catches_hand_broken_plan() -> None:
    """check_districts finds a district cut in two, an office outside its district, and a village left out."""
    villages = make_villages(4, 5, np.full(20, 500))
    r = rules(mode="villages")
    times = make_times(villages)
    plan = draw_and_place(villages, times, make_access(villages), rules=r)
    v = plan.villages.copy()
    v["office_village_id"] = plan.offices.set_index("office_id").loc[v["office_id"], "village_id"].to_numpy()
    assert not [x for x in check_districts(v, times, rules=r) if x.rule in ("contiguity", "office", "R1")]
    broken = v.copy()
    d0, d1 = sorted(broken["district_id"].unique())[:2]
    # move one far village of d1 into d0 by hand, far from d0's villages -> non-contiguous
    d0_cells = set(broken.index[broken["district_id"] == d0])
    adj = village_adjacency(villages)
    pos = {vid: i for i, vid in enumerate(villages.index)}
    far = next(
        x for x in broken.index[broken["district_id"] == d1] if not any(adj[pos[x], pos[y]] for y in d0_cells)
    )
    broken.loc[far, "district_id"] = d0
    broken.loc[broken["district_id"] == d0, "office_village_id"] = broken.index[broken["district_id"] == d1][
        0
    ]
    out = check_districts(broken, times, rules=r)
    rules_hit = {(x.rule, x.subject) for x in out}
    assert ("contiguity", d0) in rules_hit
    assert ("office", d0) in rules_hit
    gone = v.copy()
    gone.loc["V004", "district_id"] = None
    assert any(x.rule == "membership" and x.subject == "V004" for x in check_districts(gone, times, rules=r))
    assert all(isinstance(x, Violation) and x.detail_zh for x in out)


def test_point_villages_get_voronoi_neighbours() -> None:
    """Point layers: neighbours come from the Voronoi cells, so a plan on points is still contiguous."""
    polys = make_villages(4, 5, np.full(20, 600))
    pts = polys.copy()
    pts["geometry"] = [Point(g.centroid.x, g.centroid.y) for g in polys.geometry]
    adj = village_adjacency(pts)
    ncomp, _ = sp.csgraph.connected_components(adj, directed=False)
    assert ncomp == 1 and adj[0, 1] and adj[0, 5]
    r = rules(mode="villages")
    plan = draw_and_place(pts, make_times(pts), make_access(pts), rules=r)
    assert plan.districts["n_villages"].between(5, 8).all()


def test_unreachable_village_is_assigned_and_flagged() -> None:
    """A village without road access still gets a district (nearest by straight line) and is listed."""
    villages = make_villages(4, 5, np.full(20, 500))
    times = make_times(villages)
    sec = times.seconds.copy()
    sec[19, :] = np.inf
    sec[:, 19] = np.inf
    sec[19, 19] = 0
    times = dataclasses.replace(times, seconds=sec)
    access = make_access(villages)
    access.loc["V019", ["access", "reason"]] = ["unreachable", "no road within 2 km"]
    plan = draw_and_place(villages, times, access, rules=rules(mode="villages"))
    assert isinstance(plan.villages.loc["V019", "district_id"], str)
    assert any(x.rule == "access" and x.subject == "V019" for x in plan.violations)
    assert plan.summary()["unreachable_villages"] == ["V019"]


def test_one_more_district_when_the_fewest_cannot_hold_r2() -> None:
    """Three villages in a row of 6,000 / 8,000 / 6,000 residents: R2 counts give 2 districts, but any two
    contiguous districts put 14,000 in one; with no --districts the plan takes 3 and breaks nothing, and with
    --districts 2 it keeps 2 and lists the R2 break."""
    villages = make_villages(1, 3, np.array([6000, 8000, 6000]))
    r = rules(mode="population")
    times, access = make_times(villages), make_access(villages)
    plan = draw_and_place(villages, times, access, rules=r)
    assert len(plan.districts) == 3
    assert not [x for x in plan.violations if x.rule == "R2"]
    fixed = draw_and_place(villages, times, access, rules=r, n_districts=2)
    assert len(fixed.districts) == 2
    assert [x for x in fixed.violations if x.rule == "R2" and "14,000" in x.detail]
