"""planner bench districts: the synthetic counties, the certificate on them and the GerryChain peer."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from planner.bench.districts import recom_peer, synthetic_county
from planner.engines.districting.certificate import certify, plan_objective
from planner.engines.districting.contiguous import solve


def test_synthetic_county_is_seeded_and_sized_by_the_rules() -> None:
    """The same seed gives the same county; k is the fewest districts R1 and R2 allow."""
    a, b = synthetic_county(40, seed=3), synthetic_county(40, seed=3)
    assert np.array_equal(a.cost, b.cost) and np.array_equal(a.population, b.population)
    assert a.k == max(-(-40 // 8), int(np.ceil(a.population.sum() / 10_000)))


def test_recom_peer_never_reports_worse_than_its_start() -> None:
    """GerryChain's annealing keeps the best plan it saw, so its objective is at most the start's."""
    p = synthetic_county(40, seed=1)
    sol = solve(p, seed=0, exact=False)
    obj, _secs, status = recom_peer(p, sol.labels, steps=60, seed=0)
    if importlib.util.find_spec("gerrychain") is None:
        assert obj is None and "not installed" in status
    else:
        assert status == "ok" and obj is not None
        assert obj <= plan_objective(p, sol.labels) + 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("n", [100, 200, 300])
def test_bound_below_the_plan_on_the_synthetic_counties(n: int) -> None:
    """On the bench's synthetic counties the LP bound is below the stage engine's plan."""
    p = synthetic_county(n, seed=0)
    sol, cert = certify(p, solve(p, seed=0), exact=False)
    assert cert.lower_bound is not None and cert.lower_bound <= sol.objective + 1e-6
