"""Office placement: matrix cores for p-median, capacitated p-median, maximal covering and p-center.

Every core takes a cost matrix (rows = villages or customers, columns = candidate office sites, ``inf`` where a
site cannot reach a village) and returns a :class:`FacilitySolution`. The p-median core is a fast swap-based
local search (Whitaker 1983; Resende & Werneck 2007, "A fast swap-based local search procedure for location
problems") inside a variable neighbourhood search; a Lagrangian lower bound (subgradient ascent) stops it as
soon as the incumbent is proven optimal, and an optional MIP check (SCIP) serves small matrices. The
capacitated core hints a SCIP model of the whole problem with a location-allocation heuristic (regret
assignment with shift and swap moves, re-centring). OR-Tools is used in this module only, and its statuses are turned into :mod:`planner.errors` by :func:`_raise_for_status`.

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
_GAP_WORK = 0.5  # CP-SAT deterministic time of each single-source assignment (hinted by the regret one)


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


def _integer_costs(C: np.ndarray, arcs: np.ndarray) -> tuple[np.ndarray, float]:
    """Integer costs for CP-SAT: the costs themselves when integral, else scaled to 1/100 and rounded."""
    vals = C[arcs]
    if np.all(vals == np.round(vals)):
        return np.round(C).astype(np.float64), 1.0
    return np.round(C * 100.0), 100.0


def _gap_assign(
    C: np.ndarray,
    d: np.ndarray,
    cap: np.ndarray,
    cols: np.ndarray,
    time_limit: float,
    seed: int,
    *,
    work: float = 2.0,
    hint: np.ndarray | None = None,
) -> tuple[np.ndarray | None, bool]:
    """Single-source assignment of every row to one of ``cols`` (a generalised assignment) with CP-SAT.

    CP-SAT runs with one worker and a deterministic time budget ``work`` (its own work units, about seconds
    on an idle machine), so the result repeats; ``time_limit`` is a wall-clock safety cap. Returns
    (assignment or None, whether the wall clock cut the solve).
    """
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
            return None, False
        model.add_exactly_one(lits)
    dem = _int_demand(d)
    for k, j in enumerate(cols):
        model.add(
            sum(int(dem[0][i]) * x[i, k] for i in range(n) if (i, k) in x)
            <= math.floor(cap[j] * dem[1] + 1e-9)
        )
    model.minimize(sum(int(Ci[i, k]) * v for (i, k), v in x.items()))
    if hint is not None:  # a full assignment (column per row), e.g. from _regret_assign
        for (i, k), v in x.items():
            model.add_hint(v, int(hint[i]) == int(cols[k]))
    solver = cp_model.CpSolver()
    solver.parameters.max_deterministic_time = float(work)
    solver.parameters.max_time_in_seconds = max(0.1, time_limit)
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = int(seed)
    status = solver.solve(model)
    cut = status != cp_model.OPTIMAL and solver.wall_time >= 0.97 * max(0.1, time_limit)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, cut
    assign = np.full(n, -1, dtype=np.int64)
    for (i, k), v in x.items():
        if solver.boolean_value(v):
            assign[i] = cols[k]
    return assign, cut


def _int_demand(d: np.ndarray) -> tuple[np.ndarray, float]:
    if np.all(d == np.round(d)):
        return np.round(d).astype(np.int64), 1.0
    return np.round(d * 1000.0).astype(np.int64), 1000.0


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

    A location-allocation heuristic (uncapacitated p-median start; single-source assignment by regret with
    shift and swap moves, polished by CP-SAT with a deterministic work budget; re-centring of each cluster)
    gives a hint for a MIP of the whole problem (SCIP, one thread, x <= y), which runs until it
    proves optimality or has explored ``max_nodes`` branch-and-bound nodes. Every stage stops on counts or deterministic work, so the same seed gives the same plan;
    ``time_limit`` is a safety cap, and when it cuts a stage the solution is marked ``stopped_by_time``
    and a warning is logged.

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
        time_limit=max(1.0, 0.3 * time_limit),
        exact=False,
        max_stall=50,
    )
    timed_out = start.stopped_by_time
    cols = start.medians
    best_assign: np.ndarray | None = None
    best_obj = math.inf
    for _ in range(_LA_ROUNDS):
        remaining = deadline - time.perf_counter()
        if remaining < 0.5:
            timed_out = True
            break
        quick = _regret_assign(C, d, cap, cols)
        assign, cut = _gap_assign(C, d, cap, cols, remaining, seed, work=_GAP_WORK, hint=quick)
        timed_out |= cut
        if quick is not None and (
            assign is None or C[np.arange(n), quick].sum() < C[np.arange(n), assign].sum()
        ):
            assign = quick
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

    if max_nodes is None:
        max_nodes = 100 if full else 1
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
    mip_limit = max(0.5, deadline - time.perf_counter())
    solver.SetTimeLimit(max(1, int(mip_limit * 1000)))
    t_solve = time.perf_counter()
    status = solver.Solve()
    timed_out |= _clock_cut(status, time.perf_counter() - t_solve, mip_limit)
    log.info(
        "capacitated p-median MIP: status %d after %d nodes, %.1f s (node limit %d)",
        status,
        solver.nodes(),
        time.perf_counter() - t_solve,
        max_nodes,
    )
    if timed_out:
        log.warning(
            "capacitated p-median: the time limit (%.3g s) cut the search short; the plan may differ "
            "between runs",
            float(time_limit),
        )
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
            stopped_by_time=timed_out,
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
    return FacilitySolution(
        medians, assign, obj, proven, time.perf_counter() - t0, bound, method, stopped_by_time=timed_out
    )


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
    solver = cp_model.CpSolver()
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
