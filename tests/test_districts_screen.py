"""The district stage's screening (issue 13): candidates screened with a counted round budget, the winner solved
again with the full budget; same plan twice, never the time cap, and the winner the full rule would pick."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from district_fixtures import make_access, make_times, make_villages, rules

import planner.districts.candidates as candidates
import planner.districts.plan as stage
from planner.districts import plan_districts


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int | None]]:
    """Record (districts, rounds) of every engine solve the stage makes."""
    calls: list[tuple[int, int | None]] = []
    real = candidates.solve_districts

    def solve(problem: Any, **kw: Any) -> Any:
        calls.append((problem.k, kw.get("rounds")))
        return real(problem, **kw)

    monkeypatch.setattr(candidates, "solve_districts", solve)
    return calls


def test_screened_stage_is_reproducible_counted_and_polishes_the_best_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the threshold lowered to screen a 30-village grid whose fewest districts break R2 (so more counts
    are tried): every candidate gets the screen's rounds, then the best POLISH_CANDIDATES a full solve; the same
    seed gives the same plan, and the cap (600 s) never cuts it."""
    monkeypatch.setattr(stage, "DISTRICT_SCREEN_UNITS", 0)
    monkeypatch.setattr(candidates, "SCREEN_ROUNDS", 20)
    calls = _spy(monkeypatch)
    pop = np.random.default_rng(5).integers(300, 6000, 30)
    villages = make_villages(5, 6, pop)
    r = rules()
    times, access = make_times(villages), make_access(villages)
    parts = [plan_districts(villages, times, access, rules=r, seed=2, time_limit=600) for _ in range(2)]
    assert np.array_equal(parts[0].labels, parts[1].labels)
    assert not parts[0].stopped_by_time and not parts[1].stopped_by_time
    first = calls[: len(calls) // 2]
    assert calls[len(calls) // 2 :] == first
    full = [
        k for k, rounds in first if rounds is None
    ]  # the winner's and runners-up's full budget, at the end
    screened = len(first) - len(full)
    assert screened >= 2 and len(full) == min(candidates.POLISH_CANDIDATES, screened)
    assert [rounds for _k, rounds in first[:screened]] == [20] * screened
    assert len(parts[0].centers) in full


def test_small_county_is_not_screened(monkeypatch: pytest.MonkeyPatch) -> None:
    """At or below DISTRICT_SCREEN_UNITS villages every candidate is a full solve, as before the screening."""
    calls = _spy(monkeypatch)
    villages = make_villages(1, 3, np.array([6000, 8000, 6000]))
    r = rules(mode="population")
    part = plan_districts(villages, make_times(villages), make_access(villages), rules=r)
    assert len(part.centers) == 3 and [k for k, _ in calls] == [2, 3]
    assert all(rounds is None for _k, rounds in calls)


def _scale_county() -> Any:
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "scale_county.py"
    spec = importlib.util.spec_from_file_location("scale_county", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("scale_county", mod)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_screening_picks_the_candidate_the_full_rule_picks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The benchmark's 60-village synthetic county (roads, seed 0) tries 8 candidates (3 counts on the road
    graph, then relaxed graphs); the full rule solves all of them with the full budget, the screening with
    SCREEN_ROUNDS and then the best again: both keep the same plan (the winner solved alike)."""
    from planner.network import build_network, locate_villages, travel_times
    from planner.network.estimate import fill_unreachable
    from planner.rules import Rules

    r = Rules()
    villages, roads = _scale_county().synthetic_county(60, seed=0)
    net = build_network(roads, rules=r.network, crs=villages.crs)
    access = locate_villages(net, villages, rules=r.network)
    times, access = fill_unreachable(travel_times(net, access), access, villages, r.network)
    labels = []
    for threshold in (10**9, 0):
        monkeypatch.setattr(stage, "DISTRICT_SCREEN_UNITS", threshold)
        part = plan_districts(villages, times, access, rules=r, seed=0, time_limit=600)
        assert not part.stopped_by_time
        labels.append(part.labels)
    assert np.array_equal(labels[0], labels[1])


def test_full_solves_on_dask_workers_give_the_same_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """The screened county's relaxed road graphs (each graph's sequence of district counts) and its final full
    solves run as tasks on two Dask workers (``planner plan --workers 2``): the plan is the one solved here, and
    every graph and every full solve was a task."""
    from counting_executor import CountingExecutor

    from planner.many import dask_client

    monkeypatch.setattr(stage, "DISTRICT_SCREEN_UNITS", 0)
    monkeypatch.setattr(candidates, "SCREEN_ROUNDS", 20)
    pop = np.random.default_rng(5).integers(300, 6000, 30)
    villages = make_villages(5, 6, pop)
    r = rules()
    times, access = make_times(villages), make_access(villages)
    graphs: list[int] = []
    real = candidates.Candidates.on_graphs

    def on_graphs(self: Any, g: Any, *args: Any, **kw: Any) -> Any:
        graphs.append(len(g))
        return real(self, g, *args, **kw)

    monkeypatch.setattr(candidates.Candidates, "on_graphs", on_graphs)
    here = plan_districts(villages, times, access, rules=r, seed=2, time_limit=600)
    assert graphs and graphs[0] >= 2  # the grid's road graph breaks R1/R2: relaxed graphs are tried

    with dask_client(workers=2) as client:
        ex = CountingExecutor(client.get_executor())
        there = plan_districts(villages, times, access, rules=r, seed=2, time_limit=600, executor=ex)
    assert ex.by_name == {"screen_counts": graphs[0], "solve_elsewhere": candidates.POLISH_CANDIDATES}
    assert np.array_equal(here.labels, there.labels)
    assert here.centers == there.centers
    assert here.certificate.objective == there.certificate.objective
