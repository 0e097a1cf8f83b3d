"""Labels, title and tile note of map.html: what a meeting room reads without clicking.

District ids are drawn at every zoom, village names from VILLAGE_LABEL_ZOOM in (a small script shows and hides
them as the map zooms), a title names the map and its month, and a map with tiles says so when they do not load
(a police intranet is often offline). Every text is HTML-escaped before it enters the page's script.
"""

from __future__ import annotations

import json

import folium
import geopandas as gpd
import shapely
from branca.element import Figure, MacroElement
from jinja2 import Template

from planner.outputs.html import escape, month_text
from planner.texts import t

__all__ = ["VILLAGE_LABEL_ZOOM", "labels_layer", "tile_note", "title_control"]

#: The zoom from which village names are shown (district ids are shown at every zoom).
VILLAGE_LABEL_ZOOM = 13

_CSS = """
<style>
.planner-label { background: none; border: none; }
.planner-label div { transform: translate(-50%, -50%); white-space: nowrap; text-align: center;
  font: 12px/1.2 "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; color: #1a202c;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 3px #fff; pointer-events: none; }
.planner-label.district div { font-size: 15px; font-weight: bold; }
.planner-title { position: absolute; top: 10px; left: 50%; transform: translateX(-50%); z-index: 1000;
  background: rgba(255,255,255,.92); padding: 4px 14px; border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.3);
  font: bold 16px "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; }
.planner-tile-note { position: absolute; bottom: 30px; left: 50%; transform: translateX(-50%); z-index: 1000;
  background: #fffbea; border: 1px solid #b7791f; padding: 4px 10px; border-radius: 4px; display: none;
  font: 13px sans-serif; }
</style>
"""

_SCRIPT = """
(function () {
  var map = %(map)s, minZoom = %(zoom)d;
  function layer(points, cls) {
    var group = L.layerGroup();
    points.forEach(function (p) {
      L.marker([p[0], p[1]], {interactive: false, keyboard: false,
        icon: L.divIcon({className: 'planner-label ' + cls, html: '<div>' + p[2] + '</div>', iconSize: [0, 0]})
      }).addTo(group);
    });
    return group;
  }
  var districts = layer(%(districts)s, 'district').addTo(map);
  var villages = layer(%(villages)s, 'village');
  function toggle() {
    if (map.getZoom() >= minZoom) { villages.addTo(map); } else { villages.remove(); }
  }
  map.on('zoomend', toggle);
  toggle();
  window.plannerLabels = {districts: districts, villages: villages, minZoom: minZoom};
})();
"""


class _Script(MacroElement):
    """A script run after the map and its layers exist (a child of the map renders after them)."""

    _template = Template("{% macro script(this, kwargs) %}{{ this.code }}{% endmacro %}")

    def __init__(self, code: str) -> None:
        super().__init__()
        self._name = "PlannerScript"
        self.code = code


def _figure(m: folium.Map) -> Figure:
    """The page the map is drawn on (its header and body take the labels' style, title and note)."""
    root = m.get_root()
    if not isinstance(root, Figure):
        raise TypeError("the map is not on a page (folium.Figure)")
    return root


def _points(gdf: gpd.GeoDataFrame, column: str) -> str:
    """[[lat, lon, escaped text], ...] of each geometry's representative point, as JSON for the script."""
    rows = []
    for geom, text in zip(gdf.geometry.values, gdf[column], strict=True):
        if geom is None or geom.is_empty:
            continue
        x, y = shapely.get_coordinates(geom.representative_point())[0]
        rows.append([round(float(y), 5), round(float(x), 5), escape(str(text))])
    # escape() leaves no '<', so the JSON cannot close the script element
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


def labels_layer(villages: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, *, m: folium.Map) -> folium.Map:
    """Add the district ids (every zoom) and the village names (from VILLAGE_LABEL_ZOOM) to ``m``.

    ``villages`` and ``districts`` are in the map's coordinates; villages need ``name``, districts
    ``district_id``.
    """
    _figure(m).header.add_child(folium.Element(_CSS))
    named = villages.assign(name=villages["name"].fillna(villages["village_id"]).astype(str))
    script = _SCRIPT % {
        "map": m.get_name(),
        "zoom": VILLAGE_LABEL_ZOOM,
        "districts": _points(districts, "district_id"),
        "villages": _points(named, "name"),
    }
    m.add_child(_Script(script))
    return m


def title_control(month: str | None, *, lang: str, m: folium.Map) -> folium.Map:
    """Add the map's title with its month at the top of ``m``."""
    title = t("map.title", lang)
    if month:
        title = t("map.title_month", lang, title=title, month=month_text(str(month), lang))
    _figure(m).html.add_child(folium.Element(f"<div class='planner-title'>{escape(title)}</div>"))
    return m


def tile_note(*, lang: str, m: folium.Map) -> folium.Map:
    """Add a note that shows when the base map's tiles fail to load (e.g. without internet)."""
    note = escape(t("map.tile_note", lang))
    _figure(m).html.add_child(
        folium.Element(f"<div class='planner-tile-note' id='planner-tile-note'>{note}</div>")
    )
    script = (
        f"{m.get_name()}.eachLayer(function (l) {{ if (l instanceof L.TileLayer) {{ l.on('tileerror', function () "
        "{ document.getElementById('planner-tile-note').style.display = 'block'; }); } });"
    )
    m.add_child(_Script(script))
    return m
