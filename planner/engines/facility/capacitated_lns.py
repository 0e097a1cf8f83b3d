"""The capacitated p-median's matheuristic: groups of neighbouring clusters re-solved exactly as small CPMPs.

After Stefanello, de Araujo & Mueller (2015, "Matheuristics for the capacitated p-median problem"). SCIP runs
each sub-problem with one thread and a node limit, and the search stops on a budget of sub-solves, so the same
input gives the same plan.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from planner.engines.facility.common import clock_cut, mip_solver
from planner.errors import SolverError

log = logging.getLogger(__name__)

_SUB_NODES = (1, 200, 30, 10)  # SCIP node limit of a sub-CPMP of q = 1, 2, 3, 4+ clusters (matheuristic)
_LNS_Q_MAX = 3  # largest group of clusters re-solved together
LNS_SOLVES = 600  # sub-CPMP solves at most (all starts together)
_LNS_CENTRAL = 10  # free columns of least total cost to the freed rows offered as sites


def _sub_cpmp(
    C: np.ndarray,
    d: np.ndarray,
    cap: np.ndarray,
    rows: np.ndarray,
    sites: np.ndarray,
    q: int,
    hint: np.ndarray,
    *,
    seed: int,
    time_limit: float,
) -> tuple[np.ndarray | None, bool]:
    """Solve the CPMP of ``rows`` on ``sites`` with exactly ``q`` open sites (SCIP, strong x <= y form).

    SCIP runs with one thread and a node limit (``_SUB_NODES``), so the result repeats; ``hint`` is the current
    assignment of ``rows`` (columns). Returns (assignment of ``rows`` or None, whether the clock cut the solve).
    """
    solver = mip_solver("SCIP")
    solver.SetSolverSpecificParametersAsString(
        f"limits/nodes = {_SUB_NODES[min(q, len(_SUB_NODES)) - 1]}\nrandomization/randomseedshift = {int(seed)}\n"
        # Full cut rounds and presolve cost more than the search on these small models.
        "separating/maxroundsroot = 3\nseparating/maxrounds = 1\npresolving/maxrounds = 0\n"
    )
    inf = solver.infinity()
    y = [solver.BoolVar("") for _ in sites]
    sub = C[np.ix_(rows, sites)]
    ok = np.isfinite(sub) & (cap[sites][None, :] >= d[rows][:, None])
    obj = solver.Objective()
    x: dict[tuple[int, int], Any] = {}
    # Direct constraint API (the natural ``solver.Add(expr)`` API costs more than the solve on these sizes).
    caps = []
    for b in range(sites.size):
        ct = solver.Constraint(-inf, 0.0)
        ct.SetCoefficient(y[b], -float(cap[sites[b]]))
        caps.append(ct)
    count = solver.Constraint(float(q), float(q))
    for b in range(sites.size):
        count.SetCoefficient(y[b], 1.0)
    for a in range(rows.size):
        cols_ok = np.flatnonzero(ok[a])
        if cols_ok.size == 0:
            return None, False
        one = solver.Constraint(1.0, 1.0)
        da = float(d[rows[a]])
        for bb in cols_ok:
            b = int(bb)
            v = solver.BoolVar("")
            x[a, b] = v
            link = solver.Constraint(-inf, 0.0)
            link.SetCoefficient(v, 1.0)
            link.SetCoefficient(y[b], -1.0)
            obj.SetCoefficient(v, float(sub[a, b]))
            one.SetCoefficient(v, 1.0)
            caps[b].SetCoefficient(v, da)
    obj.SetMinimization()
    pos = {int(s): b for b, s in enumerate(sites)}
    hint_vars = list(y) + list(x.values())
    opened = {pos[int(c)] for c in hint if int(c) in pos}
    hint_vals = [1.0 if b in opened else 0.0 for b in range(sites.size)] + [
        1.0 if pos.get(int(hint[a]), -1) == b else 0.0 for (a, b) in x
    ]
    solver.SetHint(hint_vars, hint_vals)
    limit = min(max(0.2, time_limit), 1e6)  # the deadline may be inf (no safety cap)
    solver.SetTimeLimit(max(1, int(limit * 1000)))
    t = time.perf_counter()
    status = solver.Solve()
    cut = clock_cut(status, time.perf_counter() - t, limit)
    if status not in (0, 1):
        return None, cut
    out = np.full(rows.size, -1, dtype=np.int64)
    for (a, b), v in x.items():
        if v.solution_value() > 0.5:
            out[a] = sites[b]
    if (out < 0).any():
        return None, cut
    return out, cut


def _cluster_lns(
    C: np.ndarray,
    d: np.ndarray,
    cap: np.ndarray,
    cand: np.ndarray,
    medians: np.ndarray,
    assign: np.ndarray,
    *,
    seed: int,
    deadline: float,
    budget: int = LNS_SOLVES,
) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """Improve a CPMP plan by re-solving groups of neighbouring clusters exactly (a matheuristic).

    After Stefanello, de Araujo & Mueller (2015, "Matheuristics for the capacitated p-median problem"): pick
    an open site and its ``q - 1`` nearest open sites (nearness: mean cost of one cluster's rows to the other
    site, both ways), free their rows, and solve that small CPMP exactly (:func:`_sub_cpmp`); the sites
    allowed are the group's own, each freed row's cheapest free column, and the ``_LNS_CENTRAL`` free columns
    of least total cost to the freed rows. A better sub-plan replaces the old one. Variable neighbourhood
    descent over q = 2 .. ``_LNS_Q_MAX`` (back to 2 after any gain); when no group improves, a relocation
    move moves one site across the map: a group of 3 clusters re-solved with 2 sites plus a disjoint group
    of 2 re-solved with 3, the best such pair if it gains. It stops when nothing gains or after
    ``budget`` sub-solves: counts, so the same input gives the same plan. Returns (medians,
    assignment, sub-solves made, whether the clock cut it).
    """
    S = [int(j) for j in medians]
    a = assign.copy()
    solves = 0
    cache: dict[tuple[frozenset[int], int, bytes], tuple[np.ndarray, np.ndarray, float] | None] = {}
    cand_ok = np.zeros(C.shape[1], dtype=bool)
    cand_ok[cand] = True

    class _Stop(Exception):
        pass

    state = {"cut": False}

    def groups(size: int) -> list[list[int]]:
        Sa = np.array(S, dtype=np.int64)
        members = [np.flatnonzero(a == u) for u in S]
        P = np.array([C[mb][:, Sa].mean(axis=0) if mb.size else C[:, Sa].mean(axis=0) for mb in members])
        P = np.where(np.isfinite(P), P, 1e300)
        D = P + P.T
        out, seen = [], set()
        for ui, u in enumerate(S):
            order = np.argsort(D[ui], kind="stable")
            g = [u, *[S[int(k)] for k in order if S[int(k)] != u][: size - 1]]
            if frozenset(g) not in seen:
                seen.add(frozenset(g))
                out.append(g)
        return out

    def solve(group: list[int], q: int) -> tuple[np.ndarray, np.ndarray, float] | None:
        """(rows, their new columns, cost change) of re-solving ``group`` with ``q`` sites, or None."""
        nonlocal solves
        rows = np.flatnonzero(np.isin(a, group))
        key = (frozenset(group), q, a[rows].tobytes())
        if key in cache:
            return cache[key]
        if time.perf_counter() >= deadline:
            state["cut"] = True
            raise _Stop
        if solves >= budget or rows.size == 0:
            raise _Stop
        free = cand_ok.copy()
        free[[s for s in S if s not in group]] = False
        free_cols = np.flatnonzero(free)
        subc = C[np.ix_(rows, free_cols)]
        subc = np.where(np.isfinite(subc), subc, 1e300)
        near = free_cols[np.argmin(subc, axis=1)]
        total = free_cols[np.argsort(subc.sum(axis=0), kind="stable")[:_LNS_CENTRAL]]
        sites = np.unique(np.concatenate([np.array(group, dtype=np.int64), near, total]))
        cur = float(C[rows, a[rows]].sum())
        new, cut = _sub_cpmp(
            C, d, cap, rows, sites, q, a[rows], seed=seed, time_limit=deadline - time.perf_counter()
        )
        solves += 1
        if cut:
            state["cut"] = True
            raise _Stop
        res = None if new is None else (rows, new, float(C[rows, new].sum()) - cur)
        cache[key] = res
        return res

    def apply(group: list[int], rows: np.ndarray, new: np.ndarray, q: int) -> None:
        nonlocal S
        a[rows] = new
        opened = set(np.unique(new).tolist())
        spare = [s for s in sorted(group) if s not in opened]
        opened |= set(spare[: max(0, q - len(opened))])  # a site may serve nobody: keep a freed one open
        S = sorted((set(S) - set(group)) | opened)

    def gains(res: tuple[np.ndarray, np.ndarray, float] | None, rows_cost: float) -> bool:
        return res is not None and res[2] < -1e-9 * max(1.0, rows_cost)

    q_max = min(_LNS_Q_MAX, len(S))
    total_cost = float(C[np.arange(C.shape[0]), a].sum())
    try:
        q = 2
        while q_max >= 2:
            found = False
            if q <= q_max:
                for g in groups(q):
                    res = solve(g, q)
                    if res is not None and gains(res, total_cost):
                        apply(g, res[0], res[1], q)
                        found = True
                        break
                q = 2 if found else q + 1
                continue
            if len(S) < 4:
                break
            # Relocation: close a site in one area (3 clusters -> 2), open one in another (2 -> 3).
            shrink_res = [(g, solve(g, 2)) for g in groups(3)]
            grow_res = [(g, solve(g, 3)) for g in groups(2)]
            shrink = sorted([(r[2], g, r) for g, r in shrink_res if r is not None], key=lambda t: t[0])
            grow = sorted([(r[2], g, r) for g, r in grow_res if r is not None], key=lambda t: t[0])
            best: tuple[float, list[int], Any, list[int], Any] | None = None
            for ds, gs, rs in shrink:
                for dg, gg, rg in grow:
                    if ds + dg >= (best[0] if best else -1e-9 * max(1.0, total_cost)):
                        break
                    if set(gs) & set(gg) or set(rs[1].tolist()) & set(rg[1].tolist()):
                        continue
                    best = (ds + dg, gs, rs, gg, rg)
                    break
            if best is None:
                break
            _, gs, rs, gg, rg = best
            apply(gs, rs[0], rs[1], 2)
            apply(gg, rg[0], rg[1], 3)
            log.debug("cpmp lns relocation: %.6g", best[0])
            q = 2
    except _Stop:
        pass
    if len(S) != len(medians):
        raise SolverError(
            f"capacitated p-median LNS lost track of the sites ({len(S)} open, p = {len(medians)}); a bug.",
            zh=f"容量 p-中位 LNS 的站点数出错 ({len(S)} 个, p = {len(medians)}); 程序错误。",
        )
    return np.array(sorted(S), dtype=np.int64), a, solves, state["cut"]
