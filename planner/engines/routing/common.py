"""What every routing model shares: the result of a day's routes, the input checks, integer scaling, route costs.

The solvers (PyVRP, OR-Tools) work on integer arcs and loads; the helpers here are the one place that decides how
floats are scaled, so that the CVRP, the day with time windows and the periodic VRP cannot scale differently.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from planner.errors import ValidationError

logger = logging.getLogger(__name__)

#: PyVRP's and OR-Tools' integer scale for quantities (distances, loads, durations) that are not integers
FLOAT_SCALE = 1000


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


# --------------------------------------------------------------------------------------------------------------
# input checks


def square_matrix(name: str, matrix: Any) -> np.ndarray:
    """``matrix`` as a new read-only float array, checked square, finite and non-negative.

    Parameters
    ----------
    name
        The argument's name, for the error message.
    matrix
        Anything :func:`numpy.asarray` turns into an (n, n) array.

    Returns
    -------
    numpy.ndarray
        A copy (the caller's array is never touched), not writeable.

    Raises
    ------
    ValidationError
        Not square, empty, or holding a negative or non-finite entry (unreachable pairs are not allowed).
    """
    a = np.array(matrix, dtype=float)
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
    a.setflags(write=False)
    return a


def node_values(name: str, values: Any, n: int) -> np.ndarray:
    """``values`` as a new read-only float array of one finite, non-negative value per node.

    Raises
    ------
    ValidationError
        Not ``n`` values, or one of them negative or not finite.
    """
    a = np.array(values, dtype=float)
    if a.shape != (n,):
        raise ValidationError(
            f"{name}: expected {n} values (one per node), got shape {a.shape}.",
            zh=f"{name}: 应有 {n} 个值 (每个节点一个), 实际形状 {a.shape}。",
        )
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValidationError(
            f"{name}: every value must be finite and >= 0.", zh=f"{name}: 每个值必须有限且 >= 0。"
        )
    a.setflags(write=False)
    return a


def customer_demand(demand: Any, n: int) -> np.ndarray:
    """Demands checked as :func:`node_values`, with the depot's (node 0) set to 0: a depot has none to serve."""
    checked = node_values("demand", demand, n).copy()
    checked[0] = 0.0
    checked.setflags(write=False)
    return checked


# --------------------------------------------------------------------------------------------------------------
# integer scaling


def distance_scale(matrix: np.ndarray) -> int:
    """1 when the matrix holds integers, else :data:`FLOAT_SCALE`: solvers need integer arcs, so floats are scaled."""
    return 1 if np.allclose(matrix, np.rint(matrix)) else FLOAT_SCALE


def load_scale(demand: np.ndarray, capacity: float) -> int:
    """1 when demands and capacity are integers, else :data:`FLOAT_SCALE` (solvers need integer loads)."""
    return 1 if np.allclose(demand, np.rint(demand)) and float(capacity).is_integer() else FLOAT_SCALE


def scaled(values: np.ndarray, scale: int) -> npt.NDArray[np.int64]:
    """``values * scale`` rounded to the nearest integer, as int64 (what the solvers are given)."""
    return np.rint(values * scale).astype(np.int64)


# --------------------------------------------------------------------------------------------------------------
# costs


def route_cost(distance: np.ndarray, route: Sequence[int], *, depot: int = 0) -> float:
    """Travel of ``depot -> route... -> depot`` on ``distance``.

    Parameters
    ----------
    distance
        (n, n) travel costs.
    route
        Node indices visited in order, depot excluded.
    depot
        The node the route starts and ends at.

    Returns
    -------
    float
        The sum of the arcs, 0 for an empty route.
    """
    if not route:
        return 0.0
    path = [depot, *route, depot]
    return float(sum(distance[a, b] for a, b in itertools.pairwise(path)))
