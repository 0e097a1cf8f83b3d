"""The walking part of a route on the map: from the road's end to a walk-only village, and back (issue 11).

A village beyond the road (``access`` "walk") is reached on foot from the road node it was located at: the
route's line (:func:`planner.network.routes`) ends with that walk, one straight segment from the road node to the
village's point, and starts with it when the leg leaves such a village. The map draws that segment dashed, in its
day's colour and with its leg's tooltip, and the rest of the leg solid, so that a chief sees where the car stops.
"""

from __future__ import annotations

from collections.abc import Collection

import geopandas as gpd
from shapely.geometry import LineString

WALK_DASH = "6 6"  # the dashed walking line (Leaflet dashArray)


def walk_villages(villages: gpd.GeoDataFrame) -> set[str]:
    """The ids of the walk-only villages (``access`` "walk")."""
    if "access" not in villages or "village_id" not in villages:
        return set()
    return set(villages.loc[villages["access"].astype(str) == "walk", "village_id"].astype(str))


def split_walks(
    legs: gpd.GeoDataFrame, walk: Collection[str]
) -> tuple[gpd.GeoDataFrame, list[tuple[int, LineString]]]:
    """The legs with their walking segments cut off, and (position of the leg, its walking segment) for each:
    the last segment of a leg to a walk-only village, the first of a leg from one."""
    if not walk or not len(legs):
        return legs, []
    geoms = list(legs.geometry.values)
    out: list[tuple[int, LineString]] = []
    for pos, (src, dst) in enumerate(
        zip(legs["from_id"].astype(str), legs["to_id"].astype(str), strict=True)
    ):
        geom = geoms[pos]
        if geom is None or geom.is_empty or geom.geom_type != "LineString":
            continue
        xy = list(geom.coords)
        if dst in walk and len(xy) >= 3:
            out.append((pos, LineString(xy[-2:])))
            xy = xy[:-1]
        if src in walk and len(xy) >= 3:
            out.append((pos, LineString(xy[:2])))
            xy = xy[1:]
        geoms[pos] = LineString(xy) if len(xy) >= 2 else geom
    trimmed = legs.copy()
    trimmed.geometry = gpd.GeoSeries(geoms, index=legs.index, crs=legs.crs)
    return trimmed, out
