"""planner.outputs.maps: the plan map's layers, escaping, coordinates, base maps and offline page."""

from __future__ import annotations

import folium
import numpy as np
import pytest
import shapely
from pandas.testing import assert_frame_equal
from plan_fixture import EVIL_NAME, TEMPLATE_NAME, make_plan

from planner.errors import ValidationError
from planner.geo import wgs84_to_gcj02
from planner.model import PlanData
from planner.outputs.html import month_text
from planner.outputs.maplabels import VILLAGE_LABEL_ZOOM
from planner.outputs.maps import (
    DISPLAY_DECIMALS,
    _display,
    districts_layer,
    map_html,
    offices_layer,
    plan_map,
)
from planner.texts import t


def _controlled(m: folium.Map) -> list[folium.map.Layer]:
    """The overlays a layer control lists (children of the map with control=True that are not tiles)."""
    return [
        c
        for c in m._children.values()
        if isinstance(c, folium.map.Layer) and not isinstance(c, folium.TileLayer) and c.control
    ]


def _layer(m: folium.Map, class_name: str) -> folium.GeoJson:
    return next(
        c
        for c in m._children.values()
        if isinstance(c, folium.GeoJson) and c.options.get("className") == class_name
    )


def test_overlays_are_fixed_layers_plus_current_plus_one_per_officer() -> None:
    m = plan_map(make_plan(), tiles="none")
    names = [c.layer_name for c in _controlled(m)]
    # villages, districts, coverage, access marks, offices, current, routes P1 and P2
    assert len(names) == 8
    assert t("map.layer.current", "zh") in names
    assert t("map.layer.routes", "zh", officer="P1") in names


def test_optional_parts_missing_leave_only_the_fixed_layers() -> None:
    m = plan_map(make_plan(routes=False, current=False), tiles="none")
    assert len(_controlled(m)) == 5


def test_every_village_is_drawn_once_with_its_district_colour() -> None:
    plan = make_plan()
    m = plan_map(plan, tiles="none")
    features = _layer(m, "planner-village").data["features"]
    assert len(features) == len(plan.villages)
    colours = {f["properties"]["tip"].rsplit(" · ", 1)[1]: f["properties"]["colour"] for f in features}
    assert len(set(colours.values())) == plan.districts["district_id"].nunique()


def test_village_names_are_escaped_in_tooltips_and_popups() -> None:
    m = plan_map(make_plan(), tiles="none")
    props = [f["properties"] for f in _layer(m, "planner-village").data["features"]]
    evil = props[1]
    assert evil["tip"].startswith("&lt;script&gt;alert(1)&lt;/script&gt;")
    assert EVIL_NAME not in evil["popup"]
    assert "&lt;script&gt;" in evil["popup"]
    # backtick, $ and backslash would break or run code inside folium's JS template strings
    template = props[6]["tip"]
    assert not {"`", "$", "\\"} & set(template)
    assert TEMPLATE_NAME not in map_html(m)


def test_layers_in_a_metric_crs_are_drawn_in_lon_lat() -> None:
    wgs = plan_map(make_plan(), tiles="none")
    utm = plan_map(make_plan(crs="EPSG:32647"), tiles="none")
    a = np.array(_layer(wgs, "planner-village").data["features"][0]["geometry"]["coordinates"][0])
    b = np.array(_layer(utm, "planner-village").data["features"][0]["geometry"]["coordinates"][0])
    np.testing.assert_allclose(a, b, atol=1e-7)


def test_gcj02_base_map_shifts_the_plan_with_the_io_transform() -> None:
    plan = make_plan()
    m = plan_map(plan, tiles="amap")
    drawn = np.array(_layer(m, "planner-village").data["features"][0]["geometry"]["coordinates"][0])
    x, y = np.array(plan.villages.geometry.iloc[0].exterior.coords).T
    gx, gy = wgs84_to_gcj02(x, y)
    # drawn to DISPLAY_DECIMALS (5 decimals of a degree, about a metre)
    np.testing.assert_allclose(drawn, np.column_stack([gx, gy]), atol=0.6 * 10**-DISPLAY_DECIMALS)
    assert np.abs(drawn - np.column_stack([x, y])).max() > 1e-4  # Yunnan is inside the offset area


def test_osm_and_tianditu_are_not_shifted() -> None:
    plan = make_plan()
    m = plan_map(plan, tiles="tianditu", tile_key="KEY")
    drawn = np.array(_layer(m, "planner-village").data["features"][0]["geometry"]["coordinates"][0])
    np.testing.assert_allclose(drawn, np.array(plan.villages.geometry.iloc[0].exterior.coords), atol=1e-9)


def test_bad_base_map_choices_are_input_errors() -> None:
    with pytest.raises(ValidationError, match="unknown base map 'google'"):
        plan_map(make_plan(), tiles="google")
    with pytest.raises(ValidationError, match="needs a key"):
        plan_map(make_plan(), tiles="tianditu")
    with pytest.raises(ValidationError, match="unknown language"):
        plan_map(make_plan(), lang="fr")


def test_the_plan_is_not_changed() -> None:
    plan = make_plan(crs="EPSG:32647")
    before = plan.villages.copy()
    plan_map(plan, tiles="amap")
    assert_frame_equal(plan.villages, before)
    assert plan.villages.crs == before.crs


def test_layers_go_onto_a_given_map() -> None:
    mine = folium.Map(tiles=None)
    out = plan_map(make_plan(), tiles="none", m=mine)
    assert out is mine
    assert len(_controlled(mine)) == 8


def test_offline_page_inlines_leaflet_and_plugins() -> None:
    m = plan_map(make_plan(), lang="en", tiles="none")
    page = map_html(m)
    assert "<script src=" not in page
    assert 'rel="stylesheet" href="http' not in page
    for needle in (
        "L.control.fullscreen",
        "L.Control.Measure",
        "L.control.layers",
        t("map.layer.villages", "en"),
    ):
        assert needle in page
    assert "cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js" in map_html(m, offline=False)


def test_the_same_plan_gives_the_same_page() -> None:
    """folium's random element ids are renumbered: two renderings of one plan are byte-identical."""
    plan = make_plan()
    a = map_html(plan_map(plan, lang="zh", tiles="none"))
    b = map_html(plan_map(plan, lang="zh", tiles="none"))
    assert a == b
    assert "map_00000000000000000000000000000000" in a


def test_a_layer_function_draws_on_a_new_map_or_on_the_one_given() -> None:
    """Each layer of plan_map is a function of its own: m=None gives a new map, m= adds to that map."""
    plan = make_plan()
    districts = plan.districts.to_crs(4326)
    m = districts_layer(districts, lang="en")
    assert isinstance(m, folium.Map)
    assert len(_layer(m, "planner-district").data["features"]) == len(districts)
    assert offices_layer(plan.offices.to_crs(4326), lang="en", office_village={}, m=m) is m
    assert _layer(m, "planner-office").layer_name == t("map.layer.offices", "en")


def test_map_has_no_tiles_by_default_and_a_title_with_the_month() -> None:
    """Offline by default (a police intranet): no tile layer unless asked for; the title names the month."""
    base = make_plan()
    plan = PlanData(base.villages, base.districts, base.offices, {**base.summary, "month": "2027-01"})
    page = map_html(plan_map(plan, lang="zh"))
    assert "L.tileLayer" not in page and "id='planner-tile-note'" not in page
    assert f"警务区与巡逻路线图（{month_text('2027-01', 'zh')}）" in page
    with_tiles = map_html(plan_map(plan, lang="zh", tiles="osm"))
    assert "L.tileLayer" in with_tiles and "id='planner-tile-note'" in with_tiles  # a note when tiles fail


def test_labels_name_every_district_and_village_escaped() -> None:
    """District ids (every zoom) and village names (zoomed in) are in the page's label script, escaped."""
    plan = make_plan()
    page = map_html(plan_map(plan, lang="en"))
    for d in plan.districts["district_id"]:
        assert f'"{d}"]' in page
    assert f"minZoom = {VILLAGE_LABEL_ZOOM}" in page
    assert EVIL_NAME not in page


def test_display_geometry_is_simplified_and_rounded() -> None:
    """A road leg of a thousand points within a metre of a straight line is drawn with few, rounded points."""
    line = shapely.LineString([(101.5 + i * 1e-5, 25.3 + (i % 2) * 1e-6) for i in range(1000)])
    drawn = shapely.get_coordinates(_display(line))
    assert len(drawn) < 10
    assert np.all(np.round(drawn, DISPLAY_DECIMALS) == drawn)


def test_a_village_popup_says_the_districts_officers_and_who_visits_the_village() -> None:
    """Regression: "民警 2名 (O01-1)" read as if O01-1 were both officers. The popup now says the district's
    number and, apart from it, the officers who visit this village."""
    import pandas as pd

    from planner.outputs.maps import _village_popup

    row = pd.Series({"village_id": "V1", "name": "李家村", "district_id": "D01", "office_id": "O01"})
    zh = _village_popup(row, "zh", {"O01": "王家村"}, {"D01": 2}, {"V1": ["O01-1"]})
    assert "<td>本区2名，走访本村：O01-1</td>" in zh
    en = _village_popup(row, "en", {}, {"D01": 2}, {"V1": ["O01-1"]})
    assert "<td>2 in the district; visiting this village: O01-1</td>" in en
    assert "<td>O01-1</td>" in _village_popup(row, "en", {}, {}, {"V1": ["O01-1"]})


def test_the_legend_explains_only_the_access_marks_the_map_shows() -> None:
    """Regression: the legend listed "travel estimated" and "unreachable" on a map with no such village. A
    map whose villages are all on the road lists none of the three marks; one walk-only village adds its line."""
    import dataclasses

    from plan_fixture import make_generated_plan

    from planner.outputs.maps import plan_map
    from planner.texts import t

    plan = make_generated_plan()
    v = plan.villages.copy()
    v["access"] = "road"
    legend = [t(f"map.legend.{k}", "en") for k in ("walk", "unreachable", "estimated")]

    def box(villages: object) -> str:
        page = (
            plan_map(dataclasses.replace(plan, villages=villages), lang="en", tiles="none")
            .get_root()
            .render()
        )
        start = page.index('<div class="planner-legend"')
        return page[start : page.index("</div>", start)]

    assert not any(x in box(v) for x in legend)
    v.loc[v.index[0], "access"] = "walk"
    walk = box(v)
    assert legend[0] in walk and legend[1] not in walk and legend[2] not in walk


def test_village_popup_and_travel_layer_give_clock_minutes() -> None:
    """A village 108.14 minutes from its office reads 109 minutes in its popup and on the travel-time layer,
    as in the route sheets (the 109th minute on the schedule's clock), not 108.1."""
    plan = make_plan()
    villages = plan.villages.copy()
    villages.loc[villages.index[2], "travel_min_to_office"] = 108.14
    m = plan_map(PlanData(villages, plan.districts, plan.offices, plan.summary), tiles="none", lang="en")
    popup = _layer(m, "planner-village").data["features"][2]["properties"]["popup"]
    assert "109 " in popup and "108.1" not in popup
    html = map_html(m)
    assert "108.1" not in html and "109 min" in html
