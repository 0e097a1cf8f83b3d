"""The interactive plan map (map.html): districts, offices, coverage, routes and villages hard to reach.

:func:`plan_map` draws a :class:`planner.model.PlanData` on a folium map and returns it (``m=`` adds the layers
to a map of your own); it is composed of one function per layer (:func:`villages_layer`, :func:`districts_layer`,
:func:`coverage_layer`, :func:`access_layer`, :func:`offices_layer`, the stations of
:mod:`planner.outputs.mapstations`, :func:`current_layer`, :func:`routes_layer`, then :func:`controls`), each of which takes layers already in the map's coordinates and
``m=`` and returns the map. :func:`map_html` renders a map to one self-contained HTML page whose Leaflet scripts
and styles are inlined from ``planner/static/vendor``, so the page works in a meeting room without internet.

Every text that comes from the data (village names, townships, ids, reasons) is HTML-escaped, and also made safe
inside the JavaScript template strings folium writes (backtick, ``$`` and backslash become entities): a village
named ``<script>alert(1)</script>`` is shown as text.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template

from planner.errors import ValidationError
from planner.geo import wgs84_to_gcj02
from planner.model import PlanData
from planner.outputs.colours import MAP_DAY_COLOURS, district_colours
from planner.outputs.colours import swatch as _swatch
from planner.outputs.html import js_number, js_safe, js_text, travel_minutes_text
from planner.outputs.lookups import (
    office_villages,
    officer_labels,
    travel_minutes,
    village_names,
    visiting_officers,
    with_shown_names,
)
from planner.outputs.maplabels import labels_layer, tile_note, title_control
from planner.outputs.mappage import map_html
from planner.outputs.mapstations import station_figures, stations_layer, stations_legend
from planner.outputs.mapwalk import WALK_DASH, split_walks, walk_villages
from planner.texts import check_lang, t

logger = logging.getLogger(__name__)

__all__ = [
    "BASE_MAPS",
    "COVERAGE_BANDS",
    "BaseMap",
    "access_layer",
    "base_map_layer",
    "controls",
    "coverage_layer",
    "current_layer",
    "district_colours",
    "districts_layer",
    "map_html",
    "offices_layer",
    "plan_map",
    "routes_layer",
    "villages_layer",
]

# Travel-time bands of the coverage layer (minutes) and their colours, best to worst.
COVERAGE_BANDS = (15, 30, 60)
_BAND_COLOURS = ("#1a9850", "#a6d96a", "#fdae61", "#d73027")
_UNREACHABLE_COLOUR = "#555555"
_WALK_COLOUR = "#ff7f00"
_ESTIMATED_COLOUR = "#7b3294"  # travel estimated without roads (planner.network.estimate)
_ACCESS_COLOURS = {"walk": _WALK_COLOUR, "unreachable": _UNREACHABLE_COLOUR, "estimated": _ESTIMATED_COLOUR}
_CURRENT_COLOUR = "#d6008f"
_OFFICE_COLOUR = "#08306b"
_NO_DISTRICT_COLOUR = "#999999"


@dataclass(frozen=True)
class BaseMap:
    """A tile provider for the base map.

    Attributes
    ----------
    url
        Leaflet tile URL template (``{x}``, ``{y}``, ``{z}``, ``{s}``; ``{key}`` is replaced by ``tile_key``).
    attr
        Attribution shown on the map.
    gcj02
        True when the tiles are drawn in GCJ-02 offset coordinates (AutoNavi/Amap, Tencent, ...): the plan's
        WGS-84 layers are then shifted to GCJ-02 so they sit on the right streets.
    subdomains
        Letters or digits for ``{s}``.
    max_zoom
        Highest zoom level served.
    needs_key
        True when the provider requires a key (``tile_key=`` of :func:`plan_map`).
    """

    url: str
    attr: str
    gcj02: bool = False
    subdomains: str = "abc"
    max_zoom: int = 18
    needs_key: bool = False


# Geometry as drawn: simplified to about 5 m and rounded to 5 decimals of a degree (about 1 m); the layers of
# plan.gpkg keep their full precision.
DISPLAY_TOLERANCE_DEG = 5e-5
DISPLAY_DECIMALS = 5

# Base maps by name; "none" draws no tiles (blank background, for rooms without internet).
# Tianditu is drawn in CGCS2000, which is WGS-84 to within centimetres: no offset.
BASE_MAPS: dict[str, BaseMap] = {
    "osm": BaseMap(
        url="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        attr='&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
        subdomains="abc",
        max_zoom=19,
    ),
    "amap": BaseMap(
        url="https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        attr="&copy; 高德地图 AutoNavi",
        gcj02=True,
        subdomains="1234",
    ),
    "amap_satellite": BaseMap(
        url="https://webst0{s}.is.autonavi.com/appmaptile?style=6&x={x}&y={y}&z={z}",
        attr="&copy; 高德地图 AutoNavi",
        gcj02=True,
        subdomains="1234",
    ),
    "tianditu": BaseMap(
        url="https://t{s}.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}&tk={key}",
        attr="&copy; 天地图 Tianditu",
        subdomains="01234567",
        needs_key=True,
    ),
}


def _band(minutes: float) -> int:
    """Index of the coverage band of a travel time (len(COVERAGE_BANDS) for over the last band)."""
    for i, limit in enumerate(COVERAGE_BANDS):
        if minutes <= limit:
            return i
    return len(COVERAGE_BANDS)


def _gcj02_transform() -> Callable[[np.ndarray], np.ndarray]:
    """lon/lat rows (n, 2) in WGS-84 -> the same points in GCJ-02, for base maps drawn in GCJ-02."""

    def shift(xy: np.ndarray) -> np.ndarray:
        lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
        return np.column_stack([np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)])

    return shift


def _to_map_crs(
    gdf: gpd.GeoDataFrame, layer: str, shift: Callable[[np.ndarray], np.ndarray] | None
) -> gpd.GeoDataFrame:
    """``gdf`` in WGS-84 (and shifted to GCJ-02 when ``shift`` is given); the input is not changed."""
    if gdf.crs is None:
        raise ValidationError(
            f"layer {layer!r} has no coordinate reference system; set its CRS (e.g. EPSG:4326) and retry",
            zh=f"图层 {layer!r} 没有坐标参考系；请设置坐标系（如 EPSG:4326）后重试",
        )
    out = gdf.to_crs(4326)
    if shift is not None and len(out):
        out = out.set_geometry(shapely.transform(out.geometry.values, shift))
    return out


def _display(geom: Any) -> Any:
    """A geometry as the map draws it: simplified to DISPLAY_TOLERANCE_DEG and rounded to DISPLAY_DECIMALS
    (about a metre), which keeps map.html small without a visible change."""
    if geom.geom_type not in ("Point", "MultiPoint"):
        simpler = shapely.simplify(geom, DISPLAY_TOLERANCE_DEG, preserve_topology=True)
        geom = simpler if not simpler.is_empty else geom
    return shapely.transform(geom, lambda xy: np.round(xy, DISPLAY_DECIMALS))


#: How far (degrees, about 1 km) the outline of a district of point villages lies beyond its villages.
POINT_OUTLINE_DEG = 0.01


def _point_outline(geom: Any) -> Any:
    """The outline the map draws for a district: its own shape, or, for points, their widened hull."""
    if geom is None or geom.is_empty or geom.geom_type not in ("Point", "MultiPoint"):
        return geom
    return geom.convex_hull.buffer(POINT_OUTLINE_DEG, quad_segs=4)


def _village_dot(class_name: str) -> folium.CircleMarker:
    """How a village given as a point (a layer of village-committee points) is drawn: a dot styled like the
    polygons, not Leaflet's default pin, whose image an offline map.html does not carry."""
    return folium.CircleMarker(radius=7, fill=True, className=class_name)


def _feature_collection(gdf: gpd.GeoDataFrame, props: list[dict[str, Any]]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of ``gdf``'s geometries (for display: :func:`_display`) with the given
    (already escaped) properties."""
    features = []
    for geom, p in zip(gdf.geometry.values, props, strict=True):
        if geom is None or geom.is_empty:
            continue
        features.append(
            {"type": "Feature", "geometry": shapely.geometry.mapping(_display(geom)), "properties": p}
        )
    return {"type": "FeatureCollection", "features": features}


def _tooltip(field: str = "tip", *, sticky: bool = True) -> folium.GeoJsonTooltip:
    """A tooltip showing one (already escaped) property of each feature."""
    return folium.GeoJsonTooltip(fields=[field], labels=False, sticky=sticky)


def _popup(field: str = "popup") -> folium.GeoJsonPopup:
    """A popup showing one (already escaped) HTML property of each feature."""
    return folium.GeoJsonPopup(fields=[field], labels=False, max_width=320)


def _village_popup(
    row: pd.Series,
    lang: str,
    office_village: Mapping[str, str],
    n_officers: Mapping[str, Any],
    visiting: Mapping[str, list[str]],
) -> str:
    """The popup of a village: name, township, population, district, office, travel time, officers, access."""
    vid = str(row["village_id"])
    district = str(row.get("district_id", ""))
    access = str(row.get("access", "road"))
    travel_text = js_safe(travel_minutes_text(row.get("travel_min_to_office"), missing=""))
    if travel_text == "∞" or access == "unreachable":
        travel_text = js_text(t("not_reachable", lang))
    elif travel_text:
        travel_text += " " + js_text(t("minutes", lang))
    officers = n_officers.get(district)
    officer_text = (
        js_text(t("map.popup.officers_n", lang, n=js_number(officers))) if officers is not None else ""
    )
    if visiting.get(vid):
        # the ids of the officers who visit this village, after the district's number of officers
        ids = js_text(", ".join(visiting[vid]))
        officer_text += js_text(t("map.popup.visitors", lang)) + ids if officer_text else ids
    office_id = row.get("office_id", "")
    access_text = t(f"access.{access}", lang) if access in ("road", *_ACCESS_COLOURS) else access
    rows = [
        (t("village", lang), js_text(row.get("name", vid))),
        (t("township", lang), js_text(row.get("township", ""))),
        (t("population", lang), js_number(row.get("population"))),
        (t("map.popup.district", lang), js_text(district)),
        (t("map.popup.office", lang), js_text(office_village.get(str(office_id), office_id))),
        (t("travel_min_to_office", lang), travel_text),
        (t("map.popup.officers", lang), officer_text),
        (t("access", lang), js_text(access_text)),
    ]
    cells = "".join(
        f"<tr><th style='text-align:left;padding-right:6px'>{js_text(label)}</th><td>{shown}</td></tr>"
        for label, shown in rows
    )
    return f"<b>{js_text(row.get('name', vid))}</b><table>{cells}</table>"


class _Legend(MacroElement):
    """A fixed legend box at the bottom left, above the scale bar and below the zoom, full-screen and measure
    buttons: the layer control (top right, open) grows with the routes and would cover a legend on the right.
    ``body`` is HTML built from escaped texts only."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <div class="planner-legend" style="position:fixed;bottom:36px;left:10px;z-index:9999;background:#fff;
             padding:8px 10px;border:1px solid #999;border-radius:4px;font:12px/1.45 sans-serif;
             max-height:calc(100% - 230px);overflow:auto;box-shadow:0 1px 4px rgba(0,0,0,.3)">{{ this.body }}</div>
        {% endmacro %}
        """
    )

    def __init__(self, body: str) -> None:
        super().__init__()
        self._name = "PlannerLegend"
        self.body = body


class _MetricScale(MacroElement):
    """Leaflet's scale bar in metres and kilometres only."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({metric: true, imperial: false, maxWidth: 160}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )


def _legend_body(
    colours: Mapping[str, str],
    lang: str,
    *,
    has_current: bool,
    has_routes: bool,
    stations: str = "",
    marks: Collection[str] = tuple(_ACCESS_COLOURS),
) -> str:
    """The legend's HTML: district colours, offices, the ``stations`` lines, coverage bands, access marks,
    current districts, routes."""
    parts = [
        f"<b>{js_text(t('map.legend.title', lang))}</b><br>",
        f"<i>{js_text(t('districts', lang))}</i><br>",
    ]
    parts += [f"{_swatch(c)}{js_text(d)}<br>" for d, c in colours.items()]
    parts.append(f"{_swatch(_OFFICE_COLOUR, kind='dot')}{js_text(t('map.legend.office_plain', lang))}<br>")
    parts.append(stations)
    parts.append(f"<i>{js_text(t('map.layer.coverage', lang))}</i><br>")
    for i, limit in enumerate(COVERAGE_BANDS):
        parts.append(f"{_swatch(_BAND_COLOURS[i])}{js_text(t('map.legend.band', lang, minutes=limit))}<br>")
    over = t("map.legend.band_over", lang, minutes=COVERAGE_BANDS[-1])
    parts.append(f"{_swatch(_BAND_COLOURS[-1])}{js_text(over)}<br>")
    for access, colour in _ACCESS_COLOURS.items():  # only the marks the map shows
        if access in marks:
            parts.append(f"{_swatch(colour, kind='dot')}{js_text(t(f'map.legend.{access}', lang))}<br>")
    if has_current:
        parts.append(f"{_swatch(_CURRENT_COLOUR, kind='dashed')}{js_text(t('map.legend.current', lang))}<br>")
    if has_routes:
        parts.append(f"{_swatch(MAP_DAY_COLOURS[0], kind='line')}{js_text(t('map.legend.route', lang))}<br>")
        parts.append(
            f"{_swatch(MAP_DAY_COLOURS[0], kind='dashline')}{js_text(t('map.legend.route_walk', lang))}<br>"
        )
    return "".join(parts)


def _base_map(tiles: str | BaseMap, tile_key: str | None) -> BaseMap | None:
    """The base map named by ``tiles`` (None for "none"), checked to have the key it needs."""
    if isinstance(tiles, BaseMap):
        base = tiles
    elif tiles == "none":
        return None
    elif tiles in BASE_MAPS:
        base = BASE_MAPS[tiles]
    else:
        names = ", ".join([*BASE_MAPS, "none"])
        raise ValidationError(
            f"unknown base map {tiles!r}: use one of {names}", zh=f"未知底图 {tiles!r}：请使用 {names} 之一"
        )
    if base.needs_key and not tile_key:
        raise ValidationError(
            f"base map {tiles!r} needs a key: pass tile_key=", zh=f"底图 {tiles!r} 需要密钥：请提供 tile_key"
        )
    return base


def _new_map() -> folium.Map:
    """An empty map without tiles, with a metric scale bar and only Leaflet's own scripts and styles."""
    # quarter zoom steps: a small county fills the frame instead of waiting for the next whole zoom level
    m = folium.Map(
        tiles=None, control_scale=False, prefer_canvas=False, zoom_start=11, zoomSnap=0.25, zoomDelta=0.5
    )
    _MetricScale().add_to(m)
    # Only Leaflet itself is needed: no popups need jQuery/Bootstrap, and fewer assets to inline offline.
    m.default_js = [js for js in m.default_js if js[0] == "leaflet"]
    m.default_css = [css for css in m.default_css if css[0] == "leaflet_css"]
    return m


# -- layers: each takes layers in the map's coordinates (WGS-84 lon/lat, or GCJ-02 for a GCJ-02 base map) -----
def base_map_layer(
    base: BaseMap, *, name: str, tile_key: str | None = None, m: folium.Map | None = None
) -> folium.Map:
    """Add a base map's tiles.

    Parameters
    ----------
    base
        The tile provider.
    name
        The name the layer control shows.
    tile_key
        The provider's key, put in place of ``{key}`` in its URL.
    m
        The map to add to; a new one when None.

    Returns
    -------
    folium.Map
        The map.
    """
    m = _new_map() if m is None else m
    folium.TileLayer(
        tiles=base.url.replace("{key}", tile_key or ""),
        attr=base.attr,
        name=name,
        subdomains=base.subdomains,
        max_zoom=base.max_zoom,
        control=True,
    ).add_to(m)
    return m


def villages_layer(
    villages: gpd.GeoDataFrame,
    *,
    lang: str = "zh",
    colours: Mapping[str, str],
    office_village: Mapping[str, str],
    n_officers: Mapping[str, Any],
    visiting: Mapping[str, list[str]],
    m: folium.Map | None = None,
) -> folium.Map:
    """Add the villages coloured by district, with name tooltips and detail popups.

    Parameters
    ----------
    villages
        The plan's villages in the map's coordinates.
    lang
        "zh" or "en".
    colours
        district_id -> fill colour (:func:`district_colours`); grey for a village without a district.
    office_village
        office_id -> name of the village the office is in.
    n_officers
        district_id -> officers of the district.
    visiting
        village_id -> ids of the officers who visit it.
    m
        The map to add to; a new one when None.

    Returns
    -------
    folium.Map
        The map.
    """
    m = _new_map() if m is None else m
    props = []
    for _, row in villages.iterrows():
        did = str(row.get("district_id", ""))
        props.append(
            {
                "tip": f"{js_text(row.get('name', row['village_id']))} · {js_text(did)}",
                "popup": _village_popup(row, lang, office_village, n_officers, visiting),
                "colour": colours.get(did, _NO_DISTRICT_COLOUR),
            }
        )
    folium.GeoJson(
        _feature_collection(villages, props),
        name=js_text(t("map.layer.villages", lang)),
        style_function=lambda f: {
            "fillColor": f["properties"]["colour"],
            "color": "#ffffff",
            "weight": 1,
            "fillOpacity": 0.55,
        },
        highlight_function=lambda f: {"weight": 3, "color": "#222222"},
        tooltip=_tooltip(),
        popup=_popup(),
        className="planner-village",
        marker=_village_dot("planner-village"),
    ).add_to(m)
    return m


def districts_layer(
    districts: gpd.GeoDataFrame, *, lang: str = "zh", m: folium.Map | None = None
) -> folium.Map:
    """Add the district boundaries, unfilled and not clickable so that the village popups stay clickable.

    Parameters
    ----------
    districts
        The plan's districts in the map's coordinates.
    lang
        "zh" or "en".
    m
        The map to add to; a new one when None.

    Returns
    -------
    folium.Map
        The map.
    """
    m = _new_map() if m is None else m
    props = [
        {
            "tip": js_text(
                f"{t('district', lang)} {d['district_id']}: {js_number(d.get('n_villages'))} "
                f"{t('villages', lang)}, {js_number(d.get('population'))} {t('population', lang)}"
            )
        }
        for _, d in districts.iterrows()
    ]
    # a district of point villages (a layer of committee points) is the points themselves: its outline is their
    # hull, a little widened, not a pin per village
    outlines = districts.assign(geometry=[_point_outline(g) for g in districts.geometry.values])
    folium.GeoJson(
        _feature_collection(outlines, props),
        name=js_text(t("map.layer.districts", lang)),
        style_function=lambda f: {"fill": False, "color": "#222222", "weight": 3, "interactive": False},
        className="planner-district",
    ).add_to(m)
    return m


def coverage_layer(
    villages: gpd.GeoDataFrame, *, lang: str = "zh", m: folium.Map | None = None
) -> folium.Map:
    """Add the villages shaded by travel time to their office (COVERAGE_BANDS), off until switched on.

    Parameters
    ----------
    villages
        The plan's villages in the map's coordinates.
    lang
        "zh" or "en".
    m
        The map to add to; a new one when None.

    Returns
    -------
    folium.Map
        The map.
    """
    m = _new_map() if m is None else m
    props = []
    for (_, row), minutes in zip(villages.iterrows(), travel_minutes(villages), strict=True):
        unreachable = math.isnan(minutes)
        colour = _UNREACHABLE_COLOUR if unreachable else _BAND_COLOURS[_band(minutes)]
        label = (
            t("not_reachable", lang)
            if unreachable
            else f"{js_safe(travel_minutes_text(minutes))} {t('minutes', lang)}"
        )
        props.append({"tip": js_text(f"{row.get('name', row['village_id'])}: {label}"), "colour": colour})
    folium.GeoJson(
        _feature_collection(villages, props),
        name=js_text(t("map.layer.coverage", lang)),
        style_function=lambda f: {
            "fillColor": f["properties"]["colour"],
            "color": "#666666",
            "weight": 0.5,
            "fillOpacity": 0.75,
        },
        tooltip=_tooltip(),
        className="planner-coverage",
        marker=_village_dot("planner-coverage"),
        show=False,
    ).add_to(m)
    return m


def access_layer(villages: gpd.GeoDataFrame, *, lang: str = "zh", m: folium.Map | None = None) -> folium.Map:
    """Add a mark on every walk-only, unreachable and estimated village, at a point inside the village.

    Parameters
    ----------
    villages
        The plan's villages in the map's coordinates (all of them: those reached by road get no mark).
    lang
        "zh" or "en".
    m
        The map to add to; a new one when None.

    Returns
    -------
    folium.Map
        The map.
    """
    m = _new_map() if m is None else m
    hard = (
        villages[villages["access"].astype(str).isin(list(_ACCESS_COLOURS))]
        if "access" in villages
        else villages.iloc[:0]
    )
    props = []
    for _, row in hard.iterrows():
        access = str(row["access"])
        tip = t(
            "map.popup.access_reason",
            lang,
            name=row.get("name", row["village_id"]),
            access=t(f"access.{access}", lang),
        )
        props.append({"tip": js_text(tip), "colour": _ACCESS_COLOURS[access]})
    points = hard.set_geometry(hard.geometry.representative_point()) if len(hard) else hard
    folium.GeoJson(
        _feature_collection(points, props),
        name=js_text(t("map.layer.access", lang)),
        marker=folium.CircleMarker(
            radius=7, weight=2, fill=True, fill_opacity=0.95, class_name="planner-access"
        ),
        style_function=lambda f: {
            "fillColor": f["properties"]["colour"],
            "color": "#ffffff",
            "fillOpacity": 0.95,
            "radius": 7,
        },
        # folium refuses a tooltip on a layer without features (a county where every village is on a road)
        tooltip=_tooltip() if props else None,
        className="planner-access",
    ).add_to(m)
    return m


def offices_layer(
    offices: gpd.GeoDataFrame,
    *,
    lang: str = "zh",
    office_village: Mapping[str, str],
    m: folium.Map | None = None,
) -> folium.Map:
    """Add the offices, each with its district, village and officers in a tooltip.

    Parameters
    ----------
    offices
        The plan's offices in the map's coordinates.
    lang
        "zh" or "en".
    office_village
        office_id -> name of the village the office is in.
    m
        The map to add to; a new one when None.

    Returns
    -------
    folium.Map
        The map.
    """
    m = _new_map() if m is None else m
    props = []
    for _, o in offices.iterrows():
        text = t(
            "map.popup.office_of",
            lang,
            district=o.get("district_id", ""),
            village=office_village.get(str(o["office_id"]), ""),
            n=js_number(o.get("officers")),
        )
        props.append({"tip": js_text(text)})
    folium.GeoJson(
        _feature_collection(offices, props),
        name=js_text(t("map.layer.offices", lang)),
        marker=folium.CircleMarker(
            radius=9, weight=2, fill=True, fill_opacity=1.0, class_name="planner-office"
        ),
        style_function=lambda f: {
            "fillColor": _OFFICE_COLOUR,
            "color": "#ffffff",
            "fillOpacity": 1.0,
            "radius": 9,
        },
        tooltip=_tooltip(),
        className="planner-office",
    ).add_to(m)
    return m


def current_layer(current: gpd.GeoDataFrame, *, lang: str = "zh", m: folium.Map | None = None) -> folium.Map:
    """Add the districts in force today as dashed outlines, to compare with the proposal.

    Parameters
    ----------
    current
        Villages (or any shapes) with the ``district_id`` of their current district, in the map's coordinates;
        they are dissolved by district.
    lang
        "zh" or "en".
    m
        The map to add to; a new one when None.

    Returns
    -------
    folium.Map
        The map.

    Raises
    ------
    ValidationError
        When ``current`` has no ``district_id`` column.
    """
    m = _new_map() if m is None else m
    if "district_id" not in current.columns:
        raise ValidationError(
            "layer 'current' has no district_id column; add it and retry",
            zh="图层 current 缺少 district_id 列；请补充后重试",
        )
    dissolved = current[["district_id", "geometry"]].dissolve(by="district_id", as_index=False)
    props = [{"tip": js_text(f"{t('map.layer.current', lang)}: {d}")} for d in dissolved["district_id"]]
    folium.GeoJson(
        _feature_collection(dissolved, props),
        name=js_text(t("map.layer.current", lang)),
        style_function=lambda f: {
            "fill": False,
            "color": _CURRENT_COLOUR,
            "weight": 2.5,
            "dashArray": "6 5",
        },
        tooltip=_tooltip(),
        className="planner-current",
    ).add_to(m)
    return m


def walk_minutes(schedule: pd.DataFrame | None) -> dict[tuple[str, str, str], float]:
    """(officer_id, date, village driven to) -> the travel row's minutes on foot (schedule ``walk_minutes``)."""
    if schedule is None or "walk_minutes" not in schedule.columns or not len(schedule):
        return {}
    s = schedule[schedule["activity"].astype(str) == "travel"]
    w = pd.to_numeric(s["walk_minutes"], errors="coerce").fillna(0)
    return {
        (str(o), str(d)[:10], str(v)): float(x)
        for o, d, v, x in zip(s["officer_id"], s["date"], s["village_id"], w, strict=True)
        if x > 0
    }


def _walk_note(
    walk: Mapping[tuple[str, str, str], float] | None, officer: str, date: str, leg: Any, lang: str
) -> str:
    """ "of which N min on foot" for a leg to or from a village beyond the road, else nothing."""
    n = (walk or {}).get((officer, str(date)[:10], str(leg.get("to_id", ""))), 0.0)
    return f" · {t('sheets.walk', lang, n=js_number(n, 0))}" if n else ""


def routes_layer(
    routes: gpd.GeoDataFrame,
    *,
    lang: str = "zh",
    names: Mapping[str, str],
    walk: Mapping[tuple[str, str, str], float] | None = None,
    m: folium.Map | None = None,
    officers: Mapping[str, str] | None = None,
    walk_at: Collection[str] | None = None,
) -> folium.Map:
    """Add the routes: one layer per officer (off until switched on), one colour per day (MAP_DAY_COLOURS).

    Parameters
    ----------
    routes
        The plan's route legs in the map's coordinates.
    lang
        "zh" or "en".
    names
        village_id -> name, for the legs' tooltips.
    walk
        (officer_id, date, to village) -> minutes on foot of that drive (a village beyond the road): the leg's
        tooltip says so (:func:`walk_minutes`).
    m
        The map to add to; a new one when None.
    officers
        officer_id -> the name the layer shows (:func:`planner.outputs.lookups.officer_labels`); the id if absent.
    walk_at
        The walk-only villages' ids: the walk between the road's end and such a village is drawn dashed
        (:mod:`planner.outputs.mapwalk`).

    Returns
    -------
    folium.Map
        The map.
    """
    m = _new_map() if m is None else m
    label = officers or {}
    for officer, legs in routes.groupby(routes["officer_id"].astype(str), sort=True):
        shown = label.get(officer, officer)
        group = folium.FeatureGroup(name=js_text(t("map.layer.routes", lang, officer=shown)), show=False)
        # one GeoJson per officer, its legs coloured by day: a month has hundreds of officer-days, and folium
        # compiles templates for every GeoJson and tooltip it renders
        days, props = [], []
        for day_no, (date, day_legs) in enumerate(legs.groupby(legs["date"].astype(str), sort=True)):
            day_legs = day_legs.sort_values("seq") if "seq" in day_legs else day_legs
            colour = MAP_DAY_COLOURS[day_no % len(MAP_DAY_COLOURS)]
            days.append(day_legs)
            props += [
                {
                    "tip": js_text(
                        t(
                            "map.popup.route",
                            lang,
                            date=date,
                            seq=leg.get("seq", ""),
                            src=names.get(str(leg.get("from_id", "")), leg.get("from_id", "")),
                            dst=names.get(str(leg.get("to_id", "")), leg.get("to_id", "")),
                            minutes=js_number(leg.get("minutes"), 0),
                            km=js_number(leg.get("km"), 1),
                        )
                        + _walk_note(walk, officer, date, leg, lang)
                    ),
                    "colour": colour,
                }
                for _, leg in day_legs.iterrows()
            ]
        drawn, on_foot = split_walks(pd.concat(days) if len(days) > 1 else days[0], walk_at or ())
        if on_foot:
            lines = gpd.GeoSeries([g for _, g in on_foot], crs=drawn.crs)
            drawn = pd.concat([drawn, gpd.GeoDataFrame(geometry=lines)], ignore_index=True)
            props += [{**props[i], "dash": WALK_DASH} for i, _ in on_foot]
        folium.GeoJson(
            _feature_collection(drawn, props),
            style_function=lambda f: {
                "color": f["properties"]["colour"],
                "weight": 4,
                "opacity": 0.85,
                "dashArray": f["properties"].get("dash"),
            },
            tooltip=_tooltip(),
            className="planner-route",
            control=False,
        ).add_to(group)
        group.add_to(m)
    return m


def controls(
    villages: gpd.GeoDataFrame,
    *,
    lang: str = "zh",
    colours: Mapping[str, str],
    has_current: bool,
    has_routes: bool,
    stations: str = "",
    m: folium.Map | None = None,
) -> folium.Map:
    """Add the legend, full-screen button, measure tool and layer control, and fit the map to the villages.

    Parameters
    ----------
    villages
        The plan's villages in the map's coordinates (the map is fitted to them).
    lang
        "zh" or "en".
    colours
        district_id -> colour, as the villages are drawn.
    has_current, has_routes
        Whether the map shows current districts and routes (the legend explains them only then).
    stations
        The legend's lines for the stations (:func:`planner.outputs.mapstations.stations_legend`), if drawn.
    m
        The map to add to; a new one when None.

    Returns
    -------
    folium.Map
        The map.
    """
    m = _new_map() if m is None else m
    marks = set(villages["access"].astype(str)) if "access" in villages else set()
    body = _legend_body(
        colours, lang, has_current=has_current, has_routes=has_routes, stations=stations, marks=marks
    )
    _Legend(body).add_to(m)
    folium.plugins.Fullscreen(position="topleft").add_to(m)
    folium.plugins.MeasureControl(
        position="topleft",
        primary_length_unit="kilometers",
        secondary_length_unit="meters",
        primary_area_unit="hectares",
    ).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    if len(villages):
        minx, miny, maxx, maxy = villages.total_bounds
        # the villages in the part of the frame the controls leave free: the title above, the zoom buttons on
        # the left, the legend in the bottom-left corner, the layer list on the right
        m.fit_bounds([[miny, minx], [maxy, maxx]], padding_top_left=(200, 50), padding_bottom_right=(330, 20))
    return m


def plan_map(
    plan: PlanData,
    *,
    lang: str = "zh",
    tiles: str | BaseMap = "none",
    tile_key: str | None = None,
    m: folium.Map | None = None,
) -> folium.Map:
    """Draw a plan: villages by district, offices, stations, coverage, routes, hard-to-reach villages, current
    districts.

    Parameters
    ----------
    plan
        The plan, as a plan directory holds it. Layers may be in any CRS; they are drawn in WGS-84.
    lang
        "zh" or "en" for every label.
    tiles
        Base map: "none" (default: no tiles, works without internet), "osm" (OpenStreetMap; a note shows when
        its tiles do not load), "amap",
        "amap_satellite" (GCJ-02: the plan is shifted to match), "tianditu" (needs ``tile_key``), or a
        :class:`BaseMap` of your own.
    tile_key
        The provider's key for base maps that need one.
    m
        A map to add the layers to; a new one when None.

    Returns
    -------
    folium.Map
        The map, with a title and its month, district ids at every zoom and village names when zoomed in, a
        layer control, legend, scale, full-screen button and measure tool.
    """
    check_lang(lang)
    plan = with_shown_names(plan)  # [names] short: the labels and popups show 大寨村, not 大寨村民委员会
    base = _base_map(tiles, tile_key)
    shift = _gcj02_transform() if base is not None and base.gcj02 else None
    villages = _to_map_crs(plan.villages, "villages", shift)
    districts = _to_map_crs(plan.districts, "districts", shift)
    offices = _to_map_crs(plan.offices, "offices", shift)
    routes = (
        _to_map_crs(plan.routes, "routes", shift) if plan.routes is not None and len(plan.routes) else None
    )
    current = (
        _to_map_crs(plan.current, "current", shift)
        if plan.current is not None and len(plan.current)
        else None
    )

    m = _new_map() if m is None else m
    if base is not None:
        name = str(tiles) if isinstance(tiles, str) else "base map"
        base_map_layer(base, name=name, tile_key=tile_key, m=m)
    colours = district_colours(villages.get("district_id", []))
    names = village_names(villages)
    office_village = {o: names.get(v, v) for o, v in office_villages(offices).items()}
    n_officers = {str(d["district_id"]): d.get("officers") for _, d in districts.iterrows()}
    villages_layer(
        villages,
        lang=lang,
        colours=colours,
        office_village=office_village,
        n_officers=n_officers,
        visiting=visiting_officers(plan.schedule),
        m=m,
    )
    districts_layer(districts, lang=lang, m=m)
    coverage_layer(villages, lang=lang, m=m)
    access_layer(villages, lang=lang, m=m)
    offices_layer(offices, lang=lang, office_village=office_village, m=m)
    legend_stations = ""
    if plan.stations is not None and len(plan.stations):  # issue 15: the police stations and their R9
        stations_layer(_to_map_crs(plan.stations, "stations", shift), lang=lang, summary=plan.summary, m=m)
        short = any(f.get("more_community") for f in station_figures(plan.summary or {}).values())
        legend_stations = stations_legend(lang, any_short=short)
    if current is not None:
        current_layer(current, lang=lang, m=m)
    n_route_layers = 0
    if routes is not None:
        routes_layer(
            routes,
            lang=lang,
            names=names,
            walk=walk_minutes(plan.schedule),
            m=m,
            officers=officer_labels(plan.summary),
            walk_at=walk_villages(villages),
        )
        n_route_layers = routes["officer_id"].astype(str).nunique()  # routes_layer adds one layer per officer
    has_current = current is not None
    has_routes = n_route_layers > 0
    controls(
        villages,
        lang=lang,
        colours=colours,
        has_current=has_current,
        has_routes=has_routes,
        stations=legend_stations,
        m=m,
    )
    labels_layer(villages, districts, m=m)
    title_control((plan.summary or {}).get("month"), lang=lang, m=m)
    if base is not None:
        tile_note(lang=lang, m=m)
    logger.info(
        "map: %d villages, %d districts, %d offices, %d route layers",
        len(villages),
        len(districts),
        len(offices),
        n_route_layers,
    )
    return m
