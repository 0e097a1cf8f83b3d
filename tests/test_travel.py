"""The certificate of the residents' travel alone (issue 17): a bound on resident-minutes, the MIP's optimum."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from district_fixtures import make_access, make_times, make_villages, rules
from test_certificate import _grid_county, _heavy_county, _path_county

from planner.districts import plan_districts
from planner.engines.districting import DistrictingProblem
from planner.engines.districting.contiguous import solve as heuristic
from planner.engines.districting.graph import is_connected
from planner.engines.districting.travel import bound, certify_travel, resident_minutes, travel_problem
from planner.offices import place_offices


def _best_offices(problem: DistrictingProblem, labels: np.ndarray) -> list[int]:
    """Each district's unit of least resident-minutes (cost unit -> office)."""
    out = []
    for d in range(int(labels.max()) + 1):
        mem = np.flatnonzero(labels == d)
        rm = problem.weights[mem] @ problem.cost[np.ix_(mem, mem)]
        out.append(int(mem[np.argmin(rm)]))
    return out


def _brute_force_travel(problem: DistrictingProblem) -> float:
    """The least resident-minutes over every partition into k connected districts within the bounds."""
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
            best = min(best, resident_minutes(problem, lab, _best_offices(problem, lab)))
    return float(best)


@pytest.mark.parametrize("make", [_path_county, _grid_county, _heavy_county])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_travel_bound_is_at_most_the_plans_resident_minutes(make, seed: int) -> None:
    """The LP and the MIP bound on resident-minutes stay at or below the plan's, whichever office it has."""
    p = make(seed)
    sol = heuristic(p, seed=0, exact=False)
    lp = bound(p, sol.labels)
    mip = certify_travel(p, sol.labels, exact=True)
    assert lp.bound is not None and mip.bound is not None
    for offices in (_best_offices(p, sol.labels), [int(c) for c in sol.centers]):
        rm = resident_minutes(p, sol.labels, offices)
        assert lp.bound <= rm + 1e-6 and mip.bound <= rm + 1e-6


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_mip_finds_the_brute_force_optimum_of_the_travel(seed: int) -> None:
    """On an eight-village county the MIP's proven resident-minutes optimum is the brute force's."""
    p = _path_county(seed)
    sol = heuristic(p, seed=0, exact=False)
    cert = certify_travel(p, sol.labels, exact=True, rounds=40, nodes=20_000)
    assert cert.proven_optimal and cert.method == "mip"
    assert cert.bound == pytest.approx(_brute_force_travel(p), rel=1e-6)
    assert cert.best_labels is not None
    assert resident_minutes(p, cert.best_labels, _best_offices(p, cert.best_labels)) == pytest.approx(
        cert.bound
    )


def test_travel_problem_drops_the_soft_terms_and_keeps_a_hard_limit() -> None:
    """The travel alone: no balance, no compactness, no soft limit; a hard limit stays."""
    p = _path_county(0)
    tp = travel_problem(p)
    assert tp.balance_weight == 0 and tp.compactness_weight == 0 and tp.max_cost is None
    hard = travel_problem(dataclasses.replace(p, max_cost_hard=True))
    assert hard.max_cost == 15.0 and hard.max_cost_hard


def _stage_summary() -> dict:
    villages = make_villages(3, 4, np.arange(1, 13) * 100)
    times = make_times(villages)
    r = rules(mode="villages", min_villages=3, max_villages=5)
    part = plan_districts(villages, times, make_access(villages), rules=r)
    return place_offices(part, rules=r).summary()


def test_stage_summary_carries_resident_minutes_bound_and_gap() -> None:
    """Every plan of a small county gets its resident-minutes, the MIP's bound, the gap and the soft weights."""
    s = _stage_summary()
    rm, b = s["resident_minutes"], s["resident_minutes_bound"]
    assert rm is not None and b is not None and b <= rm + 0.1
    assert s["resident_minutes_bound_method"] == "mip"
    assert s["resident_minutes_gap_pct"] == pytest.approx(100 * (rm - b) / rm, abs=0.01)
    assert s["resident_minutes_above_bound"] == pytest.approx(rm - b, abs=0.2)
    assert s["balance_weight"] >= 0 and s["compactness_weight"] >= 0


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_prints_summary_jsons_resident_minutes(lang: str) -> None:
    """The report's "How good the districts are" prints the stage's resident-minutes, bound and gap."""
    from plan_fixture import make_plan

    from planner.outputs.html import number
    from planner.outputs.report import report_html

    s = _stage_summary()
    keys = [k for k in s if k.startswith("resident_minutes")]
    keys += ["balance_weight", "compactness_weight", "district_population_cv"]
    cert = {"objective": s["objective"], "lower_bound": s["lower_bound"], "gap_pct": s["gap_pct"]}
    cert.update({"bound_method": s["bound_method"], **{k: s[k] for k in keys}})
    plan = make_plan()
    page = report_html(
        dataclasses.replace(plan, summary={**plan.summary, "district_objective": cert}), lang=lang
    )
    assert number(s["resident_minutes"], 0) in page
    assert number(s["resident_minutes_bound"], 0) in page
    assert f"{number(s['resident_minutes_gap_pct'], 2)}%" in page


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bound_holds_where_a_heavy_village_forces_an_r2_break(seed: int) -> None:
    """A village over the R2 cap alone: R2 is widened only for its district and the bound stays valid."""
    p = dataclasses.replace(_heavy_county(seed), pop_upper=2000.0)
    sol = heuristic(p, seed=0, exact=False)
    assert np.bincount(sol.labels, weights=p.population).max() > 2000.0
    for cert in (bound(p, sol.labels), certify_travel(p, sol.labels, exact=True)):
        assert cert.bound is not None
        assert cert.bound <= resident_minutes(p, sol.labels, _best_offices(p, sol.labels)) + 1e-6


def test_exact_mode_keeps_the_plan_of_least_travel_when_it_is_better_on_the_objective() -> None:
    """[districts] exact = true: a plan worse than the MIP's plan of least travel on the objective gives way to it."""
    from planner.districts.plan import _travel_step
    from planner.engines.districting.certificate import plan_objective, solution_of

    p = _path_county(0)
    poor = solution_of(p, np.array([0, 0, 0, 1, 1, 1, 1, 1]))
    r = rules(mode="villages", min_villages=3, max_villages=5, exact=True, exact_time_limit=60.0).districts
    sol, travel = _travel_step(p, poor, r, seed=0, time_limit=60.0)
    assert travel.proven_optimal and travel.best_labels is not None
    best = plan_objective(p, travel.best_labels)
    assert sol.objective == pytest.approx(min(poor.objective, best))
    assert travel.bound is not None and travel.bound <= resident_minutes(p, sol.labels, sol.centers) + 1e-6
