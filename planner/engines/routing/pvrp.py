"""Periodic VRP: pick an allowed visit pattern (set of days) per customer and route every day.

Method: a cheapest-insertion construction picks a first pattern per customer. Then one PyVRP model of the whole
period (a vehicle type and routing profile per day; a single-visit customer is a group of day copies so the
search picks its day; when every customer is visited once, simply a CVRP with days x vehicles vehicles whose
routes are given to days). Then rounds of pattern search (ruin and recreate: a customer and its neighbours leave
all their days and come back on their cheapest allowed patterns, exact costs, record-to-record acceptance)
alternate with re-routing every day by PyVRP warm-started from its routes. PyVRP is used here for the joint model
and through :func:`planner.engines.routing.cvrp.pyvrp_routes` for the days.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from planner.engines.routing.common import (
    RoutingSolution,
    customer_demand,
    distance_scale,
    load_scale,
    node_values,
    route_cost,
    scaled,
    square_matrix,
)
from planner.engines.routing.cvrp import pyvrp_routes
from planner.errors import InfeasibleError, SolverError, ValidationError

logger = logging.getLogger(__name__)

#: a joint model above this many (clients + 1)^2 x days matrix entries is not built (memory)
JOINT_MODEL_MAX_ENTRIES = 40_000_000
#: record-to-record travel: the pattern search accepts a plan within this factor of the best
ACCEPT_WITHIN = 1.003

Pattern = tuple[int, ...]
DayRoutes = list[list[list[int]]]


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
    history
        The plan's cost after the construction, after the joint model and after every round of search.
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


@dataclass(frozen=True, eq=False)
class PvrpProblem:
    """A periodic VRP instance, checked when made; node 0 is the depot.

    Attributes
    ----------
    distance
        (n, n) travel distances (= travel times for the duration limit).
    demand
        (n,) demand per visit; the depot's is set to 0.
    capacity
        Vehicle capacity.
    frequency
        (n,) visits in the period per customer (``frequency[0]`` ignored).
    patterns
        Per node, the allowed patterns, each a sequence of 0-based day indices of length ``frequency[i]``
        (``patterns[0]`` ignored), as given.
    days
        Days in the period.
    vehicles
        Vehicles available each day.
    max_duration
        Longest route (travel plus service), ``None`` or 0 for no limit.
    service
        (n,) service time per visit (counted in the duration), default 0.
    allowed
        ``patterns`` checked, each pattern a sorted tuple of days (``allowed[0]`` empty).

    Raises
    ------
    ValidationError
        Bad shapes, a pattern of the wrong length or naming a day outside the period.
    InfeasibleError
        A customer that no vehicle can serve alone (demand above capacity, or round trip above the duration).
    """

    distance: np.ndarray
    demand: np.ndarray
    capacity: float
    frequency: np.ndarray
    patterns: Sequence[Sequence[Sequence[int]]]
    days: int
    vehicles: int
    max_duration: float | None = None
    service: Any = None
    allowed: tuple[tuple[Pattern, ...], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        distance = square_matrix("distance", self.distance)
        n = distance.shape[0]
        object.__setattr__(self, "distance", distance)
        object.__setattr__(self, "demand", customer_demand(self.demand, n))
        object.__setattr__(self, "frequency", np.asarray(self.frequency, dtype=int))
        service = np.zeros(n) if self.service is None else node_values("service", self.service, n)
        object.__setattr__(self, "service", service)
        if self.frequency.shape != (n,) or len(self.patterns) != n:
            raise ValidationError(
                f"frequency and patterns need {n} entries (one per node).",
                zh=f"frequency 和 patterns 需要 {n} 项 (每个节点一项)。",
            )
        object.__setattr__(self, "allowed", self._checked_patterns())
        limit, demand = self.route_limit, self.demand
        too_big = [i for i in range(1, n) if demand[i] > self.capacity]
        too_far = [i for i in range(1, n) if distance[0, i] + service[i] + distance[i, 0] > limit + 1e-9]
        if too_big or too_far:
            raise InfeasibleError(
                f"customers {too_big} demand more than the capacity {self.capacity:g}; customers {too_far} cannot "
                f"be served within the duration {limit:g} even alone.",
                zh=f"客户 {too_big} 需求超过容量 {self.capacity:g}; 客户 {too_far} 即使单独服务也超过时长 {limit:g}。",
            )

    def _checked_patterns(self) -> tuple[tuple[Pattern, ...], ...]:
        days, freq = self.days, self.frequency
        checked: list[tuple[Pattern, ...]] = [()]
        for i in range(1, len(self.patterns)):
            options = [tuple(sorted(int(d) for d in p)) for p in self.patterns[i]]
            if not options or any(len(p) != freq[i] or min(p) < 0 or max(p) >= days for p in options):
                raise ValidationError(
                    f"customer {i}: every pattern must name {freq[i]} distinct days among 0..{days - 1}; "
                    f"got {options}.",
                    zh=f"客户 {i}: 每个访问组合必须包含 {freq[i]} 个 0..{days - 1} 之间的不同日期; 实际 {options}。",
                )
            checked.append(tuple(options))
        return tuple(checked)

    @property
    def size(self) -> int:
        """Number of nodes, depot included."""
        return int(self.distance.shape[0])

    @property
    def route_limit(self) -> float:
        """The longest route (travel plus service), ``inf`` when there is none."""
        return float(self.max_duration) if self.max_duration else math.inf


def solve(problem: PvrpProblem, *, seed: int = 0, time_limit: float = 120.0) -> PeriodicSolution:
    """Patterns and routes for ``problem`` (see the module's docstring for the method).

    Parameters
    ----------
    problem
        The instance.
    seed
        Random seed.
    time_limit
        Seconds of search in all.

    Returns
    -------
    PeriodicSolution

    Raises
    ------
    SolverError
        The construction could not place every customer within the fleet (the message names them).
    """
    start = time.perf_counter()
    deadline = start + time_limit
    days, n = problem.days, problem.size
    rng = np.random.default_rng(seed)
    plan = _PeriodicState(problem)
    chosen = plan.construct(rng)
    history = [plan.total()]
    # one PyVRP model of the whole period: single-visit customers choose their day inside the search (a group
    # of day copies), the others keep their current pattern; then pattern moves with day re-optimisation
    single = bool(np.all(problem.frequency[1:] == 1))
    seconds = 0.6 * time_limit if single else 0.3 * time_limit
    if single:
        joint = _single_visits_model(plan, time_limit=seconds, seed=seed)
    else:
        joint = _joint_model(plan, chosen, time_limit=seconds, seed=seed)
    if joint is not None and _cost(problem.distance, joint) < plan.total() - 1e-9:
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
        chosen = plan.lns(chosen, rng, time.perf_counter() + min(0.15 * time_limit, 0.6 * remaining))
        rounds += 1
        share = min(0.05 * time_limit, deadline - time.perf_counter()) / days
        plan.reoptimise(range(days), share, seed + rounds, deadline)
        history.append(plan.total())
    logger.info("PVRP: %d rounds, cost %.2f -> %.2f", rounds, history[0], plan.total())
    return plan.solution(chosen, time.perf_counter() - start, tuple(history))


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
    """Periodic VRP: :class:`PvrpProblem` then :func:`solve`, in one call.

    Parameters
    ----------
    distance, demand, capacity, frequency, patterns, days, vehicles, max_duration, service
        As in :class:`PvrpProblem`.
    time_limit, seed
        As in :func:`solve`.

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
    problem = PvrpProblem(
        distance,
        demand,
        capacity,
        frequency,
        patterns,
        days,
        vehicles,
        max_duration=max_duration,
        service=service,
    )
    return solve(problem, seed=seed, time_limit=time_limit)


def _cost(distance: np.ndarray, routes: DayRoutes) -> float:
    return sum(route_cost(distance, r) for day in routes for r in day)


class _PeriodicState:
    """The routes of every day with exact insertion and removal costs, for the PVRP's pattern moves."""

    def __init__(self, problem: PvrpProblem) -> None:
        self.problem = problem
        self.distance, self.demand, self.service = problem.distance, problem.demand, problem.service
        self.capacity, self.max_duration = problem.capacity, problem.route_limit
        self.days, self.vehicles = problem.days, problem.vehicles
        self.routes: DayRoutes = [[] for _ in range(problem.days)]

    # --- measures
    def _load(self, r: list[int]) -> float:
        return float(self.demand[r].sum()) if r else 0.0

    def _duration(self, r: list[int]) -> float:
        return route_cost(self.distance, r) + (float(self.service[r].sum()) if r else 0.0)

    def total(self) -> float:
        """Total travel over all days."""
        return float(_cost(self.distance, self.routes))

    def day_feasible(self, d: int) -> bool:
        """Day ``d`` within the fleet, and every route within the capacity and the duration."""
        rs = [r for r in self.routes[d] if r]
        return len(rs) <= self.vehicles and all(
            self._load(r) <= self.capacity + 1e-9 and self._duration(r) <= self.max_duration + 1e-6
            for r in rs
        )

    def feasible(self, chosen: dict[int, Pattern]) -> bool:
        """Every day feasible and every customer visited on exactly the days of its chosen, allowed pattern."""
        n = self.problem.size
        visits: dict[int, list[int]] = {i: [] for i in range(1, n)}
        for d in range(self.days):
            for r in self.routes[d]:
                for c in r:
                    visits[c].append(d)
        return all(self.day_feasible(d) for d in range(self.days)) and all(
            tuple(sorted(visits[i])) == chosen.get(i) and chosen.get(i) in self.problem.allowed[i]
            for i in range(1, n)
        )

    def solution(
        self, chosen: dict[int, Pattern], seconds: float, history: tuple[float, ...]
    ) -> PeriodicSolution:
        """The plan as a :class:`PeriodicSolution`."""
        day_solutions = []
        for d in range(self.days):
            routes = tuple(tuple(r) for r in self.routes[d] if r)
            cost_d = sum(route_cost(self.distance, r) for r in routes)
            day_solutions.append(RoutingSolution(routes, cost_d, self.day_feasible(d), 0.0, "pyvrp"))
        patterns_out = tuple([(-1,)] + [tuple(chosen[i]) for i in range(1, self.problem.size)])
        return PeriodicSolution(
            patterns_out,
            tuple(day_solutions),
            self.total(),
            self.feasible(chosen),
            seconds,
            "pyvrp",
            history,
        )

    def _snapshot(self) -> DayRoutes:
        return [[list(r) for r in day] for day in self.routes]

    # --- insertion and removal
    def best_insertion(self, c: int, d: int) -> tuple[float, int, int]:
        """(extra travel, route, position) of the cheapest feasible insertion of ``c`` on day ``d``.

        Route -1 is a new route of its own (when a vehicle is free); ``inf`` extra travel when none fits.
        """
        best = (math.inf, -1, -1)
        dist = self.distance
        for k, r in enumerate(self.routes[d]):
            if not r or self._load(r) + self.demand[c] > self.capacity + 1e-9:
                continue
            path = np.array([0, *r, 0])
            delta = dist[path[:-1], c] + dist[c, path[1:]] - dist[path[:-1], path[1:]]
            if math.isfinite(self.max_duration):
                room = self.max_duration - self._duration(r) - self.service[c]
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
        """Insert ``c`` on day ``d`` where :meth:`best_insertion` said."""
        _, k, pos = where
        if k < 0:
            self.routes[d] = [r for r in self.routes[d] if r] + [[c]]
        else:
            self.routes[d][k].insert(pos, c)

    def remove(self, c: int, d: int) -> None:
        """Take ``c`` off day ``d`` (a route left empty goes)."""
        for r in self.routes[d]:
            if c in r:
                r.remove(c)
        self.routes[d] = [r for r in self.routes[d] if r]

    def cheapest_pattern(self, c: int) -> Pattern | None:
        """The allowed pattern of ``c`` whose days take it in at the least extra travel (None: none fits).

        The days' insertion costs are added up day by day, and a pattern is given up as soon as its partial sum
        reaches the best so far.
        """
        best_pat, best_cost = None, math.inf
        for p in self.problem.allowed[c]:
            cost = 0.0
            for d in p:
                cost += self.best_insertion(c, d)[0]
                if cost >= best_cost:
                    break
            if cost < best_cost:
                best_pat, best_cost = p, cost
        return best_pat

    def place(self, c: int, pattern: Pattern) -> None:
        """Insert ``c`` at its cheapest position on every day of ``pattern``."""
        for d in pattern:
            self.insert(c, d, self.best_insertion(c, d))

    # --- construction
    def construct(self, rng: np.random.Generator) -> dict[int, Pattern]:
        """Insert customers one by one, most constrained and largest first, each on its cheapest pattern.

        Raises
        ------
        SolverError
            Customers that fit no allowed pattern within the fleet (named).
        """
        pats, n = self.problem.allowed, self.problem.size
        order = sorted(
            range(1, n),
            key=lambda i: (
                len(pats[i]),
                -len(pats[i][0]) * self.demand[i],
                -self.distance[0, i],
                rng.random(),
            ),
        )
        chosen: dict[int, Pattern] = {}
        unplaced = []
        for c in order:
            best_pat = self.cheapest_pattern(c)
            if best_pat is None:
                unplaced.append(c)
                continue
            self.place(c, best_pat)
            chosen[c] = best_pat
        if unplaced:
            raise SolverError(
                f"customers {unplaced} could not be placed on any allowed pattern within {self.vehicles} vehicles "
                "a day (capacity or duration); try more vehicles.",
                zh=f"客户 {unplaced} 无法在每天 {self.vehicles} 辆车内安排到任何允许的访问组合; 请增加车辆。",
            )
        return chosen

    # --- improvement
    def lns(self, chosen: dict[int, Pattern], rng: np.random.Generator, until: float) -> dict[int, Pattern]:
        """Ruin and recreate over patterns until ``until``; keeps and returns the best plan found.

        Removes a customer and its nearest neighbours from all their days, reinserts each on its cheapest
        allowed pattern (cheapest feasible positions), and accepts by record-to-record travel (within 0.3 % of
        the best). The routes stay exact and feasible throughout.
        """
        n = self.problem.size
        if n < 4:
            return chosen
        best_cost = current = self.total()
        best = (self._snapshot(), dict(chosen))
        near = np.argsort(self.distance[1:, 1:], axis=1) + 1
        while time.perf_counter() < until:
            k = int(rng.integers(2, max(3, min(15, n // 4)) + 1))
            removed = near[int(rng.integers(0, n - 1)), :k].tolist()
            saved = (self._snapshot(), dict(chosen))
            for c in removed:
                for d in chosen[c]:
                    self.remove(c, d)
            new = self._recreate(removed, chosen, rng)
            if new < best_cost * ACCEPT_WITHIN and new < math.inf:
                current = new
                if new < best_cost - 1e-9:
                    best_cost = new
                    best = (self._snapshot(), dict(chosen))
            else:
                self.routes, chosen = saved
        logger.debug("PVRP pattern search: best %.2f (last accepted %.2f)", best_cost, current)
        self.routes = best[0]
        return best[1]

    def _recreate(self, removed: list[int], chosen: dict[int, Pattern], rng: np.random.Generator) -> float:
        """Put ``removed`` back in random order on their cheapest patterns; the new total (``inf``: one fits none)."""
        for c in rng.permutation(removed).tolist():
            best_pat = self.cheapest_pattern(c)
            if best_pat is None:
                return math.inf
            self.place(c, best_pat)
            chosen[c] = best_pat
        return self.total()

    def reoptimise(self, days: Iterable[int], seconds: float, seed: int, deadline: float) -> None:
        """Re-route the given days with PyVRP from the current routes; keep the result only when shorter."""
        for d in days:
            budget = min(seconds, deadline - time.perf_counter())
            nodes = sorted({c for r in self.routes[d] for c in r})
            if budget < 0.05 or len(nodes) < 2:
                continue
            idx = np.array([0, *nodes])
            local = {g: k for k, g in enumerate(idx.tolist())}
            sub = self.distance[np.ix_(idx, idx)]
            init = [[local[c] for c in r] for r in self.routes[d] if r]
            try:
                new = pyvrp_routes(
                    sub,
                    self.demand[idx],
                    self.capacity,
                    vehicles=self.vehicles,
                    time_limit=budget,
                    seed=seed + d,
                    duration=sub,
                    service=self.service[idx],
                    max_duration=self.max_duration if math.isfinite(self.max_duration) else None,
                    initial=init,
                )
            except SolverError:
                logger.debug("day %d: PyVRP kept no feasible re-routing; routes unchanged", d)
                continue
            routes = [[int(idx[k]) for k in r] for r in new]
            old_cost = sum(route_cost(self.distance, r) for r in self.routes[d])
            if sum(route_cost(self.distance, r) for r in routes) < old_cost - 1e-9:
                self.routes[d] = routes


# --------------------------------------------------------------------------------------------------------------
# the whole period as one PyVRP model


@dataclass(frozen=True)
class _DayCopies:
    """A client per visit: ``(node, day, group)``; a single-visit customer's copies (one per allowed day) form a
    group, of which the search serves exactly one."""

    copies: list[tuple[int, int, int | None]]
    groups: list[list[int]]

    @classmethod
    def of(cls, plan: _PeriodicState, chosen: dict[int, Pattern]) -> _DayCopies:
        pats = plan.problem.allowed
        copies: list[tuple[int, int, int | None]] = []
        groups: list[list[int]] = []
        for i in range(1, plan.problem.size):
            if len(chosen[i]) == 1 and len(pats[i]) > 1:
                members = []
                for p in pats[i]:
                    members.append(len(copies))
                    copies.append((i, p[0], len(groups)))
                groups.append(members)
            else:
                copies.extend((i, d, None) for d in chosen[i])
        return cls(copies, groups)


def _joint_model(
    plan: _PeriodicState, chosen: dict[int, Pattern], *, time_limit: float, seed: int
) -> DayRoutes | None:
    """The whole period as one PyVRP model: a vehicle type and a routing profile per day, a client per visit.

    A customer with one visit and several allowed days gets one client per allowed day in a required
    mutually exclusive group, so the search itself picks the day; a customer visited more often keeps its
    pattern in ``chosen`` (a client on each of its days). A day's profile makes every arc touching another
    day's clients prohibitively long. Returns the routes per day (node indices), or None when the model is
    too large or PyVRP finds no feasible solution.
    """
    from pyvrp import solve as pyvrp_solve
    from pyvrp.exceptions import PenaltyBoundWarning
    from pyvrp.stop import MaxRuntime

    days = plan.days
    model = _DayCopies.of(plan, chosen)
    size = len(model.copies) + 1
    if size * size * days > JOINT_MODEL_MAX_ENTRIES:
        logger.info("PVRP joint model too large (%d clients x %d days): pattern heuristic only", size, days)
        return None
    data = _joint_data(plan, model)
    with warnings.catch_warnings():
        # the day-forbidding arcs are long on purpose; PyVRP warns that its penalty bound may be too small for
        # them, which is harmless here: feasibility is checked below
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        best = pyvrp_solve(
            data, stop=MaxRuntime(float(time_limit)), seed=int(seed), collect_stats=False, display=False
        ).best
    if not best.is_feasible():
        logger.info("PVRP joint model: no feasible solution in %.1f s", time_limit)
        return None
    out: DayRoutes = [[] for _ in range(days)]
    for route in best.routes():
        d = int(route.vehicle_type())
        visits = [int(a.idx) for a in route if a.is_client()]
        if any(model.copies[k][1] != d for k in visits):
            return None
        out[d].append([model.copies[k][0] for k in visits])
    return out


def _joint_data(plan: _PeriodicState, model: _DayCopies) -> Any:
    """PyVRP's ProblemData of the joint model: a distance matrix per day forbidding the other days' clients."""
    from pyvrp import Client, ClientGroup, Depot, Location, ProblemData, VehicleType

    days, copies = plan.days, model.copies
    size = len(copies) + 1
    node = np.array([0] + [c[0] for c in copies])
    day_of = np.array([-1] + [c[1] for c in copies])
    scale = distance_scale(plan.distance)
    base = scaled(plan.distance[np.ix_(node, node)], scale)
    svc = scaled(plan.service[node], scale)
    # longer than the whole constructed plan: no good solution uses such an arc; not larger, to keep PyVRP's
    # penalty scaling sane
    big = int(plan.total() * scale + base.max() + svc.max() + 1)
    matrices: list[Any] = []  # PyVRP's stubs type matrices by a shape numpy does not infer
    for d in range(days):
        other = (day_of != d) & (day_of >= 0)
        m = base.copy()
        m[other, :] = big
        m[:, other] = big
        np.fill_diagonal(m, 0)
        matrices.append(m)
    qscale = load_scale(plan.demand, plan.capacity)
    clients = [
        Client(
            k + 1,
            delivery=[round(plan.demand[c[0]] * qscale)],
            service_duration=int(svc[k + 1]),
            required=c[2] is None,
            group=c[2],
        )
        for k, c in enumerate(copies)
    ]
    limit = plan.max_duration
    shift = round(limit * scale) if math.isfinite(limit) else np.iinfo(np.int64).max
    vtypes = [
        VehicleType(
            num_available=plan.vehicles,
            capacity=[round(plan.capacity * qscale)],
            shift_duration=shift,
            profile=d,
        )
        for d in range(days)
    ]
    return ProblemData(
        [Location(0, 0) for _ in range(size)],
        clients,
        [Depot(0)],
        vtypes,
        matrices,
        matrices,
        groups=[ClientGroup(g, required=True) for g in model.groups],
    )


def _single_visits_model(plan: _PeriodicState, *, time_limit: float, seed: int) -> DayRoutes | None:
    """Every customer visited once: a CVRP with ``days x vehicles`` vehicles, its routes then given to days.

    A route goes to a day allowed for all its customers (most constrained routes first, each day holding at most
    ``vehicles`` routes). Returns None when the routes cannot be given to days that way.
    """
    days, pats = plan.days, plan.problem.allowed
    limit = plan.max_duration
    try:
        routes = pyvrp_routes(
            plan.distance,
            plan.demand,
            plan.capacity,
            vehicles=days * plan.vehicles,
            time_limit=time_limit,
            seed=seed,
            duration=plan.distance,
            service=plan.service,
            max_duration=limit if math.isfinite(limit) else None,
        )
    except SolverError:
        return None
    allowed = []
    for r in routes:
        ok = set(range(days))
        for c in r:
            ok &= {p[0] for p in pats[c]}
        allowed.append(ok)
    out: DayRoutes = [[] for _ in range(days)]
    for k in sorted(range(len(routes)), key=lambda k: len(allowed[k])):
        free = [d for d in sorted(allowed[k]) if len(out[d]) < plan.vehicles]
        if not free:
            logger.info("PVRP: CVRP routes cannot be given to days; falling back to the pattern heuristic")
            return None
        out[min(free, key=lambda d: len(out[d]))].append(routes[k])
    if sorted(c for day in out for r in day for c in r) != list(range(1, plan.problem.size)):
        raise SolverError(
            "PyVRP's routes do not visit every customer exactly once.",
            zh="PyVRP 的路线未恰好访问每个客户一次。",
        )
    return out
