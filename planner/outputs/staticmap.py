"""A static SVG map of the districts and offices for the printed report (no script, no tiles).

The villages are drawn coloured by district (the colours of map.html), the district boundaries dark, each office
a red square and each district labelled with its id, simplified to half a pixel so the page stays small.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from planner.model import PlanData
from planner.outputs.colours import ALERT, district_colours
from planner.outputs.html import escape, svg_image
from planner.texts import t

__all__ = ["districts_svg"]

WIDTH, HEIGHT, PAD = 680, 460, 12


def _wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf if gdf.crs is None or len(gdf) == 0 else gdf.to_crs(4326)


class _Frame:
    """lon/lat -> SVG pixels, equirectangular at the mean latitude, fitted into WIDTH x HEIGHT."""

    def __init__(self, bounds: tuple[float, float, float, float]) -> None:
        x0, y0, x1, y1 = bounds
        self.k = math.cos(math.radians((y0 + y1) / 2))
        w, h = max((x1 - x0) * self.k, 1e-9), max(y1 - y0, 1e-9)
        self.scale = min((WIDTH - 2 * PAD) / w, (HEIGHT - 2 * PAD) / h)
        self.x0, self.y1 = x0, y1
        self.dx, self.dy = (WIDTH - w * self.scale) / 2, (HEIGHT - h * self.scale) / 2

    def xy(self, coords: np.ndarray) -> np.ndarray:
        return np.column_stack(
            [
                (coords[:, 0] - self.x0) * self.k * self.scale + self.dx,
                (self.y1 - coords[:, 1]) * self.scale + self.dy,
            ]
        )

    def path(self, geom: BaseGeometry) -> str:
        parts = []
        for g in getattr(geom, "geoms", [geom]):
            if g.geom_type != "Polygon":
                continue
            for ring in [g.exterior, *g.interiors]:
                pts = self.xy(np.asarray(ring.coords)[:, :2])
                parts.append("M" + "L".join(f"{x:.0f} {y:.0f}" for x, y in pts) + "Z")
        return "".join(parts)


def districts_svg(plan: PlanData, *, lang: str = "zh") -> str:
    """The districts and offices of a plan as one inline SVG ('' when the plan has no geometry)."""
    villages = _wgs84(plan.villages)
    villages = villages[villages.geometry.notna() & ~villages.geometry.is_empty]
    if not len(villages):
        return ""
    frame = _Frame(tuple(villages.total_bounds))
    tol = 0.7 / frame.scale
    colours = district_colours(villages["district_id"])
    parts: list[str] = []
    for did, geom in zip(villages["district_id"].astype(str), villages.geometry, strict=True):
        colour = colours.get(did, "#cbd5e0")
        if geom.geom_type in ("Point", "MultiPoint"):
            x, y = frame.xy(shapely.get_coordinates(geom))[0]
            parts.append(f"<circle cx='{x:.0f}' cy='{y:.0f}' r='4' fill='{colour}' stroke='#4a5568'/>")
        else:
            d = frame.path(shapely.simplify(geom, tol))
            parts.append(
                f"<path d='{d}' fill='{colour}' fill-opacity='0.45' stroke='#fff' stroke-width='0.6'/>"
            )
    districts = villages.dissolve(by=villages["district_id"].astype(str))
    for geom in districts.geometry:
        if geom.geom_type in ("Polygon", "MultiPolygon"):
            d = frame.path(shapely.simplify(geom, tol))
            parts.append(f"<path d='{d}' fill='none' stroke='#2d3748' stroke-width='1.6'/>")
    offices = _wgs84(plan.offices) if plan.offices is not None else None
    if offices is not None and len(offices):
        for geom in offices.geometry:
            x, y = frame.xy(shapely.get_coordinates(geom.centroid))[0]
            parts.append(
                f"<rect class='office' x='{x - 4:.0f}' y='{y - 4:.0f}' width='8' height='8' fill='{ALERT}' "
                "stroke='#fff' stroke-width='1.2'/>"
            )
    for did, geom in zip(districts.index, districts.geometry, strict=True):
        x, y = frame.xy(shapely.get_coordinates(geom.representative_point()))[0]
        parts.append(
            f"<text class='district' x='{x:.0f}' y='{y + 14:.0f}' text-anchor='middle' font-size='13' "
            f"font-weight='bold' fill='#1a202c' stroke='#fff' stroke-width='3' paint-order='stroke'>"
            f"{escape(did)}</text>"
        )
    legend = (
        f"<rect x='{PAD}' y='{HEIGHT - 22}' width='8' height='8' fill='{ALERT}'/>"
        f"<text x='{PAD + 12}' y='{HEIGHT - 14}' font-size='11'>{escape(t('map.legend.office_plain', lang))}</text>"
    )
    return svg_image(WIDTH, HEIGHT, title=t("report.section.map", lang), body="".join(parts) + legend)
