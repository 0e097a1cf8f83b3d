"""Facility-location engines (planner.engines.facility): p-median, capacitated p-median, maximal covering, p-center."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from planner.bench.common import shared_dir
from planner.engines.facility import FacilitySolution, capacitated_pmedian, max_covering, pcenter, pmedian
from planner.errors import InfeasibleError, ValidationError

BENCH = shared_dir() / "benchmarks"


def _random_cost(seed: int, n: int, m: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 100, size=(n, 2))
    sites = pts[:m] if m <= n else rng.uniform(0, 100, size=(m, 2))
    return np.round(np.linalg.norm(pts[:, None, :] - sites[None, :, :], axis=2))


def _brute_pmedian(cost: np.ndarray, p: int, w: np.ndarray) -> float:
    return min(
        float((w * cost[:, list(s)].min(axis=1)).sum())
        for s in itertools.combinations(range(cost.shape[1]), p)
    )


def _check_assignment(sol: FacilitySolution, cost: np.ndarray) -> None:
    """Every row goes to its nearest open site, and the medians are sorted and unique."""
    assert np.all(np.diff(sol.medians) > 0)
    assert np.isin(sol.assignment, sol.medians).all()
    np.testing.assert_allclose(
        cost[np.arange(cost.shape[0]), sol.assignment], cost[:, sol.medians].min(axis=1)
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("p", [2, 3, 4])
def test_pmedian_matches_brute_force_on_tiny_weighted_instances(seed: int, p: int) -> None:
    cost = _random_cost(seed, 14, 11)
    w = np.random.default_rng(seed + 100).integers(1, 50, size=14).astype(float)
    sol = pmedian(cost, p, weights=w, seed=seed, time_limit=10, exact=False)
    assert sol.objective == pytest.approx(_brute_pmedian(cost, p, w))
    assert len(sol.medians) == p
    _check_assignment(sol, cost)


def test_pmedian_mip_check_proves_the_brute_force_optimum() -> None:
    cost = _random_cost(7, 12, 12)
    sol = pmedian(cost, 3, seed=0, time_limit=20, exact=True)
    assert sol.proven_optimal
    assert sol.objective == pytest.approx(_brute_pmedian(cost, 3, np.ones(12)))


def test_pmedian_respects_fixed_and_candidates() -> None:
    cost = _random_cost(4, 15, 15)
    cand = np.arange(15) % 2 == 0
    sol = pmedian(cost, 3, candidates=cand, fixed=[14], seed=0, time_limit=10, exact=False)
    assert 14 in sol.medians
    assert cand[sol.medians].all()
    best = min(
        float(cost[:, [14, *s]].min(axis=1).sum())
        for s in itertools.combinations([j for j in range(0, 14, 2)], 2)
    )
    assert sol.objective == pytest.approx(best)


def test_pmedian_unreachable_row_is_reported_not_dropped_silently() -> None:
    cost = _random_cost(5, 8, 8)
    cost[3, :] = np.inf  # a village no site reaches
    cost[3, 3] = np.inf
    sol = pmedian(cost, 2, seed=0, time_limit=5, exact=False)
    assert sol.unserved.tolist() == [3]
    assert sol.assignment[3] == -1
    assert np.isfinite(sol.objective)


def test_pmedian_prefers_reaching_a_partly_cut_off_row() -> None:
    cost = _random_cost(6, 10, 10)
    cost[0, :] = np.inf
    cost[0, 9] = 500.0  # only site 9 reaches village 0, at a high cost
    sol = pmedian(cost, 2, seed=0, time_limit=5, exact=False)
    assert 9 in sol.medians
    assert sol.unserved.size == 0


def test_pmedian_same_seed_same_solution_whatever_the_time_limit() -> None:
    """The search stops on counts, so a generous cap that is never reached changes nothing."""
    cost = _random_cost(16, 90, 90)
    w = np.random.default_rng(16).integers(1, 30, size=90).astype(float)
    runs = [pmedian(cost, 7, weights=w, seed=3, time_limit=tl, exact=False) for tl in (60.0, 60.0, 25.0)]
    assert not runs[0].proven_optimal, "premise: the bound leaves a gap, so the whole VNS runs to its stall"
    for sol in runs:
        assert not sol.stopped_by_time
        assert sol.medians.tolist() == runs[0].medians.tolist()
        assert sol.assignment.tolist() == runs[0].assignment.tolist()
        assert sol.objective == runs[0].objective
        assert sol.lower_bound == runs[0].lower_bound
        assert sol.method == runs[0].method


def test_pmedian_cut_by_the_time_cap_is_marked_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    cost = _random_cost(12, 60, 60)
    with caplog.at_level("WARNING", logger="planner.offices"):
        sol = pmedian(cost, 6, seed=0, time_limit=0.0, exact=False)
    assert sol.stopped_by_time and not sol.proven_optimal
    assert sol.summary()["stopped_by_time"] is True
    assert "time limit" in caplog.text
    assert len(sol.medians) == 6 and np.isin(sol.assignment, sol.medians).all()


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_pmedian_lagrangian_bound_is_valid_and_proofs_are_right(seed: int) -> None:
    cost = _random_cost(seed + 200, 13, 13)
    w = np.random.default_rng(seed).integers(1, 9, size=13).astype(float)
    best = _brute_pmedian(cost, 3, w)
    sol = pmedian(cost, 3, weights=w, seed=seed, time_limit=10, exact=False)
    assert sol.lower_bound is not None and sol.lower_bound <= best + 1e-9
    assert sol.objective == pytest.approx(best)
    if sol.proven_optimal:
        assert "lagrangian" in sol.method


def test_swap_state_incremental_tables_match_a_fresh_rebuild() -> None:
    from planner.engines.facility.median import _SwapState

    rng = np.random.default_rng(5)
    W = _random_cost(5, 40, 40) * rng.integers(1, 5, size=40)[:, None]
    state = _SwapState(W, np.ones(40, dtype=bool), np.zeros(40, dtype=bool), np.arange(0, 40, 8))
    for _ in range(30):  # random swaps, as the VNS shakes do
        f = int(rng.choice(state.open))
        i = int(rng.choice(np.flatnonzero(~state.is_open)))
        state.swap(i, f)
    fresh = _SwapState(W, np.ones(40, dtype=bool), np.zeros(40, dtype=bool), state.open)
    np.testing.assert_allclose(state.d1, W[:, state.open].min(axis=1))
    np.testing.assert_allclose(state.d2, np.sort(W[:, state.open], axis=1)[:, 1])
    np.testing.assert_allclose(state.d1, fresh.d1)
    np.testing.assert_allclose(state.gain, fresh.gain, atol=1e-6)
    np.testing.assert_allclose(state.loss, fresh.loss, atol=1e-6)
    np.testing.assert_allclose(state.extra, fresh.extra, atol=1e-6)
    profit, i, f = state.best_swap()  # the profit formula agrees with the real change of the objective
    before = state.objective
    state.swap(i, f)
    assert before - state.objective == pytest.approx(profit, abs=1e-6)


def test_pmedian_rejects_bad_input() -> None:
    with pytest.raises(ValidationError, match="2-D"):
        pmedian(np.ones(5), 2)
    with pytest.raises(ValidationError, match="weights"):
        pmedian(np.ones((4, 4)), 2, weights=[1, 2])
    with pytest.raises(InfeasibleError, match="candidate"):
        pmedian(np.ones((4, 4)), 5)


@pytest.mark.usefixtures("shared")
def test_pmedian_reaches_the_pmed1_optimum() -> None:
    from planner.bench.pmedian import read_pmed

    dist, p = read_pmed(BENCH / "pmedian/instances/pmed1.txt")
    assert dist.shape == (100, 100) and p == 5
    sol = pmedian(dist, p, seed=0, time_limit=20, exact=False)
    assert sol.objective == 5819


def _brute_cpmp(cost: np.ndarray, d: np.ndarray, cap: float, p: int) -> float:
    """Optimum by enumerating site sets and every single-source assignment (tiny instances only)."""
    n = cost.shape[0]
    best = np.inf
    for s in itertools.combinations(range(cost.shape[1]), p):
        for a in itertools.product(s, repeat=n):
            load = np.bincount(a, weights=d, minlength=cost.shape[1])
            if (load <= cap).all():
                best = min(best, float(cost[np.arange(n), a].sum()))
    return best


@pytest.mark.parametrize("seed", [0, 1])
def test_capacitated_pmedian_matches_brute_force_and_respects_capacity(seed: int) -> None:
    cost = _random_cost(seed + 20, 8, 5)
    d = np.random.default_rng(seed).integers(1, 6, size=8).astype(float)
    cap = float(np.ceil(d.sum() / 2 * 1.15))
    sol = capacitated_pmedian(cost, d, cap, 2, seed=0, time_limit=10)
    load = np.bincount(sol.assignment, weights=d, minlength=5)
    assert (load <= cap).all()
    assert np.isin(sol.assignment, sol.medians).all() and len(sol.medians) == 2
    assert sol.objective == pytest.approx(_brute_cpmp(cost, d, cap, 2))
    assert sol.proven_optimal


@pytest.mark.usefixtures("shared")
def test_capacitated_pmedian_on_pmedcap01_is_feasible_and_optimal() -> None:
    from planner.bench.cpmp import read_cpmp

    inst = read_cpmp(BENCH / "cpmp/osman_christofides/pmedcap01.txt")
    sol = capacitated_pmedian(inst.cost, inst.demand, inst.capacity, inst.p, seed=0, time_limit=15)
    load = np.bincount(sol.assignment, weights=inst.demand, minlength=len(inst.demand))
    assert (load <= inst.capacity).all()
    assert sol.objective == 713


def test_capacitated_pmedian_does_not_depend_on_a_time_limit_it_does_not_reach() -> None:
    cost = _random_cost(30, 40, 40)
    d = np.random.default_rng(30).integers(1, 10, size=40).astype(float)
    cap = float(np.ceil(d.sum() / 4 * 1.2))
    a = capacitated_pmedian(cost, d, cap, 4, seed=2, time_limit=60)
    b = capacitated_pmedian(cost, d, cap, 4, seed=2, time_limit=30)
    assert not a.stopped_by_time and not b.stopped_by_time
    assert a.medians.tolist() == b.medians.tolist()
    assert a.assignment.tolist() == b.assignment.tolist()
    assert a.objective == b.objective
    load = np.bincount(a.assignment, weights=d, minlength=40)
    assert (load <= cap).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_regret_assignment_respects_capacity_and_is_locally_optimal(seed: int) -> None:
    from planner.engines.facility.capacitated import _regret_assign

    rng = np.random.default_rng(seed)
    cost = _random_cost(seed + 70, 60, 60)
    d = rng.integers(1, 10, size=60).astype(float)
    cols = np.array([3, 17, 29, 41, 55])
    cap = np.full(60, float(np.ceil(d.sum() / 5 * 1.1)))  # tight: 10% slack
    assign = _regret_assign(cost, d, cap, cols)
    assert assign is not None and np.isin(assign, cols).all()
    load = np.bincount(assign, weights=d, minlength=60)
    assert (load[cols] <= cap[cols]).all()
    room = cap[cols] - load[cols]
    for i in range(60):  # no single shift to a cheaper site with room is left
        k = int(np.flatnonzero(cols == assign[i])[0])
        better = (cost[i, cols] < cost[i, assign[i]] - 1e-9) & (room >= d[i])
        better[k] = False
        assert not better.any()


def test_capacitated_pmedian_infeasible_capacity_names_the_numbers() -> None:
    cost = _random_cost(3, 6, 6)
    with pytest.raises(InfeasibleError, match=r"hold 20, the demand is 30"):
        capacitated_pmedian(cost, np.full(6, 5.0), 10.0, 2)
    with pytest.raises(InfeasibleError, match="fit no reachable site"):
        capacitated_pmedian(cost, [1, 1, 1, 1, 1, 12], 10.0, 3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cpmp_lagrangian_bound_is_valid_and_its_sets_have_p_candidate_sites(seed: int) -> None:
    from planner.engines.facility.capacitated import _cpmp_lagrangian

    cost = _random_cost(seed + 40, 8, 5)
    d = np.random.default_rng(seed + 40).integers(1, 6, size=8).astype(float)
    cap = np.full(5, float(np.ceil(d.sum() / 2 * 1.1)))
    optimum = _brute_cpmp(cost, d, cap, 2)
    cand = np.array([0, 1, 2, 3, 4])
    sets, bound, cut = _cpmp_lagrangian(cost, d, cap, 2, cand, optimum * 1.2, deadline=float("inf"))
    assert not cut
    assert bound <= optimum + 1e-6
    assert bound > 0  # the ascent moved off its start: a bound of 0 would be trivially valid
    assert sets and all(len(s) == 2 and np.isin(s, cand).all() for s in sets)


@pytest.mark.parametrize("seed", [0, 1])
def test_sub_cpmp_solves_a_small_cpmp_exactly(seed: int) -> None:
    from planner.engines.facility.capacitated_lns import _sub_cpmp

    cost = _random_cost(seed + 50, 8, 5)
    d = np.random.default_rng(seed + 50).integers(1, 6, size=8).astype(float)
    cap = np.full(5, float(np.ceil(d.sum() / 2 * 1.15)))
    rows, sites = np.arange(8), np.arange(5)
    new, cut = _sub_cpmp(cost, d, cap, rows, sites, 2, np.full(8, -1), seed=0, time_limit=30)
    assert new is not None and not cut
    assert len(np.unique(new)) <= 2
    assert (np.bincount(new, weights=d, minlength=5) <= cap).all()
    assert float(cost[rows, new].sum()) == pytest.approx(_brute_cpmp(cost, d, cap, 2))


def test_cluster_lns_improves_a_poor_plan_keeps_it_feasible_and_repeats() -> None:
    from planner.engines.facility.capacitated import _regret_assign
    from planner.engines.facility.capacitated_lns import _cluster_lns

    cost = _random_cost(60, 48, 48)
    d = np.random.default_rng(60).integers(1, 10, size=48).astype(float)
    cap = np.full(48, float(np.ceil(d.sum() / 4 * 1.15)))
    pts_x = np.random.default_rng(60).uniform(0, 100, size=(48, 2))[:, 0]  # same draw as _random_cost
    start_cols = np.sort(np.argsort(pts_x, kind="stable")[:4])  # the 4 western-most points: a poor plan
    start = _regret_assign(cost, d, cap, start_cols)
    assert start is not None
    before = float(cost[np.arange(48), start].sum())
    runs = [
        _cluster_lns(cost, d, cap, np.arange(48), start_cols, start, seed=0, deadline=float("inf"))
        for _ in range(2)
    ]
    cols, assign, solves, cut = runs[0]
    assert not cut and solves > 0
    after = float(cost[np.arange(48), assign].sum())
    assert after < before
    assert len(cols) == 4 and np.isin(assign, cols).all()
    assert (np.bincount(assign, weights=d, minlength=48) <= cap).all()
    assert runs[1][0].tolist() == cols.tolist() and runs[1][1].tolist() == assign.tolist()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_max_covering_matches_brute_force(seed: int) -> None:
    cost = _random_cost(seed + 40, 16, 10)
    w = np.random.default_rng(seed).integers(1, 100, size=16).astype(float)
    radius = 30.0
    sol = max_covering(cost, w, 3, radius=radius, seed=seed, time_limit=10)
    brute = max(
        float(w[(cost[:, list(s)] <= radius).any(axis=1)].sum()) for s in itertools.combinations(range(10), 3)
    )
    assert sol.objective == pytest.approx(brute)
    assert sol.proven_optimal and not sol.stopped_by_time
    covered = (cost[:, sol.medians] <= radius).any(axis=1)
    assert sorted(sol.unserved.tolist()) == np.flatnonzero(~covered).tolist()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pcenter_matches_brute_force(seed: int) -> None:
    cost = _random_cost(seed + 60, 15, 10)
    w = np.random.default_rng(seed).integers(1, 4, size=15).astype(float)
    sol = pcenter(cost, 3, weights=w, seed=seed, time_limit=10)
    brute = min(float((w * cost[:, list(s)].min(axis=1)).max()) for s in itertools.combinations(range(10), 3))
    assert sol.objective == pytest.approx(brute)
    assert sol.proven_optimal and len(sol.medians) == 3 and not sol.stopped_by_time
    _check_assignment(sol, cost)


def test_pcenter_cannot_reach_every_village_is_infeasible() -> None:
    cost = np.full((4, 4), np.inf)
    np.fill_diagonal(cost, 0.0)  # each village only reaches itself
    with pytest.raises(InfeasibleError, match="cannot reach every village"):
        pcenter(cost, 2, time_limit=5)


def test_summary_is_json_ready() -> None:
    import json

    sol = pmedian(_random_cost(1, 10, 10), 2, time_limit=5, exact=False)
    s = json.loads(json.dumps(sol.summary()))
    assert s["p"] == 2 and s["objective"] == pytest.approx(sol.objective)


def test_each_model_solves_its_problem_as_its_one_call_function_does() -> None:
    """The Problem -> solve seam and the one-call wrappers give the same solution."""
    from planner.engines import facility as fl
    from planner.engines.facility import capacitated, covering
    from planner.engines.facility import center as pc
    from planner.engines.facility import median as pm

    cost = _random_cost(3, 12, 12)
    w = np.arange(1, 13, dtype=float)
    a = pm.solve(fl.PMedianProblem(cost, 3, weights=w), seed=1)
    b = pmedian(cost, 3, weights=w, seed=1)
    assert a.medians.tolist() == b.medians.tolist() and a.objective == b.objective
    c = pc.solve(fl.PCenterProblem(cost, 3, weights=w), seed=1)
    assert c.objective == pcenter(cost, 3, weights=w, seed=1).objective
    d = covering.solve(fl.CoveringProblem(cost, w, 2, 30.0), seed=1)
    assert d.objective == max_covering(cost, w, 2, radius=30.0, seed=1).objective
    e = capacitated.solve(fl.CapacitatedProblem(cost, w, 40.0, 3), seed=1)
    assert e.objective == capacitated_pmedian(cost, w, 40.0, 3, seed=1).objective


def test_a_problem_is_validated_when_it_is_made() -> None:
    """A bad instance is refused by the Problem's constructor, before any solve."""
    from planner.engines.facility import CapacitatedProblem, CoveringProblem, PMedianProblem

    with pytest.raises(InfeasibleError, match="candidate sites"):
        PMedianProblem(np.ones((3, 3)), 4)
    with pytest.raises(ValidationError, match="radius"):
        CoveringProblem(np.ones((3, 3)), None, 1, -1.0)
    with pytest.raises(InfeasibleError, match="capacity cannot hold"):
        CapacitatedProblem(np.ones((3, 3)), np.ones(3), 1.0, 2)
