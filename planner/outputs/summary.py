"""summary.json: the key figures and every rule check of a plan, built once from the stages' results.

Every figure the terminal, the report and the charts show is read from this summary (one definition).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from planner.districts.plan import DistrictPlan
from planner.model import ROSTER_EXTRA
from planner.rules import Rules

_DISTRICT_FIGURES = DistrictPlan.FIGURES


def build_summary(
    dplan: Any,
    patrol: Any,
    times: Any,
    access: pd.DataFrame,
    *,
    rules: Rules,
    month: str,
    seconds: dict[str, float],
    network_summary: dict[str, Any],
) -> dict[str, Any]:
    """The key figures and every rule check (INTERFACE.md summary.json).

    The district figures are :meth:`planner.districts.DistrictPlan.summary`'s and the month's
    :meth:`planner.patrol.PatrolPlan.summary`'s: each figure is computed once, by the stage that owns it.
    """
    from planner.offices import coverage_by_minutes, own_office_coverage, service_area

    districts = dplan.summary()
    month_figures = patrol.summary()
    thresholds = rules.offices.coverage_thresholds_min
    # coverage is each village's own office (R11): the one figure the report, its chart and the terminal show
    coverage = coverage_by_minutes(own_office_coverage(dplan.villages, thresholds_min=thresholds))
    # the nearest office of any district, kept under its own name for comparison (never labelled "coverage")
    nearest = coverage_by_minutes(
        service_area(
            times,
            dplan.offices["village_id"].tolist(),
            dplan.villages["population"],
            thresholds_min=thresholds,
        )
    )
    from planner.patrol.rulebook.calendar import month_calendar

    return {
        "month": month,
        # C1: the month's working days, days off and weekend workdays, and whether the year's official
        # arrangement is known (the report's C1 line and the terminal's warning read this)
        "calendar": month_calendar(month, rules.patrol).summary(),
        "region": _region(dplan.villages),
        **{k: districts[k] for k in _DISTRICT_FIGURES[:5]},
        "coverage_pct": coverage,
        "coverage_any_office_pct": nearest,
        **{k: districts[k] for k in _DISTRICT_FIGURES[5:]},
        "visit_requirements_met_pct": round(float(month_figures["visit_requirements_met_pct"]), 2),
        # C4: per office the spread of hours across its officers, and the villages a neighbouring office helped
        "workload": month_figures.get("workload", []),
        "mutual_aid": month_figures.get("mutual_aid", []),
        "unreachable_villages": sorted(access.index[access["access"] == "unreachable"].astype(str).tolist()),
        "walk_villages": sorted(access.index[access["access"] == "walk"].astype(str).tolist()),
        # villages whose residents are prepare-osm's estimate (no population tag): the report says so
        "modelled_population_villages": sorted(
            str(i)
            for i, src in dplan.villages.get("population_source", pd.Series(dtype=str)).items()
            if str(src) == "modelled"
        ),
        # villages whose travel times are estimated (no road data, or beyond the roads given): flagged everywhere
        "estimated_villages": sorted(access.index[access["access"] == "estimated"].astype(str).tolist()),
        "access_reasons": {
            str(i): {"access": str(r.access), "reason": str(r.reason), "reason_zh": str(r.reason_zh)}
            for i, r in access[access["access"] != "road"].sort_index().iterrows()
        },
        "offices_explained": districts.get("offices_explained", []),
        # the certificate of the districts (docs/DOMAIN.md, "How good the districts are")
        "lower_bound": districts.get("lower_bound"),
        "gap_pct": districts.get("gap_pct"),
        # wall-clock seconds of the bounds stay out: they belong to "seconds" (the districts stage), and
        # summary.json must be the same for the same inputs and seed at any machine load
        "district_objective": {
            k: districts.get(k)
            for k in (
                "objective",
                "lower_bound",
                "gap_pct",
                "bound_method",
                "bound_proven_optimal",
                "bound_stopped_by_time",
                # the travel alone: the plan's resident-minutes against a bound on every plan's (issue 17)
                "resident_minutes",
                "resident_minutes_bound",
                "resident_minutes_gap_pct",
                "resident_minutes_bound_method",
                "resident_minutes_proven",
                "resident_minutes_stopped_by_time",
                "resident_minutes_above_bound",
                "resident_minutes_best_cv",
                "balance_weight",
                "balance_tolerance",
                "districts_off_balance",
                "district_mean_residents",
                "compactness_weight",
                "district_population_cv",
                "route_allowance",
                "route_polish",
            )
        },
        "violations": [_violation_dict(x) for x in [*dplan.violations, *patrol.violations]],
        "dropped_visits": [
            {
                "officer_id": str(x[0]),
                "village_id": str(x[1]),
                "reason": str(x[2]),
                **({"reason_zh": str(x[3])} if len(x) > 3 else {}),
            }
            for x in patrol.dropped_visits
        ],
        "shortfall": [
            {k: (v if isinstance(v, int | float) else str(v)) for k, v in row.items()}
            for row in patrol.shortfall
        ],
        "roster": [
            {
                "officer_id": str(r.officer_id),
                "office": str(r.office),
                "kind": str(r.kind),
                "village_id": "" if pd.isna(r.village_id) else str(r.village_id),
                "unavailable": sorted(str(d) for d in (r.unavailable or ())),
                **_roster_extra(r._asdict()),
            }
            for r in patrol.roster.itertuples()
        ],
        "solver": {
            "districts": {
                "proven_optimal": bool(districts["proven_optimal"]),
                "stopped_by_time": bool(districts["stopped_by_time"]),
            },
            "patrol": {"offices_not_proven": list(patrol.offices_not_proven)},
        },
        "network": network_summary,
        "rules": rules.to_dict(),
        "seconds": seconds,
    }


def _region(villages: pd.DataFrame) -> dict[str, Any]:
    """The region a plan covers: its townships, the one with most villages first (a layer names no county)."""
    if "township" not in villages:
        return {"townships": []}
    towns = villages["township"].dropna().astype(str)
    counts = towns[towns.str.strip() != ""].value_counts(sort=False)
    order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return {"townships": [name for name, _ in order]}


def _violation_dict(v: Any) -> dict[str, Any]:
    """A violation as summary.json holds it: ``detail_zh`` only when there is one."""
    out = {"rule": v.rule, "subject": str(v.subject), "detail": v.detail, "hard": bool(v.hard)}
    if v.detail_zh:
        out["detail_zh"] = v.detail_zh
    return out


def _roster_extra(row: dict[str, Any]) -> dict[str, str]:
    """The roster's optional name, station, home village and skills (R9, R10), as text, when given."""
    out: dict[str, str] = {}
    for k in ROSTER_EXTRA:
        v = row.get(k)
        if k in row and not (v is None or (isinstance(v, float) and pd.isna(v))):
            out[k] = str(v)
    return out
