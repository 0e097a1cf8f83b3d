"""The p-median model: ``p`` sites minimising the weighted cost of every row to its nearest open site.

A fast swap-based local search (Whitaker 1983; Resende & Werneck 2007, "A fast swap-based local search
procedure for location problems") inside a variable neighbourhood search; a Lagrangian lower bound (subgradient
ascent) stops it as soon as the incumbent is proven optimal, and an optional MIP check (SCIP) serves small
matrices. Every search stops on a count (VNS rounds without improvement, a round budget, subgradient iterations,
SCIP nodes with one thread), so the same input and seed give the same solution on any machine load;
``time_limit`` is only a safety cap, and when it cuts a search short the solution says ``stopped_by_time``.

The seam: :class:`PMedianProblem` (validated on construction) -> :func:`solve` -> :class:`FacilitySolution`;
:func:`pmedian` is the one-call form that callers and the benchmark use.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from planner.engines.facility.common import (
    MIP_NODE_LIMIT,
    FacilitySolution,
    clock_cut,
    mip_solver,
    raise_for_status,
    unservable_rows,
    validate_siting,
    warn_unserved,
)
from planner.errors import SolverError

log = logging.getLogger(__name__)

# VNS perturbations pick the new site among the 12 cheapest columns of a member row (a local kick).
_NEAR_COLUMNS = 12


@dataclass(frozen=True, eq=False)
class PMedianProblem:
    """A p-median instance, validated on construction.

    Attributes
    ----------
    cost
        (n, m) matrix, ``inf`` where a site cannot reach a row; stored as float64.
    p
        Number of sites to open.
    weights
        Per-row weight (residents); default 1. Stored as an (n,) float64 array.
    candidates
        Boolean mask or index list of the columns allowed as sites; default all. Stored as sorted column
        indices, fixed columns included.
    fixed
        Columns that must be open (counted in ``p``); stored as sorted column indices.

    Raises
    ------
    ValidationError
        Bad shapes or values.
    InfeasibleError
        ``p`` larger than the candidate count, or more fixed sites than ``p``.
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


def _scatter_rows(target: np.ndarray, idx: np.ndarray, rows: np.ndarray, sign: float) -> None:
    """target[idx[k]] += sign * rows[k], summing rows with equal idx (vectorised np.add.at)."""
    if idx.size == 0:
        return
    order = np.argsort(idx, kind="stable")
    sidx = idx[order]
    starts = np.flatnonzero(np.r_[True, sidx[1:] != sidx[:-1]])
    sums = np.add.reduceat(rows[order], starts, axis=0)
    target[sidx[starts]] += sign * sums


class _SwapState:
    """Open set and the gain / loss / extra tables of Resende & Werneck's fast swap.

    For a closed candidate i and an open site f the profit of swapping (insert i, remove f) is
    ``gain[i] - loss[f] + extra[f, i]`` where, over rows u with nearest open site f1(u) at cost d1(u) and
    second nearest f2(u) at d2(u): gain[i] = sum max(0, d1 - c_ui); loss[f] = sum over f1(u) = f of (d2 - d1);
    extra[f, i] = sum over f1(u) = f and c_ui < d2 of (d2 - max(c_ui, d1)). After a swap the nearest and
    second nearest sites are recomputed only for the rows that lost one of them (the others just compare
    with the inserted column), and only the rows whose (f1, d1, d2) changed are taken out of the tables and
    put back in, which keeps each move O(n + |changed| m + p m).
    """

    def __init__(self, W: np.ndarray, cand_mask: np.ndarray, fixed_mask: np.ndarray, open_cols: np.ndarray):
        self.W = W
        self.n, self.m = W.shape
        self.cand_mask = cand_mask
        self.fixed_mask = fixed_mask
        self.moves = 0  # swaps made since the last reset (a work counter, not a clock)
        self.reset(open_cols)

    def reset(self, open_cols: np.ndarray) -> None:
        self.open = np.array(sorted(int(c) for c in open_cols), dtype=np.int64)
        self.is_open = np.zeros(self.m, dtype=bool)
        self.is_open[self.open] = True
        self.f1, self.d1, self.f2, self.d2 = self._phi(np.arange(self.n))
        self.gain = np.zeros(self.m)
        self.loss = np.zeros(self.m)
        self.extra = np.zeros((self.m, self.m))
        self._account(np.arange(self.n), self.f1, self.d1, self.d2, 1.0)
        self.moves = 0

    def _phi(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Nearest and second nearest open site of ``rows`` (ties: lower column first)."""
        sub = self.W[np.ix_(rows, self.open)]
        if self.open.size == 1:
            k = rows.size
            return np.full(k, self.open[0]), sub[:, 0].copy(), np.full(k, -1), np.full(k, np.inf)
        two = np.argpartition(sub, 1, axis=1)[:, :2]
        vals = np.take_along_axis(sub, two, axis=1)
        swap = (vals[:, 1] < vals[:, 0]) | ((vals[:, 1] == vals[:, 0]) & (two[:, 1] < two[:, 0]))
        first = np.where(swap, two[:, 1], two[:, 0])
        second = np.where(swap, two[:, 0], two[:, 1])
        d1 = np.where(swap, vals[:, 1], vals[:, 0])
        d2 = np.where(swap, vals[:, 0], vals[:, 1])
        return self.open[first], d1, self.open[second], d2

    def _account(self, rows: np.ndarray, f1: np.ndarray, d1: np.ndarray, d2: np.ndarray, sign: float) -> None:
        if rows.size == 0:
            return
        Wr = self.W[rows]
        d1c = d1[:, None]
        self.gain += sign * np.maximum(d1c - Wr, 0.0).sum(axis=0)
        self.loss += sign * np.bincount(f1, weights=d2 - d1, minlength=self.m)
        d2c = d2[:, None]
        contrib = np.where(Wr < d2c, d2c - np.maximum(Wr, d1c), 0.0)
        _scatter_rows(self.extra, f1, contrib, sign)

    def _reaccount(
        self,
        rows: np.ndarray,
        old: tuple[np.ndarray, np.ndarray, np.ndarray],
        new: tuple[np.ndarray, np.ndarray, np.ndarray],
    ) -> None:
        """Take ``rows`` out of the tables with their ``old`` (f1, d1, d2) and put them back with ``new``."""
        if rows.size == 0:
            return
        (of1, od1, od2), (nf1, nd1, nd2) = old, new
        Wr = self.W[rows]
        self.gain += (np.maximum(nd1[:, None] - Wr, 0.0) - np.maximum(od1[:, None] - Wr, 0.0)).sum(axis=0)
        self.loss += np.bincount(nf1, weights=nd2 - nd1, minlength=self.m) - np.bincount(
            of1, weights=od2 - od1, minlength=self.m
        )
        ocontrib = np.where(Wr < od2[:, None], od2[:, None] - np.maximum(Wr, od1[:, None]), 0.0)
        ncontrib = np.where(Wr < nd2[:, None], nd2[:, None] - np.maximum(Wr, nd1[:, None]), 0.0)
        _scatter_rows(self.extra, np.concatenate([of1, nf1]), np.concatenate([-ocontrib, ncontrib]), 1.0)

    @property
    def objective(self) -> float:
        return float(self.d1.sum())

    def best_swap(self) -> tuple[float, int, int]:
        """(profit, insert column, remove column) of the best swap; profit <= 0 when none improves."""
        removable = self.open[~self.fixed_mask[self.open]]
        if removable.size == 0:
            return 0.0, -1, -1
        profit = self.gain[None, :] - self.loss[removable][:, None] + self.extra[removable]
        profit[:, ~self.cand_mask | self.is_open] = -np.inf
        k = int(np.argmax(profit))
        r, i = divmod(k, self.m)
        return float(profit[r, i]), i, int(removable[r])

    def swap(self, insert: int, remove: int) -> None:
        self.is_open[remove] = False
        self.is_open[insert] = True
        self.open = np.flatnonzero(self.is_open).astype(np.int64)
        f1, d1, f2, d2 = self.f1.copy(), self.d1.copy(), self.f2.copy(), self.d2.copy()
        col = self.W[:, insert]
        lost = (f1 == remove) | (f2 == remove)
        first = ~lost & (col < d1)
        second = ~lost & ~first & (col < d2)
        f2[first], d2[first] = f1[first], d1[first]
        f1[first], d1[first] = insert, col[first]
        f2[second], d2[second] = insert, col[second]
        rows = np.flatnonzero(lost)
        if rows.size:
            f1[rows], d1[rows], f2[rows], d2[rows] = self._phi(rows)
        changed = np.flatnonzero((f1 != self.f1) | (d1 != self.d1) | (d2 != self.d2))
        self._reaccount(
            changed,
            (self.f1[changed], self.d1[changed], self.d2[changed]),
            (f1[changed], d1[changed], d2[changed]),
        )
        self.f1, self.d1, self.f2, self.d2 = f1, d1, f2, d2
        self.moves += 1

    def local_search(self, deadline: float) -> bool:
        """Best-improvement swaps to a local optimum; False when the deadline (a safety cap) cut it short."""
        tol = 1e-9 * max(1.0, abs(self.objective))
        while True:
            profit, i, f = self.best_swap()
            if profit <= tol:
                break
            if time.perf_counter() >= deadline:
                return False
            before = self.objective
            self.swap(i, f)
            if self.objective > before - 0.5 * tol:  # the tables drifted: rebuild them, then go on
                self.reset(self.open)
        if self.moves > 200:  # long runs of incremental sums drift; start the tables afresh
            self.reset(self.open)
        return True

    def snapshot(self) -> tuple[np.ndarray, ...]:
        return (
            self.open.copy(),
            self.is_open.copy(),
            self.f1.copy(),
            self.d1.copy(),
            self.f2.copy(),
            self.d2.copy(),
            self.gain.copy(),
            self.loss.copy(),
            self.extra.copy(),
        )

    def restore(self, snap: tuple[np.ndarray, ...]) -> None:
        o, io, f1, d1, f2, d2, g, lo, ex = snap
        self.open, self.is_open = o.copy(), io.copy()
        self.f1, self.d1, self.f2, self.d2 = f1.copy(), d1.copy(), f2.copy(), d2.copy()
        self.gain, self.loss = g.copy(), lo.copy()
        np.copyto(self.extra, ex)
        self.moves = 0


def _greedy(
    W: np.ndarray, p: int, cand: np.ndarray, fix: np.ndarray, rng: np.random.Generator | None, top: int = 1
) -> np.ndarray:
    """Greedy addition (Kuehn & Hamburger); with ``rng`` and ``top`` > 1 a randomised greedy."""
    chosen = [int(c) for c in fix]
    free = np.setdiff1d(cand, fix)
    if chosen:
        d1 = W[:, chosen].min(axis=1)
    else:
        totals = W[:, free].sum(axis=0)
        order = np.argsort(totals, kind="stable")[: max(1, top)]
        pick = int(order[0] if rng is None else rng.choice(order))
        chosen.append(int(free[pick]))
        d1 = W[:, chosen[0]].copy()
    avail = np.ones(W.shape[1], dtype=bool)
    avail[chosen] = False
    while len(chosen) < p:
        cols = free[avail[free]]
        gains = np.maximum(d1[:, None] - W[:, cols], 0.0).sum(axis=0)
        order = np.argsort(-gains, kind="stable")[: max(1, top)]
        pick = int(cols[order[0] if rng is None else rng.choice(order)])
        chosen.append(pick)
        avail[pick] = False
        d1 = np.minimum(d1, W[:, pick])
    return np.array(sorted(chosen), dtype=np.int64)


def _weighted(cost: np.ndarray, w: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """Weighted costs with unreachable pairs replaced by a penalty larger than any reachable plan's cost."""
    finite = np.isfinite(cost)
    fmax = float(cost[finite].max()) if finite.any() else 1.0
    pos = w[w > 0]
    big = (fmax + 1.0) * (float(w.sum()) / float(pos.min()) + 1.0) if pos.size else fmax + 1.0
    W = np.where(finite, cost, big) * w[:, None]
    return W


def _lagrangian_bound(
    W: np.ndarray,
    p: int,
    cand: np.ndarray,
    fix: np.ndarray,
    upper: float,
    start: np.ndarray,
    *,
    proves: Any,
    max_iter: int,
) -> tuple[float, int]:
    """Lagrangian lower bound of the p-median (assignment constraints relaxed), by subgradient ascent.

    For multipliers ``lam`` the relaxed problem opens the p columns with the most negative
    ``rho_j = sum_i min(0, W_ij - lam_i)`` (fixed columns always), so
    ``L(lam) = sum(lam) + sum of their rho`` is a valid bound; its maximum equals the LP bound. Steps follow
    Polyak's rule towards ``upper`` with the step factor halved after 20 rounds without a better bound.
    The loop stops on counts only (``max_iter``, the step factor, or when ``proves(bound)``), so it is
    deterministic. Returns (best bound, iterations).
    """
    Wc = W[:, cand]
    is_fixed = np.isin(cand, fix)
    free = np.flatnonzero(~is_fixed)
    fixed_idx = np.flatnonzero(is_fixed)
    k = p - fixed_idx.size
    lam = start.astype(np.float64).copy()
    best, factor, since = -math.inf, 2.0, 0
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is returned
        red = np.minimum(Wc - lam[:, None], 0.0)
        rho = red.sum(axis=0)
        if k > 0:
            pick = free[np.argpartition(rho[free], k - 1)[:k]] if k < free.size else free
            chosen = np.concatenate([fixed_idx, pick])
        else:
            chosen = fixed_idx
        value = float(lam.sum() + rho[chosen].sum())
        if value > best + 1e-12 * max(1.0, abs(value)):
            best, since = value, 0
        else:
            since += 1
            if since >= 20:
                factor, since = factor / 2.0, 0
        if proves(best) or factor < 1e-4:
            break
        g = 1.0 - (red[:, chosen] < 0.0).sum(axis=1)
        norm = float(g @ g)
        if norm == 0.0:  # the relaxed solution is feasible, hence optimal: the bound is exact
            break
        lam += factor * max(upper - value, 1e-9 * max(1.0, abs(upper))) / norm * g
    return best, it


class _PMedianSearch:
    """One run of the p-median search: the weighted matrix, the swap state, the incumbent and the clock.

    The stages of :func:`solve` are its methods, in the order they run: :meth:`trivial`, :meth:`greedy_start`
    (greedy, swap search, Lagrangian bound), :meth:`random_starts`, :meth:`vns` and :meth:`mip_check`.
    """

    def __init__(self, problem: PMedianProblem, *, seed: int, time_limit: float) -> None:
        self.t0 = time.perf_counter()
        self.time_limit = float(time_limit)
        self.deadline = self.t0 + self.time_limit
        self.C: np.ndarray = problem.cost
        self.n, self.m = self.C.shape
        self.w: np.ndarray = problem.weights
        self.p = int(problem.p)
        self.cand: np.ndarray = problem.candidates
        self.fix: np.ndarray = problem.fixed
        self.unserved = unservable_rows(self.C, self.cand)
        warn_unserved(self.unserved, "p-median")
        w_eff = self.w.copy()
        w_eff[self.unserved] = 0.0  # rows no site reaches must not steer the choice
        self.W = _weighted(self.C, w_eff, self.cand)
        self.rng = np.random.default_rng(seed)
        self.seed = int(seed)
        self.t_best = 0.0
        self.timed_out = False
        self.bound = -math.inf
        self.integral = bool(np.array_equal(self.W, np.round(self.W)))
        self.cand_mask = np.zeros(self.m, dtype=bool)
        self.cand_mask[self.cand] = True
        self.fixed_mask = np.zeros(self.m, dtype=bool)
        self.fixed_mask[self.fix] = True
        self.order_by_row: np.ndarray | None = None  # each row's cheapest columns, built on first use

    # -- the result ----------------------------------------------------------------------------------------
    def finish(self, cols: np.ndarray, proven: bool, bound: float | None, method: str) -> FacilitySolution:
        """The solution of open columns ``cols``: nearest-site assignment, objective on the real costs."""
        cols = np.sort(cols)
        sub = self.W[:, cols]
        assign = cols[np.argmin(sub, axis=1)]
        real = self.C[np.arange(self.n), assign]
        unreached = np.flatnonzero(~np.isfinite(real))
        assign = assign.copy()
        assign[unreached] = -1
        obj = float((self.w * np.where(np.isfinite(real), real, 0.0)).sum())
        if unreached.size > self.unserved.size:
            log.warning("p = %d sites cannot reach every row: %d rows unreachable", self.p, unreached.size)
        elapsed = time.perf_counter() - self.t0
        if self.timed_out:
            log.warning(
                "p-median: the time limit (%.3g s) cut the search short; the result may differ between runs",
                self.time_limit,
            )
        to_best = self.t_best if method.startswith("vns") and "mip" not in method else elapsed
        return FacilitySolution(
            cols, assign, obj, proven, elapsed, bound, method, unreached, to_best, bool(self.timed_out)
        )

    def proves(self, bound: float, value: float) -> bool:
        """Does a lower bound prove ``value`` optimal? With integral costs a gap below 1 is enough."""
        if not np.isfinite(bound):
            return False
        if self.integral:
            return value <= math.ceil(bound - 1e-6 * max(1.0, abs(bound))) + 1e-9
        return value <= bound + 1e-9 * max(1.0, abs(bound))

    def _take_incumbent(self) -> None:
        """The swap state's plan becomes the incumbent."""
        self.best_snap, self.best_obj = self.state.snapshot(), self.state.objective
        self.t_best = time.perf_counter() - self.t0

    def _keep_if_better(self) -> None:
        """Make the swap state's plan the incumbent when it is better."""
        if self.state.objective < self.best_obj - 1e-9 * max(1.0, self.best_obj):
            self._take_incumbent()

    # -- the stages ----------------------------------------------------------------------------------------
    def trivial(self) -> FacilitySolution | None:
        """The cases that need no search: every candidate open, every site fixed, or one site."""
        if self.p == self.cand.size:
            return self.finish(self.cand, True, None, "all candidates")
        if self.p == self.fix.size:
            return self.finish(self.fix, True, None, "all fixed")
        if self.p == 1:
            col = int(self.cand[np.argmin(self.W[:, self.cand].sum(axis=0))])
            return self.finish(np.array([col]), True, None, "enumeration")
        return None

    def greedy_start(self) -> FacilitySolution | None:
        """Greedy, polished by the swap search; then the Lagrangian bound, which may prove it optimal.

        Returns the solution when this stage already settles it (the clock ran out, or the bound proved it).
        """
        self.state = _SwapState(
            self.W, self.cand_mask, self.fixed_mask, _greedy(self.W, self.p, self.cand, self.fix, None)
        )
        self.timed_out |= not self.state.local_search(self.deadline)
        self._take_incumbent()
        if time.perf_counter() >= self.deadline:
            self.timed_out = True
            return self.finish(self.best_snap[0], False, None, "vns")
        # subgradient iterations sized so that the bound costs about as much as the search on any size
        lag_iter = int(min(2000, max(150, 2e8 // max(1, self.n * self.cand.size))))
        best_obj = self.best_obj
        self.bound, iters = _lagrangian_bound(
            self.W,
            self.p,
            self.cand,
            self.fix,
            best_obj,
            self.state.d1,
            proves=lambda b: self.proves(b, best_obj),
            max_iter=lag_iter,
        )
        log.debug(
            "p-median Lagrangian bound %.6g after %d iterations (incumbent %.6g)", self.bound, iters, best_obj
        )
        if self.proves(self.bound, best_obj) and not self.timed_out:
            return self._proved_by_bound()
        return None

    def _proved_by_bound(self) -> FacilitySolution:
        return self.finish(
            self.best_snap[0], self.unserved.size == 0, self.bound, "vns (proved by lagrangian bound)"
        )

    def random_starts(self, count: int = 3) -> None:
        """A few randomised greedy starts, each polished by the swap search; the best becomes the state."""
        for _ in range(count):
            if time.perf_counter() >= self.deadline:
                self.timed_out = True
                break
            self.state.reset(_greedy(self.W, self.p, self.cand, self.fix, self.rng, top=3))
            self.timed_out |= not self.state.local_search(self.deadline)
            self._keep_if_better()
        self.state.restore(self.best_snap)

    def _shake(self, k: int) -> None:
        """k random swaps, each removing a random open site and inserting a closed one near its rows."""
        state, rng = self.state, self.rng
        for _ in range(k):
            removable = state.open[~self.fixed_mask[state.open]]
            f = int(removable[rng.integers(removable.size)])
            members = np.flatnonzero(state.f1 == f)
            if members.size and rng.random() < 0.8:
                if self.order_by_row is None:
                    self.order_by_row = np.argsort(self.W, axis=1, kind="stable")[
                        :, : min(self.m, _NEAR_COLUMNS)
                    ]
                u = int(members[rng.integers(members.size)])
                near = [int(c) for c in self.order_by_row[u] if self.cand_mask[c] and not state.is_open[c]]
                closed = np.array(near, dtype=np.int64)
            else:
                closed = np.flatnonzero(self.cand_mask & ~state.is_open)
            if closed.size == 0:
                closed = np.flatnonzero(self.cand_mask & ~state.is_open)
            state.swap(int(closed[rng.integers(closed.size)]), f)

    def vns(self, max_stall: int | None, max_rounds: int | None) -> bool:
        """Variable neighbourhood search: :meth:`_shake` k swaps, then the swap search again.

        It stops after ``stall_limit`` rounds without improvement, after ``round_limit`` rounds in all, or when
        the bound proves the incumbent optimal: counts, not clocks, so the same seed gives the same result.
        Returns whether the bound proved the incumbent optimal.
        """
        stall_limit = min(max(50, 5 * self.p), 400) if max_stall is None else int(max_stall)
        round_limit = 20 * stall_limit if max_rounds is None else int(max_rounds)
        kmax = max(1, min(10, self.p - self.fix.size, self.cand.size - self.p))
        k, stall, rounds = 1, 0, 0
        proven_by_bound = self.proves(self.bound, self.best_obj)
        while not proven_by_bound and stall < stall_limit and rounds < round_limit:
            if time.perf_counter() >= self.deadline:
                self.timed_out = True
                break
            rounds += 1
            self._shake(k)
            self.timed_out |= not self.state.local_search(self.deadline)
            if self.state.objective < self.best_obj - 1e-9 * max(1.0, self.best_obj):
                self.state.reset(self.state.open)  # exact tables before they become the reference
                self._take_incumbent()
                k, stall = 1, 0
                proven_by_bound = self.proves(self.bound, self.best_obj)
            else:
                self.state.restore(self.best_snap)
                k = k % kmax + 1
                stall += 1
        log.debug(
            "p-median VNS: %d rounds (stall limit %d), objective %.6g, bound %.6g, %.2fs",
            rounds,
            stall_limit,
            self.best_obj,
            self.bound,
            time.perf_counter() - self.t0,
        )
        return proven_by_bound

    def mip_check(self, exact: bool | None) -> FacilitySolution:
        """The MIP check on small matrices (or when ``exact``); else the VNS incumbent with its bound."""
        best_cols = self.best_snap[0]
        bound = self.bound
        use_exact = (self.n * self.m <= 40_000) if exact is None else bool(exact)
        remaining = self.deadline - time.perf_counter()
        if not (use_exact and not self.timed_out and self.unserved.size < self.n):
            return self.finish(best_cols, False, bound if np.isfinite(bound) else None, "vns")
        if remaining <= 0.5:
            self.timed_out = True
            return self.finish(best_cols, False, bound if np.isfinite(bound) else None, "vns")
        cols, proven, mip_bound, cut = _pmedian_mip(
            self.W, self.p, self.cand, self.fix, best_cols, remaining, self.seed
        )
        self.timed_out |= cut
        heur = float(self.W[:, best_cols].min(axis=1).sum())
        mip_obj = float(self.W[:, cols].min(axis=1).sum())
        if mip_obj < heur - 1e-9 * max(1.0, heur):
            best_cols = cols
            method = "vns+mip"
        else:
            method = "vns"
        if mip_bound is not None:
            bound = max(bound, mip_bound)
        final = float(self.W[:, best_cols].min(axis=1).sum())
        proven = proven or self.proves(bound, final)
        if proven and self.unserved.size == 0:
            return self.finish(best_cols, True, bound, method + " (proved by mip)")
        return self.finish(best_cols, False, bound, method)


def solve(
    problem: PMedianProblem,
    *,
    seed: int = 0,
    time_limit: float = 30.0,
    exact: bool | None = None,
    max_stall: int | None = None,
    max_rounds: int | None = None,
) -> FacilitySolution:
    """Solve a p-median instance: greedy and swap search, Lagrangian bound, random starts, VNS, MIP check.

    Parameters
    ----------
    problem
        The validated instance.
    seed
        Seed of the random starts and perturbations.
    time_limit
        Safety cap in seconds for the whole search. The search stops on counts (VNS rounds without
        improvement, a round budget, bound iterations, MIP nodes), so the same seed gives the same solution;
        only when this cap cuts it short is the solution marked ``stopped_by_time`` (and a warning logged).
    exact
        Run the MIP check (SCIP through OR-Tools) when the Lagrangian bound did not prove the heuristic
        optimal; default: when n * m <= 40,000.
    max_stall
        VNS rounds without improvement before stopping; default ``min(max(50, 5 p), 400)``. The search also
        stops as soon as the Lagrangian bound proves the incumbent optimal.
    max_rounds
        Budget of VNS rounds in all; default ``20 * max_stall``.

    Returns
    -------
    FacilitySolution
        ``proven_optimal`` is True when the Lagrangian bound or the MIP closed the gap (or the case is
        trivial).
    """
    run = _PMedianSearch(problem, seed=seed, time_limit=time_limit)
    settled = run.trivial() or run.greedy_start()
    if settled is not None:
        return settled
    run.random_starts()
    if run.vns(max_stall, max_rounds) and not run.timed_out:
        return run._proved_by_bound()
    return run.mip_check(exact)


def pmedian(
    cost: Any,
    p: int,
    *,
    weights: Any = None,
    candidates: Any = None,
    fixed: Any = None,
    seed: int = 0,
    time_limit: float = 30.0,
    exact: bool | None = None,
    max_stall: int | None = None,
    max_rounds: int | None = None,
) -> FacilitySolution:
    """Choose ``p`` sites minimising the weighted cost of every row to its nearest open site.

    The one-call form of ``solve(PMedianProblem(cost, p, weights, candidates, fixed), ...)``; see
    :class:`PMedianProblem` for the data and :func:`solve` for the options.

    Raises
    ------
    ValidationError
        Bad shapes or values.
    InfeasibleError
        ``p`` larger than the candidate count, or more fixed sites than ``p``.
    """
    problem = PMedianProblem(cost, p, weights=weights, candidates=candidates, fixed=fixed)
    return solve(
        problem, seed=seed, time_limit=time_limit, exact=exact, max_stall=max_stall, max_rounds=max_rounds
    )


def _pmedian_mip(
    W: np.ndarray, p: int, cand: np.ndarray, fix: np.ndarray, start: np.ndarray, time_limit: float, seed: int
) -> tuple[np.ndarray, bool, float | None, bool]:
    """The classic p-median MIP (y binary, x continuous, x <= y) with SCIP, hinted with ``start``.

    SCIP runs single-threaded with a node limit (deterministic); ``time_limit`` is a safety cap. Returns
    (columns, proven optimal, bound, whether the time cap cut it).
    """
    solver = mip_solver("SCIP")
    solver.SetTimeLimit(max(1, int(time_limit * 1000)))
    solver.SetSolverSpecificParametersAsString(
        f"limits/nodes = {MIP_NODE_LIMIT}\nrandomization/randomseedshift = {int(seed)}\n"
    )
    n = W.shape[0]
    y = {int(j): solver.BoolVar(f"y{j}") for j in cand}
    objective = solver.Objective()
    for i in range(n):
        row = W[i]
        xs = []
        for j in cand:
            x = solver.NumVar(0.0, 1.0, "")
            solver.Add(x <= y[int(j)])
            objective.SetCoefficient(x, float(row[j]))
            xs.append(x)
        solver.Add(solver.Sum(xs) == 1)
    solver.Add(solver.Sum(list(y.values())) == p)
    for j in fix:
        solver.Add(y[int(j)] == 1)
    objective.SetMinimization()
    start_set = {int(j) for j in start}
    solver.SetHint(list(y.values()), [1.0 if j in start_set else 0.0 for j in y])
    t_solve = time.perf_counter()
    status = solver.Solve()
    cut = clock_cut(status, time.perf_counter() - t_solve, time_limit)
    has = solver.NumVariables() > 0 and status in (0, 1)
    try:
        proven = raise_for_status(status, solver="mip", model="p-median", has_solution=has)
    except SolverError as exc:
        log.info("p-median MIP check gave up: %s", exc.message)
        return start, False, None, cut
    cols = np.array(sorted(j for j, v in y.items() if v.solution_value() > 0.5), dtype=np.int64)
    bound = float(objective.BestBound())
    if cols.size != p:
        return start, False, bound, cut
    return cols, proven, bound, cut
