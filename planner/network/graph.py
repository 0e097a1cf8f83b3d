"""The drivable directed road graph: :class:`RoadNetwork`, edge speeds, sinuosity, :func:`build_network`.

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
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from planner.errors import ValidationError
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
    edge_name
        (m,) the road's name (OSM ``name``, else ``ref``; ``""`` unnamed), or None when the roads had none.
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
    edge_name: np.ndarray | None = None

    def __post_init__(self) -> None:
        m = len(self.edge_u)
        for name in ("edge_v", "edge_seconds", "edge_length_m", "edge_highway", "edge_geometry", "edge_name"):
            if getattr(self, name) is not None and len(getattr(self, name)) != m:
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
        edge_name=attrs["road_name"].fillna("").astype(str).to_numpy(object)
        if "road_name" in attrs
        else None,
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
