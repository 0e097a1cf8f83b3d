"""Police districts (警务区): contiguous groups of villages, each with one office, under the bureau rules R1/R2.

Matrix cores (arrays in, arrays out):

- :func:`contiguous_districts`: partition units of an adjacency graph into ``k`` connected districts with one
  centre (office) each, minimising residents' travel time to the centre (the p-median core) plus workload
  balance and compactness, under size (villages) and population bounds, optionally within townships.
- :func:`min_cut_districts`: the political-districting variant (fewest cut edges under tight population bounds),
  used by ``planner bench districting``: random spanning-tree starts, recombination (merge two neighbouring
  districts, re-split along the best cut of random spanning trees, annealed acceptance), boundary moves, and
  on small graphs a rooted CP-SAT label model (flow contiguity, symmetry broken by roots) that proves optimality.

The district stage (:mod:`planner.districts`) turns villages into these arrays and the result back into layers.

Solvers: a multi-start location-allocation heuristic (seeds from :func:`planner.engines.facility.pmedian` when that
module is present) with contiguity-preserving local search (boundary moves and swaps with connectivity checks,
iterated with local perturbations), then OR-Tools CP-SAT with flow contiguity (Shirabe's single-commodity model)
on small components, warm-started from the heuristic, which proves optimality where it pays.

Reproducibility: every search stops on counts sized from the problem (local search to its fixed point, a number
of starts, perturbation rounds and rounds without improvement, CP-SAT with one worker and a deterministic-time
budget), so the same inputs and seed give the same plan whatever the machine's load. ``time_limit`` is only a
safety cap: when it cuts a search, a warning is logged and the result says ``stopped_by_time``.
"""

from __future__ import annotations

import heapq
import importlib.util
import logging
import math
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from planner.engines.cpsat import cp_solver
from planner.errors import SolverError, ValidationError
from planner.model import Violation
from planner.rules import DistrictRules

log = logging.getLogger(__name__)


# Components up to this many units go to CP-SAT after the heuristic (flow contiguity grows as k * edges).
# Measured (2 shared cores): with the default balance and compactness terms CP-SAT proves 15-unit components
# optimal within 0.1 deterministic seconds but proves no 20-25-unit one within 3 (7-11 s of wall time), and on
# 30 units it did not improve the heuristic's plan; so the exact model runs where it can prove.
EXACT_MAX_UNITS = 16


_EPS = 1e-9


@dataclass(frozen=True, eq=False)
class DistrictSolution:
    """Result of :func:`contiguous_districts` (unit indices are positions in the input arrays).

    Attributes
    ----------
    labels
        District index (0..k-1) per unit.
    centers
        The centre (office) unit of each district; always a member of its district.
    objective
        Travel + balance + compactness (+ soft travel-limit excess) of the plan, see :func:`contiguous_districts`.
    breaks
        Rules the plan breaks, subjects as ``unit <i>`` / ``district <d>``; empty when every bound holds.
    proven_optimal
        CP-SAT proved the plan optimal (for the whole instance).
    seconds
        Wall time.
    stopped_by_time
        The ``time_limit`` safety cap cut a search short (logged as a warning). The searches stop on counts,
        so only then may the same seed give a different plan.
    """

    labels: np.ndarray
    centers: np.ndarray
    objective: float
    breaks: tuple[Violation, ...]
    proven_optimal: bool
    seconds: float
    stopped_by_time: bool = False


class _Cap:
    """The ``time_limit`` safety cap: every search stops on counts and checks this only as a cap.

    ``hit(where)`` is True once the deadline has passed; the first hit is logged as a warning and every place
    it cut is recorded in ``cut``.
    """

    def __init__(self, time_limit: float, what: str) -> None:
        self.limit = float(time_limit)
        self.deadline = time.monotonic() + self.limit
        self.what = what
        self.cut: list[str] = []

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def hit(self, where: str) -> bool:
        if time.monotonic() < self.deadline:
            return False
        self.record(where)
        return True

    def record(self, where: str) -> None:
        if not self.cut:
            log.warning(
                "%s: the time limit (%.3g s) cut the %s short; the plan may differ between runs",
                self.what,
                self.limit,
                where,
            )
        if where not in self.cut:
            self.cut.append(where)

    @property
    def stopped(self) -> bool:
        return bool(self.cut)


def _neighbours(adjacency: Any, n: int) -> list[np.ndarray]:
    a = sp.csr_matrix(adjacency)
    if a.shape != (n, n):
        raise ValidationError(
            f"adjacency has shape {a.shape}, expected ({n}, {n})",
            zh=f"邻接矩阵的形状为 {a.shape}, 应为 ({n}, {n})",
        )
    a = ((a + a.T) != 0).tocsr()
    a.setdiag(False)
    a.eliminate_zeros()
    return [np.sort(a.indices[a.indptr[i] : a.indptr[i + 1]]) for i in range(n)]


def _is_connected(
    members: set[int] | Sequence[int], nbrs: Sequence[Sequence[int]] | list[np.ndarray]
) -> bool:
    """The members form one piece of the neighbour graph (an empty or single member set does)."""
    return len(_components(nbrs, list(members))) <= 1


def _components(nbrs: Sequence[Sequence[int]] | list[np.ndarray], units: Sequence[int]) -> list[list[int]]:
    ms = set(units)
    out: list[list[int]] = []
    seen: set[int] = set()
    for s in sorted(ms):
        if s in seen:
            continue
        comp = [s]
        seen.add(s)
        dq = deque([s])
        while dq:
            u = dq.popleft()
            for v in nbrs[u]:
                v = int(v)
                if v in ms and v not in seen:
                    seen.add(v)
                    comp.append(v)
                    dq.append(v)
        out.append(sorted(comp))
    return out


@dataclass
class _Problem:
    nbrs: list[np.ndarray]
    pop: np.ndarray
    w: np.ndarray
    cost: np.ndarray
    cand: np.ndarray  # bool mask of units that may hold an office
    min_size: int
    max_size: int
    lo: float
    hi: float
    max_cost: float | None
    max_cost_hard: bool
    balance_weight: float
    compactness_weight: float
    target: float  # population per district the balance term aims at
    unit_cost: float  # resident-minutes that one resident off balance costs (mean travel of the instance)
    fixed_center: dict[int, int] = field(default_factory=dict)  # locked group -> centre unit
    # terms of districts already evaluated: the searches re-evaluate the same member sets often (undone
    # perturbations, re-tried moves); bounded, and the value depends only on the set, so results are unchanged
    cache: dict[tuple[frozenset[int], int], tuple[float, float, int]] = field(default_factory=dict)

    def terms(self, members: Sequence[int] | set[int], group: int = -1) -> tuple[float, float, int]:
        """(violation, objective, centre) of one district; violation is 0 when every bound holds."""
        key = (frozenset(members), group)
        hit = self.cache.get(key)
        if hit is None:
            if len(self.cache) >= 500_000:
                self.cache.clear()
            hit = self.cache[key] = self._terms(np.sort(np.fromiter(key[0], dtype=np.int64)), group)
        return hit

    def _terms(self, m: np.ndarray, group: int) -> tuple[float, float, int]:
        size = len(m)
        if size == 0:
            # a district left empty (growth from locked groups can leave one): a breach the search repairs
            return float(max(self.min_size, 1)) + 1.0, 0.0, -1
        p = float(self.pop[m].sum())
        viol = float(max(0, self.min_size - size) + max(0, size - self.max_size))
        if p > self.hi + _EPS:
            viol += (p - self.hi) / max(self.hi, 1.0)
        if p < self.lo - _EPS:
            viol += (self.lo - p) / max(self.lo, 1.0)
        if group in self.fixed_center and self.fixed_center[group] in set(m.tolist()):
            cm = np.array([self.fixed_center[group]])
        else:
            cm = m[self.cand[m]]
            if len(cm) == 0:
                viol += 1.0
                cm = m
        sub = self.cost[m[:, None], cm]
        score = self.w[m] @ sub
        radius = sub.max(axis=0)
        score = score + self.compactness_weight * self.target * radius
        excess = np.zeros(len(cm))
        if self.max_cost is not None:
            excess = np.maximum(sub - self.max_cost, 0.0).sum(axis=0)
            if not self.max_cost_hard:
                score = score + self.target * excess
        if self.max_cost is not None and self.max_cost_hard:
            j = int(np.lexsort((score, excess))[0])
            viol += excess[j] / self.max_cost
        else:
            j = int(np.argmin(score))
        obj = float(score[j]) + self.balance_weight * self.unit_cost * abs(p - self.target)
        return float(viol), obj, int(cm[j])


def _better(dv: float, do: float) -> bool:
    return dv < -1e-9 or (abs(dv) <= 1e-9 and do < -1e-7)


class _Search:
    """Contiguity-preserving local search on one connected component.

    Every label change is journalled so that a failed perturbation is undone locally; the local search only
    re-tries units touching a district that changed, so a round after a local perturbation costs about the
    size of the perturbed area, not of the county.
    """

    def __init__(
        self,
        prob: _Problem,
        units: list[int],
        k: int,
        group: np.ndarray,
        rng: np.random.Generator,
        cap: _Cap,
    ) -> None:
        self.prob = prob
        self.units = units
        self.k = k
        self.group = group  # locked group per unit (-1 free)
        self.rng = rng
        self.cap = cap
        self.nbl: list[list[int]] = [nb.tolist() for nb in prob.nbrs]  # plain ints: Python loops below
        # safety count on local-search passes (each pass strictly improves, so it ends anyway)
        self.max_passes = 100 + 4 * len(units)
        self.journal: list[tuple[int, int]] = []

    # -- state ---------------------------------------------------------------------------------------------
    def load(self, labels: dict[int, int]) -> None:
        self.lab = dict(labels)
        self.members: list[set[int]] = [set() for _ in range(self.k)]
        for u, d in self.lab.items():
            self.members[d].add(u)
        self.dgroup = [-1] * self.k
        for u, d in self.lab.items():
            if self.group[u] >= 0:
                self.dgroup[d] = int(self.group[u])
        self.val = [self.prob.terms(self.members[d], self.dgroup[d]) for d in range(self.k)]
        self.journal = []

    def total(self) -> tuple[float, float]:
        return sum(v[0] for v in self.val), sum(v[1] for v in self.val)

    def _set(self, u: int, b: int) -> None:
        a = self.lab[u]
        self.journal.append((u, a))
        self.members[a].discard(u)
        self.members[b].add(u)
        self.lab[u] = b

    def undo(self) -> None:
        """Undo every label change since the journal was last cleared."""
        touched: set[int] = set()
        for u, a in reversed(self.journal):
            b = self.lab[u]
            self.members[b].discard(u)
            self.members[a].add(u)
            self.lab[u] = a
            touched.update((a, b))
        for d in sorted(touched):
            self.val[d] = self.prob.terms(self.members[d], self.dgroup[d])
        self.journal = []

    def _touching(self, dirty: set[int]) -> list[int]:
        """Units of the dirty districts and their neighbours, sorted."""
        out: set[int] = set()
        nbrs = self.nbl
        for d in dirty:
            for u in self.members[d]:
                out.add(u)
                out.update(v for v in nbrs[u] if v in self.lab)
        return sorted(out)

    # -- moves ---------------------------------------------------------------------------------------------
    def _try_move(self, u: int) -> tuple[int, int] | None:
        a = self.lab[u]
        if self.group[u] >= 0 or len(self.members[a]) <= 1:
            return None
        targets = sorted({self.lab[v] for v in self.nbl[u] if v in self.lab} - {a})
        if not targets:
            return None
        rest = self.members[a] - {u}
        if not _is_connected(rest, self.nbl):
            return None
        ta = self.prob.terms(rest, self.dgroup[a])
        best: tuple[float, float, int, tuple[float, float, int]] | None = None
        for b in targets:
            tb = self.prob.terms(self.members[b] | {u}, self.dgroup[b])
            dv = ta[0] + tb[0] - self.val[a][0] - self.val[b][0]
            do = ta[1] + tb[1] - self.val[a][1] - self.val[b][1]
            if _better(dv, do) and (best is None or _better(dv - best[0], do - best[1])):
                best = (dv, do, b, tb)
        if best is None:
            return None
        b = best[2]
        self._set(u, b)
        self.val[a] = ta
        self.val[b] = best[3]
        return a, b

    def _try_swap(self, u: int) -> tuple[int, int] | None:
        a = self.lab[u]
        if self.group[u] >= 0:
            return None
        nbrs = self.nbl
        # units next to district a without u: the only ones that can join a and keep it connected
        near_a = {x for y in self.members[a] if y != u for x in nbrs[y]}
        for b in sorted({self.lab[v] for v in nbrs[u] if v in self.lab} - {a}):
            for v in sorted(self.members[b] & near_a):
                if self.group[v] >= 0:
                    continue
                na = (self.members[a] - {u}) | {v}
                nb = (self.members[b] - {v}) | {u}
                ta = self.prob.terms(na, self.dgroup[a])
                tb = self.prob.terms(nb, self.dgroup[b])
                dv = ta[0] + tb[0] - self.val[a][0] - self.val[b][0]
                do = ta[1] + tb[1] - self.val[a][1] - self.val[b][1]
                if not _better(dv, do):
                    continue
                if not (_is_connected(na, nbrs) and _is_connected(nb, nbrs)):
                    continue
                self._set(u, b)
                self._set(v, a)
                self.val[a], self.val[b] = ta, tb
                return a, b
        return None

    def local_search(self, dirty: set[int] | None = None) -> None:
        """Improving boundary moves, then swaps, to a local optimum of both neighbourhoods.

        Only units touching a district in ``dirty`` (default: every district) are tried; a change makes its
        two districts dirty. Stops at the fixed point (a count: every step strictly improves), after
        ``max_passes`` passes, or when the time cap is hit.
        """
        dirty = set(range(self.k)) if dirty is None else set(dirty)
        swap_dirty = set(dirty)
        for _ in range(self.max_passes):
            if self.cap.hit("district local search"):
                return
            new: set[int] = set()
            if dirty:
                for u in self.rng.permutation(self._touching(dirty)):
                    ch = self._try_move(int(u))
                    if ch is not None:
                        new.update(ch)
            if new:
                dirty = new
                swap_dirty |= new
                continue
            if not swap_dirty:
                return
            for u in self.rng.permutation(self._touching(swap_dirty)):
                ch = self._try_swap(int(u))
                if ch is not None:
                    new.update(ch)
            if not new:
                return
            dirty, swap_dirty = set(new), set(new)
        log.info("district local search: stopped after %d passes (safety count)", self.max_passes)

    def perturb(self, moves: int) -> set[int]:
        """Random boundary moves in one random district and its neighbours, keeping every district connected
        and non-empty. Returns the districts touched."""
        d0 = int(self.rng.integers(self.k))
        area = {d0}
        for u in self.members[d0]:
            area.update(self.lab[v] for v in self.nbl[u] if v in self.lab)
        pool = sorted(u for d in area for u in self.members[d])
        touched: set[int] = set()
        done = 0
        for u in self.rng.permutation(pool):
            if done >= moves:
                break
            u = int(u)
            a = self.lab[u]
            if self.group[u] >= 0 or len(self.members[a]) <= 1:
                continue
            targets = sorted({self.lab[v] for v in self.nbl[u] if v in self.lab} - {a})
            if not targets or not _is_connected(self.members[a] - {u}, self.nbl):
                continue
            b = targets[int(self.rng.integers(len(targets)))]
            self._set(u, b)
            touched.update((a, b))
            done += 1
        for d in sorted(touched):
            self.val[d] = self.prob.terms(self.members[d], self.dgroup[d])
        return touched


def _seed_centers(
    prob: _Problem,
    units: list[int],
    k: int,
    taken: list[int],
    rng: np.random.Generator,
    use_pmedian: bool,
    cap: _Cap,
) -> list[int]:
    """k - len(taken) more centres among the candidate units: p-median (planner.engines.facility) or k-means++ by cost."""
    need = k - len(taken)
    if need <= 0:
        return list(taken)
    taken_set = set(taken)
    cand = [u for u in units if prob.cand[u] and u not in taken_set] or [
        u for u in units if u not in taken_set
    ]
    if use_pmedian and not taken and importlib.util.find_spec("planner.engines.facility") is not None:
        from planner.engines.facility import pmedian

        sub = prob.cost[np.ix_(units, cand)]
        # a start only: a short VNS (counts, not clocks), no MIP; the district search does the rest
        stall = min(max(20, need), 100)
        sol = pmedian(
            sub,
            need,
            weights=prob.w[units],
            seed=int(rng.integers(1 << 30)),
            time_limit=max(cap.left(), 0.0),
            exact=False,
            max_stall=stall,
            max_rounds=5 * stall,
        )
        if sol.stopped_by_time:
            cap.record("p-median start")
        return [cand[int(j)] for j in np.asarray(sol.medians)]
    chosen = list(taken)
    uarr = np.asarray(units, dtype=np.int64)
    w = prob.w[uarr] + 1e-9
    free = np.zeros(len(units), dtype=bool)
    pos = {u: i for i, u in enumerate(units)}
    for u in cand:
        free[pos[u]] = True
    for u in chosen:
        free[pos[u]] = False
    d = prob.cost[np.ix_(uarr, np.asarray(chosen, dtype=np.int64))].min(axis=1) if chosen else None
    for _ in range(need):
        score = np.where(free, w if d is None else w * d * d, 0.0)
        if score.sum() <= 0:
            pool = np.flatnonzero(free)
            i = int(pool[int(rng.integers(len(pool)))])
        else:
            i = int(rng.choice(len(units), p=score / score.sum()))
        chosen.append(units[i])
        free[i] = False
        col = prob.cost[uarr, units[i]]
        d = col.copy() if d is None else np.minimum(d, col)
    return chosen


def _grow(prob: _Problem, units: list[int], centers: list[int], group: np.ndarray) -> dict[int, int]:
    """Grow districts from their centres by cheapest travel, respecting the upper bounds while it can."""
    lab: dict[int, int] = {}
    size = [0] * len(centers)
    popd = [0.0] * len(centers)
    heap: list[tuple[float, int, int]] = []
    grp_of = {int(group[c]): d for d, c in enumerate(centers) if group[c] >= 0}
    # locked groups first: every unit of a group goes to the group's district
    for u in units:
        if group[u] >= 0 and int(group[u]) in grp_of:
            d = grp_of[int(group[u])]
            lab[u] = d
            size[d] += 1
            popd[d] += prob.pop[u]
    for d, c in enumerate(centers):
        if c not in lab:
            lab[c] = d
            size[d] += 1
            popd[d] += prob.pop[c]
    for u, d in lab.items():
        for v in prob.nbrs[u]:
            heapq.heappush(heap, (float(prob.cost[int(v), centers[d]]), int(v), d))
    unit_set = set(units)
    deferred: set[int] = set()
    while heap:
        _c, u, d = heapq.heappop(heap)
        if u in lab or u not in unit_set or group[u] >= 0:
            continue
        if size[d] + 1 > prob.max_size or popd[d] + prob.pop[u] > prob.hi:
            deferred.add(u)
            continue
        lab[u] = d
        size[d] += 1
        popd[d] += prob.pop[u]
        for v in prob.nbrs[u]:
            v = int(v)
            if v not in lab:
                heapq.heappush(heap, (float(prob.cost[v, centers[d]]), v, d))
    # what the caps left out joins the cheapest adjacent district, caps ignored (local search repairs)
    pending = [u for u in units if u not in lab]
    while pending:
        progress = False
        for u in pending:
            ds = sorted(
                {lab[int(v)] for v in prob.nbrs[u] if int(v) in lab},
                key=lambda d: (prob.cost[u, centers[d]], d),
            )
            if ds:
                lab[u] = ds[0]
                progress = True
        pending = [u for u in pending if u not in lab]
        if not progress:  # a locked group cut off from its own district: give its units their group
            raise SolverError("internal: a component is not connected", zh="内部错误: 分量不连通")
    return lab


def _cpsat_travel(
    prob: _Problem,
    units: list[int],
    k: int,
    group: np.ndarray,
    hint: dict[int, int],
    centers_hint: list[int],
    *,
    seed: int,
    work: float,
    cap: _Cap,
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
        if prob.compactness_weight > 0:
            rad = m.new_int_var(0, int(cost_i[:, j].max()), "")
            for i in range(n):
                m.add(rad >= int(cost_i[i, j]) * x[i, j])
            terms.append(round(prob.compactness_weight * prob.target) * rad)
        if prob.balance_weight > 0:
            total = int(prob.pop[units].sum())
            dev = m.new_int_var(0, total + int(prob.target) + 1, "")
            m.add(dev >= pj - round(prob.target) - total * (1 - x[j, j]))
            m.add(dev >= round(prob.target) * x[j, j] - pj)
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


def _allocate_k(
    comps: list[list[int]],
    pop: np.ndarray,
    k: int,
    min_size: int,
    max_size: int,
    lo: float,
    hi: float,
    n_groups: list[int],
) -> list[int]:
    """Districts per component: the fewest each needs, the rest spread where sizes allow."""
    lows, highs = [], []
    for comp, g in zip(comps, n_groups, strict=True):
        nc, pc = len(comp), float(pop[comp].sum())
        low = max(1, g, math.ceil(nc / max_size), math.ceil(pc / hi) if hi < math.inf else 1)
        high = min(nc, nc // min_size if min_size > 0 else nc, int(pc // lo) if lo > 0 else nc)
        lows.append(low)
        highs.append(max(high, low))
    alloc = list(lows)
    extra = k - sum(alloc)
    while extra > 0:
        order = sorted(range(len(comps)), key=lambda c: (-(len(comps[c]) / alloc[c]), c))
        grow = [c for c in order if alloc[c] < highs[c]] or [c for c in order if alloc[c] < len(comps[c])]
        if not grow:
            break
        alloc[grow[0]] += 1
        extra -= 1
    return alloc


def contiguous_districts(
    adjacency: Any,
    population: np.ndarray,
    cost: np.ndarray,
    k: int,
    *,
    min_size: int | None = None,
    max_size: int | None = None,
    pop_lower: float | None = None,
    pop_upper: float | None = None,
    township: np.ndarray | None = None,
    candidates: np.ndarray | None = None,
    locked: np.ndarray | None = None,
    locked_centers: dict[int, int] | None = None,
    weights: np.ndarray | None = None,
    balance_weight: float = DistrictRules.balance_weight,
    compactness_weight: float = DistrictRules.compactness_weight,
    max_cost: float | None = None,
    max_cost_hard: bool = False,
    seed: int = 0,
    time_limit: float = 60.0,
    exact: bool = True,
    rounds: int | None = None,
    exact_work: float | None = None,
    exact_max_units: int = EXACT_MAX_UNITS,
) -> DistrictSolution:
    """Partition the units of a graph into ``k`` contiguous districts, each with one centre inside it.

    Parameters
    ----------
    adjacency
        (n, n) sparse or dense matrix; nonzero = neighbours (symmetrised). Districts are connected in it.
    population
        Residents per unit (n,).
    cost
        (n, n) travel cost (minutes) from unit i to a centre at unit j; must be finite.
    k
        Number of districts. Components of the graph (after cutting township borders) get the fewest districts
        each needs and the rest where sizes allow; a component that needs more than ``k`` leaves gets them and a
        ``k`` break is listed.
    min_size, max_size
        Units per district (R1).
    pop_lower, pop_upper
        Residents per district (R2).
    township
        Township label per unit: districts never cross a township border.
    candidates
        Bool mask or index array of units that may hold a centre (default every unit).
    locked
        Int array (n,): -1 free, else a group id; units of one group stay in one district together and
        different groups in different districts. ``locked_centers`` maps a group id to its fixed centre unit.
    weights
        Residents counted in the travel term (default ``population``).
    balance_weight, compactness_weight
        Objective = sum over districts of [sum_i w_i cost(i, centre) + compactness_weight * (P/k) * radius
        + balance_weight * c_mean * |pop_d - P/k|], where radius is the largest cost to the centre in the district
        and c_mean is the residents' mean cost to their (n/k)-th nearest unit (a typical trip to an office), so
        one resident off balance costs about one trip. With ``max_cost`` soft, (P/k) * the excess
        of each unit over ``max_cost`` is added; with it hard, the excess is a break.
    seed
        Drives every random choice. Every search stops on counts (local search to its fixed point, a number of
        starts, perturbation rounds without improvement, CP-SAT's deterministic time with one worker), so the
        same inputs and seed give the same plan whatever the machine's load.
    time_limit
        Safety cap in seconds on the whole search. When it cuts a search short this is logged as a warning and
        the solution is marked ``stopped_by_time`` (only then may the plan differ between runs).
    exact
        Run CP-SAT (flow contiguity) on components of at most ``exact_max_units`` units.
    rounds
        Perturbation rounds (iterated local search) per component; the search also stops after
        ``rounds // 2`` rounds in a row without improvement. Default sized from the component:
        ``clip(40 k, 400, 2000)`` for k districts.
    exact_work
        CP-SAT's deterministic-time budget per component (default 1.0; one worker, so the same seed gives the
        same plan).
    exact_max_units
        Largest component that goes to CP-SAT (default ``EXACT_MAX_UNITS``).

    Returns
    -------
    DistrictSolution
    """
    t0 = time.monotonic()
    cap = _Cap(time_limit, "contiguous_districts")
    pop = np.asarray(population, dtype=float)
    n = len(pop)
    cost = np.asarray(cost, dtype=float)
    if cost.shape != (n, n):
        raise ValidationError(
            f"cost has shape {cost.shape}, expected ({n}, {n})",
            zh=f"代价矩阵的形状为 {cost.shape}, 应为 ({n}, {n})",
        )
    if not np.isfinite(cost).all():
        raise ValidationError(
            "cost has inf or NaN entries; fill unreachable pairs first",
            zh="代价矩阵含 inf 或 NaN; 请先填补不可达的village对",
        )
    if k < 1 or k > n:
        raise ValidationError(f"k = {k} districts for {n} units", zh=f"{n} 个单元划分 k = {k} 个警务区")
    nbrs = _neighbours(adjacency, n)
    if township is not None:
        tw = np.asarray(township)
        nbrs = [nb[tw[nb] == tw[i]] for i, nb in enumerate(nbrs)]
    cand = np.ones(n, dtype=bool)
    if candidates is not None:
        cc = np.asarray(candidates)
        if cc.dtype == bool:
            cand = cc.copy()
        else:
            cand = np.zeros(n, dtype=bool)
            cand[cc.astype(int)] = True
    group = np.full(n, -1, dtype=np.int64) if locked is None else np.asarray(locked, dtype=np.int64).copy()
    w = pop.copy() if weights is None else np.asarray(weights, dtype=float)
    lo = float(pop_lower) if pop_lower is not None else 0.0
    hi = float(pop_upper) if pop_upper is not None else math.inf
    mn = int(min_size) if min_size is not None else 1
    mx = int(max_size) if max_size is not None else n
    total = float(pop.sum())
    wsum = float(w.sum()) or 1.0
    # mean resident trip in a k-median-like sense: residents' mean cost to their k-th nearest unit
    kth = min(n - 1, max(1, n // max(k, 1)))
    unit_cost = float((w @ np.partition(cost, kth, axis=1)[:, kth]) / wsum) or 1.0

    comps = _components(nbrs, range(n))
    n_groups = [len({int(group[u]) for u in c if group[u] >= 0}) for c in comps]
    alloc = _allocate_k(comps, pop, k, mn, mx, lo, hi, n_groups)
    breaks: list[Violation] = []
    if sum(alloc) != k:
        breaks.append(
            Violation(
                "k",
                "plan",
                f"the graph falls into {len(comps)} parts that need {sum(alloc)} districts, not {k}",
                f"图分为 {len(comps)} 个互不相连的部分, 需要 {sum(alloc)} 个警务区, 而不是 {k} 个",
            )
        )
    labels = np.full(n, -1, dtype=np.int64)
    centers: list[int] = []
    all_optimal = True
    rng = np.random.default_rng(seed)

    def problem(target: float) -> _Problem:
        """The model of this call; only the balance target differs between a component and the whole."""
        return _Problem(
            nbrs,
            pop,
            w,
            cost,
            cand,
            mn,
            mx,
            lo,
            hi,
            max_cost,
            max_cost_hard,
            balance_weight,
            compactness_weight,
            target,
            unit_cost,
            dict(locked_centers or {}),
        )

    for comp, kc in zip(comps, alloc, strict=True):
        prob = problem(float(pop[comp].sum()) / kc)
        lab, cents, optimal = _solve_component(
            prob,
            comp,
            kc,
            group,
            rng,
            cap,
            exact=exact and len(comp) <= exact_max_units,
            seed=seed,
            rounds=rounds,
            exact_work=exact_work,
        )
        all_optimal &= optimal
        base = len(centers)
        for u, d in lab.items():
            labels[u] = base + d
        centers.extend(cents)
    labels, centers = _canonical(labels, centers)
    # final figures and breaks
    objective = 0.0
    final_prob = problem(total / len(centers))
    for d, cu in enumerate(centers):
        mem = np.flatnonzero(labels == d)
        g = {int(group[u]) for u in mem if group[u] >= 0}
        _viol, obj, _best_c = final_prob.terms(mem.tolist(), next(iter(g)) if len(g) == 1 else -1)
        objective += obj
        breaks.extend(
            _district_breaks(d, mem, cu, pop, cost, cand, mn, mx, lo, hi, max_cost, max_cost_hard, nbrs)
        )
    seconds = time.monotonic() - t0
    log.info(
        "contiguous_districts: n=%d k=%d objective=%.1f breaks=%d optimal=%s stopped_by_time=%s %.1fs",
        n,
        len(centers),
        objective,
        len(breaks),
        all_optimal,
        cap.stopped,
        seconds,
    )
    return DistrictSolution(
        labels,
        np.array(centers, dtype=np.int64),
        float(objective),
        tuple(breaks),
        bool(all_optimal) and not cap.stopped,
        seconds,
        cap.stopped,
    )


def _district_breaks(
    d: int,
    mem: np.ndarray,
    center: int,
    pop: np.ndarray,
    cost: np.ndarray,
    cand: np.ndarray,
    mn: int,
    mx: int,
    lo: float,
    hi: float,
    max_cost: float | None,
    hard: bool,
    nbrs: list[np.ndarray],
) -> list[Violation]:
    out = []
    s = f"district {d}"
    if len(mem) < mn or len(mem) > mx:
        out.append(
            Violation(
                "size", s, f"{len(mem)} units, outside {mn}..{mx}", f"{len(mem)} 个单元, 不在 {mn}..{mx} 内"
            )
        )
    p = float(pop[mem].sum())
    if p > hi + _EPS or p < lo - _EPS:
        out.append(
            Violation(
                "population",
                s,
                f"{p:.0f} residents, outside {lo:.0f}..{hi:.0f}",
                f"{p:.0f} 人, 不在 {lo:.0f}..{hi:.0f} 内",
            )
        )
    if not cand[center]:
        out.append(
            Violation(
                "candidates",
                s,
                f"no candidate office site; centre at unit {center}",
                f"无候选警务室地点; 中心设在单元 {center}",
            )
        )
    if not _is_connected(mem.tolist(), nbrs):
        out.append(Violation("contiguity", s, "not connected", "不连通"))
    if max_cost is not None and hard:
        far = mem[cost[mem, center] > max_cost + _EPS]
        if len(far):
            out.append(
                Violation(
                    "travel",
                    s,
                    f"{len(far)} units beyond {max_cost:g} from the centre",
                    f"{len(far)} 个单元距中心超过 {max_cost:g}",
                )
            )
    return out


def _solve_component(
    prob: _Problem,
    comp: list[int],
    k: int,
    group: np.ndarray,
    rng: np.random.Generator,
    cap: _Cap,
    *,
    exact: bool,
    seed: int,
    rounds: int | None,
    exact_work: float | None,
) -> tuple[dict[int, int], list[int], bool]:
    """Multi-start location-allocation, iterated local search, CP-SAT on small components; all by counts."""
    t_comp = time.monotonic()
    if k == 1:
        _viol, _obj, c = prob.terms(comp, _single_group(group, comp))
        return {u: 0 for u in comp}, [c], True
    groups = sorted({int(group[u]) for u in comp if group[u] >= 0})
    taken: list[int] = []
    for g in groups:
        gu = [u for u in comp if group[u] == g]
        taken.append(prob.fixed_center.get(g, min(gu, key=lambda u: (prob.w[gu] @ prob.cost[gu, u], u))))
    search = _Search(prob, comp, k, group, rng, cap)
    best: tuple[tuple[float, float], dict[int, int]] | None = None
    starts = 4 if len(comp) < 400 else 2
    for s in range(starts):
        if best is not None and cap.hit("district starts"):
            break
        cents = _seed_centers(prob, comp, min(k, len(comp)), taken, rng, use_pmedian=(s == 0), cap=cap)
        search.load(_grow(prob, comp, cents, group))
        search.local_search()
        tot = search.total()
        if best is None or _better(tot[0] - best[0][0], tot[1] - best[0][1]):
            best = (tot, dict(search.lab))
    assert best is not None
    t_starts = time.monotonic()
    # iterated local search from the best start: a local perturbation, local search around it, kept when
    # better, else undone; stops after a budget of rounds or a run of rounds without improvement
    max_rounds = int(rounds) if rounds is not None else int(np.clip(40 * k, 400, 2000))
    max_stall = max(1, max_rounds // 2)
    search.load(best[1])
    moves = max(2, min(8, len(comp) // (2 * k) + 1))
    stall = done = last_gain = 0
    while done < max_rounds and stall < max_stall:
        if cap.hit("district perturbation rounds"):
            break
        done += 1
        search.journal = []
        touched = search.perturb(moves)
        search.local_search(touched)
        tot = search.total()
        if _better(tot[0] - best[0][0], tot[1] - best[0][1]):
            for u, _a in search.journal:
                best[1][u] = search.lab[u]
            best = (tot, best[1])
            stall, last_gain = 0, done
        else:
            search.undo()
            stall += 1
    log.info(
        "district search: %d units, k=%d, %d starts %.1fs, %d perturbation rounds (last gain at %d) %.1fs",
        len(comp),
        k,
        starts,
        t_starts - t_comp,
        done,
        last_gain,
        time.monotonic() - t_starts,
    )
    search.load(best[1])
    centers = [search.val[d][2] for d in range(k)]
    optimal = False
    if exact:
        work = float(exact_work) if exact_work is not None else 1.0
        res = _cpsat_travel(prob, comp, k, group, best[1], centers, seed=seed, work=work, cap=cap)
        if res is not None:
            lab2, _cents2, optimal = res
            search.load(lab2)
            tot = search.total()
            if tot[0] <= best[0][0] + 1e-9 and (optimal or _better(tot[0] - best[0][0], tot[1] - best[0][1])):
                best = (tot, lab2)
            else:
                search.load(best[1])
            centers = [search.val[d][2] for d in range(k)]
    return best[1], centers, optimal


def _single_group(group: np.ndarray, units: Sequence[int]) -> int:
    g = {int(group[u]) for u in units if group[u] >= 0}
    return next(iter(g)) if len(g) == 1 else -1


def _canonical(labels: np.ndarray, centers: list[int]) -> tuple[np.ndarray, list[int]]:
    """Number districts by their smallest unit, so equal plans have equal labels."""
    k = len(centers)
    first = [int(np.flatnonzero(labels == d).min()) for d in range(k)]
    order = sorted(range(k), key=lambda d: first[d])
    remap = np.empty(k, dtype=np.int64)
    remap[order] = np.arange(k)
    return remap[labels], [centers[d] for d in order]


def _edge_arrays(nbrs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Each undirected edge once, as (u, v) with u < v."""
    eu = np.concatenate(
        [np.full(len(nb), u, dtype=np.int64) for u, nb in enumerate(nbrs)] or [np.zeros(0, int)]
    )
    ev = np.concatenate(list(nbrs) or [np.zeros(0, int)]).astype(np.int64)
    keep = eu < ev
    return eu[keep], ev[keep]


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
    # plain Python lists below: on graphs of tens to hundreds of units, scipy's per-call overhead dominates
    for _ in range(trees):
        # Kruskal over a random edge order = minimum spanning tree under random weights
        uf = list(range(m))
        tadj: list[list[int]] = [[] for _ in range(m)]
        joined = 0
        for e in rng.permutation(len(rul)).tolist():
            ra, rb = rul[e], rvl[e]
            while uf[ra] != ra:
                uf[ra] = uf[uf[ra]]
                ra = uf[ra]
            while uf[rb] != rb:
                uf[rb] = uf[uf[rb]]
                rb = uf[rb]
            if ra != rb:
                uf[ra] = rb
                tadj[rul[e]].append(rvl[e])
                tadj[rvl[e]].append(rul[e])
                joined += 1
                if joined == m - 1:
                    break
        if joined < m - 1:  # the units are not connected
            return None
        root = int(rng.integers(m))
        predl = [-1] * m
        orderl: list[int] = []
        stack = [root]
        while stack:  # depth-first preorder: every subtree is a contiguous slice
            u = stack.pop()
            orderl.append(u)
            for v in tadj[u]:
                if v != predl[u]:
                    predl[v] = u
                    stack.append(v)
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
    cap: _Cap,
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
            if lo <= pop[rest].sum() <= hi and _is_connected(rest.tolist(), nbrs):
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
    cap: _Cap,
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
    labels: np.ndarray, nbrs: list[np.ndarray], pop: np.ndarray, k: int, lo: float, hi: float, cap: _Cap
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
                if len(members[a]) <= 1 or not _is_connected(members[a] - {u}, nbrs):
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


# Units up to this many go to the exact CP-SAT model after the heuristic in min_cut_districts.
CUT_EXACT_MAX_UNITS = 40


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

    Parameters
    ----------
    adjacency
        (n, n) sparse or dense matrix; nonzero = neighbours (symmetrised).
    population
        Residents per unit (n,).
    k
        Number of districts.
    pop_lower, pop_upper
        Residents per district.
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
    pop = np.asarray(population, dtype=float)
    n = len(pop)
    if k < 1 or k > n:
        raise ValidationError(f"k = {k} districts for {n} units", zh=f"{n} 个单元划分 k = {k} 个警务区")
    nbrs = _neighbours(adjacency, n)
    eu, ev = _edge_arrays(nbrs)
    lo, hi = float(pop_lower), float(pop_upper)
    cap = _Cap(time_limit, "min_cut_districts")
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
    labels, centers = _canonical(best, centers)
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
    cap: _Cap,
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
