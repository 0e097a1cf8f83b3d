"""The monthly patrol plan (R4-R8): which officer visits which village on which day, in which order.

``month`` plans the month office by office: ``daymodel`` and ``patterns`` build each office's CP-SAT day
assignment, whose rules come from ``rulebook`` (one module per rule: its demand, constraint, explanation, check
and label), ``solve`` searches it, ``dayroutes`` times each day, ``explain`` and ``shortfall`` say what is
missed and why; ``check`` re-checks a schedule; ``roster`` holds the officers and what the stage needs of a
district plan. The routing engine it calls lives in :mod:`planner.engines.routing`.
"""

from planner.patrol.check import check_schedule
from planner.patrol.month import PatrolPlan, plan_month
from planner.patrol.roster import make_roster, patrol_assignment

__all__ = ["PatrolPlan", "check_schedule", "make_roster", "patrol_assignment", "plan_month"]
