"""C5 after the search (planner.districts.route_polish): border villages move so the offices' routes stay inside."""

from __future__ import annotations

import numpy as np
import pytest
from district_fixtures import make_villages
from shapely.geometry import LineString

from planner.districts.route_polish import polish_routes
from planner.engines.districting import DistrictingProblem
from planner.engines.districting.certificate import plan_objective


def _row(
    cost: np.ndarray, locked: np.ndarray | None = None, pop: np.ndarray | None = None, balance: float = 1.0
) -> tuple[DistrictingProblem, object, object]:
    """Four 1 km villages in a row, 100 residents each, districts of two; the graph joins each village to the
    next and V000 to V002 (a bridge the routes do not take); the routes are straight lines between centres, so
    V000 -> V002 crosses V001's square and V001 -> V003 crosses V002's."""
    pop = np.full(4, 100.0) if pop is None else pop
    villages = make_villages(1, 4, pop)
    adj = np.zeros((4, 4), dtype=int)
    for a, b in [(0, 1), (1, 2), (2, 3), (0, 2), (1, 3)]:
        adj[a, b] = adj[b, a] = 1
    problem = DistrictingProblem(
        adjacency=adj,
        population=pop,
        cost=cost,
        k=2,
        min_size=2,
        max_size=2,
        locked=locked,
        balance_tolerance=0.2,
        balance_weight=balance,
    )
    centre = villages.geometry.centroid

    def lines(pairs: list[tuple[int, int]]) -> list[LineString]:
        return [LineString([centre.iloc[a], centre.iloc[b]]) for a, b in pairs]

    return problem, villages.geometry, lines


def _distance_cost() -> np.ndarray:
    x = np.arange(4, dtype=float)
    return np.abs(x[:, None] - x[None, :]) * 2.0


def test_a_swap_brings_each_districts_routes_inside_it() -> None:
    """{V000, V002} and {V001, V003}: half of each district's route length lies in the other; swapping V001
    and V002 puts every route inside (and costs nothing: the new districts are also the nearer ones)."""
    problem, geoms, lines = _row(_distance_cost())
    start = np.array([0, 1, 0, 1])
    labels, done = polish_routes(problem, start, geoms, lines, allowance=0.0)
    assert labels.tolist() == [0, 0, 1, 1]
    assert done is not None and done.moves == 1
    assert done.worst_before == pytest.approx(0.5, abs=2e-3) and done.worst_after == pytest.approx(0.0)
    assert done.objective_after <= done.objective_before
    assert done.objective_after == pytest.approx(plan_objective(problem, labels))


def test_the_allowance_bounds_what_the_routes_may_cost() -> None:
    """A fast road V000-V002 and V001-V003 (1 min) makes the crossing districts the cheap ones: the swap costs
    the objective the difference, so it is made when the allowance covers it and not when it falls short."""
    cost = _distance_cost()
    for a, b in [(0, 2), (1, 3)]:
        cost[a, b] = cost[b, a] = 1.0
    problem, geoms, lines = _row(cost)
    start = np.array([0, 1, 0, 1])
    before, after = plan_objective(problem, start), plan_objective(problem, np.array([0, 0, 1, 1]))
    need = (after - before) / before
    assert need > 0
    kept, d1 = polish_routes(problem, start, geoms, lines, allowance=need * 0.9)
    assert kept.tolist() == start.tolist() and d1 is not None and d1.moves == 0
    moved, d2 = polish_routes(problem, start, geoms, lines, allowance=need * 1.1)
    assert moved.tolist() == [0, 0, 1, 1] and d2 is not None and d2.objective_after == pytest.approx(after)


def test_a_locked_district_is_not_touched() -> None:
    """V000 and V002 are a bureau's locked district: the routes stay as they are."""
    problem, geoms, lines = _row(_distance_cost(), locked=np.array([0, -1, 0, -1]))
    start = np.array([0, 1, 0, 1])
    labels, done = polish_routes(problem, start, geoms, lines, allowance=1.0)
    assert labels.tolist() == start.tolist() and done is not None and done.moves == 0


def test_no_move_breaks_r1() -> None:
    """Districts of exactly two villages; a slow road V002-V003 (10 min) and a town of 5,000 at V003 make
    moving V001 alone into {V000, V002} the cheapest way to bring the routes inside, but it leaves districts
    of 3 and 1 villages: the swap is made instead, whatever the allowance."""
    cost = _distance_cost()
    cost[2, 3] = cost[3, 2] = 10.0
    problem, geoms, lines = _row(cost, pop=np.array([100.0, 100.0, 100.0, 5000.0]), balance=0.0)
    start = np.array([0, 1, 0, 1])
    single = np.array([0, 0, 0, 1])
    assert plan_objective(problem, single) < plan_objective(problem, np.array([0, 0, 1, 1]))
    labels, done = polish_routes(problem, start, geoms, lines, allowance=1.0)
    assert labels.tolist() == [0, 0, 1, 1] and done is not None and done.moves == 1


def test_route_allowance_is_validated() -> None:
    """[districts] route_allowance is a share from 0 (off) to 1; the default 0.05."""
    from planner.errors import ValidationError
    from planner.rules import Rules

    assert Rules().districts.route_allowance == 0.05
    assert Rules.from_dict({"districts": {"route_allowance": 0}}).districts.route_allowance == 0
    with pytest.raises(ValidationError, match=r"districts\.route_allowance"):
        Rules.from_dict({"districts": {"route_allowance": -0.1}})


def test_the_report_says_what_the_pass_moved_and_what_it_cost() -> None:
    """The report's sentence reads summary.json's figures: villages moved, worst and all shares, objective."""
    from planner.outputs.report import _route_polish

    done = {
        "allowance": 0.05,
        "moves": 3,
        "villages_moved": 4,
        "route_outside_worst_before": 0.5613,
        "route_outside_worst": 0.4945,
        "route_outside_total_before": 0.2971,
        "route_outside_total": 0.2277,
        "objective_before": 490615.7,
        "objective": 499913.3,
    }
    zh, en = _route_polish(done, "zh"), _route_polish(done, "en")
    assert "调整了 4 个村" in zh and "由 56.1% 降至 49.5%" in zh and "由 29.7% 降至 22.8%" in zh
    assert "499,913" in zh and "至多高 5%" in zh
    assert "4 villages changed district" in en and "from 56.1% to 49.5%" in en and "up to 5% more" in en
    none = _route_polish({**done, "villages_moved": 0, "moves": 0}, "en")
    assert "run 56.1% outside it" in none and "changed district" not in none
    assert "found none" not in en
    why = _route_polish({**done, "road_graph_relaxed": True}, "zh")
    assert why.index("搜索未找到这样的方案") < why.index("调整了 4 个村")
    assert _route_polish(None, "en") == ""
