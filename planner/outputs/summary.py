"""summary.json: the key figures and every rule check of a plan, built once from the stages' results.

Every figure the terminal, the report and the charts show is read from this summary (one definition).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from planner.rules import Rules


def _cv(values: np.ndarray) -> float:
    return float(values.std() / values.mean()) if len(values) and values.mean() > 0 else 0.0


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
    """The key figures and every rule check (INTERFACE.md summary.json)."""
    from planner.offices import service_area

    v = dplan.villages
    d = dplan.districts
    pop = v["population"].to_numpy(dtype=float)
    travel = v["travel_min_to_office"].to_numpy(dtype=float)
    finite = np.isfinite(travel)
    office_villages = dplan.offices["village_id"].tolist()
    sa = service_area(
        times, office_villages, v["population"], thresholds_min=rules.offices.coverage_thresholds_min
    )
    coverage = {
        str(int(t)) if float(t).is_integer() else str(t): round(float(row["residents_pct"]), 2)
        for t, row in sa.iterrows()
    }
    violations = [_violation_dict(x) for x in dplan.violations] + [
        _violation_dict(x) for x in patrol.violations
    ]
    return {
        "month": month,
        "villages": len(v),
        "population": int(pop.sum()),
        "districts": len(d),
        "offices": len(dplan.offices),
        "officers": int(d["officers"].sum()),
        "coverage_pct": coverage,
        "max_travel_min": round(float(travel[finite].max()), 2) if finite.any() else None,
        "mean_travel_min": round(float(np.average(travel[finite], weights=pop[finite])), 2)
        if finite.any() and pop[finite].sum() > 0
        else None,
        "district_villages": {"min": int(d["n_villages"].min()), "max": int(d["n_villages"].max())},
        "district_population": {
            "min": int(d["population"].min()),
            "max": int(d["population"].max()),
            "cv": round(_cv(d["population"].to_numpy(dtype=float)), 4),
        },
        "visit_requirements_met_pct": round(float(patrol.summary()["visit_requirements_met_pct"]), 2),
        "unreachable_villages": sorted(access.index[access["access"] == "unreachable"].astype(str).tolist()),
        "walk_villages": sorted(access.index[access["access"] == "walk"].astype(str).tolist()),
        "access_reasons": {
            str(i): {"access": str(r.access), "reason": str(r.reason), "reason_zh": str(r.reason_zh)}
            for i, r in access[access["access"] != "road"].sort_index().iterrows()
        },
        "violations": violations,
        "dropped_visits": [
            {
                "officer_id": str(x[0]),
                "village_id": str(x[1]),
                "reason": str(x[2]),
                **({"reason_zh": str(x[3])} if len(x) > 3 else {}),
            }
            for x in patrol.dropped_visits
        ],
        "roster": [
            {
                "officer_id": str(r.officer_id),
                "office": str(r.office),
                "kind": str(r.kind),
                "village_id": "" if pd.isna(r.village_id) else str(r.village_id),
                "unavailable": sorted(str(d) for d in (r.unavailable or ())),
            }
            for r in patrol.roster.itertuples()
        ],
        "solver": {
            "districts": {
                "proven_optimal": bool(dplan.proven_optimal),
                "stopped_by_time": bool(dplan.stopped_by_time),
            },
            "patrol": {"offices_not_proven": list(patrol.offices_not_proven)},
        },
        "network": network_summary,
        "rules": rules.to_dict(),
        "seconds": seconds,
    }


def _violation_dict(v: Any) -> dict[str, Any]:
    out = {"rule": v.rule, "subject": str(v.subject), "detail": v.detail, "hard": bool(v.hard)}
    if v.detail_zh:
        out["detail_zh"] = v.detail_zh
    return out
