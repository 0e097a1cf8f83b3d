"""The CP-SAT solver as every model of the planner creates it."""

from __future__ import annotations

from ortools.sat.python import cp_model


def cp_solver() -> cp_model.CpSolver:
    """A CP-SAT solver that leaves Ctrl-C to Python.

    OR-Tools catches SIGINT by default, ends the search early and returns as if its budget had run out, so an
    interrupted run would be reported as a solver failure (exit 3) instead of an interruption that writes nothing.
    """
    solver = cp_model.CpSolver()
    solver.parameters.catch_sigint_signal = False
    return solver
