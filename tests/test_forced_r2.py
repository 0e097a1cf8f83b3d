"""R2 breaks that R1 and R2 force together: a large village whose every R1-sized neighbourhood is over the cap
(issue 13: the district stage must not spend eleven more solves trying to avoid a break no plan avoids)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from district_fixtures import grid_graph, make_access, make_times, make_villages, rules

import planner.districts.candidates as candidates
from planner.districts import plan_districts
from planner.districts.check import heavy_neighbourhoods
from planner.engines.districting.graph import neighbours


def _nbrs(rows: int, cols: int) -> list[np.ndarray]:
    adj, _xy = grid_graph(rows, cols)
    return neighbours(adj, rows * cols)


def test_a_village_whose_every_five_village_neighbourhood_is_over_the_cap_is_forced() -> None:
    """A 3 x 3 grid, centre 8,000 residents, others 600: the cheapest 5 villages through the centre hold
    8,000 + 4 x 600 = 10,400 > 2 x 5,000, so the centre is forced; a corner (600) is not (its own four
    cheapest neighbours without the centre make 3,000)."""
    pop = np.full(9, 600.0)
    pop[4] = 8_000.0
    forced = heavy_neighbourhoods(_nbrs(3, 3), pop, rules().districts)
    assert forced.tolist() == [False] * 4 + [True] + [False] * 4


def test_one_light_path_is_enough_to_free_the_village() -> None:
    """The same grid with the centre's neighbour 1, the corner 0 and the neighbour 3 at 300 and the rest at 800:
    {4, 1, 0, 3} and one more neighbour of the centre hold 8,000 + 3 x 300 + 800 = 9,700, within 10,000, found
    along the only light path, so nothing is forced."""
    pop = np.full(9, 800.0)
    pop[4] = 8_000.0
    pop[[1, 0, 3]] = 300.0  # centre -> 1 -> 0 -> 3 (-> 4's other side): a light, connected neighbourhood
    forced = heavy_neighbourhoods(_nbrs(3, 3), pop, rules().districts)
    assert not forced.any()


def test_a_piece_smaller_than_r1_is_r1s_break_not_forced_r2() -> None:
    """Two villages joined to nothing else cannot make 5; that is an R1 break, so neither is forced by R2."""
    nbrs = [np.array([1]), np.array([0])]
    forced = heavy_neighbourhoods(nbrs, np.array([9_000.0, 3_000.0]), rules().districts)
    assert not forced.any()


def test_without_r2_nothing_is_forced() -> None:
    pop = np.full(9, 600.0)
    pop[4] = 30_000.0
    assert not heavy_neighbourhoods(_nbrs(3, 3), pop, rules(mode="villages").districts).any()


def test_the_stage_stops_at_the_first_count_when_its_only_break_is_forced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 5 x 6 grid of 600-resident villages with one 8,000-resident village: its district breaks R2 in every
    plan. The stage's first solve is kept (one engine solve, no further counts, no relaxed graph) and the plan
    still reports the R2 break."""
    calls: list[int] = []
    real = candidates.solve_districts

    def solve(problem: Any, **kw: Any) -> Any:
        calls.append(problem.k)
        return real(problem, **kw)

    monkeypatch.setattr(candidates, "solve_districts", solve)
    pop = np.full(30, 600)
    pop[14] = 8_000
    villages = make_villages(5, 6, pop)
    part = plan_districts(villages, make_times(villages), make_access(villages), rules=rules(), seed=0)
    assert len(calls) == 1
    heavy = part.labels[14]
    assert pop[part.labels == heavy].sum() > 10_000


def _fake(breaks: int) -> Any:
    """A solution with ``breaks`` avoidable R1 breaks (the stage only reads breaks and labels here)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        breaks=[SimpleNamespace(rule="size", district=0)] * breaks,
        labels=np.zeros(10, dtype=int),
        stopped_by_time=False,
    )


@pytest.mark.parametrize(
    ("found", "asked", "kept"),
    [
        ({9: 4, 10: 4, 11: 0}, [9, 10], 4),  # one more district removed nothing: the graph is at fault, stop
        ({9: 4, 10: 2, 11: 0}, [9, 10, 11], 0),  # it removed some: try the next
        ({9: 0, 10: 0, 11: 0}, [9], 0),  # the first count holds the rules
    ],
)
def test_a_further_count_is_tried_only_while_the_last_removed_a_break(
    found: dict[int, int], asked: list[int], kept: int
) -> None:
    calls: list[int] = []

    def solve_k(kk: int, _left: float) -> Any:
        calls.append(kk)
        return _fake(found[kk])

    sol, cut = candidates.best_count([9, 10, 11], solve_k, np.zeros(10, dtype=bool), t0=0.0, time_limit=1e12)
    assert calls == asked
    assert len(sol.breaks) == kept and not cut


def test_a_forced_districts_size_is_the_objectives_choice_not_a_break_to_shrink() -> None:
    """Five villages on a road at 0, 1, 2, 60, 61 km-minutes, 2 districts of 2-3, cap 100 residents; the
    village at 1 has 150 residents, so its district breaks the cap in every plan. Either {0, 1} | {2, 60, 61}
    (160 | 30 residents; the village at 2 drives 58 minutes: 10 + 20 x 58 + 5 = 1,175 resident-minutes) or
    {0, 1, 2} | {60, 61} (180 | 10; 10 + 20 + 5 = 35). Counting the forced district's excess as a break would
    take the first at any cost in travel; it counts one break either way, and the travel decides."""
    from planner.engines.districting import DistrictingProblem
    from planner.engines.districting.contiguous import solve

    x = np.array([0.0, 1.0, 2.0, 60.0, 61.0])
    a = np.zeros((5, 5))
    for i in range(4):
        a[i, i + 1] = a[i + 1, i] = 1
    pop = np.array([10.0, 150.0, 20.0, 5.0, 5.0])
    p = DistrictingProblem(
        a,
        pop,
        np.abs(x[:, None] - x[None, :]),
        2,
        min_size=2,
        max_size=3,
        pop_upper=100.0,
        balance_weight=0.0,
        compactness_weight=0.0,
    )
    sol = solve(p, seed=0, exact=False)
    assert sol.labels.tolist() in ([0, 0, 0, 1, 1], [1, 1, 1, 0, 0])
    assert sol.objective == pytest.approx(35.0)
    assert [b.rule for b in sol.breaks] == ["population"]
    # a district over the cap that is not forced still counts its excess: 60 + 60 residents, cap 100, and
    # 2 x 70 would be within it; the search avoids the break
    q = DistrictingProblem(
        a[:4, :4],
        np.array([60.0, 10.0, 10.0, 60.0]),
        np.abs(x[:4, None] - x[None, :4]),
        2,
        max_size=3,
        pop_upper=100.0,
        balance_weight=0.0,
        compactness_weight=0.0,
    )
    assert not solve(q, seed=0, exact=False).breaks
