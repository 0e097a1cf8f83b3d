"""The balance tolerance (issue 17): a district within the band around the mean pays no balance, by hand."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from planner.engines.districting import DistrictingProblem
from planner.engines.districting.certificate import plan_objective
from planner.engines.districting.contiguous import solve
from planner.engines.districting.exact import _cpsat_travel
from planner.engines.districting.graph import TimeCap
from planner.engines.districting.travel import off_balance
from planner.errors import ValidationError
from planner.rules import Rules


def _line(pop: list[float], k: int, tolerance: float, weight: float = 1.0) -> DistrictingProblem:
    """Villages on a road, no travel at all (every minute 0), no compactness: the objective is the balance
    term alone, weight x typical trip x residents beyond the band; with zero minutes the typical trip is 1."""
    n = len(pop)
    a = np.zeros((n, n))
    for i in range(n - 1):
        a[i, i + 1] = a[i + 1, i] = 1
    return DistrictingProblem(
        a,
        np.array(pop),
        np.zeros((n, n)),
        k,
        balance_weight=weight,
        compactness_weight=0.0,
        balance_tolerance=tolerance,
    )


@pytest.mark.parametrize(
    ("tolerance", "expected"),
    [
        # districts of 30 and 50 residents, mean 40: 10 off either side
        (0.0, 20.0),
        # band 4 either side: 6 beyond it either side
        (0.1, 12.0),
        # band 10: both districts inside it
        (0.25, 0.0),
        (0.5, 0.0),
    ],
)
def test_residents_beyond_the_band_are_what_the_balance_term_counts(
    tolerance: float, expected: float
) -> None:
    p = _line([10, 10, 10, 50], 2, tolerance)
    assert p.unit_cost == 1.0
    assert plan_objective(p, np.array([0, 0, 0, 1])) == pytest.approx(expected)
    assert plan_objective(
        dataclasses.replace(p, balance_weight=2.5), np.array([0, 0, 0, 1])
    ) == pytest.approx(2.5 * expected)
    assert off_balance(p.population, np.array([0, 0, 0, 1]), tolerance) == (40.0, 2 if expected > 0 else 0)


def test_a_tolerance_lets_the_search_take_an_uneven_plan_that_travels_less() -> None:
    """Two ways to split six villages: even (45 | 45 residents) with long trips, or uneven (30 | 60) with short
    ones. Without a tolerance the balance term buys the even plan; a ±40 % band lets travel decide. The
    heuristic, the exact model (CP-SAT) and plan_objective agree on both."""
    n = 6
    a = np.zeros((n, n))
    for i in range(n - 1):
        a[i, i + 1] = a[i + 1, i] = 1
    pop = np.array([10.0, 10.0, 10.0, 15.0, 15.0, 30.0])
    # village 5 (30 residents) sits far from 0-2 and near 3-4; 0-2 are close to each other
    xy = np.array([0.0, 1.0, 2.0, 10.0, 11.0, 12.0])
    cost = np.abs(xy[:, None] - xy[None, :])
    even = np.array([0, 0, 0, 0, 1, 1])  # 45 | 45 residents: village 3 drives 8 minutes to village 2
    uneven = np.array([0, 0, 0, 1, 1, 1])  # 30 | 60 residents, every trip 1-2 minutes
    results = {}
    for tol in (0.0, 0.4):
        p = DistrictingProblem(
            a, pop, cost, 2, balance_weight=1.0, compactness_weight=0.0, balance_tolerance=tol
        )
        sol = solve(p, seed=0, exact=False)
        assert sol.objective == pytest.approx(min(plan_objective(p, even), plan_objective(p, uneven)))
        hint = {u: int(d) for u, d in enumerate(sol.labels)}
        exact = _cpsat_travel(
            p.model(float(pop.sum()) / 2),
            list(range(n)),
            2,
            p.group,
            hint,
            list(sol.centers),
            seed=0,
            work=5.0,
            cap=TimeCap(60.0, "test"),
        )
        assert exact is not None and exact[2]  # proven optimal
        lab = np.array([exact[0][u] for u in range(n)])
        assert plan_objective(p, lab) == pytest.approx(sol.objective, rel=1e-6)
        results[tol] = sol.labels.copy()
    assert sorted(np.bincount(results[0.0], weights=pop).tolist()) == [45.0, 45.0]
    assert sorted(np.bincount(results[0.4], weights=pop).tolist()) == [30.0, 60.0]


def test_the_rules_file_refuses_a_tolerance_outside_0_to_1() -> None:
    assert Rules.from_dict({"districts": {"balance_tolerance": 0.2}}).districts.balance_tolerance == 0.2
    for bad in (-0.1, 1.0, 3):
        with pytest.raises(ValidationError, match="balance_tolerance"):
            Rules.from_dict({"districts": {"balance_tolerance": bad}})


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_stage_reports_the_band_and_the_districts_beyond_it(lang: str) -> None:
    """summary.json's district_objective carries the tolerance, the mean district and the districts beyond the
    band (counted from the plan's own districts), and the report's certificate says them in words."""
    from district_fixtures import make_access, make_times, make_villages, rules
    from plan_fixture import make_plan

    from planner.districts import plan_districts
    from planner.offices import place_offices
    from planner.outputs.html import number
    from planner.outputs.report import report_html
    from planner.texts import t

    villages = make_villages(3, 4, np.arange(1, 13) * 100)
    times = make_times(villages)
    for tol in (0.0, 0.3):
        r = rules(mode="villages", min_villages=3, max_villages=5, balance_tolerance=tol)
        plan = place_offices(plan_districts(villages, times, make_access(villages), rules=r), rules=r)
        s = plan.summary()
        pops = plan.districts["population"].to_numpy(dtype=float)
        mean = pops.sum() / len(pops)
        assert s["balance_tolerance"] == tol
        assert s["district_mean_residents"] == pytest.approx(mean, abs=0.05)
        assert s["districts_off_balance"] == int((np.abs(pops - mean) > tol * mean + 1e-9).sum())
        base = make_plan()
        keys = ("balance_tolerance", "district_mean_residents", "districts_off_balance", "resident_minutes")
        cert = {"objective": s["objective"], "lower_bound": s["lower_bound"], "gap_pct": s["gap_pct"]}
        cert.update(
            {k: s[k] for k in (*keys, "bound_method", "resident_minutes_bound", "resident_minutes_gap_pct")}
        )
        cert["resident_minutes_bound_method"] = s["resident_minutes_bound_method"]
        page = report_html(
            dataclasses.replace(base, summary={**base.summary, "district_objective": cert}), lang=lang
        )
        key = "report.certificate.tolerance" if tol > 0 else "report.certificate.tolerance_none"
        sentence = t(
            key,
            lang,
            tol=number(100 * tol, 0),
            mean=number(s["district_mean_residents"], 0),
            off=s["districts_off_balance"],
            k=base.summary.get("districts", ""),
        )
        assert sentence in page.replace("&#x27;", "'")
