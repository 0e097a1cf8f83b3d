"""The monthly patrol plan: routing cores (CVRP, one officer's day with time windows, periodic VRP) and the month.

The routing cores live in :mod:`planner.patrol.routing`; ``plan_month`` in :mod:`planner.patrol.month`.
"""

from planner.patrol.month import PatrolPlan, check_schedule, make_roster, plan_month
from planner.patrol.routing import PeriodicSolution, RoutingSolution, solve_cvrp, solve_pvrp, solve_vrptw

__all__ = [
    "PatrolPlan",
    "PeriodicSolution",
    "RoutingSolution",
    "check_schedule",
    "make_roster",
    "plan_month",
    "solve_cvrp",
    "solve_pvrp",
    "solve_vrptw",
]
