"""The route of each officer-day: the exact order of its villages, timed in whole minutes from the shift's start.

A day holds at most :data:`~planner.patrol.patterns.MAX_STOPS` villages, so the exact shortest order (Held-Karp)
costs microseconds; it is the same tour the day patterns were built with, so a planned day always fits. Only a
day that somehow does not fit goes to :func:`planner.engines.routing.solve_vrptw` (OR-Tools), which leaves out
what does not fit; such a visit moves to another field day of the same week, or is reported. Measured on the
demo: OR-Tools spent its 0.2 s wall-time limit on every 2-6 stop day (about 25 s a month) to find the tour the
DP gives in microseconds.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import numpy as np

from planner.patrol.context import MonthContext
from planner.patrol.daymodel import Officer
from planner.patrol.rulebook.calendar import month_calendar
from planner.patrol.rulebook.worktime import NO_ROAD, hhmm

#: One step of a routed day: (kind "travel" / "visit", from village, to village, start, end minute of the day).
Step = tuple[str, str, str, int, int]

#: Per stop key (office village, sorted stops), the routed day and the stops left out.
RouteCache = dict[tuple[Any, ...], tuple[list[Step], list[tuple[str, int]]]]


def leg(officer: str, date: str, seq: int, from_id: str, to_id: str, minutes: int) -> dict[str, Any]:
    """One row of the legs table: a drive of an officer-day."""
    return {
        "officer_id": officer,
        "date": date,
        "seq": seq,
        "from_id": from_id,
        "to_id": to_id,
        "minutes": minutes,
    }


def row(officer: str, date: str, s0: int, s1: int, village: str, activity: str) -> dict[str, Any]:
    """One row of the schedule: an activity of an officer-day from minute ``s0`` to ``s1``."""
    return {
        "officer_id": officer,
        "date": date,
        "start": hhmm(s0),
        "end": hhmm(s1),
        "village_id": village,
        "activity": activity,
        "minutes": int(s1 - s0),
    }


def route_days(
    ctx: MonthContext,
    home: str,
    o: Officer,
    day_plan: dict[dt.date, list[tuple[str, int]]],
    cache: RouteCache,
    *,
    seed: int,
) -> tuple[dict[dt.date, list[Step]], list[tuple[dt.date, str, int]]]:
    """Route each field day (exact order, OR-Tools only for a day that does not fit); a visit left out moves to
    the nearest other field day of its week that can take it, or is returned (date, village, minutes)."""
    routed: dict[dt.date, list[Step]] = {}
    leftover: list[tuple[dt.date, str, int]] = []
    for d in sorted(day_plan):
        order, drop = _route(ctx, home, day_plan[d], cache, seed=seed)
        routed[d] = order
        leftover += [(d, v, s) for v, s in drop]
    failed = []
    week_of = month_calendar(ctx.month, ctx.rules).week_of
    for d0, v, s in leftover:
        placed = False
        for d in sorted(day_plan, key=lambda x: (abs((x - d0).days), x)):
            if d == d0 or week_of(d) != week_of(d0) or any(u == v for u, _ in day_plan[d]):
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
    ctx: MonthContext, home: str, stops: list[tuple[str, int]], cache: RouteCache, *, seed: int
) -> tuple[list[Step], list[tuple[str, int]]]:
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
    if tour > ctx.work.drive or tour + int(service.sum()) > ctx.work.shift:
        route = _vrptw_order(ctx, t, service, seed=seed)
    dropped_idx = set(range(1, len(ids))) - set(route)
    clock = ctx.work.start
    out: list[Step] = []
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


def _vrptw_order(ctx: MonthContext, t: np.ndarray, service: np.ndarray, *, seed: int) -> list[int]:
    """OR-Tools' route when the stops do not all fit one shift: it leaves out the visits that do not fit."""
    from planner.engines.routing import solve_vrptw

    # every stop optional: a stop that does not fit is left out and moved by the caller, never lost
    penalties = np.full(len(service), float(NO_ROAD))
    sol = solve_vrptw(
        t,
        service,
        None,
        depot=0,
        max_route_duration=ctx.work.shift,
        max_drive=ctx.work.drive,
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
