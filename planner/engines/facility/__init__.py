"""Facility location (office placement) engines: arrays in, arrays out, one model per module.

Every model takes a cost matrix (rows = villages or customers, columns = candidate office sites, ``inf`` where
a site cannot reach a row) and returns a :class:`FacilitySolution`. Each has the same seam, as PyVRP and spopt
do: a small frozen ``...Problem`` dataclass validated on construction, ``solve(problem, *, seed=, time_limit=)``
and the result's ``summary()``; the one-call functions (:func:`pmedian`, :func:`capacitated_pmedian`,
:func:`max_covering`, :func:`pcenter`) build the problem and solve it.

- :mod:`.median`: swap-based local search in a VNS, a Lagrangian bound, an optional SCIP check;
- :mod:`.capacitated`: location-allocation, Lagrangian median sets, a whole-model MIP and the cluster
  matheuristic of :mod:`.capacitated_lns`;
- :mod:`.covering`: maximal covering (greedy + SCIP);
- :mod:`.center`: greedy + a bisection of CP-SAT cover tests;
- :mod:`.common`: the solution type, input validation and OR-Tools' statuses turned into our errors.

Determinism: every random choice comes from ``numpy.random.default_rng(seed)`` and every search stops on a
count (VNS rounds, subgradient iterations, SCIP nodes with one thread, CP-SAT deterministic time with one
worker), so the same input and seed give the same solution on any machine load. ``time_limit`` is only a
safety cap: when it cuts a search short, a warning is logged and the solution is marked ``stopped_by_time``.
"""

from planner.engines.facility.capacitated import CapacitatedProblem, capacitated_pmedian
from planner.engines.facility.center import PCenterProblem, pcenter
from planner.engines.facility.common import FacilitySolution
from planner.engines.facility.covering import CoveringProblem, max_covering
from planner.engines.facility.median import PMedianProblem, pmedian

__all__ = [
    "CapacitatedProblem",
    "CoveringProblem",
    "FacilitySolution",
    "PCenterProblem",
    "PMedianProblem",
    "capacitated_pmedian",
    "max_covering",
    "pcenter",
    "pmedian",
]
