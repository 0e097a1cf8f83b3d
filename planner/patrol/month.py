"""The monthly patrol and visit plan (R4-R8): which officer visits which village on which day, in which order.

It is a periodic routing problem with time windows, solved in two steps:

1. **Day assignment** (CP-SAT, one model per office). Every working day of every officer is an office day or a
   field day. A field day is a *pattern*: a set of the officer's villages, each visited for a full visit day
   (R5: ``visit_hours`` plus its share of the household visits of R6) or a short weekly visit (R8). Patterns are
   enumerated exactly: the shortest closed tour office -> villages -> office of every small village set is found
   by dynamic programming over subsets (Held-Karp), and a pattern is kept when tour plus service fits the shift
   and the tour fits the driving limit. Each officer-day picks exactly one pattern (one boolean per day and
   pattern, a set-partitioning model whose LP relaxation is tight), so the model never plans a day that cannot
   be driven. Requirements are soft with large penalties, so the model always has a solution and its slacks are
   the shortfalls, which are then explained with their numbers. The search starts from a greedy month (never
   from the all-office month: a search stopped early kept it once, leaving an officer with 0 field days) and is
   lexicographic: first the requirements, then the least field time that keeps them. It runs on one worker
   under a *deterministic* time budget (``time_limit`` deterministic seconds shared by the offices by village
   count, each office's share its own), so a seed gives the same plan on any machine, under any load and with
   the offices planned one after another or side by side (``executor``).
2. **Routing** of each officer-day: the exact shortest order of its at most :data:`MAX_STOPS` villages (the same
   Held-Karp tour the pattern was built with, so it always fits); only a day that somehow does not fit goes to
   :func:`planner.engines.routing.solve_vrptw` (OR-Tools), which leaves out what does not fit. Such a visit is
   moved to another field day of the same officer, or reported. Measured on the demo: OR-Tools spent its
   0.2 s wall-time limit on every 2-6 stop day (about 25 s a month) to find the tour the DP gives in
   microseconds.

When officers are short, the penalties follow what a station chief keeps first: every weekly visit (R8), every
village's first full visit day, its night visit (R7) and R4 cost the same; a village's further full visit days
cost half, so they are the first to go; R6 household time is priced per missing minute.

Where things live: the rules' demands, constraints, explanations and checks in :mod:`planner.patrol.rulebook`
(one module per rule), the day model in :mod:`~planner.patrol.daymodel`, the day patterns in
:mod:`~planner.patrol.patterns`, the search in :mod:`~planner.patrol.solve`, the day routes in
:mod:`~planner.patrol.dayroutes`, the explanations' order in :mod:`~planner.patrol.explain`, the shortfall in
:mod:`~planner.patrol.shortfall`, the re-check in :mod:`~planner.patrol.check`; this module plans the month.

Choices (documented here because the rules leave them open):

- Night visits (R7) are their own evening trip office -> village -> office, arriving at the start of the night
  window and staying until its end. A night-visit day is a late shift (C3) that ends with the drive back: the
  day's work starts late enough that the whole day stays within ``shift_hours`` (plus ``night_overtime_hours``,
  0 by default; China's Labour Law, art. 41, caps overtime at :data:`OVERTIME_HOURS`), an office day that day
  keeps office hours from the late start until the trip leaves (at least half a shift), and the day's driving,
  the trip's included, stays within ``max_drive_hours``. Night visits are made only on the officer's working
  days.
- The working days are the official calendar's (C1) and R8 counts per *week of the month* (C2): a week with
  fewer than ``[calendar] min_week_days`` working days inside the month joins its neighbour, and an officer owes
  ``round(office_days_per_week * days / 5)`` office days of his ``days`` in it
  (:mod:`planner.patrol.rulebook.calendar`).
- A weekly visit (R8) that is not a full visit day lasts ``rules.weekly_visit_minutes`` (default 60).
- The household visits of R6 (``households_per_month * household_minutes``) are folded into the full visit days;
  when they take longer than the full visit days, the rest is spread over them as extra time. When there are no
  full visit days (``visit_days_per_village = 0``) they are spread over the weekly visits.
- Each village is linked to one officer of its office, who makes all its visits: a resident officer keeps his own
  village, a roster ``village_id`` of a linked officer is honoured, the other villages go to the officer with the
  least estimated work. A resident officer's R4 days count office days at an office in his village (he works in
  the village) plus full visit days there. A linked officer's R4 days are his full visit days.
- The generated roster (no roster given) has ``officers`` officers per office, ids ``<office_id>-1``, ...; when
  ``resident_days_per_month > 0`` the first one is the resident officer of the office village, the others are
  linked officers.
- Times are planned in whole minutes: travel times are rounded up, so the schedule never promises a faster drive
  than the network gives.
"""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from planner.errors import ValidationError
from planner.model import SCHEDULE_COLUMNS, DroppedVisit, TravelTimes, Violation, clock_minutes
from planner.patrol.check import check_schedule
from planner.patrol.context import MonthContext
from planner.patrol.daymodel import DayModel, Officer, OfficerModel
from planner.patrol.dayroutes import RouteCache, leg, route_days, row
from planner.patrol.explain import OfficerOutcome, explain_officer
from planner.patrol.patterns import MAX_STOPS, greedy_days, patterns
from planner.patrol.roster import ROSTER_COLUMNS, check_roster, make_roster
from planner.patrol.rulebook import c4, r4, r5, r6, r7, r8, r10
from planner.patrol.rulebook.calendar import (
    iso_week,
    month_calendar,
    month_weeks,
    office_days_required,
    parse_month,
    working_days,
)
from planner.patrol.rulebook.worktime import NO_ROAD, OVERTIME_HOURS
from planner.patrol.shortfall import merge_shortfall, officer_shortfall, shortfall_row
from planner.patrol.solve import solve_lexicographic
from planner.rules import PatrolRules

log = logging.getLogger(__name__)

LEG_COLUMNS = ["officer_id", "date", "seq", "from_id", "to_id", "minutes"]

# names that callers imported from this module before the rulebook existed
__all__ = [
    "LEG_COLUMNS",
    "MAX_STOPS",
    "OVERTIME_HOURS",
    "ROSTER_COLUMNS",
    "SCHEDULE_COLUMNS",
    "PatrolPlan",
    "check_schedule",
    "iso_week",
    "make_roster",
    "office_days_required",
    "parse_month",
    "plan_month",
    "working_days",
]


@dataclass(frozen=True, eq=False)
class PatrolPlan:
    """The monthly plan.

    Attributes
    ----------
    schedule
        One row per officer-day-stop: officer_id, date (ISO), start, end (HH:MM), village_id, activity
        (visit / night_visit / office / travel; a travel row names the village it drives to), minutes.
    legs
        The drives: officer_id, date, seq, from_id, to_id, minutes (night trips follow the day's legs).
    roster
        The roster used (given or generated): officer_id, office, kind, village_id, unavailable.
    dropped_visits
        Requirements not met, per officer and village, with the reason in English and Chinese.
    shortfall
        Per office that cannot meet its requirements: office_id, needed_days, available_days, more_officers,
        detail, detail_zh.
    violations
        What :func:`check_schedule` finds in the schedule.
    visit_requirements_met_pct
        Share of the visit requirement units met (full visit days, weekly visits, night visits, R4 days).
    offices_not_proven
        Offices whose day assignment stopped on its work budget before CP-SAT proved the fewest missed
        requirements (the plan is the best found, not proven best).
    mutual_aid
        With ``[patrol] mutual_aid``: per village served by an officer of another office, village_id, office_id
        (its own), officer_id and helper_office (C4); their schedule rows carry a ``note``.
    """

    month: str
    schedule: pd.DataFrame
    legs: pd.DataFrame
    roster: pd.DataFrame
    dropped_visits: list[DroppedVisit]
    shortfall: list[dict[str, Any]]
    violations: list[Violation]
    visit_requirements_met_pct: float
    links: pd.Series = field(repr=False, default_factory=lambda: pd.Series(dtype=object))
    offices_not_proven: tuple[str, ...] = ()
    mutual_aid: tuple[dict[str, str], ...] = ()
    available_hours: dict[str, float] = field(default_factory=dict)  # officer -> working days x shift hours

    def summary(self) -> dict[str, Any]:
        """Key figures of the month."""
        s = self.schedule
        act = s["activity"].value_counts().to_dict() if len(s) else {}
        return {
            "month": self.month,
            "officers": len(self.roster),
            "office_days": int(act.get("office", 0)),
            "visits": int(act.get("visit", 0)),
            "night_visits": int(act.get("night_visit", 0)),
            "field_days": int(
                s.loc[s["activity"] == "visit", ["officer_id", "date"]].drop_duplicates().shape[0]
            )
            if len(s)
            else 0,
            "drive_minutes": int(self.legs["minutes"].sum()) if len(self.legs) else 0,
            "dropped_visits": len(self.dropped_visits),
            "shortfall_offices": len(self.shortfall),
            "violations": len(self.violations),
            "visit_requirements_met_pct": self.visit_requirements_met_pct,
            "workload": self.workload(),
            "mutual_aid": [dict(e) for e in self.mutual_aid],
        }

    def workload(self) -> list[dict[str, Any]]:
        """Per office, the spread of the month's hours across its officers (every schedule row: office, field,
        travel, night visits; an officer without a row counts 0 h): officers, hours_min, hours_mean,
        hours_max, the officers at the min and max, and (when the plan knows its officers' working days)
        hours_available (working days x shift hours, summed) and hours_spare (available minus worked)."""
        s, r = self.schedule, self.roster
        hours = (s.groupby("officer_id")["minutes"].sum() / 60.0) if len(s) else pd.Series(dtype=float)
        out = []
        for office, g in r.groupby("office", sort=True):
            h = pd.Series({str(o): float(hours.get(o, 0.0)) for o in g["officer_id"]}).sort_index()
            out.append(
                {
                    "office_id": str(office),
                    "officers": len(h),
                    "hours_min": round(float(h.min()), 1),
                    "hours_mean": round(float(h.mean()), 1),
                    "hours_max": round(float(h.max()), 1),
                    "officer_min": str(h.idxmin()),
                    "officer_max": str(h.idxmax()),
                }
            )
            if self.available_hours:
                avail = sum(float(self.available_hours.get(o, 0.0)) for o in h.index)
                out[-1]["hours_available"] = round(avail, 1)
                out[-1]["hours_spare"] = round(max(0.0, avail - float(h.sum())), 1)
        return out


_ASSIGNMENT_COLUMNS = ("district_id", "office_id", "office_village_id", "officers", "access")


def _check_assignment(assignment: pd.DataFrame, times: TravelTimes) -> pd.DataFrame:
    """The assignment with ids as text, once its columns and villages are known to be there."""
    missing = [c for c in _ASSIGNMENT_COLUMNS if c not in assignment.columns]
    if missing:
        raise ValidationError(
            f"patrol assignment: missing column(s) {missing}; it needs {list(_ASSIGNMENT_COLUMNS)}.",
            zh=f"巡访输入: 缺少列 {missing}; 需要 {list(_ASSIGNMENT_COLUMNS)}。",
        )
    a = assignment.copy()
    a.index = a.index.astype(str)
    for c in ("district_id", "office_id", "office_village_id", "access"):
        a[c] = a[c].astype(str)
    ids = set(times.origins.astype(str)) & set(times.destinations.astype(str))
    absent = sorted((set(a.index) | set(a["office_village_id"])) - ids)
    if absent:
        raise ValidationError(
            f"patrol: village(s) {absent[:10]} are not in the travel-time matrix; rebuild the travel times "
            "with every village and office village.",
            zh=f"巡访: 村 {absent[:10]} 不在行车时间矩阵中; 请用全部村和警务室所在村重新计算行车时间。",
        )
    return a


def plan_month(
    assignment: pd.DataFrame,
    times: TravelTimes,
    *,
    rules: PatrolRules,
    month: str,
    roster: pd.DataFrame | None = None,
    matching: r10.Matching | None = None,
    seed: int = 0,
    time_limit: float = 60.0,
    executor: Executor | None = None,
) -> PatrolPlan:
    """Plan every officer's month: office days, field routes and night visits, meeting R4-R8 where possible.

    Parameters
    ----------
    assignment
        Indexed by village_id: district_id, office_id, office_village_id (the village hosting the office),
        officers (of the district), population, access (road / walk / unreachable). Not mutated.
    times
        Travel times between all villages and office villages (seconds, ``inf`` where no road).
    rules
        The patrol rules.
    month
        ``YYYY-MM``.
    roster
        officer_id, office, kind (resident / linked), optional village_id and unavailable (list of dates);
        generated with :func:`make_roster` when None.
    matching
        R10's skills, home villages and village needs: weighted preferences of the linking (None: none).
    seed, time_limit
        CP-SAT seed and the day assignment's total budget in CP-SAT *deterministic* seconds (shared by the
        offices by village count, :func:`office_budget`; not wall time, so the plan does not depend on machine
        load). The pipeline gives :data:`~planner.settings.PATROL_WORK_BUDGET` (120): on the Andorra demo every
        office's missed requirements are then the proven minimum, using about 14 deterministic seconds in all.
    executor
        Where the offices are planned (a :class:`concurrent.futures.Executor`, e.g. a Dask distributed
        client's ``get_executor()``); None: one after another here. An office's plan depends on its own
        villages, officers and budget only, so the month is the same either way.

    Returns
    -------
    PatrolPlan
    """
    days_all = parse_month(month)
    a = _check_assignment(assignment, times)
    r = make_roster(a, rules=rules) if roster is None else check_roster(roster, a)
    officers = [
        Officer(
            row.officer_id,
            row.office,
            row.kind,
            row.village_id,
            working_days(month, rules=rules, unavailable=row.unavailable),
        )
        for row in r.itertuples(index=False)
    ]
    ctx = MonthContext(a, times, rules, month, days_all)
    ctx.matching = matching
    month_result = _OfficeResult()
    not_proven: list[str] = []
    done, budgets = _plan_offices(ctx, officers, seed=seed, time_limit=time_limit, executor=executor)
    aid: list[dict[str, str]] = []
    if rules.mutual_aid:
        aid = _mutual_aid(ctx, done, officers, budgets, seed=seed)
    for office in sorted(done):
        month_result.add(done[office])
        if not done[office].proven:
            not_proven.append(office)
    schedule = pd.DataFrame(month_result.rows, columns=SCHEDULE_COLUMNS)
    if len(schedule):
        schedule = schedule.sort_values(["officer_id", "date", "start", "end"], kind="stable").reset_index(
            drop=True
        )
    schedule = _walk_minutes(_aid_notes(schedule, aid), a)
    legs_df = pd.DataFrame(month_result.legs, columns=LEG_COLUMNS)
    violations = check_schedule(schedule, assignment, times, rules=rules, month=month, roster=r)
    met, required = month_result.met, month_result.required
    pct = 100.0 * met / required if required else 100.0
    log.info(
        "patrol %s: %d rows, %d dropped, %.1f%% of requirements met",
        month,
        len(schedule),
        len(month_result.dropped),
        pct,
    )
    return PatrolPlan(
        month,
        schedule,
        legs_df,
        r,
        month_result.dropped,
        month_result.shortfall,
        violations,
        round(pct, 2),
        pd.Series(month_result.links, dtype=object),
        tuple(not_proven),
        tuple(aid),
        {str(o.officer_id): len(o.days) * float(rules.shift_hours) for o in officers},
    )


def office_budget(time_limit: float, villages: int, total: int) -> float:
    """An office's share of the day assignment's deterministic budget: by its villages, at least
    :data:`~planner.settings.OFFICE_MIN_BUDGET`. It depends on the office alone (no budget passed on from one
    office to the next), so the offices can be planned in any order, side by side."""
    from planner.settings import OFFICE_MIN_BUDGET

    return max(OFFICE_MIN_BUDGET, float(time_limit) * villages / max(total, 1))


def _plan_offices(
    ctx: MonthContext, officers: list[Officer], *, seed: int, time_limit: float, executor: Executor | None
) -> tuple[dict[str, _OfficeResult], dict[str, float]]:
    """Every office's month (:func:`_plan_office`), here or as tasks on ``executor``, each with its own
    budget (:func:`office_budget`). Returns the plans and the budgets by office; the officers' ``villages``
    are the links of the plans kept."""
    a = ctx.a
    done: dict[str, _OfficeResult] = {}
    budgets: dict[str, float] = {}
    jobs = []
    for office in sorted(a["office_id"].unique()):
        vill = sorted(a.index[a["office_id"] == office])
        staff = [o for o in officers if o.office == office]
        if not staff:
            done[office] = _unstaffed_office(ctx, office, vill)
            continue
        budgets[office] = office_budget(time_limit, len(vill), len(a))
        jobs.append((office, vill, staff))
    if executor is None or len(jobs) < 2:
        for office, vill, staff in jobs:
            done[office] = _plan_office(ctx, office, vill, staff, seed=seed, time_limit=budgets[office])
        return done, budgets
    # each task gets only its office's villages and travel times, not the county's matrix
    futures = [
        executor.submit(_office_task, _office_context(ctx, vill), office, vill, staff, seed, budgets[office])
        for office, vill, staff in jobs
    ]
    for (office, _vill, staff), fut in zip(jobs, futures, strict=True):
        res, links = fut.result()
        done[office] = res
        for o in staff:
            o.villages = links[o.officer_id]
    return done, budgets


def _office_context(ctx: MonthContext, vill: list[str]) -> MonthContext:
    """The month's context cut to one office's villages and its office village (a task's input)."""
    a = ctx.a.loc[vill]
    ids = sorted({*vill, *a["office_village_id"]})
    sub = MonthContext(a, ctx.times.subset(ids, ids), ctx.rules, ctx.month, ctx.days)
    sub.matching = ctx.matching
    return sub


def _office_task(
    ctx: MonthContext, office: str, vill: list[str], staff: list[Officer], seed: int, time_limit: float
) -> tuple[_OfficeResult, dict[str, list[str]]]:
    """One office's month as a task: its plan and each officer's villages."""
    res = _plan_office(ctx, office, vill, staff, seed=seed, time_limit=time_limit)
    return res, {o.officer_id: list(o.villages) for o in staff}


@dataclass
class _OfficeResult:
    """The plan of one office (or, added up, of the month): its rows, legs, explanations and units."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    legs: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[DroppedVisit] = field(default_factory=list)
    shortfall: list[dict[str, Any]] = field(default_factory=list)
    met: float = 0.0  # requirement units met
    required: float = 0.0  # requirement units owed
    links: dict[str, str] = field(default_factory=dict)  # village -> its officer
    deterministic_seconds: float = 0.0
    proven: bool = True
    slack: dict[str, int] = field(default_factory=dict)  # officer -> field days under half a shift (C4)
    missed: dict[str, dict[str, int]] = field(
        default_factory=dict
    )  # officer -> village -> visit units missed

    def relink(self, pinned: set[str], tried: set[tuple[str, str]]) -> tuple[str, str, str] | None:
        """The next village to move within the office (C4), see :func:`planner.patrol.rulebook.c4.relink_move`."""
        return c4.relink_move(self.links, self.slack, self.missed, pinned=pinned, tried=tried)

    def add(self, other: _OfficeResult) -> None:
        """Append another office's plan to this one."""
        self.rows += other.rows
        self.legs += other.legs
        self.dropped += other.dropped
        self.shortfall += other.shortfall
        self.met += other.met
        self.required += other.required
        self.links.update(other.links)


def _mutual_aid(
    ctx: MonthContext,
    done: dict[str, _OfficeResult],
    officers: list[Officer],
    budgets: dict[str, float],
    *,
    seed: int,
) -> list[dict[str, str]]:
    """C4 with ``[patrol] mutual_aid``: an office that still misses visits gives its village missing the most
    (not a resident's own) to the officer with the most field days under half a shift of the nearest office by
    travel time that has one (at most :data:`~planner.settings.AID_NEIGHBOURS` tries per office); both offices
    are solved again and the aid is kept only when together they meet more requirements. Updates ``done`` and
    returns the aid kept: village_id, office_id, officer_id, helper_office."""
    from planner.settings import AID_NEIGHBOURS

    a = ctx.a
    office_village = {o: str(a.loc[a["office_id"] == o, "office_village_id"].iloc[0]) for o in done}
    own = {o: sorted(a.index[a["office_id"] == o]) for o in done}
    staff_of = {o: [x for x in officers if x.office == o] for o in done}
    aid: list[dict[str, str]] = []
    for office in sorted(done):
        pinned = {x.home for x in staff_of[office] if x.home is not None and x.days}
        neighbours = c4.nearest_offices(office, office_village, ctx.times)
        tries = 0
        for nb in neighbours:
            if tries >= AID_NEIGHBOURS:
                break
            res, nres = done[office], done[nb]
            missed: dict[str, int] = {}
            for per in res.missed.values():
                for v, n in per.items():
                    if n and v in own[office] and v not in pinned:
                        missed[v] = missed.get(v, 0) + n
            helpers = sorted((o for o, n in nres.slack.items() if n), key=lambda o: (-nres.slack[o], o))
            if not missed or not helpers:
                continue
            tries += 1
            v = min(missed, key=lambda x: (-missed[x], x))
            forced = {x: oid for x, oid in nres.links.items() if a.loc[x, "office_id"] != nb}
            forced[v] = helpers[0]
            new_nb = _plan_office(
                ctx,
                nb,
                sorted({*own[nb], *forced}),
                staff_of[nb],
                seed=seed,
                time_limit=budgets[nb],
                forced=forced,
            )
            rest = [x for x in own[office] if x != v and x not in {e["village_id"] for e in aid}]
            new_a = _replan(
                ctx, office, rest, staff_of[office], seed=seed, time_limit=budgets.get(office, 0.5)
            )
            log.info(
                "office %s: %s helped by %s of %s (mutual aid): %.1f -> %.1f units met",
                office,
                v,
                helpers[0],
                nb,
                res.met + nres.met,
                new_a.met + new_nb.met,
            )
            if new_a.met + new_nb.met > res.met + nres.met:
                done[office], done[nb] = new_a, new_nb
                aid.append(
                    {"village_id": v, "office_id": office, "officer_id": helpers[0], "helper_office": nb}
                )
    return aid


def _replan(
    ctx: MonthContext, office: str, vill: list[str], staff: list[Officer], *, seed: int, time_limit: float
) -> _OfficeResult:
    """An office planned again for ``vill`` (what is left after mutual aid)."""
    if not vill:
        return _OfficeResult()
    if not staff:
        return _unstaffed_office(ctx, office, vill)
    return _plan_office(ctx, office, vill, staff, seed=seed, time_limit=time_limit)


def _walk_minutes(schedule: pd.DataFrame, a: pd.DataFrame) -> pd.DataFrame:
    """The schedule with its ``walk_minutes`` column: of a travel row's minutes, those walked between the road
    and a village beyond it (access "walk", the assignment's optional ``walk_min`` one way; the travel times
    include it), at the village driven to and at the one left."""
    s = schedule.copy()
    s["walk_minutes"] = 0
    if "walk_min" not in a.columns or not len(s):
        return s
    walk = {
        str(v): int(clock_minutes(float(w))) for v, w in a["walk_min"].items() if pd.notna(w) and float(w) > 0
    }
    if not walk:
        return s
    prev: dict[tuple[str, str], str] = {}
    out = []
    for r in s.itertuples(index=False):
        key = (str(r.officer_id), str(r.date))
        left = prev.get(key)
        w = 0
        if r.activity == "travel":
            w = walk.get(str(r.village_id), 0) + (walk.get(left, 0) if left and left != r.village_id else 0)
        out.append(min(w, int(r.minutes)))
        prev[key] = str(r.village_id)
    s["walk_minutes"] = out
    return s


def _aid_notes(schedule: pd.DataFrame, aid: list[dict[str, str]]) -> pd.DataFrame:
    """The schedule with its ``note`` column: on the rows of an officer helping another office (C4, mutual
    aid), for the village he helps with and the drives to it, "支援 <office> / aid to <office>"."""
    s = schedule.copy()
    s["note"] = ""
    for e in aid:
        hit = (s["officer_id"] == e["officer_id"]) & (s["village_id"] == e["village_id"])
        s.loc[hit, "note"] = f"支援 {e['office_id']} / aid to {e['office_id']}"
    return s


def _unstaffed_office(ctx: MonthContext, office: str, vill: list[str]) -> _OfficeResult:
    """An office without an officer in the roster: every visit of its villages dropped, and a shortfall."""
    res = _OfficeResult()
    for v in vill:
        res.dropped.append(
            DroppedVisit(
                "", v, f"office {office} has no officer in the roster", f"警务室 {office} 在名单中没有警员"
            )
        )
        res.required += ctx.village_units()
    res.shortfall.append(
        shortfall_row(office, 0, 0, 1, "no officer", "没有警员", shift_hours=ctx.rules.shift_hours)
    )
    res.missed = {"": {v: ctx.village_units() for v in vill}}
    return res


def _link_villages(
    ctx: MonthContext,
    vill: list[str],
    staff: list[Officer],
    t: np.ndarray,
    ids: list[str],
    forced: dict[str, str] | None = None,
) -> None:
    """Link each village to one officer: ``forced`` links first (a re-link, C4), then a resident's own village
    and a roster village, then the least estimated work per working day, weighed by R10's preferences. An
    officer without a working day takes no village while a colleague has one (C4: his villages would all be
    missed)."""
    load = {o.officer_id: 0.0 for o in staff}
    taken: set[str] = set()
    by_id = {o.officer_id: o for o in staff}
    for v, oid in sorted((forced or {}).items()):
        if v in vill and oid in by_id:
            by_id[oid].villages.append(v)
            taken.add(v)
    for o in staff:
        if o.home is not None and o.home in vill and o.home not in taken:
            o.villages.append(o.home)
            taken.add(o.home)
    weeks = len(month_weeks(ctx.month, rules=ctx.rules))

    def est(v: str) -> float:
        rt = t[0, ids.index(v)] + t[ids.index(v), 0]
        rt = min(rt, ctx.work.shift)
        return r5.visit_days_owed(ctx.rules) * (ctx.full + rt) + weeks * (ctx.short(weeks) + rt) / 2

    for o in staff:
        load[o.officer_id] = sum(est(v) for v in o.villages)
    working = [o for o in staff if o.days] or staff
    rest = sorted((v for v in vill if v not in taken), key=lambda v: (-est(v), v))
    for v in rest:
        # capacity per officer: his working days; the least loaded per available day takes the village, a
        # matched officer (R10) with his match's weight in villages' work taken off his load
        o = min(
            working,
            key=lambda o: (
                (load[o.officer_id] - r10.bonus(ctx.matching, o.officer_id, v) * est(v))
                / max(len(o.days), 1),
                o.officer_id,
            ),
        )
        o.villages.append(v)
        load[o.officer_id] += est(v)
    for o in staff:
        o.villages.sort()


def _plan_office(
    ctx: MonthContext,
    office: str,
    vill: list[str],
    staff: list[Officer],
    *,
    seed: int,
    time_limit: float,
    forced: dict[str, str] | None = None,
) -> _OfficeResult:
    """One office's month: link its villages to its officers, solve the day model, and while an officer misses
    visits and a colleague has field days under half a shift (C4), move one village to the colleague and solve
    again (at most :data:`~planner.settings.RELINK_ROUNDS` times, a round kept only when it meets more
    requirements). ``vill`` may hold villages of another office served by one of ``staff`` (mutual aid, linked
    in ``forced``)."""
    from planner.settings import RELINK_ROUNDS

    home = str(ctx.a.loc[next(v for v in vill if ctx.a.loc[v, "office_id"] == office), "office_village_id"])
    ids = [home, *vill]
    t = ctx.matrix(ids)
    for o in staff:
        o.villages = []
    _link_villages(ctx, vill, staff, t, ids, forced)
    res = _solve_office(ctx, office, staff, home, t, ids, seed=seed, time_limit=time_limit)
    pinned = {o.home for o in staff if o.home is not None and o.days} | set(forced or {})
    tried: set[tuple[str, str]] = set()
    used = res.deterministic_seconds
    for _round in range(RELINK_ROUNDS if len(staff) > 1 else 0):
        move = res.relink(pinned, tried)
        if move is None:
            break
        v, src, dst = move
        tried.add((v, dst))
        links = dict(res.links)
        links[v] = dst
        for o in staff:
            o.villages = sorted(x for x, oid in links.items() if oid == o.officer_id)
        trial = _solve_office(ctx, office, staff, home, t, ids, seed=seed, time_limit=time_limit)
        used += trial.deterministic_seconds
        log.info(
            "office %s: %s moves from %s to %s (C4): %.1f -> %.1f units met",
            office,
            v,
            src,
            dst,
            res.met,
            trial.met,
        )
        if trial.met > res.met:
            res = trial
    for o in staff:  # the kept round's links
        o.villages = sorted(x for x, oid in res.links.items() if oid == o.officer_id)
    res.deterministic_seconds = used
    return res


def _solve_office(
    ctx: MonthContext,
    office: str,
    staff: list[Officer],
    home: str,
    t: np.ndarray,
    ids: list[str],
    *,
    seed: int,
    time_limit: float,
) -> _OfficeResult:
    """Build and solve the office's day model for the officers' linked villages, route the days, explain what
    is missed and say how many officers more it would take."""
    dm = DayModel()
    states = [_officer_model(dm, ctx, o, home, t, ids, shift_by=i) for i, o in enumerate(staff)]
    r8.add_office_rotation(dm, states)
    solved = solve_lexicographic(dm, office, seed=seed, time_limit=time_limit)
    res = _OfficeResult(deterministic_seconds=solved.deterministic_seconds, proven=solved.proven)
    cache: RouteCache = {}
    outcomes = []
    for om in states:
        out = OfficerOutcome.of(ctx, om, solved.solver, home)
        outcomes.append(out)
        moved_out = _officer_rows(out, t, ids, cache, res, seed=seed)
        dropped, met, required = explain_officer(out, t, ids, moved_out)
        res.dropped += dropped
        res.met += met
        res.required += required
    rows = [sf for out in outcomes if (sf := officer_shortfall(out, office)) is not None]
    res.shortfall = merge_shortfall(office, rows)
    res.links = {v: o.officer_id for o in staff for v in o.villages}
    work = ctx.work
    res.slack = {
        om.officer.officer_id: c4.short_days(solved.solver, om, work) for om in states if om.officer.days
    }
    res.missed = {om.officer.officer_id: c4.missed_units(solved.solver, om) for om in states}
    # the weekly visits of the weeks he is away are missed too, and a colleague may make them
    for out in outcomes:
        away = len(r8.weeks_away(out))
        for v in out.model.villages if away else []:
            per = res.missed[out.officer.officer_id]
            per[v] = per.get(v, 0) + away
    for om in states:
        if not om.officer.days:  # every village of an officer without a working day is missed
            res.missed[om.officer.officer_id] = {v: ctx.village_units() for v in om.officer.villages}
    return res


def _officer_model(
    dm: DayModel,
    ctx: MonthContext,
    o: Officer,
    home: str,
    t: np.ndarray,
    ids: list[str],
    *,
    shift_by: int,
) -> OfficerModel:
    """One officer's part of the day model: his patterns and day variables, then each rule's constraints.

    The order (day choices and hints, R8 office days, per village R8 weekly / R5 / R6, R4, R7, field time) is
    the model's order; CP-SAT's search, and so the plan, depends on it.
    """
    rules = ctx.rules
    loc = [ids.index(v) for v in o.villages]
    reachable = [
        k
        for k, v in zip(loc, o.villages, strict=True)
        if ctx.a.loc[v, "access"] != "unreachable" and t[0, k] < NO_ROAD and t[k, 0] < NO_ROAD
    ]
    cal = month_calendar(ctx.month, rules)
    mine = {cal.week_of(d) for d in o.days}
    weeks = [w for w in month_weeks(ctx.month, rules=rules) if w in mine]
    short = ctx.short(len(weeks))
    sub = [0, *reachable]
    tt = t[np.ix_(sub, sub)]
    n = len(reachable)
    full_min = np.full(n, r5.full_visit_service(rules), dtype=np.int64)
    short_min = np.full(n, short, dtype=np.int64)
    pats = patterns(tt, full_min, short_min, shift=ctx.work.shift, drive=ctx.work.drive)
    om = _day_choices(dm, o, pats, reachable, [ids[k] for k in reachable], tt, weeks, short)
    # the first plan: a greedy month (never the all-office month, which a search stopped early would keep)
    start = greedy_days(
        ctx.month, rules, o.days, n, pats, full_need=r5.visit_days_owed(rules), shift_by=shift_by
    )
    for d in o.days:
        dm.model.add_exactly_one([om.off[d], *(om.x[d, q] for q in range(len(pats)))])
        dm.model.add_hint(om.off[d], int(start[d] is None))
        for q in range(len(pats)):
            dm.model.add_hint(om.x[d, q], int(start[d] == q))
    r8.add_office_days(dm, om, ctx.month, rules=rules)
    for j, v in enumerate(om.villages):
        r8.add_weekly_visits(dm, om, j, v, ctx.month, rules=rules)
        r5.add_visit_days(dm, om, j, v, rules=rules)
        r6.add_household_time(dm, om, j, v, visit_day=ctx.full, rules=rules)
    r4.add_days_in_village(dm, om, home, rules=rules)
    cut = r7.add_night_visits(dm, om, t, work=ctx.work, rules=rules)
    if cut:
        r8.add_office_days(dm, om, ctx.month, rules=rules, cut=cut)
    dm.driving.append(sum(om.field_load[d] for d in o.days))
    return om


def _day_choices(
    dm: DayModel,
    o: Officer,
    pats: list[Any],
    reachable: list[int],
    villages: list[str],
    tt: np.ndarray,
    weeks: list[str],
    short: int,
) -> OfficerModel:
    """The officer's day variables: per day "office day" and one boolean per pattern (set partitioning, a
    strong LP relaxation, unlike a table constraint), and the expressions the rules read from them."""
    model, days, n = dm.model, o.days, len(villages)
    off = {d: model.new_bool_var(f"off_{o.officer_id}_{d}") for d in days}
    x = {(d, q): model.new_bool_var("") for d in days for q in range(len(pats))}
    by_v = [[q for q, pat in enumerate(pats) if j in pat.villages] for j in range(n)]
    by_f = [[q for q, pat in enumerate(pats) if j in pat.full] for j in range(n)]
    return OfficerModel(
        officer=o,
        reachable=reachable,
        villages=villages,
        patterns=pats,
        times=tt,
        weeks=weeks,
        short=short,
        off=off,
        x=x,
        visited={(d, j): sum(x[d, q] for q in by_v[j]) for d in days for j in range(n)},
        full={(d, j): sum(x[d, q] for q in by_f[j]) for d in days for j in range(n)},
        field_load={d: sum(pat.load * x[d, q] for q, pat in enumerate(pats)) for d in days},
    )


def _officer_rows(
    out: OfficerOutcome,
    t: np.ndarray,
    ids: list[str],
    cache: RouteCache,
    res: _OfficeResult,
    *,
    seed: int,
) -> list[tuple[dt.date, str, int]]:
    """The officer's schedule rows and legs (added to ``res``): office days, routed field days, night trips.
    Returns the visits no route of their week could fit."""
    ctx, om, o, solver, home = out.ctx, out.model, out.officer, out.solver, out.office_village
    day_plan: dict[dt.date, list[tuple[str, int]]] = {}
    offdays = [d for d in o.days if solver.value(om.off[d])]
    for d in o.days:
        if d in offdays:
            continue
        stops = []
        for j, v in enumerate(om.villages):
            if solver.value(om.visited[d, j]):
                stops.append((v, ctx.full if solver.value(om.full[d, j]) else om.short))
        day_plan[d] = stops
    nights = {d: om.villages[j] for (d, j), x in om.night.items() if solver.value(x)}
    routed, moved_out = route_days(ctx, home, o, day_plan, cache, seed=seed)
    work = ctx.work
    for d in o.days:
        ds = d.isoformat()
        seq = 0  # legs of this officer-day, the night trip's after the day's
        trip = _night_trip(out, nights[d], t, ids) if d in nights else []
        # C3: a night-visit day is a late shift ending with the drive back; the day's work moves to its start
        start = work.late_start(trip[0][4] - trip[0][3], trip[-1][4] - trip[-1][3]) if trip else work.start
        if d in offdays or not routed.get(d):
            end = trip[0][3] if trip else work.start + work.shift
            res.rows.append(row(o.officer_id, ds, start, end, home, "office"))
        else:
            for kind, a_id, b_id, s0, s1 in routed[d]:
                if kind == "travel":
                    seq += 1
                    res.legs.append(leg(o.officer_id, ds, seq, a_id, b_id, s1 - s0))
                if s1 > s0:
                    res.rows.append(
                        row(o.officer_id, ds, s0 + start - work.start, s1 + start - work.start, b_id, kind)
                    )
        if trip:
            for kind, a_id, b_id, s0, s1 in trip:
                if kind == "travel" and a_id != b_id:
                    seq += 1
                    res.legs.append(leg(o.officer_id, ds, seq, a_id, b_id, s1 - s0))
                if s1 > s0:
                    res.rows.append(row(o.officer_id, ds, s0, s1, b_id, kind))
    return moved_out


def _night_trip(
    out: OfficerOutcome, village: str, t: np.ndarray, ids: list[str]
) -> list[tuple[str, str, str, int, int]]:
    """The evening trip of a night visit (R7): out to arrive at the window's start, the visit to its end, back."""
    home, work = out.office_village, out.ctx.work
    go = int(t[0, ids.index(village)])
    back = int(t[ids.index(village), 0])
    n0, n1 = work.night_start, work.night_start + work.night_len
    return [
        ("travel", home, village, n0 - go, n0),
        ("night_visit", village, village, n0, n1),
        ("travel", village, home, n1, n1 + back),
    ]
