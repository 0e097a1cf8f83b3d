"""The month's offices planned side by side on Dask distributed give the month planned one after another."""

from __future__ import annotations

import numpy as np
import pandas as pd
from counting_executor import CountingExecutor

from planner.many import dask_client
from planner.model import TravelTimes
from planner.patrol import plan_month
from planner.patrol.month import office_budget
from planner.rules import PatrolRules

MONTH = "2027-01"  # New Year's Day off, a short first week


def _county() -> tuple[pd.DataFrame, TravelTimes]:
    """Three offices 12 km apart, straight-line travel at 30 km/h: O1 and O3 with five villages and two
    officers, O2 with eight villages and one officer (short of time for every visit day)."""
    rng = np.random.default_rng(3)
    rows, xy = [], []
    for k, (officers, size) in enumerate(((2, 5), (1, 8), (2, 5))):
        for i in range(size):
            vid = f"V{k}{i}"
            xy.append((12.0 * k + rng.uniform(-4, 4), rng.uniform(-4, 4)))
            rows.append(
                {
                    "village_id": vid,
                    "district_id": f"D{k + 1}",
                    "office_id": f"O{k + 1}",
                    "office_village_id": f"V{k}0",
                    "officers": officers,
                    "population": 1200,
                    "access": "road",
                }
            )
    a = pd.DataFrame(rows).set_index("village_id")
    p = np.asarray(xy)
    km = np.sqrt(((p[:, None] - p[None]) ** 2).sum(-1))
    return a, TravelTimes(a.index, a.index, km / 30.0 * 3600.0)


def test_offices_on_two_dask_workers_give_the_same_month():
    a, times = _county()
    rules = PatrolRules()
    alone = plan_month(a, times, rules=rules, month=MONTH, seed=2, time_limit=6)
    with dask_client(workers=2) as client:
        ex = CountingExecutor(client.get_executor())
        side = plan_month(a, times, rules=rules, month=MONTH, seed=2, time_limit=6, executor=ex)
    assert ex.tasks == 3  # every office was a task on the cluster
    pd.testing.assert_frame_equal(alone.schedule, side.schedule)
    pd.testing.assert_frame_equal(alone.legs, side.legs)
    assert alone.visit_requirements_met_pct == side.visit_requirements_met_pct
    assert alone.dropped_visits == side.dropped_visits
    assert alone.shortfall == side.shortfall
    assert dict(alone.links) == dict(side.links)
    # O2's lone officer cannot make every visit: the explanations and the shortfall travel back too
    assert alone.dropped_visits and alone.shortfall


def test_an_office_budget_is_its_own_share():
    """By villages, with a floor; not what the offices before it left unused."""
    assert office_budget(120.0, 7, 66) == 120.0 * 7 / 66
    assert office_budget(120.0, 7, 5000) == 0.5
    assert office_budget(120.0, 66, 66) == 120.0
