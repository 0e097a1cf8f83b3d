"""What the facility-location models share: the solution type, input validation and OR-Tools' statuses.

OR-Tools' linear solvers and CP-SAT statuses are turned into :mod:`planner.errors` here only
(:func:`raise_for_status`), so every model reports a solver failure the same way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from planner.errors import InfeasibleError, SolverError, ValidationError

log = logging.getLogger(__name__)

# Node limits make SCIP stop on a count rather than on the clock (single-threaded SCIP is deterministic).
MIP_NODE_LIMIT = 20_000

EMPTY_COLUMNS = np.empty(0, dtype=np.int64)


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
    unserved: np.ndarray = field(default_factory=lambda: EMPTY_COLUMNS)
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


def as_cost(cost: Any) -> np.ndarray:
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


def as_weights(weights: Any, n: int, name: str = "weights") -> np.ndarray:
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


def as_columns(values: Any, m: int, name: str) -> np.ndarray:
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


def select_columns(m: int, p: int, candidates: Any, fixed: Any) -> tuple[np.ndarray, np.ndarray]:
    cand = np.arange(m, dtype=np.int64) if candidates is None else as_columns(candidates, m, "candidates")
    fix = EMPTY_COLUMNS if fixed is None else as_columns(fixed, m, "fixed")
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


def unservable_rows(cost: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """Rows that no candidate column reaches."""
    return np.flatnonzero(~np.isfinite(cost[:, cand]).any(axis=1))


def warn_unserved(rows: np.ndarray, what: str) -> None:
    if rows.size:
        log.warning(
            "%d rows cannot be reached from any candidate site and are left out of the %s: %s",
            rows.size,
            what,
            rows[:20].tolist(),
        )


# ------------------------------------------------------------------------------------- OR-Tools in one place


def raise_for_status(status: Any, *, solver: str, model: str, has_solution: bool) -> bool:
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


def mip_solver(name: str = "SCIP") -> Any:
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver(name)
    if solver is None:
        raise SolverError(
            f"OR-Tools was built without the {name} solver.", zh=f"OR-Tools 未包含 {name} 求解器。"
        )
    return solver


def clock_cut(status: Any, seconds: float, limit: float) -> bool:
    """Did a MIP solve stop on the wall-clock cap (rather than optimality or its node limit)?"""
    from ortools.linear_solver import pywraplp

    return status != pywraplp.Solver.OPTIMAL and seconds >= 0.97 * limit


def validate_siting(
    cost: Any, p: int, weights: Any, candidates: Any, fixed: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(cost, weights, candidate columns, fixed columns) of a p-site model, checked in that order.

    The p-median and p-center problems validate their data here, so that they accept and refuse the same input.
    """
    arr = as_cost(cost)
    n, m = arr.shape
    w = as_weights(weights, n)
    cand, fix = select_columns(m, p, candidates, fixed)
    return arr, w, cand, fix
