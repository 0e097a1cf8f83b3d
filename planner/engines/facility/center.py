"""The p-center model: ``p`` sites minimising the largest weighted cost of a row to its nearest open site.

A greedy (farthest-row) start gives an upper bound; a bisection over the distinct costs with a CP-SAT set-cover
test (one worker, a deterministic work budget per test) then closes the gap. The seam: :class:`PCenterProblem`
-> :func:`solve` -> :class:`FacilitySolution`; :func:`pcenter` is the one-call form.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from planner.engines.cpsat import cp_solver
from planner.engines.facility.common import (
    FacilitySolution,
    raise_for_status,
    unservable_rows,
    validate_siting,
    warn_unserved,
)
from planner.errors import InfeasibleError, SolverError

log = logging.getLogger(__name__)

# CP-SAT gets a deterministic-time budget (its own work units) for each cover test.
_COVER_WORK = 10.0


@dataclass(frozen=True, eq=False)
class PCenterProblem:
    """A p-center instance, validated on construction (the same data and checks as the p-median's).

    Attributes
    ----------
    cost
        (n, m) matrix, ``inf`` where a site cannot reach a row; stored as float64.
    p
        Number of sites to open.
    weights
        Per-row weight; rows of weight 0 do not count. Stored as an (n,) float64 array.
    candidates, fixed
        Columns allowed as sites, columns that must be open; stored as sorted column indices.
    """

    cost: Any
    p: int
    weights: Any = None
    candidates: Any = None
    fixed: Any = None

    def __post_init__(self) -> None:
        cost, weights, cand, fix = validate_siting(
            self.cost, self.p, self.weights, self.candidates, self.fixed
        )
        object.__setattr__(self, "cost", cost)
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "candidates", cand)
        object.__setattr__(self, "fixed", fix)


def _cover_feasible(
    cover: np.ndarray, p: int, cand: np.ndarray, fix: np.ndarray, time_limit: float, seed: int
) -> tuple[str, np.ndarray | None]:
    """Can ``p`` sites (with ``fix``) cover every row? ("yes", cols), ("no", None), ("unknown", None) when the
    work budget ran out, ("cut", None) when the wall clock stopped it.

    CP-SAT runs with one worker and a deterministic work budget; ``time_limit`` is a wall-clock safety cap.
    """
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    y = {int(j): model.new_bool_var("") for j in cand}
    for i in range(cover.shape[0]):
        sites = [y[int(j)] for j in cand if cover[i, j]]
        if not sites:
            return "no", None
        model.add_bool_or(sites)
    model.add(sum(y.values()) <= p)
    for j in fix:
        model.add(y[int(j)] == 1)
    solver = cp_solver()
    solver.parameters.max_deterministic_time = _COVER_WORK
    solver.parameters.max_time_in_seconds = max(0.1, time_limit)
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = int(seed)
    status = solver.solve(model)
    if status == cp_model.UNKNOWN and solver.wall_time >= 0.97 * max(0.1, time_limit):
        return "cut", None  # the clock, not the work budget, stopped it
    if status == cp_model.INFEASIBLE:
        return "no", None
    if status == cp_model.UNKNOWN:
        return "unknown", None  # the work budget ran out (deterministic)
    raise_for_status(status, solver="cp-sat", model="p-center cover", has_solution=True)
    return "yes", np.array(sorted(j for j, v in y.items() if solver.boolean_value(v)), dtype=np.int64)


def solve(problem: PCenterProblem, *, seed: int = 0, time_limit: float = 30.0) -> FacilitySolution:
    """Solve a p-center instance: a greedy upper bound, then a bisection of CP-SAT cover tests.

    Rows with weight 0 do not count; rows that no candidate reaches are listed in ``unserved`` and left out.
    ``time_limit`` is a safety cap: when it cuts the bisection, the solution is marked ``stopped_by_time``.

    Raises
    ------
    InfeasibleError
        ``p`` sites cannot reach every (reachable) row at all.
    """
    t0 = time.perf_counter()
    deadline = t0 + float(time_limit)
    C: np.ndarray = problem.cost
    m = C.shape[1]
    w: np.ndarray = problem.weights
    p = int(problem.p)
    cand: np.ndarray = problem.candidates
    fix: np.ndarray = problem.fixed
    unserved = unservable_rows(C, cand)
    warn_unserved(unserved, "p-center")
    rows = np.setdiff1d(np.flatnonzero(w > 0), unserved)
    timed_out = False
    W = np.where(np.isfinite(C), C * w[:, None], np.inf)
    Wr = W[rows]

    def value(cols: np.ndarray) -> float:
        return float(Wr[:, cols].min(axis=1).max()) if rows.size else 0.0

    # Greedy: repeatedly open the best site for the currently worst row.
    chosen = [int(j) for j in fix]
    if not chosen:
        chosen.append(int(cand[np.argmin(Wr[:, cand].max(axis=0))]) if rows.size else int(cand[0]))
    while len(chosen) < p:
        cur = Wr[:, chosen].min(axis=1)
        worst = int(np.argmax(cur))
        avail = cand[~np.isin(cand, chosen)]
        chosen.append(int(avail[np.argmin(Wr[worst, avail])]))
    best = np.array(sorted(chosen), dtype=np.int64)
    ub = value(best)
    if not rows.size:
        return FacilitySolution(
            best,
            cand[np.argmin(C[:, best], axis=1)] if m else best,
            0.0,
            True,
            time.perf_counter() - t0,
            0.0,
            "trivial",
            unserved,
        )
    lb = float(Wr[:, cand].min(axis=1).max())
    levels = np.unique(Wr[:, cand][np.isfinite(Wr[:, cand])])
    levels = levels[(levels >= lb) & (levels <= ub)]
    if not np.isfinite(ub):
        ok, cols = _cover_feasible(np.isfinite(W[rows]), p, cand, fix, deadline - time.perf_counter(), seed)
        timed_out |= ok == "cut"
        if ok == "no":
            raise InfeasibleError(
                f"{p} sites cannot reach every village (rows: {rows.size}).",
                zh=f"{p} 个点无法到达所有村庄 (行数 {rows.size})。",
            )
        if cols is None:
            raise SolverError(
                "p-center: no solution reaching every row within the time limit.",
                zh="p-center: 时限内未找到覆盖所有行的解。",
            )
        best, ub = cols, value(cols)
        levels = levels[levels <= ub]
    lo, hi = 0, int(np.searchsorted(levels, ub))  # levels[hi] == ub (feasible)
    proven = True
    while lo < hi:
        if time.perf_counter() >= deadline:
            proven, timed_out = False, True
            break
        mid = (lo + hi) // 2
        ok, cols = _cover_feasible(Wr <= levels[mid], p, cand, fix, deadline - time.perf_counter(), seed)
        if ok in ("unknown", "cut"):  # lo only ever moved on proofs, so levels[lo] stays a valid bound
            proven = False
            timed_out |= ok == "cut"
            break
        if ok == "yes" and cols is not None:
            best, hi = _fill(cols, p, cand, Wr), int(np.searchsorted(levels, value(_fill(cols, p, cand, Wr))))
        else:
            lo = mid + 1
    ub = value(best)
    lower = float(levels[lo]) if levels.size and lo < levels.size else ub
    if timed_out:
        log.warning("p-center: the time limit (%.3g s) cut the bisection short", float(time_limit))
    assign = best[np.argmin(np.where(np.isfinite(C[:, best]), C[:, best], np.inf), axis=1)]
    assign = assign.copy()
    assign[unserved] = -1
    return FacilitySolution(
        best,
        assign,
        ub,
        bool(proven and lower >= ub),
        time.perf_counter() - t0,
        lower,
        "greedy+cp-sat bisection",
        unserved,
        stopped_by_time=timed_out,
    )


def pcenter(
    cost: Any,
    p: int,
    *,
    weights: Any = None,
    candidates: Any = None,
    fixed: Any = None,
    seed: int = 0,
    time_limit: float = 30.0,
) -> FacilitySolution:
    """Choose ``p`` sites minimising the largest weighted cost of a row to its nearest open site.

    The one-call form of ``solve(PCenterProblem(cost, p, weights, candidates, fixed), ...)``.

    Raises
    ------
    InfeasibleError
        ``p`` sites cannot reach every (reachable) row at all.
    """
    problem = PCenterProblem(cost, p, weights=weights, candidates=candidates, fixed=fixed)
    return solve(problem, seed=seed, time_limit=time_limit)


def _fill(cols: np.ndarray, p: int, cand: np.ndarray, Wr: np.ndarray) -> np.ndarray:
    """Top a cover up to exactly p sites (extra sites never raise the maximum)."""
    chosen = [int(c) for c in cols]
    rest = [int(c) for c in cand if int(c) not in set(chosen)]
    while len(chosen) < p and rest:
        chosen.append(rest.pop(0))
    return np.array(sorted(chosen), dtype=np.int64)
