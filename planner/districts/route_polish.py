"""C5 after the search: moves along district borders that keep the offices' road routes inside their districts.

The district search minimises the stated objective (resident-minutes, balance, compactness) and knows a district
only as villages connected in the road graph. Where that graph had to be relaxed (5-8 villages per district on a
tree of valleys: a district must take a hamlet whose road runs through a neighbour), the search cannot tell a
plan whose officers drive 10 % of their office routes through other districts from one where they drive 60 %.
This pass can: it measures the office -> village road routes against the district outlines
(:func:`planner.districts.roads.route_outside_share`) and moves border villages, one at a time or two in a swap,
while the worst district's share outside falls, without a new break of R1/R2 or the travel limit, a district in
pieces, or a locked district touched, and with the objective at most ``allowance`` (a share) above the search's
plan. The allowance is the bureau's trade-off (``[districts] route_allowance``); the plan reports what it cost.

Greedy best improvement on a fixed move list, counted (at most ``4 n`` moves): the same plan at any load.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from planner.engines.districting import DistrictingProblem
from planner.engines.districting.graph import neighbours

log = logging.getLogger(__name__)

POLISH_UNITS = 300  # counties up to this many villages are polished (the routes of every pair are drawn)
SHARE_STEP = 1e-4  # a move must lower the worst (or, at the same worst, the total) share by at least this


@dataclass(frozen=True)
class RoutePolish:
    """What the pass did: moves made (a swap is one), villages in another district than the search put them,
    the shares (worst district, whole plan) and the objective before/after."""

    moves: int
    villages: int
    worst_before: float
    worst_after: float
    total_before: float
    total_after: float
    objective_before: float
    objective_after: float
    allowance: float
    relaxed: bool = False  # the road graph alone made no plan within R1/R2: the plan's graph joins borders

    def summary(self) -> dict[str, Any]:
        """summary.json's ``district_objective.route_polish``."""
        return {
            "allowance": self.allowance,
            "road_graph_relaxed": self.relaxed,
            "moves": self.moves,
            "villages_moved": self.villages,
            "route_outside_worst_before": round(self.worst_before, 4),
            "route_outside_worst": round(self.worst_after, 4),
            "route_outside_total_before": round(self.total_before, 4),
            "route_outside_total": round(self.total_after, 4),
            "objective_before": round(self.objective_before, 1),
            "objective": round(self.objective_after, 1),
        }


class _Routes:
    """Each district's (km outside, km) of its office -> village routes, cached by (members, office)."""

    def __init__(self, geoms: gpd.GeoSeries, lines: Any) -> None:
        self.geoms, self.lines = geoms, lines
        self.cache: dict[tuple[tuple[int, ...], int], tuple[float, float]] = {}

    def district(self, members: np.ndarray, office: int) -> tuple[float, float]:
        key = (tuple(int(v) for v in members), int(office))
        hit = self.cache.get(key)
        if hit is None:
            others = [(int(office), int(v)) for v in members if v != office]
            routes = self.lines(others) if others else []
            length = float(sum(r.length for r in routes))
            if length <= 0:
                hit = (0.0, 0.0)
            else:
                area = self.geoms.iloc[list(key[0])].union_all().buffer(1.0)
                inside = float(sum(r.intersection(area).length for r in routes))
                hit = (max(length - inside, 0.0), length)
            self.cache[key] = hit
        return hit


def polish_routes(
    problem: DistrictingProblem,
    labels: np.ndarray,
    geoms: gpd.GeoSeries,
    lines: Any,
    *,
    allowance: float,
    adjacency: Any = None,
    relaxed: bool = False,
) -> tuple[np.ndarray, RoutePolish | None]:
    """Labels with border villages moved so the offices' routes stay inside their districts (module docstring).

    Parameters
    ----------
    problem
        The stage's final problem (its graph, bounds, candidates and locked groups).
    labels
        The search's plan, a district index per village.
    geoms
        The villages' outlines, in the order of ``labels``.
    lines
        ``lines(pairs)``: the road line of each (office, village) pair of positions (the stage's routes each
        pair once, :func:`planner.districts.plan._route_lines`).
    allowance
        How far (a share) the objective may rise above the search's plan; 0 allows only moves that cost nothing.
    adjacency
        The graph a district must stay connected in (default the problem's); the stage gives the roads joined
        to the borders, the graph ``planner check`` judges contiguity on: the routes measure the roads.
    relaxed
        The stage found no plan within R1/R2 on the road graph alone (kept in the result for the report).

    Returns
    -------
    (labels, RoutePolish), or the labels as given and None when the county is too large to polish.
    """
    labels = np.asarray(labels, dtype=np.int64).copy()
    start = labels.copy()
    n, k = len(labels), int(labels.max()) + 1
    if n > POLISH_UNITS or k < 2:
        return labels, None
    model = problem.model(float(problem.population.sum()) / k)
    group, cand, cost = problem.group, problem.candidate_mask, problem.cost
    weights = np.asarray(problem.weights, dtype=float)
    routes = _Routes(geoms, lines)
    nbrs = problem.neighbours if adjacency is None else neighbours(adjacency, n)
    if adjacency is not None and problem.township is not None:
        tw = np.asarray(problem.township)
        nbrs = [nb[tw[nb] == tw[u]] for u, nb in enumerate(nbrs)]
    fixed = {int(labels[u]) for u in range(n) if group[u] >= 0}  # locked districts stay as they are

    def office(mem: np.ndarray) -> int:
        # the district's best village for resident-minutes, as the office stage places it
        pool = mem[cand[mem]] if cand[mem].any() else mem
        return int(pool[np.argmin(weights[mem] @ cost[np.ix_(mem, pool)])])

    def district(mem: np.ndarray) -> tuple[float, float, float, float]:
        viol, obj, _c = model.terms(mem.tolist())
        out, length = routes.district(mem, office(mem))
        return viol, obj, out, length

    def connected(mem: np.ndarray) -> bool:
        if len(mem) <= 1:
            return len(mem) == 1
        pos = {int(v): i for i, v in enumerate(mem)}
        rows = [pos[int(v)] for v in mem for u in nbrs[int(v)] if int(u) in pos]
        cols = [pos[int(u)] for v in mem for u in nbrs[int(v)] if int(u) in pos]
        g = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(mem), len(mem)))
        return connected_components(g, directed=False)[0] == 1

    parts = [district(np.flatnonzero(labels == d)) for d in range(k)]

    def figures(ps: list[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
        worst = max((p[2] / p[3] for p in ps if p[3] > 0), default=0.0)
        out, length = sum(p[2] for p in ps), sum(p[3] for p in ps)
        return sum(p[0] for p in ps), worst, out / length if length > 0 else 0.0, sum(p[1] for p in ps)

    _v0, worst0, total0, obj0 = figures(parts)
    cap = obj0 + allowance * abs(obj0)
    moves = 0
    while moves < 4 * n:
        _v, worst, total, _obj = figures(parts)
        best: tuple[tuple[float, float, float], np.ndarray, list[tuple[int, Any]]] | None = None
        for u, v in _border_pairs(labels, nbrs):
            du, dv = int(labels[u]), int(labels[v])
            if du in fixed or dv in fixed:
                continue
            for change in ([(u, dv)], [(v, du)], [(u, dv), (v, du)]):
                trial = labels.copy()
                for w, d in change:
                    trial[w] = d
                mu, mv = np.flatnonzero(trial == du), np.flatnonzero(trial == dv)
                if not len(mu) or not len(mv) or not connected(mu) or not connected(mv):
                    continue
                pu, pv = district(mu), district(mv)
                if pu[0] > parts[du][0] + 1e-9 or pv[0] > parts[dv][0] + 1e-9:
                    continue  # no new or larger break in either district
                ps = list(parts)
                ps[du], ps[dv] = pu, pv
                _v2, w2, t2, o2 = figures(ps)
                if o2 > cap + 1e-9:
                    continue
                better = w2 < worst - SHARE_STEP or (w2 <= worst + 1e-12 and t2 < total - SHARE_STEP)
                key = (round(w2, 6), round(t2, 6), o2)
                if better and (best is None or key < best[0]):
                    best = (key, trial, [(du, pu), (dv, pv)])
        if best is None:
            break
        labels = best[1]
        for d, p in best[2]:
            parts[d] = p
        moves += 1
    _v, worst1, total1, obj1 = figures(parts)
    log.info(
        "route polish: %d moves, worst district's routes outside %.3f -> %.3f, all %.3f -> %.3f, objective "
        "%.1f -> %.1f",
        moves,
        worst0,
        worst1,
        total0,
        total1,
        obj0,
        obj1,
    )
    moved = int((labels != start).sum())
    return labels, RoutePolish(moves, moved, worst0, worst1, total0, total1, obj0, obj1, allowance, relaxed)


def _border_pairs(labels: np.ndarray, nbrs: list[np.ndarray]) -> list[tuple[int, int]]:
    """Neighbour pairs (u < v) in different districts, in a fixed order."""
    return [
        (u, int(v)) for u in range(len(labels)) for v in nbrs[u] if u < int(v) and labels[u] != labels[int(v)]
    ]
