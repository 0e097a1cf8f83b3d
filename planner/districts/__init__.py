"""Police districts (警务区): contiguous groups of villages under the bureau rules R1/R2.

``plan`` draws them (the partition is the engine :mod:`planner.engines.districting`), ``adjacency`` says which
villages neighbour which, ``check`` re-checks any assignment, including one edited by hand.
"""

from planner.districts.adjacency import village_adjacency
from planner.districts.check import check_districts
from planner.districts.plan import DistrictPlan, PlanComparison, plan_districts

__all__ = ["DistrictPlan", "PlanComparison", "check_districts", "plan_districts", "village_adjacency"]
