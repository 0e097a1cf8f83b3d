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
   count, unused budget passed on), so a seed gives the same plan on any machine and under any load.
2. **Routing** of each officer-day: the exact shortest order of its at most :data:`MAX_STOPS` villages (the same
   Held-Karp tour the pattern was built with, so it always fits); only a day that somehow does not fit goes to
   :func:`planner.patrol.routing.solve_vrptw` (OR-Tools), which leaves out what does not fit. Such a visit is
   moved to another field day of the same officer, or reported. Measured on the demo: OR-Tools spent its
   0.2 s wall-time limit on every 2-6 stop day (about 25 s a month) to find the tour the DP gives in
   microseconds.

When officers are short, the penalties follow what a station chief keeps first: every weekly visit (R8), every
village's first full visit day, its night visit (R7) and R4 cost the same; a village's further full visit days
cost half, so they are the first to go; R6 household time is priced per missing minute.

Choices (documented here because the rules leave them open):

- Night visits (R7) are their own evening trip office -> village -> office, arriving at the start of the night
  window and staying until its end. The trip does not count against the day shift, but the day's work (an office
  day counts as a whole shift) plus the night trip must stay within ``shift_hours`` + :data:`OVERTIME_HOURS`
  (China's Labour Law, art. 41: at most 3 hours of overtime a day). The night trip's driving must itself stay
  within ``max_drive_hours``. Night visits are made only on the officer's working days.
- R8 office days are counted per ISO week; a week cut by the month's edge needs a proportional share,
  ``ceil(office_days_per_week * weekdays_in_month / 5)``, capped by the officer's working days that week.
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

import calendar
import datetime as dt
import itertools
import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from planner.engines.cpsat import cp_solver
from planner.errors import SolverError, ValidationError
from planner.model import DroppedVisit, TravelTimes, Violation
from planner.rules import WEEKDAYS, PatrolRules

log = logging.getLogger(__name__)


OVERTIME_HOURS = 3.0  # Labour Law of the PRC, art. 41: overtime at most 3 hours a day


MAX_STOPS = 6  # villages on one day route: more never fit a shift with real visits


SCHEDULE_COLUMNS = ["officer_id", "date", "start", "end", "village_id", "activity", "minutes"]


LEG_COLUMNS = ["officer_id", "date", "seq", "from_id", "to_id", "minutes"]


ROSTER_COLUMNS = ["officer_id", "office", "kind", "village_id", "unavailable"]


_BIG = 10**6  # minutes standing for "no road"


# objective weights: a missed requirement outweighs any amount of driving in a month. When officers are short, a
# station chief keeps every village in sight first: the weekly visits (R8), each village's first full visit day
# (R5), its night visit (R7) and R4 weigh _W_MISS; a further full visit day weighs less, so it is the first to go;
# the household time of R6 is priced per missing minute (an hour about like a further visit day).
_W_MISS = 100_000


_W_MORE = 50_000


_W_HOUSEHOLD = 800  # per minute of R6 household time missing


_PHASE2_SHARE = 0.1  # of an office's deterministic budget, for the least field time once requirements are set


_WALL_SAFETY = 20.0  # wall seconds per deterministic second before CP-SAT is stopped anyway


_W_SPREAD = 200


_W_ROTATE = 300


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
    """

    month: str
    schedule: pd.DataFrame
    legs: pd.DataFrame
    roster: pd.DataFrame
    dropped_visits: list[DroppedVisit]
    shortfall: list[dict[str, Any]]
    violations: list[Any]
    visit_requirements_met_pct: float
    links: pd.Series = field(repr=False, default_factory=lambda: pd.Series(dtype=object))
    offices_not_proven: tuple[str, ...] = ()

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
        }


def parse_month(month: str) -> list[dt.date]:
    """Every date of a YYYY-MM month."""
    try:
        first = dt.date.fromisoformat(f"{month}-01")
    except (TypeError, ValueError):
        raise ValidationError(
            f"month '{month}' is not a month; write it as YYYY-MM, e.g. 2026-12.",
            zh=f"月份 '{month}' 无效; 请写成 YYYY-MM, 例如 2026-12。",
        ) from None
    n = calendar.monthrange(first.year, first.month)[1]
    return [first + dt.timedelta(days=i) for i in range(n)]


def working_days(
    month: str, *, holidays: Iterable[dt.date] = (), unavailable: Iterable[dt.date] = ()
) -> list[dt.date]:
    """Monday to Friday of the month, minus holidays and the officer's unavailable dates."""
    skip = set(holidays) | set(unavailable)
    return [d for d in parse_month(month) if d.weekday() < 5 and d not in skip]


def iso_week(d: dt.date) -> str:
    """The ISO week of a date as YYYY-Www."""
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}"


def office_days_required(month: str, week: str, available: int, *, rules: PatrolRules) -> int:
    """R8 office days an officer owes in one ISO week of the month (proportional in weeks cut by the month)."""
    weekdays = sum(1 for d in parse_month(month) if d.weekday() < 5 and iso_week(d) == week)
    return min(available, math.ceil(rules.office_days_per_week * weekdays / 5 - 1e-9))


def _hhmm(minute_of_day: int) -> str:
    return f"{minute_of_day // 60:02d}:{minute_of_day % 60:02d}"


def _minute_of_day(t: dt.time) -> int:
    return t.hour * 60 + t.minute


_ASSIGNMENT_COLUMNS = ("district_id", "office_id", "office_village_id", "officers", "access")


def _check_assignment(assignment: pd.DataFrame, minutes: TravelTimes) -> pd.DataFrame:
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
    ids = set(minutes.origins.astype(str)) & set(minutes.destinations.astype(str))
    absent = sorted((set(a.index) | set(a["office_village_id"])) - ids)
    if absent:
        raise ValidationError(
            f"patrol: village(s) {absent[:10]} are not in the travel-time matrix; rebuild the travel times "
            "with every village and office village.",
            zh=f"巡访: 村 {absent[:10]} 不在行车时间矩阵中; 请用全部村和警务室所在村重新计算行车时间。",
        )
    return a


def make_roster(assignment: pd.DataFrame, *, rules: PatrolRules) -> pd.DataFrame:
    """A roster from the district's officer count (R2): ``<office_id>-1``, ``<office_id>-2``, ...

    The first officer is the resident officer (驻村民警) of the office village when ``resident_days_per_month``
    is above 0, the others are linked officers (挂村民警).
    """
    a = assignment.copy()
    a.index = a.index.astype(str)
    rows = []
    for office, grp in a.groupby(a["office_id"].astype(str), sort=True):
        n = int(pd.to_numeric(grp["officers"]).max())
        for i in range(1, max(n, 0) + 1):
            resident = i == 1 and rules.resident_days_per_month > 0
            rows.append(
                {
                    "officer_id": f"{office}-{i}",
                    "office": office,
                    "kind": "resident" if resident else "linked",
                    "village_id": str(grp["office_village_id"].iloc[0]) if resident else None,
                    "unavailable": [],
                }
            )
    return pd.DataFrame(rows, columns=ROSTER_COLUMNS)


def _check_roster(roster: pd.DataFrame, a: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("officer_id", "office", "kind") if c not in roster.columns]
    if missing:
        raise ValidationError(
            f"roster: missing column(s) {missing}; it needs officer_id, office, kind (resident / linked), "
            "optional village_id and unavailable (dates).",
            zh=f"警员名单: 缺少列 {missing}; 需要 officer_id、office、kind (resident / linked), "
            "可选 village_id 和 unavailable (日期)。",
        )
    r = roster.copy().reset_index(drop=True)
    r["officer_id"] = r["officer_id"].astype(str)
    r["office"] = r["office"].astype(str)
    if "village_id" not in r.columns:
        r["village_id"] = None
    if "unavailable" not in r.columns:
        r["unavailable"] = [[] for _ in range(len(r))]
    offices = set(a["office_id"])
    out_unavail = []
    for i, row in r.iterrows():
        if row["officer_id"] in set(r["officer_id"].iloc[: int(str(i))]):
            raise ValidationError(
                f"roster row {i}: officer_id '{row['officer_id']}' appears twice; make ids unique.",
                zh=f"警员名单第 {i} 行: officer_id '{row['officer_id']}' 重复; 请保证唯一。",
            )
        if row["office"] not in offices:
            raise ValidationError(
                f"roster row {i}: office '{row['office']}' is not an office of the plan; use one of "
                f"{sorted(offices)[:10]}.",
                zh=f"警员名单第 {i} 行: 警务室 '{row['office']}' 不在规划中; 请使用 {sorted(offices)[:10]} 之一。",
            )
        if row["kind"] not in ("resident", "linked"):
            raise ValidationError(
                f"roster row {i}: kind '{row['kind']}' must be resident or linked.",
                zh=f"警员名单第 {i} 行: kind '{row['kind']}' 必须是 resident 或 linked。",
            )
        vid = row["village_id"]
        if vid is not None and not (isinstance(vid, float) and math.isnan(vid)) and str(vid) not in a.index:
            raise ValidationError(
                f"roster row {i}: village_id '{vid}' is not a village of the plan.",
                zh=f"警员名单第 {i} 行: village_id '{vid}' 不是规划中的村。",
            )
        raw = row["unavailable"]
        dates: list[dt.date] = []
        if isinstance(raw, str):
            raw = [x for x in raw.replace(";", ",").split(",") if x.strip()]
        for x in raw if isinstance(raw, list | tuple | set | np.ndarray) else []:
            try:
                dates.append(x if isinstance(x, dt.date) else dt.date.fromisoformat(str(x).strip()))
            except ValueError:
                raise ValidationError(
                    f"roster row {i}: unavailable date '{x}' is not an ISO date (YYYY-MM-DD).",
                    zh=f"警员名单第 {i} 行: 不在岗日期 '{x}' 不是 ISO 日期 (YYYY-MM-DD)。",
                ) from None
        out_unavail.append(sorted(set(dates)))
    r["village_id"] = [
        None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in r["village_id"]
    ]
    r["unavailable"] = out_unavail
    return r[ROSTER_COLUMNS]


def _subset_tours(t: np.ndarray, n: int, max_size: int, budget: float) -> dict[int, int]:
    """Shortest closed tour from node 0 through every subset (bitmask over nodes 1..n) of at most ``max_size``
    villages whose tour is within ``budget`` minutes (Held-Karp over subsets)."""
    best: dict[int, dict[int, int]] = {}
    for j in range(n):
        if t[0, j + 1] < budget:
            best[1 << j] = {j: int(t[0, j + 1])}
    tours: dict[int, int] = {}
    layer = dict(best)
    for size in range(1, max_size + 1):
        nxt: dict[int, dict[int, int]] = {}
        for mask, ends in layer.items():
            tour = min(c + int(t[j + 1, 0]) for j, c in ends.items())
            if tour <= budget:
                tours[mask] = tour
            if size == max_size:
                continue
            for k in range(n):
                if mask >> k & 1:
                    continue
                add = min(c + int(t[j + 1, k + 1]) for j, c in ends.items())
                if add >= budget:
                    continue
                m2 = mask | 1 << k
                cur = nxt.setdefault(m2, {})
                if add < cur.get(k, _BIG):
                    cur[k] = add
        layer = nxt
    return tours


@dataclass
class _Pattern:
    villages: tuple[int, ...]  # local indices
    full: tuple[int, ...]  # subset of villages with a full visit
    tour: int
    load: int  # tour + service, minutes


def _patterns(
    t: np.ndarray, full_min: np.ndarray, short_min: np.ndarray, *, shift: int, drive: int
) -> list[_Pattern]:
    n = len(full_min)
    min_service = int(short_min.min()) if n else 0
    max_size = max(1, min(MAX_STOPS, n, shift // max(min_service, 1)))
    tours = _subset_tours(t, n, max_size, min(shift, drive) + 1e-9)
    out: list[_Pattern] = []
    for mask, tour in sorted(tours.items()):
        vs = tuple(j for j in range(n) if mask >> j & 1)
        if tour > drive:
            continue
        base = tour + int(sum(short_min[j] for j in vs))
        if base > shift:
            continue
        for r in range(len(vs) + 1):
            for full in itertools.combinations(vs, r):
                load = base + int(sum(full_min[j] - short_min[j] for j in full))
                if load <= shift:
                    out.append(_Pattern(vs, full, tour, load))
    return out


@dataclass
class _Officer:
    officer_id: str
    office: str
    kind: str
    home: str | None
    days: list[dt.date]
    villages: list[str] = field(default_factory=list)


def plan_month(
    assignment: pd.DataFrame,
    minutes: TravelTimes,
    *,
    rules: PatrolRules,
    month: str,
    roster: pd.DataFrame | None = None,
    seed: int = 0,
    time_limit: float = 60.0,
) -> PatrolPlan:
    """Plan every officer's month: office days, field routes and night visits, meeting R4-R8 where possible.

    Parameters
    ----------
    assignment
        Indexed by village_id: district_id, office_id, office_village_id (the village hosting the office),
        officers (of the district), population, access (road / walk / unreachable). Not mutated.
    minutes
        Travel times between all villages and office villages (seconds, ``inf`` where no road).
    rules
        The patrol rules.
    month
        ``YYYY-MM``.
    roster
        officer_id, office, kind (resident / linked), optional village_id and unavailable (list of dates);
        generated with :func:`make_roster` when None.
    seed, time_limit
        CP-SAT seed and the day assignment's total budget in CP-SAT *deterministic* seconds (shared by the
        offices by village count; not wall time, so the plan does not depend on machine load). Measured on the
        Andorra demo: 60 gives plans whose missed requirements are the proven minimum in every office, using
        about 14 deterministic seconds.

    Returns
    -------
    PatrolPlan
    """
    days_all = parse_month(month)
    a = _check_assignment(assignment, minutes)
    r = make_roster(a, rules=rules) if roster is None else _check_roster(roster, a)
    holidays = set(rules.holidays)
    officers = [
        _Officer(
            row.officer_id,
            row.office,
            row.kind,
            row.village_id,
            working_days(month, holidays=holidays, unavailable=row.unavailable),
        )
        for row in r.itertuples(index=False)
    ]
    ctx = _Context(a, minutes, rules, month, days_all, rules.weekly_visit_minutes)
    dropped: list[DroppedVisit] = []
    shortfall: list[dict[str, Any]] = []
    units = [0.0, 0.0]  # met, required
    rows: list[dict[str, Any]] = []
    legs: list[dict[str, Any]] = []
    links: dict[str, str] = {}
    not_proven: list[str] = []
    offices = sorted(a["office_id"].unique())
    pool = float(time_limit)
    left = len(a)
    for office in offices:
        vill = sorted(a.index[a["office_id"] == office])
        staff = [o for o in officers if o.office == office]
        if not staff:
            for v in vill:
                dropped.append(
                    DroppedVisit(
                        "",
                        v,
                        f"office {office} has no officer in the roster",
                        f"警务室 {office} 在名单中没有警员",
                    )
                )
                units[1] += ctx.village_units()
            shortfall.append(_shortfall_row(office, 0, 0, 1, "no officer", "没有警员"))
            continue
        # deterministic seconds shared by village count; what an office leaves unused goes to the next ones
        budget = max(0.5, pool * len(vill) / max(left, 1))
        res = _plan_office(ctx, office, vill, staff, seed=seed, time_limit=budget)
        pool = max(pool - res["det"], 0.0)
        left -= len(vill)
        rows += res["rows"]
        legs += res["legs"]
        dropped += res["dropped"]
        shortfall += res["shortfall"]
        units[0] += res["units"][0]
        units[1] += res["units"][1]
        links.update(res["links"])
        if not res["proven"]:
            not_proven.append(office)
    schedule = pd.DataFrame(rows, columns=SCHEDULE_COLUMNS)
    if len(schedule):
        schedule = schedule.sort_values(["officer_id", "date", "start", "end"], kind="stable").reset_index(
            drop=True
        )
    legs_df = pd.DataFrame(legs, columns=LEG_COLUMNS)
    violations = check_schedule(schedule, assignment, minutes, rules=rules, month=month, roster=r)
    pct = 100.0 * units[0] / units[1] if units[1] else 100.0
    log.info(
        "patrol %s: %d rows, %d dropped, %.1f%% of requirements met", month, len(schedule), len(dropped), pct
    )
    return PatrolPlan(
        month,
        schedule,
        legs_df,
        r,
        dropped,
        shortfall,
        violations,
        round(pct, 2),
        pd.Series(links, dtype=object),
        tuple(not_proven),
    )


class _Context:
    """Per-month constants derived from the rules."""

    def __init__(
        self,
        a: pd.DataFrame,
        minutes: TravelTimes,
        rules: PatrolRules,
        month: str,
        days: list[dt.date],
        weekly_visit_minutes: float,
    ) -> None:
        self.a = a
        self.times = minutes
        self.rules = rules
        self.month = month
        self.days = days
        self.shift = round(rules.shift_hours * 60)
        self.drive = round(rules.max_drive_hours * 60)
        self.start = _minute_of_day(rules.shift_start)
        self.limit = round((rules.shift_hours + OVERTIME_HOURS) * 60)
        self.night_start = _minute_of_day(rules.night_window[0])
        self.night_len = _minute_of_day(rules.night_window[1]) - self.night_start
        self.night_days = {WEEKDAYS.index(d) for d in rules.night_days}
        hh = rules.households_per_month * rules.household_minutes
        nf = rules.visit_days_per_village
        base = rules.visit_hours * 60
        self.full = math.ceil(base + max(0.0, hh - nf * base) / nf) if nf else 0
        self.household_minutes = hh
        self.weekly_minutes = float(weekly_visit_minutes)

    def short(self, weeks: int) -> int:
        """A weekly visit's length; it carries the household visits when there are no full visit days."""
        if self.rules.visit_days_per_village == 0 and weeks:
            return math.ceil(max(self.weekly_minutes, self.household_minutes / weeks))
        return math.ceil(self.weekly_minutes)

    def village_units(self) -> int:
        r = self.rules
        weeks = len({iso_week(d) for d in working_days(self.month, holidays=r.holidays)})
        return r.visit_days_per_village + (weeks if r.weekly_visit else 0) + r.night_visits_per_village

    def matrix(self, ids: Sequence[str]) -> np.ndarray:
        """Whole minutes (rounded up) among ``ids``; _BIG where no road."""
        sub = self.times.subset(list(ids), list(ids)).seconds
        out = np.where(np.isfinite(sub), np.ceil(sub / 60.0 - 1e-9), _BIG)
        np.fill_diagonal(out, 0)
        return out.astype(np.int64)


def _shortfall_row(
    office: str, needed: int, available: int, more: int, why: str, why_zh: str
) -> dict[str, Any]:
    return {
        "office_id": office,
        "needed_days": needed,
        "available_days": available,
        "more_officers": more,
        "detail": f"office {office} needs {needed} officer-days, has {available}: {more} more officer(s) ({why})",
        "detail_zh": f"警务室 {office} 需要 {needed} 个警员工作日, 现有 {available}: 还需 {more} 名警员 ({why_zh})",
    }


def _link_villages(
    ctx: _Context, vill: list[str], staff: list[_Officer], t: np.ndarray, ids: list[str]
) -> None:
    """Link each village to one officer (resident's own village, roster village, then least estimated work)."""
    load = {o.officer_id: 0.0 for o in staff}
    taken: set[str] = set()
    for o in staff:
        if o.home is not None and o.home in vill and o.home not in taken:
            o.villages.append(o.home)
            taken.add(o.home)
    weeks = len({iso_week(d) for d in working_days(ctx.month, holidays=ctx.rules.holidays)})

    def est(v: str) -> float:
        rt = t[0, ids.index(v)] + t[ids.index(v), 0]
        rt = min(rt, ctx.shift)
        return ctx.rules.visit_days_per_village * (ctx.full + rt) + weeks * (ctx.short(weeks) + rt) / 2

    for o in staff:
        load[o.officer_id] = sum(est(v) for v in o.villages)
    rest = sorted((v for v in vill if v not in taken), key=lambda v: (-est(v), v))
    for v in rest:
        # capacity per officer: his working days; the least loaded per available day takes the village
        o = min(staff, key=lambda o: (load[o.officer_id] / max(len(o.days), 1), o.officer_id))
        o.villages.append(v)
        load[o.officer_id] += est(v)
    for o in staff:
        o.villages.sort()


def _plan_office(
    ctx: _Context, office: str, vill: list[str], staff: list[_Officer], *, seed: int, time_limit: float
) -> dict[str, Any]:
    from ortools.sat.python import cp_model

    rules = ctx.rules
    a = ctx.a
    home = str(a.loc[vill[0], "office_village_id"])
    ids = [home, *vill]
    t = ctx.matrix(ids)
    for o in staff:
        o.villages = []
    _link_villages(ctx, vill, staff, t, ids)
    model = cp_model.CpModel()
    penalties: list[Any] = []  # the requirements (phase 1)
    driving: list[Any] = []  # minutes of field work (phase 2, with the requirements held)
    info: dict[str, Any] = {}
    dropped: list[DroppedVisit] = []
    units = [0.0, 0.0]
    # per officer data
    per: dict[str, dict[str, Any]] = {}
    for o in staff:
        loc = [ids.index(v) for v in o.villages]
        reachable = [
            k
            for k, v in zip(loc, o.villages, strict=True)
            if a.loc[v, "access"] != "unreachable" and t[0, k] < _BIG and t[k, 0] < _BIG
        ]
        weeks = sorted({iso_week(d) for d in o.days})
        short = ctx.short(len(weeks))
        sub = [0, *reachable]
        tt = t[np.ix_(sub, sub)]
        n = len(reachable)
        full_min = np.full(n, ctx.full if rules.visit_days_per_village else _BIG, dtype=np.int64)
        short_min = np.full(n, short, dtype=np.int64)
        pats = _patterns(tt, full_min, short_min, shift=ctx.shift, drive=ctx.drive)
        # the village ids in pattern-local order
        pv = [ids[k] for k in reachable]
        days = o.days
        off = {d: model.new_bool_var(f"off_{o.officer_id}_{d}") for d in days}
        # one boolean per day and pattern (set partitioning): a strong LP relaxation, unlike a table constraint
        x = {(d, q): model.new_bool_var("") for d in days for q in range(len(pats))}
        by_v = [[q for q, pat in enumerate(pats) if j in pat.villages] for j in range(n)]
        by_f = [[q for q, pat in enumerate(pats) if j in pat.full] for j in range(n)]
        y = {(d, j): sum(x[d, q] for q in by_v[j]) for d in days for j in range(n)}
        f = {(d, j): sum(x[d, q] for q in by_f[j]) for d in days for j in range(n)}
        field_load = {d: sum(pat.load * x[d, q] for q, pat in enumerate(pats)) for d in days}
        load = {d: ctx.shift * off[d] + field_load[d] for d in days}
        # the first plan: a greedy month (never the all-office month, which a search stopped early would keep)
        start = _greedy_days(
            ctx, days, n, pats, full_need=rules.visit_days_per_village, shift_by=staff.index(o)
        )
        for d in days:
            model.add_exactly_one([off[d], *(x[d, q] for q in range(len(pats)))])
            model.add_hint(off[d], int(start[d] is None))
            for q in range(len(pats)):
                model.add_hint(x[d, q], int(start[d] == q))
        # R8 office days per ISO week
        for w in weeks:
            wd = [d for d in days if iso_week(d) == w]
            need = office_days_required(ctx.month, w, len(wd), rules=rules)
            model.add(sum(off[d] for d in wd) >= need)
        slacks: dict[tuple[str, str], Any] = {}

        def soft(
            expr: Any,
            need: int,
            key: tuple[str, str],
            weight: int = _W_MISS,
            more: int | None = None,
            store: dict[Any, Any] = slacks,
        ) -> None:
            """``expr >= need`` with a penalised slack; with ``more``, the first unit missed costs ``weight``
            and every further unit ``more`` (so a cheap unit is given up before an expensive one)."""
            if need <= 0:
                return
            if more is None or need == 1:
                s = model.new_int_var(0, need, "")
                penalties.append(weight * s)
                store[key] = (s, need)
                model.add(expr + s >= need)
                return
            # the last unit (the village's minimum) is the expensive one: need - 1 cheap units go first
            cheap = model.new_int_var(0, need - 1, "")
            last = model.new_int_var(0, 1, "")
            penalties.append(more * cheap + weight * last)
            store[key] = (cheap + last, need)
            model.add(expr + cheap + last >= need)

        for j, v in enumerate(pv):
            if rules.weekly_visit:
                for w in weeks:
                    wd = [d for d in days if iso_week(d) == w]
                    soft(sum(y[d, j] for d in wd), 1, (v, f"weekly:{w}"))
            if rules.visit_days_per_village:
                soft(sum(f[d, j] for d in days), rules.visit_days_per_village, (v, "full"), more=_W_MORE)
            if ctx.household_minutes > 0:
                # R6: the household visits' time over the village's visits of the month
                extra = (ctx.full - short) if rules.visit_days_per_village else 0
                soft(
                    sum(short * y[d, j] + extra * f[d, j] for d in days),
                    math.ceil(ctx.household_minutes),
                    (v, "households"),
                    weight=_W_HOUSEHOLD,
                )
                # spread: one full visit in each equal slice of the officer's days
                k = rules.visit_days_per_village
                for s_i in range(k):
                    seg = days[len(days) * s_i // k : len(days) * (s_i + 1) // k]
                    if seg:
                        sp = model.new_bool_var("")
                        model.add(sum(f[d, j] for d in seg) + sp >= 1)
                        penalties.append(_W_SPREAD * sp)
        # R4
        if o.kind == "resident" and o.home is not None and rules.resident_days_per_month:
            at_home = sum(off[d] for d in days) if o.home == home else 0
            if o.home in pv:
                j = pv.index(o.home)
                soft(
                    at_home + sum(f[d, j] for d in days), rules.resident_days_per_month, (o.home, "resident")
                )
            elif o.home == home:
                soft(at_home, rules.resident_days_per_month, (o.home, "resident"))
        elif o.kind == "linked" and rules.linked_days_per_month and n:
            soft(sum(f[d, j] for d in days for j in range(n)), rules.linked_days_per_month, ("", "linked"))
        # R7 night visits
        nv: dict[tuple[dt.date, int], Any] = {}
        if rules.night_visits_per_village:
            for j, v in enumerate(pv):
                k = reachable[j]
                trip = int(t[0, k] + t[k, 0])
                if trip > ctx.drive or trip + ctx.night_len > ctx.limit:
                    continue
                nd = [d for d in days if d.weekday() in ctx.night_days]
                # the day's work plus the night trip within shift + overtime, and the night trip leaves after
                # the day's work ends: the day patterns (and the office day) that leave room for this trip
                room = min(ctx.limit - trip - ctx.night_len, ctx.night_start - int(t[0, k]) - ctx.start)
                too_long = [q for q, pat in enumerate(pats) if pat.load > room]
                for d in nd:
                    xn = model.new_bool_var("")
                    nv[d, j] = xn
                    clash = [x[d, q] for q in too_long] + ([off[d]] if ctx.shift > room else [])
                    if clash:
                        model.add_at_most_one([xn, *clash])
                soft(sum(nv[d, j] for d in nd), rules.night_visits_per_village, (v, "night"))
                kk = rules.night_visits_per_village
                for s_i in range(kk):
                    seg = nd[len(nd) * s_i // kk : len(nd) * (s_i + 1) // kk]
                    if seg:
                        sp = model.new_bool_var("")
                        model.add(sum(nv[d, j] for d in seg) + sp >= 1)
                        penalties.append(_W_SPREAD * sp)
            for d in days:
                here = [x for (dd, _), x in nv.items() if dd == d]
                if len(here) > 1:
                    model.add_at_most_one(here)
        driving.append(sum(field_load[d] for d in days))
        per[o.officer_id] = {
            "o": o,
            "reachable": reachable,
            "pv": pv,
            "pats": pats,
            "off": off,
            "y": y,
            "f": f,
            "load": load,
            "nv": nv,
            "slacks": slacks,
            "short": short,
            "weeks": weeks,
            "tt": tt,
        }
    # office rotation: not every officer of the office in the office on the same day
    if len(staff) > 1:
        for d in sorted({d for o in staff for d in o.days}):
            here = [per[o.officer_id]["off"][d] for o in staff if d in per[o.officer_id]["off"]]
            if len(here) > 1:
                s = model.new_bool_var("")
                model.add(sum(here) <= len(here) - 1 + s)
                penalties.append(_W_ROTATE * s)
    # lexicographic: first the requirements, then the least field time that keeps them. Measured on the demo's
    # O02 (8 villages, 1 officer): one weighted objective needed 65 deterministic s to be optimal, the
    # requirements alone 3 s.
    solver, status, used = _solve(
        model, sum(penalties), office, seed=seed, time_limit=time_limit * (1 - _PHASE2_SHARE)
    )
    best = round(solver.objective_value)
    model.add(sum(penalties) <= best)
    _hint_solution(model, solver)
    solver2, status2, used2 = _solve(
        model, sum(driving), office, seed=seed, time_limit=time_limit * _PHASE2_SHARE
    )
    if status2 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        solver, used = solver2, used + used2
    log.info(
        "office %s: requirements penalty %d (%s), field minutes %.0f, %.1f deterministic s",
        office,
        best,
        solver.status_name(status),
        solver.objective_value,
        used,
    )
    info["det"] = used
    info["status"] = solver.status_name(status)
    rows: list[dict[str, Any]] = []
    legs: list[dict[str, Any]] = []
    shortfall: list[dict[str, Any]] = []
    cache: dict[tuple[Any, ...], Any] = {}
    for o in staff:
        p = per[o.officer_id]
        day_plan: dict[dt.date, list[tuple[str, int]]] = {}
        offdays = [d for d in o.days if solver.value(p["off"][d])]
        for d in o.days:
            if d in offdays:
                continue
            stops = []
            for j, v in enumerate(p["pv"]):
                if solver.value(p["y"][d, j]):
                    stops.append((v, ctx.full if solver.value(p["f"][d, j]) else p["short"]))
            day_plan[d] = stops
        nights = {d: p["pv"][j] for (d, j), x in p["nv"].items() if solver.value(x)}
        routed, moved_out = _route_days(ctx, home, o, day_plan, cache, seed=seed)
        for d in o.days:
            ds = d.isoformat()
            seq = 0  # legs of this officer-day, the night trip's after the day's
            if d in offdays or not routed.get(d):
                rows.append(_row(o.officer_id, ds, ctx.start, ctx.start + ctx.shift, home, "office"))
            else:
                for kind, a_id, b_id, s0, s1 in routed[d]:
                    if kind == "travel":
                        seq += 1
                        legs.append(_leg(o.officer_id, ds, seq, a_id, b_id, s1 - s0))
                    if s1 > s0:
                        rows.append(_row(o.officer_id, ds, s0, s1, b_id, kind))
            if d in nights:
                v = nights[d]
                go = int(t[0, ids.index(v)])
                back = int(t[ids.index(v), 0])
                n0 = ctx.night_start
                for a_id, b_id, s0, s1, kind in (
                    (home, v, n0 - go, n0, "travel"),
                    (v, v, n0, n0 + ctx.night_len, "night_visit"),
                    (v, home, n0 + ctx.night_len, n0 + ctx.night_len + back, "travel"),
                ):
                    if kind == "travel" and a_id != b_id:
                        seq += 1
                        legs.append(_leg(o.officer_id, ds, seq, a_id, b_id, s1 - s0))
                    if s1 > s0:
                        rows.append(_row(o.officer_id, ds, s0, s1, b_id, kind))
        dropped += _explain(ctx, office, home, o, p, solver, t, ids, moved_out, units)
    # shortfall: missed units caused by too few days
    for o in staff:
        p = per[o.officer_id]
        missed = {k: solver.value(s) for k, (s, _need) in p["slacks"].items() if solver.value(s)}
        full_ok = {p["pv"][j] for q in p["pats"] for j in q.full}
        any_ok = {p["pv"][j] for q in p["pats"] for j in q.villages}

        def fixable(
            k: tuple[str, str], o: _Officer = o, full_ok: set[str] = full_ok, any_ok: set[str] = any_ok
        ) -> bool:
            v, kind = k
            if kind == "full":
                return v in full_ok
            if kind.startswith("weekly:"):
                wd = [d for d in o.days if iso_week(d) == kind[7:]]
                return v in any_ok and len(wd) > office_days_required(
                    ctx.month, kind[7:], len(wd), rules=rules
                )
            return kind in ("resident", "linked")

        cap_missed = {k: m for k, m in missed.items() if fixable(k)}
        if not cap_missed:
            continue
        field_days = sum(1 for d in o.days if not solver.value(p["off"][d]))
        best_full = max((len(q.full) for q in p["pats"]), default=0)
        best_any = max((len(q.villages) for q in p["pats"]), default=0)
        full_missed = sum(m for k, m in cap_missed.items() if k[1] in ("full", "resident", "linked"))
        week_missed = sum(m for k, m in cap_missed.items() if k[1].startswith("weekly"))
        extra = (math.ceil(full_missed / best_full) if best_full else 0) + (
            math.ceil(week_missed / best_any) if best_any else 0
        )
        if extra == 0:
            continue
        office_days = len(o.days) - field_days
        needed = len(o.days) + extra
        per_officer = max(len(o.days) - office_days, 1)
        more = math.ceil(extra / per_officer)
        shortfall.append(
            _shortfall_row(
                office,
                needed,
                len(o.days),
                more,
                f"{o.officer_id}: {field_days} field days after {office_days} office days; at most {best_full} full "
                f"visit day(s) fit one shift",
                f"{o.officer_id}: 除 {office_days} 个坐班日外有 {field_days} 个外勤日; 每个班次最多完成 {best_full} 个整日走访",
            )
        )
    return {
        "det": info["det"],
        "proven": info["status"] == "OPTIMAL",
        "rows": rows,
        "legs": legs,
        "dropped": dropped,
        "shortfall": _merge_shortfall(office, shortfall),
        "units": units,
        "links": {v: o.officer_id for o in staff for v in o.villages},
    }


def _greedy_days(
    ctx: _Context, days: list[dt.date], n: int, pats: list[_Pattern], *, full_need: int, shift_by: int
) -> dict[dt.date, int | None]:
    """A first plan for one officer: the pattern of each day (None = office day).

    Per ISO week: the R8 office days (rotated by ``shift_by`` so that officers of one office take turns), then
    each field day takes the village that most needs a full visit day as its full visit and as many of the
    villages not yet visited that week as fit, spreading them over the week's field days.
    """
    index = {(frozenset(p.villages), frozenset(p.full)): q for q, p in enumerate(pats)}
    need = [full_need] * n
    out: dict[dt.date, int | None] = {}
    for w in sorted({iso_week(d) for d in days}):
        wd = [d for d in days if iso_week(d) == w]
        k_off = office_days_required(ctx.month, w, len(wd), rules=ctx.rules)
        order = wd[shift_by % len(wd) :] + wd[: shift_by % len(wd)]
        offd = set(order[len(order) - k_off :]) if k_off else set()
        field = [d for d in wd if d not in offd]
        todo = list(range(n))
        for i, d in enumerate(field):
            if not pats:
                out[d] = None
                continue
            quota = math.ceil(len(todo) / (len(field) - i)) if todo else 0
            chosen: tuple[frozenset[int], frozenset[int]] = (frozenset(), frozenset())
            for j in sorted(range(n), key=lambda j: (-need[j], j)):
                if need[j] > 0 and (frozenset([j]), frozenset([j])) in index:
                    chosen = (frozenset([j]), frozenset([j]))
                    break
            for j in todo:
                if len(chosen[0] & set(todo)) >= quota and i < len(field) - 1:
                    break
                trial = (chosen[0] | {j}, chosen[1])
                if trial in index:
                    chosen = trial
            if chosen not in index:
                out[d] = None
                continue
            out[d] = index[chosen]
            for j in chosen[1]:
                need[j] -= 1
            todo = [j for j in todo if j not in chosen[0]]
        for d in offd:
            out[d] = None
    return out


def _solve(
    model: Any, objective: Any, office: str, *, seed: int, time_limit: float
) -> tuple[Any, Any, float]:
    """Minimise ``objective`` with one CP-SAT worker under a deterministic budget (same seed, same plan).

    Returns the solver, its status and the deterministic seconds used. The model always has a plan (every
    requirement is soft and the hint is a feasible plan), so a stop by the budget still gives one.
    """
    from ortools.sat.python import cp_model

    model.minimize(objective)
    solver = cp_solver()
    solver.parameters.random_seed = int(seed)
    # one worker with a strong LP relaxation: deterministic, and on these set-partitioning models far faster
    # than the portfolio, whose LNS workers never left the all-office hint in the measured runs
    solver.parameters.num_workers = 1
    solver.parameters.linearization_level = 2
    # presolve costs more than it saves here: measured on the Andorra demo (8 villages, 1 officer, 17,000
    # booleans) it spent the whole 7 s budget before the first improving plan; without it the search is
    # optimal in under 2 deterministic seconds
    solver.parameters.cp_model_presolve = False
    limit = max(float(time_limit), 0.05)
    used = 0.0
    for _attempt in range(8):
        solver.parameters.max_deterministic_time = limit
        # wall time is only a safety net for a machine far slower than the deterministic clock assumes
        solver.parameters.max_time_in_seconds = limit * _WALL_SAFETY
        status = solver.solve(model)
        used += solver.deterministic_time
        if solver.wall_time >= limit * _WALL_SAFETY * 0.99:
            log.warning(
                "office %s: CP-SAT stopped by the wall-time safety net (%.0f s), not by its deterministic "
                "budget; the plan may differ between runs",
                office,
                solver.wall_time,
            )
        if status != cp_model.UNKNOWN:
            break
        # the budget ended before the first plan (the hint is completed by search): double it, deterministically
        log.info("office %s: no plan after %.2f deterministic s, doubling", office, limit)
        limit *= 2
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise SolverError(
            f"office {office}: the day assignment found no plan ({solver.status_name(status)}); raise the "
            "time limit.",
            zh=f"警务室 {office}: 排班未找到方案 ({solver.status_name(status)}); 请放宽时间限制。",
        )
    return solver, status, used


def _hint_solution(model: Any, solver: Any) -> None:
    """Hint every variable with its value in the solver's solution (the next phase starts from it)."""
    model.clear_hints()
    for i in range(len(model.proto.variables)):
        var = model.get_int_var_from_proto_index(i)
        model.add_hint(var, solver.value(var))


def _merge_shortfall(office: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(rows) <= 1:
        return rows
    needed = sum(r["needed_days"] for r in rows)
    has = sum(r["available_days"] for r in rows)
    more = sum(r["more_officers"] for r in rows)
    why = "; ".join(r["detail"].split("(", 1)[1].rstrip(")") for r in rows)
    why_zh = "; ".join(r["detail_zh"].split("(", 1)[1].rstrip(")") for r in rows)
    return [_shortfall_row(office, needed, has, more, why, why_zh)]


def _leg(officer: str, date: str, seq: int, from_id: str, to_id: str, minutes: int) -> dict[str, Any]:
    return {
        "officer_id": officer,
        "date": date,
        "seq": seq,
        "from_id": from_id,
        "to_id": to_id,
        "minutes": minutes,
    }


def _row(officer: str, date: str, s0: int, s1: int, village: str, activity: str) -> dict[str, Any]:
    return {
        "officer_id": officer,
        "date": date,
        "start": _hhmm(s0),
        "end": _hhmm(s1),
        "village_id": village,
        "activity": activity,
        "minutes": int(s1 - s0),
    }


def _route_days(
    ctx: _Context,
    home: str,
    o: _Officer,
    day_plan: dict[dt.date, list[tuple[str, int]]],
    cache: dict[tuple[Any, ...], Any],
    *,
    seed: int,
) -> tuple[dict[dt.date, list[Any]], list[Any]]:
    """Route each field day with solve_vrptw; visits it cannot fit move to another day or are returned."""
    routed: dict[dt.date, list[Any]] = {}
    leftover: list[tuple[dt.date, str, int]] = []
    for d in sorted(day_plan):
        order, drop = _route(ctx, home, day_plan[d], cache, seed=seed)
        routed[d] = order
        leftover += [(d, v, s) for v, s in drop]
    failed = []
    for d0, v, s in leftover:
        placed = False
        for d in sorted(day_plan, key=lambda x: (abs((x - d0).days), x)):
            if d == d0 or iso_week(d) != iso_week(d0) or any(u == v for u, _ in day_plan[d]):
                continue
            trial = [*day_plan[d], (v, s)]
            order, drop = _route(ctx, home, trial, cache, seed=seed)
            if not drop:
                day_plan[d] = trial
                routed[d] = order
                placed = True
                break
        if not placed:
            failed.append((d0, v, s))
    return routed, failed


def _route(
    ctx: _Context, home: str, stops: list[tuple[str, int]], cache: dict[tuple[Any, ...], Any], *, seed: int
) -> tuple[list[Any], list[tuple[str, int]]]:
    """One day: office -> stops -> office within the shift and the driving limit, timed in whole minutes."""
    key = (home, tuple(sorted(stops)))
    if key in cache:
        return cache[key]
    stops = sorted(stops)
    ids = [home] + [v for v, _ in stops]
    t = ctx.matrix(ids)
    service = np.array([0] + [s for _, s in stops], dtype=np.int64)
    route = _exact_order(t)
    tour = int(sum(t[a, b] for a, b in itertools.pairwise([0, *route, 0])))
    if tour > ctx.drive or tour + int(service.sum()) > ctx.shift:
        route = _vrptw_order(ctx, t, service, seed=seed)
    dropped_idx = set(range(1, len(ids))) - set(route)
    clock = ctx.start
    out: list[Any] = []
    prev = 0
    for k in [*route, 0]:
        travel = int(t[prev, k])
        if ids[k] != ids[prev]:
            out.append(("travel", ids[prev], ids[k], clock, clock + travel))
        clock += travel
        if k != 0:
            out.append(("visit", ids[k], ids[k], clock, clock + int(service[k])))
            clock += int(service[k])
        prev = k
    res = (out, [stops[k - 1] for k in sorted(dropped_idx)])
    cache[key] = res
    return res


def _exact_order(t: np.ndarray) -> list[int]:
    """The shortest visit order office (node 0) -> 1..n -> office, exactly (Held-Karp; n <= MAX_STOPS).

    A day route holds at most :data:`MAX_STOPS` villages, so the exact order costs microseconds; it is the same
    tour the day patterns were built with, so a planned day always fits. Ties go to the first order found.
    """
    n = t.shape[0] - 1
    if n <= 0:
        return []
    best: dict[tuple[int, int], tuple[int, int]] = {}  # (mask, last) -> (cost, previous)
    for j in range(1, n + 1):
        best[1 << (j - 1), j] = (int(t[0, j]), 0)
    for mask in range(1, 1 << n):
        for j in range(1, n + 1):
            if (mask, j) not in best:
                continue
            c = best[mask, j][0]
            for k in range(1, n + 1):
                if mask >> (k - 1) & 1:
                    continue
                key = (mask | 1 << (k - 1), k)
                cand = c + int(t[j, k])
                if key not in best or cand < best[key][0]:
                    best[key] = (cand, j)
    full = (1 << n) - 1
    last = min(range(1, n + 1), key=lambda j: (best[full, j][0] + int(t[j, 0]), j))
    order: list[int] = []
    mask, j = full, last
    while j:
        order.append(j)
        prev = best[mask, j][1]
        mask &= ~(1 << (j - 1))
        j = prev
    return order[::-1]


def _vrptw_order(ctx: _Context, t: np.ndarray, service: np.ndarray, *, seed: int) -> list[int]:
    """OR-Tools' route when the stops do not all fit one shift: it leaves out the visits that do not fit."""
    from planner.engines.routing import solve_vrptw

    # every stop optional: a stop that does not fit is left out and moved by the caller, never lost
    penalties = np.full(len(service), float(_BIG))
    sol = solve_vrptw(
        t,
        service,
        None,
        depot=0,
        max_route_duration=ctx.shift,
        max_drive=ctx.drive,
        vehicles=1,
        penalties=penalties,
        time_limit=0.2,
        seed=seed,
    )
    return _first_route(sol)


def _first_route(sol: Any) -> list[int]:
    """The visit order (indices without the depot) of the single vehicle of a RoutingSolution."""
    routes = sol.routes
    route = list(routes[0]) if len(routes) else []
    return [int(k) for k in route if int(k) != 0]


def _explain(
    ctx: _Context,
    office: str,
    home: str,
    o: _Officer,
    p: dict[str, Any],
    solver: Any,
    t: np.ndarray,
    ids: list[str],
    moved_out: list[Any],
    units: list[float],
) -> list[DroppedVisit]:
    """Unmet requirements of one officer with the reason and the numbers; also counts requirement units."""
    rules = ctx.rules
    out: list[DroppedVisit] = []
    shift_h = rules.shift_hours
    weeks = p["weeks"]
    field_days = sum(1 for d in o.days if not solver.value(p["off"][d]))
    office_days = len(o.days) - field_days
    best_full = max((len(q.full) for q in p["pats"]), default=0)
    month_weeks = sorted({iso_week(d) for d in working_days(ctx.month, holidays=rules.holidays)})

    def add(v: str, en: str, zh: str) -> None:
        out.append(DroppedVisit(o.officer_id, v, en, zh))

    for v in o.villages:
        k = ids.index(v)
        rt_min = t[0, k] + t[k, 0]
        req = (
            rules.visit_days_per_village
            + (len(month_weeks) if rules.weekly_visit else 0)
            + rules.night_visits_per_village
        )
        units[1] += req
        away = [w for w in month_weeks if w not in weeks] if rules.weekly_visit else []
        if away and v in p["pv"]:
            req -= len(away)  # counted as required, never met
            add(
                v,
                f"{o.officer_id} has no working day in week(s) {', '.join(away)} (leave or holidays): no weekly "
                f"visit to {v} then",
                f"{o.officer_id} 在 {', '.join(away)} 周没有工作日 (休假或节假日): 该周未走访 {v}",
            )
        if v not in p["pv"]:
            why = (
                "its access is 'unreachable'"
                if ctx.a.loc[v, "access"] == "unreachable"
                else f"no road links it with the office village {home}"
            )
            add(
                v,
                f"village {v} cannot be visited: {why}; all {req} visit requirement(s) missed",
                f"村 {v} 无法走访: {'无路可达' if ctx.a.loc[v, 'access'] == 'unreachable' else f'与警务室所在村 {home} 无道路相连'}; "
                f"{req} 项走访要求均未完成",
            )
            continue
        rt = rt_min / 60.0
        met = req
        weekly: dict[str, list[tuple[str, int, int]]] = {"office": [], "far": [], "busy": []}
        for (vv, kind), (s, need) in p["slacks"].items():
            if vv != v:
                continue
            miss = int(solver.value(s))
            if kind in ("resident",):
                units[1] += need
                units[0] += need - miss
            if not miss:
                continue
            if kind not in ("resident", "households"):
                met -= miss
            if kind == "households":
                got = need - miss
                en = (
                    f"village {v} gets {got} min of visits, the {rules.households_per_month} household visits "
                    f"need {need} min (R6): {o.officer_id}'s field days are taken by the visits of his "
                    f"{len(o.villages)} villages"
                )
                zh = (
                    f"村 {v} 仅有 {got} 分钟走访, {rules.households_per_month} 户入户走访需 {need} 分钟 (R6): "
                    f"{o.officer_id} 的外勤日已排满其 {len(o.villages)} 个村的走访"
                )
                add(v, en, zh)
            elif kind == "full":
                if rt_min > ctx.drive:
                    en = (
                        f"the round trip to {v} takes {rt:.1f} h, more than the {rules.max_drive_hours:g} h "
                        f"driving limit: {miss} of {need} visit days missed"
                    )
                    zh = f"往返 {v} 需 {rt:.1f} 小时, 超过每日驾驶上限 {rules.max_drive_hours:g} 小时: 缺 {miss}/{need} 个走访日"
                elif rt_min + ctx.full > ctx.shift:
                    en = (
                        f"the round trip to {v} takes {rt:.1f} h and a visit day {ctx.full / 60:.1f} h, more than "
                        f"the {shift_h:g} h shift: {miss} of {need} visit days missed"
                    )
                    zh = (
                        f"往返 {v} 需 {rt:.1f} 小时, 走访需 {ctx.full / 60:.1f} 小时, 超过 {shift_h:g} 小时班次: "
                        f"缺 {miss}/{need} 个走访日"
                    )
                else:
                    en = (
                        f"{o.officer_id} has {field_days} field days after {office_days} office days for "
                        f"{len(o.villages)} villages; the round trip to {v} takes {rt:.1f} h, so at most "
                        f"{best_full} full visit day(s) fit the {shift_h:g} h shift; the weekly visits and every "
                        f"village's first visit day come first: {miss} of {need} visit days missed"
                    )
                    zh = (
                        f"{o.officer_id} 除 {office_days} 个坐班日外仅有 {field_days} 个外勤日, 负责 {len(o.villages)} 个村; "
                        f"往返 {v} 需 {rt:.1f} 小时, 每个 {shift_h:g} 小时班次最多 {best_full} 个整日走访; "
                        f"优先保证每周走访和每村第一个走访日: 缺 {miss}/{need} 个走访日"
                    )
                add(v, en, zh)
            elif kind.startswith("weekly:"):
                w = kind.split(":", 1)[1]
                wd = [d for d in o.days if iso_week(d) == w]
                need_off = office_days_required(ctx.month, w, len(wd), rules=rules)
                if len(wd) <= need_off:
                    weekly["office"].append((w, len(wd), need_off))
                elif rt_min > ctx.drive or rt_min + p["short"] > ctx.shift:
                    weekly["far"].append((w, len(wd), need_off))
                else:
                    weekly["busy"].append((w, len(wd), need_off))
            elif kind == "night":
                nd = [d for d in o.days if d.weekday() in ctx.night_days]
                en = (
                    f"{miss} of {need} night visit(s) to {v} missed: {len(nd)} evenings on "
                    f"{'/'.join(rules.night_days)} for {len(o.villages)} villages, the night trip takes "
                    f"{rt + ctx.night_len / 60:.1f} h"
                )
                zh = (
                    f"{v} 缺 {miss}/{need} 次夜访: {'/'.join(rules.night_days)} 共 {len(nd)} 个晚上, 负责 "
                    f"{len(o.villages)} 个村, 夜访往返需 {rt + ctx.night_len / 60:.1f} 小时"
                )
                add(v, en, zh)
            elif kind == "resident":
                en = (
                    f"resident officer {o.officer_id} spends {need - miss} of the {need} days a month in his "
                    f"village {v} (R4)"
                )
                zh = f"驻村民警 {o.officer_id} 在本村 {v} 仅 {need - miss}/{need} 天 (R4)"
                add(v, en, zh)
        if weekly["office"]:
            ws = ", ".join(f"{w} ({n} day(s), {k} office)" for w, n, k in weekly["office"])
            ws_zh = ", ".join(f"{w} ({n} 个工作日, 坐班 {k} 天)" for w, n, k in weekly["office"])
            add(
                v,
                f"no weekly visit to {v} in {ws}: every working day of {o.officer_id} is an R8 office day",
                f"{ws_zh} 未走访 {v}: {o.officer_id} 的工作日均需按 R8 坐班",
            )
        if weekly["far"]:
            ws = ", ".join(w for w, _, _ in weekly["far"])
            if rt_min > ctx.drive:
                en = f"the round trip to {v} takes {rt:.1f} h, more than the {rules.max_drive_hours:g} h driving limit"
                zh = f"往返 {v} 需 {rt:.1f} 小时, 超过每日驾驶上限 {rules.max_drive_hours:g} 小时"
            else:
                en = (
                    f"the round trip to {v} takes {rt:.1f} h, with a {p['short']} min visit more than the "
                    f"{shift_h:g} h shift"
                )
                zh = f"往返 {v} 需 {rt:.1f} 小时, 加 {p['short']} 分钟走访超过 {shift_h:g} 小时班次"
            add(v, f"{en}: no weekly visit in {ws}", f"{zh}: {ws} 周未走访")
        if weekly["busy"]:
            ws = ", ".join(f"{w} ({n - k} field day(s))" for w, n, k in weekly["busy"])
            ws_zh = ", ".join(f"{w} ({n - k} 个外勤日)" for w, n, k in weekly["busy"])
            add(
                v,
                f"no weekly visit to {v} in {ws}: {o.officer_id}'s field days there are taken by the other visits "
                f"of his {len(o.villages)} villages (the round trip to {v} takes {rt:.1f} h)",
                f"{ws_zh} 未走访 {v}: {o.officer_id} 的外勤日已排满其 {len(o.villages)} 个村的走访 (往返 {v} 需 {rt:.1f} 小时)",
            )
        if rules.night_visits_per_village and not any(vv == v and kk == "night" for vv, kk in p["slacks"]):
            met -= rules.night_visits_per_village
            trip = rt_min + ctx.night_len
            add(
                v,
                f"the night trip to {v} takes {trip / 60:.1f} h (driving {rt:.1f} h), beyond the "
                f"{rules.max_drive_hours:g} h driving limit or {shift_h + OVERTIME_HOURS:g} h working day: "
                f"{rules.night_visits_per_village} night visit(s) missed",
                f"夜访 {v} 往返需 {trip / 60:.1f} 小时 (驾驶 {rt:.1f} 小时), 超出驾驶上限或 "
                f"{shift_h + OVERTIME_HOURS:g} 小时工作日: 缺 {rules.night_visits_per_village} 次夜访",
            )
        if rules.visit_days_per_village and not any(vv == v and kk == "full" for vv, kk in p["slacks"]):
            pass
        units[0] += max(met, 0)
    for (_vv, kind), (s, need) in p["slacks"].items():
        if kind == "linked":
            miss = int(solver.value(s))
            units[1] += need
            units[0] += need - miss
            if miss:
                add(
                    "",
                    f"linked officer {o.officer_id} spends {need - miss} of the {need} days a month in his "
                    f"villages (R4)",
                    f"挂村民警 {o.officer_id} 在联系村仅 {need - miss}/{need} 天 (R4)",
                )
    for d, v, s in moved_out:
        add(
            v,
            f"the route of {d.isoformat()} could not fit the {s} min visit to {v} and no other day of the week "
            "had room",
            f"{d.isoformat()} 的路线排不下 {v} 的 {s} 分钟走访, 本周其他日期也无空余",
        )
    return out


def _to_min(x: Any) -> int:
    h, m = str(x).strip().split(":")[:2]
    return int(h) * 60 + int(m)


def check_schedule(
    schedule: pd.DataFrame,
    assignment: pd.DataFrame,
    minutes: TravelTimes,
    *,
    rules: PatrolRules,
    month: str,
    roster: pd.DataFrame | None = None,
) -> list[Violation]:
    """Re-check a schedule (fresh or edited by hand) against R4-R8 and the working-time limits.

    Checks per officer-day: shift length, driving (day and night trip separately), day plus night trip within
    shift + overtime, night visits on a night weekday inside the night window, no work on weekends or holidays,
    travel rows at least as long as the road network says; per village: a visit each ISO week (R8), full visit
    days (R5, ``visit_hours``), household time (R6), night visits (R7); per officer: office days per ISO week (R8).
    ``roster`` (with unavailable dates) refines the office-day weeks; without it every working day counts.
    """
    out: list[Violation] = []
    a = assignment.copy()
    a.index = a.index.astype(str)
    days_all = parse_month(month)
    s = schedule.copy()
    if not len(s):
        s = pd.DataFrame({c: pd.Series(dtype=object) for c in SCHEDULE_COLUMNS})
    for c in ("officer_id", "date", "village_id", "activity"):
        s[c] = s[c].astype(str)
    s["s0"] = [_to_min(x) for x in s["start"]]
    s["s1"] = [_to_min(x) for x in s["end"]]
    s["dur"] = s["s1"] - s["s0"]
    s["d"] = [dt.date.fromisoformat(x[:10]) for x in s["date"]]
    shift = rules.shift_hours * 60
    drive = rules.max_drive_hours * 60
    limit = (rules.shift_hours + OVERTIME_HOURS) * 60
    n0 = _minute_of_day(rules.night_window[0])
    n1 = _minute_of_day(rules.night_window[1])
    holidays = set(rules.holidays)
    known = set(a.index) | set(a["office_village_id"].astype(str))

    def v(rule: str, subject: str, en: str, zh: str) -> None:
        out.append(Violation(rule, subject, en, zh))

    bad_act = sorted(set(s["activity"]) - {"visit", "night_visit", "office", "travel"})
    if bad_act:
        v(
            "schedule",
            "activity",
            f"unknown activity {bad_act}; use visit, night_visit, office or travel",
            f"未知的活动 {bad_act}; 请用 visit、night_visit、office 或 travel",
        )
    for vid in sorted(set(s["village_id"]) - known):
        v(
            "schedule",
            vid,
            f"village {vid} in the schedule is not a village of the plan",
            f"计划表中的村 {vid} 不在规划中",
        )
    outside = s[[d not in set(days_all) for d in s["d"]]]
    for (oid, ds), _g in outside.groupby(["officer_id", "date"]):
        v(
            "schedule",
            oid,
            f"{oid} has work on {ds}, outside the month {month}",
            f"{oid} 在 {ds} 有安排, 不在 {month} 月内",
        )
    # a night trip is each night_visit row and the travel rows touching it
    s = s.sort_values(["officer_id", "date", "s0", "s1"], kind="stable").reset_index(drop=True)
    night = np.zeros(len(s), dtype=bool)
    for i in np.flatnonzero(s["activity"].to_numpy() == "night_visit"):
        night[i] = True
        j = i - 1
        while (
            j >= 0
            and s.at[j, "activity"] == "travel"
            and s.at[j, "officer_id"] == s.at[i, "officer_id"]
            and s.at[j, "date"] == s.at[i, "date"]
            and s.at[j, "s1"] == s.at[j + 1, "s0"]
        ):
            night[j] = True
            j -= 1
        j = i + 1
        while (
            j < len(s)
            and s.at[j, "activity"] == "travel"
            and s.at[j, "officer_id"] == s.at[i, "officer_id"]
            and s.at[j, "date"] == s.at[i, "date"]
            and s.at[j, "s0"] == s.at[j - 1, "s1"]
        ):
            night[j] = True
            j += 1
    s["night"] = night
    tol = 1  # whole-minute rounding
    for (oid, ds), g in s.groupby(["officer_id", "date"], sort=True):
        d = g["d"].iloc[0]
        day = g[~g["night"]]
        ngt = g[g["night"]]
        if d.weekday() >= 5 or d in holidays:
            v(
                "R8",
                oid,
                f"{oid} works on {ds}, a weekend day or holiday",
                f"{oid} 在 {ds} (周末或节假日) 有安排",
            )
        work = 0
        if len(day):
            work = int(day["s1"].max() - day["s0"].min())
            if work > shift + tol:
                v(
                    "shift",
                    oid,
                    f"{oid} on {ds}: the shift lasts {work / 60:.1f} h, more than {rules.shift_hours:g} h",
                    f"{oid} 在 {ds}: 班次 {work / 60:.1f} 小时, 超过 {rules.shift_hours:g} 小时",
                )
            dr = int(day.loc[day["activity"] == "travel", "dur"].sum())
            if dr > drive + tol:
                v(
                    "drive",
                    oid,
                    f"{oid} on {ds}: {dr / 60:.1f} h of driving, more than {rules.max_drive_hours:g} h",
                    f"{oid} 在 {ds}: 驾驶 {dr / 60:.1f} 小时, 超过 {rules.max_drive_hours:g} 小时",
                )
        for _, r in ngt[ngt["activity"] == "night_visit"].iterrows():
            if WEEKDAYS[d.weekday()] not in rules.night_days:
                v(
                    "R7",
                    oid,
                    f"{oid}: night visit to {r['village_id']} on {ds}, a {WEEKDAYS[d.weekday()]}; night "
                    f"visits are on {'/'.join(rules.night_days)}",
                    f"{oid}: {ds} ({WEEKDAYS[d.weekday()]}) 夜访 {r['village_id']}; 夜访只在 {'/'.join(rules.night_days)}",
                )
            if r["s0"] < n0 or r["s1"] > n1:
                v(
                    "R7",
                    oid,
                    f"{oid}: night visit to {r['village_id']} on {ds} at {r['start']}-{r['end']}, outside "
                    f"{_hhmm(n0)}-{_hhmm(n1)}",
                    f"{oid}: {ds} 夜访 {r['village_id']} 在 {r['start']}-{r['end']}, "
                    f"不在 {_hhmm(n0)}-{_hhmm(n1)} 内",
                )
        if len(ngt):
            ndr = int(ngt.loc[ngt["activity"] == "travel", "dur"].sum())
            ntrip = int(ngt["s1"].max() - ngt["s0"].min())
            if ndr > drive + tol:
                v(
                    "drive",
                    oid,
                    f"{oid} on {ds}: the night trip drives {ndr / 60:.1f} h, more than "
                    f"{rules.max_drive_hours:g} h",
                    f"{oid} 在 {ds}: 夜访驾驶 {ndr / 60:.1f} 小时, 超过 {rules.max_drive_hours:g} 小时",
                )
            if work + ntrip > limit + tol:
                v(
                    "shift",
                    oid,
                    f"{oid} on {ds}: the day's {work / 60:.1f} h plus the {ntrip / 60:.1f} h night trip "
                    f"exceed {limit / 60:g} h ({rules.shift_hours:g} h shift + {OVERTIME_HOURS:g} h overtime)",
                    f"{oid} 在 {ds}: 白天 {work / 60:.1f} 小时加夜访 {ntrip / 60:.1f} 小时超过 {limit / 60:g} 小时",
                )
            if len(day) and int(day["s1"].max()) > int(ngt["s0"].min()):
                v(
                    "shift",
                    oid,
                    f"{oid} on {ds}: the night trip starts before the day's work ends",
                    f"{oid} 在 {ds}: 夜访在白天工作结束前出发",
                )
    # travel rows against the network (a hand edit may shorten a drive)
    tr = s[(s["activity"] == "travel")]
    if len(tr):
        ids = sorted(set(a.index) | set(a["office_village_id"]))
        tt = minutes.subset(ids, ids)
        pos = {x: i for i, x in enumerate(ids)}
        for (_oid, _ds), g in s.groupby(["officer_id", "date"], sort=False):
            prev = None
            for _, r in g.iterrows():
                if r["activity"] == "travel" and prev is not None and prev in pos and r["village_id"] in pos:
                    need = tt.seconds[pos[prev], pos[r["village_id"]]] / 60.0
                    if r["dur"] + tol < need:
                        v(
                            "travel",
                            r["officer_id"],
                            f"{r['officer_id']} on {r['date']}: {r['dur']} min to drive "
                            f"{prev} -> {r['village_id']}, the roads need {need:.0f} min",
                            f"{r['officer_id']} 在 {r['date']}: {prev} -> {r['village_id']} 只留 {r['dur']} 分钟, "
                            f"道路需 {need:.0f} 分钟",
                        )
                prev = r["village_id"] if r["activity"] in ("travel", "visit", "night_visit") else None
                if r["activity"] == "office":
                    prev = None
            _ = prev
    # per village
    wdays = working_days(month, holidays=holidays)
    weeks = sorted({iso_week(d) for d in wdays})
    vis = s[s["activity"] == "visit"]
    per_day = vis.groupby(["village_id", "officer_id", "date"])["dur"].sum()
    for vid in sorted(a.index):
        mv = vis[vis["village_id"] == vid]
        tag = " (the village is unreachable)" if a.loc[vid, "access"] == "unreachable" else ""
        tag_zh = " (该村无路可达)" if tag else ""
        if rules.weekly_visit:
            seen = {iso_week(d) for d in mv["d"]}
            for w in weeks:
                if w not in seen:
                    v(
                        "R8",
                        vid,
                        f"village {vid} has no visit in week {w}{tag}",
                        f"村 {vid} 在 {w} 周没有走访{tag_zh}",
                    )
        if rules.visit_days_per_village:
            full = (
                int((per_day.get(vid, pd.Series(dtype=float)) >= rules.visit_hours * 60 - tol).sum())
                if vid in per_day.index.get_level_values(0)
                else 0
            )
            if full < rules.visit_days_per_village:
                v(
                    "R5",
                    vid,
                    f"village {vid} has {full} visit day(s) of {rules.visit_hours:g} h, needs "
                    f"{rules.visit_days_per_village}{tag}",
                    f"村 {vid} 仅有 {full} 个 {rules.visit_hours:g} 小时走访日, 需要 {rules.visit_days_per_village}{tag_zh}",
                )
        hh = rules.households_per_month * rules.household_minutes
        total = int(mv["dur"].sum())
        if hh and total + tol < hh:
            v(
                "R6",
                vid,
                f"village {vid} gets {total} min of visits, the {rules.households_per_month} household "
                f"visits need {hh:.0f} min{tag}",
                f"村 {vid} 走访 {total} 分钟, {rules.households_per_month} 户入户走访需 "
                f"{hh:.0f} 分钟{tag_zh}",
            )
        if rules.night_visits_per_village:
            nn = int((s["activity"].eq("night_visit") & s["village_id"].eq(vid)).sum())
            if nn < rules.night_visits_per_village:
                v(
                    "R7",
                    vid,
                    f"village {vid} has {nn} night visit(s), needs {rules.night_visits_per_village}{tag}",
                    f"村 {vid} 夜访 {nn} 次, 需要 {rules.night_visits_per_village} 次{tag_zh}",
                )
    # office days per officer and week
    unavailable: dict[str, set[dt.date]] = defaultdict(set)
    officers = sorted(set(s["officer_id"]))
    if roster is not None:
        for row in roster.itertuples(index=False):
            unavailable[str(row.officer_id)] = set(getattr(row, "unavailable", []) or [])
        officers = sorted(set(officers) | set(roster["officer_id"].astype(str)))
    if rules.office_days_per_week:
        off = s[s["activity"] == "office"]
        for oid in officers:
            od = working_days(month, holidays=holidays, unavailable=unavailable[oid])
            have = {
                w: n
                for w, n in pd.Series([iso_week(d) for d in set(off.loc[off["officer_id"] == oid, "d"])])
                .value_counts()
                .items()
            }
            for w in sorted({iso_week(d) for d in od}):
                need = office_days_required(month, w, sum(1 for d in od if iso_week(d) == w), rules=rules)
                if have.get(w, 0) < need:
                    v(
                        "R8",
                        oid,
                        f"{oid} keeps office hours on {have.get(w, 0)} day(s) in week {w}, needs {need}",
                        f"{oid} 在 {w} 周坐班 {have.get(w, 0)} 天, 需要 {need} 天",
                    )
    return out
