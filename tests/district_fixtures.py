"""Tiny hand-made fixtures of the district and office tests: grid graphs, grid villages, their times and rules."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from shapely.geometry import box

from planner.model import TravelTimes
from planner.rules import DistrictRules, Rules

CRS = "EPSG:32650"


def grid_graph(rows: int, cols: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """A rows x cols grid of units joined to their four neighbours, and each unit's (row, col)."""
    n = rows * cols
    a = sp.lil_matrix((n, n))
    for i in range(n):
        r, c = divmod(i, cols)
        if c + 1 < cols:
            a[i, i + 1] = a[i + 1, i] = 1
        if r + 1 < rows:
            a[i, i + cols] = a[i + cols, i] = 1
    xy = np.array([divmod(i, cols) for i in range(n)], dtype=float)
    return a.tocsr(), xy


def connected(members: list[int], adj: sp.csr_matrix) -> bool:
    """The members form one piece of the graph."""
    sub = adj[members][:, members]
    ncomp, _ = sp.csgraph.connected_components(sub, directed=False)
    return ncomp == 1


def make_villages(
    rows: int, cols: int, pop: np.ndarray, township: list[str] | None = None
) -> gpd.GeoDataFrame:
    """A rows x cols grid of 1 km square villages with these residents (and townships)."""
    n = rows * cols
    ids = [f"V{i:03d}" for i in range(n)]
    geoms = [
        box(c * 1000.0, r * 1000.0, (c + 1) * 1000.0, (r + 1) * 1000.0)
        for r, c in (divmod(i, cols) for i in range(n))
    ]
    return gpd.GeoDataFrame(
        {"name": ids, "township": township or ["T1"] * n, "population": pop.astype("int64")},
        geometry=geoms,
        index=pd.Index(ids, name="village_id"),
        crs=CRS,
    )


def make_times(villages: gpd.GeoDataFrame, speed_kmh: float = 30.0) -> TravelTimes:
    """Travel times along the grid (Manhattan distance) at ``speed_kmh``."""
    c = np.array([[p.x, p.y] for p in villages.geometry.centroid])
    sec = np.abs(c[:, None, :] - c[None, :, :]).sum(-1) / 1000.0 / speed_kmh * 3600.0
    return TravelTimes(villages.index, villages.index, sec)


def make_access(villages: gpd.GeoDataFrame) -> pd.DataFrame:
    """Every village on the road."""
    return pd.DataFrame({"access": "road", "reason": ""}, index=villages.index)


def rules(**kw: object) -> Rules:
    """Default rules with these district rules."""
    return Rules(districts=DistrictRules(**kw))  # type: ignore[arg-type]
