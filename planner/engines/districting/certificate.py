"""A certificate for a contiguous districting plan: a lower bound on the objective, or a proof of the optimum.

The objective is :class:`~planner.engines.districting.contiguous.DistrictingProblem`'s (residents' travel to
the centre, the soft travel-limit excess, compactness and balance). It is written once as a mixed-integer
model of the assignment form (Hess): ``x[i, j]`` = unit i served by a centre at unit j, ``y[j]`` = j is a
centre, ``r[j]`` the radius and ``dev[j]`` the residents off the mean of j's district; the size (R1) and
population (R2) bounds, the candidates, the townships and a hard travel limit are its constraints.

- :func:`lower_bound`: the linear relaxation of that model without contiguity (HiGHS through
  ``scipy.optimize.milp`` without integrality). Any relaxation bounds every plan from below; this one is cheap.
- :func:`solve`: the exact mode. The model as a MIP (HiGHS through ``scipy.optimize.milp``) without
  contiguity; each solution is checked, every piece of a district cut off from its centre adds the cut
  ``x[i, j] <= sum of x[v, j] over the piece's neighbours v`` for each unit i of the piece, and the model is
  solved again. A solution that is connected is optimal; else the last model's dual bound is a lower bound
  (every model solved is a relaxation of the contiguous problem). Counted limits (rounds of cuts, HiGHS's
  branch-and-bound nodes) make it deterministic; ``time_limit`` is a safety cap, marked when it cuts.

The relaxation is widened to the plan it certifies: when the plan breaks a size or population bound (geography
can force it) the bound is relaxed to the plan's own range, and a hard travel limit the plan breaks is dropped,
so the plan is a solution of the relaxed model and the bound is never above its objective. scipy's ``milp``
takes no starting solution: the heuristic's plan is the incumbent the exact mode compares with and keeps when
it is at least as good.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from planner.engines.districting.contiguous import DistrictingProblem, _final_figures
from planner.engines.districting.graph import EPS, DistrictSolution, canonical, components

log = logging.getLogger(__name__)

# Rounds of contiguity cuts in the exact mode and HiGHS's branch-and-bound nodes per round (counted limits).
EXACT_ROUNDS = 40
EXACT_NODES = 20_000
# The assignment model has n^2 columns and about 2 n^2 rows. Measured on 2 shared cores: the LP takes 0.1-0.7 s
# on the real regions (33, 66 villages) and 61 s on the synthetic 300-village county; above this size no bound
# is computed (method "none"), so a 5,000-village county stays in memory and on time
BOUND_MAX_UNITS = 400


@dataclass(frozen=True)
class Certificate:
    """How good a plan is: its objective, a lower bound on every plan's, and the gap between them.

    Attributes
    ----------
    objective
        The plan's objective (the model's; :func:`plan_objective`).
    lower_bound
        No plan under the same rules has a smaller objective; None when the solver gave no bound.
    method
        "lp" (linear relaxation without contiguity), "mip" (the exact mode's bound) or "none".
    proven_optimal
        The exact mode proved the plan optimal.
    stopped_by_time
        The ``time_limit`` safety cap cut the solver.
    seconds
        Wall time of the bound.
    rounds, cuts
        Rounds of contiguity cuts and cuts added (exact mode).
    """

    objective: float
    lower_bound: float | None
    method: str
    proven_optimal: bool = False
    stopped_by_time: bool = False
    seconds: float = 0.0
    rounds: int = 0
    cuts: int = 0

    @property
    def gap_pct(self) -> float | None:
        """100 (objective - bound) / objective; 0 when proven optimal, None without a bound."""
        if self.proven_optimal:
            return 0.0
        if self.lower_bound is None or self.objective <= 0:
            return None
        return max(0.0, 100.0 * (self.objective - self.lower_bound) / self.objective)

    def summary(self) -> dict[str, Any]:
        """The figures summary.json shows (rounded: objective and bound to 1 decimal, gap to 2)."""
        gap = self.gap_pct
        return {
            "objective": round(self.objective, 1),
            "lower_bound": None if self.lower_bound is None else round(self.lower_bound, 1),
            "gap_pct": None if gap is None else round(gap, 2),
            "bound_method": self.method,
            "bound_proven_optimal": self.proven_optimal,
            "bound_stopped_by_time": self.stopped_by_time,
            "bound_seconds": round(self.seconds, 2),
        }


def plan_objective(problem: DistrictingProblem, labels: np.ndarray) -> float:
    """The objective of a partition (district index per unit): the heuristic's and the exact mode's.

    Each district's centre is its best unit for the objective, balance is measured against the whole's mean
    residents per district.
    """
    labels = np.asarray(labels, dtype=np.int64)
    k = int(labels.max()) + 1
    obj, _breaks = _final_figures(problem, labels, [0] * k)
    return float(obj)


@dataclass(frozen=True)
class _Layout:
    """The model's columns: x (n*n, i*n+j), y (n), then r (n) and dev (n) when their weights are positive."""

    n: int
    k: int
    radius: bool
    balance: bool

    @property
    def y0(self) -> int:
        return self.n * self.n

    @property
    def r0(self) -> int:
        return self.y0 + self.n

    @property
    def d0(self) -> int:
        return self.r0 + (self.n if self.radius else 0)

    @property
    def size(self) -> int:
        return self.d0 + (self.n if self.balance else 0)


def _widened(problem: DistrictingProblem, labels: np.ndarray | None) -> tuple[int, int, float, float, bool]:
    """(min size, max size, pop low, pop high, hard limit kept): the rules, widened to the plan's own range."""
    mn, mx = problem.size_bounds
    lo, hi = problem.pop_bounds
    hard = problem.max_cost is not None and problem.max_cost_hard
    if labels is None:
        return mn, mx, lo, hi, hard
    sizes = np.bincount(labels)
    pops = np.bincount(labels, weights=problem.population)
    mn, mx = min(mn, int(sizes.min())), max(mx, int(sizes.max()))
    lo, hi = min(lo, float(pops.min())), max(hi, float(pops.max()))
    if hard:
        assert problem.max_cost is not None
        for d in range(len(sizes)):
            mem = np.flatnonzero(labels == d)
            sub = problem.cost[np.ix_(mem, mem)]
            if not (sub.max(axis=0) <= problem.max_cost + EPS).any():
                hard = False
    return mn, mx, lo, hi, hard


def _model(
    problem: DistrictingProblem, k: int, labels: np.ndarray | None
) -> tuple[_Layout, np.ndarray, sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray]:
    """(layout, cost vector, A, row lower, row upper, column upper) of the model without contiguity."""
    n = problem.n
    lay = _Layout(n, k, problem.compactness_weight > 0, problem.balance_weight > 0)
    mn, mx, lo, hi, hard = _widened(problem, labels)
    w, pop, cost = problem.weights, problem.population, problem.cost
    target = float(pop.sum()) / k
    c = np.zeros(lay.size)
    xc = w[:, None] * cost
    if problem.max_cost is not None and not problem.max_cost_hard:
        xc = xc + w[:, None] * np.maximum(cost - problem.max_cost, 0.0)
    c[: lay.y0] = xc.ravel()
    if lay.radius:
        c[lay.r0 : lay.r0 + n] = problem.compactness_weight * target
    if lay.balance:
        c[lay.d0 : lay.d0 + n] = problem.balance_weight * problem.unit_cost
    ub = np.full(lay.size, np.inf)
    ub[: lay.r0] = 1.0
    allowed = np.ones((n, n), dtype=bool)
    allowed[:, ~problem.candidate_mask] = False
    if problem.township is not None:
        tw = np.asarray(problem.township)
        allowed &= tw[:, None] == tw[None, :]
    if hard:
        assert problem.max_cost is not None
        allowed &= cost <= problem.max_cost + EPS
    ub[: lay.y0][~allowed.ravel()] = 0.0
    ub[lay.y0 : lay.r0][~problem.candidate_mask] = 0.0
    rows: list[sp.spmatrix] = []
    lows: list[np.ndarray] = []
    ups: list[np.ndarray] = []
    ii, jj = np.divmod(np.arange(n * n), n)
    xid = np.arange(n * n)

    def add(r: np.ndarray, col: np.ndarray, val: np.ndarray, nrows: int, low: Any, up: Any) -> None:
        rows.append(sp.csr_matrix((val, (r, col)), shape=(nrows, lay.size)))
        lows.append(np.broadcast_to(np.asarray(low, dtype=float), (nrows,)))
        ups.append(np.broadcast_to(np.asarray(up, dtype=float), (nrows,)))

    one = np.ones(n * n)
    add(ii, xid, one, n, 1.0, 1.0)  # every unit in one district
    # x[i, j] <= y[j]
    add(np.r_[xid, xid], np.r_[xid, lay.y0 + jj], np.r_[one, -one], n * n, -np.inf, 0.0)
    # the centre is in its district: x[j, j] >= y[j]
    dj = np.arange(n)
    add(np.r_[dj, dj], np.r_[dj * n + dj, lay.y0 + dj], np.r_[np.ones(n), -np.ones(n)], n, 0.0, np.inf)
    add(np.zeros(n, dtype=int), lay.y0 + dj, np.ones(n), 1, k, k)
    # sizes and residents: low y[j] <= sum_i a_i x[i, j] <= high y[j]
    for a, low, high in ((one, mn, mx), (np.repeat(pop, n), lo, hi)):
        if high < math.inf:
            add(np.r_[jj, dj], np.r_[xid, lay.y0 + dj], np.r_[a, -np.full(n, high)], n, -np.inf, 0.0)
        if low > 0:
            add(np.r_[jj, dj], np.r_[xid, lay.y0 + dj], np.r_[a, -np.full(n, low)], n, 0.0, np.inf)
    _add_locks(problem, add)
    if lay.radius:  # cost[i, j] x[i, j] <= r[j]
        keep = (cost.ravel() > 0) & allowed.ravel()
        m = int(keep.sum())
        rr = np.arange(m)
        add(
            np.r_[rr, rr],
            np.r_[xid[keep], lay.r0 + jj[keep]],
            np.r_[cost.ravel()[keep], -np.ones(m)],
            m,
            -np.inf,
            0.0,
        )
    if lay.radius and mn > 1:
        # a district of at least mn units reaches its mn-th nearest allowed unit: r[j] >= q[j] y[j]
        q = np.sort(np.where(allowed, cost, np.inf), axis=0)[min(mn, n) - 1]
        q = np.where(np.isfinite(q), q, 0.0)
        add(np.r_[dj, dj], np.r_[lay.y0 + dj, lay.r0 + dj], np.r_[q, -np.ones(n)], n, -np.inf, 0.0)
    if lay.balance:  # |sum_i pop_i x[i, j] - target y[j]| - tolerance target y[j] <= dev[j]
        pv = np.repeat(pop, n)
        band = problem.balance_tolerance * target
        for sign in (1.0, -1.0):
            add(
                np.r_[jj, dj, dj],
                np.r_[xid, lay.y0 + dj, lay.d0 + dj],
                np.r_[sign * pv, -np.full(n, sign * target + band), -np.ones(n)],
                n,
                -np.inf,
                0.0,
            )
    if lay.balance:
        _heavy_rows(pop, mn, target * (1.0 + problem.balance_tolerance), lay, add)
    a_mat = sp.vstack(rows).tocsr()
    return lay, c, a_mat, np.concatenate(lows), np.concatenate(ups), ub


def _heavy_rows(pop: np.ndarray, mn: int, top: float, lay: _Layout, add: Any) -> None:
    """dev[j] >= a_i x[i, j] for every unit i whose district must exceed the top of the balance band (the mean
    plus the tolerance): a_i = pop_i plus the mn - 1 smallest other populations, minus ``top``. Valid for integer
    plans (the district holding i has at least that many residents); the relaxation otherwise splits a heavy
    village over several districts and pays no balance for it."""
    n = lay.n
    first = np.argsort(pop, kind="stable")[: max(mn, 1)]
    for i in range(n):
        # the mn - 1 smallest populations other than i's own
        others = pop[[u for u in first if u != i][: max(mn - 1, 0)]]
        a = float(pop[i] + others.sum() - top)
        if a <= 0:
            continue
        dj = np.arange(n)
        rr = np.arange(n)
        add(np.r_[rr, rr], np.r_[i * n + dj, lay.d0 + dj], np.r_[np.full(n, a), -np.ones(n)], n, -np.inf, 0.0)


def _add_locks(problem: DistrictingProblem, add: Any) -> None:
    """Locked groups: one district each, whole (x[a, j] = x[b, j]), apart (x[a, j] + x[b, j] <= 1), and a
    fixed centre where given (x[a, centre] = 1)."""
    n = problem.n
    group = problem.group
    heads = []
    for g in sorted({int(v) for v in group if v >= 0}):
        mem = np.flatnonzero(group == g)
        heads.append(int(mem[0]))
        dj = np.arange(n)
        for b in mem[1:]:
            add(
                np.r_[dj, dj], np.r_[mem[0] * n + dj, b * n + dj], np.r_[np.ones(n), -np.ones(n)], n, 0.0, 0.0
            )
        fc = (problem.locked_centers or {}).get(g)
        if fc is not None:
            add(np.zeros(1, dtype=int), np.array([mem[0] * n + fc]), np.ones(1), 1, 1.0, 1.0)
    dj = np.arange(n)
    for a_i, a in enumerate(heads):
        for b in heads[a_i + 1 :]:
            add(np.r_[dj, dj], np.r_[a * n + dj, b * n + dj], np.ones(2 * n), n, -np.inf, 1.0)


def lower_bound(
    problem: DistrictingProblem,
    labels: np.ndarray,
    *,
    time_limit: float = 60.0,
) -> Certificate:
    """The linear relaxation's bound (no contiguity, no integrality) for the plan ``labels``.

    Parameters
    ----------
    problem
        The instance the plan was drawn on.
    labels
        District index per unit (the plan certified); its number of districts is the model's ``k``.
    time_limit
        Safety cap on HiGHS (seconds); when it cuts, no bound is given.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    t0 = time.monotonic()
    labels = np.asarray(labels, dtype=np.int64)
    k = int(labels.max()) + 1
    objective = plan_objective(problem, labels)
    if problem.n > BOUND_MAX_UNITS:
        log.info("district bound: %d units, above %d: no bound computed", problem.n, BOUND_MAX_UNITS)
        return Certificate(objective, None, "none", seconds=time.monotonic() - t0)
    lay, c, a_mat, bl, bu, ub = _model(problem, k, labels)
    res = milp(
        c,
        bounds=Bounds(np.zeros(lay.size), ub),
        constraints=[LinearConstraint(a_mat, bl, bu)],
        options={"time_limit": max(time_limit, 1.0)},
    )
    seconds = time.monotonic() - t0
    stopped = res.status == 1
    bound = float(res.fun) if res.status == 0 else None
    if bound is not None:
        bound = min(bound, objective)  # rounding of the solver's tolerances
    log.info(
        "district bound (LP): %s, objective %.1f, bound %s, %.1fs", res.message, objective, bound, seconds
    )
    return Certificate(objective, bound, "lp" if bound is not None else "none", False, stopped, seconds)


def _cut_rows(
    x: np.ndarray, n: int, nbrs: list[np.ndarray], centres: np.ndarray
) -> list[tuple[int, int, list[int]]]:
    """(i, j, separator) of every unit i in a piece of centre j's district that is cut off from j."""
    cuts: list[tuple[int, int, list[int]]] = []
    for j in centres:
        mem = np.flatnonzero(x[:, j] > 0.5).tolist()
        if len(mem) <= 1:
            continue
        for piece in components(nbrs, mem):
            if j in piece:
                continue
            pset = set(piece)
            sep = sorted({int(v) for u in piece for v in nbrs[u] if int(v) not in pset})
            cuts.extend((i, int(j), sep) for i in piece)
    return cuts


def solve(
    problem: DistrictingProblem,
    *,
    seed: int = 0,
    time_limit: float = 300.0,
    warm: np.ndarray | None = None,
    rounds: int = EXACT_ROUNDS,
    nodes: int = EXACT_NODES,
    extra: sp.csr_matrix | None = None,
) -> tuple[np.ndarray | None, Certificate]:
    """The exact mode: the MIP with contiguity cuts added round by round (module docstring).

    Parameters
    ----------
    problem
        The instance; its graph is the contiguity graph (townships cut).
    seed
        Kept for the seam (HiGHS runs deterministically here; its seed is fixed).
    time_limit
        Safety cap in seconds on the whole; the rounds and nodes are the counted limits.
    warm
        The heuristic's plan (district per unit): the incumbent, and the plan whose range widens the model.
    rounds, nodes
        Rounds of cuts; HiGHS's branch-and-bound nodes per round.
    extra
        Rows ``extra @ x <= 0`` valid for every connected plan, added from the first round (contiguity cuts
        known in advance).

    Returns
    -------
    (labels, certificate)
        The best connected plan (the MIP's when it beats ``warm``, else ``warm``) and its certificate.
    """
    import warnings

    from scipy.optimize import Bounds, LinearConstraint, milp

    del seed
    t0 = time.monotonic()
    k = problem.k if warm is None else int(np.asarray(warm).max()) + 1
    best = None if warm is None else np.asarray(warm, dtype=np.int64)
    best_obj = math.inf if best is None else plan_objective(problem, best)
    lay, c, a_mat, bl, bu, ub = _model(problem, k, best)
    n = problem.n
    integrality = np.zeros(lay.size)
    integrality[: lay.r0] = 1
    cut_rows: list[sp.csr_matrix] = [] if extra is None else [extra]
    bound: float | None = None
    proven = stopped = False
    done = cuts = 0
    while done < rounds:
        left = time_limit - (time.monotonic() - t0)
        if left <= 0:
            stopped = True
            break
        done += 1
        cons = [LinearConstraint(a_mat, bl, bu)]
        if cut_rows:
            cm = sp.vstack(cut_rows).tocsr()
            cons.append(LinearConstraint(cm, -np.inf, np.zeros(cm.shape[0])))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Unrecognized options", category=RuntimeWarning)
            res = milp(
                c,
                integrality=integrality,
                bounds=Bounds(np.zeros(lay.size), ub),
                constraints=cons,
                # the incumbent's objective prunes the search (HiGHS's objective_bound; scipy passes it on)
                options={"node_limit": nodes, "time_limit": left, **_cutoff(best_obj)},
            )
        rb = getattr(res, "mip_dual_bound", None)
        if rb is not None and np.isfinite(rb):
            bound = float(rb) if bound is None else max(bound, float(rb))
        if res.status == 2 and best is not None:
            # no plan of the relaxation beats the incumbent: it is optimal
            proven = True
            break
        if res.x is None:
            stopped |= time.monotonic() - t0 >= time_limit
            break
        x = res.x[: lay.y0].reshape(n, n)
        centres = np.flatnonzero(res.x[lay.y0 : lay.r0] > 0.5)
        new = _cut_rows(x, n, problem.neighbours, centres)
        if not new:
            lab = np.asarray(x[:, centres].argmax(axis=1), dtype=np.int64)
            obj = plan_objective(problem, lab)
            if obj <= best_obj + 1e-6 * max(1.0, abs(best_obj)):
                best, best_obj = lab, min(obj, best_obj)
            proven = res.status == 0
            if res.status != 0:
                stopped |= time.monotonic() - t0 >= time_limit
            break
        cuts += len(new)
        cut_rows.append(_cuts_matrix(new, n, lay.size))
    if proven and best is not None:
        bound = best_obj
    if bound is not None:
        bound = min(bound, best_obj)
    seconds = time.monotonic() - t0
    log.info(
        "district exact mode: %d rounds, %d cuts, objective %.1f, bound %s, proven %s, %.1fs",
        done,
        cuts,
        best_obj,
        bound,
        proven,
        seconds,
    )
    cert = Certificate(
        best_obj, bound, "mip" if bound is not None else "none", proven, stopped, seconds, done, cuts
    )
    return best, cert


def _cutoff(best_obj: float) -> dict[str, float]:
    """HiGHS's ``objective_bound`` just above the incumbent (no plan above it is of use)."""
    if not math.isfinite(best_obj):
        return {}
    return {"objective_bound": best_obj * (1.0 + 1e-7) + 1e-6}


def _cuts_matrix(cuts: list[tuple[int, int, list[int]]], n: int, size: int) -> sp.csr_matrix:
    """x[i, j] - sum_{v in separator} x[v, j] <= 0, one row per cut."""
    r, col, val = [], [], []
    for row, (i, j, sep) in enumerate(cuts):
        r.append(row)
        col.append(i * n + j)
        val.append(1.0)
        for v in sep:
            r.append(row)
            col.append(v * n + j)
            val.append(-1.0)
    return sp.csr_matrix((val, (r, col)), shape=(len(cuts), size))


def solution_of(problem: DistrictingProblem, labels: np.ndarray, *, seconds: float = 0.0) -> DistrictSolution:
    """The :class:`DistrictSolution` of a partition: canonical numbering, each district's best centre for the
    objective, the objective and the bounds it breaks (as the heuristic reports its own plan)."""
    labels = np.asarray(labels, dtype=np.int64)
    k = int(labels.max()) + 1
    model = problem.model(float(problem.population.sum()) / k)
    group = problem.group
    centres = []
    for d in range(k):
        mem = np.flatnonzero(labels == d)
        g = {int(group[u]) for u in mem if group[u] >= 0}
        centres.append(model.terms(mem.tolist(), next(iter(g)) if len(g) == 1 else -1)[2])
    labels, centres = canonical(labels, centres)
    objective, breaks = _final_figures(problem, labels, centres)
    return DistrictSolution(
        labels, np.array(centres, dtype=np.int64), float(objective), tuple(breaks), False, seconds
    )


def certify(
    problem: DistrictingProblem,
    plan: DistrictSolution,
    *,
    exact: bool = False,
    seed: int = 0,
    time_limit: float = 300.0,
) -> tuple[DistrictSolution, Certificate]:
    """The certificate of ``plan`` (the LP bound), or with ``exact`` the exact mode's plan and certificate.

    With ``exact`` the MIP's plan replaces ``plan`` only when its objective is lower; the certificate is then
    that plan's. The LP bound is also kept when the exact mode's own bound is weaker (the better bound wins).
    """
    lp = lower_bound(problem, plan.labels, time_limit=time_limit)
    if not exact or problem.n > BOUND_MAX_UNITS:
        return plan, lp
    left = max(1.0, time_limit - lp.seconds)
    labels, cert = solve(problem, seed=seed, time_limit=left, warm=plan.labels)
    out = plan
    if labels is not None and cert.objective < plan.objective - 1e-6 * max(1.0, abs(plan.objective)):
        out = solution_of(problem, labels, seconds=plan.seconds + cert.seconds)
    bound = cert.lower_bound
    method = cert.method
    if lp.lower_bound is not None and (bound is None or lp.lower_bound > bound):
        bound, method = lp.lower_bound, "lp"
    if bound is not None:
        bound = min(bound, out.objective)
    return out, Certificate(
        out.objective,
        bound,
        method,
        cert.proven_optimal,
        cert.stopped_by_time,
        lp.seconds + cert.seconds,
        cert.rounds,
        cert.cuts,
    )
