"""The walking part of a route on the map: from the road's end to a walk-only village, and back (issue 11).

A village beyond the road (``access`` "walk") is reached on foot from the road node it was located at; the
routes layer's lines run on the road network and stop there. The map draws the walk as a dashed straight line
from the leg's road end to the village's mark (the point :func:`planner.outputs.maps.access_layer` marks it at),
coloured as its day and with its leg's tooltip, so that a chief sees where the car stops.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry import LineString

WALK_DASH = "6 6"  # the dashed walking line (Leaflet dashArray)


def walk_points(villages: gpd.GeoDataFrame) -> dict[str, Any]:
    """village_id -> the point the map marks a walk-only village at (inside the village), for every such one."""
    if "access" not in villages or "village_id" not in villages:
        return {}
    walk = villages[villages["access"].astype(str) == "walk"]
    return dict(zip(walk["village_id"].astype(str), walk.geometry.representative_point(), strict=True))


def walk_connectors(legs: gpd.GeoDataFrame, points: Mapping[str, Any]) -> list[tuple[int, LineString]]:
    """(position of the leg in ``legs``, the walk line) for each leg that ends at or starts from a walk-only
    village: the road end -> the village when it goes there, the village -> the road start when it leaves."""
    out: list[tuple[int, LineString]] = []
    for pos, (geom, src, dst) in enumerate(
        zip(legs.geometry.values, legs["from_id"].astype(str), legs["to_id"].astype(str), strict=True)
    ):
        if geom is None or geom.is_empty:
            continue
        parts = shapely.get_parts(geom)
        if dst in points:
            end = parts[-1].coords[-1]
            out.append((pos, LineString([end, points[dst].coords[0]])))
        if src in points:
            start = parts[0].coords[0]
            out.append((pos, LineString([points[src].coords[0], start])))
    return out
