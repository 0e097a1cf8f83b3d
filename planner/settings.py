"""Solver budgets and size caps: how hard the planner searches and what it ships, not bureau rules.

The bureau's rules are :mod:`planner.rules` (read from the rules file); these are the engineering constants
that the stages and the pipeline share, in one place.
"""

from __future__ import annotations

OUTPUT_CRS = "EPSG:4326"


# Above this many villages the matrix (n^2 float32) is not shipped in the plan directory; `planner check` then
# uses the travel times recorded in the villages layer.
MAX_SHIPPED_MATRIX = 3000


# The district search stops on counts; its time limit is only a safety cap (marked in summary.json when hit).
DISTRICTS_TIME_CAP = 600.0


# The monthly plan's CP-SAT work budget in deterministic seconds, shared by the offices (not wall time).
PATROL_WORK_BUDGET = 60.0


# The travel-time cache (planner.io.cache) is pruned, oldest entries first, to stay under this many bytes: about
# fourteen province-size matrices (3,000 x 3,000 float64 = 72 MB each), dozens of county-size ones.
CACHE_MAX_BYTES = 1 << 30
