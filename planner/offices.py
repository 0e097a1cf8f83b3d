"""The office stage: which village of each district holds its office, and who is within reach of one (R11).

:func:`place_offices` takes the district stage's :class:`planner.districts.plan.DistrictPartition`, places each
district's office under ``rules.offices`` and returns the completed :class:`planner.districts.DistrictPlan`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from planner.districts.plan import DistrictPartition, DistrictPlan, complete_plan
from planner.errors import ValidationError
from planner.model import TravelTimes
from planner.rules import OfficeRules, Rules
from planner.texts import t as text

log = logging.getLogger(__name__)


def place_offices(partition: DistrictPartition, *, rules: Rules) -> DistrictPlan:
    """Place each district's office under ``rules.offices`` and complete the district plan.

    Every objective chooses the office again inside each district with :func:`choose_office` (the engine's
    centre wins ties): "pmedian" the village of least resident-minutes, so that no office sits in a hamlet
    because the engine's centre also weighed the district's radius. :func:`explain_offices` says why each
    office is where it is (``DistrictPlan.offices_explained``, summary.json's ``offices_explained``).

    Parameters
    ----------
    partition
        The district stage's result (:func:`planner.districts.plan_districts`).
    rules
        The validated rules; ``rules.offices`` says what the office optimises.

    Returns
    -------
    DistrictPlan
        Villages with ``office_id`` and ``travel_min_to_office``, the districts and offices layers, and every
        rule the plan breaks.
    """
    t0 = time.monotonic()
    sites = office_sites(partition, rules.offices)
    moved = sum(int(a != b) for a, b in zip(sites, partition.centers, strict=True))
    log.info(
        "place_offices: %d offices by %s (%d away from the district engine's centre)",
        len(sites),
        rules.offices.objective,
        moved,
    )
    layer = offices_layer(partition, sites, rules=rules)
    seconds = partition.seconds + (time.monotonic() - t0)
    plan = complete_plan(partition, sites, layer, rules=rules, seconds=seconds)
    return replace(plan, offices_explained=explain_offices(partition, sites))


def r11_label(rules: Rules, lang: str = "zh") -> str:
    """R11 (response: travel from the office to the villages) in plain words, from the rules in force.

    The office objective and the coverage thresholds are the bureau's choice of how R11 is weighed; the rule's
    words do not change with them (the defaults read as texts.py's ``rule.R11``).
    """
    return text("rule.R11", lang)


def office_sites(partition: DistrictPartition, office_rules: OfficeRules) -> list[int]:
    """The office village (a position in ``partition.villages``) of every district, in district order."""
    centers = list(partition.centers)
    labels = partition.labels
    # "pmedian" is chosen again here too: the engine's centre also weighs the district's radius (compactness),
    # while the office is the village of least resident-minutes (docs/DOMAIN.md, "The objective")
    return [
        choose_office(
            np.flatnonzero(labels == d),
            partition.minutes,
            partition.population,
            objective=office_rules.objective,
            coverage_min=office_rules.coverage_min,
            candidates=partition.candidate_mask,
            current=c,
            limit_min=partition.limit_min,
        )
        for d, c in enumerate(centers)
    ]


def explain_offices(partition: DistrictPartition, sites: Sequence[int]) -> list[dict[str, Any]]:
    """Why each office is where it is: its resident-minutes, its worst village, the runner-up and the difference.

    Resident-minutes are the residents of each village times the drive from the village to the office, as
    :func:`choose_office` ranks sites and summary.json's ``district_objective`` counts them (villages no road
    reaches are left out and counted in ``unreachable``); the runner-up is the district's next best allowed site
    by the same measure, and ``extra_resident_min`` what moving the office there would add (negative: save).
    """
    ids, names = partition.villages.index, partition.villages.get("name")
    pop, minutes = partition.population, partition.minutes
    out: list[dict[str, Any]] = []
    width = max(2, len(str(len(sites))))
    for d, c in enumerate(sites):
        mem = np.flatnonzero(partition.labels == d)
        allowed = mem if partition.candidate_mask is None else mem[partition.candidate_mask[mem]]
        t = minutes[np.ix_(mem, allowed)].T  # village -> site
        rm = np.where(np.isfinite(t), t, 0.0) @ pop[mem]
        order = np.argsort(rm, kind="stable")
        here = int(np.flatnonzero(allowed == c)[0]) if c in allowed else None
        tc = minutes[mem, c]
        rm_c = float(np.where(np.isfinite(tc), tc, 0.0) @ pop[mem])
        fin = np.isfinite(tc)
        worst = int(mem[fin][np.argmax(tc[fin])]) if fin.any() else int(c)
        runner = next((int(allowed[i]) for i in order if int(allowed[i]) != c), None)

        def label(u: int) -> dict[str, Any]:
            return {"village_id": str(ids[u]), "name": "" if names is None else str(names.iloc[u])}

        row: dict[str, Any] = {
            "office_id": f"O{d + 1:0{width}d}",
            "district_id": f"D{d + 1:0{width}d}",
            **label(int(c)),
            "population": int(pop[c]),
            "resident_min": round(rm_c),
            "best_of_district": here is not None and rm_c <= float(rm.min()) + 1e-6,
            "worst_village": {**label(worst), "minutes": round(float(minutes[worst, c]), 1)},
            "unreachable": int((~fin).sum()),
        }
        if runner is not None:
            rt = minutes[mem, runner]
            row["runner_up"] = {
                **label(runner),
                "population": int(pop[runner]),
                "resident_min": round(float(np.where(np.isfinite(rt), rt, 0.0) @ pop[mem])),
                "extra_resident_min": round(float(np.where(np.isfinite(rt), rt, 0.0) @ pop[mem]) - rm_c),
                "worst_minutes": round(float(rt[np.isfinite(rt)].max()), 1)
                if np.isfinite(rt).any()
                else None,
            }
        out.append(row)
    return out


def offices_layer(partition: DistrictPartition, sites: Sequence[int], *, rules: Rules) -> gpd.GeoDataFrame:
    """One point per office: its id, village, district and officers (R2), at the village's anchor point."""
    ids = partition.villages.index
    pop = partition.population
    width = max(2, len(str(len(sites))))
    rows, geoms = [], []
    for d, c in enumerate(sites):
        mem = np.flatnonzero(partition.labels == d)
        p = float(pop[mem].sum())
        rows.append(
            {
                "office_id": f"O{d + 1:0{width}d}",
                "village_id": str(ids[c]),
                "district_id": f"D{d + 1:0{width}d}",
                "officers": rules.districts.officers_for(p),
            }
        )
        geoms.append(Point(partition.anchors[c]))
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=partition.villages.crs)


def choose_office(
    members: np.ndarray,
    minutes: np.ndarray,
    population: np.ndarray,
    *,
    objective: str,
    coverage_min: float,
    candidates: np.ndarray | None = None,
    current: int | None = None,
    limit_min: tuple[float, bool] | None = None,
) -> int:
    """The office village of one district under an office objective, exactly (every candidate is tried).

    ``minutes[v, c]`` is the drive from village v to a site c: the direction of the residents' travel to their
    own office that the district objective, ``travel_min_to_office`` and summary.json's resident-minutes use
    (issue 17: the office was ranked by site -> village before, so the delivered resident-minutes could be above
    the district's best). "coverage": the most residents within ``coverage_min``; "pcenter": the shortest worst
    trip; "pmedian": the least resident-minutes. Ties go to
    the least resident-minutes, then to ``current``, then to the lowest index, so the choice is reproducible.
    ``limit_min`` = (minutes, hard): with a hard travel limit the sites that keep every village within it come
    first (least minutes beyond it); a soft limit does not move the office (it weighs on the districts).
    """
    sites = members if candidates is None else members[candidates[members]]
    if len(sites) == 0:
        return int(current if current is not None else members[0])
    t = minutes[np.ix_(members, sites)].T  # t[i, j]: village members[j] -> site sites[i]
    big = np.where(np.isfinite(t), t, 1e9)
    w = population[members]
    resident_min = big @ w
    if objective == "coverage":
        primary = -((t <= coverage_min) @ w)
    elif objective == "pcenter":
        primary = big.max(axis=1)
    else:
        primary = resident_min
    beyond = np.zeros(len(sites))
    if limit_min is not None and limit_min[1]:
        beyond = np.maximum(big - limit_min[0], 0.0).sum(axis=1)
    keys = [
        (beyond[i], primary[i], resident_min[i], int(sites[i]) != current, int(sites[i]))
        for i in range(len(sites))
    ]
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


def coverage_by_minutes(table: pd.DataFrame) -> dict[str, float]:
    """residents_pct of a coverage table (:func:`own_office_coverage`, :func:`service_area`) keyed by its
    minutes as summary.json writes them ("15", "30", ...)."""
    return {
        str(int(t)) if float(t).is_integer() else str(t): round(float(row["residents_pct"]), 2)
        for t, row in table.iterrows()
    }


def own_office_coverage(
    villages: pd.DataFrame,
    *,
    thresholds_min: Sequence[float] = (15, 30, 60),
) -> pd.DataFrame:
    """Villages and residents within T minutes of **their own district's office**, per threshold T.

    The one definition of coverage (R11) the summary, the report's figures and chart and the terminal read:
    the drive from each village's office to the village (``travel_min_to_office``), not the nearest office of
    any district (:func:`service_area`), since a village's alarm goes to its own district's office.

    Returns
    -------
    DataFrame indexed by ``threshold_min`` with villages, villages_pct, residents, residents_pct (a village with
    no travel time, e.g. unreachable, counts as outside every threshold).
    """
    minutes = pd.to_numeric(villages["travel_min_to_office"], errors="coerce").to_numpy(float)
    minutes = np.where(np.isnan(minutes), np.inf, minutes)
    if "access" in villages:
        minutes = np.where(villages["access"].astype(str).to_numpy() == "unreachable", np.inf, minutes)
    popv = pd.to_numeric(villages["population"], errors="coerce").fillna(0).to_numpy(float)
    total = popv.sum()
    rows = []
    for t in thresholds_min:
        inside = minutes <= float(t)
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
