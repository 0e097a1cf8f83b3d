"""Walk legs (issue 11): a village beyond the road shows its walking minutes in the schedule and the sheets."""

from __future__ import annotations

from planner.patrol import plan_month
from tests.test_month import EASY, MONTH, RULES, _district


def test_travel_rows_to_and_from_a_walk_village_carry_its_walk():
    """V3 lies 12 minutes' walk beyond the road: every drive to it and away from it shows 12 walking minutes,
    every other drive none, and no row walks longer than it lasts."""
    a, times = _district(EASY, officers=2, access=["road", "road", "walk", "road", "road"])
    a["walk_min"] = [0.0, 0.0, 11.2, 0.0, 0.0]
    plan = plan_month(a, times, rules=RULES, month=MONTH, seed=1, time_limit=10)
    s = plan.schedule.reset_index(drop=True)
    travel = s[s["activity"] == "travel"]
    to_v3 = travel[travel["village_id"] == "V3"]
    assert len(to_v3) and (to_v3["walk_minutes"] >= 12).all()
    left_v3 = [
        i
        for i in travel.index
        if i > 0 and s.at[i - 1, "village_id"] == "V3" and s.at[i - 1, "officer_id"] == s.at[i, "officer_id"]
    ]
    assert left_v3 and all(s.at[i, "walk_minutes"] >= 12 for i in left_v3)
    others = travel.drop(index=[*to_v3.index, *left_v3])
    assert (others["walk_minutes"] == 0).all()
    assert (s["walk_minutes"] <= s["minutes"]).all()
    assert (s.loc[s["activity"] != "travel", "walk_minutes"] == 0).all()


def test_route_sheet_says_how_long_a_drive_is_on_foot():
    """A travel row with walking minutes is marked on the officer's route sheet, in zh and en, and that day's
    total says how many of its minutes on the way are on foot (it called them all driving)."""
    import dataclasses

    from plan_fixture import make_generated_plan

    from planner.outputs.sheets import route_sheets_html
    from planner.texts import t

    plan = make_generated_plan()
    s = plan.schedule.copy()
    s["walk_minutes"] = 0
    first = s.index[s["activity"] == "travel"][0]
    s.loc[first, "walk_minutes"] = 7
    plan = dataclasses.replace(plan, schedule=s)
    for lang in ("zh", "en"):
        page = route_sheets_html(plan, lang=lang)
        assert page.count(f"<span class='note walk'>{t('sheets.walk', lang, n=7)}</span>") == 1
        assert page.count("（其中步行7分钟）" if lang == "zh" else "(of which 7 min on foot)") == 1


def test_map_route_tooltip_says_how_long_a_drive_is_on_foot():
    """The map's route leg to a village beyond the road says its walking minutes, read from the schedule."""
    import dataclasses

    from plan_fixture import make_generated_plan

    from planner.outputs.maps import plan_map
    from planner.texts import t

    plan = make_generated_plan()
    s = plan.schedule.copy()
    s["walk_minutes"] = 0
    legs = plan.routes.sort_values(["officer_id", "date", "seq"])
    leg = legs.iloc[0]
    hit = (
        (s["activity"] == "travel")
        & (s["officer_id"].astype(str) == str(leg["officer_id"]))
        & (s["date"].astype(str).str[:10] == str(leg["date"])[:10])
        & (s["village_id"].astype(str) == str(leg["to_id"]))
    )
    assert hit.any()
    s.loc[hit, "walk_minutes"] = 9
    page = plan_map(dataclasses.replace(plan, schedule=s), lang="en", tiles="none").get_root().render()
    assert t("sheets.walk", "en", n=9) in page
    assert t("sheets.walk", "en", n=9) not in plan_map(plan, lang="en", tiles="none").get_root().render()


def test_map_draws_the_walk_between_the_roads_end_and_a_walk_only_village_dashed():
    """A route leg's line ends with the walk to a village beyond the road (a straight segment from the road
    node): marked walk-only, that segment is drawn dashed on each leg to it and from it, the leg's road part
    solid without it, and the legend names the dashed line; without walk-only villages nothing is dashed."""
    import dataclasses
    import json
    import re

    from plan_fixture import make_generated_plan
    from shapely.geometry import LineString

    from planner.outputs.maps import plan_map
    from planner.outputs.mapwalk import WALK_DASH
    from planner.texts import t

    plan = make_generated_plan()
    # the fixture's legs are straight lines: give each a road part (to the middle) before its last stretch
    routes = plan.routes.to_crs(4326)
    routes.geometry = [
        LineString([g.coords[0], g.interpolate(0.5, normalized=True).coords[0], g.coords[-1]])
        for g in routes.geometry
    ]
    plan = dataclasses.replace(plan, routes=routes.to_crs(plan.routes.crs))
    leg = routes.sort_values(["officer_id", "date", "seq"]).iloc[0]
    target = str(leg["to_id"])
    v = plan.villages.copy()
    v["access"] = ["walk" if str(x) == target else "road" for x in v["village_id"].astype(str)]
    page = plan_map(dataclasses.replace(plan, villages=v), lang="en", tiles="none").get_root().render()
    geo = [
        json.loads(m)
        for m in re.findall(r"(\{\"features\": \[.*?\], \"type\": \"FeatureCollection\"\})", page)
    ]
    walks = [f for g in geo for f in g["features"] if f["properties"].get("dash") == WALK_DASH]
    there = routes[(routes["to_id"].astype(str) == target) | (routes["from_id"].astype(str) == target)]
    assert len(walks) == len(there) > 0
    # the dashed segment of the first leg is its last segment: from its last-but-one point to its end
    end = tuple(round(c, 4) for c in leg.geometry.coords[-1])
    before = tuple(round(c, 4) for c in leg.geometry.coords[-2])
    segs = [{tuple(round(c, 4) for c in xy) for xy in f["geometry"]["coordinates"]} for f in walks]
    assert {end, before} in segs
    assert t("map.legend.route_walk", "en") in page
    plain = plan_map(plan, lang="en", tiles="none").get_root().render()
    assert f'"dash": "{WALK_DASH}"' not in plain
