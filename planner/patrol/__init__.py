"""The monthly patrol plan (R4-R8): which officer visits which village on which day, in which order.

``month`` plans and re-checks the month; ``roster`` holds the officers and what the stage needs of a district
plan. The routing engines it calls live in :mod:`planner.engines.routing`.
"""

from planner.patrol.month import PatrolPlan, check_schedule, make_roster, plan_month
from planner.patrol.roster import patrol_assignment

__all__ = ["PatrolPlan", "check_schedule", "make_roster", "patrol_assignment", "plan_month"]
