"""The map's police stations (派出所, issue 15): one badge per station, its districts, villages, residents and R9.

:func:`stations_layer` draws the plan's ``stations`` layer (points: the station's site) as square badges, not
Leaflet's default pin, whose image an offline map.html does not carry, and not the offices' round dots. A station
short of community officers under R9 has a yellow ring. Its tooltip names the station with its districts,
villages and residents; its popup adds the R9 figures summary.json's ``stations.force`` gives (community
officers, force, share, the community officers it needs more), worded as the report's station table words them.
:func:`stations_legend` is the legend's entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import folium
import geopandas as gpd
import pandas as pd

from planner.outputs.html import js_number, js_text
from planner.outputs.stations import r9_words
from planner.texts import t

__all__ = ["STATION_CLASS", "station_figures", "stations_layer", "stations_legend"]

#: The class of every station badge on the map (the browser tests count them).
STATION_CLASS = "planner-station"
_STATION_COLOUR = "#a50f15"
_SHORT_RING = "#fdd835"  # a station short of community officers (R9)


def _badge(lang: str, *, short: bool) -> str:
    """A station's badge: a dark red square with 所 (S), ringed yellow when R9 finds it short."""
    ring = _SHORT_RING if short else "#ffffff"
    return (
        f"<div style='width:18px;height:18px;box-sizing:border-box;background:{_STATION_COLOUR};"
        f"border:3px solid {ring};outline:1px solid #333;border-radius:3px;color:#fff;"
        "font:bold 10px/12px sans-serif;text-align:center'>"
        f"{js_text(t('map.station.badge', lang))}</div>"
    )


#: The marker's size and the badge's offset (pixels): the badge sits down and to the left of the station's site,
#: tied to it by a short line, so that the office dot a station often shares its village with stays visible, and
#: clear of the district's label, which the map sets up and to the right of the office.
_ICON = 26
_OFFSET = 8


def _marker(lang: str, *, short: bool) -> str:
    """The marker of a station: its badge, off the site, and the line from the site to it."""
    return (
        f"<div style='position:relative;width:{_ICON}px;height:{_ICON}px'>"
        "<div style='position:absolute;right:0;top:0;width:12px;height:2px;background:#333;"
        "transform-origin:100% 50%;transform:rotate(-45deg)'></div>"
        f"<div style='position:absolute;left:0;top:{_OFFSET}px'>{_badge(lang, short=short)}</div></div>"
    )


def stations_legend(lang: str, *, any_short: bool) -> str:
    """The legend's lines for the stations (and for a station short of community officers when there is one)."""
    lines = [
        f"<span style='display:inline-block;vertical-align:middle;margin-right:5px'>{_badge(lang, short=False)}"
        f"</span>{js_text(t('map.legend.station', lang))}<br>"
    ]
    if any_short:
        lines.append(
            f"<span style='display:inline-block;vertical-align:middle;margin-right:5px'>{_badge(lang, short=True)}"
            f"</span>{js_text(t('map.legend.station_short', lang))}<br>"
        )
    return "".join(lines)


def _split(value: Any) -> list[str]:
    """The layer's ``;``-joined list (townships, districts) as a list."""
    if value is None or (not isinstance(value, list | tuple) and pd.isna(value)):
        return []
    items = value if isinstance(value, list | tuple) else str(value).split(";")
    return [str(x) for x in items if str(x)]


def _features(sites: gpd.GeoDataFrame, props: list[dict[str, Any]]) -> dict[str, Any]:
    """The stations' points (rounded to about a metre, as the map draws every layer) with their properties."""
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(g.x, 5), round(g.y, 5)]},
            "properties": p,
        }
        for g, p in zip(sites.geometry.values, props, strict=True)
        if g is not None and not g.is_empty
    ]
    return {"type": "FeatureCollection", "features": features}


def station_figures(summary: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """station_id -> its row of summary.json's ``stations.force`` (R9's figures; empty without a roster)."""
    st = summary.get("stations")
    force = st.get("force") if isinstance(st, dict) else None
    return {str(f["station_id"]): f for f in force or [] if f.get("station_id") is not None}


def _popup(row: pd.Series, f: Mapping[str, Any], rules: Mapping[str, Any], lang: str) -> str:
    """The popup: the station's name, townships, districts, villages, residents, officers by kind and R9."""
    sep = "、" if lang == "zh" else ", "
    rows = [
        (t("stations.col.townships", lang), js_text(sep.join(_split(row.get("townships"))))),
        (t("stations.col.districts", lang), js_text(", ".join(_split(row.get("districts"))))),
        (t("stations.col.villages", lang), js_number(row.get("n_villages"))),
        (t("stations.col.population", lang), js_number(row.get("population"))),
    ]
    if f:
        share = f.get("community_pct")
        words, broken = r9_words(dict(f), dict(rules), lang)
        rows += [
            (t("stations.col.resident", lang), js_number(f.get("resident"))),
            (t("stations.col.linked", lang), js_number(f.get("linked"))),
            (t("map.popup.community", lang), js_number(f.get("community"))),
            (t("stations.col.other", lang), js_number(f.get("other")) if f.get("other") is not None else "—"),
            (t("stations.col.force", lang), js_number(f.get("force")) if f.get("force") is not None else "—"),
            (t("stations.col.share", lang), "—" if share is None else f"{float(share):.0f}%"),
            (t("stations.col.r9", lang), f"<b>{js_text(words)}</b>" if broken else js_text(words)),
        ]
        if f.get("more_community"):
            rows.append((t("stations.col.more", lang), f"<b>{js_number(f.get('more_community'))}</b>"))
    cells = "".join(
        f"<tr><th style='text-align:left;padding-right:6px'>{js_text(label)}</th><td>{shown}</td></tr>"
        for label, shown in rows
    )
    return f"<b>{js_text(row.get('name', row.get('station_id', '')))}</b><table>{cells}</table>"


def _tip(row: pd.Series, f: Mapping[str, Any], lang: str) -> str:
    """The tooltip: the station, how many districts, villages and residents, and what R9 asks when short."""
    text = t(
        "map.popup.station_of",
        lang,
        name=row.get("name", row.get("station_id", "")),
        districts=", ".join(_split(row.get("districts"))) or "—",
        villages=js_number(row.get("n_villages")),
        population=js_number(row.get("population")),
    )
    if f.get("more_community"):
        text += t("map.popup.station_short", lang, n=js_number(f.get("more_community")))
    return js_text(text)


def stations_layer(
    stations: gpd.GeoDataFrame,
    *,
    lang: str = "zh",
    summary: Mapping[str, Any] | None = None,
    m: folium.Map | None = None,
) -> folium.Map:
    """Add the police stations, each a badge with a tooltip and a popup of its figures and R9.

    Parameters
    ----------
    stations
        The plan's ``stations`` layer in the map's coordinates (a polygon is drawn at its representative point).
    lang
        "zh" or "en".
    summary
        summary.json: ``stations.force`` gives the R9 figures, ``rules.stations`` the rules in force; without
        them the popup shows the station's districts, villages and residents only.
    m
        The map to add to; a new one when None.

    Returns
    -------
    folium.Map
        The map.
    """
    m = folium.Map(tiles=None) if m is None else m
    summary = summary or {}
    figures = station_figures(summary)
    rules = (summary.get("rules") or {}).get("stations") or {}
    sites = stations.assign(
        geometry=[
            g if g is None or g.is_empty or g.geom_type == "Point" else g.representative_point()
            for g in stations.geometry.values
        ]
    )
    props = []
    for _, row in sites.iterrows():
        f = figures.get(str(row.get("station_id")), {})
        short = bool(f.get("more_community"))
        props.append(
            {
                "tip": _tip(row, f, lang),
                "popup": _popup(row, f, rules, lang),
                "html": _marker(lang, short=short),
            }
        )
    folium.GeoJson(
        _features(sites, props),
        name=js_text(t("map.layer.stations", lang)),
        marker=folium.Marker(
            icon=folium.DivIcon(
                html="", icon_size=(_ICON, _ICON), icon_anchor=(_ICON, 0), class_name=STATION_CLASS
            )
        ),
        # each badge's own html (ringed when short), put in its DivIcon's options by folium's pointToLayer
        style_function=lambda f: {"html": f["properties"]["html"]},
        # folium refuses a tooltip on a layer without features
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True) if props else None,
        popup=folium.GeoJsonPopup(fields=["popup"], labels=False, max_width=320) if props else None,
    ).add_to(m)
    return m
