"""The districts in force today against the proposal: which villages move, and the figures of both plans.

One definition of the comparison, used by the district stage (:func:`compare_current`, with travel times) and by
the report (on the layers of a plan directory):

- :func:`match_districts`: each proposed district is matched to the current district it shares most villages
  with, by a maximum-weight one-to-one assignment; a pair that shares no village is not a match, so a proposed
  district may be matched to none (a new district) and so may a current one (a district that goes).
- :func:`village_moves`: a village moves when its current district is not the one its proposed district is
  matched to. Every village of an unmatched proposed district moves, and so does a village that is in only one
  of the two plans; renaming the districts moves nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from planner.errors import ValidationError
from planner.rules import DistrictRules

logger = logging.getLogger(__name__)

__all__ = ["PlanComparison", "compare_current", "match_districts", "village_moves"]

# The columns of PlanComparison.moved.
MOVED_COLUMNS = ["village_id", "current_district", "proposed_district", "matched_current"]
# A huge cost standing for "not reachable" when the best office site of a current district is chosen.
_UNREACHABLE_COST = 1e12


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
        Villages whose district changes (:func:`village_moves`): village_id, current_district, proposed_district,
        matched_current (the current district the proposed one was matched to, None when it was matched to none).
    """

    districts: pd.DataFrame
    moved: pd.DataFrame


def _labels(values: Any) -> Any:
    """District labels as a pandas string array, <NA> where a village is not in that plan (None, NaN or NA)."""
    return pd.array(np.asarray(values, dtype=object), dtype="string")


def match_districts(current: Any, proposed: Any) -> dict[str, str]:
    """Each proposed district matched to the current district it shares most villages with.

    Parameters
    ----------
    current, proposed
        One label per village, in the same order: its district today and in the proposal (text; None or NaN
        where the village is not in that plan).

    Returns
    -------
    dict
        proposed district -> current district, a maximum-weight one-to-one assignment on the number of shared
        villages (ties broken by the sorted labels); pairs that share no village are left out.
    """
    cur, prop = _labels(current), _labels(proposed)
    both = pd.DataFrame({"current": cur, "proposed": prop}).dropna()
    overlap = pd.crosstab(both["proposed"], both["current"])  # rows and columns in sorted label order
    matched: dict[str, str] = {}
    if overlap.size:
        rows, cols = linear_sum_assignment(overlap.to_numpy(), maximize=True)
        for r, c in zip(rows, cols, strict=True):
            if overlap.iat[r, c] > 0:
                matched[str(overlap.index[r])] = str(overlap.columns[c])
    return matched


def village_moves(current: Any, proposed: Any, matched: Mapping[str, str]) -> np.ndarray:
    """Which villages move: their current district is not the one their proposed district is matched to.

    Parameters
    ----------
    current, proposed
        One label per village, as for :func:`match_districts`.
    matched
        proposed district -> current district (:func:`match_districts`).

    Returns
    -------
    numpy.ndarray
        One bool per village: True when it moves (also when it is in only one of the two plans, or its proposed
        district is matched to none); False for a village in neither plan.
    """
    cur, prop = _labels(current), _labels(proposed)
    target = pd.array([matched.get(p) if isinstance(p, str) else None for p in prop], dtype="string")
    in_a_plan = ~(cur.isna() & prop.isna())
    same = (cur == target).fillna(False).to_numpy(dtype=bool)
    return np.asarray(in_a_plan, dtype=bool) & ~same


def _district_row(
    plan: str,
    district: str,
    members: np.ndarray,
    minutes: np.ndarray,
    population: np.ndarray,
    office_id: str,
    rules: DistrictRules,
) -> dict[str, Any]:
    """A row of PlanComparison.districts: the size, officers and travel figures of one district."""
    finite = minutes[np.isfinite(minutes)]
    pop = float(population[members].sum())
    return {
        "plan": plan,
        "district_id": district,
        "n_villages": len(members),
        "population": int(pop),
        "officers": rules.officers_for(pop),
        "office_id": office_id,
        "mean_travel_min": float(finite.mean()) if len(finite) else float("nan"),
        "max_travel_min": float(finite.max()) if len(finite) else float("nan"),
    }


def compare_current(
    villages: gpd.GeoDataFrame,
    current: pd.Series,
    minutes: np.ndarray,
    population: np.ndarray,
    rules: DistrictRules,
) -> PlanComparison:
    """The current districts against the proposed ones: the figures of both and the villages that move.

    Parameters
    ----------
    villages
        The proposal: villages indexed by village_id with district_id, office_id (or office_village_id) and
        travel_min_to_office.
    current
        The current district of every village, indexed by village_id.
    minutes
        Travel minutes between the villages (rows and columns in ``villages`` order; inf where not reachable).
    population
        Residents of each village, in ``villages`` order.
    rules
        The district rules (officers for a population).

    Returns
    -------
    PlanComparison
        A current district's office is put at its best site: the village with the least population-weighted
        travel time to the others.

    Raises
    ------
    ValidationError
        When ``current`` lacks villages of the proposal.
    """
    ids = villages.index
    cur = current.reindex(ids)
    if cur.isna().any():
        miss = ids[cur.isna()].tolist()[:10]
        raise ValidationError(f"the current districts lack villages {miss}", zh=f"现行警务区缺少村 {miss}")
    cur_labels = cur.astype(str).to_numpy()
    prop_labels = villages["district_id"].astype(str).to_numpy()
    travel = villages["travel_min_to_office"].to_numpy(float)
    rows = []
    for d in sorted(set(cur_labels)):
        mem = np.flatnonzero(cur_labels == d)
        sub = np.where(np.isfinite(minutes[np.ix_(mem, mem)]), minutes[np.ix_(mem, mem)], np.nan)
        score = (
            np.nansum(sub * population[mem][:, None], axis=0) + np.isnan(sub).sum(axis=0) * _UNREACHABLE_COST
        )
        site = mem[int(np.argmin(score))]
        rows.append(_district_row("current", d, mem, minutes[mem, site], population, str(ids[site]), rules))
    for d in sorted(set(prop_labels)):
        mem = np.flatnonzero(prop_labels == d)
        office = (
            villages["office_village_id"].iloc[mem[0]]
            if "office_village_id" in villages.columns
            else str(villages["office_id"].iloc[mem[0]])
        )
        rows.append(_district_row("proposed", d, mem, travel[mem], population, office, rules))
    matched = match_districts(cur_labels, prop_labels)
    moves = village_moves(cur_labels, prop_labels, matched)
    moved = pd.DataFrame(
        {
            "village_id": [str(v) for v in ids[moves]],
            "current_district": cur_labels[moves],
            "proposed_district": prop_labels[moves],
            "matched_current": [matched.get(p) for p in prop_labels[moves]],
        },
        columns=MOVED_COLUMNS,
    )
    logger.info("current districts: %d villages move of %d", int(moves.sum()), len(ids))
    return PlanComparison(pd.DataFrame(rows), moved)
