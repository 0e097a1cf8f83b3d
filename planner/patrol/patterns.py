"""The day patterns of one officer: which sets of his villages one shift can visit, and a first month of them.

A field day is a *pattern*: a set of the officer's villages, each visited for a full visit day (R5 plus its
share of R6) or a short weekly visit (R8). Patterns are enumerated exactly: the shortest closed tour office ->
villages -> office of every small village set is found by dynamic programming over subsets (Held-Karp), and a
pattern is kept when tour plus service fits the shift and the tour fits the driving limit, so the day model
never plans a day that cannot be driven.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass

import numpy as np

from planner.patrol.rulebook.calendar import days_in_week, month_calendar, office_days_required
from planner.patrol.rulebook.worktime import NO_ROAD
from planner.rules import PatrolRules

MAX_STOPS = 6  # villages on one day route: more never fit a shift with real visits


@dataclass
class Pattern:
    """One feasible field day: its villages, those of them with a full visit day, its tour and its load."""

    villages: tuple[int, ...]  # local indices
    full: tuple[int, ...]  # subset of villages with a full visit
    tour: int
    load: int  # tour + service, minutes


def subset_tours(t: np.ndarray, n: int, max_size: int, budget: float) -> dict[int, int]:
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
                if add < cur.get(k, NO_ROAD):
                    cur[k] = add
        layer = nxt
    return tours


def patterns(
    t: np.ndarray, full_min: np.ndarray, short_min: np.ndarray, *, shift: int, drive: int
) -> list[Pattern]:
    """Every feasible day pattern over the villages 1..n of ``t`` (node 0 is the office): each village set
    whose tour fits ``drive`` and whose tour plus service fits ``shift``, with every choice of which of its
    villages get the full visit (``full_min``) instead of the short one (``short_min``) that still fits."""
    n = len(full_min)
    min_service = int(short_min.min()) if n else 0
    max_size = max(1, min(MAX_STOPS, n, shift // max(min_service, 1)))
    tours = subset_tours(t, n, max_size, min(shift, drive) + 1e-9)
    out: list[Pattern] = []
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
                    out.append(Pattern(vs, full, tour, load))
    return out


def greedy_days(
    month: str,
    rules: PatrolRules,
    days: list[dt.date],
    n: int,
    pats: list[Pattern],
    *,
    full_need: int,
    shift_by: int,
) -> dict[dt.date, int | None]:
    """A first plan for one officer: the pattern of each day (None = office day).

    Per ISO week: the R8 office days (rotated by ``shift_by`` so that officers of one office take turns), then
    each field day takes the village that most needs a full visit day as its full visit and as many of the
    villages not yet visited that week as fit, spreading them over the week's field days.
    """
    index = {(frozenset(p.villages), frozenset(p.full)): q for q, p in enumerate(pats)}
    need = [full_need] * n
    out: dict[dt.date, int | None] = {}
    cal = month_calendar(month, rules)
    for w in sorted({cal.week_of(d) for d in days}):
        wd = days_in_week(month, days, w, rules=rules)
        k_off = office_days_required(len(wd), rules=rules)
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
