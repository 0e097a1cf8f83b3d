"""C5 road contiguity: districts follow the roads over a ridge, offices by residents' travel (issue 17)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from district_fixtures import make_access, make_villages, rules
from scipy.sparse.csgraph import shortest_path

from planner.districts import plan_districts, village_adjacency
from planner.districts.roads import outside_share
from planner.model import TravelTimes
from planner.offices import choose_office, place_offices


def _two_valleys() -> tuple[object, TravelTimes]:
    """Two rows of five 1 km villages, the rows sharing borders all along a ridge; the only road between
    the valleys crosses the pass at the east end (V004 - V009, 30 min), each valley's road 3 min a village."""
    villages = make_villages(2, 5, np.array([800, 500, 600, 700, 400, 900, 300, 650, 550, 450]))
    n = 10
    w = np.full((n, n), np.inf)
    for row in (0, 5):
        for c in range(4):
            w[row + c, row + c + 1] = w[row + c + 1, row + c] = 3.0
    w[4, 9] = w[9, 4] = 30.0
    minutes = shortest_path(np.where(np.isfinite(w), w, 0.0), directed=False)
    return villages, TravelTimes(villages.index, villages.index, minutes * 60.0)


def test_valleys_that_meet_only_over_a_pass_get_districts_that_follow_the_roads() -> None:
    """Borders join the valleys all along the ridge; roads join them only over the pass, and each valley is a
    district whose office reaches every village without leaving it."""
    villages, times = _two_valleys()
    borders = village_adjacency(villages)
    roads = village_adjacency(villages, times=times, contiguity="roads")
    assert borders[0, 5] and borders[2, 7]  # neighbours across the ridge by border
    assert not roads[0, 5] and not roads[2, 7] and roads[4, 9]  # by road only over the pass
    assert roads[0, 1] and not roads[0, 2]  # V000 - V002 passes V001
    r = rules(mode="villages", min_villages=5, max_villages=5)
    part = plan_districts(villages, times, make_access(villages), rules=r, seed=0, time_limit=10)
    plan = place_offices(part, rules=r)
    d = plan.villages["district_id"]
    assert d.iloc[:5].nunique() == 1 and d.iloc[5:].nunique() == 1 and d.iloc[0] != d.iloc[5]
    minutes = times.seconds / 60.0
    sites = [int(np.flatnonzero(villages.index == o)[0]) for o in plan.offices["village_id"]]
    assert outside_share(part.labels, sites, minutes) == (0.0, 0.0)
    assert not [v for v in plan.violations if v.rule in ("C5", "contiguity")]


def test_office_is_the_village_of_least_resident_minutes_by_hand() -> None:
    """A town of 4,608 and hamlets of 121 and 50 in a row, 10 min apart, limit 15 min soft: resident-minutes
    from the town 121*10 + 50*20 = 2,210, from the middle hamlet 4,608*10 + 50*10 = 46,580, from the far one
    4,608*20 + 121*10 = 93,370; the office is the town although the far hamlet is 5 minutes beyond the limit."""
    villages = make_villages(1, 3, np.array([4608, 121, 50]))
    minutes = np.array([[0.0, 10.0, 20.0], [10.0, 0.0, 10.0], [20.0, 10.0, 0.0]])
    pop = villages["population"].to_numpy(float)
    members = np.arange(3)
    assert (
        choose_office(members, minutes, pop, objective="pmedian", coverage_min=15, limit_min=(15, False)) == 0
    )
    # a hard limit puts the middle hamlet first: from it every village is within 15 minutes
    assert (
        choose_office(members, minutes, pop, objective="pmedian", coverage_min=15, limit_min=(15, True)) == 1
    )
    times = TravelTimes(villages.index, villages.index, minutes * 60.0)
    r = rules(mode="villages", min_villages=3, max_villages=3, max_travel_min=15)
    plan = place_offices(plan_districts(villages, times, make_access(villages), rules=r), rules=r)
    why = plan.summary()["offices_explained"]
    assert [w["village_id"] for w in why] == ["V000"]
    assert why[0]["resident_min"] == 2210 and why[0]["best_of_district"]
    assert why[0]["worst_village"] == {"village_id": "V002", "name": "V002", "minutes": 20.0}
    assert why[0]["runner_up"]["village_id"] == "V001"
    assert why[0]["runner_up"]["extra_resident_min"] == 46580 - 2210
    assert isinstance(pd.DataFrame(why), pd.DataFrame)


def test_contiguity_key_is_validated() -> None:
    """[districts] contiguity is "roads" (default) or "borders"; anything else names the key."""
    import pytest

    from planner.errors import ValidationError
    from planner.rules import Rules

    assert Rules().districts.contiguity == "roads"
    assert Rules.from_dict({"districts": {"contiguity": "borders"}}).districts.contiguity == "borders"
    with pytest.raises(ValidationError, match=r"districts\.contiguity"):
        Rules.from_dict({"districts": {"contiguity": "rivers"}})


def test_route_outside_share_measures_the_road_lines_outside_the_district() -> None:
    """A route from the office that leaves the district's squares counts the part outside them."""
    import geopandas as gpd
    import pytest
    from shapely.geometry import LineString, box

    from planner.districts.roads import route_outside_share

    geoms = gpd.GeoSeries([box(0, 0, 10, 10), box(10, 0, 20, 10), box(0, 20, 10, 30)])
    labels = np.array([0, 0, 1])

    def lines(pairs: list[tuple[int, int]]) -> list[LineString]:
        # 0 -> 1 runs out of the district (above y = 10) and back: 48 of its 60 units outside the 1 m buffer
        assert pairs == [(0, 1)]
        return [LineString([(5, 5), (5, 30), (15, 30), (15, 5)])]

    worst, total = route_outside_share(geoms, labels, [0, 2], lines)
    assert worst == pytest.approx(total) and worst == pytest.approx(0.8)


def _row_of_three(names: list[object]) -> tuple[object, object, object, object]:
    """Three 1 km villages in a row and one road along them at 30 km/h (2 min a km): a short street in V000
    ("Carrer Major"), then ``names[1]`` through V001 and into V002."""
    import geopandas as gpd
    from shapely.geometry import LineString

    from planner.io.roads import lines_to_roads
    from planner.network import build_network, locate_villages, travel_times
    from planner.rules import Rules

    villages = make_villages(1, 3, np.array([500, 400, 300]))
    lines = gpd.GeoDataFrame(
        {"name": [names[0], names[1], names[1]], "highway": ["primary"] * 3, "speed": [30.0] * 3},
        geometry=[
            LineString([(500, 500), (900, 500)]),
            LineString([(900, 500), (1500, 500)]),  # a node at each village's centre, where it meets the road
            LineString([(1500, 500), (2500, 500)]),
        ],
        crs=villages.crs,
    )
    r = Rules()
    net = build_network(lines_to_roads(lines, speed_col="speed"), rules=r.network, crs=villages.crs)
    access = locate_villages(net, villages, rules=r.network)
    return villages, net, access, travel_times(net, access)


def test_c5_note_names_the_road_through_the_other_district_and_its_minutes() -> None:
    """District D1 is V000 and V002 (office V000), D2 is V001 between them: the route V000 -> V002 runs 1 km
    through D2 on CG-2, 2 minutes outside D1; the note says so (the village passed, the road, the minutes)."""
    from planner.districts.roads import C5Roads, check_c5

    villages, net, access, times = _row_of_three(["Carrer Major", "CG-2"])
    district_of = np.array(["D1", "D2", "D1"])
    minutes = times.seconds / 60.0
    roads = C5Roads(net, access, villages.geometry)
    (v,) = check_c5("D1", 0, np.array([0, 2]), minutes, villages.index, district_of, roads=roads)
    assert v.rule == "C5" and v.subject == "D1" and not v.hard
    assert "passes village V001 of district D2 (on CG-2, about 2 min outside the district)" in v.detail
    assert "经过警务区 D2 的村 V001 (道路 CG-2, 在本区外约 2 分钟)" in v.detail_zh
    # without the network the note is the one `planner check` gives: the village passed, no road
    (bare,) = check_c5("D1", 0, np.array([0, 2]), minutes, villages.index, district_of)
    assert bare.detail.endswith("passes village V001 of district D2")
    assert (bare.rule, bare.subject, bare.hard) == (v.rule, v.subject, v.hard)


def test_c5_note_says_when_the_road_has_no_name() -> None:
    """The stretch through D2 has neither name nor ref: the note says "an unnamed road", never an edge id."""
    from planner.districts.roads import C5Roads, check_c5

    villages, net, access, times = _row_of_three(["Carrer Major", None])
    roads = C5Roads(net, access, villages.geometry)
    (v,) = check_c5(
        "D1",
        0,
        np.array([0, 2]),
        times.seconds / 60.0,
        villages.index,
        np.array(["D1", "D2", "D1"]),
        roads=roads,
    )
    assert "(on an unnamed road, about 2 min outside the district)" in v.detail
    assert "(无名道路, 在本区外约 2 分钟)" in v.detail_zh


def test_road_names_take_the_name_else_the_ref_sorted_when_ways_were_joined() -> None:
    """osmnx lists the names of joined ways in hash order; the road's name is the same whatever the order."""
    from planner.io.roads import road_names

    names = pd.Series([["Carretera b", "Carretera a"], None, float("nan"), "  "])
    refs = pd.Series([None, "CG-3", ["CS-2", "CG-2"], None])
    assert road_names(names, refs, 4).tolist() == ["Carretera a / Carretera b", "CG-3", "CG-2 / CS-2", ""]
