"""Routing engines (arrays in, arrays out): CVRP, one officer's day (VRP with time windows) and the periodic VRP.

Each model has its own module with one seam, a frozen problem checked when made and ``solve(problem, *, seed=,
time_limit=)`` returning a result with ``summary()``: :mod:`~planner.engines.routing.cvrp` (:class:`CvrpProblem`),
:mod:`~planner.engines.routing.vrptw` (:class:`VrptwProblem`) and :mod:`~planner.engines.routing.pvrp`
(:class:`PvrpProblem`). :func:`solve_cvrp`, :func:`solve_vrptw` and :func:`solve_pvrp` do both steps in one call.
What they share (checks, integer scaling, :func:`route_cost`, :class:`RoutingSolution`) is in
:mod:`~planner.engines.routing.common`.

Node 0 is the depot in the CVRP and the periodic VRP; the day with time windows takes ``depot=``. Routes are lists
of node indices without the depot.
"""

from planner.engines.routing.common import RoutingSolution, route_cost
from planner.engines.routing.cvrp import ENGINES, CvrpProblem, solve_cvrp
from planner.engines.routing.pvrp import PeriodicSolution, PvrpProblem, solve_pvrp
from planner.engines.routing.vrptw import VrptwProblem, solve_vrptw

__all__ = [
    "ENGINES",
    "CvrpProblem",
    "PeriodicSolution",
    "PvrpProblem",
    "RoutingSolution",
    "VrptwProblem",
    "route_cost",
    "solve_cvrp",
    "solve_pvrp",
    "solve_vrptw",
]
