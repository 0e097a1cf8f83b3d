"""Road network and travel times: a drivable directed graph, village access, many-to-many matrices, routes.

See docs/ARCHITECTURE.md for the contracts. :class:`TravelTimes` is shared by every later stage.

The travel-time model
---------------------
Edge speed (km/h), from the road class and its tags (:class:`planner.rules.NetworkRules`):

1. ``speeds_kmh[class]`` (``default_speed_kmh`` for an unknown class; the mean of the classes when osmnx merged
   ways of several classes into one edge). A line layer's own speed column, where given, replaces steps 1-4.
2. A posted ``maxspeed`` caps it: ``min(maxspeed, class speed)``. The class speeds are what mixed rural traffic
   achieves, below most limits, so a limit only matters where it is lower (villages, school zones, hairpins).
3. Unpaved surfaces (``surface`` = unpaved, gravel, dirt, ground, ..., or ``tracktype`` grade2-5) and
   ``highway=track`` without a paved surface: times ``unpaved_factor``.
4. Winding roads: divided by ``1 + sinuosity_penalty * (sinuosity - 1)``. Sinuosity is the edge's length over
   its chord, measured on pieces of about 1 km (an edge of length L is cut into ceil(L / 1 km) equal pieces and
   the chords of the pieces are summed) so that a long, gently curving valley road between two junctions is not
   taken for a mountain road while hairpins are; it is clipped to [1, 3].

Edge seconds = length / speed. Villages reach the roads at the nearest point of the main road piece; the part of
the edge between that point and the nearer end node is driven at the edge's speed (``drive_s``, the same both
ways: an approximation of at most half an edge), any gap to the road is walked at ``walk_kmh`` (``walk_s``).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from planner.errors import ValidationError
from planner.model import TravelTimes
from planner.rules import NetworkRules

log = logging.getLogger(__name__)


SINUOSITY_WINDOW_M = 1000.0


SINUOSITY_MAX = 3.0


NODE_TOLERANCE_M = 0.05


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """A drivable directed road graph in a metric CRS (all pieces kept, see :meth:`summary`).

    Attributes
    ----------
    node_xy
        (n, 2) node coordinates in metres.
    edge_u, edge_v
        (m,) directed edges u -> v (a two-way road is two edges).
    edge_seconds, edge_length_m
        (m,) travel time and length of each edge.
    edge_highway
        (m,) road class of each edge.
    edge_geometry
        (m,) shapely LineStrings drawn from u to v.
    crs
        The metric CRS of the coordinates.
    source
        The road file the network came from (for messages).
    """

    node_xy: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_seconds: np.ndarray
    edge_length_m: np.ndarray
    edge_highway: np.ndarray
    edge_geometry: np.ndarray
    crs: Any
    source: str = field(default="<roads>")

    def __post_init__(self) -> None:
        m = len(self.edge_u)
        for name in ("edge_v", "edge_seconds", "edge_length_m", "edge_highway", "edge_geometry"):
            if len(getattr(self, name)) != m:
                raise ValueError(f"{name} has {len(getattr(self, name))} entries, edge_u has {m}")
        if m and (self.edge_u.max() >= self.n_nodes or self.edge_v.max() >= self.n_nodes):
            raise ValueError("an edge refers to a node that is not in node_xy")
        if m and not np.all(self.edge_seconds > 0):
            raise ValueError("edge_seconds must be positive")

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_xy.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return len(self.edge_u)

    @cached_property
    def fastest_edge(self) -> np.ndarray:
        """For every (u, v) with u != v, the index of its fastest parallel edge (self-loops left out)."""
        idx = np.flatnonzero(self.edge_u != self.edge_v)
        order = idx[np.lexsort((self.edge_seconds[idx], self.edge_v[idx], self.edge_u[idx]))]
        u, v = self.edge_u[order], self.edge_v[order]
        first = np.ones(len(order), bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        return order[first]

    def graph(self) -> sp.csr_matrix:
        """The n x n CSR matrix of edge seconds, keeping the fastest of parallel edges (self-loops dropped)."""
        return self._graph

    @cached_property
    def _graph(self) -> sp.csr_matrix:
        e = self.fastest_edge
        n = self.n_nodes
        return sp.csr_matrix((self.edge_seconds[e], (self.edge_u[e], self.edge_v[e])), shape=(n, n))

    @cached_property
    def edge_index(self) -> dict[tuple[int, int], int]:
        """(u, v) -> index of the fastest edge, for turning node paths into edges."""
        e = self.fastest_edge
        return dict(
            zip(zip(self.edge_u[e].tolist(), self.edge_v[e].tolist(), strict=True), e.tolist(), strict=True)
        )

    @cached_property
    def strong_pieces(self) -> np.ndarray:
        """Strongly connected piece label of every node."""
        return connected_components(self.graph(), directed=True, connection="strong")[1]

    @cached_property
    def weak_pieces(self) -> np.ndarray:
        """Weakly connected piece label of every node (roads joined regardless of direction)."""
        return connected_components(self.graph(), directed=True, connection="weak")[1]

    @cached_property
    def fingerprint(self) -> str:
        """A hash of the graph arrays (the travel-time cache key)."""
        h = hashlib.sha256()
        h.update(np.int64(self.n_nodes).tobytes())
        for a in (self.edge_u, self.edge_v):
            h.update(np.ascontiguousarray(a, dtype=np.int64).tobytes())
        h.update(np.ascontiguousarray(self.edge_seconds, dtype=np.float64).tobytes())
        return h.hexdigest()

    def summary(self) -> dict[str, Any]:
        """Nodes, edges, km of road, and the connected pieces (weak and strong)."""
        weak = np.bincount(self.weak_pieces) if self.n_nodes else np.zeros(0, int)
        strong = np.bincount(self.strong_pieces) if self.n_nodes else np.zeros(0, int)
        # A two-way road is two edges: count each (unordered node pair, length) once.
        a, b = np.minimum(self.edge_u, self.edge_v), np.maximum(self.edge_u, self.edge_v)
        key = pd.DataFrame({"a": a, "b": b, "len": np.round(self.edge_length_m, 1)})
        km = float(key.drop_duplicates()["len"].sum() / 1000.0)
        sizes = np.sort(weak)[::-1]
        return {
            "nodes": self.n_nodes,
            "edges": self.n_edges,
            "km": round(km, 1),
            "pieces": len(weak),
            "largest_piece_share": float(sizes[0] / self.n_nodes) if self.n_nodes else 0.0,
            "piece_nodes": sizes[:10].tolist(),
            "strong_pieces": len(strong),
            "largest_strong_piece_nodes": int(strong.max()) if len(strong) else 0,
            "source": self.source,
        }


def edge_speeds_kmh(
    roads: gpd.GeoDataFrame, lengths_m: np.ndarray, geoms: np.ndarray, *, rules: NetworkRules
) -> tuple[np.ndarray, np.ndarray]:
    """Speed (km/h) and sinuosity of every road line; the model is in the module docstring."""
    n = len(roads)
    if "class_speed_key" in roads:
        classes = list(roads["class_speed_key"])
    else:
        classes = [(str(h),) for h in roads["highway"]]
    base = np.array(
        [np.mean([rules.speeds_kmh.get(c, rules.default_speed_kmh) for c in cs]) for cs in classes],
        dtype=float,
    )
    maxspeed = roads["maxspeed_kmh"].to_numpy(float) if "maxspeed_kmh" in roads else np.full(n, np.nan)
    speed = np.where(np.isfinite(maxspeed), np.minimum(base, maxspeed), base)
    unpaved = roads["unpaved"].to_numpy(bool) if "unpaved" in roads else np.zeros(n, bool)
    speed = np.where(unpaved, speed * rules.unpaved_factor, speed)
    sinuosity = road_sinuosity(geoms, lengths_m)
    speed = speed / (1.0 + rules.sinuosity_penalty * (sinuosity - 1.0))
    given = roads["speed_kmh"].to_numpy(float) if "speed_kmh" in roads else np.full(n, np.nan)
    speed = np.where(np.isfinite(given) & (given > 0), given, speed)
    return speed, sinuosity


def road_sinuosity(
    geoms: np.ndarray, lengths_m: np.ndarray, *, window_m: float = SINUOSITY_WINDOW_M
) -> np.ndarray:
    """Length over the summed chords of ~``window_m`` pieces, clipped to [1, SINUOSITY_MAX]."""
    n = len(geoms)
    if n == 0:
        return np.zeros(0)
    k = np.maximum(1, np.ceil(lengths_m / window_m)).astype(np.int64)
    owner = np.repeat(np.arange(n), k + 1)
    start = np.repeat(np.cumsum(k + 1) - (k + 1), k + 1)
    step = np.arange(len(owner)) - start
    dist = step * (lengths_m[owner] / k[owner])
    pts = shapely.get_coordinates(shapely.line_interpolate_point(geoms[owner], dist))
    seg = np.hypot(*(pts[1:] - pts[:-1]).T)
    same = owner[1:] == owner[:-1]
    chords = np.bincount(owner[1:][same], weights=seg[same], minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(chords > 1.0, lengths_m / chords, 1.0)
    return np.clip(s, 1.0, SINUOSITY_MAX)


def build_network(
    roads: gpd.GeoDataFrame, *, rules: NetworkRules, crs: Any, node_tolerance_m: float = NODE_TOLERANCE_M
) -> RoadNetwork:
    """Build the directed road graph from :func:`planner.io.roads.read_roads` output, in the metric ``crs``.

    OSM tables (with ``u``, ``v``) are already directed edges. Road-line layers are noded: a node at every
    shared endpoint and at every true crossing of two lines (shapely intersections; lines with different
    ``layer`` values, i.e. bridges and tunnels, are not joined where they cross), endpoints closer than
    ``node_tolerance_m`` merged (a numeric tolerance, not a gap closer: a road that stops short of another stays
    apart, and villages that only reach it are reported unreachable). ``oneway`` is honoured. Every connected
    piece is kept.
    """
    if roads.crs is None:
        raise ValidationError(
            f"{roads.attrs.get('source', '<roads>')}: the road data has no CRS.",
            zh=f"{roads.attrs.get('source', '<roads>')}: 道路数据没有坐标系。",
        )
    source = str(roads.attrs.get("source", "<roads>"))
    r = roads.to_crs(crs)
    geoms = r.geometry.to_numpy()
    if "u" in r and "v" in r:
        ids = np.concatenate([r["u"].to_numpy(np.int64), r["v"].to_numpy(np.int64)])
        uniq, inv = np.unique(ids, return_inverse=True)
        m = len(r)
        eu, ev = inv[:m], inv[m:]
        xy = np.zeros((len(uniq), 2))
        coords_start = shapely.get_coordinates(shapely.get_point(geoms, 0))
        coords_end = shapely.get_coordinates(shapely.get_point(geoms, -1))
        xy[eu] = coords_start
        xy[ev] = coords_end
        attrs = r.drop(columns="geometry")
        edge_geoms = geoms
        src_rows = np.arange(m)
    else:
        pieces, src_rows = _node_lines(geoms, r["layer"].to_numpy() if "layer" in r else None)
        starts = shapely.get_coordinates(shapely.get_point(pieces, 0))
        ends = shapely.get_coordinates(shapely.get_point(pieces, -1))
        node_of, xy = _merge_points(np.vstack([starts, ends]), tol=node_tolerance_m)
        pu, pv = node_of[: len(pieces)], node_of[len(pieces) :]
        ow = r["oneway"].to_numpy(np.int8)[src_rows] if "oneway" in r else np.zeros(len(pieces), np.int8)
        fwd = ow >= 0
        bwd = ow <= 0
        eu = np.concatenate([pu[fwd], pv[bwd]])
        ev = np.concatenate([pv[fwd], pu[bwd]])
        edge_geoms = np.concatenate([pieces[fwd], shapely.reverse(pieces[bwd])])
        src_rows = np.concatenate([src_rows[fwd], src_rows[bwd]])
        attrs = r.drop(columns="geometry").iloc[src_rows].reset_index(drop=True)
    lengths = shapely.length(edge_geoms).astype(float)
    ok = lengths > 0
    if not ok.all():
        log.info("%s: %d zero-length road pieces left out", source, int((~ok).sum()))
        eu, ev, edge_geoms, lengths = eu[ok], ev[ok], edge_geoms[ok], lengths[ok]
        attrs = attrs[ok].reset_index(drop=True)
    speed, _ = edge_speeds_kmh(attrs, lengths, edge_geoms, rules=rules)
    seconds = lengths / (speed / 3.6)
    net = RoadNetwork(
        node_xy=np.ascontiguousarray(xy, dtype=float),
        edge_u=np.asarray(eu, np.int64),
        edge_v=np.asarray(ev, np.int64),
        edge_seconds=seconds,
        edge_length_m=lengths,
        edge_highway=attrs["highway"].to_numpy(object)
        if "highway" in attrs
        else np.full(len(eu), "road", object),
        edge_geometry=np.asarray(edge_geoms, dtype=object),
        crs=crs,
        source=source,
    )
    log.info("road network %s: %s", source, net.summary())
    return net


def _node_lines(geoms: np.ndarray, layer: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Split lines at every point where they touch or cross another line (of the same layer)."""
    from shapely.ops import substring

    n = len(geoms)
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="intersects")
    keep = i < j
    if layer is not None:
        keep &= layer[i] == layer[j]
    i, j = i[keep], j[keep]
    cut_line: list[np.ndarray] = []
    cut_pts: list[np.ndarray] = []
    if len(i):
        inter = shapely.intersection(geoms[i], geoms[j])
        parts, pidx = shapely.get_parts(inter, return_index=True)
        # A shared stretch (overlapping lines) is cut at its two ends.
        is_line = shapely.get_type_id(parts) == 1
        pts_geom = np.concatenate(
            [parts[~is_line], shapely.get_point(parts[is_line], 0), shapely.get_point(parts[is_line], -1)]
        )
        owner_pair = np.concatenate([pidx[~is_line], pidx[is_line], pidx[is_line]])
        for side in (i, j):
            cut_line.append(side[owner_pair])
            cut_pts.append(pts_geom)
    if not cut_line:
        return geoms, np.arange(n)
    lines = np.concatenate(cut_line)
    pts = np.concatenate(cut_pts)
    dist = shapely.line_locate_point(geoms[lines], pts)
    lengths = shapely.length(geoms)
    out: list[Any] = []
    src: list[int] = []
    order = np.lexsort((dist, lines))
    lines, dist = lines[order], dist[order]
    bounds = np.flatnonzero(np.r_[True, lines[1:] != lines[:-1], True])
    has_cut = np.zeros(n, bool)
    cuts_of: dict[int, np.ndarray] = {}
    for a, b in itertools.pairwise(bounds):
        k = int(lines[a])
        d = dist[a:b]
        d = d[(d > NODE_TOLERANCE_M) & (d < lengths[k] - NODE_TOLERANCE_M)]
        if len(d):
            keep_d = np.r_[True, np.diff(d) > NODE_TOLERANCE_M]
            cuts_of[k] = d[keep_d]
            has_cut[k] = True
    for k in range(n):
        if not has_cut[k]:
            out.append(geoms[k])
            src.append(k)
            continue
        marks = np.r_[0.0, cuts_of[k], lengths[k]]
        for a, b in itertools.pairwise(marks):
            out.append(substring(geoms[k], float(a), float(b)))
            src.append(k)
    res = np.empty(len(out), dtype=object)
    res[:] = out
    return res, np.asarray(src, np.int64)


def _merge_points(xy: np.ndarray, *, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Cluster points closer than ``tol``; return each point's cluster id and the clusters' coordinates."""
    tree = cKDTree(xy)
    pairs = tree.query_pairs(r=tol, output_type="ndarray")
    n = len(xy)
    adj = (
        sp.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
        if len(pairs)
        else sp.coo_matrix((n, n))
    )
    _, lab = connected_components(adj, directed=False)
    counts = np.bincount(lab)
    cx = np.bincount(lab, weights=xy[:, 0]) / counts
    cy = np.bincount(lab, weights=xy[:, 1]) / counts
    return lab.astype(np.int64), np.column_stack([cx, cy])


def _km(m: float) -> str:
    return f"{m / 1000:.1f} km" if m >= 1000 else f"{m:.0f} m"


def access_points(villages: gpd.GeoDataFrame) -> np.ndarray:
    """(n, 2) access point per village: ``anchor_x``/``anchor_y`` when given, else a point inside the geometry."""
    rep = shapely.get_coordinates(shapely.point_on_surface(villages.geometry.to_numpy()))
    if rep.shape[0] != len(villages):
        bad = list(villages.index[villages.geometry.isna() | villages.geometry.is_empty][:20])
        raise ValidationError(
            f"villages {bad} have no geometry; give each village a polygon or a point.",
            zh=f"村 {bad} 没有几何; 请给每个村一个面或点。",
        )
    if "anchor_x" in villages and "anchor_y" in villages:
        ax = pd.to_numeric(villages["anchor_x"], errors="coerce").to_numpy(float)
        ay = pd.to_numeric(villages["anchor_y"], errors="coerce").to_numpy(float)
        given = np.isfinite(ax) & np.isfinite(ay)
        rep[given, 0] = ax[given]
        rep[given, 1] = ay[given]
    return rep


def locate_villages(network: RoadNetwork, villages: gpd.GeoDataFrame, *, rules: NetworkRules) -> pd.DataFrame:
    """Where each village meets the road graph, or why it cannot.

    The main piece is the strongly connected piece of the graph nearest to most villages (ties: the largest);
    every road village can reach every other one through it. Each village's access point is snapped to the
    nearest point of a main-piece road (an STRtree nearest query on the edge lines) and joined to the nearer end
    node of that edge. A gap up to ``max_snap_m`` counts as on the road; up to ``max_walk_m`` it is walked at
    ``walk_kmh`` (access "walk"); beyond, the village is "unreachable", with the reason, in English and Chinese.

    Returns
    -------
    DataFrame indexed like ``villages``: node (-1 if none), access, snap_m (metres to the road), walk_s,
    drive_s (seconds along the snapped edge to its node), reason, reason_zh, x, y (access point), snap_x, snap_y,
    edge (-1 if none), edge_frac (position of the snap point along the edge, 0 at u).

    Raises
    ------
    ValidationError
        Villages lie outside the road data's coverage. The criterion: a village whose access point is outside
        the bounding box of the road nodes grown by ``max_walk_m`` is farther than ``max_walk_m`` from every
        road and outside the area the road file covers, so the road file does not cover it (a clipped or wrong
        extract, or a CRS mix-up) rather than the village lacking roads; the message lists those villages.
    """
    if villages.crs is None:
        raise ValidationError(
            "the villages have no CRS; give the village file with its coordinate system.",
            zh="村图层没有坐标系; 请提供带坐标系的村文件。",
        )
    v = villages
    xy = access_points(villages)  # anchors are in the villages' own CRS: transform the points, not the layer
    if villages.crs != network.crs:
        from pyproj import Transformer

        tr = Transformer.from_crs(villages.crs, network.crs, always_xy=True)
        xy = np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))
    n = len(v)
    if network.n_edges == 0:
        raise ValidationError(
            f"{network.source}: the road network is empty; give a road file that covers the villages.",
            zh=f"{network.source}: 道路网为空; 请给出覆盖各村的道路文件。",
        )
    lo = network.node_xy.min(axis=0) - rules.max_walk_m
    hi = network.node_xy.max(axis=0) + rules.max_walk_m
    outside = ~np.all((xy >= lo) & (xy <= hi), axis=1)
    if outside.any():
        ids = [str(x) for x in v.index[outside]]
        shown = ", ".join(ids[:20]) + (f" and {len(ids) - 20} more" if len(ids) > 20 else "")
        cover = _coverage_text(network)
        raise ValidationError(
            f"{network.source}: {len(ids)} of {n} villages lie outside the road file's coverage ({cover}, "
            f"grown by the {_km(rules.max_walk_m)} walking limit): {shown}. Give a road file that covers the "
            "villages (or check the villages' coordinates).",
            zh=f"{network.source}: {n} 个村中有 {len(ids)} 个位于道路文件的覆盖范围 ({cover}, 外扩步行上限 "
            f"{_km(rules.max_walk_m)}) 之外: {shown}。请给出覆盖这些村的道路文件 (或检查村的坐标)。",
        )
    pieces = network.strong_pieces
    node_tree = cKDTree(network.node_xy)
    d_node, near_node = node_tree.query(xy)
    counts = np.bincount(pieces[near_node[d_node <= rules.max_walk_m]], minlength=pieces.max() + 1)
    sizes = np.bincount(pieces)
    main = int(np.lexsort((sizes, counts))[-1])
    in_main = (
        (pieces[network.edge_u] == main)
        & (pieces[network.edge_v] == main)
        & (network.edge_u != network.edge_v)
    )
    main_edges = np.flatnonzero(in_main)
    pts = shapely.points(xy)
    tree_main = shapely.STRtree(network.edge_geometry[main_edges])
    (qi, ei), dist_main = tree_main.query_nearest(pts, return_distance=True, all_matches=False)
    d_main = np.full(n, np.inf)
    edge = np.full(n, -1, np.int64)
    d_main[qi] = dist_main
    edge[qi] = main_edges[ei]
    tree_all = shapely.STRtree(network.edge_geometry)
    (qa, _ea), dist_all = tree_all.query_nearest(pts, return_distance=True, all_matches=False)
    d_any = np.full(n, np.inf)
    d_any[qa] = dist_all
    walk_ms = rules.walk_kmh / 3.6
    node = np.full(n, -1, np.int64)
    access = np.full(n, "unreachable", dtype=object)
    walk_s = np.full(n, np.nan)
    drive_s = np.full(n, np.nan)
    frac = np.full(n, np.nan)
    snap = np.full((n, 2), np.nan)
    reason = [""] * n
    reason_zh = [""] * n
    ok = d_main <= rules.max_walk_m
    if ok.any():
        g = network.edge_geometry[edge[ok]]
        t = shapely.line_locate_point(g, pts[ok], normalized=True)
        snap[ok] = shapely.get_coordinates(shapely.line_interpolate_point(g, t, normalized=True))
        at_u = t <= 0.5
        node[ok] = np.where(at_u, network.edge_u[edge[ok]], network.edge_v[edge[ok]])
        drive_s[ok] = np.where(at_u, t, 1.0 - t) * network.edge_seconds[edge[ok]]
        frac[ok] = t
        walk_s[ok] = np.where(d_main[ok] > rules.max_snap_m, d_main[ok] / walk_ms, 0.0)
        access[ok] = np.where(d_main[ok] > rules.max_snap_m, "walk", "road")
    for k in range(n):
        if access[k] == "walk":
            mins = walk_s[k] / 60
            reason[k] = (
                f"nearest connected road {_km(d_main[k])} away, beyond the {_km(rules.max_snap_m)} snapping "
                f"distance: walked at {rules.walk_kmh:g} km/h ({mins:.0f} min)"
            )
            reason_zh[k] = (
                f"最近的连通道路在 {_km(d_main[k])} 外, 超过 {_km(rules.max_snap_m)} 的接入距离: 按步行 "
                f"{rules.walk_kmh:g} km/h 计 ({mins:.0f} 分钟)"
            )
        elif access[k] == "unreachable":
            if d_any[k] <= rules.max_walk_m and d_any[k] < d_main[k]:
                far = "none" if not np.isfinite(d_main[k]) else _km(d_main[k])
                reason[k] = (
                    f"the nearest road ({_km(d_any[k])} away) is on a road piece that does not connect to "
                    f"the main network; the connected network is {far} away, beyond the "
                    f"{_km(rules.max_walk_m)} walking limit"
                )
                reason_zh[k] = (
                    f"最近的道路 ({_km(d_any[k])} 外) 属于与主路网不连通的路段; 连通的路网在 {far} 外, "
                    f"超过 {_km(rules.max_walk_m)} 的步行上限"
                )
            else:
                reason[k] = (
                    f"nearest road {_km(d_any[k])} away, beyond the {_km(rules.max_walk_m)} walking limit"
                )
                reason_zh[k] = f"最近的道路在 {_km(d_any[k])} 外, 超过 {_km(rules.max_walk_m)} 的步行上限"
    out = pd.DataFrame(
        {
            "node": node,
            "access": pd.Series(access, dtype=object).to_numpy(),
            "snap_m": np.where(np.isfinite(d_main) & ok, d_main, d_any),
            "walk_s": walk_s,
            "drive_s": drive_s,
            "reason": reason,
            "reason_zh": reason_zh,
            "x": xy[:, 0],
            "y": xy[:, 1],
            "snap_x": snap[:, 0],
            "snap_y": snap[:, 1],
            "edge": np.where(ok, edge, -1),
            "edge_frac": frac,
        },
        index=villages.index.copy(),
    )
    log.info("village access: %s", out["access"].value_counts().to_dict())
    return out


def _coverage_text(network: RoadNetwork) -> str:
    lo = network.node_xy.min(axis=0)
    hi = network.node_xy.max(axis=0)
    try:
        from pyproj import Transformer

        tr = Transformer.from_crs(network.crs, "EPSG:4326", always_xy=True)
        (x0, x1), (y0, y1) = tr.transform([lo[0], hi[0]], [lo[1], hi[1]])
        return f"lon {x0:.4f} to {x1:.4f}, lat {y0:.4f} to {y1:.4f}"
    except Exception:  # noqa: BLE001 - a CRS pyproj cannot invert: fall back to metric coordinates
        return f"x {lo[0]:.0f} to {hi[0]:.0f}, y {lo[1]:.0f} to {hi[1]:.0f} m"


def _min_csr(rows: np.ndarray, cols: np.ndarray, w: np.ndarray, n: int) -> sp.csr_matrix:
    """CSR of the smallest weight per (row, col) (csr_matrix would add duplicates up)."""
    order = np.lexsort((w, cols, rows))
    rows, cols, w = rows[order], cols[order], w[order]
    first = np.ones(len(rows), bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    g = sp.csr_matrix((w[first], (rows[first], cols[first])), shape=(n, n))
    g.sort_indices()
    return g


def _core_graph(
    graph: sp.csr_matrix, keep_nodes: np.ndarray, terminals: np.ndarray
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Shrink the graph without changing any shortest time between terminals.

    Works on the sub-graph of ``keep_nodes`` (the main strongly connected piece: a shortest path between two of
    its nodes never leaves it). Non-terminal dead ends are pruned (a shortest path never enters a dead end and
    comes back) and chains of non-terminal nodes with exactly two neighbours are contracted (a -> x1 -> ... -> b
    becomes a -> b with the summed time, each direction where every edge of it exists, the faster one kept beside
    an existing a -> b); repeated while it shrinks the graph. Vectorised: every chain is walked at once, one
    step per round. Returns the core CSR and, per core node, its node id in ``graph``.
    """
    sub = graph[keep_nodes][:, keep_nodes].tocoo()
    n = len(keep_nodes)
    is_term = np.zeros(graph.shape[0], bool)
    is_term[terminals] = True
    term = is_term[keep_nodes]
    nodiag = sub.row != sub.col
    rows, cols, w = sub.row[nodiag].astype(np.int64), sub.col[nodiag].astype(np.int64), sub.data[nodiag]
    alive = np.ones(n, bool)
    for _ in range(8):
        before = int(alive.sum())
        # undirected neighbour pattern of the live graph
        a_ = np.concatenate([rows, cols])
        b_ = np.concatenate([cols, rows])
        P = sp.csr_matrix((np.ones(len(a_), np.int8), (a_, b_)), shape=(n, n))
        P.data[:] = 1
        P.eliminate_zeros()
        deg = np.diff(P.indptr).astype(np.int64)
        frontier = np.flatnonzero((deg <= 1) & ~term & alive)
        while frontier.size:
            alive[frontier] = False
            nb = P[frontier].indices
            deg -= np.bincount(nb, minlength=n)
            cand = np.unique(nb)
            frontier = cand[(deg[cand] <= 1) & ~term[cand] & alive[cand]]
        live_e = alive[rows] & alive[cols]
        rows, cols, w = rows[live_e], cols[live_e], w[live_e]
        chain = alive & ~term & (deg == 2)
        if chain.any():
            rows, cols, w, gone = _contract_chains(rows, cols, w, chain, alive, n)
            alive[gone] = False
        if int(alive.sum()) > 0.9 * before:  # another round would cost more than it saves
            break
    live = np.flatnonzero(alive)
    new_id = np.full(n, -1, np.int64)
    new_id[live] = np.arange(len(live))
    core = _min_csr(new_id[rows], new_id[cols], w, len(live))
    return core, keep_nodes[live]


def _contract_chains(
    rows: np.ndarray, cols: np.ndarray, w: np.ndarray, chain: np.ndarray, alive: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Replace every chain of ``chain`` nodes by direct edges between its two end nodes."""
    key = rows * n + cols
    order = np.argsort(key)
    skey, sw = key[order], w[order]

    def weight(p: np.ndarray, c: np.ndarray) -> np.ndarray:
        k = p * n + c
        i = np.minimum(np.searchsorted(skey, k), len(skey) - 1)
        return np.where(skey[i] == k, sw[i], np.inf)

    a_ = np.concatenate([rows, cols])
    b_ = np.concatenate([cols, rows])
    P = sp.csr_matrix((np.ones(len(a_), np.int8), (a_, b_)), shape=(n, n))
    P.sum_duplicates()
    P.sort_indices()
    idx = np.flatnonzero(chain)
    nb0 = np.full(n, -1, np.int64)
    nb1 = np.full(n, -1, np.int64)
    nb0[idx] = P.indices[P.indptr[idx]]
    nb1[idx] = P.indices[P.indptr[idx] + 1]
    coo = P.tocoo()
    start_mask = ~chain[coo.row] & alive[coo.row] & chain[coo.col]
    start = coo.row[start_mask].astype(np.int64)
    prev = start.copy()
    cur = coo.col[start_mask].astype(np.int64)
    fw = weight(prev, cur)
    bw = weight(cur, prev)
    active = np.arange(len(start))
    while active.size:
        p, c = prev[active], cur[active]
        nxt = np.where(nb0[c] != p, nb0[c], nb1[c])
        fw[active] += weight(c, nxt)
        bw[active] += weight(nxt, c)
        prev[active], cur[active] = c, nxt
        active = active[chain[nxt]]
    end = cur
    keep = start < end  # each chain is walked from both ends; a chain back to its own start is useless
    s, e, f, b = start[keep], end[keep], fw[keep], bw[keep]
    outside = ~chain[rows] & ~chain[cols]
    new_rows = np.concatenate([rows[outside], s[np.isfinite(f)], e[np.isfinite(b)]])
    new_cols = np.concatenate([cols[outside], e[np.isfinite(f)], s[np.isfinite(b)]])
    new_w = np.concatenate([w[outside], f[np.isfinite(f)], b[np.isfinite(b)]])
    # keep the fastest of parallel edges so that the next round sees simple neighbour sets
    order = np.lexsort((new_w, new_cols, new_rows))
    new_rows, new_cols, new_w = new_rows[order], new_cols[order], new_w[order]
    first = np.ones(len(new_rows), bool)
    first[1:] = (new_rows[1:] != new_rows[:-1]) | (new_cols[1:] != new_cols[:-1])
    return new_rows[first], new_cols[first], new_w[first], idx


_POOL_GRAPH: sp.csr_matrix | None = None


def _dijkstra_rows(args: tuple[np.ndarray, np.ndarray, float]) -> np.ndarray:
    sources, targets, limit = args
    assert _POOL_GRAPH is not None
    d = dijkstra(_POOL_GRAPH, directed=True, indices=sources, limit=limit)
    return d[:, targets]


def _many_to_many(
    graph: sp.csr_matrix, sources: np.ndarray, targets: np.ndarray, *, limit: float, workers: int, chunk: int
) -> np.ndarray:
    global _POOL_GRAPH
    chunks = [sources[i : i + chunk] for i in range(0, len(sources), chunk)]
    jobs = [(c, targets, limit) for c in chunks]
    _POOL_GRAPH = graph
    try:
        if workers > 1 and len(chunks) > 1:
            import multiprocessing as mp

            # fork shares the graph with the workers without pickling it
            with mp.get_context("fork").Pool(workers) as pool:
                parts = pool.map(_dijkstra_rows, jobs, chunksize=1)
        else:
            parts = [_dijkstra_rows(j) for j in jobs]
    finally:
        _POOL_GRAPH = None
    return np.vstack(parts) if parts else np.zeros((0, len(targets)))


def _ids(access: pd.DataFrame, ids: Any, what: str) -> pd.Index:
    idx = access.index if ids is None else pd.Index(ids)
    missing = idx[access.index.get_indexer(idx) < 0]
    if len(missing):
        raise ValidationError(
            f"{what}: {list(missing[:20])} are not villages of the access table.",
            zh=f"{what}: {list(missing[:20])} 不在村接入表中。",
        )
    return idx


def _cache_key(
    network: RoadNetwork,
    access: pd.DataFrame,
    origins: pd.Index,
    destinations: pd.Index,
    cutoff_s: float | None,
) -> str:
    h = hashlib.sha256(network.fingerprint.encode())
    h.update(access["node"].to_numpy(np.int64).tobytes())
    h.update(np.nan_to_num(access["walk_s"].to_numpy(float), nan=-1).tobytes())
    h.update(np.nan_to_num(access["drive_s"].to_numpy(float), nan=-1).tobytes())
    for ids in (access.index, origins, destinations):
        h.update("\x1f".join(map(str, ids)).encode())
        h.update(b"\x1e")
    h.update(repr(cutoff_s).encode())
    return h.hexdigest()[:32]


def travel_times(
    network: RoadNetwork,
    access: pd.DataFrame,
    *,
    origins: Any = None,
    destinations: Any = None,
    cutoff_s: float | None = None,
    cache_dir: str | Path | None = None,
    workers: int | None = None,
    chunk: int | None = None,
) -> TravelTimes:
    """Village-to-village travel times (seconds) along the roads, walking and edge legs included.

    Dijkstra (scipy.sparse.csgraph) from the distinct access nodes of the origins, on the main piece with dead
    ends pruned and two-neighbour chains contracted (:func:`_core_graph`), in chunks of origins to bound memory,
    in ``workers`` processes (default: 2 when the machine has them and the job is large enough to pay for them).

    Parameters
    ----------
    network, access
        From :func:`build_network` and :func:`locate_villages`.
    origins, destinations
        Village ids (default: every village of ``access``).
    cutoff_s
        Times above it are ``inf`` (the search stops there, which is faster).
    cache_dir
        If given, the matrix is stored there as ``.npz`` under a hash of the graph arrays, the access table and
        the arguments, and read back on the next identical call.
    workers
        Processes for the Dijkstra runs (default: 2 when the machine has 2 cores and origins x core nodes exceeds
        2e7, where forking pays: measured 3,000 x 200,000 synthetic county; else 1).
    chunk
        Origins per Dijkstra call (default: about 200 MB of rows, at least four chunks per worker).

    Returns
    -------
    TravelTimes
        ``inf`` for unreachable villages and pairs; 0 on the diagonal (a village to itself).
    """
    o_ids = _ids(access, origins, "origins")
    d_ids = _ids(access, destinations, "destinations")
    path: Path | None = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"travel-times-{_cache_key(network, access, o_ids, d_ids, cutoff_s)}.npz"
        if path.is_file():
            with np.load(path, allow_pickle=False) as z:
                seconds = z["seconds"]
            log.info("travel times read from cache %s", path)
            return TravelTimes(o_ids, d_ids, seconds)
    a_o = access.loc[o_ids]
    a_d = access.loc[d_ids]
    node_o = a_o["node"].to_numpy(np.int64)
    node_d = a_d["node"].to_numpy(np.int64)
    ok_o = (a_o["access"].to_numpy(object) != "unreachable") & (node_o >= 0)
    ok_d = (a_d["access"].to_numpy(object) != "unreachable") & (node_d >= 0)
    extra_o = np.where(
        ok_o,
        np.nan_to_num(a_o["walk_s"].to_numpy(float)) + np.nan_to_num(a_o["drive_s"].to_numpy(float)),
        np.inf,
    )
    extra_d = np.where(
        ok_d,
        np.nan_to_num(a_d["walk_s"].to_numpy(float)) + np.nan_to_num(a_d["drive_s"].to_numpy(float)),
        np.inf,
    )
    seconds = np.full((len(o_ids), len(d_ids)), np.inf)
    if ok_o.any() and ok_d.any():
        graph = network.graph()
        pieces = network.strong_pieces
        terminals = np.unique(np.concatenate([node_o[ok_o], node_d[ok_d]]))
        # Shrinking pays even on the small demo network (66 villages, 2,300 nodes: 2x faster than Dijkstra on the
        # whole graph) and makes the province-size case (3,000 villages, 200,000 nodes) fit the minute.
        labels = np.unique(pieces[terminals])
        keep = np.flatnonzero(np.isin(pieces, labels))
        core, core_nodes = _core_graph(graph, keep, terminals)
        to_core = np.full(network.n_nodes, -1, np.int64)
        to_core[core_nodes] = np.arange(len(core_nodes))
        src, src_inv = np.unique(to_core[node_o[ok_o]], return_inverse=True)
        dst, dst_inv = np.unique(to_core[node_d[ok_d]], return_inverse=True)
        if workers is None:
            work = len(src) * core.shape[0]
            workers = 2 if (os.cpu_count() or 1) >= 2 and work > 20_000_000 else 1
        if chunk is None:
            # about 200 MB of float64 rows per chunk, at least 16 rows, and at least 4 chunks per worker
            rows_fit = max(16, int(25_000_000 // max(core.shape[0], 1)))
            chunk = rows_fit if workers == 1 else max(16, min(rows_fit, -(-len(src) // (4 * workers))))
        limit = np.inf if cutoff_s is None else float(cutoff_s)
        log.info(
            "matrix: %d x %d villages, %d origin nodes on a core of %d nodes / %d edges (graph %d / %d), "
            "%d worker(s), chunks of %d",
            len(o_ids),
            len(d_ids),
            len(src),
            core.shape[0],
            core.nnz,
            network.n_nodes,
            graph.nnz,
            workers,
            chunk,
        )
        dist = _many_to_many(core, src, dst, limit=limit, workers=workers, chunk=chunk)
        block = dist[src_inv][:, dst_inv]
        block = block + extra_o[ok_o][:, None] + extra_d[ok_d][None, :]
        seconds[np.ix_(np.flatnonzero(ok_o), np.flatnonzero(ok_d))] = block
        if cutoff_s is not None:
            seconds[seconds > cutoff_s] = np.inf
    same = o_ids.get_indexer(d_ids)
    cols = np.flatnonzero(same >= 0)
    seconds[same[cols], cols] = 0.0
    tt = TravelTimes(o_ids, d_ids, seconds)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}.npz")
        np.savez(tmp, seconds=seconds)
        os.replace(tmp, path)
        log.info("travel times cached in %s", path)
    return tt


Route = tuple[shapely.LineString, float, float]


def route(network: RoadNetwork, access: pd.DataFrame, from_id: Any, to_id: Any) -> Route:
    """The way from one village to another along the roads: (line, seconds, metres).

    The line runs from the first village's access point (a straight walking leg when it is off the road) to
    the road, along the edge geometries, and on to the second village. Seconds equal the matrix entry of
    :func:`travel_times`. An unreachable pair gives an empty line and ``inf``.
    """
    return routes(network, access, [(from_id, to_id)])[0]


def routes(network: RoadNetwork, access: pd.DataFrame, pairs: Iterable[tuple[Any, Any]]) -> list[Route]:
    """:func:`route` for many pairs: one Dijkstra (with predecessors) per distinct origin, in batches."""
    pairs = list(pairs)
    _ids(access, [p[0] for p in pairs] + [p[1] for p in pairs], "route")
    pos = {k: i for i, k in enumerate(access.index)}
    node = access["node"].to_numpy(np.int64)
    ok = (access["access"].to_numpy(object) != "unreachable") & (node >= 0)
    results: list[Route | None] = [None] * len(pairs)
    need: dict[int, list[int]] = {}
    for k, (a, b) in enumerate(pairs):
        ia, ib = pos[a], pos[b]
        if a == b:
            results[k] = (shapely.LineString(), 0.0, 0.0)
        elif not (ok[ia] and ok[ib]):
            results[k] = (shapely.LineString(), math.inf, math.inf)
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
                results[k] = _assemble(network, access.iloc[pos[a]], access.iloc[pos[b]], dist[r], pred[r])
    return [r if r is not None else (shapely.LineString(), math.inf, math.inf) for r in results]


def _assemble(network: RoadNetwork, a: pd.Series, b: pd.Series, dist: np.ndarray, pred: np.ndarray) -> Route:
    target = int(b["node"])
    if not np.isfinite(dist[target]):
        return (shapely.LineString(), math.inf, math.inf)
    path = [target]
    while path[-1] != int(a["node"]):
        path.append(int(pred[path[-1]]))
    path.reverse()
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


def _route_lines(network: Any, access: pd.DataFrame, legs: pd.DataFrame) -> gpd.GeoDataFrame:
    """Each leg of the monthly plan as a line along the roads; each distinct pair is routed once."""
    from planner.network import routes

    pairs = list(dict.fromkeys(zip(legs["from_id"].astype(str), legs["to_id"].astype(str), strict=True)))
    found = dict(zip(pairs, routes(network, access, pairs), strict=True))
    keys = list(zip(legs["from_id"].astype(str), legs["to_id"].astype(str), strict=True))
    out = legs.copy()
    out["km"] = [round(found[k][2] / 1000.0, 3) for k in keys]
    return gpd.GeoDataFrame(out, geometry=[found[k][0] for k in keys], crs=network.crs)
