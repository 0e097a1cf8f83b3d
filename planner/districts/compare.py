"""The districts in force today against the proposal: which villages move, and the figures of both plans."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.errors import ValidationError
from planner.rules import DistrictRules


@dataclass(frozen=True, eq=False)
class PlanComparison:
    """The districts in force today against the proposal.

    Attributes
    ----------
    districts
        One row per district of either plan: plan ("current" / "proposed"), district_id, n_villages, population,
        officers, office_id (village of the office; for the current plan the best site inside it), mean_travel_min,
        max_travel_min.
    moved
        Villages whose district changes: village_id, current_district, proposed_district, matched_current
        (the current district the proposed one was matched to, by most shared villages).
    """

    districts: pd.DataFrame
    moved: pd.DataFrame


def compare_current(
    out: gpd.GeoDataFrame, current: pd.Series, raw: np.ndarray, pop: np.ndarray, r: DistrictRules
) -> PlanComparison:
    """Each proposed district matched to the current one it shares most villages with; the villages that move."""
    from scipy.optimize import linear_sum_assignment

    ids = out.index
    cur = current.reindex(ids)
    if cur.isna().any():
        miss = ids[cur.isna()].tolist()[:10]
        raise ValidationError(f"the current districts lack villages {miss}", zh=f"现行警务区缺少村 {miss}")
    cur_s = cur.astype(str).to_numpy()
    prop = out["district_id"].astype(str).to_numpy()
    rows = []
    for plan, lab in (("current", cur_s), ("proposed", prop)):
        for d in sorted(set(lab)):
            mem = np.flatnonzero(lab == d)
            sub = np.where(np.isfinite(raw[np.ix_(mem, mem)]), raw[np.ix_(mem, mem)], np.nan)
            score = np.nansum(sub * pop[mem][:, None], axis=0) + np.isnan(sub).sum(axis=0) * 1e12
            c = mem[int(np.argmin(score))] if plan == "current" else None
            t = out["travel_min_to_office"].to_numpy(float)[mem] if plan == "proposed" else raw[mem, c]
            ft = t[np.isfinite(t)]
            p = float(pop[mem].sum())
            office = (
                (
                    out["office_village_id"].iloc[mem[0]]
                    if "office_village_id" in out.columns
                    else str(out["office_id"].iloc[mem[0]])
                )
                if plan == "proposed"
                else str(ids[c])
            )
            rows.append(
                {
                    "plan": plan,
                    "district_id": d,
                    "n_villages": len(mem),
                    "population": int(p),
                    "officers": r.officers_for(p),
                    "office_id": office,
                    "mean_travel_min": float(ft.mean()) if len(ft) else float("nan"),
                    "max_travel_min": float(ft.max()) if len(ft) else float("nan"),
                }
            )
    cd, pdd = sorted(set(cur_s)), sorted(set(prop))
    overlap = np.array([[np.sum((cur_s == a) & (prop == b)) for a in cd] for b in pdd])
    ri, ci = linear_sum_assignment(-overlap)
    match = {pdd[i]: cd[j] for i, j in zip(ri, ci, strict=True)}
    moved = [
        {"village_id": str(v), "current_district": a, "proposed_district": b, "matched_current": match.get(b)}
        for v, a, b in zip(ids, cur_s, prop, strict=True)
        if match.get(b) != a
    ]
    return PlanComparison(
        pd.DataFrame(rows),
        pd.DataFrame(
            moved, columns=["village_id", "current_district", "proposed_district", "matched_current"]
        ),
    )
