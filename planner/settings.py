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
PATROL_WORK_BUDGET = 120.0
# the least deterministic seconds an office's day assignment gets, however many offices share the budget
OFFICE_MIN_BUDGET = 0.5


# The travel-time cache (planner.io.cache) is pruned, oldest entries first, to stay under this many bytes: about
# fourteen province-size matrices (3,000 x 3,000 float64 = 72 MB each), dozens of county-size ones.
CACHE_MAX_BYTES = 1 << 30


# Shared capacity (C4, planner.patrol.rulebook.c4): when an officer misses visits and a colleague of his office
# has field days under half a shift, one village moves to the colleague and the office is solved again, at most
# this many times (each round a full day assignment under the office's deterministic budget, kept only when it
# meets more requirements), so the plan stays reproducible and the month's run time bounded.
RELINK_ROUNDS = 3

# Mutual aid (C4, ``[patrol] mutual_aid``): an office that still misses visits asks the nearest offices by travel
# time, at most this many, for an officer with slack; each ask solves both offices again.
AID_NEIGHBOURS = 2


# The district search's p-median start on a dense cost matrix grows as n^2 p (its greedy start and swap tables):
# above this many units in one piece of the map the start is split into regions of about START_REGION_UNITS
# units (by travel time, a counted medoid clustering), each region's p-median solved on its own with the
# districts apportioned by the counts R1/R2 give it; the district search then polishes the whole piece jointly.
# Measured on the synthetic county (BENCHMARKS.md, 2026-12-01 afternoon): the dense start was 11% of the stage
# at 1,000 units and hit the 600 s cap at 5,000; split, it costs 8-27 s per solve there (first local search
# included).
DISTRICT_START_SPLIT = 1500
START_REGION_UNITS = 400


# The district stage's candidate plans (docs/DOMAIN.md, "Search budgets"): the fewest districts the counts allow
# and one or two more, on the road graph and on up to three relaxed graphs, up to 12 engine solves. Above
# DISTRICT_SCREEN_UNITS villages each candidate is screened with SCREEN_ROUNDS perturbation rounds (a count), the
# stage's own rule (avoidable R1/R2 breaks, then the worst outside share, then the objective) picks the winner
# among the screened plans, and the winner and the best other screened plan (by avoidable breaks, then fewest
# districts, then objective), POLISH_CANDIDATES in all, are solved again with the full round budget; the one of
# fewer breaks, then fewer districts (the stage's first count that holds the rules), then least objective, is
# kept (comparing objectives alone preferred one district more, whose travel is always less). At or below the threshold every candidate gets the full budget, as before (the
# demo's and Liechtenstein's plans are unchanged). Measured on the synthetic county (BENCHMARKS.md, 2026-12-01
# evening): at 500 and 2,000 villages the plan is the one of the 12 full solves (334 s -> 159 s at 2,000); the
# winner alone lost it at 2,000 (83 breaks, not 62: two screened plans tied at 89 and the outside share chose
# the one that the full budget improves less); at 5,000 (the full solves hit the 600 s cap) 165-169 s. Not
# skipping one or two more districts when the fewest break R1/R2 many times: one more district removed 19 of
# 34 breaks at 500 villages (65 districts) and the plan kept has 67.
# From 200 down to 100 (issue 13, a province's counties are mostly 100-200 villages): on two synthetic province
# counties of 150 and 138 villages the screened stage took 19.9 s and 16.4 s against 28.0 s and 17.8 s for the
# full solves, and kept a plan of less objective (1,551,147 against 1,614,065) and the same (1,372,516.7).
DISTRICT_SCREEN_UNITS = 100
SCREEN_ROUNDS = 200
POLISH_CANDIDATES = 2
