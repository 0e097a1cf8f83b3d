"""A certificate of the residents' travel alone: how far a plan's resident-minutes are from the best possible.

The district objective (:mod:`.certificate`) adds balance and compactness terms to the residents' travel; those
are soft preferences and the linear relaxation bounds them weakly, so its gap says little. This module certifies
the travel alone: the plan's resident-minutes (sum of residents times minutes to their own office, the offices
as delivered) against a lower bound on the resident-minutes of *every* plan with the same number of districts
under the hard rules only (sizes, residents per district, candidates, townships, locks, a hard travel limit),
without the balance and compactness terms and without the soft limit's excess.

- The bound (always, up to :data:`~.certificate.BOUND_MAX_UNITS` units): the linear relaxation of the
  p-median assignment model with those bounds, without contiguity (HiGHS), :func:`bound`.
- Where affordable (at most :data:`EXACT_MAX_UNITS` units): the same model as a MIP with contiguity cuts
  (:func:`.certificate.solve` on the travel-only problem, counted limits: :data:`ROUNDS` rounds of at most
  :data:`NODES` nodes): a connected solution is the optimum of the travel alone, and the plan that reaches it is
  returned so its spread of residents can be shown beside the plan's.

The plan's figure must be measured on the same cost as the bound: :func:`resident_minutes` uses the problem's
``cost[i, office]`` (unit -> office, unreachable pairs filled as the district stage fills them) and ``weights``.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from planner.engines.districting.certificate import BOUND_MAX_UNITS, _model, solve
from planner.engines.districting.contiguous import DistrictingProblem
from planner.engines.districting.graph import is_connected

log = logging.getLogger(__name__)

# The MIP of the travel alone runs up to this many units (Liechtenstein has 33 villages, the demo 66); above it
# only the LP bound is computed, so a larger county's district stage stays fast (an 88-village county with
# estimated times, a complete graph, spent minutes in the MIP's 2 x 1,000 nodes at 100).
EXACT_MAX_UNITS = 70
# Safety cap (seconds) on the default plan's certificate; the plan itself does not depend on it, only the
# bound it reports (marked stopped_by_time when it cuts)
DEFAULT_CAP_S = 60.0
# Counted limits of the MIP: rounds of contiguity cuts and HiGHS's branch-and-bound nodes per round
ROUNDS = 2
NODES = 1_000


@dataclass(frozen=True, eq=False)
class TravelCertificate:
    """A lower bound on the resident-minutes of every plan under the hard rules, with the number of districts.

    Attributes
    ----------
    bound
        No plan with ``k`` districts under the hard rules has fewer resident-minutes; None without a bound.
    method
        "lp" (linear relaxation, no contiguity), "mip" (MIP with contiguity cuts) or "none".
    proven_optimal
        ``bound`` is the optimum: the MIP found a connected plan of that many resident-minutes.
    best_labels
        The plan of least resident-minutes the MIP found (district per unit), or None.
    stopped_by_time, seconds, rounds, cuts
        The safety cap cut the solver; wall time; rounds of cuts and cuts added (MIP).
    """

    bound: float | None
    method: str
    proven_optimal: bool = False
    best_labels: np.ndarray | None = None
    stopped_by_time: bool = False
    seconds: float = 0.0
    rounds: int = 0
    cuts: int = 0

    def summary(self, delivered: float | None, population: np.ndarray | None = None) -> dict[str, Any]:
        """summary.json's figures: the plan's resident-minutes ``delivered``, the bound, the gap (100 x
        (delivered - bound) / delivered) and, when the MIP found the plan of least resident-minutes, the
        spread of residents (cv) of that plan (``population`` per unit is needed for it)."""
        gap = None
        if delivered is not None and self.bound is not None and delivered > 0:
            gap = max(0.0, 100.0 * (delivered - self.bound) / delivered)
        out: dict[str, Any] = {
            "resident_minutes": None if delivered is None else round(delivered, 1),
            "resident_minutes_bound": None if self.bound is None else round(self.bound, 1),
            "resident_minutes_gap_pct": None if gap is None else round(gap, 2),
            "resident_minutes_bound_method": self.method,
            "resident_minutes_proven": self.proven_optimal,
            "resident_minutes_stopped_by_time": self.stopped_by_time,
            "resident_minutes_seconds": round(self.seconds, 2),
            "resident_minutes_best_cv": None,
        }
        if self.best_labels is not None and population is not None:
            out["resident_minutes_best_cv"] = round(spread(population, self.best_labels), 4)
        return out


def spread(population: np.ndarray, labels: np.ndarray) -> float:
    """Coefficient of variation of the residents per district."""
    pops = np.bincount(np.asarray(labels, dtype=np.int64), weights=np.asarray(population, dtype=float))
    return float(pops.std() / pops.mean()) if len(pops) and pops.mean() > 0 else 0.0


def off_balance(population: np.ndarray, labels: np.ndarray, tolerance: float) -> tuple[float, int]:
    """(mean residents per district, districts beyond the balance band): the districts more than ``tolerance``
    (a share of that mean) above or below it, the ones that pay the objective's balance term."""
    pops = np.bincount(np.asarray(labels, dtype=np.int64), weights=np.asarray(population, dtype=float))
    if not len(pops):
        return 0.0, 0
    mean = float(pops.mean())
    return mean, int((np.abs(pops - mean) > tolerance * mean + 1e-9).sum())


def travel_problem(problem: DistrictingProblem) -> DistrictingProblem:
    """The same instance with the travel alone: no balance, no compactness, no soft limit (a hard one stays)."""
    soft = problem.max_cost is not None and not problem.max_cost_hard
    return dataclasses.replace(
        problem,
        balance_weight=0.0,
        compactness_weight=0.0,
        max_cost=None if soft else problem.max_cost,
        max_cost_hard=False if soft else problem.max_cost_hard,
    )


def resident_minutes(problem: DistrictingProblem, labels: np.ndarray, offices: Any) -> float:
    """Sum over units of weight x ``cost[unit, office of its district]`` (``offices[d]``: district d's unit)."""
    labels = np.asarray(labels, dtype=np.int64)
    site = np.asarray(offices, dtype=np.int64)[labels]
    return float(problem.weights @ problem.cost[np.arange(problem.n), site])


def connected(problem: DistrictingProblem, labels: np.ndarray) -> bool:
    """Every district of ``labels`` is one piece of the problem's graph."""
    return all(
        is_connected(np.flatnonzero(labels == d).tolist(), problem.neighbours)
        for d in range(labels.max() + 1)
    )


def neighbour_cuts(problem: DistrictingProblem, size: int) -> sp.csr_matrix:
    """``x[i, j] <= sum of x[v, j]`` over i's neighbours v, for every unit i not a neighbour of j: the district
    of a centre j holding i is connected, so it holds a neighbour of i (valid for every connected plan; the
    relaxation without it lets far hamlets join any centre)."""
    n = problem.n
    r: list[int] = []
    col: list[int] = []
    val: list[float] = []
    row = 0
    for i in range(n):
        nb = [int(v) for v in problem.neighbours[i]]
        near = set(nb) | {i}
        for j in range(n):
            if j in near:
                continue
            r.extend([row] * (len(nb) + 1))
            col.append(i * n + j)
            col.extend(v * n + j for v in nb)
            val.append(1.0)
            val.extend([-1.0] * len(nb))
            row += 1
    return sp.csr_matrix((val, (r, col)), shape=(row, size))


def heavy_rows(problem: DistrictingProblem, labels: np.ndarray, size: int) -> sp.csr_matrix | None:
    """R2 widened only where a heavy village forces it: ``sum_i pop_i x[i, j] <= cap y[j] + sum_h (top - cap)
    x[h, j]`` over the villages h heavier than the cap alone, ``top`` the plan's largest district.

    The model is otherwise widened to the plan's range for every district (:func:`.certificate._widened`), which
    on a county with one town over the cap lets every district hold the town's residents. Valid for every plan
    whose districts over the cap each hold a heavy village and stay within ``top``; None when ``labels`` is not
    such a plan (or no district is over the cap)."""
    cap = problem.pop_bounds[1]
    pop = problem.population
    pops = np.bincount(labels, weights=pop)
    if not np.isfinite(cap) or pops.max() <= cap:
        return None
    heavy = pop > cap
    over = np.flatnonzero(pops > cap)
    if not all(heavy[labels == d].any() for d in over):
        return None
    n, top = problem.n, float(pops.max())
    rows, cols, vals = [], [], []
    for j in range(n):
        rows.extend([j] * (n + 1))
        cols.extend([i * n + j for i in range(n)] + [n * n + j])
        vals.extend([*np.where(heavy, pop - (top - cap), pop).tolist(), -cap])
    return sp.csr_matrix((vals, (rows, cols)), shape=(n, size))


def _rows(problem: DistrictingProblem, labels: np.ndarray, size: int) -> sp.csr_matrix | None:
    """The rows ``@ x <= 0`` the travel's model adds: the neighbour cuts (a connected plan) and R2's heavy rows."""
    parts = [m for m in (heavy_rows(problem, labels, size),) if m is not None]
    if connected(problem, labels):  # else the plan itself breaks the cuts: the bound covers it without them
        parts.append(neighbour_cuts(problem, size))
    return sp.vstack(parts).tocsr() if parts else None


def bound(problem: DistrictingProblem, labels: np.ndarray, *, time_limit: float = 60.0) -> TravelCertificate:
    """The LP bound on the travel alone (no contiguity, no integrality), the rules widened to ``labels``' range."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    t0 = time.monotonic()
    labels = np.asarray(labels, dtype=np.int64)
    if problem.n > BOUND_MAX_UNITS:
        return TravelCertificate(None, "none", seconds=time.monotonic() - t0)
    tp = travel_problem(problem)
    lay, c, a_mat, bl, bu, ub = _model(tp, int(labels.max()) + 1, labels)
    cons = [LinearConstraint(a_mat, bl, bu)]
    extra = _rows(tp, labels, lay.size)
    if extra is not None:
        cons.append(LinearConstraint(extra, -np.inf, np.zeros(extra.shape[0])))
    res = milp(
        c,
        bounds=Bounds(np.zeros(lay.size), ub),
        constraints=cons,
        options={"time_limit": max(time_limit, 1.0)},
    )
    seconds = time.monotonic() - t0
    value = float(res.fun) if res.status == 0 else None
    log.info("resident-minutes bound (LP): %s, bound %s, %.1fs", res.message, value, seconds)
    return TravelCertificate(
        value, "lp" if value is not None else "none", stopped_by_time=res.status == 1, seconds=seconds
    )


def certify_travel(
    problem: DistrictingProblem,
    labels: np.ndarray,
    *,
    exact: bool | None = None,
    seed: int = 0,
    time_limit: float = 60.0,
    rounds: int = ROUNDS,
    nodes: int = NODES,
) -> TravelCertificate:
    """The bound on the travel alone for the plan ``labels``: the LP, and the MIP where affordable.

    Parameters
    ----------
    problem
        The instance the plan was drawn on (its weights and balance terms are dropped here).
    labels
        District index per unit; its number of districts is the model's.
    exact
        Run the MIP with contiguity cuts; default: when the instance has at most :data:`EXACT_MAX_UNITS` units.
    seed
        Passed to the MIP's seam.
    time_limit
        Safety cap in seconds on the whole (marked when it cuts); rounds and nodes are the counted limits.
    """
    labels = np.asarray(labels, dtype=np.int64)
    lp = bound(problem, labels, time_limit=time_limit)
    run_mip = problem.n <= EXACT_MAX_UNITS if exact is None else exact
    if not run_mip or problem.n > BOUND_MAX_UNITS or not connected(problem, labels):
        return lp
    tp = travel_problem(problem)
    left = max(1.0, time_limit - lp.seconds)
    lay = _model(tp, int(labels.max()) + 1, labels)[0]
    best, cert = solve(
        tp,
        seed=seed,
        time_limit=left,
        warm=labels,
        rounds=rounds,
        nodes=nodes,
        extra=_rows(tp, labels, lay.size),
    )
    value, method = cert.lower_bound, cert.method
    if lp.bound is not None and (value is None or lp.bound > value):
        value, method = lp.bound, "lp"
    return TravelCertificate(
        value,
        method,
        cert.proven_optimal,
        best if cert.proven_optimal else None,
        cert.stopped_by_time or lp.stopped_by_time,
        lp.seconds + cert.seconds,
        cert.rounds,
        cert.cuts,
    )
