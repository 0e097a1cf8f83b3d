"""The exact contiguous districting model on one component (CP-SAT, Shirabe flow contiguity per centre)."""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import numpy as np

from planner.engines.cpsat import cp_solver
from planner.engines.districting.graph import TimeCap
from planner.engines.districting.search import _DistrictModel

log = logging.getLogger(__name__)


def _cpsat_travel(
    prob: _DistrictModel,
    units: list[int],
    k: int,
    group: np.ndarray,
    hint: dict[int, int],
    centers_hint: list[int],
    *,
    seed: int,
    work: float,
    cap: TimeCap,
) -> tuple[dict[int, int], list[int], bool] | None:
    """Exact model on one component (Hess assignment form with Shirabe flow contiguity per centre).

    x[i,j] = unit i served by a centre at unit j, x[j,j] = j is a centre; for each centre j a single-commodity
    flow from j reaches every unit it serves along arcs inside the district. The objective is the heuristic's,
    integer-scaled (travel, compactness radius, balance). Returns (labels, centres, proven_optimal) or None.
    Runs deterministically: one worker and a deterministic-time budget ``work``; the cap only bounds wall time.
    """
    from ortools.sat.python import cp_model

    n = len(units)
    pos = {u: i for i, u in enumerate(units)}
    arcs = [(pos[u], pos[int(v)]) for u in units for v in prob.nbrs[u] if int(v) in pos]
    scale = 100.0 / max(prob.unit_cost, 1e-6)
    cost_i = np.rint(prob.cost[np.ix_(units, units)] * scale).astype(np.int64)
    size_cap = min(prob.max_size, n)
    m = cp_model.CpModel()
    cand = [j for j in range(n) if prob.cand[units[j]]] or list(range(n))
    x: dict[tuple[int, int], Any] = {}
    for j in cand:
        for i in range(n):
            x[i, j] = m.new_bool_var(f"x{i}_{j}")
    for i in range(n):
        m.add_exactly_one(x[i, j] for j in cand)
    m.add(sum(x[j, j] for j in cand) == k)
    terms: list[Any] = []
    for j in cand:
        for i in range(n):
            if i != j:
                m.add_implication(x[i, j], x[j, j])
        sz = sum(x[i, j] for i in range(n))
        m.add(sz >= min(prob.min_size, n) * x[j, j])
        m.add(sz <= size_cap * x[j, j])
        pj = sum(int(prob.pop[units[i]]) * x[i, j] for i in range(n))
        if prob.hi < math.inf:
            m.add(pj <= math.floor(prob.hi) * x[j, j])
        if prob.lo > 0:
            m.add(pj >= math.ceil(prob.lo) * x[j, j])
        f = {(a, b): m.new_int_var(0, size_cap - 1, "") for a, b in arcs if b != j}
        inflow: list[list[Any]] = [[] for _ in range(n)]
        outflow: list[list[Any]] = [[] for _ in range(n)]
        for (a, b), v in f.items():
            m.add(v <= (size_cap - 1) * x[b, j])
            m.add(v <= (size_cap - 1) * x[a, j])
            outflow[a].append(v)
            inflow[b].append(v)
        for i in range(n):
            if i != j:
                m.add(sum(inflow[i]) - sum(outflow[i]) >= x[i, j])
        terms.extend(round(prob.w[units[i]]) * int(cost_i[i, j]) * x[i, j] for i in range(n))
        if prob.max_cost is not None and not prob.max_cost_hard:
            # the heuristic's soft-limit term: residents beyond the limit times their minutes over it
            over = np.maximum(prob.cost[np.ix_(units, [units[j]])][:, 0] - prob.max_cost, 0.0) * scale
            terms.extend(
                round(prob.w[units[i]]) * round(float(over[i])) * x[i, j] for i in range(n) if over[i] > 0
            )
        if prob.compactness_weight > 0:
            rad = m.new_int_var(0, int(cost_i[:, j].max()), "")
            for i in range(n):
                m.add(rad >= int(cost_i[i, j]) * x[i, j])
            terms.append(round(prob.compactness_weight * prob.target) * rad)
        if prob.balance_weight > 0:
            total = int(prob.pop[units].sum())
            # residents beyond the balance band (the target, the tolerance either side)
            top = round(prob.target * (1.0 + prob.balance_tolerance))
            bottom = round(prob.target * (1.0 - prob.balance_tolerance))
            dev = m.new_int_var(0, total + top + 1, "")
            m.add(dev >= pj - top - total * (1 - x[j, j]))
            m.add(dev >= bottom * x[j, j] - pj)
            terms.append(round(prob.balance_weight * prob.unit_cost * scale) * dev)
    # locked groups: one centre serves each group whole, different groups different centres
    groups = sorted({int(group[u]) for u in units if group[u] >= 0})
    for g in groups:
        gu = [pos[u] for u in units if group[u] == g]
        for j in cand:
            for a in gu[1:]:
                m.add(x[a, j] == x[gu[0], j])
        if g in prob.fixed_center and pos.get(prob.fixed_center[g]) in cand:
            m.add(x[gu[0], pos[prob.fixed_center[g]]] == 1)
    for g1 in range(len(groups)):
        for g2 in range(g1 + 1, len(groups)):
            a = next(pos[u] for u in units if group[u] == groups[g1])
            b = next(pos[u] for u in units if group[u] == groups[g2])
            for j in cand:
                m.add_bool_or([x[a, j].Not(), x[b, j].Not()])
    m.minimize(sum(terms))
    for u, d in hint.items():
        cu = pos[centers_hint[d]]
        for j in cand:
            m.add_hint(x[pos[u], j], int(j == cu))
    left = cap.left()
    if left <= 0:
        cap.record("CP-SAT district model")
        return None
    solver = cp_solver()
    solver.parameters.max_time_in_seconds = left
    solver.parameters.max_deterministic_time = work
    solver.parameters.num_workers = 1  # one worker and a deterministic budget: the same seed, the same plan
    solver.parameters.random_seed = seed
    t0 = time.monotonic()
    status = solver.Solve(m)
    wall = time.monotonic() - t0
    if status != cp_model.OPTIMAL and solver.deterministic_time < 0.98 * work and wall >= 0.98 * left:
        cap.record("CP-SAT district model")
    log.info(
        "CP-SAT districts: %s on %d units, k=%d, work %.2f of %.2f, %.1fs",
        solver.StatusName(status),
        n,
        k,
        solver.deterministic_time,
        work,
        wall,
    )
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    centres = [j for j in cand if solver.Value(x[j, j])]
    labels = {units[i]: next(d for d, j in enumerate(centres) if solver.Value(x[i, j])) for i in range(n)}
    return labels, [units[j] for j in centres], status == cp_model.OPTIMAL
