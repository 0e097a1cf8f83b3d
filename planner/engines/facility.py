"""Office placement: matrix cores for p-median, capacitated p-median, maximal covering and p-center.

Every core takes a cost matrix (rows = villages or customers, columns = candidate office sites, ``inf`` where a
site cannot reach a village) and returns a :class:`FacilitySolution`. The p-median core is a fast swap-based
local search (Whitaker 1983; Resende & Werneck 2007, "A fast swap-based local search procedure for location
problems") inside a variable neighbourhood search; a Lagrangian lower bound (subgradient ascent) stops it as
soon as the incumbent is proven optimal, and an optional MIP check (SCIP) serves small matrices. The
capacitated core combines location-allocation, Lagrangian median sets and a cluster-group matheuristic
(small CPMPs re-solved exactly), then hints a SCIP model of the whole problem with the best plan. OR-Tools is used in this module only, and its statuses are turned into :mod:`planner.errors` by :func:`_raise_for_status`.

Determinism: every random choice comes from ``numpy.random.default_rng(seed)`` and every search stops on a
count (VNS rounds without improvement and a round budget, subgradient iterations, SCIP nodes with one
thread, CP-SAT deterministic time with one worker), so the same input and seed give the same solution on
any machine load. ``time_limit`` is only a safety cap: when it cuts a search short, a warning is logged and
the solution is marked ``stopped_by_time=True``.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from planner.engines.cpsat import cp_solver
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
    stopped_by_time
        True when the ``time_limit`` safety cap cut a search short. Searches stop on deterministic counts
        (rounds, nodes, deterministic time), so only then may the same seed give a different result.
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
    stopped_by_time: bool = False

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
            "stopped_by_time": bool(self.stopped_by_time),
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


def _clock_cut(status: Any, seconds: float, limit: float) -> bool:
    """Did a MIP solve stop on the wall-clock cap (rather than optimality or its node limit)?"""
    from ortools.linear_solver import pywraplp

    return status != pywraplp.Solver.OPTIMAL and seconds >= 0.97 * limit


# Node limits make SCIP stop on a count rather than on the clock (single-threaded SCIP is deterministic);
# CP-SAT gets a deterministic-time budget (its own work units) for each p-center cover test.
_MIP_NODE_LIMIT = 20_000
_COVER_WORK = 10.0
_LA_ROUNDS = 10  # location-allocation rounds (assignment, re-centre) at most
_SUB_NODES = (1, 200, 30, 10)  # SCIP node limit of a sub-CPMP of q = 1, 2, 3, 4+ clusters (matheuristic)
_LNS_Q_MAX = 3  # largest group of clusters re-solved together
_LNS_SOLVES = 600  # sub-CPMP solves at most (all starts together)
_LNS_STARTS = 4  # starting plans for the matheuristic at most
_MIP_ARCS = 9_500  # the whole-model MIP runs only up to this many arcs (or when every arc is kept)
_LAG_ITERS = 300  # subgradient iterations of the CPMP Lagrangian
_LAG_STALL = 20  # iterations without a better bound before the step halves
_LAG_SETS = 8  # median sets from the Lagrangian that get a full assignment
_LNS_CENTRAL = 10  # free columns of least total cost to the freed rows offered as sites


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
    timed_out = False

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
        if timed_out:
            log.warning(
                "p-median: the time limit (%.3g s) cut the search short; the result may differ between runs",
                float(time_limit),
            )
        to_best = t_best if method.startswith("vns") and "mip" not in method else elapsed
        return FacilitySolution(
            cols, assign, obj, proven, elapsed, bound, method, unreached, to_best, bool(timed_out)
        )

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
    integral = bool(np.array_equal(W, np.round(W)))

    def proves(bound: float, value: float) -> bool:
        """Does a lower bound prove ``value`` optimal? With integral costs a gap below 1 is enough."""
        if not np.isfinite(bound):
            return False
        if integral:
            return value <= math.ceil(bound - 1e-6 * max(1.0, abs(bound))) + 1e-9
        return value <= bound + 1e-9 * max(1.0, abs(bound))

    # Start: greedy, polished by the swap search; then the Lagrangian bound, which may prove it optimal.
    state = _SwapState(W, cand_mask, fixed_mask, _greedy(W, p, cand, fix, None))
    timed_out |= not state.local_search(deadline)
    best_snap, best_obj = state.snapshot(), state.objective
    t_best = time.perf_counter() - t0
    if time.perf_counter() >= deadline:
        timed_out = True
        return finish(best_snap[0], False, None, "vns")
    lag_iter = int(min(2000, max(150, 2e8 // max(1, n * cand.size))))
    bound, iters = _lagrangian_bound(
        W, p, cand, fix, best_obj, state.d1, proves=lambda b: proves(b, best_obj), max_iter=lag_iter
    )
    log.debug("p-median Lagrangian bound %.6g after %d iterations (incumbent %.6g)", bound, iters, best_obj)
    if proves(bound, best_obj) and not timed_out:
        return finish(best_snap[0], unserved.size == 0, bound, "vns (proved by lagrangian bound)")

    # A few randomised greedy starts, each polished by the swap search.
    for _ in range(3):
        if time.perf_counter() >= deadline:
            timed_out = True
            break
        state.reset(_greedy(W, p, cand, fix, rng, top=3))
        timed_out |= not state.local_search(deadline)
        if state.objective < best_obj - 1e-9 * max(1.0, best_obj):
            best_snap, best_obj = state.snapshot(), state.objective
            t_best = time.perf_counter() - t0
    state.restore(best_snap)

    # Variable neighbourhood search: k random swaps near the removed site, then the swap search again.
    # It stops after ``stall_limit`` rounds without improvement, after ``round_limit`` rounds in all, or when
    # the bound proves the incumbent optimal: counts, not clocks, so the same seed gives the same result.
    stall_limit = min(max(50, 5 * p), 400) if max_stall is None else int(max_stall)
    round_limit = 20 * stall_limit if max_rounds is None else int(max_rounds)
    kmax = max(1, min(10, p - fix.size, cand.size - p))
    k, stall, rounds = 1, 0, 0
    order_by_row = None
    proven_by_bound = proves(bound, best_obj)
    while not proven_by_bound and stall < stall_limit and rounds < round_limit:
        if time.perf_counter() >= deadline:
            timed_out = True
            break
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
        timed_out |= not state.local_search(deadline)
        if state.objective < best_obj - 1e-9 * max(1.0, best_obj):
            state.reset(state.open)  # exact tables before they become the reference
            best_snap, best_obj = state.snapshot(), state.objective
            t_best = time.perf_counter() - t0
            k, stall = 1, 0
            proven_by_bound = proves(bound, best_obj)
        else:
            state.restore(best_snap)
            k = k % kmax + 1
            stall += 1
    best_cols = best_snap[0]
    log.debug(
        "p-median VNS: %d rounds (stall limit %d), objective %.6g, bound %.6g, %.2fs",
        rounds,
        stall_limit,
        best_obj,
        bound,
        time.perf_counter() - t0,
    )
    if proven_by_bound and not timed_out:
        return finish(best_cols, unserved.size == 0, bound, "vns (proved by lagrangian bound)")

    use_exact = (n * m <= 40_000) if exact is None else bool(exact)
    remaining = deadline - time.perf_counter()
    if use_exact and not timed_out and unserved.size < n:
        if remaining <= 0.5:
            timed_out = True
        else:
            cols, proven, mip_bound, cut = _pmedian_mip(W, p, cand, fix, best_cols, remaining, seed)
            timed_out |= cut
            heur = float(W[:, best_cols].min(axis=1).sum())
            mip_obj = float(W[:, cols].min(axis=1).sum())
            if mip_obj < heur - 1e-9 * max(1.0, heur):
                best_cols = cols
                method = "vns+mip"
            else:
                method = "vns"
            if mip_bound is not None:
                bound = max(bound, mip_bound)
            final = float(W[:, best_cols].min(axis=1).sum())
            proven = proven or proves(bound, final)
            if proven and unserved.size == 0:
                return finish(best_cols, True, bound, method + " (proved by mip)")
            return finish(best_cols, False, bound, method)
    return finish(best_cols, False, bound if np.isfinite(bound) else None, "vns")


def _pmedian_mip(
    W: np.ndarray, p: int, cand: np.ndarray, fix: np.ndarray, start: np.ndarray, time_limit: float, seed: int
) -> tuple[np.ndarray, bool, float | None, bool]:
    """The classic p-median MIP (y binary, x continuous, x <= y) with SCIP, hinted with ``start``.

    SCIP runs single-threaded with a node limit (deterministic); ``time_limit`` is a safety cap. Returns
    (columns, proven optimal, bound, whether the time cap cut it).
    """
    solver = _mip_solver("SCIP")
    solver.SetTimeLimit(max(1, int(time_limit * 1000)))
    solver.SetSolverSpecificParametersAsString(
        f"limits/nodes = {_MIP_NODE_LIMIT}\nrandomization/randomseedshift = {int(seed)}\n"
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
    cut = _clock_cut(status, time.perf_counter() - t_solve, time_limit)
    has = solver.NumVariables() > 0 and status in (0, 1)
    try:
        proven = _raise_for_status(status, solver="mip", model="p-median", has_solution=has)
    except SolverError as exc:
        log.info("p-median MIP check gave up: %s", exc.message)
        return start, False, None, cut
    cols = np.array(sorted(j for j, v in y.items() if v.solution_value() > 0.5), dtype=np.int64)
    bound = float(objective.BestBound())
    if cols.size != p:
        return start, False, bound, cut
    return cols, proven, bound, cut


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


def _sub_cpmp(
    C: np.ndarray,
    d: np.ndarray,
    cap: np.ndarray,
    rows: np.ndarray,
    sites: np.ndarray,
    q: int,
    hint: np.ndarray,
    *,
    seed: int,
    time_limit: float,
) -> tuple[np.ndarray | None, bool]:
    """Solve the CPMP of ``rows`` on ``sites`` with exactly ``q`` open sites (SCIP, strong x <= y form).

    SCIP runs with one thread and a node limit (``_SUB_NODES``), so the result repeats; ``hint`` is the current
    assignment of ``rows`` (columns). Returns (assignment of ``rows`` or None, whether the clock cut the solve).
    """
    solver = _mip_solver("SCIP")
    solver.SetSolverSpecificParametersAsString(
        f"limits/nodes = {_SUB_NODES[min(q, len(_SUB_NODES)) - 1]}\nrandomization/randomseedshift = {int(seed)}\n"
        # Full cut rounds and presolve cost more than the search on these small models.
        "separating/maxroundsroot = 3\nseparating/maxrounds = 1\npresolving/maxrounds = 0\n"
    )
    inf = solver.infinity()
    y = [solver.BoolVar("") for _ in sites]
    sub = C[np.ix_(rows, sites)]
    ok = np.isfinite(sub) & (cap[sites][None, :] >= d[rows][:, None])
    obj = solver.Objective()
    x: dict[tuple[int, int], Any] = {}
    # Direct constraint API (the natural ``solver.Add(expr)`` API costs more than the solve on these sizes).
    caps = []
    for b in range(sites.size):
        ct = solver.Constraint(-inf, 0.0)
        ct.SetCoefficient(y[b], -float(cap[sites[b]]))
        caps.append(ct)
    count = solver.Constraint(float(q), float(q))
    for b in range(sites.size):
        count.SetCoefficient(y[b], 1.0)
    for a in range(rows.size):
        cols_ok = np.flatnonzero(ok[a])
        if cols_ok.size == 0:
            return None, False
        one = solver.Constraint(1.0, 1.0)
        da = float(d[rows[a]])
        for bb in cols_ok:
            b = int(bb)
            v = solver.BoolVar("")
            x[a, b] = v
            link = solver.Constraint(-inf, 0.0)
            link.SetCoefficient(v, 1.0)
            link.SetCoefficient(y[b], -1.0)
            obj.SetCoefficient(v, float(sub[a, b]))
            one.SetCoefficient(v, 1.0)
            caps[b].SetCoefficient(v, da)
    obj.SetMinimization()
    pos = {int(s): b for b, s in enumerate(sites)}
    hint_vars = list(y) + list(x.values())
    opened = {pos[int(c)] for c in hint if int(c) in pos}
    hint_vals = [1.0 if b in opened else 0.0 for b in range(sites.size)] + [
        1.0 if pos.get(int(hint[a]), -1) == b else 0.0 for (a, b) in x
    ]
    solver.SetHint(hint_vars, hint_vals)
    limit = min(max(0.2, time_limit), 1e6)  # the deadline may be inf (no safety cap)
    solver.SetTimeLimit(max(1, int(limit * 1000)))
    t = time.perf_counter()
    status = solver.Solve()
    cut = _clock_cut(status, time.perf_counter() - t, limit)
    if status not in (0, 1):
        return None, cut
    out = np.full(rows.size, -1, dtype=np.int64)
    for (a, b), v in x.items():
        if v.solution_value() > 0.5:
            out[a] = sites[b]
    if (out < 0).any():
        return None, cut
    return out, cut


def _cluster_lns(
    C: np.ndarray,
    d: np.ndarray,
    cap: np.ndarray,
    cand: np.ndarray,
    medians: np.ndarray,
    assign: np.ndarray,
    *,
    seed: int,
    deadline: float,
    budget: int = _LNS_SOLVES,
) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """Improve a CPMP plan by re-solving groups of neighbouring clusters exactly (a matheuristic).

    After Stefanello, de Araujo & Mueller (2015, "Matheuristics for the capacitated p-median problem"): pick
    an open site and its ``q - 1`` nearest open sites (nearness: mean cost of one cluster's rows to the other
    site, both ways), free their rows, and solve that small CPMP exactly (:func:`_sub_cpmp`); the sites
    allowed are the group's own, each freed row's cheapest free column, and the ``_LNS_CENTRAL`` free columns
    of least total cost to the freed rows. A better sub-plan replaces the old one. Variable neighbourhood
    descent over q = 2 .. ``_LNS_Q_MAX`` (back to 2 after any gain); when no group improves, a relocation
    move moves one site across the map: a group of 3 clusters re-solved with 2 sites plus a disjoint group
    of 2 re-solved with 3, the best such pair if it gains. It stops when nothing gains or after
    ``budget`` sub-solves: counts, so the same input gives the same plan. Returns (medians,
    assignment, sub-solves made, whether the clock cut it).
    """
    S = [int(j) for j in medians]
    a = assign.copy()
    solves = 0
    cache: dict[tuple[frozenset[int], int, bytes], tuple[np.ndarray, np.ndarray, float] | None] = {}
    cand_ok = np.zeros(C.shape[1], dtype=bool)
    cand_ok[cand] = True

    class _Stop(Exception):
        pass

    state = {"cut": False}

    def groups(size: int) -> list[list[int]]:
        Sa = np.array(S, dtype=np.int64)
        members = [np.flatnonzero(a == u) for u in S]
        P = np.array([C[mb][:, Sa].mean(axis=0) if mb.size else C[:, Sa].mean(axis=0) for mb in members])
        P = np.where(np.isfinite(P), P, 1e300)
        D = P + P.T
        out, seen = [], set()
        for ui, u in enumerate(S):
            order = np.argsort(D[ui], kind="stable")
            g = [u, *[S[int(k)] for k in order if S[int(k)] != u][: size - 1]]
            if frozenset(g) not in seen:
                seen.add(frozenset(g))
                out.append(g)
        return out

    def solve(group: list[int], q: int) -> tuple[np.ndarray, np.ndarray, float] | None:
        """(rows, their new columns, cost change) of re-solving ``group`` with ``q`` sites, or None."""
        nonlocal solves
        rows = np.flatnonzero(np.isin(a, group))
        key = (frozenset(group), q, a[rows].tobytes())
        if key in cache:
            return cache[key]
        if time.perf_counter() >= deadline:
            state["cut"] = True
            raise _Stop
        if solves >= budget or rows.size == 0:
            raise _Stop
        free = cand_ok.copy()
        free[[s for s in S if s not in group]] = False
        free_cols = np.flatnonzero(free)
        subc = C[np.ix_(rows, free_cols)]
        subc = np.where(np.isfinite(subc), subc, 1e300)
        near = free_cols[np.argmin(subc, axis=1)]
        total = free_cols[np.argsort(subc.sum(axis=0), kind="stable")[:_LNS_CENTRAL]]
        sites = np.unique(np.concatenate([np.array(group, dtype=np.int64), near, total]))
        cur = float(C[rows, a[rows]].sum())
        new, cut = _sub_cpmp(
            C, d, cap, rows, sites, q, a[rows], seed=seed, time_limit=deadline - time.perf_counter()
        )
        solves += 1
        if cut:
            state["cut"] = True
            raise _Stop
        res = None if new is None else (rows, new, float(C[rows, new].sum()) - cur)
        cache[key] = res
        return res

    def apply(group: list[int], rows: np.ndarray, new: np.ndarray, q: int) -> None:
        nonlocal S
        a[rows] = new
        opened = set(np.unique(new).tolist())
        spare = [s for s in sorted(group) if s not in opened]
        opened |= set(spare[: max(0, q - len(opened))])  # a site may serve nobody: keep a freed one open
        S = sorted((set(S) - set(group)) | opened)

    def gains(res: tuple[np.ndarray, np.ndarray, float] | None, rows_cost: float) -> bool:
        return res is not None and res[2] < -1e-9 * max(1.0, rows_cost)

    q_max = min(_LNS_Q_MAX, len(S))
    total_cost = float(C[np.arange(C.shape[0]), a].sum())
    try:
        q = 2
        while q_max >= 2:
            found = False
            if q <= q_max:
                for g in groups(q):
                    res = solve(g, q)
                    if res is not None and gains(res, total_cost):
                        apply(g, res[0], res[1], q)
                        found = True
                        break
                q = 2 if found else q + 1
                continue
            if len(S) < 4:
                break
            # Relocation: close a site in one area (3 clusters -> 2), open one in another (2 -> 3).
            shrink_res = [(g, solve(g, 2)) for g in groups(3)]
            grow_res = [(g, solve(g, 3)) for g in groups(2)]
            shrink = sorted([(r[2], g, r) for g, r in shrink_res if r is not None], key=lambda t: t[0])
            grow = sorted([(r[2], g, r) for g, r in grow_res if r is not None], key=lambda t: t[0])
            best: tuple[float, list[int], Any, list[int], Any] | None = None
            for ds, gs, rs in shrink:
                for dg, gg, rg in grow:
                    if ds + dg >= (best[0] if best else -1e-9 * max(1.0, total_cost)):
                        break
                    if set(gs) & set(gg) or set(rs[1].tolist()) & set(rg[1].tolist()):
                        continue
                    best = (ds + dg, gs, rs, gg, rg)
                    break
            if best is None:
                break
            _, gs, rs, gg, rg = best
            apply(gs, rs[0], rs[1], 2)
            apply(gg, rg[0], rg[1], 3)
            log.debug("cpmp lns relocation: %.6g", best[0])
            q = 2
    except _Stop:
        pass
    if len(S) != len(medians):
        raise SolverError(
            f"capacitated p-median LNS lost track of the sites ({len(S)} open, p = {len(medians)}); a bug.",
            zh=f"容量 p-中位 LNS 的站点数出错 ({len(S)} 个, p = {len(medians)}); 程序错误。",
        )
    return np.array(sorted(S), dtype=np.int64), a, solves, state["cut"]


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

    Four stages. (1) Location-allocation from the uncapacitated p-median (single-source assignment by
    regret with shift and swap moves, re-centring of each cluster). (2) A Lagrangian relaxation of the
    assignment constraints with LP-knapsack subproblems (:func:`_cpmp_lagrangian`): a lower bound, and
    capacity-aware median sets; the ``_LAG_SETS`` best are polished by location-allocation. (3) A MIP of the
    whole problem (SCIP, one thread, x <= y) hinted with the best plan, which runs until it proves
    optimality or has explored ``max_nodes`` nodes; only when every arc is kept or the kept arcs number at
    most ``_MIP_ARCS`` (beyond that its root costs more than a 30 s budget). (4) Unless optimality is
    proven, a matheuristic (:func:`_cluster_lns`): groups of 2-3 neighbouring clusters re-solved exactly as
    small CPMPs, plus relocation moves that shift a site from one area to another. Every stage stops on
    counts or deterministic work, so the same seed gives the same plan; ``time_limit`` is a safety cap,
    and when it cuts a stage the solution is marked ``stopped_by_time`` and a warning is logged.

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
        Seed, and the safety cap in seconds for the whole search.
    max_nodes
        SCIP's node limit, the MIP's deterministic stopping rule. Default: 100 when every arc is kept
        (small cases, where SCIP usually proves optimality), else 1 (the root: its LP, cuts and primal
        heuristics starting from the hint; further nodes cost seconds each and seldom pay on larger cases).
    neighbours
        Keep only each row's ``neighbours`` cheapest sites as arcs of the whole-model MIP (default: all
        when n * m <= 5,000, else ``max(20, ceil(2.5 n / p))``); with a restriction SCIP's proof does not
        count, only the Lagrangian bound can prove a plan optimal.

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
        time_limit=max(1.0, 0.3 * time_limit),
        exact=False,
        max_stall=50,
    )
    timed_out = start.stopped_by_time
    best_cols, best_assign, best_obj = start.medians, None, math.inf
    plans: list[tuple[np.ndarray, np.ndarray, float]] = []  # starting plans for the matheuristic
    got = _quick_la(C, d, cap, cand, start.medians, deadline)
    if got is not None:
        best_cols, best_assign, best_obj = got
        plans.append(got)
    la_obj = best_obj
    timed_out |= time.perf_counter() >= deadline  # the cap stopped location-allocation (or is already due)

    # Capacity-aware median sets from the Lagrangian relaxation, each polished by quick location-allocation.
    lag_bound = None
    if time.perf_counter() < deadline:
        sets, lag_bound, cut = _cpmp_lagrangian(
            C, d, cap, p, cand, best_obj if math.isfinite(best_obj) else 0.0, deadline=deadline
        )
        timed_out |= cut
        for lag_cols in sets[:_LAG_SETS]:
            if time.perf_counter() >= deadline:
                timed_out = True
                break
            got = _quick_la(C, d, cap, cand, lag_cols, deadline)
            if got is not None:
                plans.append(got)
            if got is not None and got[2] < best_obj - 1e-9 * max(1.0, abs(best_obj)):
                best_cols, best_assign, best_obj = got
    lag_obj = best_obj

    # Whole model: the strong MIP (x <= y) with SCIP, hinted with the best plan so far; arcs limited to each
    # row's cheapest sites on larger matrices (plus the hint's own arcs), which keeps SCIP's LP small. Its root
    # (LP, cuts, SCIP's primal heuristics) pays up to ``_MIP_ARCS`` arcs; beyond that it costs more than
    # the whole budget on a shared 2-core machine, and the matheuristic gets the time instead.
    full = n * len(cand) <= 5_000 if neighbours is None else False
    k_near = len(cand) if full else min(len(cand), neighbours or max(20, math.ceil(2.5 * n / p)))
    arcs = np.zeros((n, m), dtype=bool)
    finite = np.isfinite(C)
    order = np.argsort(np.where(finite[:, cand], C[:, cand], np.inf), axis=1, kind="stable")[:, :k_near]
    arcs[np.arange(n)[:, None], cand[order]] = True
    arcs &= finite & (cap[None, :] >= d[:, None])
    if best_assign is not None:
        arcs[np.arange(n), best_assign] = True
    method = "lagrangian"
    proven = False
    bound = lag_bound if lag_bound is not None and math.isfinite(lag_bound) else None
    tol = 1e-9 * max(1.0, abs(best_obj)) if math.isfinite(best_obj) else 0.0
    if best_assign is None or full or int(arcs.sum()) <= _MIP_ARCS:
        got_mip, cut = _cpmp_whole_mip(
            C,
            d,
            cap,
            p,
            cand,
            arcs,
            best_cols,
            best_assign,
            max_nodes=(100 if full else 1) if max_nodes is None else max_nodes,
            seed=seed,
            deadline=deadline,
        )
        timed_out |= cut
        if got_mip is not None:
            m_cols, m_assign, m_proven, m_bound = got_mip
            m_obj = float(C[np.arange(n), m_assign].sum())
            method += "+mip"
            if best_assign is None or m_obj < best_obj - tol:
                best_cols, best_assign, best_obj = m_cols, m_assign, m_obj
            if full:  # every arc kept: SCIP's bound and proof hold for the whole problem
                proven = m_proven
                bound = m_bound if bound is None else max(bound, m_bound)
    if best_assign is None:
        raise SolverError(
            "capacitated p-median: no feasible plan within the time limit; give more time.",
            zh="容量 p-中位: 时限内未找到可行方案; 请增加时限。",
        )
    if bound is not None and best_obj <= bound + 1e-6 * max(1.0, abs(bound)):
        proven = True

    # Matheuristic from the best plan, then from the next distinct starting plans (best first) while the
    # shared sub-solve budget lasts: at most ``_LNS_STARTS`` starts.
    lns_solves = 0
    starts: list[tuple[np.ndarray, np.ndarray]] = [(best_cols, best_assign)]
    seen_starts = {np.sort(best_cols).tobytes()}
    for cols_k, assign_k, _obj in sorted(plans, key=lambda t: t[2]):
        if np.sort(cols_k).tobytes() not in seen_starts:
            seen_starts.add(np.sort(cols_k).tobytes())
            starts.append((cols_k, assign_k))
    for cols_k, assign_k in starts[:_LNS_STARTS]:
        if proven or lns_solves >= _LNS_SOLVES:
            break
        if time.perf_counter() >= deadline:
            timed_out = True
            break
        lns_cols, lns_assign, used, cut = _cluster_lns(
            C, d, cap, cand, cols_k, assign_k, seed=seed, deadline=deadline, budget=_LNS_SOLVES - lns_solves
        )
        lns_solves += used
        timed_out |= cut
        if "+lns" not in method:
            method += "+lns"
        lns_obj = float(C[np.arange(n), lns_assign].sum())
        if lns_obj < best_obj - tol:
            best_obj, best_assign, best_cols = lns_obj, lns_assign, lns_cols
        if bound is not None and best_obj <= bound + 1e-6 * max(1.0, abs(bound)):
            proven = True
        if cut:
            break
    log.info(
        "capacitated p-median: location-allocation %.6g, Lagrangian sets %.6g (bound %s), then %s %.6g "
        "(%d LNS sub-solves), %.1f s",
        la_obj,
        lag_obj,
        "none" if lag_bound is None else f"{lag_bound:.6g}",
        method,
        best_obj,
        lns_solves,
        time.perf_counter() - t0,
    )
    if timed_out:
        log.warning(
            "capacitated p-median: the time limit (%.3g s) cut the search short; the plan may differ "
            "between runs",
            float(time_limit),
        )
    medians = np.array(sorted(int(j) for j in best_cols), dtype=np.int64)
    return FacilitySolution(
        medians,
        best_assign,
        best_obj,
        proven,
        time.perf_counter() - t0,
        bound,
        method,
        stopped_by_time=timed_out,
    )


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
    solver = _mip_solver("SCIP")
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
    cut = _clock_cut(status, time.perf_counter() - t_solve, mip_limit)
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
    proven = _raise_for_status(status, solver="mip", model="capacitated p-median", has_solution=has)
    assign = np.full(n, -1, dtype=np.int64)
    for (i, j), v in x.items():
        if v.solution_value() > 0.5:
            assign[i] = j
    opened = sorted(j for j, v in y.items() if v.solution_value() > 0.5)
    if len(opened) < p:  # a site with no customer still counts as open: top up with the cheapest
        rest = [int(j) for j in cand if int(j) not in set(opened)]
        opened = sorted([*opened, *rest[: p - len(opened)]])
    return (np.array(opened, dtype=np.int64), assign, proven, float(objective.BestBound())), cut


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
    ``objective`` is the covered weight; ``lower_bound`` holds the solver's upper bound on it. SCIP runs
    with one thread and a node limit (deterministic); ``time_limit`` is a safety cap, and when it cuts the
    solve the solution is marked ``stopped_by_time``.
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
    solver.SetSolverSpecificParametersAsString(
        f"limits/nodes = {_MIP_NODE_LIMIT}\nrandomization/randomseedshift = {int(seed)}\n"
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
    gset = set(greedy_cols.tolist())
    solver.SetHint(list(y.values()), [1.0 if j in gset else 0.0 for j in y])
    mip_limit = max(0.5, float(time_limit) - (time.perf_counter() - t0))
    solver.SetTimeLimit(max(1, int(mip_limit * 1000)))
    t_solve = time.perf_counter()
    status = solver.Solve()
    timed_out = _clock_cut(status, time.perf_counter() - t_solve, mip_limit)
    if timed_out:
        log.warning("maximal covering: the time limit (%.3g s) cut the MIP short", float(time_limit))
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


# ------------------------------------------------------------------------------------------------ p-center


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
    _raise_for_status(status, solver="cp-sat", model="p-center cover", has_solution=True)
    return "yes", np.array(sorted(j for j, v in y.items() if solver.boolean_value(v)), dtype=np.int64)


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


def _fill(cols: np.ndarray, p: int, cand: np.ndarray, Wr: np.ndarray) -> np.ndarray:
    """Top a cover up to exactly p sites (extra sites never raise the maximum)."""
    chosen = [int(c) for c in cols]
    rest = [int(c) for c in cand if int(c) not in set(chosen)]
    while len(chosen) < p and rest:
        chosen.append(rest.pop(0))
    return np.array(sorted(chosen), dtype=np.int64)
