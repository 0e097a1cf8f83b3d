"""The districts' certificate (issue 17): the LP bound, the exact mode, and one objective for both."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from district_fixtures import grid_graph, make_access, make_times, make_villages, rules

from planner.districts import plan_districts
from planner.engines.districting import DistrictingProblem
from planner.engines.districting.certificate import (
    _model,
    certify,
    lower_bound,
    plan_objective,
    solution_of,
    solve,
)
from planner.engines.districting.contiguous import solve as heuristic
from planner.engines.districting.graph import is_connected
from planner.offices import place_offices


def _path_county(seed: int) -> DistrictingProblem:
    """Eight villages on a road with one loop, random minutes: contiguity binds, 2 districts of 3-5."""
    rng = np.random.default_rng(seed)
    n = 8
    a = np.zeros((n, n))
    for i in range(n - 1):
        a[i, i + 1] = a[i + 1, i] = 1
    a[0, 5] = a[5, 0] = 1
    cost = rng.uniform(1.0, 30.0, (n, n))
    cost = (cost + cost.T) / 2.0
    np.fill_diagonal(cost, 0.0)
    pop = rng.integers(100, 1000, n).astype(float)
    return DistrictingProblem(
        a, pop, cost, 2, min_size=3, max_size=5, pop_upper=3500.0, balance_weight=0.5, max_cost=15.0
    )


def _grid_county(seed: int) -> DistrictingProblem:
    """A 3 x 3 grid of villages, 3 districts of 2-4."""
    adj, xy = grid_graph(3, 3)
    rng = np.random.default_rng(seed)
    cost = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) * 10.0
    pop = rng.integers(100, 1000, 9).astype(float)
    return DistrictingProblem(adj, pop, cost, 3, min_size=2, max_size=4, max_cost=15.0)


def _heavy_county(seed: int) -> DistrictingProblem:
    """The 3 x 3 grid with one village heavier than the mean district: the balance rows on heavy villages bind."""
    adj, xy = grid_graph(3, 3)
    rng = np.random.default_rng(seed)
    cost = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) * 10.0
    pop = rng.integers(100, 300, 9).astype(float)
    pop[seed % 9] = 3000.0
    return DistrictingProblem(adj, pop, cost, 3, min_size=2, max_size=4, compactness_weight=0.2)


def _banded_county(seed: int) -> DistrictingProblem:
    """The path county with a balance tolerance of 15 % of the mean district (the band costs nothing) and a
    heavier balance weight, so that the band decides the plan."""
    return dataclasses.replace(_path_county(seed), balance_weight=3.0, balance_tolerance=0.15)


def _heavy_banded_county(seed: int) -> DistrictingProblem:
    """The heavy-village grid with a 30 % tolerance: the heavy rows count from the band's top."""
    return dataclasses.replace(_heavy_county(seed), balance_tolerance=0.3)


def _brute_force(problem: DistrictingProblem) -> float:
    """The optimum by enumerating every partition into k connected districts within the bounds."""
    n, k = problem.n, problem.k
    mn, mx = problem.size_bounds
    _lo, hi = problem.pop_bounds
    best = np.inf
    for labs in itertools.product(range(k), repeat=n - 1):
        lab = np.array((0, *labs))
        sizes = np.bincount(lab, minlength=k)
        if (sizes < mn).any() or (sizes > mx).any():
            continue
        if (np.bincount(lab, weights=problem.population, minlength=k) > hi).any():
            continue
        if all(is_connected(np.flatnonzero(lab == d).tolist(), problem.neighbours) for d in range(k)):
            best = min(best, plan_objective(problem, lab))
    return float(best)


@pytest.mark.parametrize(
    "make", [_path_county, _grid_county, _heavy_county, _banded_county, _heavy_banded_county]
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lp_bound_is_at_most_the_plans_objective(make, seed: int) -> None:
    """The LP relaxation's bound never exceeds the heuristic plan's objective, nor the optimum."""
    p = make(seed)
    sol = heuristic(p, seed=0, exact=False)
    cert = lower_bound(p, sol.labels)
    assert cert.lower_bound is not None
    assert cert.lower_bound <= sol.objective + 1e-6
    assert cert.lower_bound <= _brute_force(p) + 1e-6
    assert cert.gap_pct is not None and 0.0 <= cert.gap_pct < 100.0


def test_heavy_village_rows_raise_the_bound() -> None:
    """With a village heavier than the mean district, the bound pays at least that village's excess."""
    p = _heavy_county(0)
    sol = heuristic(p, seed=0, exact=False)
    cert = lower_bound(p, sol.labels)
    excess = p.balance_weight * p.unit_cost * (3000.0 + np.sort(p.population)[0] - p.population.sum() / 3)
    assert cert.lower_bound is not None and cert.lower_bound >= excess


@pytest.mark.parametrize(
    "make", [_path_county, _grid_county, _heavy_county, _banded_county, _heavy_banded_county]
)
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_exact_mode_finds_the_brute_force_optimum(make, seed: int) -> None:
    """The MIP with contiguity cuts proves the optimum that enumerating every partition finds."""
    p = make(seed)
    labels, cert = solve(p, time_limit=60.0)
    assert labels is not None and cert.proven_optimal
    assert cert.objective == pytest.approx(_brute_force(p), rel=1e-9)
    assert cert.gap_pct == 0.0
    assert all(is_connected(np.flatnonzero(labels == d).tolist(), p.neighbours) for d in range(p.k))


def test_exact_mode_adds_contiguity_cuts_where_the_roads_split_a_district() -> None:
    """On the path county with random minutes, the first MIP solution is cut off and cuts are added."""
    _labels, cert = solve(_path_county(2), time_limit=60.0)
    assert cert.cuts > 0 and cert.rounds > 1 and cert.proven_optimal


@pytest.mark.parametrize("make", [_path_county, _banded_county])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_heuristic_and_exact_agree_on_the_objective_of_one_partition(make, seed: int) -> None:
    """Same partition, same objective: the heuristic's figure, plan_objective and the MIP fixed to it."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    p = make(seed)
    sol = heuristic(p, seed=seed, exact=False)
    assert plan_objective(p, sol.labels) == pytest.approx(sol.objective, rel=1e-12)
    again = solution_of(p, sol.labels)
    assert again.objective == pytest.approx(sol.objective, rel=1e-12)
    # the MIP's own objective with x fixed to the partition (each district free to pick its best centre)
    lay, c, a_mat, bl, bu, ub = _model(p, p.k, sol.labels)
    lb = np.zeros(lay.size)
    ub = ub.copy()
    n = p.n
    for i in range(n):
        for j in range(n):
            if sol.labels[i] != sol.labels[j]:
                ub[i * n + j] = 0.0
    integrality = np.zeros(lay.size)
    integrality[: lay.r0] = 1
    res = milp(
        c, integrality=integrality, bounds=Bounds(lb, ub), constraints=[LinearConstraint(a_mat, bl, bu)]
    )
    assert res.status == 0
    assert res.fun == pytest.approx(sol.objective, rel=1e-7)


def test_certify_keeps_the_better_plan_and_its_bound() -> None:
    """certify with exact returns a plan no worse than the heuristic's, and bound <= objective."""
    p = _grid_county(0)
    sol = heuristic(p, seed=0, exact=False)
    out, cert = certify(p, sol, exact=True, time_limit=60.0)
    assert out.objective <= sol.objective + 1e-6
    assert cert.lower_bound is not None and cert.lower_bound <= out.objective + 1e-6
    assert cert.proven_optimal


def test_bound_holds_for_a_plan_that_breaks_r1() -> None:
    """A plan the geography forces over R1 still gets a bound below its objective (the model is widened)."""
    adj = sp.csr_matrix(np.array([[0, 1, 1, 1], [1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]]))
    cost = np.array([[0, 5, 6, 7], [5, 0, 9, 9], [6, 9, 0, 9], [7, 9, 9, 0]], dtype=float)
    p = DistrictingProblem(adj, np.full(4, 100.0), cost, 1, min_size=5, max_size=8)
    sol = heuristic(p, seed=0, exact=False)
    assert sol.breaks
    cert = lower_bound(p, sol.labels)
    assert cert.lower_bound is not None and cert.lower_bound <= sol.objective + 1e-6


def test_plan_summary_carries_lower_bound_and_gap() -> None:
    """The district stage certifies every plan: summary.json's objective, lower_bound and gap_pct."""
    villages = make_villages(3, 4, np.full(12, 800))
    times = make_times(villages)
    r = rules(mode="villages", min_villages=3, max_villages=5)
    part = plan_districts(villages, times, make_access(villages), rules=r)
    s = place_offices(part, rules=r).summary()
    assert s["lower_bound"] is not None and s["lower_bound"] <= s["objective"] + 0.1
    assert s["gap_pct"] is not None and s["gap_pct"] >= 0.0
    assert s["bound_method"] == "lp"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_shows_the_objective_bound_and_gap(lang: str) -> None:
    """The report's certificate section prints summary.json's objective, lower bound and gap, the gap as
    summary.json has it (regression: 21.95 was shown as 21.9 %)."""
    import dataclasses

    from plan_fixture import make_plan

    from planner.outputs.report import report_html
    from planner.texts import t

    plan = make_plan()
    cert = {"objective": 123456.0, "lower_bound": 100000.0, "gap_pct": 21.95, "bound_method": "lp"}
    page = report_html(
        dataclasses.replace(plan, summary={**plan.summary, "district_objective": cert}), lang=lang
    )
    assert f"<section id='certificate'><h2>{t('report.section.certificate', lang)}</h2>" in page
    assert "21.95%" in page and t("report.certificate.lp", lang) in page


def test_no_bound_above_the_size_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    """A county above BOUND_MAX_UNITS gets no bound (method none, gap None) instead of an n^2 model."""
    from planner.engines.districting import certificate

    monkeypatch.setattr(certificate, "BOUND_MAX_UNITS", 5)
    p = _grid_county(0)
    sol = heuristic(p, seed=0, exact=False)
    out, cert = certify(p, sol, exact=True)
    assert out is sol and cert.lower_bound is None and cert.gap_pct is None and cert.method == "none"


def test_exact_rules_key_proves_a_small_county_in_the_stage() -> None:
    """[districts] exact = true: the stage runs the MIP, proves the optimum and says so in the summary."""
    villages = make_villages(3, 4, np.arange(1, 13) * 100)
    times = make_times(villages)
    r = rules(mode="villages", min_villages=3, max_villages=5, exact=True, exact_time_limit=60.0)
    part = plan_districts(villages, times, make_access(villages), rules=r)
    s = place_offices(part, rules=r).summary()
    assert s["bound_method"] == "mip" and s["bound_proven_optimal"] and s["gap_pct"] == 0.0
    assert s["proven_optimal"]
