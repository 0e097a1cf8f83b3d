"""Routes along the roads: the line, seconds and metres from one village to another, and a plan's legs as lines."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra

from planner.network.graph import RoadNetwork
from planner.network.matrix import village_ids

Route = tuple[shapely.LineString, float, float]
T = TypeVar("T")


def route(network: RoadNetwork, access: pd.DataFrame, from_id: Any, to_id: Any) -> Route:
    """The way from one village to another along the roads: (line, seconds, metres).

    The line runs from the first village's access point (a straight walking leg when it is off the road) to
    the road, along the edge geometries, and on to the second village. Seconds equal the matrix entry of
    :func:`travel_times`. An unreachable pair gives an empty line and ``inf``.
    """
    return routes(network, access, [(from_id, to_id)])[0]


def routes(network: RoadNetwork, access: pd.DataFrame, pairs: Iterable[tuple[Any, Any]]) -> list[Route]:
    """:func:`route` for many pairs: one Dijkstra (with predecessors) per distinct origin, in batches."""
    empty: Route = (shapely.LineString(), math.inf, math.inf)
    same: Route = (shapely.LineString(), 0.0, 0.0)
    return _each_path(
        network, access, pairs, lambda a, b, dist, pred: _assemble(network, a, b, dist, pred), same, empty
    )


def route_edges(
    network: RoadNetwork, access: pd.DataFrame, pairs: Iterable[tuple[Any, Any]]
) -> list[np.ndarray]:
    """The network edges (indices, in driving order) of the route of each pair; empty when none is driven."""
    none = np.zeros(0, np.int64)

    def edges(a: pd.Series, b: pd.Series, dist: np.ndarray, pred: np.ndarray) -> np.ndarray:
        path = _node_path(a, b, dist, pred)
        return np.array([network.edge_index[(u, v)] for u, v in itertools.pairwise(path)], np.int64)

    return _each_path(network, access, pairs, edges, none, none)


def _each_path(
    network: RoadNetwork,
    access: pd.DataFrame,
    pairs: Iterable[tuple[Any, Any]],
    build: Callable[[pd.Series, pd.Series, np.ndarray, np.ndarray], T],
    same: T,
    empty: T,
) -> list[T]:
    """``build(a, b, dist, pred)`` for each pair of villages (access rows), one Dijkstra per distinct origin;
    ``same`` for a village to itself, ``empty`` where one of them is off the roads."""
    pairs = list(pairs)
    village_ids(access, [p[0] for p in pairs] + [p[1] for p in pairs], "route")
    pos = {k: i for i, k in enumerate(access.index)}
    node = access["node"].to_numpy(np.int64)
    ok = (access["access"].to_numpy(object) != "unreachable") & (node >= 0)
    results: list[T | None] = [None] * len(pairs)
    need: dict[int, list[int]] = {}
    for k, (a, b) in enumerate(pairs):
        ia, ib = pos[a], pos[b]
        if a == b:
            results[k] = same
        elif not (ok[ia] and ok[ib]):
            results[k] = empty
        else:
            need.setdefault(int(node[ia]), []).append(k)
    origins = np.array(sorted(need), np.int64)
    batch = max(1, int(20_000_000 // max(network.n_nodes, 1)))
    g = network.graph()
    for s in range(0, len(origins), batch):
        src = origins[s : s + batch]
        dist, pred = dijkstra(g, directed=True, indices=src, return_predecessors=True)
        for r, o in enumerate(src.tolist()):
            for k in need[o]:
                a, b = pairs[k]
                results[k] = build(access.iloc[pos[a]], access.iloc[pos[b]], dist[r], pred[r])
    return [r if r is not None else empty for r in results]


def _node_path(a: pd.Series, b: pd.Series, dist: np.ndarray, pred: np.ndarray) -> list[int]:
    """The road nodes from village a's access node to b's ([] when b's is not reached)."""
    target = int(b["node"])
    if not np.isfinite(dist[target]):
        return []
    path = [target]
    while path[-1] != int(a["node"]):
        path.append(int(pred[path[-1]]))
    path.reverse()
    return path


def _assemble(network: RoadNetwork, a: pd.Series, b: pd.Series, dist: np.ndarray, pred: np.ndarray) -> Route:
    target = int(b["node"])
    path = _node_path(a, b, dist, pred)
    if not path:
        return (shapely.LineString(), math.inf, math.inf)
    coords: list[np.ndarray] = [np.array([[a["x"], a["y"]]]), _leg(network, a, outbound=True)]
    meters = float(a["snap_m"]) + _leg_len(network, a)
    for u, v in itertools.pairwise(path):
        e = network.edge_index[(u, v)]
        coords.append(shapely.get_coordinates(network.edge_geometry[e]))
        meters += float(network.edge_length_m[e])
    coords += [_leg(network, b, outbound=False), np.array([[b["x"], b["y"]]])]
    xy = np.vstack([c for c in coords if len(c)])
    keep = np.r_[True, np.any(np.abs(np.diff(xy, axis=0)) > 1e-9, axis=1)]
    xy = xy[keep]
    meters += float(b["snap_m"]) + _leg_len(network, b)
    seconds = (
        float(dist[target])
        + float(a["walk_s"])
        + float(a["drive_s"])
        + float(b["walk_s"])
        + float(b["drive_s"])
    )
    line = shapely.LineString(xy) if len(xy) >= 2 else shapely.LineString()
    return (line, seconds, meters)


def _leg(network: RoadNetwork, row: pd.Series, *, outbound: bool) -> np.ndarray:
    """Coordinates from the snap point along the snapped edge to the access node (reversed when inbound)."""
    from shapely.ops import substring

    e = int(row["edge"])
    geom = network.edge_geometry[e]
    L = float(network.edge_length_m[e])
    t = float(row["edge_frac"]) * L
    at_u = int(row["node"]) == int(network.edge_u[e])
    piece = substring(geom, t, 0.0) if at_u else substring(geom, t, L)
    xy = shapely.get_coordinates(piece)
    return xy if outbound else xy[::-1]


def _leg_len(network: RoadNetwork, row: pd.Series) -> float:
    e = int(row["edge"])
    L = float(network.edge_length_m[e])
    t = float(row["edge_frac"])
    return (t if int(row["node"]) == int(network.edge_u[e]) else 1.0 - t) * L


def leg_lines(network: RoadNetwork, access: pd.DataFrame, legs: pd.DataFrame) -> gpd.GeoDataFrame:
    """Each leg of the monthly plan as a line along the roads; each distinct pair is routed once.

    Parameters
    ----------
    network, access
        From :func:`planner.network.build_network` and :func:`planner.network.locate_villages`.
    legs
        One row per leg with ``from_id`` and ``to_id`` (village ids) and any other columns, which are kept.

    Returns
    -------
    GeoDataFrame
        ``legs`` plus ``km`` (along the roads) and the line of each leg, in the network's CRS.
    """
    pairs = list(dict.fromkeys(zip(legs["from_id"].astype(str), legs["to_id"].astype(str), strict=True)))
    found = dict(zip(pairs, routes(network, access, pairs), strict=True))
    keys = list(zip(legs["from_id"].astype(str), legs["to_id"].astype(str), strict=True))
    out = legs.copy()
    out["km"] = [round(found[k][2] / 1000.0, 3) for k in keys]
    return gpd.GeoDataFrame(out, geometry=[found[k][0] for k in keys], crs=network.crs)
