"""Look-ups on a plan's layers that more than one page needs: names of villages, office villages, visitors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from planner.model import PlanData, officer_labels
from planner.rules import Rules

__all__ = [
    "VISIT_ACTIVITIES",
    "office_villages",
    "officer_labels",
    "travel_minutes",
    "village_names",
    "village_places",
    "visiting_officers",
    "with_shown_names",
]

#: The schedule activities that take an officer into a village (a day at the office, or a drive, does not).
VISIT_ACTIVITIES = ("visit", "night_visit")


def with_shown_names(plan: PlanData) -> PlanData:
    """The plan with its villages named as the bureau wants them shown (rules ``[names] short``: 大寨村民委员会
    reads 大寨村) for the report, the map and the sheets; the layers keep the official names."""
    names = Rules.of_summary(plan.summary or {}).names
    if not names.short or "name" not in plan.villages:
        return plan
    shown = plan.villages["name"].map(lambda n: names.shown(n) if isinstance(n, str) else n)
    return dataclasses.replace(plan, villages=plan.villages.assign(name=shown))


def village_names(villages: pd.DataFrame) -> dict[str, str]:
    """village_id -> name, both as text."""
    return dict(zip(villages["village_id"].astype(str), villages["name"].astype(str), strict=True))


def village_places(villages: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """village_id -> (name, township) as text; the township is empty when the layer has none for the village."""
    return {
        str(i): (str(n), "" if pd.isna(tw) else str(tw))
        for i, n, tw in zip(villages["village_id"], villages["name"], villages["township"], strict=True)
    }


def office_villages(offices: pd.DataFrame) -> dict[str, str]:
    """office_id -> village_id of the village the office is in, both as text."""
    return dict(zip(offices["office_id"].astype(str), offices["village_id"].astype(str), strict=True))


def visiting_officers(schedule: pd.DataFrame | None) -> dict[str, list[str]]:
    """village_id -> sorted ids of the officers the schedule sends there (empty when there is no schedule)."""
    if schedule is None or schedule.empty or not {"officer_id", "village_id"} <= set(schedule.columns):
        return {}
    visits = schedule[schedule["village_id"].notna()]
    if "activity" in visits.columns:
        visits = visits[visits["activity"].astype(str).isin(VISIT_ACTIVITIES)]
    return {
        str(vid): sorted({str(o) for o in group["officer_id"]})
        for vid, group in visits.groupby(visits["village_id"].astype(str))
    }


def travel_minutes(villages: pd.DataFrame) -> pd.Series:
    """Travel minutes of each village to its office; NaN for a village not reachable (its access says so, or its
    time is infinite or missing). The map's coverage and the report's charts count the same villages as
    reachable."""
    minutes = pd.to_numeric(villages.get("travel_min_to_office"), errors="coerce").astype(float)
    minutes = minutes.where(np.isfinite(minutes))
    if "access" in villages:
        minutes = minutes.where(villages["access"].astype(str) != "unreachable")
    return minutes
