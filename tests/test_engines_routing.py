"""Routing engines (planner.engines.routing) and the CVRP / PVRP benchmark readers."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from planner.bench.common import shared_dir
from planner.engines.routing import route_cost, solve_cvrp, solve_pvrp, solve_vrptw
from planner.errors import InfeasibleError, ValidationError

BENCH = shared_dir() / "benchmarks"


def _euclid(xy: np.ndarray) -> np.ndarray:
    return np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))


def _brute_force_cvrp(dist: np.ndarray, demand: np.ndarray, capacity: float) -> float:
    """Optimum with a free fleet: every customer order, cut optimally into capacity-feasible routes (split DP)."""
    n = dist.shape[0]
    best = math.inf
    for perm in itertools.permutations(range(1, n)):
        f = [0.0] + [math.inf] * len(perm)
        for i in range(len(perm)):
            load, inner = 0.0, 0.0
            for j in range(i, len(perm)):
                load += demand[perm[j]]
                if load > capacity:
                    break
                if j > i:
                    inner += dist[perm[j - 1], perm[j]]
                cost = dist[0, perm[i]] + inner + dist[perm[j], 0]
                f[j + 1] = min(f[j + 1], f[i] + cost)
        best = min(best, f[-1])
    return best


@pytest.fixture(scope="module")
def tiny_cvrp() -> tuple[np.ndarray, np.ndarray, float]:
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 100, size=(8, 2))
    demand = np.array([0, 4, 3, 5, 2, 6, 3, 4], dtype=float)
    return _euclid(xy), demand, 10.0


@pytest.mark.parametrize("engine", ["pyvrp", "ortools"])
def test_cvrp_finds_the_brute_force_optimum_and_respects_capacity(tiny_cvrp, engine):
    dist, demand, capacity = tiny_cvrp
    sol = solve_cvrp(dist, demand, capacity, time_limit=1.0, engine=engine)
    assert sol.feasible
    assert sorted(c for r in sol.routes for c in r) == list(range(1, 8))
    assert all(demand[list(r)].sum() <= capacity for r in sol.routes)
    assert sol.cost == pytest.approx(_brute_force_cvrp(dist, demand, capacity))
    assert sol.cost == pytest.approx(sum(route_cost(dist, r) for r in sol.routes))


def test_cvrp_same_seed_same_routes(tiny_cvrp):
    dist, demand, capacity = tiny_cvrp
    a = solve_cvrp(dist, demand, capacity, time_limit=0.5, seed=3)
    b = solve_cvrp(dist, demand, capacity, time_limit=0.5, seed=3)
    assert a.routes == b.routes


def test_cvrp_keeps_to_the_given_fleet(tiny_cvrp):
    dist, demand, capacity = tiny_cvrp
    sol = solve_cvrp(dist, demand, capacity, vehicles=3, time_limit=0.5)
    assert sol.feasible and len(sol.routes) <= 3
    with pytest.raises(InfeasibleError, match="exceeds 2 vehicles"):
        solve_cvrp(dist, demand, capacity, vehicles=2, time_limit=0.5)


def test_cvrp_rejects_a_demand_above_capacity(tiny_cvrp):
    dist, demand, _ = tiny_cvrp
    with pytest.raises(InfeasibleError, match="more than the capacity"):
        solve_cvrp(dist, demand, 5.0, time_limit=0.5)


def test_cvrp_rejects_a_non_square_matrix():
    with pytest.raises(ValidationError, match="square"):
        solve_cvrp(np.zeros((3, 4)), np.zeros(3), 1.0)


def _day(n: int = 7, seed: int = 2) -> tuple[np.ndarray, np.ndarray, list]:
    """Minutes: an office (0) and villages 10-50 minutes apart, 60-minute visits, a shift 08:00-16:00."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 40, size=(n, 2))
    duration = _euclid(xy) + 5 * (1 - np.eye(n))
    service = np.array([0] + [60] * (n - 1), dtype=float)
    windows: list = [(480, 960)] + [None] * (n - 1)
    return duration, service, windows


def test_vrptw_respects_windows_shift_and_driving_cap():
    duration, service, windows = _day()
    windows[2] = (600, 630)  # must start between 10:00 and 10:30
    windows[4] = (840, 900)
    sol = solve_vrptw(
        duration, service, windows, max_route_duration=480, max_drive=150, vehicles=2, time_limit=1.0
    )
    assert sol.feasible and not sol.dropped
    for route, arr, beg, dep, t0, t1, drv in zip(
        sol.routes,
        sol.arrivals,
        sol.service_starts,
        sol.departures,
        sol.start_times,
        sol.end_times,
        sol.drive,
        strict=True,
    ):
        if not route:
            continue
        assert t0 >= 480 and t1 <= 960 and t1 - t0 <= 480
        assert drv == pytest.approx(route_cost(duration, route)) and drv <= 150
        prev_dep, prev = t0, 0
        for node, a, b, d in zip(route, arr, beg, dep, strict=True):
            assert a == pytest.approx(prev_dep + duration[prev, node])
            assert b >= a and d == pytest.approx(b + service[node])
            lo, hi = windows[node] or (-math.inf, math.inf)
            assert lo <= b <= hi
            prev_dep, prev = d, node
        assert t1 >= prev_dep + duration[prev, 0]


def test_vrptw_drops_optional_visits_that_do_not_fit_and_reports_them():
    duration, service, windows = _day(n=9)
    # six 60-minute visits cannot fit a 4-hour shift: some are left out, and each is reported
    sol = solve_vrptw(duration, service, windows, max_route_duration=240, required=[1], time_limit=1.0)
    visited = {c for r in sol.routes for c in r}
    assert sol.feasible
    assert 1 in visited
    assert sol.dropped and set(sol.dropped) | visited == set(range(1, 9))
    assert not set(sol.dropped) & visited
    assert sol.end_times[0] - sol.start_times[0] <= 240


def test_vrptw_required_visit_that_cannot_fit_raises_with_numbers():
    duration, service, windows = _day()
    windows[3] = (400, 420)  # closes before the shift starts at 480
    with pytest.raises(InfeasibleError, match="node 3"):
        solve_vrptw(duration, service, windows, time_limit=0.5)


def test_vrptw_same_seed_same_routes():
    duration, service, windows = _day()
    a = solve_vrptw(duration, service, windows, max_route_duration=480, vehicles=2, time_limit=0.5, seed=1)
    b = solve_vrptw(duration, service, windows, max_route_duration=480, vehicles=2, time_limit=0.5, seed=1)
    assert a.routes == b.routes and a.service_starts == b.service_starts


def test_pvrp_visits_each_customer_on_an_allowed_pattern_within_capacity_and_fleet():
    rng = np.random.default_rng(5)
    n, days = 13, 3
    dist = np.hypot(
        *(rng.uniform(0, 50, (n, 2))[:, None] - rng.uniform(0, 50, (n, 2))[None]).transpose(2, 0, 1)
    )
    dist = (dist + dist.T) / 2
    np.fill_diagonal(dist, 0)
    demand = rng.integers(1, 6, n).astype(float)
    freq = np.array([0] + [1] * 8 + [2] * 4)
    once: list[tuple[int, ...]] = [(0,), (1,), (2,)]
    twice: list[tuple[int, ...]] = [(0, 1), (1, 2), (0, 2)]
    patterns = [[], *([once] * 8), *([twice] * 4)]
    sol = solve_pvrp(dist, demand, 20, freq, patterns, days, 2, time_limit=3.0)
    assert sol.feasible
    for i in range(1, n):
        on = tuple(d for d in range(days) if any(i in r for r in sol.days[d].routes))
        assert on == sol.patterns[i] and on in patterns[i]
    for day in sol.days:
        assert len(day.routes) <= 2
        assert all(demand[list(r)].sum() <= 20 for r in day.routes)
    assert sol.cost == pytest.approx(sum(route_cost(dist, r) for day in sol.days for r in day.routes))


# benchmark readers ------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("shared")
def test_cvrp_reader_parses_a_n32_k5_and_recomputes_an_x_solution_exactly():
    from planner.bench.cvrp import fleet_of, read_references, read_sol, read_vrp

    inst = read_vrp(BENCH / "cvrp" / "A" / "A-n32-k5.vrp")
    assert inst.distance.shape == (32, 32) and inst.capacity == 100 and inst.demand[0] == 0
    assert inst.distance[0, 1] == round(math.hypot(82 - 96, 76 - 44))  # nodes 1 and 2 of the file
    refs = read_references(BENCH / "cvrp")
    assert refs["A-n32-k5"][0] == 784
    assert refs["P-n55-k8"][0] == 576  # at most 8 vehicles: the 7-route solution, not the exactly-8 588
    assert fleet_of("P-n55-k15") == 15 and fleet_of("X-n101-k25") is None

    x = read_vrp(BENCH / "cvrp" / "X" / "X-n101-k25.vrp")
    routes, stated = read_sol(BENCH / "cvrp" / "X" / "X-n101-k25.sol")
    assert sorted(c for r in routes for c in r) == list(range(1, 101))
    assert all(x.demand[r].sum() <= x.capacity for r in routes)
    assert sum(route_cost(x.distance, r) for r in routes) == stated == 27591


@pytest.mark.usefixtures("shared")
def test_pvrp_reader_recomputes_the_p01_reference_solution():
    from planner.bench.pvrp import decode_pattern, read_cordeau

    assert decode_pattern(2, 2) == (0,) and decode_pattern(1, 2) == (1,) and decode_pattern(5, 3) == (0, 2)
    inst = read_cordeau(BENCH / "pvrp" / "instances" / "p01.txt")
    assert inst.days == 2 and inst.vehicles == 3 and inst.capacity == 160 and inst.max_duration is None
    lines = (BENCH / "pvrp" / "solutions" / "p01.res").read_text().split("\n")
    total, visits = 0.0, dict[int, list[int]]()
    for line in lines[1:]:
        parts = line.split()
        if not parts:
            continue
        day, route = int(parts[0]) - 1, [int(v) for v in parts[4:] if int(v) != 0]
        assert inst.demand[route].sum() <= inst.capacity
        total += route_cost(inst.distance, route)
        for c in route:
            visits.setdefault(c, []).append(day)
    assert total == pytest.approx(float(lines[0]), abs=0.01) and total == pytest.approx(524.61, abs=0.01)
    assert all(tuple(sorted(d)) in inst.patterns[c] for c, d in visits.items())


# the seam: a checked problem, then solve(problem) ---------------------------------------------------------


def test_each_model_solves_its_problem_as_its_wrapper_does(tiny_cvrp):
    from planner.engines.routing import cvrp, vrptw

    dist, demand, capacity = tiny_cvrp
    problem = cvrp.CvrpProblem(dist, demand, capacity, vehicles=4)
    by_problem = cvrp.solve(problem, seed=2, time_limit=0.5, engine="ortools-default")
    by_wrapper = solve_cvrp(
        dist, demand, capacity, vehicles=4, seed=2, time_limit=0.5, engine="ortools-default"
    )
    assert (by_problem.routes, by_problem.cost) == (by_wrapper.routes, by_wrapper.cost)
    duration, service, windows = _day()
    day = vrptw.VrptwProblem(duration, service, windows, max_route_duration=480, vehicles=2)
    assert (
        vrptw.solve(day, time_limit=0.5).routes
        == solve_vrptw(duration, service, windows, max_route_duration=480, vehicles=2, time_limit=0.5).routes
    )


def test_problems_are_checked_when_made_and_leave_the_inputs_alone(tiny_cvrp):
    from planner.engines.routing import CvrpProblem, PvrpProblem, VrptwProblem

    dist, demand, capacity = tiny_cvrp
    demand = demand.copy()
    demand[0] = 7.0  # a depot demand is ignored, in the problem's copy only
    problem = CvrpProblem(dist, demand, capacity)
    assert problem.demand[0] == 0 and demand[0] == 7.0 and not problem.distance.flags.writeable
    with pytest.raises(ValidationError, match="capacity must be > 0"):
        CvrpProblem(dist, demand, 0.0)
    duration, service, windows = _day()
    with pytest.raises(ValidationError, match="depot 9 is not a node index"):
        VrptwProblem(duration, service, windows, depot=9)
    with pytest.raises(ValidationError, match="customer 1: every pattern must name 1 distinct days"):
        PvrpProblem(dist, demand, capacity, [0] + [1] * 7, [[]] + [[(0, 1)]] * 7, 2, 2)
    pvrp = PvrpProblem(dist, demand, capacity, [0] + [1] * 7, [[]] + [[[1], [0]]] * 7, 2, 2)
    assert pvrp.allowed[1] == ((1,), (0,)) and pvrp.route_limit == math.inf
