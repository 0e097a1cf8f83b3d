"""Districting engines: partition the units of a graph into connected districts (arrays in, arrays out).

- :mod:`.contiguous`: ``k`` connected districts with one centre each, minimising residents' travel to the centre
  plus balance and compactness under size and population bounds (the district stage's model); its heuristic is
  in :mod:`.search`, its exact CP-SAT model in :mod:`.exact`;
- :mod:`.mincut`: the political-districting variant (fewest cut edges under tight population bounds), used by
  ``planner bench districting``;
- :mod:`.graph`: the neighbour graph, its pieces, the time cap and the result types shared by both.

Each model has the same seam: a frozen ``...Problem`` validated on construction, ``solve(problem, *, seed=,
time_limit=)`` and a :class:`DistrictSolution` with ``summary()``; :func:`contiguous_districts` and
:func:`min_cut_districts` are the one-call forms. The engines know nothing of villages: their breaks are typed
:class:`DistrictBreak` records that the district stage turns into violations.

Reproducibility: every search stops on counts sized from the problem (local search to its fixed point, a number
of starts, perturbation rounds and rounds without improvement, CP-SAT with one worker and a deterministic-time
budget), so the same inputs and seed give the same plan whatever the machine's load. ``time_limit`` is only a
safety cap: when it cuts a search, a warning is logged and the result says ``stopped_by_time``.
"""

from planner.engines.districting.contiguous import EXACT_MAX_UNITS, DistrictingProblem, contiguous_districts
from planner.engines.districting.graph import DistrictBreak, DistrictSolution
from planner.engines.districting.mincut import CUT_EXACT_MAX_UNITS, MinCutProblem, min_cut_districts

__all__ = [
    "CUT_EXACT_MAX_UNITS",
    "EXACT_MAX_UNITS",
    "DistrictBreak",
    "DistrictSolution",
    "DistrictingProblem",
    "MinCutProblem",
    "contiguous_districts",
    "min_cut_districts",
]
