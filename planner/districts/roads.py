"""C5, road contiguity: villages neighbour each other along the roads, and a district's routes stay inside it.

Two villages are road neighbours when the fastest route between them passes no third village on the way: no
village m with t(i, m) + t(m, j) <= t(i, j) + tolerance, where the tolerance is ``DETOUR_MIN`` minutes or
``DETOUR_SHARE`` of t(i, j), whichever is larger (docs/DOMAIN.md, "Road contiguity"). A district connected in
that graph reaches each of its villages from its office through villages of its own. Pairs are taken among the
villages that share a border (or Delaunay neighbours for points) and each village's ``NEAREST`` villages by road;
where the road graph leaves pieces that the borders join (villages no road reaches), the fastest border edge
between them is kept, so the road graph is never in more pieces than the borders graph.

Also here: the C5 check (an office's fastest route to one of its villages through a village of another district,
a soft Violation with the minutes) and :func:`km_outside`, the share of a district's patrol kilometres driven
outside it (routes layer against district outlines), which the tests and ``benchmarks/km_outside.py`` use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from planner.model import Violation, clock_minutes

DETOUR_MIN = 3.0  # minutes a route may gain by calling at a village and still count as passing through it
DETOUR_SHARE = 0.15  # the same as a share of the direct route's minutes (snap and turn times at the village)
PASS_MIN = (
    1.0  # C5's report and the plans' ranking: a route passes a village when calling there costs at most
)
PASS_SHARE = 0.05  # this many minutes, or this share of the route (tighter than the graph's, which must also
# see routes that cross a village's land away from its centre)
NEAREST = 6  # nearest villages by road each village is paired with besides its border neighbours


def _on_the_way(minutes: np.ndarray, ii: np.ndarray, jj: np.ndarray, *, chunk: int = 4096) -> np.ndarray:
    """For each pair (ii[p], jj[p]): the village (position) passed on the way, or -1 when none is."""
    out = np.full(len(ii), -1, dtype=np.int64)
    for s in range(0, len(ii), chunk):
        a, b = ii[s : s + chunk], jj[s : s + chunk]
        via = minutes[a, :] + minutes[:, b].T  # (p, n): i -> m -> j
        direct = minutes[a, b]
        tol = np.maximum(DETOUR_MIN, DETOUR_SHARE * direct)
        via[np.arange(len(a)), a] = np.inf
        via[np.arange(len(a)), b] = np.inf
        m = np.argmin(via, axis=1)
        hit = via[np.arange(len(a)), m] <= direct + tol
        out[s : s + chunk] = np.where(hit & np.isfinite(direct), m, -1)
    return out


def road_adjacency(borders: sp.csr_matrix, minutes: np.ndarray) -> sp.csr_matrix:
    """Road neighbour graph (module docstring) from the borders graph and the (n, n) drive minutes (inf: no road).

    Parameters
    ----------
    borders
        The borders neighbour graph (:func:`planner.districts.village_adjacency` with ``contiguity="borders"``).
    minutes
        Drive minutes village -> village in the same order, walk access included.
    """
    n = minutes.shape[0]
    b = sp.triu(sp.csr_matrix(borders), k=1).tocoo()
    pairs = set(zip(b.row.tolist(), b.col.tolist(), strict=True))
    off = minutes.copy()
    np.fill_diagonal(off, np.inf)
    near = np.argsort(off, axis=1, kind="stable")[:, : min(NEAREST, max(n - 1, 0))]
    for i in range(n):
        for j in near[i].tolist():
            if np.isfinite(off[i, j]):
                pairs.add((min(i, j), max(i, j)))
    if not pairs:
        return sp.csr_matrix((n, n), dtype=np.int8)
    pi, pj = (np.array(x, dtype=np.int64) for x in zip(*sorted(pairs), strict=True))
    fwd, back = _on_the_way(minutes, pi, pj), _on_the_way(minutes, pj, pi)
    finite = np.isfinite(minutes[pi, pj]) | np.isfinite(minutes[pj, pi])
    keep = finite & ((fwd < 0) | (back < 0))
    rows, cols = pi[keep].tolist(), pj[keep].tolist()
    # pieces the borders join but the roads do not (no road, or pairs beyond NEAREST): the fastest border edge
    _, lab = connected_components(_sym(rows, cols, n), directed=False)
    sym_min = np.fmin(minutes, minutes.T)
    edges = sorted(
        zip(b.row.tolist(), b.col.tolist(), strict=True),
        key=lambda e: (float(sym_min[e[0], e[1]]) if np.isfinite(sym_min[e[0], e[1]]) else 1e12, e),
    )
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for u in range(n):
        parent[find(u)] = find(int(np.flatnonzero(lab == lab[u])[0]))
    for u, v in edges:
        ru, rv = find(u), find(v)
        if ru != rv:
            parent[ru] = rv
            rows.append(u)
            cols.append(v)
    return _sym(rows, cols, n)


def _sym(rows: list[int], cols: list[int], n: int) -> sp.csr_matrix:
    a = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)).tocsr()
    return ((a + a.T) > 0).astype(np.int8).tocsr()


def outside_share(
    labels: np.ndarray, centers: Sequence[int] | np.ndarray, minutes: np.ndarray
) -> tuple[float, float]:
    """(worst district's, whole plan's) share of office-to-village route minutes whose route passes a village of
    another district (the matrix measure of C5 the district stage ranks plans by; ``km_outside`` measures the
    patrol routes themselves)."""
    worst = total_out = total = 0.0
    for d, c in enumerate(centers):
        mem = np.flatnonzero(labels == d)
        vv = mem[mem != c]
        outside = np.flatnonzero(labels != d)
        if not len(vv) or not len(outside):
            continue
        direct = minutes[c, vv]
        via = (minutes[c, outside][None, :] + minutes[np.ix_(outside, vv)].T).min(axis=1)
        fin = np.isfinite(direct)
        hit = fin & (via <= direct + np.maximum(PASS_MIN, PASS_SHARE * direct))
        out, tot = float(direct[hit].sum()), float(direct[fin].sum())
        worst = max(worst, out / tot if tot > 0 else 0.0)
        total_out, total = total_out + out, total + tot
    return worst, total_out / total if total > 0 else 0.0


def line_outside_share(
    geoms: gpd.GeoSeries, anchors: np.ndarray, labels: np.ndarray, centers: Sequence[int] | np.ndarray
) -> tuple[float, float]:
    """(worst district's, whole plan's) share of the straight lines office -> village that lies outside the
    district's villages: the geometric stand-in for routes that the district stage ranks plans by (it has the
    travel times, not the routes; ``km_outside`` measures the routes once they are planned)."""
    from shapely import LineString

    worst = total_out = total = 0.0
    for d, c in enumerate(centers):
        mem = np.flatnonzero(labels == d)
        if len(mem) < 2:
            continue
        area = geoms.iloc[mem].union_all().buffer(1.0)
        lines = [LineString([anchors[c], anchors[v]]) for v in mem if v != c]
        length = sum(ln.length for ln in lines)
        inside = sum(ln.intersection(area).length for ln in lines)
        out = max(length - inside, 0.0)
        worst = max(worst, out / length if length > 0 else 0.0)
        total_out, total = total_out + out, total + length
    return worst, total_out / total if total > 0 else 0.0


def route_outside_share(
    geoms: gpd.GeoSeries, labels: np.ndarray, offices: Sequence[int], lines: Any
) -> tuple[float, float]:
    """(worst district's, whole plan's) share of the road route office -> village outside the district.

    ``lines(pairs)`` gives the road line of each (office, village) pair of positions (the network's routes):
    the measure of :func:`km_outside` on the office -> village routes, before the month is planned.
    """
    worst = total_out = total = 0.0
    pairs = [(int(offices[labels[v]]), int(v)) for v in range(len(labels)) if v != offices[labels[v]]]
    by_pair = dict(zip(pairs, lines(pairs), strict=True))
    for d, c in enumerate(offices):
        mem = np.flatnonzero(labels == d)
        if len(mem) < 2:
            continue
        area = geoms.iloc[mem].union_all().buffer(1.0)
        routes = [by_pair[(int(c), int(v))] for v in mem if v != c]
        length = sum(ln.length for ln in routes)
        inside = sum(ln.intersection(area).length for ln in routes)
        out = max(length - inside, 0.0)
        worst = max(worst, out / length if length > 0 else 0.0)
        total_out, total = total_out + out, total + length
    return worst, total_out / total if total > 0 else 0.0


def check_c5(
    district: str,
    office: int,
    members: np.ndarray,
    minutes: np.ndarray,
    ids: pd.Index,
    district_of: np.ndarray,
    *,
    roads: Any = None,
) -> list[Violation]:
    """C5: the office's fastest route to a village of its district passes a village of another district.

    One soft Violation per district, naming the worst such route (its minutes and the village passed) and how
    many of the district's villages are reached that way. ``roads`` (a :class:`C5Roads`, when the road network
    is at hand) adds the road the route takes there and its minutes outside the district.
    """
    others = [int(v) for v in members if v != office]
    if not others:
        return []
    vv = np.array(others, dtype=np.int64)
    outside = np.flatnonzero(district_of != district)
    if not len(outside):
        return []
    # only the office's row and the district's columns: whole rows cost villages^2 per district
    via = minutes[office, outside][None, :] + minutes[np.ix_(outside, vv)].T
    direct = minutes[office, vv]
    tol = np.maximum(PASS_MIN, PASS_SHARE * direct)
    best = np.argmin(via, axis=1)
    hit = (via[np.arange(len(vv)), best] <= direct + tol) & np.isfinite(direct)
    if not hit.any():
        return []
    worst = int(np.flatnonzero(hit)[np.argmax(direct[hit])])
    v, m = ids[vv[worst]], ids[outside[best[worst]]]
    dm, t = district_of[outside[best[worst]]], float(clock_minutes(direct[worst]))
    cnt = int(hit.sum())
    en = zh = ""
    if roads is not None:
        found = roads.passed(ids[office], v, ids[members], ids[np.flatnonzero(district_of == dm)], m)
        if found is not None:
            en, zh = _road_words(*found)
    return [
        Violation(
            "C5",
            district,
            f"district {district}: the fastest route from its office {ids[office]} to {cnt} of its villages "
            f"passes through another district; the longest, to {v} ({t:.0f} min), passes village {m} of "
            f"district {dm}{en}",
            f"警务区 {district}: 从警务室 {ids[office]} 到其中 {cnt} 个村的最快路线经过其他警务区; 最长的一条到 "
            f"{v} ({t:.0f} 分钟), 经过警务区 {dm} 的村 {m}{zh}",
            hard=False,
        )
    ]


def _road_words(name: str, minutes_out: float) -> tuple[str, str]:
    """The note's road part: " (on CG-2, about 6 min outside the district)" and its zh."""
    road_en = name if name else "an unnamed road"
    road_zh = f"道路 {name}" if name else "无名道路"
    if minutes_out < 0.5:
        return f" (on {road_en}, under 1 min outside the district)", f" ({road_zh}, 在本区外不到 1 分钟)"
    return (
        f" (on {road_en}, about {minutes_out:.0f} min outside the district)",
        f" ({road_zh}, 在本区外约 {minutes_out:.0f} 分钟)",
    )


class C5Roads:
    """The road an office's route takes through another district, for C5's note (the network at hand).

    Parameters
    ----------
    network, access
        The road network and the villages' access (:func:`planner.network.locate_villages`).
    geoms
        The villages' outlines indexed by village_id, in the network's metric CRS.
    """

    def __init__(self, network: Any, access: pd.DataFrame, geoms: gpd.GeoSeries) -> None:
        self.network, self.access, self.geoms = network, access, geoms

    def passed(
        self, office: Any, village: Any, own: Sequence[Any], other: Sequence[Any], at: Any
    ) -> tuple[str, float] | None:
        """(road name or "", minutes outside ``own``) of the route office -> village: the road that runs the
        longest inside the district of villages ``other``, else the one nearest village ``at``; None without a
        driven route."""
        import shapely

        from planner.network.routes import route_edges

        net = self.network
        edges = route_edges(net, self.access, [(office, village)])[0]
        if not len(edges):
            return None
        geom = net.edge_geometry[edges]
        length = np.maximum(net.edge_length_m[edges], 1e-9)
        mine = self.geoms.loc[list(own)].union_all().buffer(1.0)
        there = self.geoms.loc[list(other)].union_all().buffer(1.0)
        out = np.clip(1.0 - shapely.length(shapely.intersection(geom, mine)) / length, 0.0, 1.0)
        minutes_out = float((net.edge_seconds[edges] * out).sum()) / 60.0
        names = net.edge_name[edges] if net.edge_name is not None else np.full(len(edges), "", object)
        inside = shapely.length(shapely.intersection(geom, there))
        if inside.max() > 0:
            by_name = pd.Series(inside).groupby(pd.Series(names, dtype=str)).sum()
            name = str(by_name.sort_index().idxmax())
        else:
            name = str(names[int(np.argmin(shapely.distance(geom, self.geoms.loc[at])))])
        return name, minutes_out


def km_outside(routes: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, offices: pd.DataFrame) -> pd.DataFrame:
    """Each district's patrol kilometres and the share driven outside its own outline.

    Parameters
    ----------
    routes
        The routes layer of a plan (``officer_id`` like ``O01-1``, line geometry).
    districts
        The districts layer (``district_id``, outline).
    offices
        The offices layer (``office_id``, ``district_id``).

    Returns
    -------
    DataFrame indexed by district_id with ``km``, ``km_outside`` and ``share_outside`` (0..1), districts
    without routes at 0.
    """
    from planner.geo import metric_crs

    crs = (
        metric_crs(districts)
        if districts.crs is not None and not districts.crs.is_projected
        else districts.crs
    )
    d = districts.to_crs(crs).set_index("district_id")
    r = routes.to_crs(crs)
    office_district = dict(
        zip(offices["office_id"].astype(str), offices["district_id"].astype(str), strict=True)
    )
    oid = r["officer_id"].astype(str).str.rsplit("-", n=1).str[0]
    r = r.assign(district_id=oid.map(office_district))
    rows: dict[str, dict[str, float]] = {}
    for did, geom in d.geometry.items():
        legs = r[r["district_id"] == did]
        total = float(legs.length.sum()) / 1000.0
        inside = float(legs.intersection(geom.buffer(1.0)).length.sum()) / 1000.0 if len(legs) else 0.0
        out = max(total - inside, 0.0)
        rows[str(did)] = {"km": total, "km_outside": out, "share_outside": out / total if total > 0 else 0.0}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("district_id")
