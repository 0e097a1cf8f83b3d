"""One officer's day (or several officers'): vehicle routing with time windows, a shift, a driving cap and
optional visits, by OR-Tools routing (used here only).

Times are in one unit throughout (e.g. seconds or minutes from midnight); the solver works in integers, so
fractional values are rounded to the nearest unit. The depot's window is the shift's earliest start and latest
return; a visit's window bounds the start of its service (waiting before it is allowed).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from planner.engines.routing.common import RoutingSolution, node_values, route_cost, scaled, square_matrix
from planner.errors import InfeasibleError, SolverError, ValidationError

logger = logging.getLogger(__name__)

#: below this many nodes a day is solved long before the time limit: stop on a count of improving solutions
#: instead, which is also reproducible
SMALL_DAY = 12
SMALL_DAY_SOLUTIONS = 2000


@dataclass(frozen=True, eq=False)
class VrptwProblem:
    """A day of visits from and back to ``depot``, checked when made.

    Attributes
    ----------
    duration
        (n, n) travel times.
    service
        (n,) service time at each node (the depot's is spent before leaving).
    windows
        (n, 2) earliest and latest service start per node (NaN = open); given as rows of pairs with ``None`` for
        an open bound or row, or ``None`` for no windows at all.
    depot
        Index of the office node.
    max_route_duration
        Longest shift: return time minus start time, waiting included.
    max_drive
        Longest total driving per route.
    vehicles
        Number of officers (routes) starting at the depot.
    required
        (n,) mask of the nodes that must be visited; given as a boolean mask or a list of indices. ``None``: every
        node is required unless ``penalties`` is given, in which case a node is optional when its penalty is
        finite. The depot is never "required".
    penalties
        (n,) cost of leaving each optional node out, in time units (``inf`` = the default: larger than any
        route, so the most visits that fit are made).

    Raises
    ------
    ValidationError
        Bad shapes or values.
    """

    duration: np.ndarray
    service: np.ndarray
    windows: Any = None
    depot: int = 0
    max_route_duration: float | None = None
    max_drive: float | None = None
    vehicles: int = 1
    required: Any = None
    penalties: Any = None

    def __post_init__(self) -> None:
        duration = square_matrix("duration", self.duration)
        n = duration.shape[0]
        object.__setattr__(self, "duration", duration)
        object.__setattr__(self, "service", node_values("service", self.service, n))
        if not 0 <= self.depot < n:
            raise ValidationError(
                f"depot {self.depot} is not a node index (0..{n - 1}).",
                zh=f"depot {self.depot} 不是节点编号 (0..{n - 1})。",
            )
        if self.vehicles < 1:
            raise ValidationError("vehicles must be >= 1.", zh="vehicles 必须 >= 1。")
        object.__setattr__(self, "windows", _windows(self.windows, n))
        object.__setattr__(self, "required", _required_mask(self.required, self.penalties, n, self.depot))
        penalties = np.full(n, np.inf) if self.penalties is None else np.array(self.penalties, dtype=float)
        if penalties.shape != (n,) or np.any(penalties < 0):
            raise ValidationError(
                f"penalties: expected {n} values >= 0.", zh=f"penalties: 应为 {n} 个 >= 0 的值。"
            )
        object.__setattr__(self, "penalties", penalties)

    @property
    def size(self) -> int:
        """Number of nodes, depot included."""
        return int(self.duration.shape[0])


@dataclass(frozen=True)
class _IntegerDay:
    """The day in the solver's integers: travel, service, window bounds (open ones closed at the horizon)."""

    travel: np.ndarray
    service: np.ndarray
    earliest: np.ndarray
    latest: np.ndarray
    horizon: int

    @classmethod
    def of(cls, problem: VrptwProblem) -> _IntegerDay:
        n = problem.size
        travel = scaled(problem.duration, 1)
        service = scaled(problem.service, 1)
        win = problem.windows
        earliest = scaled(np.nan_to_num(win[:, 0], nan=0.0), 1)
        # an open window closes at a horizon later than any route could end
        horizon_guess = int(earliest.max() + service.sum() + travel.max() * (n + 1) + 1)
        latest = scaled(np.nan_to_num(win[:, 1], nan=float(horizon_guess)), 1)
        horizon = int(max(latest.max(), horizon_guess))
        latest = np.where(np.isnan(win[:, 1]), horizon, latest)
        return cls(travel, service, earliest, latest, horizon)


@dataclass(frozen=True)
class _Routes:
    """The routes read back from the solver, one entry per vehicle (see :class:`RoutingSolution`)."""

    routes: list[tuple[int, ...]]
    arrivals: list[tuple[float, ...]]
    service_starts: list[tuple[float, ...]]
    departures: list[tuple[float, ...]]
    start_times: list[float]
    end_times: list[float]
    drive: list[float]


def solve(problem: VrptwProblem, *, seed: int = 0, time_limit: float = 5.0) -> RoutingSolution:
    """Routes with time windows for ``problem``, by OR-Tools (guided local search).

    Parameters
    ----------
    problem
        The day.
    seed
        Accepted for a uniform interface; OR-Tools' search is deterministic.
    time_limit
        Seconds of search.

    Returns
    -------
    RoutingSolution
        One route per vehicle, with ``arrivals``, ``service_starts``, ``departures``, ``start_times``,
        ``end_times``, ``drive`` and ``dropped`` (optional nodes left out because they do not fit).

    Raises
    ------
    InfeasibleError
        A required node cannot be visited even alone (its window closes before the officer can get there, or the
        round trip exceeds the shift or the driving cap); the message gives the numbers.
    SolverError
        No solution visiting every required node was found within the time limit.
    """
    start = time.perf_counter()
    day = _IntegerDay.of(problem)
    _check_alone(problem, day)
    found = _ortools_routes(problem, day, time_limit=time_limit)
    visited = {c for r in found.routes for c in r}
    dropped = tuple(i for i in range(problem.size) if i != problem.depot and i not in visited)
    for i in dropped:
        logger.info("node %d left out of the routes: it does not fit the shift, windows or driving cap", i)
    cost = sum(route_cost(problem.duration, r, depot=problem.depot) for r in found.routes)
    return RoutingSolution(
        routes=tuple(found.routes),
        cost=cost,
        feasible=_is_feasible(problem, day, found),
        seconds=time.perf_counter() - start,
        engine="ortools",
        arrivals=tuple(found.arrivals),
        service_starts=tuple(found.service_starts),
        departures=tuple(found.departures),
        start_times=tuple(found.start_times),
        end_times=tuple(found.end_times),
        drive=tuple(found.drive),
        dropped=dropped,
    )


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
    """Routes with time windows from and back to ``depot``: :class:`VrptwProblem` then :func:`solve`.

    Parameters
    ----------
    duration, service, windows, depot, max_route_duration, max_drive, vehicles, required, penalties
        As in :class:`VrptwProblem`.
    time_limit, seed
        As in :func:`solve`.

    Returns
    -------
    RoutingSolution

    Raises
    ------
    ValidationError
        Bad shapes or values.
    InfeasibleError
        A required node cannot be visited even alone; the message gives the numbers.
    SolverError
        No solution visiting every required node was found within the time limit.
    """
    problem = VrptwProblem(
        duration,
        service,
        windows,
        depot=depot,
        max_route_duration=max_route_duration,
        max_drive=max_drive,
        vehicles=vehicles,
        required=required,
        penalties=penalties,
    )
    return solve(problem, seed=seed, time_limit=time_limit)


# --------------------------------------------------------------------------------------------------------------
# checks


def _windows(windows: Any, n: int) -> np.ndarray:
    """(n, 2) window bounds, NaN where open; rows may be ``None`` and bounds ``None``."""
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
    """The (n,) mask of required nodes from a mask, a list of indices, or (``None``) the penalties."""
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


def _check_alone(problem: VrptwProblem, day: _IntegerDay) -> None:
    """Raise InfeasibleError for a required node that cannot be visited even on a route of its own.

    Checked before solving, so that the officer hears which village and by how much rather than a solver's
    "no solution".
    """
    d, s, lo, hi, depot = day.travel, day.service, day.earliest, day.latest, problem.depot
    max_route, max_drive = problem.max_route_duration, problem.max_drive
    for i in np.flatnonzero(problem.required):
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


def _is_feasible(problem: VrptwProblem, day: _IntegerDay, found: _Routes) -> bool:
    """Whether the routes read back keep every window, the shift, the driving cap and every required visit.

    Checked on the routes themselves rather than taken from the solver's word.
    """
    d, s, lo, hi, depot = day.travel, day.service, day.earliest, day.latest, problem.depot
    visited = [c for r in found.routes for c in r]
    if len(visited) != len(set(visited)) or not set(np.flatnonzero(problem.required).tolist()) <= set(
        visited
    ):
        return False
    for route, sts, t0, t1, drv in zip(
        found.routes, found.service_starts, found.start_times, found.end_times, found.drive, strict=True
    ):
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
        if problem.max_route_duration is not None and t1 - t0 > problem.max_route_duration + 1e-6:
            return False
        if problem.max_drive is not None and drv > problem.max_drive + 1e-6:
            return False
    return True


# --------------------------------------------------------------------------------------------------------------
# OR-Tools


def _ortools_routes(problem: VrptwProblem, day: _IntegerDay, *, time_limit: float) -> _Routes:
    """Build the OR-Tools model of the day, search it and read the routes back.

    Raises
    ------
    SolverError
        No solution visiting every required node within the time limit.
    """
    from ortools.constraint_solver import pywrapcp

    manager = pywrapcp.RoutingIndexManager(problem.size, problem.vehicles, problem.depot)
    routing = pywrapcp.RoutingModel(manager)
    _add_time_and_drive(problem, day, manager, routing)
    _add_optional_visits(problem, day, manager, routing)
    solution = routing.SolveWithParameters(_search_parameters(problem.size, time_limit))
    if solution is None:
        required = int(problem.required.sum())
        raise SolverError(
            f"OR-Tools found no route visiting all {required} required nodes within {time_limit:g} s.",
            zh=f"OR-Tools 在 {time_limit:g} 秒内未找到访问全部 {required} 个必访节点的路线。",
        )
    return _read_routes(problem, day, manager, routing, solution)


def _add_time_and_drive(problem: VrptwProblem, day: _IntegerDay, manager: Any, routing: Any) -> None:
    """Arc costs (driving), the time dimension with windows, shift and span cost, and the driving dimension."""
    lo, hi, depot = day.earliest, day.latest, problem.depot
    drive_cb = routing.RegisterTransitMatrix(day.travel.tolist())
    time_cb = routing.RegisterTransitMatrix((day.travel + day.service[:, None]).tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(drive_cb)
    routing.AddDimension(time_cb, day.horizon, day.horizon, False, "time")
    tdim = routing.GetDimensionOrDie("time")
    for node in range(problem.size):
        if node == depot:
            continue
        tdim.CumulVar(manager.NodeToIndex(node)).SetRange(int(lo[node]), int(hi[node]))
    for v in range(problem.vehicles):
        tdim.CumulVar(routing.Start(v)).SetRange(int(lo[depot]), int(hi[depot]))
        tdim.CumulVar(routing.End(v)).SetRange(int(lo[depot]), int(hi[depot]))
        if problem.max_route_duration is not None:
            tdim.SetSpanUpperBoundForVehicle(round(problem.max_route_duration), v)
        # the span cost removes idle time; then start as early and return as early as that allows
        routing.AddVariableMinimizedByFinalizer(tdim.CumulVar(routing.Start(v)))
        routing.AddVariableMinimizedByFinalizer(tdim.CumulVar(routing.End(v)))
    tdim.SetSpanCostCoefficientForAllVehicles(1)
    # without a cap the dimension still measures each route's driving, which the result reports
    cap = round(problem.max_drive) if problem.max_drive is not None else int(day.travel.sum() + 1)
    routing.AddDimension(drive_cb, 0, cap, True, "drive")


def _add_optional_visits(problem: VrptwProblem, day: _IntegerDay, manager: Any, routing: Any) -> None:
    """A disjunction per optional node: leaving it out costs its penalty."""
    # the default penalty outweighs any route, so a visit is left out only when it cannot fit
    default_penalty = int(10 * (day.horizon + day.travel.sum() + 1))
    for node in range(problem.size):
        if node == problem.depot or problem.required[node]:
            continue
        penalty = problem.penalties[node]
        p = default_penalty if not np.isfinite(penalty) else round(penalty)
        routing.AddDisjunction([manager.NodeToIndex(node)], p)


def _search_parameters(n: int, time_limit: float) -> Any:
    """Parallel cheapest insertion, then guided local search until the time limit (or enough solutions)."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(1, int(time_limit * 1000)))
    if n <= SMALL_DAY:
        params.solution_limit = SMALL_DAY_SOLUTIONS
    return params


def _read_routes(
    problem: VrptwProblem, day: _IntegerDay, manager: Any, routing: Any, solution: Any
) -> _Routes:
    """Per vehicle: its stops and, at each, the arrival, the service start (after any wait) and the departure."""
    tdim = routing.GetDimensionOrDie("time")
    ddim = routing.GetDimensionOrDie("drive")
    s, depot = day.service, problem.depot
    out = _Routes([], [], [], [], [], [], [])
    for v in range(problem.vehicles):
        idx = routing.Start(v)
        t_start = float(solution.Value(tdim.CumulVar(idx)))
        prev_node, prev_dep = depot, t_start + float(s[depot])
        route, arr, sts, dps = [], [], [], []
        idx = solution.Value(routing.NextVar(idx))
        while not routing.IsEnd(idx):
            node = manager.IndexToNode(idx)
            begin = float(solution.Value(tdim.CumulVar(idx)))
            route.append(node)
            arr.append(prev_dep + float(day.travel[prev_node, node]))
            sts.append(begin)
            dps.append(begin + float(s[node]))
            prev_node, prev_dep = node, begin + float(s[node])
            idx = solution.Value(routing.NextVar(idx))
        t_end = float(solution.Value(tdim.CumulVar(idx))) if route else t_start
        out.routes.append(tuple(route))
        out.arrivals.append(tuple(arr))
        out.service_starts.append(tuple(sts))
        out.departures.append(tuple(dps))
        out.start_times.append(t_start)
        out.end_times.append(t_end)
        out.drive.append(float(solution.Value(ddim.CumulVar(idx))) if route else 0.0)
    return out
