"""The capacitated p-median (CPMP) with single-source assignment: every row goes whole to one open site.

Four stages. (1) Location-allocation from the uncapacitated p-median (single-source assignment by regret with
shift and swap moves, re-centring of each cluster). (2) A Lagrangian relaxation of the assignment constraints
with LP-knapsack subproblems (:func:`_cpmp_lagrangian`): a lower bound, and capacity-aware median sets; the
``_LAG_SETS`` best are polished by location-allocation. (3) A MIP of the whole problem (SCIP, one thread,
x <= y) hinted with the best plan, which runs until it proves optimality or has explored ``max_nodes`` nodes;
only when every arc is kept or the kept arcs number at most ``_MIP_ARCS`` (beyond that its root costs more
than a 30 s budget). (4) Unless optimality is proven, a matheuristic
(:func:`planner.engines.facility.capacitated_lns._cluster_lns`): groups of 2-3 neighbouring clusters re-solved
exactly as small CPMPs, plus relocation moves that shift a site from one area to another. Every stage stops on
counts or deterministic work, so the same seed gives the same plan; ``time_limit`` is a safety cap, and when
it cuts a stage the solution is marked ``stopped_by_time`` and a warning is logged.

The seam: :class:`CapacitatedProblem` -> :func:`solve` -> :class:`FacilitySolution`; :func:`capacitated_pmedian`
is the one-call form.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from planner.engines.facility.capacitated_lns import LNS_SOLVES, _cluster_lns
from planner.engines.facility.common import (
    FacilitySolution,
    as_cost,
    as_weights,
    clock_cut,
    mip_solver,
    raise_for_status,
    select_columns,
)
from planner.engines.facility.median import pmedian
from planner.errors import InfeasibleError, SolverError, ValidationError

log = logging.getLogger(__name__)

_LA_ROUNDS = 10  # location-allocation rounds (assignment, re-centre) at most
_LNS_STARTS = 4  # starting plans for the matheuristic at most
_MIP_ARCS = 9_500  # the whole-model MIP runs only up to this many arcs (or when every arc is kept)
_LAG_ITERS = 300  # subgradient iterations of the CPMP Lagrangian
_LAG_STALL = 20  # iterations without a better bound before the step halves
_LAG_SETS = 8  # median sets from the Lagrangian that get a full assignment
_FULL_MODEL_CELLS = 5_000  # up to this many rows x candidates the whole-model MIP keeps every arc

# A plan: open columns, the column of every row, its cost.
Plan = tuple[np.ndarray, np.ndarray, float]


@dataclass(frozen=True, eq=False)
class CapacitatedProblem:
    """A capacitated p-median instance, validated on construction.

    Attributes
    ----------
    cost
        (n, m) matrix of assignment costs (``inf``: not allowed); stored as float64.
    demand
        Per-row demand (residents); stored as an (n,) float64 array.
    capacity
        One capacity for every site, or one per column; stored as an (m,) float64 array.
    p
        Number of sites to open.
    candidates
        Boolean mask or index list of the columns allowed as sites; stored as sorted column indices.

    Raises
    ------
    ValidationError
        Bad shapes or values.
    InfeasibleError
        Total capacity of the p largest sites below the total demand, or a row that fits no reachable site.
    """

    cost: Any
    demand: Any
    capacity: Any
    p: int
    candidates: Any = None

    def __post_init__(self) -> None:
        cost = as_cost(self.cost)
        n, m = cost.shape
        demand = as_weights(self.demand, n, "demand")
        capacity = _as_capacity(self.capacity, m)
        cand, _ = select_columns(m, self.p, self.candidates, None)
        _check_capacity(cost, demand, capacity, self.p, cand)
        object.__setattr__(self, "cost", cost)
        object.__setattr__(self, "demand", demand)
        object.__setattr__(self, "capacity", capacity)
        object.__setattr__(self, "candidates", cand)


def _as_capacity(capacity: Any, m: int) -> np.ndarray:
    cap = np.asarray(capacity, dtype=np.float64)
    cap = np.full(m, float(cap)) if cap.ndim == 0 else cap.reshape(-1)
    if cap.shape != (m,):
        raise ValidationError(
            f"capacity has {cap.size} values, the cost matrix has {m} columns.",
            zh=f"容量有 {cap.size} 个值, 成本矩阵有 {m} 列。",
        )
    if not np.isfinite(cap).all() or (cap < 0).any():
        raise ValidationError("capacity must be finite and >= 0.", zh="容量必须为有限的非负数。")
    return cap


def _check_capacity(C: np.ndarray, d: np.ndarray, cap: np.ndarray, p: int, cand: np.ndarray) -> None:
    """Raise InfeasibleError with the numbers when no choice of p sites can hold the demand."""
    cap_c = np.sort(cap[cand])[::-1]
    total_cap = float(cap_c[:p].sum())
    total_d = float(d.sum())
    if total_cap < total_d:
        raise InfeasibleError(
            f"capacity cannot hold the demand: the {p} largest sites hold {total_cap:g}, the demand is "
            f"{total_d:g} (short by {total_d - total_cap:g}).",
            zh=f"容量不足: 最大的 {p} 个点共可容纳 {total_cap:g}, 需求为 {total_d:g} (缺 {total_d - total_cap:g})。",
        )
    fits = (cap[None, cand] >= d[:, None]) & np.isfinite(C[:, cand])
    bad = np.flatnonzero(~fits.any(axis=1) & (d > 0))
    if bad.size:
        raise InfeasibleError(
            f"{bad.size} rows fit no reachable site (rows {bad[:10].tolist()}, demand {d[bad[:10]].tolist()}, "
            f"largest capacity {float(cap[cand].max()):g}).",
            zh=f"{bad.size} 行没有可达且容量足够的点 (行 {bad[:10].tolist()}, 需求 {d[bad[:10]].tolist()}, "
            f"最大容量 {float(cap[cand].max()):g})。",
        )


def _regret_assign(C: np.ndarray, d: np.ndarray, cap: np.ndarray, cols: np.ndarray) -> np.ndarray | None:
    """Single-source assignment to ``cols`` by regret, then shift and swap moves; None when it gets stuck.

    Regret greedy (Martello & Toth style): repeatedly assign the customer whose best and second-best sites
    with room differ most (a customer with one site left first), larger demand first on ties. Then passes of
    shifts (a customer to a cheaper site with room) and swaps (two customers trade sites) until none
    improves, at most 20 passes. Pure numpy, deterministic, milliseconds for a few hundred customers.
    """
    sub = C[:, cols]
    n, k = sub.shape
    room = cap[cols].astype(np.float64).copy()
    local = np.full(n, -1, dtype=np.int64)
    todo = np.ones(n, dtype=bool)
    dynamic = n * n * k <= 50_000_000
    static_order: list[int] = []
    if not dynamic:
        two = np.partition(sub, 1, axis=1)[:, :2] if k > 1 else np.zeros((n, 2))
        static_order = np.lexsort((-d, -(two[:, 1] - two[:, 0]))).tolist()
    for step in range(n):
        if dynamic:
            rows = np.flatnonzero(todo)
            fit = np.where(room[None, :] >= d[rows, None], sub[rows], np.inf)
            if k > 1:
                two = np.partition(fit, 1, axis=1)[:, :2]
                regret = np.where(np.isfinite(two[:, 1]), two[:, 1] - two[:, 0], np.inf)
            else:
                regret = np.zeros(rows.size)
            if not np.isfinite(fit.min(axis=1)).all():
                return None
            pick = np.lexsort((rows, -d[rows], -regret))[0]
            i = int(rows[pick])
            j = int(np.argmin(fit[pick]))
        else:
            i = static_order[step]
            fit = np.where(room >= d[i], sub[i], np.inf)
            j = int(np.argmin(fit))
            if not np.isfinite(fit[j]):
                return None
        local[i] = j
        room[j] -= d[i]
        todo[i] = False
    tol = 1e-9
    for _ in range(20):
        improved = False
        for i in range(n):  # shifts
            a = local[i]
            gain = sub[i, a] - np.where(room >= d[i], sub[i], np.inf)
            gain[a] = 0.0
            b = int(np.argmax(gain))
            if gain[b] > tol:
                local[i] = b
                room[a] += d[i]
                room[b] -= d[i]
                improved = True
        rows = np.arange(n)
        for i in range(n):  # swaps
            a = local[i]
            other = local  # the site of every other customer j
            delta = sub[i, other] + sub[rows, a] - sub[i, a] - sub[rows, other]
            ok = (other != a) & (room[other] + d - d[i] >= 0) & (room[a] + d[i] - d >= 0)
            delta = np.where(ok, delta, np.inf)
            j = int(np.argmin(delta))
            if delta[j] < -tol:
                bj = int(local[j])
                room[a] += d[i] - d[j]
                room[bj] += d[j] - d[i]
                local[i], local[j] = bj, a
                improved = True
        if not improved:
            break
    return cols[local]


def _recentre(
    C: np.ndarray, d: np.ndarray, cap: np.ndarray, cand: np.ndarray, cols: np.ndarray, assign: np.ndarray
) -> np.ndarray:
    """Move each open site to the member column of least total cost to its cluster that can hold it."""
    new_cols: list[int] = []
    for j in cols:
        members = np.flatnonzero(assign == j)
        load = float(d[members].sum())
        options = cand[(cap[cand] >= load)]
        totals = C[np.ix_(members, options)].sum(axis=0)
        for c in np.argsort(totals, kind="stable"):
            if int(options[c]) not in new_cols:
                new_cols.append(int(options[c]))
                break
        else:  # no member site can hold the cluster: keep the site (or, if taken, the first free candidate)
            free = [int(c) for c in cand if int(c) not in new_cols and int(c) not in set(cols.tolist())]
            new_cols.append(int(j) if int(j) not in new_cols or not free else free[0])
    return np.array(sorted(new_cols), dtype=np.int64)


def _quick_la(
    C: np.ndarray,
    d: np.ndarray,
    cap: np.ndarray,
    cand: np.ndarray,
    cols: np.ndarray,
    deadline: float = math.inf,
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Location-allocation from ``cols`` with the regret assignment only: (sites, assignment, cost) or None.

    At most ``_LA_ROUNDS`` rounds; past ``deadline`` (the safety cap) no new round starts.
    """
    n = C.shape[0]
    best: tuple[np.ndarray, np.ndarray, float] | None = None
    for _ in range(_LA_ROUNDS):
        if best is not None and time.perf_counter() >= deadline:
            break
        assign = _regret_assign(C, d, cap, cols)
        if assign is None:
            break
        obj = float(C[np.arange(n), assign].sum())
        if best is not None and obj >= best[2] - 1e-9:
            break
        best = (cols, assign, obj)
        cols = _recentre(C, d, cap, cand, cols, assign)
    return best


def _cpmp_lagrangian(
    C: np.ndarray,
    d: np.ndarray,
    cap: np.ndarray,
    p: int,
    cand: np.ndarray,
    upper: float,
    *,
    deadline: float,
) -> tuple[list[np.ndarray], float, bool]:
    """Median sets from a Lagrangian relaxation of the CPMP's assignment constraints (Lorena & Senne style).

    Relaxing ``sum_j x_ij = 1`` with multipliers ``lam`` leaves, for each site j, a knapsack
    ``min sum_i (c_ij - lam_i) x_ij`` with ``sum_i d_i x_ij <= Q_j``, solved here as its LP (Dantzig's
    greedy by ratio); the p sites of least knapsack value are the relaxation's median set, and
    ``sum lam + their values`` a lower bound (of the LP-knapsack relaxation). Subgradient ascent with
    Polyak steps towards ``upper`` runs ``_LAG_ITERS`` iterations (a count). Returns the distinct median
    sets met (the last ones first: they come from the best multipliers), the best bound and whether the
    clock cut the ascent.
    """
    n = C.shape[0]
    Cc = np.where(np.isfinite(C[:, cand]), C[:, cand], 1e12)
    Qc = cap[cand]
    k = max(1, min(Cc.shape[1] - 1, math.ceil(n / p)))
    lam = np.partition(Cc, k, axis=1)[:, k].astype(np.float64)
    dd = np.where(d > 0, d, 1e-9)
    best_bound = -math.inf
    step, stall = 2.0, 0
    sets: dict[bytes, float] = {}  # median set -> best bound it came with
    cut = False
    for _ in range(_LAG_ITERS):
        if time.perf_counter() >= deadline:
            cut = True
            break
        r = Cc - lam[:, None]  # reduced costs, (n, k sites)
        neg = r < 0
        ratio = np.where(neg, r / dd[:, None], np.inf)
        order = np.argsort(ratio, axis=0, kind="stable")
        rs = np.take_along_axis(np.where(neg, r, 0.0), order, axis=0)
        ds = np.where(np.take_along_axis(neg, order, axis=0), d[order], 0.0)
        before = np.cumsum(ds, axis=0) - ds
        frac = np.clip((Qc[None, :] - before) / np.where(ds > 0, ds, 1.0), 0.0, 1.0)
        frac = np.where(ds > 0, frac, np.where(rs < 0, 1.0, 0.0))
        value = (frac * rs).sum(axis=0)
        chosen = np.argsort(value, kind="stable")[:p]
        bound = float(lam.sum() + value[chosen].sum())
        if not math.isfinite(best_bound) or bound > best_bound + 1e-9 * max(1.0, abs(best_bound)):
            best_bound, stall = bound, 0
        else:
            stall += 1
            if stall >= _LAG_STALL:
                step, stall = step / 2.0, 0
        key = np.sort(cand[chosen]).tobytes()
        sets[key] = max(sets.get(key, -math.inf), bound)
        x = np.zeros_like(Cc)
        x[order[:, chosen], chosen[None, :]] = frac[:, chosen]
        g = 1.0 - x.sum(axis=1)
        norm = float((g * g).sum())
        if norm < 1e-12 or step < 1e-4:
            break
        lam = lam + step * max(upper - bound, 1e-6 * max(1.0, abs(upper))) / norm * g
    ranked = sorted(sets.items(), key=lambda kv: -kv[1])
    return [np.frombuffer(kb, dtype=np.int64).copy() for kb, _ in ranked], best_bound, cut


class _CPMPSearch:
    """One run of the CPMP search: the incumbent, the plans met on the way, the bound and the clock.

    The stages of :func:`solve` are its methods in the order they run: :meth:`location_allocation`,
    :meth:`lagrangian_sets`, :meth:`whole_mip`, :meth:`matheuristic`; :meth:`result` reports.
    """

    def __init__(self, problem: CapacitatedProblem, *, seed: int, time_limit: float) -> None:
        self.t0 = time.perf_counter()
        self.time_limit = float(time_limit)
        self.deadline = self.t0 + self.time_limit
        self.C: np.ndarray = problem.cost
        self.n, self.m = self.C.shape
        self.d: np.ndarray = problem.demand
        self.cap: np.ndarray = problem.capacity
        self.cand: np.ndarray = problem.candidates
        self.p = int(problem.p)
        self.seed = int(seed)
        self.timed_out = False
        self.best_cols: np.ndarray = np.empty(0, dtype=np.int64)
        self.best_assign: np.ndarray | None = None
        self.best_obj = math.inf
        self.plans: list[Plan] = []  # starting plans for the matheuristic
        self.lag_bound: float | None = None
        self.bound: float | None = None
        self.proven = False
        self.method = "lagrangian"
        self.lns_solves = 0
        self.la_obj = self.lag_obj = math.inf
        self.tol = 0.0

    def _cost(self, assign: np.ndarray) -> float:
        return float(self.C[np.arange(self.n), assign].sum())

    def _bound_proves(self) -> bool:
        return self.bound is not None and self.best_obj <= self.bound + 1e-6 * max(1.0, abs(self.bound))

    def location_allocation(self) -> None:
        """Stage 1: location-allocation from a short uncapacitated p-median (the heuristic hint)."""
        start = pmedian(
            self.C,
            self.p,
            weights=self.d,
            candidates=self.cand,
            seed=self.seed,
            time_limit=max(1.0, 0.3 * self.time_limit),
            exact=False,
            max_stall=50,
        )
        self.timed_out = start.stopped_by_time
        self.best_cols = start.medians
        got = _quick_la(self.C, self.d, self.cap, self.cand, start.medians, self.deadline)
        if got is not None:
            self.best_cols, self.best_assign, self.best_obj = got
            self.plans.append(got)
        self.la_obj = self.best_obj
        self.timed_out |= time.perf_counter() >= self.deadline  # the cap stopped it (or is already due)

    def lagrangian_sets(self) -> None:
        """Stage 2: capacity-aware median sets from the Lagrangian relaxation, each polished by stage 1."""
        if time.perf_counter() < self.deadline:
            upper = self.best_obj if math.isfinite(self.best_obj) else 0.0
            sets, self.lag_bound, cut = _cpmp_lagrangian(
                self.C, self.d, self.cap, self.p, self.cand, upper, deadline=self.deadline
            )
            self.timed_out |= cut
            for lag_cols in sets[:_LAG_SETS]:
                if time.perf_counter() >= self.deadline:
                    self.timed_out = True
                    break
                got = _quick_la(self.C, self.d, self.cap, self.cand, lag_cols, self.deadline)
                if got is not None:
                    self.plans.append(got)
                if got is not None and got[2] < self.best_obj - 1e-9 * max(1.0, abs(self.best_obj)):
                    self.best_cols, self.best_assign, self.best_obj = got
        self.lag_obj = self.best_obj
        lag = self.lag_bound
        self.bound = lag if lag is not None and math.isfinite(lag) else None

    def _kept_arcs(self, neighbours: int | None) -> tuple[bool, np.ndarray]:
        """(every arc kept, the (n, m) mask of arcs of the whole-model MIP).

        On larger matrices only each row's cheapest sites (plus the incumbent's own arcs), which keeps
        SCIP's LP small.
        """
        n, m, cand = self.n, self.m, self.cand
        full = n * len(cand) <= _FULL_MODEL_CELLS if neighbours is None else False
        k_near = len(cand) if full else min(len(cand), neighbours or max(20, math.ceil(2.5 * n / self.p)))
        arcs = np.zeros((n, m), dtype=bool)
        finite = np.isfinite(self.C)
        order = np.argsort(np.where(finite[:, cand], self.C[:, cand], np.inf), axis=1, kind="stable")[
            :, :k_near
        ]
        arcs[np.arange(n)[:, None], cand[order]] = True
        arcs &= finite & (self.cap[None, :] >= self.d[:, None])
        if self.best_assign is not None:
            arcs[np.arange(n), self.best_assign] = True
        return full, arcs

    def whole_mip(self, *, neighbours: int | None, max_nodes: int | None) -> None:
        """Stage 3: the strong MIP (x <= y) with SCIP, hinted with the best plan so far.

        Its root (LP, cuts, SCIP's primal heuristics) pays up to ``_MIP_ARCS`` arcs; beyond that it costs
        more than the whole budget on a shared 2-core machine, and the matheuristic gets the time instead.
        """
        full, arcs = self._kept_arcs(neighbours)
        # one tolerance for "better" from here on, relative to the plan the MIP starts from
        self.tol = 1e-9 * max(1.0, abs(self.best_obj)) if math.isfinite(self.best_obj) else 0.0
        tol = self.tol
        if self.best_assign is None or full or int(arcs.sum()) <= _MIP_ARCS:
            got_mip, cut = _cpmp_whole_mip(
                self.C,
                self.d,
                self.cap,
                self.p,
                self.cand,
                arcs,
                self.best_cols,
                self.best_assign,
                max_nodes=(100 if full else 1) if max_nodes is None else max_nodes,
                seed=self.seed,
                deadline=self.deadline,
            )
            self.timed_out |= cut
            if got_mip is not None:
                m_cols, m_assign, m_proven, m_bound = got_mip
                m_obj = self._cost(m_assign)
                self.method += "+mip"
                if self.best_assign is None or m_obj < self.best_obj - tol:
                    self.best_cols, self.best_assign, self.best_obj = m_cols, m_assign, m_obj
                if full:  # every arc kept: SCIP's bound and proof hold for the whole problem
                    self.proven = m_proven
                    self.bound = m_bound if self.bound is None else max(self.bound, m_bound)
        if self.best_assign is None:
            raise SolverError(
                "capacitated p-median: no feasible plan within the time limit; give more time.",
                zh="容量 p-中位: 时限内未找到可行方案; 请增加时限。",
            )
        if self._bound_proves():
            self.proven = True

    def _lns_starts(self, best_assign: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """The best plan, then the next distinct starting plans (best first)."""
        starts: list[tuple[np.ndarray, np.ndarray]] = [(self.best_cols, best_assign)]
        seen_starts = {np.sort(self.best_cols).tobytes()}
        for cols_k, assign_k, _obj in sorted(self.plans, key=lambda t: t[2]):
            if np.sort(cols_k).tobytes() not in seen_starts:
                seen_starts.add(np.sort(cols_k).tobytes())
                starts.append((cols_k, assign_k))
        return starts

    def matheuristic(self) -> None:
        """Stage 4: the cluster matheuristic from up to ``_LNS_STARTS`` starts while the shared budget lasts."""
        assert self.best_assign is not None  # whole_mip raised otherwise
        tol = self.tol
        for cols_k, assign_k in self._lns_starts(self.best_assign)[:_LNS_STARTS]:
            if self.proven or self.lns_solves >= LNS_SOLVES:
                break
            if time.perf_counter() >= self.deadline:
                self.timed_out = True
                break
            lns_cols, lns_assign, used, cut = _cluster_lns(
                self.C,
                self.d,
                self.cap,
                self.cand,
                cols_k,
                assign_k,
                seed=self.seed,
                deadline=self.deadline,
                budget=LNS_SOLVES - self.lns_solves,
            )
            self.lns_solves += used
            self.timed_out |= cut
            if "+lns" not in self.method:
                self.method += "+lns"
            lns_obj = self._cost(lns_assign)
            if lns_obj < self.best_obj - tol:
                self.best_obj, self.best_assign, self.best_cols = lns_obj, lns_assign, lns_cols
            if self._bound_proves():
                self.proven = True
            if cut:
                break

    def result(self) -> FacilitySolution:
        """The best plan, with a log line of what each stage reached."""
        assert self.best_assign is not None
        log.info(
            "capacitated p-median: location-allocation %.6g, Lagrangian sets %.6g (bound %s), then %s %.6g "
            "(%d LNS sub-solves), %.1f s",
            self.la_obj,
            self.lag_obj,
            "none" if self.lag_bound is None else f"{self.lag_bound:.6g}",
            self.method,
            self.best_obj,
            self.lns_solves,
            time.perf_counter() - self.t0,
        )
        if self.timed_out:
            log.warning(
                "capacitated p-median: the time limit (%.3g s) cut the search short; the plan may differ "
                "between runs",
                self.time_limit,
            )
        medians = np.array(sorted(int(j) for j in self.best_cols), dtype=np.int64)
        return FacilitySolution(
            medians,
            self.best_assign,
            self.best_obj,
            self.proven,
            time.perf_counter() - self.t0,
            self.bound,
            self.method,
            stopped_by_time=self.timed_out,
        )


def solve(
    problem: CapacitatedProblem,
    *,
    seed: int = 0,
    time_limit: float = 30.0,
    neighbours: int | None = None,
    max_nodes: int | None = None,
) -> FacilitySolution:
    """Solve a CPMP instance: location-allocation, Lagrangian sets, whole-model MIP, matheuristic.

    Parameters
    ----------
    problem
        The validated instance.
    seed, time_limit
        Seed, and the safety cap in seconds for the whole search.
    neighbours
        Keep only each row's ``neighbours`` cheapest sites as arcs of the whole-model MIP (default: all
        when n * m <= 5,000, else ``max(20, ceil(2.5 n / p))``); with a restriction SCIP's proof does not
        count, only the Lagrangian bound can prove a plan optimal.
    max_nodes
        SCIP's node limit, the MIP's deterministic stopping rule. Default: 100 when every arc is kept
        (small cases, where SCIP usually proves optimality), else 1 (the root: its LP, cuts and primal
        heuristics starting from the hint; further nodes cost seconds each and seldom pay on larger cases).

    Raises
    ------
    InfeasibleError
        The solver proved the model infeasible.
    SolverError
        No solution within the time limit.
    """
    run = _CPMPSearch(problem, seed=seed, time_limit=time_limit)
    run.location_allocation()
    run.lagrangian_sets()
    run.whole_mip(neighbours=neighbours, max_nodes=max_nodes)
    run.matheuristic()
    return run.result()


def capacitated_pmedian(
    cost: Any,
    demand: Any,
    capacity: Any,
    p: int,
    *,
    candidates: Any = None,
    seed: int = 0,
    time_limit: float = 30.0,
    neighbours: int | None = None,
    max_nodes: int | None = None,
) -> FacilitySolution:
    """Capacitated p-median with single-source assignment: every row goes whole to one open site.

    The one-call form of ``solve(CapacitatedProblem(cost, demand, capacity, p, candidates), ...)``; see
    :class:`CapacitatedProblem` for the data and :func:`solve` for the options and the stages.

    Raises
    ------
    InfeasibleError
        Total capacity of the p largest sites below the total demand, or a row that fits no reachable site;
        or the solver proved the model infeasible.
    SolverError
        No solution within the time limit.
    """
    problem = CapacitatedProblem(cost, demand, capacity, p, candidates=candidates)
    return solve(problem, seed=seed, time_limit=time_limit, neighbours=neighbours, max_nodes=max_nodes)


def _cpmp_whole_mip(
    C: np.ndarray,
    d: np.ndarray,
    cap: np.ndarray,
    p: int,
    cand: np.ndarray,
    arcs: np.ndarray,
    hint_cols: np.ndarray,
    hint_assign: np.ndarray | None,
    *,
    max_nodes: int,
    seed: int,
    deadline: float,
) -> tuple[tuple[np.ndarray, np.ndarray, bool, float] | None, bool]:
    """The CPMP on the kept ``arcs`` with SCIP (one thread, node limit ``max_nodes``), hinted with a plan.

    Returns ((p sites, assignment, whether SCIP proved it optimal on these arcs, SCIP's bound) or None when
    SCIP found nothing before the clock ran out, whether the clock cut the solve).
    """
    n = C.shape[0]
    solver = mip_solver("SCIP")
    solver.SetSolverSpecificParametersAsString(
        f"limits/nodes = {int(max_nodes)}\nrandomization/randomseedshift = {int(seed)}\n"
    )
    y = {int(j): solver.BoolVar(f"y{j}") for j in cand}
    x: dict[tuple[int, int], Any] = {}
    by_col: dict[int, list[tuple[int, Any]]] = {int(j): [] for j in cand}
    objective = solver.Objective()
    for i in range(n):
        lits = []
        for jj in np.flatnonzero(arcs[i]):
            j = int(jj)
            v = solver.BoolVar("")
            x[i, j] = v
            solver.Add(v <= y[j])
            objective.SetCoefficient(v, float(C[i, j]))
            by_col[j].append((i, v))
            lits.append(v)
        if not lits:
            raise InfeasibleError(
                f"row {i} has no site it can be assigned to.", zh=f"第 {i} 行没有可分配的点。"
            )
        solver.Add(solver.Sum(lits) == 1)
    for j, items in by_col.items():
        if items:
            solver.Add(solver.Sum([float(d[i]) * v for i, v in items]) <= float(cap[j]) * y[j])
        else:
            solver.Add(y[j] == 0)
    solver.Add(solver.Sum(list(y.values())) == p)
    objective.SetMinimization()
    if hint_assign is not None:
        open_set = {int(j) for j in hint_cols}
        hint_vars = list(y.values()) + list(x.values())
        hint_vals = [1.0 if j in open_set else 0.0 for j in y] + [
            1.0 if int(hint_assign[i]) == j else 0.0 for (i, j) in x
        ]
        solver.SetHint(hint_vars, hint_vals)
    mip_limit = max(0.5, deadline - time.perf_counter())
    solver.SetTimeLimit(max(1, int(mip_limit * 1000)))
    t_solve = time.perf_counter()
    status = solver.Solve()
    cut = clock_cut(status, time.perf_counter() - t_solve, mip_limit)
    log.info(
        "capacitated p-median MIP: status %d after %d nodes, %.1f s (node limit %d, %d arcs)",
        status,
        solver.nodes(),
        time.perf_counter() - t_solve,
        max_nodes,
        len(x),
    )
    has = status in (0, 1)  # OPTIMAL, FEASIBLE
    if not has and status == 6:  # NOT_SOLVED: the clock ran out before any solution
        return None, cut
    proven = raise_for_status(status, solver="mip", model="capacitated p-median", has_solution=has)
    assign = np.full(n, -1, dtype=np.int64)
    for (i, j), v in x.items():
        if v.solution_value() > 0.5:
            assign[i] = j
    opened = sorted(j for j, v in y.items() if v.solution_value() > 0.5)
    if len(opened) < p:  # a site with no customer still counts as open: top up with the cheapest
        rest = [int(j) for j in cand if int(j) not in set(opened)]
        opened = sorted([*opened, *rest[: p - len(opened)]])
    return (np.array(opened, dtype=np.int64), assign, proven, float(objective.BestBound())), cut
