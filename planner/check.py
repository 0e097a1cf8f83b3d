"""``planner check PLAN``: re-check a plan directory against the rules, e.g. after hand edits in QGIS.

The plan directory carries its travel-time matrix (travel_times.npz), so districts, offices and the schedule are
re-checked with road travel times even when villages or offices were moved by hand.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from planner.model import PlanData, TravelTimes
from planner.rules import Rules, load_rules

log = logging.getLogger(__name__)


def check_plan(plan: PlanData, *, rules: Rules, times: TravelTimes | None) -> list[Any]:
    """Every rule on a plan: districts and offices, then the schedule when there is one."""
    from planner.districts import check_districts
    from planner.geo import metric_crs

    villages = plan.villages.set_index("village_id")
    villages.index = villages.index.astype(str)
    # the plan's layers are WGS-84; neighbour tests measure shared borders in metres
    villages = villages.to_crs(metric_crs(villages))
    violations = list(check_districts(villages, times, offices=plan.offices, rules=rules))
    if len(plan.schedule) and times is not None:
        from planner.patrol.month import check_schedule
        from planner.patrol.roster import patrol_assignment

        assignment = patrol_assignment(villages, plan.offices, plan.districts)
        month = str(plan.summary.get("month") or str(plan.schedule["date"].min())[:7])
        violations += list(
            check_schedule(
                plan.schedule, assignment, times, rules=rules.patrol, month=month, roster=_roster_of(plan)
            )
        )
    return violations


def _roster_of(plan: PlanData) -> pd.DataFrame | None:
    """The roster the plan was made with (summary.json), leave dates included, so office-day weeks are
    re-checked against the days each officer could work."""
    import datetime as dt

    rows = plan.summary.get("roster")
    if not isinstance(rows, list) or not rows:
        return None
    return pd.DataFrame(
        {
            "officer_id": [str(r["officer_id"]) for r in rows],
            "office": [str(r["office"]) for r in rows],
            "kind": [str(r.get("kind", "linked")) for r in rows],
            "village_id": [str(r.get("village_id") or "") or None for r in rows],
            "unavailable": [tuple(dt.date.fromisoformat(d) for d in r.get("unavailable", [])) for r in rows],
        }
    )


def rules_of(summary: dict[str, Any]) -> Rules:
    """The rules a plan was made with (its summary.json), so that a check without --config checks the same
    rules and the report describes the rules in force; the defaults for a summary without them."""
    data = summary.get("rules")
    if not isinstance(data, dict):
        return load_rules(None)
    return Rules.from_dict(data, source="summary.json rules")


def rule_labels(rules: Rules, lang: str = "zh") -> dict[str, str]:
    """Every bureau rule's one-line description with the values in force (R1-R11), by rule id.

    Each label comes from the module where its rule lives (districts/check for R1, R2; patrol's rulebook for
    R4-R8; offices for R11); R3, R9 and R10, which no stage plans yet, keep their fixed texts.
    """
    from planner.districts.check import r1_label, r2_label
    from planner.offices import r11_label
    from planner.patrol.rulebook import labels
    from planner.texts import t

    out = {"R1": r1_label(rules, lang), "R2": r2_label(rules, lang)}
    out["R3"] = t("rule.R3", lang)
    out.update(labels(rules.patrol, lang))
    out.update({r: t(f"rule.{r}", lang) for r in ("R9", "R10")})
    out["R11"] = r11_label(rules, lang)
    return out
