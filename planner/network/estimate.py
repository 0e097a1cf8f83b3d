"""Travel times estimated where there are no roads to measure them (issue 14): ``--roads none``, or villages far
beyond the road file given.

OpenStreetMap's coverage of rural China is uneven, and a bureau often has village points but no road file. The
estimate is the straight-line distance between the villages' access points times a **circuity factor** (how much
longer the road is than the straight line) by terrain, driven at a speed by terrain:

| terrain | circuity | speed |
|---|---|---|
| flat | 1.3 | 40 km/h |
| hill | 1.6 | 30 km/h |
| mountain | 2.0 | 25 km/h |

Sources: road circuity factors measured across countries range from 1.12 to 2.10 (Ballou, Rahardja & Sakai 2002,
"Selected country circuity factors for road travel distance estimation", Transportation Research Part A 36,
843-848; most near 1.2-1.4 on the plains' dense networks); mountain roads climb in switchbacks, so the planner puts
mountain terrain at the top of that range and hills between. The speeds are the design speeds of China's class-3
and class-4 roads (JTG B01-2014: 30-40 and 20-30 km/h), as :mod:`planner.rules` uses for road classes. Every
factor and speed is a rules key (``[network] terrain``, ``circuity``, ``estimate_kmh``): a bureau that knows its
roads sets them. Every estimated time is flagged: access ``estimated``, and the plan says so.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.model import TravelTimes
from planner.network.access import access_points
from planner.rules import TERRAINS, NetworkRules

ESTIMATED = "estimated"


def terrain_factors(rules: NetworkRules) -> tuple[float, float]:
    """(circuity, km/h) of the terrain in force."""
    k = TERRAINS.index(rules.terrain)
    return rules.circuity[k], rules.estimate_kmh[k]


def estimated_access(villages: gpd.GeoDataFrame, rules: NetworkRules) -> pd.DataFrame:
    """The access table of a plan without roads: every village ``estimated``, with the reason in words."""
    c, v = terrain_factors(rules)
    en = f"no road data: travel estimated from the straight line x {c:g} ({rules.terrain} terrain) at {v:g} km/h"
    zh = f"无道路数据: 按直线距离 x {c:g} ({_TERRAIN_ZH[rules.terrain]}) 以 {v:g} km/h 估算车程"
    n = len(villages)
    return pd.DataFrame(
        {
            "node": np.full(n, -1, dtype=np.int64),
            "access": [ESTIMATED] * n,
            "snap_m": np.zeros(n),
            "walk_s": np.zeros(n),
            "reason": [en] * n,
            "reason_zh": [zh] * n,
        },
        index=villages.index.copy(),
    )


_TERRAIN_ZH = {"flat": "平原", "hill": "丘陵", "mountain": "山区"}


def estimated_seconds(villages: gpd.GeoDataFrame, rules: NetworkRules) -> np.ndarray:
    """(n, n) estimated seconds between the villages' access points."""
    xy = access_points(villages)
    c, v = terrain_factors(rules)
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    return d * c / (v / 3.6)


def estimated_times(villages: gpd.GeoDataFrame, rules: NetworkRules) -> TravelTimes:
    """Travel times between every pair of villages, all estimated."""
    ids = pd.Index(villages.index.astype(str))
    return TravelTimes(ids, ids, estimated_seconds(villages, rules))


def fill_unreachable(
    times: TravelTimes, access: pd.DataFrame, villages: gpd.GeoDataFrame, rules: NetworkRules
) -> tuple[TravelTimes, pd.DataFrame]:
    """Villages the roads given cannot reach (access ``unreachable``) get estimated times instead of none.

    Their rows and columns of ``times`` become the estimate (a road plus the unknown stretch is at least the
    estimate's straight line); their access becomes ``estimated`` with the reason kept beside it. Returns new
    objects; the inputs are not changed.
    """
    far = access.index[access["access"] == "unreachable"]
    if not len(far):
        return times, access
    ids = pd.Index(times.origins.astype(str))
    est = estimated_seconds(villages.loc[ids], rules)
    sec = times.seconds.copy()
    mask = ids.isin(far.astype(str))
    sec[mask, :] = est[mask, :]
    sec[:, mask] = est[:, mask]
    c, v = terrain_factors(rules)
    out = access.copy()
    out.loc[far, "access"] = ESTIMATED
    out.loc[far, "reason"] = [
        f"{r}; travel estimated from the straight line x {c:g} at {v:g} km/h" for r in out.loc[far, "reason"]
    ]
    out.loc[far, "reason_zh"] = [
        f"{r}; 车程按直线距离 x {c:g} 以 {v:g} km/h 估算" for r in out.loc[far, "reason_zh"]
    ]
    return TravelTimes(times.origins, times.destinations, sec), out


def straight_legs(villages: gpd.GeoDataFrame, legs: pd.DataFrame, rules: NetworkRules) -> gpd.GeoDataFrame:
    """Each leg as a straight line between the villages' access points, its km the estimated road length."""
    xy = pd.DataFrame(access_points(villages), index=villages.index.astype(str), columns=["x", "y"])
    c, _ = terrain_factors(rules)
    a = xy.loc[legs["from_id"].astype(str)].to_numpy()
    b = xy.loc[legs["to_id"].astype(str)].to_numpy()
    out = legs.copy()
    out["km"] = np.round(np.hypot(*(b - a).T) * c / 1000.0, 3)
    lines = shapely.linestrings(np.stack([a, b], axis=1)) if len(legs) else np.array([], dtype=object)
    return gpd.GeoDataFrame(out, geometry=list(lines), crs=villages.crs)
