"""Districting engines (planner.engines.districting): brute-forced optima, invariants, seeds, the min-cut model."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from district_fixtures import connected, grid_graph

from planner.engines.districting import contiguous_districts, min_cut_districts
from planner.errors import SolverError


def brute_force_optimum(adj: sp.csr_matrix, w: np.ndarray, cost: np.ndarray, size: int) -> float:
    """Every partition of the units into connected parts of exactly ``size`` units; the best p-median cost."""
    n = adj.shape[0]
    nbrs = [set(adj.indices[adj.indptr[i] : adj.indptr[i + 1]].tolist()) for i in range(n)]

    def part_cost(part: frozenset[int]) -> float:
        m = sorted(part)
        return float(min(w[m] @ cost[np.ix_(m, [c])] for c in m)[0])

    def shapes(start: int, free: set[int]) -> set[frozenset[int]]:
        found: set[frozenset[int]] = set()
        stack = [frozenset([start])]
        seen = set(stack)
        while stack:
            s = stack.pop()
            if len(s) == size:
                found.add(s)
                continue
            for u in s:
                for v in nbrs[u]:
                    if v in free and v not in s:
                        t = s | {v}
                        if t not in seen:
                            seen.add(t)
                            stack.append(t)
        return found

    best = np.inf

    def rec(free: set[int], acc: float) -> None:
        nonlocal best
        if not free:
            best = min(best, acc)
            return
        start = min(free)
        for s in shapes(start, free):
            rec(free - s, acc + part_cost(s))

    rec(set(range(n)), 0.0)
    return float(best)


@pytest.mark.parametrize(
    ("rows", "cols", "k"),
    [(3, 5, 3), pytest.param(4, 5, 4, marks=pytest.mark.slow)],
)
def test_grid_matches_brute_force_optimum(rows: int, cols: int, k: int) -> None:
    """The solver finds the brute-forced best p-median partition of a grid into k 5-cell districts."""
    adj, xy = grid_graph(rows, cols)
    cost = np.abs(xy[:, None, :] - xy[None, :, :]).sum(-1)
    pop = np.random.default_rng(7).integers(100, 1000, rows * cols).astype(float)
    best = brute_force_optimum(adj, pop, cost, 5)
    for exact in (False, True):
        sol = contiguous_districts(
            adj,
            pop,
            cost,
            k,
            min_size=5,
            max_size=5,
            balance_weight=0.0,
            compactness_weight=0.0,
            seed=0,
            exact=exact,
            exact_max_units=rows * cols,
            exact_work=5.0,
        )
        assert sol.objective == pytest.approx(best)
        assert not sol.breaks
    assert sol.proven_optimal


@pytest.mark.parametrize(
    ("rows", "cols", "k"),
    [(4, 6, 4), pytest.param(6, 8, 7, marks=pytest.mark.slow)],
)
def test_core_invariants_and_seed_determinism(rows: int, cols: int, k: int) -> None:
    """Every unit in one district, each district connected with its centre inside; same seed, same plan."""
    adj, xy = grid_graph(rows, cols)
    n = rows * cols
    cost = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    pop = np.random.default_rng(3).integers(200, 2500, n).astype(float)
    sols = [
        contiguous_districts(
            adj, pop, cost, k, min_size=5, max_size=8, pop_upper=10000, seed=5, time_limit=30, exact=False
        )
        for _ in range(2)
    ]
    s = sols[0]
    assert np.array_equal(s.labels, sols[1].labels) and np.array_equal(s.centers, sols[1].centers)
    assert set(s.labels.tolist()) == set(range(k))
    for d, c in enumerate(s.centers):
        mem = np.flatnonzero(s.labels == d).tolist()
        assert s.labels[c] == d
        assert connected(mem, adj)
        if not any(b.district == d for b in s.breaks):
            assert 5 <= len(mem) <= 8 and pop[mem].sum() <= 10000


@pytest.mark.parametrize(("rows", "cols", "k", "region_units"), [(8, 10, 12, 20)])
def test_split_start_gives_a_valid_reproducible_plan(rows: int, cols: int, k: int, region_units: int) -> None:
    """The large-piece start (p-median region by region, threshold lowered) gives k connected districts in bounds,
    the same plan for the same seed, and regions that cover every unit once."""
    from planner.engines.districting.search import _regions

    adj, xy = grid_graph(rows, cols)
    n = rows * cols
    cost = np.abs(xy[:, None, :] - xy[None, :, :]).sum(-1) * 3.0
    pop = np.random.default_rng(7).integers(200, 2500, n).astype(float)
    kw = dict(
        min_size=5, max_size=8, pop_upper=12000, time_limit=60, exact=False, start_split=n // 2, rounds=100
    )
    sols = [contiguous_districts(adj, pop, cost, k, seed=3, **kw) for _ in range(2)]  # type: ignore[arg-type]
    s = sols[0]
    assert np.array_equal(s.labels, sols[1].labels) and np.array_equal(s.centers, sols[1].centers)
    assert s.objective == sols[1].objective and not s.stopped_by_time
    assert set(s.labels.tolist()) == set(range(k))
    for d, c in enumerate(s.centers):
        mem = np.flatnonzero(s.labels == d).tolist()
        assert s.labels[c] == d and connected(mem, adj)
        assert 5 <= len(mem) <= 8 and pop[mem].sum() <= 12000
    from planner.engines.districting.contiguous import DistrictingProblem

    model = DistrictingProblem(adj, pop, cost, k).model(float(pop.sum()) / k)
    reg = _regions(model, list(range(n)), max(2, n // region_units))
    assert reg.shape == (n,) and set(reg.tolist()) == set(range(max(2, n // region_units)))


# ------------------------------------------------------------------------ fewest cut edges (min_cut_districts)


def brute_force_min_cut(adj: sp.csr_matrix, pop: np.ndarray, lo: float, hi: float) -> int:
    """Fewest cut edges over every split of the units into two connected sides within [lo, hi]."""
    n = adj.shape[0]
    coo = sp.triu(adj).tocoo()
    masks = np.arange(1 << (n - 1))  # unit n-1 always on side 0: each split counted once
    sides = ((masks[:, None] >> np.arange(n)[None, :]) & 1).astype(bool)
    p1 = sides @ pop
    best = np.iinfo(np.int64).max
    for side in sides[(p1 >= lo) & (p1 <= hi) & (pop.sum() - p1 >= lo) & (pop.sum() - p1 <= hi)]:
        if connected(np.flatnonzero(side).tolist(), adj) and connected(np.flatnonzero(~side).tolist(), adj):
            best = min(best, int((side[coo.row] != side[coo.col]).sum()))
    return int(best)


def check_cut_plan(sol, adj: sp.csr_matrix, pop: np.ndarray, k: int, lo: float, hi: float) -> None:
    coo = sp.triu(adj).tocoo()
    assert set(sol.labels.tolist()) == set(range(k))
    for d in range(k):
        mem = np.flatnonzero(sol.labels == d).tolist()
        assert connected(mem, adj) and lo <= pop[mem].sum() <= hi
        assert sol.labels[sol.centers[d]] == d
    assert sol.objective == (sol.labels[coo.row] != sol.labels[coo.col]).sum()


def test_min_cut_matches_brute_force_and_cpsat_proves_it() -> None:
    """On a 4x4 grid split in two under +-2% population bounds, both the heuristic alone and the exact model
    reach the brute-forced fewest cut edges; the exact model proves it, with or without a start."""
    adj, _xy = grid_graph(4, 4)
    pop = np.random.default_rng(11).integers(20, 400, 16).astype(float)
    lo, hi = 0.98 * pop.sum() / 2, 1.02 * pop.sum() / 2
    best = brute_force_min_cut(adj, pop, lo, hi)
    heur = min_cut_districts(
        adj, pop, 2, pop_lower=lo, pop_upper=hi, rounds=200, restarts=1, exact=False, time_limit=20
    )
    check_cut_plan(heur, adj, pop, 2, lo, hi)
    assert heur.objective == best and not heur.proven_optimal
    # warm-started from the heuristic, and alone (the fallback when no tree split was found)
    for restarts in (1, 0):
        exact = min_cut_districts(
            adj, pop, 2, pop_lower=lo, pop_upper=hi, rounds=20, restarts=restarts, time_limit=20
        )
        check_cut_plan(exact, adj, pop, 2, lo, hi)
        assert exact.objective == best and exact.proven_optimal


def test_min_cut_recombination_improves_and_is_deterministic() -> None:
    """On a 12x12 grid in 4 districts (+-1%) recombination cuts far fewer edges than the tree-split start, and
    the same seed gives the same plan."""
    adj, _xy = grid_graph(12, 12)
    pop = np.random.default_rng(5).integers(80, 120, 144).astype(float)
    lo, hi = 0.99 * pop.sum() / 4, 1.01 * pop.sum() / 4
    kw = dict(pop_lower=lo, pop_upper=hi, seed=2, restarts=1, exact=False, time_limit=60)
    start = min_cut_districts(adj, pop, 4, rounds=0, **kw)
    sols = [min_cut_districts(adj, pop, 4, rounds=1500, **kw) for _ in range(2)]
    for s in (start, *sols):
        check_cut_plan(s, adj, pop, 4, lo, hi)
    assert np.array_equal(sols[0].labels, sols[1].labels)
    # four quadrants cut 24 edges (they miss the bounds by a few cells); a random tree-split start is far above
    assert sols[0].objective < start.objective and sols[0].objective <= 24 * 1.25


def test_min_cut_impossible_bounds_raise() -> None:
    """A unit heavier than the upper bound makes every plan infeasible: SolverError, not a wrong plan."""
    adj, _xy = grid_graph(3, 3)
    pop = np.full(9, 10.0)
    pop[4] = 100.0
    with pytest.raises(SolverError, match="no feasible districting"):
        min_cut_districts(adj, pop, 3, pop_lower=30, pop_upper=50, rounds=10, time_limit=10)


# -------------------------------------------------------------------------------------- GeoDataFrame wrapper


def test_the_problem_seam_gives_the_one_call_plan_and_validates_on_construction() -> None:
    """solve(DistrictingProblem(...)) is contiguous_districts(...); a bad instance is refused when it is made."""
    from planner.engines.districting import DistrictingProblem, MinCutProblem, contiguous
    from planner.errors import ValidationError

    adj, xy = grid_graph(3, 4)
    cost = np.abs(xy[:, None, :] - xy[None, :, :]).sum(-1)
    pop = np.arange(1.0, 13.0)
    a = contiguous.solve(DistrictingProblem(adj, pop, cost, 3, min_size=3, max_size=5), seed=2)
    b = contiguous_districts(adj, pop, cost, 3, min_size=3, max_size=5, seed=2)
    assert a.labels.tolist() == b.labels.tolist() and a.objective == b.objective
    assert a.summary()["districts"] == 3
    with pytest.raises(ValidationError, match="k = 13"):
        DistrictingProblem(adj, pop, cost, 13)
    with pytest.raises(ValidationError, match="cost has shape"):
        DistrictingProblem(adj, pop, cost[:5], 2)
    with pytest.raises(ValidationError, match="k = 0"):
        MinCutProblem(adj, pop, 0, 1.0, 10.0)


def test_breaks_are_typed_with_district_numbers_and_texts() -> None:
    """A bound that cannot hold comes back as a DistrictBreak naming its district and numbers, with both texts."""
    adj, xy = grid_graph(2, 3)
    cost = np.abs(xy[:, None, :] - xy[None, :, :]).sum(-1)
    sol = contiguous_districts(adj, np.full(6, 100.0), cost, 2, min_size=4, max_size=4)
    sizes = [b for b in sol.breaks if b.rule == "size"]
    assert sizes and all(b.district in (0, 1) and b.low == 4 and b.high == 4 for b in sizes)
    assert all(b.detail.endswith("outside 4..4") and "不在 4..4 内" in b.detail_zh for b in sizes)


def _ring_search(seed: int, locked: list[int] | None = None) -> object:
    """A ring of 8 units (unit i next to i +- 1 mod 8), cost = hops along the ring, residents
    6, 3, 9, 1, 8, 6, 3, 7, two districts of exactly 4 units, no balance or compactness; the search loaded with
    the arcs 0-3 and 4-7 (``locked`` units form group 0)."""
    from planner.engines.districting.contiguous import DistrictingProblem
    from planner.engines.districting.graph import TimeCap
    from planner.engines.districting.search import _Search

    n = 8
    ring = sp.lil_matrix((n, n))
    for i in range(n):
        ring[i, (i + 1) % n] = ring[(i + 1) % n, i] = 1
    pos = np.arange(n)
    hop = np.abs(pos[:, None] - pos[None, :])
    hop = np.minimum(hop, n - hop).astype(float)
    w = np.array([6.0, 3.0, 9.0, 1.0, 8.0, 6.0, 3.0, 7.0])
    group = np.full(n, -1)
    if locked:
        group[locked] = 0
    prob = DistrictingProblem(
        ring.tocsr(),
        w,
        hop,
        2,
        min_size=4,
        max_size=4,
        locked=group,
        balance_weight=0.0,
        compactness_weight=0.0,
    )
    search = _Search(
        prob.model(float(w.sum()) / 2),
        list(range(n)),
        2,
        prob.group,
        np.random.default_rng(seed),
        TimeCap(30, "test"),
    )
    search.load({u: 0 if u < 4 else 1 for u in range(n)})
    return search


ARCS = {u: 0 if u < 4 else 1 for u in range(8)}


def test_merge_and_redraw_leaves_a_plateau_of_single_moves_and_swaps() -> None:
    """The ring's only plans are its 4 rotations of two arcs. An arc (a, b, c, d) costs min(a + c + 2d,
    2a + b + d) from b or c (the ends cost more here). Arcs 0-3 + 4-7: (6,3,9,1) 16 + (8,6,3,7) 25 = 41; 1-4 + 5-0:
    (3,9,1,8) 20 + (6,3,7,6) 21 = 41; 3-6 + 7-2: (1,8,6,3) 13 + (7,6,3,9) 28 = 41; 2-5 + 6-1: (9,1,8,6) 25 +
    (3,7,6,3) 15 = 40. No single move keeps 4 units a side and the only connected swaps (0 for 4, 3 for 7) lead to
    41 again, so the local search is stuck at 41; merge-and-redraw finds 40, and the same seed the same plan."""
    search = _ring_search(seed=1)
    assert search.total() == (0.0, 41.0)
    search.local_search()
    assert search.total() == (0.0, 41.0) and search.lab == ARCS
    assert search.recombine() == {0, 1}
    assert search.total() == (0.0, 40.0)
    assert {frozenset(search.members[d]) for d in range(2)} == {
        frozenset({2, 3, 4, 5}),
        frozenset({6, 7, 0, 1}),
    }
    again = _ring_search(seed=1)
    again.local_search()
    again.recombine()
    assert again.lab == search.lab
    assert search.recombine() == set()  # nothing better left: the pass changes nothing


def test_merge_and_redraw_keeps_locked_groups_whole_and_in_their_district() -> None:
    """Units 2 and 3 locked together (group 0, in district 0): the best plan keeps them, in district 0. Units 1
    and 2 locked: the plan of 40 would split them, every other plan costs 41, so nothing changes."""
    search = _ring_search(seed=2, locked=[2, 3])
    search.recombine()
    assert search.members[0] == {2, 3, 4, 5} and search.total() == (0.0, 40.0)
    search = _ring_search(seed=2, locked=[1, 2])
    assert search.recombine() == set() and search.lab == ARCS
