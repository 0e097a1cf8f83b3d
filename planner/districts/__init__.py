"""Police districts (警务区): contiguous groups of villages under the bureau rules R1/R2.

``plan`` draws them (the partition is the engine :mod:`planner.engines.districting`) and, once the office stage
(:mod:`planner.offices`) has placed the offices, completes the plan; ``adjacency`` says which villages neighbour
which, ``check`` re-checks any assignment, including one edited by hand; ``compare`` sets a plan against the
districts in force.
"""

from planner.districts.adjacency import village_adjacency
from planner.districts.check import check_districts, r1_label, r2_label
from planner.districts.plan import (
    DistrictPartition,
    DistrictPlan,
    PlanComparison,
    complete_plan,
    plan_districts,
)

__all__ = [
    "DistrictPartition",
    "DistrictPlan",
    "PlanComparison",
    "check_districts",
    "complete_plan",
    "plan_districts",
    "r1_label",
    "r2_label",
    "village_adjacency",
]
