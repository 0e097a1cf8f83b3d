"""The maximal covering model: ``p`` sites maximising the weight of the rows within a radius of an open site.

A greedy start hints a MIP (SCIP through OR-Tools: y binary, coverage z continuous in [0, 1]), which runs with
one thread and a node limit (deterministic); ``time_limit`` is a safety cap. The seam:
:class:`CoveringProblem` -> :func:`solve` -> :class:`FacilitySolution`; :func:`max_covering` is the one-call
form.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from planner.engines.facility.common import (
    MIP_NODE_LIMIT,
    FacilitySolution,
    as_cost,
    as_weights,
    clock_cut,
    mip_solver,
    raise_for_status,
    select_columns,
)
from planner.errors import ValidationError

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class CoveringProblem:
    """A maximal covering instance, validated on construction.

    Attributes
    ----------
    cost
        (n, m) matrix, ``inf`` where a site cannot reach a row; stored as float64.
    weights
        Per-row weight (residents); stored as an (n,) float64 array.
    p
        Number of sites to open.
    radius
        A row is covered when an open site is within this cost of it.
    candidates, fixed
        Columns allowed as sites, columns that must be open; stored as sorted column indices.

    Raises
    ------
    ValidationError
        Bad shapes or values, or a negative radius.
    InfeasibleError
        ``p`` larger than the candidate count, or more fixed sites than ``p``.
    """

    cost: Any
    weights: Any
    p: int
    radius: float
    candidates: Any = None
    fixed: Any = None

    def __post_init__(self) -> None:
        cost = as_cost(self.cost)
        n, m = cost.shape
        weights = as_weights(self.weights, n)
        cand, fix = select_columns(m, self.p, self.candidates, self.fixed)
        radius = self.radius
        if not (isinstance(radius, (int, float, np.floating, np.integer)) and radius >= 0):
            raise ValidationError(
                f"radius must be a number >= 0, got {radius!r}.",
                zh=f"半径必须是 >= 0 的数, 实际为 {radius!r}。",
            )
        object.__setattr__(self, "cost", cost)
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "candidates", cand)
        object.__setattr__(self, "fixed", fix)


def _greedy_cover(cover: np.ndarray, w: np.ndarray, p: int, cand: np.ndarray, fix: np.ndarray) -> np.ndarray:
    """Greedy start: add the site that covers most still-uncovered weight (ties: the lowest column)."""
    n = cover.shape[0]
    chosen = [int(j) for j in fix]
    covered = np.zeros(n, dtype=bool)
    if chosen:
        covered |= cover[:, chosen].any(axis=1)
    free = np.setdiff1d(cand, fix)
    while len(chosen) < p:
        avail = free[~np.isin(free, chosen)]
        gains = (w[:, None] * (cover[:, avail] & ~covered[:, None])).sum(axis=0)
        j = int(avail[int(np.argmax(gains))])
        chosen.append(j)
        covered |= cover[:, j]
    return np.array(sorted(chosen), dtype=np.int64)


def _covering_mip(
    cover: np.ndarray,
    w: np.ndarray,
    p: int,
    cand: np.ndarray,
    fix: np.ndarray,
    hint: np.ndarray,
    *,
    seed: int,
    time_limit: float,
) -> tuple[np.ndarray, bool, float, bool]:
    """The covering MIP with SCIP, hinted with ``hint``: (columns, proven, SCIP's bound, clock cut it)."""
    n = cover.shape[0]
    solver = mip_solver("SCIP")
    solver.SetSolverSpecificParametersAsString(
        f"limits/nodes = {MIP_NODE_LIMIT}\nrandomization/randomseedshift = {int(seed)}\n"
    )
    y = {int(j): solver.BoolVar(f"y{j}") for j in cand}
    obj = solver.Objective()
    for i in range(n):
        sites = [y[int(j)] for j in cand if cover[i, j]]
        if not sites or w[i] == 0:
            continue
        z = solver.NumVar(0.0, 1.0, f"z{i}")
        solver.Add(z <= solver.Sum(sites))
        obj.SetCoefficient(z, float(w[i]))
    solver.Add(solver.Sum(list(y.values())) == p)
    for j in fix:
        solver.Add(y[int(j)] == 1)
    obj.SetMaximization()
    gset = set(hint.tolist())
    solver.SetHint(list(y.values()), [1.0 if j in gset else 0.0 for j in y])
    solver.SetTimeLimit(max(1, int(time_limit * 1000)))
    t_solve = time.perf_counter()
    status = solver.Solve()
    timed_out = clock_cut(status, time.perf_counter() - t_solve, time_limit)
    proven = raise_for_status(status, solver="mip", model="maximal covering", has_solution=status in (0, 1))
    cols = np.array(sorted(j for j, v in y.items() if v.solution_value() > 0.5), dtype=np.int64)
    return cols, proven, float(obj.BestBound()), timed_out


def solve(problem: CoveringProblem, *, seed: int = 0, time_limit: float = 30.0) -> FacilitySolution:
    """Solve a maximal covering instance: greedy start, then the MIP hinted with it.

    Every row is assigned to its nearest open site; ``unserved`` lists the rows outside the radius.
    ``objective`` is the covered weight; ``lower_bound`` holds the solver's upper bound on it. When
    ``time_limit`` (a safety cap) cuts the solve, the solution is marked ``stopped_by_time``.
    """
    t0 = time.perf_counter()
    C: np.ndarray = problem.cost
    w: np.ndarray = problem.weights
    p = int(problem.p)
    cover = np.less_equal(C, problem.radius)  # inf never covers
    greedy_cols = _greedy_cover(cover, w, p, problem.candidates, problem.fixed)
    greedy_obj = float(w[cover[:, greedy_cols].any(axis=1)].sum())
    mip_limit = max(0.5, float(time_limit) - (time.perf_counter() - t0))
    cols, proven, bound, timed_out = _covering_mip(
        cover, w, p, problem.candidates, problem.fixed, greedy_cols, seed=seed, time_limit=mip_limit
    )
    if timed_out:
        log.warning("maximal covering: the time limit (%.3g s) cut the MIP short", float(time_limit))
    value = float(w[cover[:, cols].any(axis=1)].sum()) if cols.size == p else -1.0
    method = "greedy+mip"
    if value < greedy_obj:
        cols, value, proven, method = greedy_cols, greedy_obj, False, "greedy"
    proven = proven or value >= bound - 1e-6 * max(1.0, abs(bound))
    assign = cols[np.argmin(C[:, cols], axis=1)]
    outside = np.flatnonzero(~cover[:, cols].any(axis=1))
    return FacilitySolution(
        cols,
        assign,
        value,
        bool(proven),
        time.perf_counter() - t0,
        bound,
        method,
        outside,
        stopped_by_time=timed_out,
    )


def max_covering(
    cost: Any,
    weights: Any,
    p: int,
    *,
    radius: float,
    candidates: Any = None,
    fixed: Any = None,
    seed: int = 0,
    time_limit: float = 30.0,
) -> FacilitySolution:
    """Choose ``p`` sites maximising the weight of the rows within ``radius`` of an open site.

    The one-call form of ``solve(CoveringProblem(cost, weights, p, radius, candidates, fixed), ...)``.
    """
    problem = CoveringProblem(cost, weights, p, radius, candidates=candidates, fixed=fixed)
    return solve(problem, seed=seed, time_limit=time_limit)
