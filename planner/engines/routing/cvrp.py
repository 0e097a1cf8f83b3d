"""Capacitated vehicle routing (CVRP): serve every customer once from depot 0, minimising total travel.

Two engines, each used here only: PyVRP's hybrid genetic search (:func:`pyvrp_routes`, also the periodic VRP's
daily router, hence its optional durations and warm start) and OR-Tools routing (:func:`_ortools_routes`).
Which one ``engine="auto"`` picks was decided by measurement on CVRPLIB (BENCHMARKS-routing.md): PyVRP.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from planner.engines.routing.common import (
    RoutingSolution,
    customer_demand,
    distance_scale,
    load_scale,
    route_cost,
    scaled,
    square_matrix,
)
from planner.errors import InfeasibleError, SolverError, ValidationError

logger = logging.getLogger(__name__)

ENGINES = ("auto", "pyvrp", "ortools", "ortools-default")
AUTO_ENGINE = "pyvrp"  # measured: BENCHMARKS-routing.md


@dataclass(frozen=True, eq=False)
class CvrpProblem:
    """A CVRP instance, checked when made.

    Attributes
    ----------
    distance
        (n, n) travel costs, node 0 the depot; need not be symmetric. Floats are scaled by 1000 for the solver;
        the cost is always recomputed on this matrix.
    demand
        (n,) demands; the depot's is set to 0.
    capacity
        Vehicle capacity.
    vehicles
        Number of vehicles available; ``None`` means as many as needed (CVRPLIB convention).

    Raises
    ------
    ValidationError
        Bad shapes or values.
    InfeasibleError
        A customer's demand exceeds the capacity, or the fleet cannot carry the total demand.
    """

    distance: np.ndarray
    demand: np.ndarray
    capacity: float
    vehicles: int | None = None

    def __post_init__(self) -> None:
        distance = square_matrix("distance", self.distance)
        object.__setattr__(self, "distance", distance)
        object.__setattr__(self, "demand", customer_demand(self.demand, distance.shape[0]))
        if self.capacity <= 0:
            raise ValidationError("capacity must be > 0.", zh="容量必须 > 0。")
        demand, capacity, vehicles = self.demand, self.capacity, self.vehicles
        big = np.flatnonzero(demand > capacity)
        if big.size:
            raise InfeasibleError(
                f"customers {big.tolist()} demand more than the capacity {capacity} (e.g. {demand[big[0]]:g}).",
                zh=f"客户 {big.tolist()} 的需求超过容量 {capacity} (如 {demand[big[0]]:g})。",
            )
        if vehicles is not None and demand.sum() > vehicles * capacity + 1e-9:
            raise InfeasibleError(
                f"total demand {demand.sum():g} exceeds {vehicles} vehicles x capacity {capacity:g}.",
                zh=f"总需求 {demand.sum():g} 超过 {vehicles} 辆车 x 容量 {capacity:g}。",
            )

    @property
    def size(self) -> int:
        """Number of nodes, depot included."""
        return int(self.distance.shape[0])

    def is_feasible(self, routes: Sequence[Sequence[int]]) -> bool:
        """Whether ``routes`` serve every customer exactly once within the capacity and the fleet."""
        seen = [c for r in routes for c in r]
        if sorted(seen) != list(range(1, self.size)):
            return False
        if self.vehicles is not None and sum(1 for r in routes if r) > self.vehicles:
            return False
        return all(self.demand[list(r)].sum() <= self.capacity + 1e-9 for r in routes if r)


def solve(
    problem: CvrpProblem, *, seed: int = 0, time_limit: float = 10.0, engine: str = "auto"
) -> RoutingSolution:
    """Route ``problem``'s customers.

    Parameters
    ----------
    problem
        The instance.
    seed
        Random seed (PyVRP); OR-Tools' search is deterministic apart from where the time limit stops it.
    time_limit
        Seconds of search.
    engine
        "auto" (the best measured: PyVRP), "pyvrp", "ortools" (tuned: savings start + guided local search)
        or "ortools-default" (plain OR-Tools: PATH_CHEAPEST_ARC and the default metaheuristic; the peer).

    Returns
    -------
    RoutingSolution
        The used routes only, with their cost on ``problem.distance``.

    Raises
    ------
    ValidationError
        An unknown engine.
    SolverError
        No solution within the time limit.
    """
    if engine not in ENGINES:
        raise ValidationError(
            f"engine must be one of {ENGINES}, got {engine!r}.",
            zh=f"engine 必须是 {ENGINES} 之一, 实际为 {engine!r}。",
        )
    start = time.perf_counter()
    if problem.size == 1:
        return RoutingSolution((), 0.0, True, 0.0, engine)
    used = AUTO_ENGINE if engine == "auto" else engine
    if used == "pyvrp":
        routes = pyvrp_routes(
            problem.distance,
            problem.demand,
            problem.capacity,
            vehicles=problem.vehicles,
            time_limit=time_limit,
            seed=seed,
        )
    else:
        routes = _ortools_routes(problem, time_limit=time_limit, default=used == "ortools-default")
    cost = sum(route_cost(problem.distance, r) for r in routes)
    seconds = time.perf_counter() - start
    logger.debug("CVRP (%s): %d routes, cost %.2f in %.2f s", used, len(routes), cost, seconds)
    return RoutingSolution(tuple(tuple(r) for r in routes), cost, problem.is_feasible(routes), seconds, used)


def solve_cvrp(
    distance: Any,
    demand: Any,
    capacity: float,
    *,
    vehicles: int | None = None,
    time_limit: float = 10.0,
    seed: int = 0,
    engine: str = "auto",
) -> RoutingSolution:
    """Capacitated vehicle routing: :class:`CvrpProblem` then :func:`solve`, in one call.

    Parameters
    ----------
    distance, demand, capacity, vehicles
        As in :class:`CvrpProblem`.
    time_limit, seed, engine
        As in :func:`solve`.

    Returns
    -------
    RoutingSolution

    Raises
    ------
    ValidationError
        Bad shapes or values, or an unknown engine.
    InfeasibleError
        A customer's demand exceeds the capacity, or the fleet cannot carry the total demand.
    SolverError
        No solution within the time limit.
    """
    problem = CvrpProblem(distance, demand, capacity, vehicles)
    return solve(problem, seed=seed, time_limit=time_limit, engine=engine)


def pyvrp_routes(
    distance: np.ndarray,
    demand: np.ndarray,
    capacity: float,
    *,
    vehicles: int | None,
    time_limit: float,
    seed: int,
    duration: np.ndarray | None = None,
    service: np.ndarray | None = None,
    max_duration: float | None = None,
    initial: list[list[int]] | None = None,
) -> list[list[int]]:
    """CVRP routes by PyVRP, optionally with service times and a route-duration limit (the PVRP's days).

    Parameters
    ----------
    distance
        (n, n) checked travel costs, node 0 the depot.
    demand
        (n,) demands, the depot's 0.
    capacity
        Vehicle capacity.
    vehicles
        Fleet size; ``None``: one vehicle per customer (unused ones cost nothing).
    time_limit
        Seconds of search.
    seed
        PyVRP's seed.
    duration
        (n, n) travel times for the duration limit; ``None``: durations are not counted.
    service
        (n,) service times (with ``duration``).
    max_duration
        Longest route (travel plus service), ``None`` for no limit.
    initial
        Routes to start the search from (node indices); ignored when not feasible.

    Returns
    -------
    list of list of int
        The used routes, node indices without the depot.

    Raises
    ------
    SolverError
        PyVRP's best solution is not feasible.
    """
    from pyvrp import Client, Depot, Location, ProblemData, Solution, VehicleType
    from pyvrp import solve as pyvrp_solve
    from pyvrp.stop import MaxRuntime

    n = distance.shape[0]
    d_int = scaled(distance, distance_scale(distance))
    qscale = load_scale(demand, capacity)
    if duration is None:
        dur_int = np.zeros_like(d_int)
        svc = np.zeros(n, dtype=np.int64)
        tscale = 1
    else:
        # durations always scaled: a route-duration limit is compared with travel plus service
        tscale = 1000
        dur_int = scaled(duration, tscale)
        svc = scaled(service if service is not None else np.zeros(n), tscale)
    locations = [Location(0, 0) for _ in range(n)]
    clients = [
        Client(i, delivery=[round(demand[i] * qscale)], service_duration=int(svc[i])) for i in range(1, n)
    ]
    fleet = vehicles if vehicles is not None else n - 1
    shift = round(max_duration * tscale) if max_duration else np.iinfo(np.int64).max
    vtype = VehicleType(num_available=int(fleet), capacity=[round(capacity * qscale)], shift_duration=shift)
    matrices: list[Any] = [d_int, dur_int]  # PyVRP's stubs type matrices by a shape numpy does not infer
    data = ProblemData(locations, clients, [Depot(0)], [vtype], matrices[:1], matrices[1:])
    init = None
    if initial:
        init = Solution(data, [[c - 1 for c in r] for r in initial if r])  # PyVRP counts clients from 0
        if not init.is_feasible():
            logger.debug("PyVRP: the initial routes are not feasible; starting from scratch")
            init = None
    result = pyvrp_solve(
        data,
        stop=MaxRuntime(float(time_limit)),
        seed=int(seed),
        collect_stats=False,
        display=False,
        initial_solution=init,
    )
    best = result.best
    if not best.is_feasible():
        raise SolverError(
            "PyVRP found no feasible solution within the time limit.", zh="PyVRP 在时限内未找到可行解。"
        )
    # activities include the depots at both ends; a client activity's idx counts clients from 0
    return [[int(a.idx) + 1 for a in route if a.is_client()] for route in best.routes()]


def _ortools_fleet(problem: CvrpProblem) -> int:
    """OR-Tools needs a fixed fleet: the given one, else room above the bin-packing bound (unused cost nothing)."""
    if problem.vehicles is not None:
        return int(problem.vehicles)
    lower = max(1, math.ceil(problem.demand.sum() / problem.capacity - 1e-9))
    return int(min(problem.size - 1, lower + 2 + lower // 5))


def _ortools_routes(problem: CvrpProblem, *, time_limit: float, default: bool) -> list[list[int]]:
    """CVRP routes by OR-Tools: tuned (savings + guided local search) or, with ``default``, its defaults."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    n, fleet = problem.size, _ortools_fleet(problem)
    d_int = scaled(problem.distance, distance_scale(problem.distance))
    qscale = load_scale(problem.demand, problem.capacity)
    manager = pywrapcp.RoutingIndexManager(n, fleet, 0)
    routing = pywrapcp.RoutingModel(manager)
    transit = routing.RegisterTransitMatrix(d_int.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(transit)
    demand_cb = routing.RegisterUnaryTransitVector(scaled(problem.demand, qscale).tolist())
    capacities = [round(problem.capacity * qscale)] * fleet
    routing.AddDimensionWithVehicleCapacity(demand_cb, 0, capacities, True, "load")
    params = pywrapcp.DefaultRoutingSearchParameters()
    if default:
        params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    else:
        params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.SAVINGS
        params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(1, int(time_limit * 1000)))
    solution = routing.SolveWithParameters(params)
    if solution is None:
        raise SolverError(
            f"OR-Tools found no CVRP solution within {time_limit:g} s (status {routing.status()}).",
            zh=f"OR-Tools 在 {time_limit:g} 秒内未找到 CVRP 解 (状态 {routing.status()})。",
        )
    routes = []
    for v in range(fleet):
        idx = solution.Value(routing.NextVar(routing.Start(v)))
        route = []
        while not routing.IsEnd(idx):
            route.append(manager.IndexToNode(idx))
            idx = solution.Value(routing.NextVar(idx))
        if route:
            routes.append(route)
    return routes
