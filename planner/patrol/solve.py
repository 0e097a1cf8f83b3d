"""The day assignment's search: CP-SAT on one worker under a deterministic budget, in two phases.

The search is lexicographic: first the requirements (the penalties), then the least field time that keeps them.
It runs on one worker under a *deterministic* time budget, so a seed gives the same plan on any machine and
under any load. Measured on the demo's O02 (8 villages, 1 officer): one weighted objective needed 65
deterministic s to be optimal, the requirements alone 3 s.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from planner.engines.cpsat import cp_solver
from planner.errors import SolverError
from planner.patrol.daymodel import DayModel

log = logging.getLogger(__name__)

PHASE2_SHARE = 0.1  # of an office's deterministic budget, for the least field time once requirements are set

WALL_SAFETY = 20.0  # wall seconds per deterministic second before CP-SAT is stopped anyway


@dataclass(frozen=True)
class Solved:
    """The day assignment of one office: the solver holding the plan, whether phase 1 proved it best and the
    deterministic seconds used."""

    solver: Any
    proven: bool
    deterministic_seconds: float


def solve_lexicographic(dm: DayModel, office: str, *, seed: int, time_limit: float) -> Solved:
    """Phase 1 minimises the requirements' penalties; phase 2, with them held at the best found and the
    solution as hint, the field minutes. Phase 2's plan is kept when it has one."""
    from ortools.sat.python import cp_model

    model = dm.model
    solver, status, used = _solve(
        model, sum(dm.penalties), office, seed=seed, time_limit=time_limit * (1 - PHASE2_SHARE)
    )
    best = round(solver.objective_value)
    model.add(sum(dm.penalties) <= best)
    _hint_solution(model, solver)
    solver2, status2, used2 = _solve(
        model, sum(dm.driving), office, seed=seed, time_limit=time_limit * PHASE2_SHARE
    )
    if status2 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        solver, used = solver2, used + used2
    log.info(
        "office %s: requirements penalty %d (%s), field minutes %.0f, %.1f deterministic s",
        office,
        best,
        solver.status_name(status),
        solver.objective_value,
        used,
    )
    return Solved(solver, solver.status_name(status) == "OPTIMAL", used)


def _solve(
    model: Any, objective: Any, office: str, *, seed: int, time_limit: float
) -> tuple[Any, Any, float]:
    """Minimise ``objective`` with one CP-SAT worker under a deterministic budget (same seed, same plan).

    Returns the solver, its status and the deterministic seconds used. The model always has a plan (every
    requirement is soft and the hint is a feasible plan), so a stop by the budget still gives one.
    """
    from ortools.sat.python import cp_model

    model.minimize(objective)
    solver = cp_solver()
    solver.parameters.random_seed = int(seed)
    # one worker with a strong LP relaxation: deterministic, and on these set-partitioning models far faster
    # than the portfolio, whose LNS workers never left the all-office hint in the measured runs
    solver.parameters.num_workers = 1
    solver.parameters.linearization_level = 2
    # presolve costs more than it saves here: measured on the Andorra demo (8 villages, 1 officer, 17,000
    # booleans) it spent the whole 7 s budget before the first improving plan; without it the search is
    # optimal in under 2 deterministic seconds
    solver.parameters.cp_model_presolve = False
    limit = max(float(time_limit), 0.05)
    used = 0.0
    for _attempt in range(8):
        solver.parameters.max_deterministic_time = limit
        # wall time is only a safety net for a machine far slower than the deterministic clock assumes
        solver.parameters.max_time_in_seconds = limit * WALL_SAFETY
        status = solver.solve(model)
        used += solver.deterministic_time
        if solver.wall_time >= limit * WALL_SAFETY * 0.99:
            log.warning(
                "office %s: CP-SAT stopped by the wall-time safety net (%.0f s), not by its deterministic "
                "budget; the plan may differ between runs",
                office,
                solver.wall_time,
            )
        if status != cp_model.UNKNOWN:
            break
        # the budget ended before the first plan (the hint is completed by search): double it, deterministically
        log.info("office %s: no plan after %.2f deterministic s, doubling", office, limit)
        limit *= 2
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise SolverError(
            f"office {office}: the day assignment found no plan ({solver.status_name(status)}); raise the "
            "time limit.",
            zh=f"警务室 {office}: 排班未找到方案 ({solver.status_name(status)}); 请放宽时间限制。",
        )
    return solver, status, used


def _hint_solution(model: Any, solver: Any) -> None:
    """Hint every variable with its value in the solver's solution (the next phase starts from it)."""
    model.clear_hints()
    for i in range(len(model.proto.variables)):
        var = model.get_int_var_from_proto_index(i)
        model.add_hint(var, solver.value(var))
