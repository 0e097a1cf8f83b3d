"""Routing cores (arrays in, arrays out): CVRP, one officer's day (VRP with time windows) and the periodic VRP.

Two engines are used, each in one place: OR-Tools routing (:func:`_cvrp_ortools`, :func:`solve_vrptw`) and
PyVRP's hybrid genetic search (:func:`_cvrp_pyvrp`). Which one ``engine="auto"`` picks was decided by measurement
on CVRPLIB (BENCHMARKS-routing.md): PyVRP.

Node 0 is the depot in :func:`solve_cvrp` and :func:`solve_pvrp`; :func:`solve_vrptw` takes ``depot=``.
Routes are lists of node indices without the depot.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from planner.errors import InfeasibleError, SolverError, ValidationError

logger = logging.getLogger(__name__)

ENGINES = ("auto", "pyvrp", "ortools", "ortools-default")
_AUTO_ENGINE = "pyvrp"  # measured: BENCHMARKS-routing.md


@dataclass(frozen=True)
class RoutingSolution:
    """Routes found by a routing core.

    Attributes
    ----------
    routes
        One tuple of node indices per route, depot excluded. :func:`solve_cvrp` lists the used routes only;
        :func:`solve_vrptw` lists one route per vehicle (empty when the vehicle stays at the depot).
    cost
        Total travel (sum of the input matrix along every route, depot legs included), in the input's units.
    feasible
        Whether every constraint holds (checked on the returned routes, not taken from the solver).
    seconds
        Wall-clock seconds spent.
    engine
        The engine that produced the routes ("pyvrp", "ortools", "ortools-default").
    arrivals, service_starts, departures
        :func:`solve_vrptw` only: per route, per stop, when the officer arrives, starts the visit (after any
        wait for the window to open) and leaves.
    start_times, end_times
        :func:`solve_vrptw` only: per route, when the officer leaves the depot and is back.
    drive
        :func:`solve_vrptw` only: per route, the driving time (travel without service or waiting).
    dropped
        :func:`solve_vrptw` only: optional nodes left out because they did not fit (never silently).
    """

    routes: tuple[tuple[int, ...], ...]
    cost: float
    feasible: bool
    seconds: float
    engine: str
    arrivals: tuple[tuple[float, ...], ...] = ()
    service_starts: tuple[tuple[float, ...], ...] = ()
    departures: tuple[tuple[float, ...], ...] = ()
    start_times: tuple[float, ...] = ()
    end_times: tuple[float, ...] = ()
    drive: tuple[float, ...] = ()
    dropped: tuple[int, ...] = ()

    def summary(self) -> dict[str, Any]:
        """Key figures as a plain dict."""
        return {
            "routes": sum(1 for r in self.routes if r),
            "visits": sum(len(r) for r in self.routes),
            "cost": self.cost,
            "feasible": self.feasible,
            "seconds": round(self.seconds, 3),
            "engine": self.engine,
            "dropped": list(self.dropped),
        }


@dataclass(frozen=True)
class PeriodicSolution:
    """A periodic VRP plan: a visit pattern per customer and the routes of every day.

    Attributes
    ----------
    patterns
        Per node (index 0 = depot, -1 there), the chosen pattern as a tuple of day indices (0-based).
    days
        Per day, a :class:`RoutingSolution` of that day's routes (node indices of the whole instance).
    cost
        Total travel over all days.
    feasible
        Every customer visited on exactly the days of an allowed pattern, capacity, fleet and duration held.
    seconds, engine
        Wall-clock seconds and the daily routing engine.
    """

    patterns: tuple[tuple[int, ...], ...]
    days: tuple[RoutingSolution, ...]
    cost: float
    feasible: bool
    seconds: float
    engine: str
    history: tuple[float, ...] = field(default=())

    def summary(self) -> dict[str, Any]:
        """Key figures as a plain dict."""
        return {
            "days": len(self.days),
            "routes": sum(d.summary()["routes"] for d in self.days),
            "cost": self.cost,
            "feasible": self.feasible,
            "seconds": round(self.seconds, 3),
            "engine": self.engine,
        }


# --------------------------------------------------------------------------------------------------------------
# helpers


def _square(name: str, matrix: Any) -> np.ndarray:
    a = np.asarray(matrix, dtype=float)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] < 1:
        raise ValidationError(
            f"{name}: expected a square matrix, got shape {a.shape}.",
            zh=f"{name}: 应为方阵, 实际形状 {a.shape}。",
        )
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValidationError(
            f"{name}: every entry must be finite and >= 0 (unreachable pairs are not allowed).",
            zh=f"{name}: 每个元素必须有限且 >= 0 (不允许不可达)。",
        )
    return a


def _vector(name: str, values: Any, n: int) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    if a.shape != (n,):
        raise ValidationError(
            f"{name}: expected {n} values (one per node), got shape {a.shape}.",
            zh=f"{name}: 应有 {n} 个值 (每个节点一个), 实际形状 {a.shape}。",
        )
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValidationError(
            f"{name}: every value must be finite and >= 0.", zh=f"{name}: 每个值必须有限且 >= 0。"
        )
    return a


def _int_scale(matrix: np.ndarray) -> int:
    """1 when the matrix holds integers, else 1000: solvers need integer arcs, so floats are scaled."""
    return 1 if np.allclose(matrix, np.rint(matrix)) else 1000


def route_cost(distance: np.ndarray, route: Sequence[int], *, depot: int = 0) -> float:
    """Travel of ``depot -> route... -> depot`` on ``distance`` (0 for an empty route)."""
    if not route:
        return 0.0
    path = [depot, *route, depot]
    return float(sum(distance[a, b] for a, b in itertools.pairwise(path)))


def _cvrp_feasible(
    routes: Sequence[Sequence[int]], demand: np.ndarray, capacity: float, n: int, vehicles: int | None
) -> bool:
    seen = [c for r in routes for c in r]
    if sorted(seen) != list(range(1, n)):
        return False
    if vehicles is not None and sum(1 for r in routes if r) > vehicles:
        return False
    return all(demand[list(r)].sum() <= capacity + 1e-9 for r in routes if r)


# --------------------------------------------------------------------------------------------------------------
# CVRP


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
    """Capacitated vehicle routing: serve every customer once from depot 0, minimising total travel.

    Parameters
    ----------
    distance
        (n, n) travel costs, node 0 the depot; need not be symmetric. Floats are scaled by 1000 for the solver;
        the cost is always recomputed on the input matrix.
    demand
        (n,) demands; ``demand[0]`` is ignored.
    capacity
        Vehicle capacity.
    vehicles
        Number of vehicles available; ``None`` means as many as needed (CVRPLIB convention).
    time_limit
        Seconds of search.
    seed
        Random seed (PyVRP); OR-Tools' search is deterministic apart from where the time limit stops it.
    engine
        "auto" (the best measured: PyVRP), "pyvrp", "ortools" (tuned: savings start + guided local search)
        or "ortools-default" (plain OR-Tools: PATH_CHEAPEST_ARC and the default metaheuristic; the peer).

    Returns
    -------
    RoutingSolution

    Raises
    ------
    ValidationError
        Bad shapes or values.
    InfeasibleError
        A customer's demand exceeds the capacity, or the fleet cannot carry the total demand.
    SolverError
        No solution within the time limit.
    """
    dist = _square("distance", distance)
    n = dist.shape[0]
    dem = _vector("demand", demand, n).copy()
    dem[0] = 0.0
    if engine not in ENGINES:
        raise ValidationError(
            f"engine must be one of {ENGINES}, got {engine!r}.",
            zh=f"engine 必须是 {ENGINES} 之一, 实际为 {engine!r}。",
        )
    if capacity <= 0:
        raise ValidationError("capacity must be > 0.", zh="容量必须 > 0。")
    big = np.flatnonzero(dem > capacity)
    if big.size:
        raise InfeasibleError(
            f"customers {big.tolist()} demand more than the capacity {capacity} (e.g. {dem[big[0]]:g}).",
            zh=f"客户 {big.tolist()} 的需求超过容量 {capacity} (如 {dem[big[0]]:g})。",
        )
    if vehicles is not None and dem.sum() > vehicles * capacity + 1e-9:
        raise InfeasibleError(
            f"total demand {dem.sum():g} exceeds {vehicles} vehicles x capacity {capacity:g}.",
            zh=f"总需求 {dem.sum():g} 超过 {vehicles} 辆车 x 容量 {capacity:g}。",
        )
    start = time.perf_counter()
    if n == 1:
        return RoutingSolution((), 0.0, True, 0.0, engine)
    used = _AUTO_ENGINE if engine == "auto" else engine
    if used == "pyvrp":
        routes = _cvrp_pyvrp(dist, dem, capacity, vehicles=vehicles, time_limit=time_limit, seed=seed)
    else:
        routes = _cvrp_ortools(
            dist, dem, capacity, vehicles=vehicles, time_limit=time_limit, default=used == "ortools-default"
        )
    cost = sum(route_cost(dist, r) for r in routes)
    feasible = _cvrp_feasible(routes, dem, capacity, n, vehicles)
    return RoutingSolution(tuple(tuple(r) for r in routes), cost, feasible, time.perf_counter() - start, used)


def _fleet(dem: np.ndarray, capacity: float, vehicles: int | None) -> int:
    if vehicles is not None:
        return int(vehicles)
    n = dem.shape[0]
    lower = max(1, math.ceil(dem.sum() / capacity - 1e-9))
    # room above the bin-packing bound; unused vehicles cost nothing
    return int(min(n - 1, lower + 2 + lower // 5))


def _cvrp_pyvrp(
    dist: np.ndarray,
    dem: np.ndarray,
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
    """Daily CVRP with PyVRP (optionally with service times and a route-duration limit, for the PVRP)."""
    from pyvrp import Client, Depot, Location, ProblemData, Solution, VehicleType, solve
    from pyvrp.stop import MaxRuntime

    n = dist.shape[0]
    dscale = _int_scale(dist)
    d_int = np.rint(dist * dscale).astype(np.int64)
    qscale = 1 if np.allclose(dem, np.rint(dem)) and float(capacity).is_integer() else 1000
    if duration is None:
        dur_int = np.zeros_like(d_int)
        svc = np.zeros(n, dtype=np.int64)
        tscale = 1
    else:
        tscale = 1000
        dur_int = np.rint(duration * tscale).astype(np.int64)
        svc = np.rint((service if service is not None else np.zeros(n)) * tscale).astype(np.int64)
    locations = [Location(0, 0) for _ in range(n)]
    depots = [Depot(0)]
    clients = [
        Client(i, delivery=[round(dem[i] * qscale)], service_duration=int(svc[i])) for i in range(1, n)
    ]
    fleet = vehicles if vehicles is not None else n - 1
    shift = round(max_duration * tscale) if max_duration else np.iinfo(np.int64).max
    vtype = VehicleType(num_available=int(fleet), capacity=[round(capacity * qscale)], shift_duration=shift)
    data = ProblemData(locations, clients, depots, [vtype], [d_int], [dur_int])
    init = None
    if initial:
        init = Solution(data, [[c - 1 for c in r] for r in initial if r])  # PyVRP counts clients from 0
        if not init.is_feasible():
            init = None
    result = solve(
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


def _cvrp_ortools(
    dist: np.ndarray,
    dem: np.ndarray,
    capacity: float,
    *,
    vehicles: int | None,
    time_limit: float,
    default: bool = False,
) -> list[list[int]]:
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    n = dist.shape[0]
    fleet = _fleet(dem, capacity, vehicles)
    scale = _int_scale(dist)
    d_int = np.rint(dist * scale).astype(np.int64)
    qscale = 1 if np.allclose(dem, np.rint(dem)) and float(capacity).is_integer() else 1000
    manager = pywrapcp.RoutingIndexManager(n, fleet, 0)
    routing = pywrapcp.RoutingModel(manager)
    transit = routing.RegisterTransitMatrix(d_int.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(transit)
    demand_cb = routing.RegisterUnaryTransitVector(np.rint(dem * qscale).astype(np.int64).tolist())
    routing.AddDimensionWithVehicleCapacity(demand_cb, 0, [round(capacity * qscale)] * fleet, True, "load")
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
        idx = routing.Start(v)
        route = []
        idx = solution.Value(routing.NextVar(idx))
        while not routing.IsEnd(idx):
            route.append(manager.IndexToNode(idx))
            idx = solution.Value(routing.NextVar(idx))
        if route:
            routes.append(route)
    return routes


# --------------------------------------------------------------------------------------------------------------
# one officer's day: VRP with time windows, shift length, driving cap and optional visits


def solve_vrptw(
    duration: Any,
    service: Any,
    windows: Any,
    *,
    depot: int = 0,
    max_route_duration: float | None = None,
    max_drive: float | None = None,
    vehicles: int = 1,
    required: Any = None,
    penalties: Any = None,
    time_limit: float = 5.0,
    seed: int = 0,
) -> RoutingSolution:
    """Routes with time windows from and back to ``depot`` (the office): one officer's day, or several officers'.

    Times are in one unit throughout (e.g. seconds or minutes from midnight); the solver works in integers, so
    fractional values are rounded to the nearest unit. The depot's window is the shift's earliest start and latest
    return; a visit's window bounds the start of its service (waiting before it is allowed).

    Parameters
    ----------
    duration
        (n, n) travel times.
    service
        (n,) service time at each node (the depot's is spent before leaving).
    windows
        (n, 2) earliest and latest service start per node (NaN = open), or ``None`` for no windows.
    depot
        Index of the office node.
    max_route_duration
        Longest shift: return time minus start time, waiting included.
    max_drive
        Longest total driving per route.
    vehicles
        Number of officers (routes) starting at the depot.
    required
        Nodes that must be visited: a boolean mask (n,) or a list of indices. ``None``: every node is required
        unless ``penalties`` is given, in which case a node is optional when its penalty is finite.
    penalties
        (n,) cost of leaving each optional node out, in time units (``inf`` = required). Default for optional
        nodes: larger than any route, so the most visits that fit are made.
    time_limit
        Seconds of search (guided local search).
    seed
        Accepted for a uniform interface; OR-Tools' search is deterministic.

    Returns
    -------
    RoutingSolution
        With ``arrivals``, ``service_starts``, ``departures``, ``start_times``, ``end_times``, ``drive`` and
        ``dropped`` (optional nodes left out because they do not fit).

    Raises
    ------
    ValidationError
        Bad shapes or values.
    InfeasibleError
        A required node cannot be visited even alone (its window closes before the officer can get there, or the
        round trip exceeds the shift or the driving cap); the message gives the numbers.
    SolverError
        No solution visiting every required node was found within the time limit.
    """
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    dur = _square("duration", duration)
    n = dur.shape[0]
    svc = _vector("service", service, n)
    if not 0 <= depot < n:
        raise ValidationError(
            f"depot {depot} is not a node index (0..{n - 1}).",
            zh=f"depot {depot} 不是节点编号 (0..{n - 1})。",
        )
    if vehicles < 1:
        raise ValidationError("vehicles must be >= 1.", zh="vehicles 必须 >= 1。")
    win = _windows(windows, n)
    is_required = _required_mask(required, penalties, n, depot)
    pen = np.full(n, np.inf) if penalties is None else np.asarray(penalties, dtype=float)
    if pen.shape != (n,) or np.any(pen < 0):
        raise ValidationError(
            f"penalties: expected {n} values >= 0.", zh=f"penalties: 应为 {n} 个 >= 0 的值。"
        )

    start = time.perf_counter()
    d_int = np.rint(dur).astype(np.int64)
    s_int = np.rint(svc).astype(np.int64)
    lo = np.rint(np.nan_to_num(win[:, 0], nan=0.0)).astype(np.int64)
    horizon_guess = int(lo.max() + s_int.sum() + d_int.max() * (n + 1) + 1)
    hi = np.rint(np.nan_to_num(win[:, 1], nan=float(horizon_guess))).astype(np.int64)
    horizon = int(max(hi.max(), horizon_guess))
    hi = np.where(np.isnan(win[:, 1]), horizon, hi)
    _check_alone(d_int, s_int, lo, hi, is_required, depot, max_route_duration, max_drive)

    manager = pywrapcp.RoutingIndexManager(n, vehicles, depot)
    routing = pywrapcp.RoutingModel(manager)
    drive_cb = routing.RegisterTransitMatrix(d_int.tolist())
    time_cb = routing.RegisterTransitMatrix((d_int + s_int[:, None]).tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(drive_cb)
    routing.AddDimension(time_cb, horizon, horizon, False, "time")
    tdim = routing.GetDimensionOrDie("time")
    for node in range(n):
        if node == depot:
            continue
        tdim.CumulVar(manager.NodeToIndex(node)).SetRange(int(lo[node]), int(hi[node]))
    for v in range(vehicles):
        tdim.CumulVar(routing.Start(v)).SetRange(int(lo[depot]), int(hi[depot]))
        tdim.CumulVar(routing.End(v)).SetRange(int(lo[depot]), int(hi[depot]))
        if max_route_duration is not None:
            tdim.SetSpanUpperBoundForVehicle(round(max_route_duration), v)
        # the span cost removes idle time; then start as early and return as early as that allows
        routing.AddVariableMinimizedByFinalizer(tdim.CumulVar(routing.Start(v)))
        routing.AddVariableMinimizedByFinalizer(tdim.CumulVar(routing.End(v)))
    tdim.SetSpanCostCoefficientForAllVehicles(1)
    if max_drive is not None:
        routing.AddDimension(drive_cb, 0, round(max_drive), True, "drive")
    else:
        routing.AddDimension(drive_cb, 0, int(d_int.sum() + 1), True, "drive")
    ddim = routing.GetDimensionOrDie("drive")

    default_penalty = int(10 * (horizon + d_int.sum() + 1))
    for node in range(n):
        if node == depot or is_required[node]:
            continue
        p = default_penalty if not np.isfinite(pen[node]) else round(pen[node])
        routing.AddDisjunction([manager.NodeToIndex(node)], p)

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(1, int(time_limit * 1000)))
    if n <= 12:
        # tiny days are solved long before the limit: stop after enough improving solutions (reproducible too)
        params.solution_limit = 2000
    solution = routing.SolveWithParameters(params)
    if solution is None:
        raise SolverError(
            f"OR-Tools found no route visiting all {int(is_required.sum())} required nodes within {time_limit:g} s.",
            zh=f"OR-Tools 在 {time_limit:g} 秒内未找到访问全部 {int(is_required.sum())} 个必访节点的路线。",
        )

    routes, arrivals, starts, departs, t0s, t1s, drives = [], [], [], [], [], [], []
    for v in range(vehicles):
        idx = routing.Start(v)
        t_start = float(solution.Value(tdim.CumulVar(idx)))
        prev_node, prev_dep = depot, t_start + float(s_int[depot])
        route, arr, sts, dps = [], [], [], []
        idx = solution.Value(routing.NextVar(idx))
        while not routing.IsEnd(idx):
            node = manager.IndexToNode(idx)
            begin = float(solution.Value(tdim.CumulVar(idx)))
            route.append(node)
            arr.append(prev_dep + float(d_int[prev_node, node]))
            sts.append(begin)
            dps.append(begin + float(s_int[node]))
            prev_node, prev_dep = node, begin + float(s_int[node])
            idx = solution.Value(routing.NextVar(idx))
        t_end = float(solution.Value(tdim.CumulVar(idx)))
        if not route:
            t_end = t_start
        routes.append(tuple(route))
        arrivals.append(tuple(arr))
        starts.append(tuple(sts))
        departs.append(tuple(dps))
        t0s.append(t_start)
        t1s.append(t_end)
        drives.append(float(solution.Value(ddim.CumulVar(idx))) if route else 0.0)
    visited = {c for r in routes for c in r}
    dropped = tuple(i for i in range(n) if i != depot and i not in visited)
    for i in dropped:
        logger.info("node %d left out of the routes: it does not fit the shift, windows or driving cap", i)
    cost = sum(route_cost(dur, r, depot=depot) for r in routes)
    feasible = _vrptw_feasible(
        routes,
        starts,
        t0s,
        t1s,
        drives,
        d_int,
        s_int,
        lo,
        hi,
        depot,
        max_route_duration,
        max_drive,
        is_required,
    )
    return RoutingSolution(
        routes=tuple(routes),
        cost=cost,
        feasible=feasible,
        seconds=time.perf_counter() - start,
        engine="ortools",
        arrivals=tuple(arrivals),
        service_starts=tuple(starts),
        departures=tuple(departs),
        start_times=tuple(t0s),
        end_times=tuple(t1s),
        drive=tuple(drives),
        dropped=dropped,
    )


def _windows(windows: Any, n: int) -> np.ndarray:
    if windows is None:
        return np.full((n, 2), np.nan)
    w = np.array(
        [[np.nan, np.nan] if row is None else [np.nan if x is None else x for x in row] for row in windows],
        dtype=float,
    )
    if w.shape != (n, 2):
        raise ValidationError(
            f"windows: expected {n} rows of (earliest, latest), got shape {w.shape}.",
            zh=f"windows: 应为 {n} 行 (最早, 最晚), 实际形状 {w.shape}。",
        )
    bad = np.flatnonzero(w[:, 0] > w[:, 1])
    if bad.size:
        raise ValidationError(
            f"windows: earliest after latest at nodes {bad.tolist()}.",
            zh=f"windows: 节点 {bad.tolist()} 的最早时间晚于最晚时间。",
        )
    return w


def _required_mask(required: Any, penalties: Any, n: int, depot: int) -> np.ndarray:
    if required is None:
        if penalties is None:
            mask = np.ones(n, dtype=bool)
        else:
            mask = ~np.isfinite(np.asarray(penalties, dtype=float))
    else:
        r = np.asarray(required)
        if r.dtype == bool:
            if r.shape != (n,):
                raise ValidationError(
                    f"required: expected a mask of {n} booleans.", zh=f"required: 应为 {n} 个布尔值。"
                )
            mask = r.copy()
        else:
            mask = np.zeros(n, dtype=bool)
            idx = r.astype(int).ravel()
            if idx.size and (idx.min() < 0 or idx.max() >= n):
                raise ValidationError("required: node index out of range.", zh="required: 节点编号越界。")
            mask[idx] = True
    mask[depot] = False
    return mask


def _check_alone(
    d: np.ndarray,
    s: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    req: np.ndarray,
    depot: int,
    max_route: float | None,
    max_drive: float | None,
) -> None:
    """Raise InfeasibleError for a required node that cannot be visited even on a route of its own."""
    for i in np.flatnonzero(req):
        earliest = lo[depot] + s[depot] + d[depot, i]
        begin = max(earliest, lo[i])
        back = begin + s[i] + d[i, depot]
        span = back - (begin - d[depot, i] - s[depot])
        reason = None
        if earliest > hi[i]:
            reason = (
                f"node {i}: the earliest arrival {earliest} is after its window closes at {hi[i]}",
                f"节点 {i}: 最早到达 {earliest} 晚于时间窗关闭 {hi[i]}",
            )
        elif back > hi[depot]:
            reason = (
                f"node {i}: back at the office at {back} at the earliest, after the shift ends at {hi[depot]}",
                f"节点 {i}: 最早 {back} 回到驻地, 晚于班次结束 {hi[depot]}",
            )
        elif max_route is not None and span > max_route:
            reason = (
                f"node {i}: the round trip with the visit takes {span}, more than the shift {max_route:g}",
                f"节点 {i}: 往返加访问需 {span}, 超过班次 {max_route:g}",
            )
        elif max_drive is not None and d[depot, i] + d[i, depot] > max_drive:
            reason = (
                f"node {i}: the round trip drive takes {d[depot, i] + d[i, depot]}, more than the driving "
                f"cap {max_drive:g}",
                f"节点 {i}: 往返驾驶 {d[depot, i] + d[i, depot]}, 超过驾驶上限 {max_drive:g}",
            )
        if reason:
            raise InfeasibleError(
                f"required visit cannot fit: {reason[0]}.", zh=f"必访节点无法安排: {reason[1]}。"
            )


def _vrptw_feasible(
    routes: list[tuple[int, ...]],
    starts: list[tuple[float, ...]],
    t0s: list[float],
    t1s: list[float],
    drives: list[float],
    d: np.ndarray,
    s: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    depot: int,
    max_route: float | None,
    max_drive: float | None,
    req: np.ndarray,
) -> bool:
    visited = [c for r in routes for c in r]
    if len(visited) != len(set(visited)) or not set(np.flatnonzero(req).tolist()) <= set(visited):
        return False
    for route, sts, t0, t1, drv in zip(routes, starts, t0s, t1s, drives, strict=True):
        if not route:
            continue
        t = t0 + s[depot]
        prev = depot
        for node, begin in zip(route, sts, strict=True):
            if begin < t + d[prev, node] - 1e-6 or not lo[node] <= begin <= hi[node]:
                return False
            t, prev = begin + s[node], node
        if t1 < t + d[prev, depot] - 1e-6 or not lo[depot] <= t0 <= t1 <= hi[depot]:
            return False
        if max_route is not None and t1 - t0 > max_route + 1e-6:
            return False
        if max_drive is not None and drv > max_drive + 1e-6:
            return False
    return True


# --------------------------------------------------------------------------------------------------------------
# periodic VRP


def solve_pvrp(
    distance: Any,
    demand: Any,
    capacity: float,
    frequency: Any,
    patterns: Sequence[Sequence[Sequence[int]]],
    days: int,
    vehicles: int,
    *,
    max_duration: float | None = None,
    service: Any = None,
    time_limit: float = 120.0,
    seed: int = 0,
) -> PeriodicSolution:
    """Periodic VRP: pick an allowed visit pattern (set of days) per customer and route every day.

    Method: a cheapest-insertion construction picks a first pattern per customer. Then one PyVRP model of the
    whole period (a vehicle type and routing profile per day; a single-visit customer is a group of day copies
    so the search picks its day; when every customer is visited once, simply a CVRP with days x vehicles
    vehicles whose routes are given to days). Then rounds of pattern search (ruin and recreate: a customer and
    its neighbours leave all their days and come back on their cheapest allowed patterns, exact costs,
    record-to-record acceptance) alternate with re-routing every day by PyVRP warm-started from its routes.

    Parameters
    ----------
    distance
        (n, n) travel distances (= travel times for the duration limit), node 0 the depot.
    demand
        (n,) demand per visit; ``demand[0]`` ignored.
    capacity
        Vehicle capacity.
    frequency
        (n,) visits in the period per customer (``frequency[0]`` ignored).
    patterns
        Per node, the allowed patterns, each a sequence of 0-based day indices of length ``frequency[i]``
        (``patterns[0]`` ignored).
    days
        Days in the period.
    vehicles
        Vehicles available each day.
    max_duration
        Longest route (travel plus service), ``None`` or 0 for no limit.
    service
        (n,) service time per visit (counted in the duration), default 0.
    time_limit
        Seconds of search in all.
    seed
        Random seed.

    Returns
    -------
    PeriodicSolution

    Raises
    ------
    ValidationError
        Bad shapes, a pattern of the wrong length or naming a day outside the period.
    InfeasibleError
        A customer that no vehicle can serve alone (demand above capacity, or round trip above the duration).
    SolverError
        The construction could not place every customer within the fleet (the message names them).
    """
    dist = _square("distance", distance)
    n = dist.shape[0]
    dem = _vector("demand", demand, n).copy()
    dem[0] = 0.0
    freq = np.asarray(frequency, dtype=int)
    svc = np.zeros(n) if service is None else _vector("service", service, n)
    limit = float(max_duration) if max_duration else math.inf
    if freq.shape != (n,) or len(patterns) != n:
        raise ValidationError(
            f"frequency and patterns need {n} entries (one per node).",
            zh=f"frequency 和 patterns 需要 {n} 项 (每个节点一项)。",
        )
    pats: list[list[tuple[int, ...]]] = [[]]
    for i in range(1, n):
        options = [tuple(sorted(int(d) for d in p)) for p in patterns[i]]
        if not options or any(len(p) != freq[i] or min(p) < 0 or max(p) >= days for p in options):
            raise ValidationError(
                f"customer {i}: every pattern must name {freq[i]} distinct days among 0..{days - 1}; got {options}.",
                zh=f"客户 {i}: 每个访问组合必须包含 {freq[i]} 个 0..{days - 1} 之间的不同日期; 实际 {options}。",
            )
        pats.append(options)
    too_big = [i for i in range(1, n) if dem[i] > capacity]
    too_far = [i for i in range(1, n) if dist[0, i] + svc[i] + dist[i, 0] > limit + 1e-9]
    if too_big or too_far:
        raise InfeasibleError(
            f"customers {too_big} demand more than the capacity {capacity:g}; customers {too_far} cannot be "
            f"served within the duration {limit:g} even alone.",
            zh=f"客户 {too_big} 需求超过容量 {capacity:g}; 客户 {too_far} 即使单独服务也超过时长 {limit:g}。",
        )

    start = time.perf_counter()
    deadline = start + time_limit
    rng = np.random.default_rng(seed)
    plan = _PeriodicState(dist, dem, capacity, svc, limit, days, vehicles)
    chosen = plan.construct(pats, rng)
    history = [plan.total()]
    # one PyVRP model of the whole period: single-visit customers choose their day inside the search (a group
    # of day copies), the others keep their current pattern; then pattern moves with day re-optimisation; when
    # some customers are visited more than once, the model is solved again on the improved patterns
    single = bool(np.all(freq[1:] == 1))
    seconds = 0.6 * time_limit if single else 0.3 * time_limit
    if single:
        joint = _pvrp_single_visits(plan, pats, time_limit=seconds, seed=seed)
    else:
        joint = _pvrp_joint(plan, chosen, pats, time_limit=seconds, seed=seed)
    if joint is not None and sum(route_cost(dist, r) for day in joint for r in day) < plan.total() - 1e-9:
        plan.routes = joint
        for i in range(1, n):
            chosen[i] = tuple(d for d in range(days) if any(i in r for r in joint[d]))
    else:
        plan.reoptimise(range(days), 0.3 * time_limit / max(1, days), seed, deadline)
    history.append(plan.total())
    # then rounds of pattern search (ruin and recreate over patterns on the exact routes) and day re-routing
    rounds = 0
    while deadline - time.perf_counter() > 1.0:
        remaining = deadline - time.perf_counter()
        chosen = plan.lns(chosen, pats, rng, time.perf_counter() + min(0.15 * time_limit, 0.6 * remaining))
        rounds += 1
        share = min(0.05 * time_limit, deadline - time.perf_counter()) / days
        plan.reoptimise(range(days), share, seed + rounds, deadline)
        history.append(plan.total())
    day_solutions = []
    for d in range(days):
        routes = tuple(tuple(r) for r in plan.routes[d] if r)
        cost_d = sum(route_cost(dist, r) for r in routes)
        day_solutions.append(RoutingSolution(routes, cost_d, plan.day_feasible(d), 0.0, "pyvrp"))
    feasible = plan.feasible(chosen, pats)
    patterns_out = tuple([(-1,)] + [tuple(chosen[i]) for i in range(1, n)])
    logger.info("PVRP: %d rounds, cost %.2f -> %.2f", rounds, history[0], plan.total())
    return PeriodicSolution(
        patterns_out,
        tuple(day_solutions),
        plan.total(),
        feasible,
        time.perf_counter() - start,
        "pyvrp",
        tuple(history),
    )


class _PeriodicState:
    """The routes of every day with exact insertion and removal costs, for the PVRP's pattern moves."""

    def __init__(
        self,
        dist: np.ndarray,
        dem: np.ndarray,
        capacity: float,
        svc: np.ndarray,
        limit: float,
        days: int,
        vehicles: int,
    ) -> None:
        self.dist, self.dem, self.capacity, self.svc, self.limit = dist, dem, capacity, svc, limit
        self.days, self.vehicles = days, vehicles
        self.routes: list[list[list[int]]] = [[] for _ in range(days)]

    # --- measures
    def _load(self, r: list[int]) -> float:
        return float(self.dem[r].sum()) if r else 0.0

    def _duration(self, r: list[int]) -> float:
        return route_cost(self.dist, r) + (float(self.svc[r].sum()) if r else 0.0)

    def total(self) -> float:
        return float(sum(route_cost(self.dist, r) for day in self.routes for r in day))

    def day_feasible(self, d: int) -> bool:
        rs = [r for r in self.routes[d] if r]
        return len(rs) <= self.vehicles and all(
            self._load(r) <= self.capacity + 1e-9 and self._duration(r) <= self.limit + 1e-6 for r in rs
        )

    def feasible(self, chosen: dict[int, tuple[int, ...]], pats: list[list[tuple[int, ...]]]) -> bool:
        n = self.dist.shape[0]
        visits: dict[int, list[int]] = {i: [] for i in range(1, n)}
        for d in range(self.days):
            for r in self.routes[d]:
                for c in r:
                    visits[c].append(d)
        return all(self.day_feasible(d) for d in range(self.days)) and all(
            tuple(sorted(visits[i])) == chosen.get(i) and chosen.get(i) in pats[i] for i in range(1, n)
        )

    # --- insertion and removal
    def best_insertion(self, c: int, d: int) -> tuple[float, int, int]:
        """(extra travel, route, position) of the cheapest feasible insertion of ``c`` on day ``d``."""
        best = (math.inf, -1, -1)
        dist = self.dist
        for k, r in enumerate(self.routes[d]):
            if not r or self._load(r) + self.dem[c] > self.capacity + 1e-9:
                continue
            path = np.array([0, *r, 0])
            delta = dist[path[:-1], c] + dist[c, path[1:]] - dist[path[:-1], path[1:]]
            if math.isfinite(self.limit):
                room = self.limit - self._duration(r) - self.svc[c]
                delta = np.where(delta <= room + 1e-9, delta, np.inf)
            pos = int(np.argmin(delta))
            if delta[pos] < best[0]:
                best = (float(delta[pos]), k, pos)
        used = sum(1 for r in self.routes[d] if r)
        if used < self.vehicles:
            alone = dist[0, c] + dist[c, 0]
            if alone < best[0]:
                best = (float(alone), -1, 0)
        return best

    def insert(self, c: int, d: int, where: tuple[float, int, int]) -> None:
        _, k, pos = where
        if k < 0:
            self.routes[d] = [r for r in self.routes[d] if r] + [[c]]
        else:
            self.routes[d][k].insert(pos, c)

    def removal_gain(self, c: int, d: int) -> float:
        for r in self.routes[d]:
            if c in r:
                j = r.index(c)
                a = r[j - 1] if j > 0 else 0
                b = r[j + 1] if j + 1 < len(r) else 0
                return float(self.dist[a, c] + self.dist[c, b] - self.dist[a, b])
        raise AssertionError(f"customer {c} not on day {d}")

    def remove(self, c: int, d: int) -> None:
        for r in self.routes[d]:
            if c in r:
                r.remove(c)
        self.routes[d] = [r for r in self.routes[d] if r]

    # --- construction
    def construct(
        self, pats: list[list[tuple[int, ...]]], rng: np.random.Generator
    ) -> dict[int, tuple[int, ...]]:
        """Insert customers one by one, most constrained and largest first, each on its cheapest pattern."""
        n = self.dist.shape[0]
        order = sorted(
            range(1, n),
            key=lambda i: (len(pats[i]), -len(pats[i][0]) * self.dem[i], -self.dist[0, i], rng.random()),
        )
        chosen: dict[int, tuple[int, ...]] = {}
        unplaced = []
        for c in order:
            best_pat, best_cost = None, math.inf
            for p in pats[c]:
                cost = 0.0
                for d in p:
                    cost += self.best_insertion(c, d)[0]
                    if cost >= best_cost:
                        break
                if cost < best_cost:
                    best_pat, best_cost = p, cost
            if best_pat is None:
                unplaced.append(c)
                continue
            for d in best_pat:
                self.insert(c, d, self.best_insertion(c, d))
            chosen[c] = best_pat
        if unplaced:
            raise SolverError(
                f"customers {unplaced} could not be placed on any allowed pattern within {self.vehicles} vehicles "
                "a day (capacity or duration); try more vehicles.",
                zh=f"客户 {unplaced} 无法在每天 {self.vehicles} 辆车内安排到任何允许的访问组合; 请增加车辆。",
            )
        return chosen

    # --- improvement
    def lns(
        self,
        chosen: dict[int, tuple[int, ...]],
        pats: list[list[tuple[int, ...]]],
        rng: np.random.Generator,
        until: float,
    ) -> dict[int, tuple[int, ...]]:
        """Ruin and recreate over patterns until ``until``; keeps and returns the best plan found.

        Removes a customer and its nearest neighbours from all their days, reinserts each on its cheapest
        allowed pattern (cheapest feasible positions), and accepts by record-to-record travel (within 0.3 % of
        the best). The routes stay exact and feasible throughout.
        """
        n = self.dist.shape[0]
        if n < 4:
            return chosen
        best_cost = current = self.total()
        best = ([[list(r) for r in day] for day in self.routes], dict(chosen))
        near = np.argsort(self.dist[1:, 1:], axis=1) + 1
        while time.perf_counter() < until:
            k = int(rng.integers(2, max(3, min(15, n // 4)) + 1))
            removed = near[int(rng.integers(0, n - 1)), :k].tolist()
            saved = ([[list(r) for r in day] for day in self.routes], dict(chosen))
            for c in removed:
                for d in chosen[c]:
                    self.remove(c, d)
            ok = True
            for c in rng.permutation(removed).tolist():
                best_pat, best_ins = None, math.inf
                for p in pats[c]:
                    cost = 0.0
                    for d in p:
                        cost += self.best_insertion(c, d)[0]
                        if cost >= best_ins:
                            break
                    if cost < best_ins:
                        best_pat, best_ins = p, cost
                if best_pat is None:
                    ok = False
                    break
                for d in best_pat:
                    self.insert(c, d, self.best_insertion(c, d))
                chosen[c] = best_pat
            new = self.total() if ok else math.inf
            if new < best_cost * 1.003 and new < math.inf:
                current = new
                if new < best_cost - 1e-9:
                    best_cost = new
                    best = ([[list(r) for r in day] for day in self.routes], dict(chosen))
            else:
                self.routes, chosen = saved
        logger.debug("PVRP pattern search: best %.2f (last accepted %.2f)", best_cost, current)
        self.routes = best[0]
        return best[1]

    def reoptimise(self, days: Any, seconds: float, seed: int, deadline: float) -> None:
        """Re-route the given days with PyVRP from the current routes; keep the result only when shorter."""
        for d in days:
            budget = min(seconds, deadline - time.perf_counter())
            nodes = sorted({c for r in self.routes[d] for c in r})
            if budget < 0.05 or len(nodes) < 2:
                continue
            idx = np.array([0, *nodes])
            local = {g: k for k, g in enumerate(idx.tolist())}
            sub = self.dist[np.ix_(idx, idx)]
            init = [[local[c] for c in r] for r in self.routes[d] if r]
            try:
                new = _cvrp_pyvrp(
                    sub,
                    self.dem[idx],
                    self.capacity,
                    vehicles=self.vehicles,
                    time_limit=budget,
                    seed=seed + d,
                    duration=sub,
                    service=self.svc[idx],
                    max_duration=self.limit if math.isfinite(self.limit) else None,
                    initial=init,
                )
            except SolverError:
                logger.debug("day %d: PyVRP kept no feasible re-routing; routes unchanged", d)
                continue
            routes = [[int(idx[k]) for k in r] for r in new]
            old_cost = sum(route_cost(self.dist, r) for r in self.routes[d])
            if sum(route_cost(self.dist, r) for r in routes) < old_cost - 1e-9:
                self.routes[d] = routes


def _pvrp_joint(
    plan: _PeriodicState,
    chosen: dict[int, tuple[int, ...]],
    pats: list[list[tuple[int, ...]]],
    *,
    time_limit: float,
    seed: int,
) -> list[list[list[int]]] | None:
    """The whole period as one PyVRP model: a vehicle type and a routing profile per day, a client per visit.

    A customer with one visit and several allowed days gets one client per allowed day in a required
    mutually exclusive group, so the search itself picks the day; a customer visited more often keeps its
    pattern in ``chosen`` (a client on each of its days). A day's profile makes every arc touching another
    day's clients prohibitively long. Returns the routes per day (node indices), or None when the model is
    too large or PyVRP finds no feasible solution.
    """
    from pyvrp import Client, ClientGroup, Depot, Location, ProblemData, VehicleType, solve
    from pyvrp.exceptions import PenaltyBoundWarning
    from pyvrp.stop import MaxRuntime

    days, n = plan.days, plan.dist.shape[0]
    copies: list[tuple[int, int, int | None]] = []  # (node, day, group)
    groups: list[list[int]] = []
    for i in range(1, n):
        if len(chosen[i]) == 1 and len(pats[i]) > 1:
            members = []
            for p in pats[i]:
                members.append(len(copies))
                copies.append((i, p[0], len(groups)))
            groups.append(members)
        else:
            copies.extend((i, d, None) for d in chosen[i])
    size = len(copies) + 1
    if size * size * days > 40_000_000:
        logger.info("PVRP joint model too large (%d clients x %d days): pattern heuristic only", size, days)
        return None
    node = np.array([0] + [c[0] for c in copies])
    day_of = np.array([-1] + [c[1] for c in copies])
    scale = _int_scale(plan.dist)
    base = np.rint(plan.dist[np.ix_(node, node)] * scale).astype(np.int64)
    svc = np.rint(plan.svc[node] * scale).astype(np.int64)
    # longer than the whole constructed plan: no good solution uses such an arc; not larger, to keep PyVRP's
    # penalty scaling sane
    big = int(plan.total() * scale + base.max() + svc.max() + 1)
    matrices = []
    for d in range(days):
        other = (day_of != d) & (day_of >= 0)
        m = base.copy()
        m[other, :] = big
        m[:, other] = big
        np.fill_diagonal(m, 0)
        matrices.append(m)
    qscale = 1 if np.allclose(plan.dem, np.rint(plan.dem)) and float(plan.capacity).is_integer() else 1000
    clients = [
        Client(
            k + 1,
            delivery=[round(plan.dem[c[0]] * qscale)],
            service_duration=int(svc[k + 1]),
            required=c[2] is None,
            group=c[2],
        )
        for k, c in enumerate(copies)
    ]
    shift = round(plan.limit * scale) if math.isfinite(plan.limit) else np.iinfo(np.int64).max
    vtypes = [
        VehicleType(
            num_available=plan.vehicles,
            capacity=[round(plan.capacity * qscale)],
            shift_duration=shift,
            profile=d,
        )
        for d in range(days)
    ]
    data = ProblemData(
        [Location(0, 0) for _ in range(size)],
        clients,
        [Depot(0)],
        vtypes,
        matrices,
        matrices,
        groups=[ClientGroup(g, required=True) for g in groups],
    )
    with warnings.catch_warnings():
        # the day-forbidding arcs are long on purpose; PyVRP warns that its penalty bound may be too small for
        # them, which is harmless here: feasibility is checked below
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        best = solve(
            data, stop=MaxRuntime(float(time_limit)), seed=int(seed), collect_stats=False, display=False
        ).best
    if not best.is_feasible():
        logger.info("PVRP joint model: no feasible solution in %.1f s", time_limit)
        return None
    out: list[list[list[int]]] = [[] for _ in range(days)]
    for route in best.routes():
        d = int(route.vehicle_type())
        visits = [int(a.idx) for a in route if a.is_client()]
        if any(copies[k][1] != d for k in visits):
            return None
        out[d].append([copies[k][0] for k in visits])
    return out


def _pvrp_single_visits(
    plan: _PeriodicState, pats: list[list[tuple[int, ...]]], *, time_limit: float, seed: int
) -> list[list[list[int]]] | None:
    """Every customer visited once: a CVRP with ``days x vehicles`` vehicles, its routes then given to days.

    A route goes to a day allowed for all its customers (most constrained routes first, each day holding at most
    ``vehicles`` routes). Returns None when the routes cannot be given to days that way.
    """
    days, n = plan.days, plan.dist.shape[0]
    try:
        routes = _cvrp_pyvrp(
            plan.dist,
            plan.dem,
            plan.capacity,
            vehicles=days * plan.vehicles,
            time_limit=time_limit,
            seed=seed,
            duration=plan.dist,
            service=plan.svc,
            max_duration=plan.limit if math.isfinite(plan.limit) else None,
        )
    except SolverError:
        return None
    allowed = []
    for r in routes:
        ok = set(range(days))
        for c in r:
            ok &= {p[0] for p in pats[c]}
        allowed.append(ok)
    out: list[list[list[int]]] = [[] for _ in range(days)]
    for k in sorted(range(len(routes)), key=lambda k: len(allowed[k])):
        free = [d for d in sorted(allowed[k]) if len(out[d]) < plan.vehicles]
        if not free:
            logger.info("PVRP: CVRP routes cannot be given to days; falling back to the pattern heuristic")
            return None
        out[min(free, key=lambda d: len(out[d]))].append(routes[k])
    assert sorted(c for day in out for r in day for c in r) == list(range(1, n))
    return out
