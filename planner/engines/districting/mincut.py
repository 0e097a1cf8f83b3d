"""The min-cut districting model: ``k`` connected districts under tight population bounds, fewest cut edges.

The political-districting variant, used by ``planner bench districting``: random spanning-tree starts,
recombination (merge two neighbouring districts, re-split along the best cut of random spanning trees,
annealed acceptance), boundary moves, and on small graphs a rooted CP-SAT label model (flow contiguity,
symmetry broken by roots) that proves optimality. The seam: :class:`MinCutProblem` -> :func:`solve` ->
:class:`DistrictSolution`; :func:`min_cut_districts` is the one-call form.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from planner.engines.cpsat import cp_solver
from planner.engines.districting.graph import (
    DistrictSolution,
    TimeCap,
    canonical,
    edge_arrays,
    is_connected,
    neighbours,
    random_tree,
)
from planner.errors import SolverError, ValidationError

log = logging.getLogger(__name__)

# Units up to this many go to the exact CP-SAT model after the heuristic in min_cut_districts.
CUT_EXACT_MAX_UNITS = 40


@dataclass(frozen=True, eq=False)
class MinCutProblem:
    """A min-cut districting instance, validated on construction.

    Attributes
    ----------
    adjacency
        (n, n) sparse or dense matrix; nonzero = neighbours (symmetrised).
    population
        Residents per unit (n,); stored as float64.
    k
        Number of districts, 1..n.
    pop_lower, pop_upper
        Residents per district.

    After construction ``neighbours`` holds each unit's sorted neighbours.
    """

    adjacency: Any
    population: Any
    k: int
    pop_lower: float
    pop_upper: float
    neighbours: list[np.ndarray] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        pop = np.asarray(self.population, dtype=float)
        n, k = len(pop), self.k
        if k < 1 or k > n:
            raise ValidationError(f"k = {k} districts for {n} units", zh=f"{n} 个单元划分 k = {k} 个警务区")
        object.__setattr__(self, "population", pop)
        object.__setattr__(self, "neighbours", neighbours(self.adjacency, n))
        object.__setattr__(self, "pop_lower", float(self.pop_lower))
        object.__setattr__(self, "pop_upper", float(self.pop_upper))


def _best_tree_split(
    units: np.ndarray,
    eu: np.ndarray,
    ev: np.ndarray,
    pop: np.ndarray,
    side_bounds: tuple[float, float],
    rest_bounds: tuple[float, float],
    rng: np.random.Generator,
    trees: int,
    *,
    fewest: bool = True,
) -> tuple[np.ndarray, int] | None:
    """Best cut of random spanning trees of ``units`` into two connected sides within population bounds.

    Draws ``trees`` random spanning trees (minimum trees under random edge weights) of the subgraph on
    ``units``; every tree edge whose removal leaves one side in ``side_bounds`` and the other in
    ``rest_bounds`` is a candidate (both sides of a tree cut are connected). Returns the side (global unit
    ids) of the candidate with the fewest graph edges across (``fewest``; else of the first tree's random
    candidate), and that number; None when no tree had one.
    """
    m = len(units)
    n = len(pop)
    loc = np.full(n, -1, dtype=np.int64)
    loc[units] = np.arange(m)
    keep = (loc[eu] >= 0) & (loc[ev] >= 0)
    ru, rv = loc[eu[keep]], loc[ev[keep]]
    rul, rvl = ru.tolist(), rv.tolist()
    p = pop[units]
    pl = p.tolist()
    tot = float(p.sum())
    slo, shi = side_bounds
    rlo, rhi = rest_bounds
    best: tuple[np.ndarray, int] | None = None
    for _ in range(trees):
        tree = random_tree(m, rul, rvl, rng)
        if tree is None:  # the units are not connected
            return None
        orderl, predl = tree
        root = orderl[0]
        subl, sizel = pl.copy(), [1] * m
        for i in reversed(orderl[1:]):  # children before parents
            j = predl[i]
            subl[j] += subl[i]
            sizel[j] += sizel[i]
        order = np.array(orderl)
        sub, size = np.array(subl), np.array(sizel)
        ok = (sub >= slo) & (sub <= shi) & (tot - sub >= rlo) & (tot - sub <= rhi)
        ok[root] = False
        cand = np.flatnonzero(ok)
        if len(cand) == 0:
            continue
        pos = np.empty(m, dtype=np.int64)
        pos[order] = np.arange(m)
        lo_pos = pos[cand][:, None]
        hi_pos = lo_pos + size[cand][:, None]
        pu, pv = pos[ru][None, :], pos[rv][None, :]
        cuts = (((pu >= lo_pos) & (pu < hi_pos)) != ((pv >= lo_pos) & (pv < hi_pos))).sum(axis=1)
        i = int(np.argmin(cuts)) if fewest else int(rng.integers(len(cand)))
        c = int(cuts[i])
        if best is None or c < best[1]:
            w = int(cand[i])
            best = (units[order[pos[w] : pos[w] + size[w]]], c)
        if not fewest:
            break
    return best


def _initial_cut_plan(
    nbrs: list[np.ndarray],
    eu: np.ndarray,
    ev: np.ndarray,
    pop: np.ndarray,
    k: int,
    lo: float,
    hi: float,
    rng: np.random.Generator,
    attempts: int,
    cap: TimeCap,
) -> np.ndarray | None:
    """A feasible plan by recursive spanning-tree splits: cut off one district at a time at a random valid
    tree edge (the fewest-cut edge tends to shave off a rim and leave a remainder that no longer splits)."""
    n = len(pop)
    for _ in range(attempts):
        if cap.hit("tree-split start"):
            return None
        rest = np.arange(n)
        lab = np.full(n, -1, dtype=np.int64)
        for d in range(k - 1):
            r = k - d - 1
            res = _best_tree_split(rest, eu, ev, pop, (lo, hi), (lo * r, hi * r), rng, trees=50, fewest=False)
            if res is None:
                break
            lab[res[0]] = d
            rest = np.flatnonzero(lab < 0)
        else:
            if lo <= pop[rest].sum() <= hi and is_connected(rest.tolist(), nbrs):
                lab[rest] = k - 1
                return lab
    return None


def _recombine(
    labels: np.ndarray,
    eu: np.ndarray,
    ev: np.ndarray,
    pop: np.ndarray,
    lo: float,
    hi: float,
    rng: np.random.Generator,
    rounds: int,
    trees: int,
    temperature: float,
    cap: TimeCap,
) -> np.ndarray:
    """ReCom search: merge two neighbouring districts, re-split them along the best cut of random spanning
    trees. A new pair whose shared border has no more cut edges is kept (plateaus are walked); one with
    ``delta`` more is kept with probability exp(-delta / T), T falling linearly from ``temperature`` to 0 over
    the first 60% of the rounds (pure descent after). Returns the best plan seen.
    """
    lab = labels.copy()
    cur = _cut_count(lab, eu, ev)
    best, best_cut = lab.copy(), cur
    cool = max(1, int(0.6 * rounds))
    for it in range(rounds):
        if cap.hit("recombination"):
            log.info("min_cut_districts: recombination cut after %d of %d rounds", it, rounds)
            break
        cut = np.flatnonzero(lab[eu] != lab[ev])
        if len(cut) == 0:
            break
        e = int(cut[rng.integers(len(cut))])
        a, b = int(lab[eu[e]]), int(lab[ev[e]])
        la, lb = lab[eu[cut]], lab[ev[cut]]
        old = int((((la == a) & (lb == b)) | ((la == b) & (lb == a))).sum())
        region = np.flatnonzero((lab == a) | (lab == b))
        res = _best_tree_split(region, eu, ev, pop, (lo, hi), (lo, hi), rng, trees)
        if res is None:
            continue
        delta = res[1] - old
        temp = temperature * (1.0 - it / cool)
        if delta <= 0 or (temp > 0 and rng.random() < math.exp(-delta / temp)):
            lab[region] = b
            lab[res[0]] = a
            cur += delta
            if cur < best_cut:
                best, best_cut = lab.copy(), cur
    return best


def _flip_descent(
    labels: np.ndarray, nbrs: list[np.ndarray], pop: np.ndarray, k: int, lo: float, hi: float, cap: TimeCap
) -> np.ndarray:
    """Single boundary units move to a neighbouring district while that cuts fewer edges and keeps both
    districts connected and within the population bounds (units in index order, to a fixed point)."""
    lab = labels.copy()
    n = len(pop)
    dpop = np.bincount(lab, weights=pop, minlength=k)
    members = [set(np.flatnonzero(lab == d).tolist()) for d in range(k)]
    improved = True
    while improved:
        if cap.hit("boundary moves"):
            break
        improved = False
        for u in range(n):
            a = int(lab[u])
            nb = lab[nbrs[u]]
            for b in sorted(set(nb.tolist()) - {a}):
                gain = int((nb == b).sum()) - int((nb == a).sum())
                if gain <= 0 or not (lo <= dpop[a] - pop[u] and dpop[b] + pop[u] <= hi):
                    continue
                if len(members[a]) <= 1 or not is_connected(members[a] - {u}, nbrs):
                    continue
                members[a].discard(u)
                members[b].add(u)
                lab[u] = b
                dpop[a] -= pop[u]
                dpop[b] += pop[u]
                improved = True
                break
    return lab


def _cut_count(labels: np.ndarray, eu: np.ndarray, ev: np.ndarray) -> int:
    return int((labels[eu] != labels[ev]).sum())


def solve(
    problem: MinCutProblem,
    *,
    seed: int = 0,
    time_limit: float = 60.0,
    rounds: int | None = None,
    trees: int = 4,
    temperature: float = 1.0,
    restarts: int | None = None,
    exact: bool = True,
    exact_work: float | None = None,
) -> DistrictSolution:
    """``problem.k`` connected districts within the population bounds and with the fewest cut edges.

    Parameters
    ----------
    problem
        The validated instance.
    seed
        Drives every random choice; the same seed gives the same plan (the searches stop by counts).
    time_limit
        Safety cap in seconds; when it cuts a search short this is logged (and the plan may then differ
        between runs).
    rounds
        Recombination rounds per restart (default 3,000).
    trees
        Random spanning trees drawn per recombination round.
    temperature
        Start temperature of the recombination's acceptance of worse splits (0: pure descent).
    restarts
        Independent starts (tree-split plan -> recombination -> boundary moves); the best is kept. Default
        ``900 // n`` clipped to 3..8 (small graphs get more starts, as each is cheap).
    exact
        On graphs of at most ``CUT_EXACT_MAX_UNITS`` units, and as the fallback when no start was found, run CP-SAT (rooted labels with flow contiguity,
        symmetry broken by making each district's lowest-index unit its root and ordering districts by root)
        warm-started from the heuristic, which can prove the plan optimal.
    exact_work
        CP-SAT's deterministic time budget (default 10); wall time is capped by ``time_limit``.

    Returns
    -------
    DistrictSolution
        ``objective`` is the number of cut edges; centres are each district's lowest-index unit.

    Raises
    ------
    SolverError
        No feasible plan was found.
    """
    t0 = time.monotonic()
    pop: np.ndarray = problem.population
    n, k = len(pop), problem.k
    nbrs = problem.neighbours
    eu, ev = edge_arrays(nbrs)
    lo, hi = problem.pop_lower, problem.pop_upper
    cap = TimeCap(time_limit, "min_cut_districts")
    n_rounds = int(rounds) if rounds is not None else 3000
    n_starts = int(restarts) if restarts is not None else min(8, max(3, 900 // n))
    rng = np.random.default_rng(seed)
    best: np.ndarray | None = None
    for s in range(n_starts):
        start = _initial_cut_plan(nbrs, eu, ev, pop, k, lo, hi, rng, attempts=200, cap=cap)
        if start is None:
            break
        lab = _recombine(start, eu, ev, pop, lo, hi, rng, n_rounds, trees, temperature, cap)
        lab = _flip_descent(lab, nbrs, pop, k, lo, hi, cap)
        log.info(
            "min_cut_districts: start %d: %d -> %d cut edges",
            s,
            _cut_count(start, eu, ev),
            _cut_count(lab, eu, ev),
        )
        if best is None or _cut_count(lab, eu, ev) < _cut_count(best, eu, ev):
            best = lab
    optimal = False
    use_exact = exact and (n <= CUT_EXACT_MAX_UNITS or best is None)
    if use_exact:
        work = float(exact_work) if exact_work is not None else 10.0
        res = _cpsat_cut(nbrs, pop, k, lo, hi, best, seed=seed, work=work, cap=cap)
        if res is not None and (best is None or _cut_count(res[0], eu, ev) <= _cut_count(best, eu, ev)):
            best, optimal = res
    if best is None:
        how = "tree splits and CP-SAT" if use_exact else f"{n_starts} tree-split starts"
        how_zh = "生成树切分与 CP-SAT" if use_exact else f"{n_starts} 次生成树切分"
        raise SolverError(
            f"no feasible districting found in {time.monotonic() - t0:.0f} s ({how})",
            zh=f"{time.monotonic() - t0:.0f} 秒内未找到可行的分区 ({how_zh})",
        )
    cut = _cut_count(best, eu, ev)
    centers = [int(np.flatnonzero(best == d)[0]) for d in range(k)]
    labels, centers = canonical(best, centers)
    seconds = time.monotonic() - t0
    log.info(
        "min_cut_districts: n=%d k=%d cut edges=%d optimal=%s stopped_by_time=%s %.1fs",
        n,
        k,
        cut,
        optimal,
        cap.stopped,
        seconds,
    )
    return DistrictSolution(labels, np.array(centers), float(cut), (), optimal, seconds, cap.stopped)


def min_cut_districts(
    adjacency: Any,
    population: np.ndarray,
    k: int,
    *,
    pop_lower: float,
    pop_upper: float,
    seed: int = 0,
    time_limit: float = 60.0,
    rounds: int | None = None,
    trees: int = 4,
    temperature: float = 1.0,
    restarts: int | None = None,
    exact: bool = True,
    exact_work: float | None = None,
) -> DistrictSolution:
    """``k`` connected districts with population in [pop_lower, pop_upper] and the fewest cut edges.

    The one-call form of ``solve(MinCutProblem(adjacency, population, k, pop_lower, pop_upper), ...)``.

    Raises
    ------
    SolverError
        No feasible plan was found.
    """
    problem = MinCutProblem(adjacency, population, k, pop_lower, pop_upper)
    return solve(
        problem,
        seed=seed,
        time_limit=time_limit,
        rounds=rounds,
        trees=trees,
        temperature=temperature,
        restarts=restarts,
        exact=exact,
        exact_work=exact_work,
    )


def _cpsat_cut(
    nbrs: list[np.ndarray],
    pop: np.ndarray,
    k: int,
    lo: float,
    hi: float,
    hint: np.ndarray | None,
    *,
    seed: int,
    work: float,
    cap: TimeCap,
) -> tuple[np.ndarray, bool] | None:
    """Rooted label model: x[i, d] unit i in district d, r[i, d] i is the root (lowest-index unit) of d.

    Contiguity by single-commodity flow from the root inside each district (Shirabe); districts are ordered
    by their roots, so each plan has exactly one labelling. Runs deterministically (one worker, a
    deterministic-time budget ``work``); the cap bounds the wall time (at least 1 s, so that a start can
    still be found when the heuristic used the whole limit).
    """
    from ortools.sat.python import cp_model

    n = len(pop)
    arcs = [(u, int(v)) for u in range(n) for v in nbrs[u]]
    m = cp_model.CpModel()
    # unit i can only be in a district d <= i (district d's root has index >= d)
    x: list[list[Any]] = [[m.new_bool_var("") if d <= i else None for d in range(k)] for i in range(n)]
    r: list[list[Any]] = [[m.new_bool_var("") if d <= i else None for d in range(k)] for i in range(n)]
    for i in range(n):
        m.add_exactly_one(v for v in x[i] if v is not None)
    flows: list[dict[tuple[int, int], Any]] = []
    for d in range(k):
        xs = [(i, x[i][d]) for i in range(d, n)]
        rs = [(i, r[i][d]) for i in range(d, n)]
        m.add_exactly_one(v for _, v in rs)
        ps = sum(int(pop[i]) * v for i, v in xs)
        m.add(ps >= math.ceil(lo))
        m.add(ps <= math.floor(hi))
        # the root is the district's lowest-index unit
        for i, ri in rs:
            m.add_implication(ri, x[i][d])
            for j in range(d, i):
                m.add_implication(ri, x[j][d].Not())
        if d > 0:  # roots ordered
            m.add(sum(i * v for i, v in rs) > sum(i * r[i][d - 1] for i in range(d - 1, n)))
        f = {(a, b): m.new_int_var(0, n - 1, "") for a, b in arcs if a >= d and b >= d}
        flows.append(f)
        inflow: list[list[Any]] = [[] for _ in range(n)]
        outflow: list[list[Any]] = [[] for _ in range(n)]
        for (a, b), v in f.items():
            m.add(v == 0).OnlyEnforceIf(x[b][d].Not())
            m.add(v == 0).OnlyEnforceIf(x[a][d].Not())
            outflow[a].append(v)
            inflow[b].append(v)
        for i in range(d, n):
            m.add(sum(inflow[i]) - sum(outflow[i]) >= 1).OnlyEnforceIf([x[i][d], r[i][d].Not()])
            m.add(sum(inflow[i]) == 0).OnlyEnforceIf(r[i][d])
    cut = []
    for a, b in arcs:
        if a < b:
            y = m.new_bool_var("")
            for d in range(k):
                if d <= a and d <= b:
                    m.add(y >= x[a][d] - x[b][d])
                    m.add(y >= x[b][d] - x[a][d])
                elif d <= a:
                    m.add(y >= x[a][d])
                elif d <= b:
                    m.add(y >= x[b][d])
            cut.append(y)
    m.minimize(sum(cut))
    if hint is not None:
        first = [int(np.flatnonzero(hint == d).min()) for d in range(k)]
        order = sorted(range(k), key=lambda d: first[d])
        remap = np.empty(k, dtype=np.int64)
        remap[order] = np.arange(k)
        h = remap[hint]
        roots = sorted(first)
        for i in range(n):
            for d in range(min(k, i + 1)):
                m.add_hint(x[i][d], int(h[i] == d))
                m.add_hint(r[i][d], int(roots[d] == i))
        # flows of the hint: along a BFS tree from each root, an arc carries the units below it
        for d in range(k):
            order, parent = [roots[d]], {roots[d]: -1}
            for u in order:
                for nb in nbrs[u]:
                    w = int(nb)
                    if h[w] == d and w not in parent:
                        parent[w] = u
                        order.append(w)
            below = dict.fromkeys(order, 1)
            for u in reversed(order[1:]):
                below[parent[u]] += below[u]
            for (a, b), var in flows[d].items():
                m.add_hint(var, below[b] if parent.get(b) == a and h[a] == d else 0)
    solver = cp_solver()
    time_limit = max(1.0, cap.left())
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.max_deterministic_time = work
    solver.parameters.num_workers = (
        1  # one worker and a deterministic-time budget: the same seed, the same plan
    )
    solver.parameters.random_seed = seed
    t0 = time.monotonic()
    status = solver.Solve(m)
    wall = time.monotonic() - t0
    if wall >= 0.98 * time_limit and status != cp_model.OPTIMAL and solver.deterministic_time < 0.98 * work:
        cap.record("CP-SAT cut model")
    log.info(
        "min_cut_districts: CP-SAT %s, objective %s, bound %.0f, %.1fs",
        solver.StatusName(status),
        solver.ObjectiveValue() if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else "-",
        solver.BestObjectiveBound(),
        wall,
    )
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    lab = np.array(
        [next(d for d in range(min(k, i + 1)) if solver.Value(x[i][d])) for i in range(n)], dtype=np.int64
    )
    return lab, status == cp_model.OPTIMAL
