"""C4, shared capacity: no officer idles while his office leaves a visit undone.

The rule as the planner applies it (docs/DOMAIN.md): no officer has a working day under half a shift
(``shift_hours / 2`` of work, night trip included) while a village of his office misses a visit that month (R5,
R7 or R8), unless that visit is impossible for him that day: the village has no road from the office, or the
day's work plus the round trip plus the visit would not fit the shift, or the visit missed is a weekly visit of
another week (R8) or a night visit and the day is no night-visit weekday (R7).

Each village is linked to one officer of its office (:mod:`planner.patrol.month`); when an officer misses
visits and a colleague has field days under half a shift, :func:`relink_move` names the village to move to the
colleague, and the office is solved again (a bounded, deterministic number of rounds, kept only when more
requirements are met). With ``[patrol] mutual_aid`` the officers of the nearest office by travel time help an
office that still misses visits (:func:`aid_office`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from planner.model import TravelTimes, Violation
from planner.patrol.rulebook import r5
from planner.patrol.rulebook.calendar import month_calendar, month_weeks
from planner.patrol.rulebook.worktime import NO_ROAD, WorkTime
from planner.rules import PatrolRules

# -- the re-link (planner) ----------------------------------------------------------------------------------


def short_days(solver: Any, om: Any, work: WorkTime) -> int:
    """The officer's field days under half a shift in the solver's plan (his slack)."""
    return sum(
        1 for d in om.days if not solver.value(om.off[d]) and solver.value(om.field_load[d]) < work.shift // 2
    )


def missed_units(solver: Any, om: Any) -> dict[str, int]:
    """Per village of the officer, the visit units (R5 full days, R7 nights, R8 weekly visits) missed."""
    out: dict[str, int] = {}
    for (v, kind), (s, _need) in om.slacks.items():
        if v and (kind in ("full", "night") or kind.startswith("weekly:")):
            m = int(solver.value(s))
            if m:
                out[v] = out.get(v, 0) + m
    return out


def relink_move(
    links: dict[str, str],
    slack: dict[str, int],
    missed: dict[str, dict[str, int]],
    *,
    pinned: set[str],
    tried: set[tuple[str, str]],
) -> tuple[str, str, str] | None:
    """The village to move (village, from officer, to officer), or None.

    From the officer who misses the most visit units (``missed``: officer -> village -> units), his village
    missing the most (ties: the id), to the colleague with the most field days under half a shift (``slack``,
    ties: the id). Villages in ``pinned`` (a resident's own, a roster link, an aid link) never move; a move in
    ``tried`` (village, to officer) is not tried twice.
    """
    helpers = sorted((o for o, n in slack.items() if n), key=lambda o: (-slack[o], o))
    if not helpers:
        return None
    order = sorted(missed.items(), key=lambda p: (-sum(p[1].values()), p[0]))
    for src, miss in order:
        villages = sorted(
            (v for v, oid in links.items() if oid == src and miss.get(v, 0) and v not in pinned),
            key=lambda v: (-miss[v], v),
        )
        for v in villages:
            for dst in helpers:
                if dst != src and (v, dst) not in tried:
                    return v, src, dst
    return None


def nearest_offices(office: str, office_village: dict[str, str], times: TravelTimes) -> list[str]:
    """The other offices in order of travel time from ``office``'s village (ties: the id); only offices a road
    reaches."""
    here = office_village[office]
    others = [o for o in sorted(office_village) if o != here and o != office]
    ids = [office_village[o] for o in others]
    if not ids:
        return []
    sec = times.subset([here], ids).seconds[0]
    order = sorted(
        (float(sec[i]), o) for i, o in enumerate(others) if np.isfinite(sec[i]) and office_village[o] != here
    )
    return [o for _s, o in order]


# -- check ---------------------------------------------------------------------------------------------------


def check(
    s: pd.DataFrame,
    a: pd.DataFrame,
    times: TravelTimes,
    found: Sequence[Violation],
    *,
    rules: PatrolRules,
    month: str,
    office_of: dict[str, str],
) -> list[Violation]:
    """Soft C4 breaks: per officer, his working days under half a shift on which he could have made a visit
    that a village of his office misses (``found``: the village breaks of R5, R7 and R8 already found;
    ``s``: the parsed schedule; ``office_of``: officer -> office)."""
    work = WorkTime.of(rules)
    missing = _missing(s, a, found, rules=rules, month=month)
    if not missing:
        return []
    cal = month_calendar(month, rules)
    per_day = s.groupby(["officer_id", "d"])["dur"].sum()
    driven = s[s["activity"] == "travel"].groupby(["officer_id", "d"])["dur"].sum()
    out: list[Violation] = []
    by_officer: dict[str, list[tuple[dt.date, str]]] = {}
    for (oid, d), minutes in per_day.items():
        office = office_of.get(str(oid), "")
        if minutes >= work.shift / 2 or office not in missing:
            continue
        for v, what in missing[office]:
            home = str(a.loc[v, "office_village_id"])
            trip = _round_trip(times, home, v)
            # no road, or the day's driving with the round trip beyond the limit: impossible for him
            if trip + int(driven.get((oid, d), 0)) > work.drive or a.loc[v, "access"] == "unreachable":
                continue
            need = r5.full_visit_service(rules) if what == "R5" else int(rules.weekly_visit_minutes)
            if what == "R7":
                fits = (
                    d.weekday() in work.night_days
                    and work.night_trip_fits(trip)
                    and minutes + trip + work.night_len <= work.limit
                )
            else:
                fits = minutes + trip + need <= work.shift
                if what.startswith("R8:"):
                    fits = fits and cal.week_of(d) == what[3:]
            if fits:
                by_officer.setdefault(str(oid), []).append((d, v))
                break
    for oid, days in sorted(by_officer.items()):
        dates = ", ".join(d.isoformat() for d, _v in days[:5]) + (" ..." if len(days) > 5 else "")
        vill = ", ".join(sorted({v for _d, v in days})[:5])
        half = rules.shift_hours / 2
        out.append(
            Violation(
                "C4",
                oid,
                f"{oid} works under {half:g} h on {len(days)} day(s) ({dates}) while his office "
                f"{office_of[oid]} misses visits he could make on those days ({vill})",
                f"{oid} 有 {len(days)} 个工作日 ({dates}) 不足 {half:g} 小时, 而所在警务室 {office_of[oid]} "
                f"有他当天可完成的走访未完成 ({vill})",
                hard=False,
                kind="officer",
            )
        )
    return out


def _missing(
    s: pd.DataFrame, a: pd.DataFrame, found: Sequence[Violation], *, rules: PatrolRules, month: str
) -> dict[str, list[tuple[str, str]]]:
    """Per office, its villages' missed visits: (village, "R5" / "R7" / "R8:<week>")."""
    out: dict[str, list[tuple[str, str]]] = {}
    broken = {(v.rule, v.subject) for v in found if v.rule in ("R5", "R7", "R8") and v.subject in a.index}
    cal = month_calendar(month, rules)
    vis = s[s["activity"] == "visit"]
    for rule, vid in sorted(broken):
        office = str(a.loc[vid, "office_id"])
        if rule == "R8":
            seen = {cal.week_of(d) for d in vis.loc[vis["village_id"] == vid, "d"]}
            out.setdefault(office, []).extend(
                (vid, f"R8:{w}") for w in month_weeks(month, rules=rules) if w not in seen
            )
        else:
            out.setdefault(office, []).append((vid, rule))
    return out


def _round_trip(times: TravelTimes, home: str, village: str) -> int:
    """Whole minutes office village -> village -> office village (NO_ROAD when no road)."""
    ids = [str(x) for x in times.origins]
    if home not in ids or village not in ids:
        return NO_ROAD
    sec = times.subset([home, village], [home, village]).seconds
    total = sec[0, 1] + sec[1, 0]
    return int(np.ceil(total / 60.0)) if np.isfinite(total) else NO_ROAD


def officer_offices(s: pd.DataFrame, a: pd.DataFrame, roster: pd.DataFrame | None) -> dict[str, str]:
    """Officer -> office: the roster's, else the office of the villages the officer's rows name most."""
    if roster is not None and "office" in roster.columns:
        return {str(o): str(f) for o, f in zip(roster["officer_id"], roster["office"], strict=True)}
    office_of_village = {str(k): str(v) for k, v in a["office_id"].items()}
    office_of_village.update(
        {str(v): str(o) for v, o in zip(a["office_village_id"], a["office_id"], strict=True)}
    )
    out: dict[str, str] = {}
    for oid, g in s.groupby("officer_id"):
        offices = g["village_id"].map(office_of_village).dropna()
        if len(offices):
            out[str(oid)] = str(offices.value_counts().sort_index().idxmax())
    return out
