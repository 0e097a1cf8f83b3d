"""The office stage: which village of each district holds its office, and who is within reach of one (R11)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from planner.errors import ValidationError
from planner.model import TravelTimes


def choose_office(
    members: np.ndarray,
    minutes: np.ndarray,
    population: np.ndarray,
    *,
    objective: str,
    coverage_min: float,
    candidates: np.ndarray | None = None,
    current: int | None = None,
) -> int:
    """The office village of one district under an office objective, exactly (every candidate is tried).

    ``minutes[c, v]`` is the drive from a site c to village v (response). "coverage": the most residents within
    ``coverage_min``; "pcenter": the shortest worst response; "pmedian": the least resident-minutes. Ties go to
    the least resident-minutes, then to ``current``, then to the lowest index, so the choice is reproducible.
    """
    sites = members if candidates is None else members[candidates[members]]
    if len(sites) == 0:
        return int(current if current is not None else members[0])
    t = minutes[np.ix_(sites, members)]
    big = np.where(np.isfinite(t), t, 1e9)
    w = population[members]
    resident_min = big @ w
    if objective == "coverage":
        primary = -((t <= coverage_min) @ w)
    elif objective == "pcenter":
        primary = big.max(axis=1)
    else:
        primary = resident_min
    keys = [(primary[i], resident_min[i], int(sites[i]) != current, int(sites[i])) for i in range(len(sites))]
    return int(sites[min(range(len(sites)), key=keys.__getitem__)])


def nearest_site_seconds(times: TravelTimes, sites: Sequence[Any]) -> pd.Series:
    """Seconds from the nearest site to every village (site -> village when the sites are origins of ``times``,
    else village -> site)."""
    sites = pd.Index(sites)
    if len(sites) and (times.origins.get_indexer(sites) >= 0).all():
        rows = times.origins.get_indexer(sites)
        return pd.Series(times.seconds[rows].min(axis=0), index=times.destinations)
    if len(sites) and (times.destinations.get_indexer(sites) >= 0).all():
        cols = times.destinations.get_indexer(sites)
        return pd.Series(times.seconds[:, cols].min(axis=1), index=times.origins)
    if not len(sites):
        return pd.Series(np.inf, index=times.destinations)
    raise ValidationError(
        f"sites {list(sites[:20])} are not all rows or all columns of the travel-time matrix.",
        zh=f"站点 {list(sites[:20])} 不全在行程时间矩阵的行或列中。",
    )


def service_area(
    times: TravelTimes,
    sites: Sequence[Any],
    population: pd.Series,
    *,
    thresholds_min: Sequence[float] = (15, 30, 60),
) -> pd.DataFrame:
    """Villages and residents within T minutes of the nearest site, per threshold T.

    Returns
    -------
    DataFrame indexed by ``threshold_min`` with villages, villages_pct, residents, residents_pct (unreachable
    villages count as outside every threshold).
    """
    near = nearest_site_seconds(times, sites)
    pop = population.reindex(near.index)
    if pop.isna().any():
        missing = list(near.index[pop.isna()][:20])
        raise ValidationError(f"population missing for villages {missing}.", zh=f"村 {missing} 缺少人口。")
    popv = pop.to_numpy(float)
    total = popv.sum()
    rows = []
    for t in thresholds_min:
        inside = near.to_numpy() <= float(t) * 60.0
        rows.append(
            {
                "threshold_min": float(t),
                "villages": int(inside.sum()),
                "villages_pct": float(100.0 * inside.mean()) if len(inside) else 0.0,
                "residents": round(popv[inside].sum()),
                "residents_pct": float(100.0 * popv[inside].sum() / total) if total > 0 else 0.0,
            }
        )
    return pd.DataFrame(rows).set_index("threshold_min")
