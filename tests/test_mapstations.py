"""planner.outputs.mapstations: the map's police stations, their tooltips, popups with R9, legend and control."""

from __future__ import annotations

import folium
from plan_fixture import STATION_EVIL, make_plan, with_stations

from planner.outputs.html import escape
from planner.outputs.maps import map_html, plan_map
from planner.outputs.mapstations import STATION_CLASS, stations_layer
from planner.texts import t


def _stations(m: folium.Map) -> folium.GeoJson:
    return next(
        c
        for c in m._children.values()
        if isinstance(c, folium.GeoJson) and c.layer_name == t("map.layer.stations", "zh")
    )


def _props(m: folium.Map) -> dict[str, dict[str, str]]:
    """station badge's properties by the station's first tooltip word."""
    feats = _stations(m).data["features"]
    return {f["properties"]["tip"].split("：")[0]: f["properties"] for f in feats}


def test_every_station_is_a_badge_at_its_site_not_a_default_pin() -> None:
    plan = with_stations(make_plan())
    layer = _stations(plan_map(plan, tiles="none"))
    feats = layer.data["features"]
    assert len(feats) == 2
    site = plan.stations.geometry.iloc[0]
    assert feats[0]["geometry"]["coordinates"] == [round(site.x, 5), round(site.y, 5)]
    # a DivIcon (HTML, no image): the offline map carries no pin images
    assert isinstance(layer.marker, folium.Marker)
    assert isinstance(layer.marker.icon, folium.DivIcon)
    assert layer.marker.icon.options["class_name"] == STATION_CLASS


def test_tooltip_and_popup_name_the_station_districts_villages_residents_and_r9() -> None:
    props = _props(plan_map(with_stations(make_plan()), tiles="none"))
    s1 = props[escape(STATION_EVIL)]
    # the name's HTML stays text
    assert "<b>东</b>" not in s1["tip"] and "<b>东</b>" not in s1["popup"]
    assert s1["tip"] == escape(
        t(
            "map.popup.station_of",
            "zh",
            name=STATION_EVIL,
            districts="D1, D2",
            villages="6",
            population="8,090",
        )
        + t("map.popup.station_short", "zh", n="2")
    )
    for label, value in (
        ("stations.col.districts", "D1, D2"),
        ("stations.col.villages", "6"),
        ("stations.col.population", "8,090"),
        ("map.popup.community", "2"),
        ("stations.col.force", "7"),
        ("stations.col.share", "29%"),
        ("stations.col.more", "<b>2</b>"),
    ):
        assert (
            f"<th style='text-align:left;padding-right:6px'>{t(label, 'zh')}</th><td>{value}</td>"
            in (s1["popup"])
        ), label
    assert t("stations.r9.share", "zh", pct=40) in s1["popup"]
    # the yellow ring marks the station short of community officers, not the other one
    s2 = props["戌街派出所"]
    assert "#fdd835" in s1["html"] and "#fdd835" not in s2["html"]
    assert t("stations.r9.unknown", "zh") in s2["popup"]
    assert t("stations.col.more", "zh") not in s2["popup"]
    assert "R9" not in s2["tip"]


def test_english_labels_and_a_plan_without_r9_figures() -> None:
    plan = with_stations(make_plan())
    bare = {k: v for k, v in plan.summary.items() if k != "stations"}
    m = stations_layer(plan.stations, lang="en", summary=bare)
    layer = next(c for c in m._children.values() if isinstance(c, folium.GeoJson))
    assert layer.layer_name == "Police stations"
    popup = layer.data["features"][1]["properties"]["popup"]
    assert "Districts" in popup and "Residents" in popup and "3,990" in popup
    assert "Force" not in popup  # no roster, no R9 figures to show


def test_the_stations_have_a_layer_control_entry_and_legend_lines() -> None:
    plan = with_stations(make_plan())
    m = plan_map(plan, tiles="none")
    overlays = [c.layer_name for c in m._children.values() if isinstance(c, folium.map.Layer) and c.control]
    assert t("map.layer.stations", "zh") in overlays
    html = map_html(m)
    assert t("map.legend.station", "zh") in html and t("map.legend.station_short", "zh") in html
    # a plan without stations draws neither
    plain = map_html(plan_map(make_plan(), tiles="none"))
    assert t("map.legend.station_short", "zh") not in plain and STATION_CLASS not in plain
