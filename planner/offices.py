"""Office placement: matrix cores for p-median, capacitated p-median, maximal covering and p-center.

Every core takes a cost matrix (rows = villages or customers, columns = candidate office sites, ``inf`` where a
site cannot reach a village) and returns a :class:`FacilitySolution`. The p-median core is a fast swap-based
local search (Whitaker 1983; Resende & Werneck 2007, "A fast swap-based local search procedure for location
problems") inside a variable neighbourhood search, with an optional exact MIP check for small matrices. The
capacitated core warms a CP-SAT model of the whole problem with a location-allocation heuristic. OR-Tools is
used in this module only, and its statuses are turned into :mod:`planner.errors` by :func:`_raise_for_status`.

Determinism: every random choice comes from ``numpy.random.default_rng(seed)`` and the searches stop on a
stall count, so the same seed gives the same solution whenever ``time_limit`` is not what stopped them
(CP-SAT runs with one worker and a deterministic time limit for the same reason).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from planner.errors import InfeasibleError, SolverError, ValidationError

log = logging.getLogger(__name__)

_EMPTY = np.empty(0, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class FacilitySolution:
    """Chosen sites and the assignment of every row to one of them.

    Attributes
    ----------
    medians
        Sorted column indices of the open sites.
    assignment
        For each row the column index of its site; -1 for a row that no candidate site can reach
        (listed in ``unserved``).
    objective
        The model's objective: total weighted cost (p-median, capacitated), covered weight (maximal covering)
        or the largest weighted cost (p-center). Rows in ``unserved`` are left out of it.
    proven_optimal
        True when a solver proved that no better solution exists.
    seconds
        Wall-clock seconds spent.
    lower_bound
        A proven bound on the objective when one is known (upper bound for maximal covering), else None.
    method
        Which search produced the solution (e.g. "vns", "vns+mip", "cp-sat").
    unserved
        Rows that no candidate site can reach (or, for maximal covering, rows outside the radius).
    seconds_to_best
        Seconds until the returned objective was first reached (p-median heuristic), when known.
    """

    medians: np.ndarray
    assignment: np.ndarray
    objective: float
    proven_optimal: bool
    seconds: float
    lower_bound: float | None = None
    method: str = ""
    unserved: np.ndarray = field(default_factory=lambda: _EMPTY)
    seconds_to_best: float | None = None

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary: sites, objective, optimality, bound, seconds, unserved rows."""
        return {
            "p": len(self.medians),
            "medians": [int(x) for x in self.medians],
            "objective": float(self.objective),
            "proven_optimal": bool(self.proven_optimal),
            "lower_bound": None if self.lower_bound is None else float(self.lower_bound),
            "method": self.method,
            "seconds": round(float(self.seconds), 3),
            "unserved": [int(x) for x in self.unserved],
            "seconds_to_best": None
            if self.seconds_to_best is None
            else round(float(self.seconds_to_best), 3),
        }


# --------------------------------------------------------------------------------------------- validation


def _as_cost(cost: Any) -> np.ndarray:
    arr = np.asarray(cost, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValidationError(
            f"cost must be a non-empty 2-D matrix (rows x sites), got shape {arr.shape}.",
            zh=f"成本矩阵必须是非空二维矩阵 (行 x 候选点), 实际形状 {arr.shape}。",
        )
    if np.isnan(arr).any():
        rows = np.unique(np.nonzero(np.isnan(arr))[0])[:10].tolist()
        raise ValidationError(
            f"cost holds NaN (rows {rows}); use inf for unreachable pairs.",
            zh=f"成本矩阵含 NaN (行 {rows}); 不可达请用 inf。",
        )
    if (arr < 0).any():
        raise ValidationError(
            "cost holds negative values; travel costs must be >= 0.", zh="成本矩阵含负值; 出行成本必须 >= 0。"
        )
    return arr


def _as_weights(weights: Any, n: int, name: str = "weights") -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape != (n,):
        raise ValidationError(
            f"{name} has {w.size} values, the cost matrix has {n} rows.",
            zh=f"{name} 有 {w.size} 个值, 成本矩阵有 {n} 行。",
        )
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValidationError(f"{name} must be finite and >= 0.", zh=f"{name} 必须为有限的非负数。")
    return w


def _as_columns(values: Any, m: int, name: str) -> np.ndarray:
    """A boolean mask or an index list of columns -> sorted unique int64 indices."""
    arr = np.asarray(values)
    if arr.dtype == bool:
        if arr.shape != (m,):
            raise ValidationError(
                f"{name} mask has {arr.size} entries, the cost matrix has {m} columns.",
                zh=f"{name} 掩码有 {arr.size} 项, 成本矩阵有 {m} 列。",
            )
        return np.flatnonzero(arr).astype(np.int64)
    idx = np.unique(arr.astype(np.int64).reshape(-1))
    if idx.size and (idx[0] < 0 or idx[-1] >= m):
        raise ValidationError(
            f"{name} holds column indices outside 0..{m - 1}.", zh=f"{name} 含超出 0..{m - 1} 的列号。"
        )
    return idx


def _select(m: int, p: int, candidates: Any, fixed: Any) -> tuple[np.ndarray, np.ndarray]:
    cand = np.arange(m, dtype=np.int64) if candidates is None else _as_columns(candidates, m, "candidates")
    fix = _EMPTY if fixed is None else _as_columns(fixed, m, "fixed")
    cand = np.union1d(cand, fix)  # a fixed office is a candidate by definition
    if not isinstance(p, (int, np.integer)) or p < 1:
        raise ValidationError(
            f"p must be a positive integer, got {p!r}.", zh=f"p 必须是正整数, 实际为 {p!r}。"
        )
    if p > cand.size:
        raise InfeasibleError(
            f"p = {p} offices asked for, but only {cand.size} candidate sites exist.",
            zh=f"需要 {p} 个警务室, 但只有 {cand.size} 个候选点。",
        )
    if fix.size > p:
        raise InfeasibleError(
            f"{fix.size} offices are fixed, more than p = {p}.",
            zh=f"固定的警务室有 {fix.size} 个, 多于 p = {p}。",
        )
    return cand, fix


def _unservable(cost: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """Rows that no candidate column reaches."""
    return np.flatnonzero(~np.isfinite(cost[:, cand]).any(axis=1))


def _warn_unserved(rows: np.ndarray, what: str) -> None:
    if rows.size:
        log.warning(
            "%d rows cannot be reached from any candidate site and are left out of the %s: %s",
            rows.size,
            what,
            rows[:20].tolist(),
        )


# ------------------------------------------------------------------------------------- OR-Tools in one place


def _raise_for_status(status: Any, *, solver: str, model: str, has_solution: bool) -> bool:
    """Map an OR-Tools status to our errors; return True when the status proves optimality.

    ``solver`` is "cp-sat" or "mip". Infeasible -> InfeasibleError, model invalid / abnormal -> SolverError,
    time limit without any solution -> SolverError.
    """
    if solver == "cp-sat":
        from ortools.sat.python import cp_model

        if status == cp_model.OPTIMAL:
            return True
        if status == cp_model.FEASIBLE:
            return False
        if status == cp_model.INFEASIBLE:
            raise InfeasibleError(
                f"{model}: the solver proved the model infeasible.", zh=f"{model}: 求解器证明模型无可行解。"
            )
        if status == cp_model.MODEL_INVALID:
            raise SolverError(
                f"{model}: CP-SAT rejected the model as invalid (a bug: please report it).",
                zh=f"{model}: CP-SAT 认为模型无效 (程序错误, 请报告)。",
            )
        if has_solution:
            return False
        raise SolverError(
            f"{model}: CP-SAT found no solution within the time limit; give more time.",
            zh=f"{model}: CP-SAT 在时限内未找到解; 请增加时限。",
        )
    from ortools.linear_solver import pywraplp

    if status == pywraplp.Solver.OPTIMAL:
        return True
    if status == pywraplp.Solver.FEASIBLE:
        return False
    if status == pywraplp.Solver.INFEASIBLE:
        raise InfeasibleError(
            f"{model}: the solver proved the model infeasible.", zh=f"{model}: 求解器证明模型无可行解。"
        )
    if status in (pywraplp.Solver.ABNORMAL, pywraplp.Solver.MODEL_INVALID, pywraplp.Solver.UNBOUNDED):
        raise SolverError(
            f"{model}: the MIP solver stopped abnormally (status {status}).",
            zh=f"{model}: MIP 求解器异常终止 (状态 {status})。",
        )
    if has_solution:
        return False
    raise SolverError(
        f"{model}: the MIP solver found no solution within the time limit; give more time.",
        zh=f"{model}: MIP 求解器在时限内未找到解; 请增加时限。",
    )


def _mip_solver(name: str = "SCIP") -> Any:
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver(name)
    if solver is None:
        raise SolverError(
            f"OR-Tools was built without the {name} solver.", zh=f"OR-Tools 未包含 {name} 求解器。"
        )
    return solver


# ------------------------------------------------------------------------------ p-median: fast swap search


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
    second nearest at d2(u): gain[i] = sum max(0, d1 - c_ui); loss[f] = sum over f1(u) = f of (d2 - d1);
    extra[f, i] = sum over f1(u) = f and c_ui < d2 of (d2 - max(c_ui, d1)). After a swap only the rows whose
    (f1, d1, d2) changed are taken out and put back in, which keeps each move O(n p + |changed| m).
    """

    def __init__(self, W: np.ndarray, cand_mask: np.ndarray, fixed_mask: np.ndarray, open_cols: np.ndarray):
        self.W = W
        self.n, self.m = W.shape
        self.cand_mask = cand_mask
        self.fixed_mask = fixed_mask
        self.reset(open_cols)

    def reset(self, open_cols: np.ndarray) -> None:
        self.open = np.array(sorted(int(c) for c in open_cols), dtype=np.int64)
        self.is_open = np.zeros(self.m, dtype=bool)
        self.is_open[self.open] = True
        self.f1, self.d1, self.d2 = self._phi()
        self.gain = np.zeros(self.m)
        self.loss = np.zeros(self.m)
        self.extra = np.zeros((self.m, self.m))
        self._account(np.arange(self.n), self.f1, self.d1, self.d2, 1.0)

    def _phi(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        sub = self.W[:, self.open]
        if self.open.size == 1:
            return np.full(self.n, self.open[0]), sub[:, 0].copy(), np.full(self.n, np.inf)
        two = np.argpartition(sub, 1, axis=1)[:, :2]
        vals = np.take_along_axis(sub, two, axis=1)
        swap = (vals[:, 1] < vals[:, 0]) | ((vals[:, 1] == vals[:, 0]) & (two[:, 1] < two[:, 0]))
        first = np.where(swap, two[:, 1], two[:, 0])
        d1 = np.where(swap, vals[:, 1], vals[:, 0])
        d2 = np.where(swap, vals[:, 0], vals[:, 1])
        return self.open[first], d1, d2

    def _account(self, rows: np.ndarray, f1: np.ndarray, d1: np.ndarray, d2: np.ndarray, sign: float) -> None:
        if rows.size == 0:
            return
        Wr = self.W[rows]
        d1c = d1[:, None]
        self.gain += sign * np.maximum(d1c - Wr, 0.0).sum(axis=0)
        np.add.at(self.loss, f1, sign * (d2 - d1))
        d2c = d2[:, None]
        contrib = np.where(Wr < d2c, d2c - np.maximum(Wr, d1c), 0.0)
        _scatter_rows(self.extra, f1, contrib, sign)

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
        f1, d1, d2 = self._phi()
        changed = np.flatnonzero((f1 != self.f1) | (d1 != self.d1) | (d2 != self.d2))
        self._account(changed, self.f1[changed], self.d1[changed], self.d2[changed], -1.0)
        self._account(changed, f1[changed], d1[changed], d2[changed], 1.0)
        self.f1, self.d1, self.d2 = f1, d1, d2

    def local_search(self, deadline: float) -> int:
        moves = 0
        tol = 1e-9 * max(1.0, abs(self.objective))
        while time.perf_counter() < deadline:
            profit, i, f = self.best_swap()
            if profit <= tol:
                break
            self.swap(i, f)
            moves += 1
        if moves > 50:  # long runs of incremental sums drift; start the tables afresh
            self.reset(self.open)
        return moves

    def snapshot(self) -> tuple[np.ndarray, ...]:
        return (
            self.open.copy(),
            self.is_open.copy(),
            self.f1.copy(),
            self.d1.copy(),
            self.d2.copy(),
            self.gain.copy(),
            self.loss.copy(),
            self.extra.copy(),
        )

    def restore(self, snap: tuple[np.ndarray, ...]) -> None:
        o, io, f1, d1, d2, g, lo, ex = snap
        self.open, self.is_open, self.f1, self.d1, self.d2 = (
            o.copy(),
            io.copy(),
            f1.copy(),
            d1.copy(),
            d2.copy(),
        )
        self.gain, self.loss = g.copy(), lo.copy()
        np.copyto(self.extra, ex)


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
) -> FacilitySolution:
    """Choose ``p`` sites minimising the weighted cost of every row to its nearest open site.

    Parameters
    ----------
    cost
        (n, m) matrix, ``inf`` where a site cannot reach a row.
    p
        Number of sites to open.
    weights
        Per-row weight (residents); default 1.
    candidates
        Boolean mask or index list of the columns allowed as sites; default all.
    fixed
        Columns that must be open (counted in ``p``).
    seed
        Seed of the random starts and perturbations.
    time_limit
        Seconds for the whole search (heuristic plus exact check).
    exact
        Run the MIP check (SCIP through OR-Tools) after the heuristic; default: when n * m <= 40,000.
    max_stall
        VNS rounds without improvement before stopping; default ``max(100, 10 p)``.

    Returns
    -------
    FacilitySolution
        ``proven_optimal`` is True when the MIP closed the gap (or the case is trivial).

    Raises
    ------
    ValidationError
        Bad shapes or values.
    InfeasibleError
        ``p`` larger than the candidate count, or more fixed sites than ``p``.
    """
    t0 = time.perf_counter()
    deadline = t0 + float(time_limit)
    C = _as_cost(cost)
    n, m = C.shape
    w = _as_weights(weights, n)
    cand, fix = _select(m, p, candidates, fixed)
    unserved = _unservable(C, cand)
    _warn_unserved(unserved, "p-median")
    w_eff = w.copy()
    w_eff[unserved] = 0.0
    W = _weighted(C, w_eff, cand)
    rng = np.random.default_rng(seed)

    t_best = 0.0

    def finish(cols: np.ndarray, proven: bool, bound: float | None, method: str) -> FacilitySolution:
        cols = np.sort(cols)
        sub = W[:, cols]
        assign = cols[np.argmin(sub, axis=1)]
        real = C[np.arange(n), assign]
        unreached = np.flatnonzero(~np.isfinite(real))
        assign = assign.copy()
        assign[unreached] = -1
        obj = float((w * np.where(np.isfinite(real), real, 0.0)).sum())
        if unreached.size > unserved.size:
            log.warning("p = %d sites cannot reach every row: %d rows unreachable", p, unreached.size)
        elapsed = time.perf_counter() - t0
        to_best = t_best if method.startswith("vns") and "mip" not in method else elapsed
        return FacilitySolution(cols, assign, obj, proven, elapsed, bound, method, unreached, to_best)

    if p == cand.size:
        return finish(cand, True, None, "all candidates")
    if p == fix.size:
        return finish(fix, True, None, "all fixed")
    if p == 1:
        col = int(cand[np.argmin(W[:, cand].sum(axis=0))])
        return finish(np.array([col]), True, None, "enumeration")

    cand_mask = np.zeros(m, dtype=bool)
    cand_mask[cand] = True
    fixed_mask = np.zeros(m, dtype=bool)
    fixed_mask[fix] = True

    # Start: the better of plain greedy and a few randomised greedy starts, each polished by the swap search.
    state = _SwapState(W, cand_mask, fixed_mask, _greedy(W, p, cand, fix, None))
    state.local_search(deadline)
    best_snap, best_obj = state.snapshot(), state.objective
    t_best = time.perf_counter() - t0
    n_starts = 3
    for _ in range(n_starts):
        if time.perf_counter() >= deadline:
            break
        state.reset(_greedy(W, p, cand, fix, rng, top=3))
        state.local_search(deadline)
        if state.objective < best_obj - 1e-9 * max(1.0, best_obj):
            best_snap, best_obj = state.snapshot(), state.objective
            t_best = time.perf_counter() - t0
    state.restore(best_snap)

    # Variable neighbourhood search: k random swaps near the removed site, then the swap search again.
    stall_limit = max(100, 10 * p) if max_stall is None else int(max_stall)
    kmax = max(1, min(10, p - fix.size, cand.size - p))
    k, stall, rounds = 1, 0, 0
    order_by_row = None
    while stall < stall_limit and time.perf_counter() < deadline:
        rounds += 1
        for _ in range(k):
            removable = state.open[~fixed_mask[state.open]]
            f = int(removable[rng.integers(removable.size)])
            members = np.flatnonzero(state.f1 == f)
            if members.size and rng.random() < 0.8:
                if order_by_row is None:
                    order_by_row = np.argsort(W, axis=1, kind="stable")[:, : min(m, 12)]
                u = int(members[rng.integers(members.size)])
                near = [int(c) for c in order_by_row[u] if cand_mask[c] and not state.is_open[c]]
                closed = np.array(near, dtype=np.int64)
            else:
                closed = np.flatnonzero(cand_mask & ~state.is_open)
            if closed.size == 0:
                closed = np.flatnonzero(cand_mask & ~state.is_open)
            state.swap(int(closed[rng.integers(closed.size)]), f)
        state.local_search(deadline)
        if state.objective < best_obj - 1e-9 * max(1.0, best_obj):
            state.reset(state.open)  # exact tables before they become the reference
            best_snap, best_obj = state.snapshot(), state.objective
            t_best = time.perf_counter() - t0
            k, stall = 1, 0
        else:
            state.restore(best_snap)
            k = k % kmax + 1
            stall += 1
    best_cols = best_snap[0]
    log.debug("p-median VNS: %d rounds, objective %.6g, %.2fs", rounds, best_obj, time.perf_counter() - t0)

    use_exact = (n * m <= 40_000) if exact is None else bool(exact)
    remaining = deadline - time.perf_counter()
    if use_exact and remaining > 0.5 and unserved.size < n:
        cols, proven, bound = _pmedian_mip(W, p, cand, fix, best_cols, remaining)
        heur = float(W[:, best_cols].min(axis=1).sum())
        mip_obj = float(W[:, cols].min(axis=1).sum())
        if mip_obj < heur - 1e-9 * max(1.0, heur):
            best_cols = cols
            method = "vns+mip"
        else:
            method = "vns"
        final = float(W[:, best_cols].min(axis=1).sum())
        proven = proven or (bound is not None and final <= bound + 1e-6 * max(1.0, abs(bound)))
        if proven and unserved.size == 0:
            return finish(best_cols, True, bound, method + " (proved by mip)")
        return finish(best_cols, False, bound, method)
    return finish(best_cols, False, None, "vns")


def _pmedian_mip(
    W: np.ndarray, p: int, cand: np.ndarray, fix: np.ndarray, start: np.ndarray, time_limit: float
) -> tuple[np.ndarray, bool, float | None]:
    """The classic p-median MIP (y binary, x continuous, x <= y) with SCIP, hinted with ``start``."""
    solver = _mip_solver("SCIP")
    solver.SetTimeLimit(max(1, int(time_limit * 1000)))
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
    status = solver.Solve()
    has = solver.NumVariables() > 0 and status in (0, 1)
    try:
        proven = _raise_for_status(status, solver="mip", model="p-median", has_solution=has)
    except SolverError as exc:
        log.info("p-median MIP check gave up: %s", exc.message)
        return start, False, None
    cols = np.array(sorted(j for j, v in y.items() if v.solution_value() > 0.5), dtype=np.int64)
    bound = float(objective.BestBound())
    if cols.size != p:
        return start, False, bound
    return cols, proven, bound


# ------------------------------------------------------------------------------------ capacitated p-median


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


def _integer_costs(C: np.ndarray, arcs: np.ndarray) -> tuple[np.ndarray, float]:
    """Integer costs for CP-SAT: the costs themselves when integral, else scaled to 1/100 and rounded."""
    vals = C[arcs]
    if np.all(vals == np.round(vals)):
        return np.round(C).astype(np.float64), 1.0
    return np.round(C * 100.0), 100.0


def _gap_assign(
    C: np.ndarray, d: np.ndarray, cap: np.ndarray, cols: np.ndarray, time_limit: float, seed: int
) -> np.ndarray | None:
    """Single-source assignment of every row to one of ``cols`` (a generalised assignment) with CP-SAT."""
    from ortools.sat.python import cp_model

    n = C.shape[0]
    Ci, _scale = _integer_costs(C[:, cols], np.isfinite(C[:, cols]))
    model = cp_model.CpModel()
    x: dict[tuple[int, int], Any] = {}
    for i in range(n):
        for k, j in enumerate(cols):
            if np.isfinite(C[i, j]) and d[i] <= cap[j]:
                x[i, k] = model.new_bool_var("")
    for i in range(n):
        lits = [x[i, k] for k in range(cols.size) if (i, k) in x]
        if not lits:
            return None
        model.add_exactly_one(lits)
    dem = _int_demand(d)
    for k, j in enumerate(cols):
        model.add(
            sum(int(dem[0][i]) * x[i, k] for i in range(n) if (i, k) in x)
            <= math.floor(cap[j] * dem[1] + 1e-9)
        )
    model.minimize(sum(int(Ci[i, k]) * v for (i, k), v in x.items()))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, time_limit)
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = int(seed)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    assign = np.full(n, -1, dtype=np.int64)
    for (i, k), v in x.items():
        if solver.boolean_value(v):
            assign[i] = cols[k]
    return assign


def _int_demand(d: np.ndarray) -> tuple[np.ndarray, float]:
    if np.all(d == np.round(d)):
        return np.round(d).astype(np.int64), 1.0
    return np.round(d * 1000.0).astype(np.int64), 1000.0


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
) -> FacilitySolution:
    """Capacitated p-median with single-source assignment: every row goes whole to one open site.

    A location-allocation heuristic (uncapacitated p-median start, CP-SAT assignment, re-centring of each
    cluster) gives a hint for a MIP of the whole problem (SCIP), which then runs for the remaining time.

    Parameters
    ----------
    cost
        (n, m) matrix of assignment costs (``inf``: not allowed).
    demand
        Per-row demand (residents).
    capacity
        One capacity for every site, or one per column.
    p
        Number of sites to open.
    candidates
        Boolean mask or index list of the columns allowed as sites.
    seed, time_limit
        Seed and seconds for the whole search.
    neighbours
        Keep only each row's ``neighbours`` cheapest sites as assignment arcs (default: all when n * m <=
        20,000, else ``max(25, 4 n / p)``); with a restriction the result is not claimed optimal.

    Raises
    ------
    InfeasibleError
        Total capacity of the p largest sites below the total demand, or a row that fits no reachable site;
        or the solver proved the model infeasible.
    SolverError
        No solution within the time limit.
    """
    t0 = time.perf_counter()
    deadline = t0 + float(time_limit)
    C = _as_cost(cost)
    n, m = C.shape
    d = _as_weights(demand, n, "demand")
    cap = _as_capacity(capacity, m)
    cand, _ = _select(m, p, candidates, None)
    _check_capacity(C, d, cap, p, cand)

    # Heuristic hint: location-allocation.
    start = pmedian(
        C,
        p,
        weights=d,
        candidates=cand,
        seed=seed,
        time_limit=min(5.0, 0.15 * time_limit),
        exact=False,
        max_stall=50,
    )
    cols = start.medians
    best_assign: np.ndarray | None = None
    best_obj = math.inf
    for _ in range(10):
        if time.perf_counter() > deadline - 0.5:
            break
        assign = _gap_assign(C, d, cap, cols, min(2.0, 0.05 * time_limit), seed)
        if assign is None:
            break
        obj = float(C[np.arange(n), assign].sum())
        if obj >= best_obj - 1e-9:
            break
        best_obj, best_assign = obj, assign
        new_cols = []
        for j in cols:  # re-centre each cluster on its cheapest member site that can hold it
            members = np.flatnonzero(assign == j)
            load = float(d[members].sum())
            options = cand[(cap[cand] >= load)]
            totals = C[np.ix_(members, options)].sum(axis=0)
            for c in np.argsort(totals, kind="stable"):
                if int(options[c]) not in new_cols:
                    new_cols.append(int(options[c]))
                    break
            else:
                new_cols.append(int(j))
        cols = np.array(sorted(new_cols), dtype=np.int64)

    # Whole model: the strong MIP (x <= y) with SCIP, hinted with the heuristic; arcs limited to each row's
    # cheapest sites on larger matrices (plus the hint's own arcs), which keeps SCIP's LP small.
    full = n * len(cand) <= 5_000 if neighbours is None else False
    k_near = len(cand) if full else min(len(cand), neighbours or max(20, math.ceil(2.5 * n / p)))
    arcs = np.zeros((n, m), dtype=bool)
    finite = np.isfinite(C)
    order = np.argsort(np.where(finite[:, cand], C[:, cand], np.inf), axis=1, kind="stable")[:, :k_near]
    arcs[np.arange(n)[:, None], cand[order]] = True
    arcs &= finite & (cap[None, :] >= d[:, None])
    if best_assign is not None:
        arcs[np.arange(n), best_assign] = True

    solver = _mip_solver("SCIP")
    solver.SetTimeLimit(max(1, int((deadline - time.perf_counter()) * 1000)))
    solver.SetSolverSpecificParametersAsString(f"randomization/randomseedshift = {int(seed)}\n")
    y = {int(j): solver.BoolVar(f"y{j}") for j in cand}
    x: dict[tuple[int, int], Any] = {}
    by_col: dict[int, list[tuple[int, Any]]] = {int(j): [] for j in cand}
    objective = solver.Objective()
    for i in range(n):
        lits = []
        for j in np.flatnonzero(arcs[i]):
            v = solver.BoolVar("")
            x[i, int(j)] = v
            solver.Add(v <= y[int(j)])
            objective.SetCoefficient(v, float(C[i, j]))
            by_col[int(j)].append((i, v))
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
    if best_assign is not None:
        open_set = {int(j) for j in np.unique(best_assign)}
        hint_vars = list(y.values()) + list(x.values())
        hint_vals = [1.0 if j in open_set else 0.0 for j in y] + [
            1.0 if int(best_assign[i]) == j else 0.0 for (i, j) in x
        ]
        solver.SetHint(hint_vars, hint_vals)
    status = solver.Solve()
    has = status in (0, 1)  # OPTIMAL, FEASIBLE
    if not has and best_assign is not None and status == 6:  # NOT_SOLVED: time ran out, keep the heuristic
        log.warning("capacitated p-median: the MIP found nothing in time; returning the heuristic plan")
        return FacilitySolution(
            np.unique(best_assign),
            best_assign,
            best_obj,
            False,
            time.perf_counter() - t0,
            None,
            "location-allocation",
        )
    proven = _raise_for_status(status, solver="mip", model="capacitated p-median", has_solution=has)
    assign = np.full(n, -1, dtype=np.int64)
    for (i, j), v in x.items():
        if v.solution_value() > 0.5:
            assign[i] = j
    medians = np.array(sorted(j for j, v in y.items() if v.solution_value() > 0.5), dtype=np.int64)
    obj = float(C[np.arange(n), assign].sum())
    method = "location-allocation+mip"
    if best_assign is not None and best_obj < obj - 1e-9:
        assign, obj, medians, method = best_assign, best_obj, np.unique(best_assign), "location-allocation"
    bound = float(objective.BestBound()) if full else None
    proven = bool(proven and full) or (bound is not None and obj <= bound + 1e-6 * max(1.0, abs(bound)))
    if medians.size < p:  # a site with no customer still counts as open: top up with the cheapest
        extra = [int(j) for j in cand if int(j) not in set(medians.tolist())][: p - medians.size]
        medians = np.array(sorted([*medians.tolist(), *extra]), dtype=np.int64)
    return FacilitySolution(medians, assign, obj, proven, time.perf_counter() - t0, bound, method)


# -------------------------------------------------------------------------------------- maximal covering


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

    A greedy start hints a MIP (SCIP through OR-Tools: y binary, coverage z continuous in [0, 1]).
    Every row is assigned to its nearest open site; ``unserved`` lists the rows outside the radius.
    ``objective`` is the covered weight; ``lower_bound`` holds the solver's upper bound on it.
    """
    t0 = time.perf_counter()
    C = _as_cost(cost)
    n, m = C.shape
    w = _as_weights(weights, n)
    cand, fix = _select(m, p, candidates, fixed)
    if not (isinstance(radius, (int, float, np.floating, np.integer)) and radius >= 0):
        raise ValidationError(
            f"radius must be a number >= 0, got {radius!r}.", zh=f"半径必须是 >= 0 的数, 实际为 {radius!r}。"
        )
    cover = np.less_equal(C, radius)  # inf never covers
    # Greedy start: add the site that covers most still-uncovered weight (ties: lowest total cost).
    chosen = [int(j) for j in fix]
    covered = cover[:, chosen].any(axis=1) if chosen else np.zeros(n, dtype=bool)
    free = np.setdiff1d(cand, fix)
    while len(chosen) < p:
        avail = free[~np.isin(free, chosen)]
        gains = (w[:, None] * (cover[:, avail] & ~covered[:, None])).sum(axis=0)
        j = int(avail[int(np.argmax(gains))])
        chosen.append(j)
        covered |= cover[:, j]
    greedy_cols = np.array(sorted(chosen), dtype=np.int64)
    greedy_obj = float(w[covered].sum())

    solver = _mip_solver("SCIP")
    solver.SetTimeLimit(max(1, int(float(time_limit) * 1000 - (time.perf_counter() - t0) * 1000)))
    solver.SetSolverSpecificParametersAsString(f"randomization/randomseedshift = {int(seed)}\n")
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
    gset = set(greedy_cols.tolist())
    solver.SetHint(list(y.values()), [1.0 if j in gset else 0.0 for j in y])
    status = solver.Solve()
    proven = _raise_for_status(status, solver="mip", model="maximal covering", has_solution=status in (0, 1))
    cols = np.array(sorted(j for j, v in y.items() if v.solution_value() > 0.5), dtype=np.int64)
    value = float(w[cover[:, cols].any(axis=1)].sum()) if cols.size == p else -1.0
    method = "greedy+mip"
    if value < greedy_obj:
        cols, value, proven, method = greedy_cols, greedy_obj, False, "greedy"
    bound = float(obj.BestBound())
    proven = proven or value >= bound - 1e-6 * max(1.0, abs(bound))
    assign = cols[np.argmin(C[:, cols], axis=1)]
    outside = np.flatnonzero(~cover[:, cols].any(axis=1))
    return FacilitySolution(
        cols, assign, value, bool(proven), time.perf_counter() - t0, bound, method, outside
    )


# ------------------------------------------------------------------------------------------------ p-center


def _cover_feasible(
    cover: np.ndarray, p: int, cand: np.ndarray, fix: np.ndarray, time_limit: float, seed: int
) -> tuple[bool | None, np.ndarray | None]:
    """Can ``p`` sites (with ``fix``) cover every row? (True, cols) / (False, None) / (None, None) on timeout."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    y = {int(j): model.new_bool_var("") for j in cand}
    for i in range(cover.shape[0]):
        sites = [y[int(j)] for j in cand if cover[i, j]]
        if not sites:
            return False, None
        model.add_bool_or(sites)
    model.add(sum(y.values()) <= p)
    for j in fix:
        model.add(y[int(j)] == 1)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, time_limit)
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = int(seed)
    status = solver.solve(model)
    if status == cp_model.INFEASIBLE:
        return False, None
    if status == cp_model.UNKNOWN:
        return None, None
    _raise_for_status(status, solver="cp-sat", model="p-center cover", has_solution=True)
    return True, np.array(sorted(j for j, v in y.items() if solver.boolean_value(v)), dtype=np.int64)


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

    A greedy (farthest-row) start gives an upper bound; a bisection over the distinct costs with a CP-SAT
    set-cover test then closes the gap. Rows with weight 0 do not count; rows that no candidate reaches
    are listed in ``unserved`` and left out.

    Raises
    ------
    InfeasibleError
        ``p`` sites cannot reach every (reachable) row at all.
    """
    t0 = time.perf_counter()
    deadline = t0 + float(time_limit)
    C = _as_cost(cost)
    n, m = C.shape
    w = _as_weights(weights, n)
    cand, fix = _select(m, p, candidates, fixed)
    unserved = _unservable(C, cand)
    _warn_unserved(unserved, "p-center")
    rows = np.setdiff1d(np.flatnonzero(w > 0), unserved)
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
        if ok is False:
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
            proven = False
            break
        mid = (lo + hi) // 2
        ok, cols = _cover_feasible(Wr <= levels[mid], p, cand, fix, deadline - time.perf_counter(), seed)
        if ok is None:
            proven = False
            break
        if ok and cols is not None:
            best, hi = _fill(cols, p, cand, Wr), int(np.searchsorted(levels, value(_fill(cols, p, cand, Wr))))
        else:
            lo = mid + 1
    ub = value(best)
    lower = float(levels[lo]) if levels.size and lo < levels.size else ub
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
    )


def _fill(cols: np.ndarray, p: int, cand: np.ndarray, Wr: np.ndarray) -> np.ndarray:
    """Top a cover up to exactly p sites (extra sites never raise the maximum)."""
    chosen = [int(c) for c in cols]
    rest = [int(c) for c in cand if int(c) not in set(chosen)]
    while len(chosen) < p and rest:
        chosen.append(rest.pop(0))
    return np.array(sorted(chosen), dtype=np.int64)
