"""Which villages neighbour which: the graph a district must be connected in."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components


def village_adjacency(
    villages: gpd.GeoDataFrame, *, times: Any = None, tolerance_m: float = 1.0, contiguity: str = "borders"
) -> sp.csr_matrix:
    """Neighbour graph of the villages, in the order of ``villages.index``.

    ``contiguity="roads"`` (with ``times``) keeps the villages whose fastest route passes no third village,
    among the border neighbours and the nearest by road (:func:`planner.districts.roads.road_adjacency`); the
    rest of this docstring describes the borders graph it starts from.

    Polygons are neighbours when their boundaries share a line longer than ``tolerance_m`` (a corner touch does
    not count). Points (or villages whose polygon touches nothing) use the Voronoi neighbours of their points
    (the Delaunay edges); with ``times`` (TravelTimes) each point village is also joined to its nearest village by
    road, so the graph follows the roads where the cells would cross a ridge.
    """
    from shapely import STRtree

    n = len(villages)
    geoms = villages.geometry.values
    rows: list[int] = []
    cols: list[int] = []
    is_poly = np.array([g is not None and g.geom_type in ("Polygon", "MultiPolygon") for g in geoms])
    poly_idx = np.flatnonzero(is_poly)
    if len(poly_idx):
        pg = geoms[poly_idx]
        tree = STRtree(pg)
        a, b = tree.query(pg, predicate="intersects")
        keep = a < b
        a, b = a[keep], b[keep]
        if len(a):
            import shapely

            shared = shapely.intersection(shapely.boundary(pg[a]), shapely.boundary(pg[b]))
            ok = shapely.length(shared) > tolerance_m
            rows.extend(poly_idx[a[ok]].tolist())
            cols.extend(poly_idx[b[ok]].tolist())
    deg = np.zeros(n, dtype=int)
    np.add.at(deg, rows, 1)
    np.add.at(deg, cols, 1)
    loose = np.flatnonzero(~is_poly | (deg == 0))
    if len(loose) and n >= 2:
        pts = np.array([[p.x, p.y] for p in _anchor_points(villages)])
        if n >= 4:
            from scipy.spatial import Delaunay, QhullError

            try:
                tri = Delaunay(pts)
                edges = {
                    tuple(sorted((int(s[i]), int(s[j]))))
                    for s in tri.simplices
                    for i, j in ((0, 1), (1, 2), (0, 2))
                }
            except QhullError:  # collinear points: join each to the next along the line
                order = np.lexsort(pts.T[::-1])
                edges = {tuple(sorted((int(order[i]), int(order[i + 1])))) for i in range(n - 1)}
        else:
            edges = {(i, j) for i in range(n) for j in range(i + 1, n)}
        loose_set = set(loose.tolist())
        for i, j in edges:
            if i in loose_set or j in loose_set:
                rows.append(i)
                cols.append(j)
        if times is not None:
            sec = times.subset(villages.index, villages.index).seconds.copy()
            np.fill_diagonal(sec, np.inf)
            for i in loose.tolist():
                j = int(np.argmin(sec[i]))  # nearest village by road
                if np.isfinite(sec[i, j]):
                    rows.append(int(i))
                    cols.append(j)
    a = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)).tocsr()
    a = ((a + a.T) > 0).astype(np.int8).tocsr()
    if contiguity == "roads" and times is not None:
        from planner.districts.roads import road_adjacency

        minutes = times.subset(villages.index, villages.index).seconds / 60.0
        a = road_adjacency(a, minutes)
    return a


def _anchor_points(villages: gpd.GeoDataFrame) -> list[Any]:
    from shapely.geometry import Point

    if "anchor_x" in villages.columns and "anchor_y" in villages.columns:
        ax, ay = villages["anchor_x"].to_numpy(float), villages["anchor_y"].to_numpy(float)
        rp = villages.geometry.representative_point().values
        return [
            Point(x, y) if np.isfinite(x) and np.isfinite(y) else r
            for x, y, r in zip(ax, ay, rp, strict=True)
        ]
    return list(villages.geometry.representative_point().values)


def _bridge(
    adj: sp.csr_matrix, pts: np.ndarray, township: np.ndarray | None, min_units: int
) -> sp.csr_matrix:
    """Join graph pieces too small to make a district alone to their nearest village by straight line.

    Islands and villages with no shared border otherwise could not be placed in any district; the bridge is the
    straight line, and only pieces smaller than ``min_units`` are joined (bigger pieces form their own districts).
    With ``township`` the bridge stays inside the township where one exists there.
    """
    a = adj.tolil(copy=True)
    for _ in range(adj.shape[0]):
        ncomp, lab = connected_components(a.tocsr(), directed=False)
        sizes = np.bincount(lab, minlength=ncomp)
        small = [c for c in range(ncomp) if sizes[c] < min_units and ncomp > 1]
        if not small:
            break
        c = min(small, key=lambda c: (sizes[c], int(np.flatnonzero(lab == c)[0])))
        inside = np.flatnonzero(lab == c)
        outside = np.flatnonzero(lab != c)
        if township is not None:
            same = outside[np.isin(township[outside], township[inside])]
            if len(same):
                outside = same
        d = np.hypot(*(pts[inside][:, None, :] - pts[outside][None, :, :]).transpose(2, 0, 1))
        i, j = np.unravel_index(int(np.argmin(d)), d.shape)
        a[inside[i], outside[j]] = 1
        a[outside[j], inside[i]] = 1
    return a.tocsr()
