"""The contiguous districting heuristic: district terms, seeds, growth and the contiguity-preserving search.

:class:`_DistrictModel` evaluates one district (bounds broken, objective, best centre); :func:`_seed_centers`
and :func:`_grow` build a start; :class:`_Search` improves it by boundary moves and swaps that keep every
district connected and by merge-and-redraw (two neighbouring districts merged and re-split along the best cut
of random spanning trees, :meth:`_Search.recombine`), iterated with local perturbations. Every loop stops on
counts.
"""

from __future__ import annotations

import hashlib
import heapq
import logging
import math
from collections.abc import Sequence, Set
from dataclasses import dataclass, field

import numpy as np

from planner.engines.districting.graph import EPS, TimeCap, is_connected, random_tree
from planner.engines.facility import pmedian
from planner.errors import SolverError
from planner.settings import DISTRICT_START_SPLIT, START_REGION_UNITS

log = logging.getLogger(__name__)

# Merge-and-redraw (ReCom) move of the travel search: random spanning trees drawn per pair of neighbouring
# districts (every cut of every tree is tried), and passes over the pairs whose districts changed (counts, not
# clocks, so the same seed gives the same plan at any load)
RECOM_TREES = 12
RECOM_PASSES = 20


@dataclass
class _DistrictModel:
    """The objective and bounds of one call, and the terms of any district (cached by member set)."""

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
    # residents within this share of the target either side cost no balance (the bureau's tolerance)
    balance_tolerance: float = 0.0
    # terms of districts already evaluated: the searches re-evaluate the same member sets often (undone
    # perturbations, re-tried moves); bounded, and the value depends only on the set, so results are unchanged
    cache: dict[tuple[frozenset[int], int], tuple[float, float, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # residents as plain floats, and whether every sum of them is exact in any order (whole numbers, total
        # below 2**52): then a district's residents kept by the search as a running sum equal ``pop[m].sum()``
        # bit for bit, and :meth:`floor` may screen a candidate district before :meth:`terms` evaluates it
        pop = np.asarray(self.pop, dtype=np.float64)
        self.popl: list[float] = pop.tolist()
        whole = bool(np.all(np.isfinite(pop)) and np.all(pop == np.floor(pop)))
        self.exact_pop = whole and float(np.abs(pop).sum()) < 2.0**52
        # a hard travel limit adds excess / max_cost to the violation: a screen needs that term non-negative
        screen = self.max_cost is None or self.max_cost > 0
        # :meth:`floor`'s parts, the same numbers :meth:`breach` computes: its size part per size (-inf for an
        # empty district or when no screen is safe) and the residents' bounds
        self.size_floor: list[float] = [-math.inf] + [
            float(max(0, self.min_size - c) + max(0, c - self.max_size)) if screen else -math.inf
            for c in range(1, len(pop) + 2)
        ]
        self.hi_eps, self.lo_eps = self.hi + EPS, self.lo - EPS
        self.hi_div, self.lo_div = max(self.hi, 1.0), max(self.lo, 1.0)
        # units whose district breaks the residents' cap in every plan: their residents plus the min_size - 1
        # smallest populations are over it. Such a district counts the break, not its excess: how many
        # residents join it beside the forced village is the objective's trade-off (travel against balance),
        # not a break to shrink at any cost in travel
        small = float(np.sort(pop)[: max(self.min_size - 1, 0)].sum())
        self.forced: np.ndarray = (
            pop + small > self.hi + EPS if math.isfinite(self.hi) else np.zeros(len(pop), dtype=bool)
        )
        self.forcedl: list[bool] = self.forced.tolist()

    def terms(self, members: Sequence[int] | Set[int], group: int = -1) -> tuple[float, float, int]:
        """(violation, objective, centre) of one district; violation is 0 when every bound holds."""
        key = (frozenset(members), group)
        hit = self.cache.get(key)
        if hit is None:
            if len(self.cache) >= 500_000:
                self.cache.clear()
            hit = self.cache[key] = self._terms(np.array(sorted(key[0]), dtype=np.int64), group)
        return hit

    def floor(self, size: int, p: float, forced: bool = False) -> float:
        """A lower bound on :meth:`terms`' violation of a district of ``size`` units, ``p`` of them residents
        (the search's running sum), ``forced`` when it holds a forced unit: :meth:`breach` when that sum is
        exact, else the size part alone; -inf when no screen is safe (an empty district, a hard travel limit
        that is not positive)."""
        f = self.size_floor[size]
        if self.exact_pop:
            if p > self.hi_eps:
                f += 1.0 if forced else 1.0 + (p - self.hi) / self.hi_div
            if p < self.lo_eps:
                f += 1.0 + (self.lo - p) / self.lo_div
        return f

    def breach(self, size: int, p: float, forced: bool = False) -> float:
        """The size and population part of :meth:`terms`' violation of a district of ``size`` units and ``p``
        residents (``forced``: it holds a forced unit): a lower bound on its whole violation, cheap enough to
        screen splits before evaluating them."""
        viol = float(max(0, self.min_size - size) + max(0, size - self.max_size))
        # a district outside the residents' bounds counts one break, then its excess: spreading the excess of a
        # district that must break (a village over the cap alone) over a second one is not an improvement. A
        # district with a forced unit counts the break alone (see __post_init__)
        if p > self.hi + EPS:
            viol += 1.0 if forced else 1.0 + (p - self.hi) / max(self.hi, 1.0)
        if p < self.lo - EPS:
            viol += 1.0 + (self.lo - p) / max(self.lo, 1.0)
        return viol

    def _terms(self, m: np.ndarray, group: int) -> tuple[float, float, int]:
        size = len(m)
        if size == 0:
            # a district left empty (growth from locked groups can leave one): a breach the search repairs
            return float(max(self.min_size, 1)) + 1.0, 0.0, -1
        # a sum that is exact in any order is taken in plain Python (the same number, without numpy's overhead)
        p = sum(map(self.popl.__getitem__, m.tolist())) if self.exact_pop else float(self.pop[m].sum())
        viol = self.breach(size, p, p > self.hi_eps and bool(self.forced[m].any()))
        if group in self.fixed_center and self.fixed_center[group] in set(m.tolist()):
            cm = np.array([self.fixed_center[group]])
        else:
            cm = m[self.cand[m]]
            if len(cm) == 0:
                viol += 1.0
                cm = m
        sub = self.cost[m[:, None], cm]
        wm = self.w[m]
        score = wm @ sub
        radius = sub.max(axis=0)
        score = score + self.compactness_weight * self.target * radius
        if self.max_cost is not None:
            over = np.maximum(sub - self.max_cost, 0.0)
            excess = over.sum(axis=0)
            if not self.max_cost_hard:
                # soft limit: each resident-minute beyond it counts once more, for the residents actually there
                score = score + wm @ over
        if self.max_cost is not None and self.max_cost_hard:
            j = int(np.lexsort((score, excess))[0])
            viol += excess[j] / self.max_cost
        else:
            j = int(np.argmin(score))
        off = max(abs(p - self.target) - self.balance_tolerance * self.target, 0.0)
        obj = float(score[j]) + self.balance_weight * self.unit_cost * off
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
        prob: _DistrictModel,
        units: list[int],
        k: int,
        group: np.ndarray,
        rng: np.random.Generator,
        cap: TimeCap,
    ) -> None:
        self.prob = prob
        self.units = units
        self.k = k
        self.group = group  # locked group per unit (-1 free)
        self.groupl: list[int] = [int(g) for g in np.asarray(group).tolist()]  # the same, plain ints
        self.rng = rng
        self.cap = cap
        self.nbl: list[list[int]] = [nb.tolist() for nb in prob.nbrs]  # plain ints: Python loops below
        # safety count on local-search passes (each pass strictly improves, so it ends anyway)
        self.max_passes = 100 + 4 * len(units)
        self.journal: list[tuple[int, int]] = []
        # district pairs (as member sets) a merge-and-redraw found no better split for; bounded
        self.recom_failed: set[tuple[frozenset[int], frozenset[int]]] = set()

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
        # residents per district as a running sum (exact when the model's sums are: see _DistrictModel.floor)
        popl = self.prob.popl
        self.psum = [sum(popl[u] for u in sorted(ms)) for ms in self.members]
        # forced units per district (see _DistrictModel.forced), for the screens
        forced = self.prob.forcedl
        self.nforced = [sum(forced[u] for u in ms) for ms in self.members]
        self.journal = []

    def total(self) -> tuple[float, float]:
        return sum(v[0] for v in self.val), sum(v[1] for v in self.val)

    def _set(self, u: int, b: int) -> None:
        a = self.lab[u]
        self.journal.append((u, a))
        self.members[a].discard(u)
        self.members[b].add(u)
        self.lab[u] = b
        p = self.prob.popl[u]
        self.psum[a] -= p
        self.psum[b] += p
        if self.prob.forcedl[u]:
            self.nforced[a] -= 1
            self.nforced[b] += 1

    def undo(self) -> None:
        """Undo every label change since the journal was last cleared."""
        touched: set[int] = set()
        for u, a in reversed(self.journal):
            b = self.lab[u]
            self.members[b].discard(u)
            self.members[a].add(u)
            self.lab[u] = a
            p = self.prob.popl[u]
            self.psum[b] -= p
            self.psum[a] += p
            if self.prob.forcedl[u]:
                self.nforced[b] -= 1
                self.nforced[a] += 1
            touched.update((a, b))
        for d in sorted(touched):
            self.val[d] = self.prob.terms(self.members[d], self.dgroup[d])
        self.journal = []

    def _touching(self, dirty: set[int]) -> list[int]:
        """Units of the dirty districts and their neighbours, sorted."""
        out: set[int] = set()
        nbrs = self.nbl
        for d in dirty:
            ms = self.members[d]
            out |= ms
            for u in ms:
                out.update(nbrs[u])
        lab = self.lab
        return sorted(u for u in out if u in lab)

    # -- moves ---------------------------------------------------------------------------------------------
    def _try_move(self, u: int) -> tuple[int, int] | None:
        a = self.lab[u]
        ma = self.members[a]
        if self.groupl[u] >= 0 or len(ma) <= 1:
            return None
        lab = self.lab
        near = {lab.get(v, a) for v in self.nbl[u]}
        near.discard(a)
        if not near:
            return None
        prob, val, psum, members = self.prob, self.val, self.psum, self.members
        pu = prob.popl[u]
        va = val[a]
        # a move cannot be better when the size and residents' bounds alone (a lower bound on the violation)
        # already make the pair's violation worse: those targets are not evaluated (the same moves are taken)
        fu = prob.forcedl[u]
        nforced = self.nforced
        fa = prob.floor(len(ma) - 1, psum[a] - pu, nforced[a] - fu > 0)
        targets = [
            b
            for b in sorted(near)
            if not ((fa + prob.floor(len(members[b]) + 1, psum[b] + pu, nforced[b] + fu > 0)) - va[0])
            - val[b][0]
            > 1e-9
        ]
        if not targets:
            return None
        rest = ma - {u}
        if not is_connected(rest, self.nbl):
            return None
        ta = prob.terms(rest, self.dgroup[a])
        best: tuple[float, float, int, tuple[float, float, int]] | None = None
        for b in targets:
            tb = prob.terms(members[b] | {u}, self.dgroup[b])
            dv = ta[0] + tb[0] - va[0] - val[b][0]
            do = ta[1] + tb[1] - va[1] - val[b][1]
            if _better(dv, do) and (best is None or _better(dv - best[0], do - best[1])):
                best = (dv, do, b, tb)
        if best is None:
            return None
        b = best[2]
        self._set(u, b)
        val[a] = ta
        val[b] = best[3]
        return a, b

    def _try_swap(self, u: int) -> tuple[int, int] | None:
        a = self.lab[u]
        if self.groupl[u] >= 0:
            return None
        lab, nbrs, group, members = self.lab, self.nbl, self.groupl, self.members
        near = {lab.get(v, a) for v in nbrs[u]}
        near.discard(a)
        if not near:
            return None
        prob, val, psum = self.prob, self.val, self.psum
        ma = members[a]
        # units next to district a without u: the only ones that can join a and keep it connected
        near_a: set[int] = set().union(*[nbrs[y] for y in ma if y != u])
        rest_a = ma - {u}
        pu, va = prob.popl[u], val[a]
        # the sizes stay; the residents' bounds alone may already make the pair worse (see _try_move): floor
        # inlined, the same arithmetic
        exact, popl, hi_eps, lo_eps = prob.exact_pop, prob.popl, prob.hi_eps, prob.lo_eps
        hi, lo, hi_div, lo_div = prob.hi, prob.lo, prob.hi_div, prob.lo_div
        fa0 = prob.size_floor[len(ma)]
        qa0 = psum[a] - pu
        forcedl, nforced = prob.forcedl, self.nforced
        fu = forcedl[u]
        for b in sorted(near):
            mb, vb = members[b], val[b]
            fb0 = prob.size_floor[len(mb)]
            qb0 = psum[b] + pu
            for v in sorted(mb & near_a):
                if group[v] >= 0:
                    continue
                fa, fb = fa0, fb0
                if exact:
                    pv = popl[v]
                    qa, qb = qa0 + pv, qb0 - pv
                    fv = forcedl[v]
                    if qa > hi_eps:
                        fa += 1.0 if nforced[a] - fu + fv > 0 else 1.0 + (qa - hi) / hi_div
                    if qa < lo_eps:
                        fa += 1.0 + (lo - qa) / lo_div
                    if qb > hi_eps:
                        fb += 1.0 if nforced[b] - fv + fu > 0 else 1.0 + (qb - hi) / hi_div
                    if qb < lo_eps:
                        fb += 1.0 + (lo - qb) / lo_div
                if ((fa + fb) - va[0]) - vb[0] > 1e-9:
                    continue
                na = rest_a | {v}
                nb = (mb - {v}) | {u}
                ta = prob.terms(na, self.dgroup[a])
                tb = prob.terms(nb, self.dgroup[b])
                dv = ta[0] + tb[0] - va[0] - vb[0]
                do = ta[1] + tb[1] - va[1] - vb[1]
                if not _better(dv, do):
                    continue
                if not (is_connected(na, nbrs) and is_connected(nb, nbrs)):
                    continue
                self._set(u, b)
                self._set(v, a)
                val[a], val[b] = ta, tb
                return a, b
        return None

    def local_search(self, dirty: set[int] | None = None) -> set[int]:
        """Improving boundary moves, then swaps, to a local optimum of both neighbourhoods.

        Only units touching a district in ``dirty`` (default: every district) are tried; a change makes its
        two districts dirty. Stops at the fixed point (a count: every step strictly improves), after
        ``max_passes`` passes, or when the time cap is hit. Returns the districts it changed.
        """
        dirty = set(range(self.k)) if dirty is None else set(dirty)
        swap_dirty = set(dirty)
        changed: set[int] = set()
        for _ in range(self.max_passes):
            if self.cap.hit("district local search"):
                return changed
            new: set[int] = set()
            if dirty:
                for u in self.rng.permutation(self._touching(dirty)).tolist():
                    ch = self._try_move(u)
                    if ch is not None:
                        new.update(ch)
            if new:
                changed |= new
                dirty = new
                swap_dirty |= new
                continue
            if not swap_dirty:
                return changed
            for u in self.rng.permutation(self._touching(swap_dirty)).tolist():
                ch = self._try_swap(u)
                if ch is not None:
                    new.update(ch)
            if not new:
                return changed
            changed |= new
            dirty, swap_dirty = set(new), set(new)
        log.info("district local search: stopped after %d passes (safety count)", self.max_passes)
        return changed

    # -- merge and redraw ----------------------------------------------------------------------------------
    def _pairs(self, dirty: set[int]) -> list[tuple[int, int]]:
        """Pairs (a < b) of neighbouring districts with at least one of them in ``dirty``, sorted."""
        out: set[tuple[int, int]] = set()
        lab = self.lab
        for d in sorted(dirty):
            for u in self.members[d]:
                for v in self.nbl[u]:
                    e = lab.get(v, d)
                    if e != d:
                        out.add((min(d, e), max(d, e)))
        return sorted(out)

    def _try_recom(self, a: int, b: int, trees: int) -> bool:
        """Merge districts ``a`` and ``b`` and re-split the union into two connected districts: every cut of
        ``trees`` random spanning trees of the union is tried, and the best split by :meth:`_DistrictModel.terms`
        (violation, then objective: the search's own terms) replaces the pair when it is better. Locked groups
        stay whole, each on the side of its own district. Returns whether the pair changed."""
        prob = self.prob
        key = (frozenset(self.members[a]), frozenset(self.members[b]))
        # tried with these very districts before (an undone perturbation brings them back)
        if key in self.recom_failed:
            return False
        union = sorted(self.members[a] | self.members[b])
        m = len(union)
        loc = {u: i for i, u in enumerate(union)}
        rul: list[int] = []
        rvl: list[int] = []
        nbl = self.nbl
        for i, u in enumerate(union):
            for v in nbl[u]:
                # the union is sorted, so loc[v] > i exactly when v > u: one look-up per edge, not two
                if v > u and v in loc:
                    rul.append(i)
                    rvl.append(loc[v])
        grp = [self.groupl[u] for u in union]
        ga, gb = self.dgroup[a], self.dgroup[b]
        locked = any(g >= 0 for g in grp)
        popl = prob.popl
        pl = [popl[u] for u in union]
        tot = sum(pl)
        cur_v = self.val[a][0] + self.val[b][0]
        cur_o = self.val[a][1] + self.val[b][1]
        whole = frozenset(union)
        # sizes within the bounds; with no violation to trade (cur_v 0) a side must be within both bounds
        ok_size = [prob.min_size <= c <= prob.max_size for c in range(m + 1)]
        lo, hi = prob.lo - EPS, prob.hi + EPS
        ok_pop = cur_v <= 1e-9
        # :meth:`_DistrictModel.breach` of a side, inlined (the same arithmetic): its size part per size, and
        # the residents' part from these bounds
        size_v = [float(max(0, prob.min_size - c) + max(0, c - prob.max_size)) for c in range(m + 1)]
        p_lo, p_hi = prob.lo, prob.hi
        # with a forced unit in the pair a side may count the break without its excess: the screen drops it
        forced = any(map(prob.forcedl.__getitem__, union))
        d_lo, d_hi = max(p_lo, 1.0), math.inf if forced else max(p_hi, 1.0)
        lim_v = cur_v + 1e-9
        seen: set[frozenset[int]] = set()
        Terms = tuple[float, float, int]
        best: tuple[float, float, frozenset[int], frozenset[int], Terms, Terms]
        best = (0.0, 0.0, whole, whole, self.val[a], self.val[b])
        found = False
        for _ in range(trees):
            tree = random_tree(m, rul, rvl, self.rng)
            if tree is None:  # the pair is no longer one piece (an earlier change in the pass)
                return False
            order, pred = tree
            sub, size = pl.copy(), [1] * m
            for i in order[:0:-1]:  # children before parents
                p = pred[i]
                sub[p] += sub[i]
                size[p] += size[i]
            for idx, i in enumerate(order):
                if not idx:
                    continue
                # the size and population breaches bound the violation from below: skip splits that cannot win
                # (screened by the sides' sizes first: most cuts of a tree leave a side too small or too big)
                si, pa = size[i], sub[i]
                if ok_pop:  # no violation to trade: both sides within every bound
                    if not (ok_size[si] and ok_size[m - si] and lo <= pa <= hi and lo <= tot - pa <= hi):
                        continue
                else:
                    pb = tot - pa
                    v1, v2 = size_v[si], size_v[m - si]
                    if pa > hi:
                        v1 += 1.0 + (pa - p_hi) / d_hi
                    if pa < lo:
                        v1 += 1.0 + (p_lo - pa) / d_lo
                    if pb > hi:
                        v2 += 1.0 + (pb - p_hi) / d_hi
                    if pb < lo:
                        v2 += 1.0 + (p_lo - pb) / d_lo
                    if v1 + v2 > lim_v:
                        continue
                side = frozenset(map(union.__getitem__, order[idx : idx + si]))
                rest = whole - side
                if side in seen or rest in seen:
                    continue
                seen.add(side)
                sa, sb = side, rest
                if locked:
                    g1 = {grp[loc[u]] for u in sa} - {-1}
                    g2 = {grp[loc[u]] for u in sb} - {-1}
                    if g1 <= {ga} and g2 <= {gb}:
                        pass
                    elif g1 <= {gb} and g2 <= {ga}:
                        sa, sb = sb, sa
                    else:
                        continue
                ta, tb = prob.terms(sa, ga), prob.terms(sb, gb)
                dv, do = ta[0] + tb[0] - cur_v, ta[1] + tb[1] - cur_o
                if _better(dv, do) and (not found or _better(dv - best[0], do - best[1])):
                    best = (dv, do, sa, sb, ta, tb)
                    found = True
        if not found:
            if len(self.recom_failed) >= 200_000:
                self.recom_failed.clear()
            self.recom_failed.add(key)
            return False
        _dv, _do, sa, sb, ta, tb = best
        for u in sorted(sa):
            if self.lab[u] != a:
                self._set(u, a)
        for u in sorted(sb):
            if self.lab[u] != b:
                self._set(u, b)
        self.val[a], self.val[b] = ta, tb
        return True

    def recombine(self, dirty: set[int] | None = None, trees: int = RECOM_TREES) -> set[int]:
        """One merge-and-redraw pass over the pairs of neighbouring districts touching ``dirty`` (default every
        district), in random order; returns the districts changed."""
        dirty = set(range(self.k)) if dirty is None else set(dirty)
        changed: set[int] = set()
        pairs = self._pairs(dirty)
        for i in self.rng.permutation(len(pairs)).tolist():
            if self.cap.hit("district recombination"):
                break
            a, b = pairs[i]
            if self._try_recom(a, b, trees):
                changed.update((a, b))
        return changed

    def improve(self, dirty: set[int] | None = None, passes: int = RECOM_PASSES) -> None:
        """Local search, then merge-and-redraw passes over the pairs that changed, each followed by local search
        around what it changed, until a pass changes nothing (or after ``passes`` passes: a count)."""
        ch = self.local_search(dirty)
        todo = set(range(self.k)) if dirty is None else set(dirty) | ch
        for _ in range(passes):
            ch = self.recombine(todo)
            if not ch:
                return
            todo = ch | self.local_search(ch)

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
        for u in self.rng.permutation(pool).tolist():
            if done >= moves:
                break
            a = self.lab[u]
            if self.groupl[u] >= 0 or len(self.members[a]) <= 1:
                continue
            targets = sorted({self.lab[v] for v in self.nbl[u] if v in self.lab} - {a})
            if not targets or not is_connected(self.members[a] - {u}, self.nbl):
                continue
            b = targets[int(self.rng.integers(len(targets)))]
            self._set(u, b)
            touched.update((a, b))
            done += 1
        for d in sorted(touched):
            self.val[d] = self.prob.terms(self.members[d], self.dgroup[d])
        return touched


def _seed_centers(
    prob: _DistrictModel,
    units: list[int],
    k: int,
    taken: list[int],
    rng: np.random.Generator,
    use_pmedian: bool,
    cap: TimeCap,
    split_units: int = DISTRICT_START_SPLIT,
    region_units: int = START_REGION_UNITS,
) -> list[int]:
    """k - len(taken) more centres among the candidate units: p-median (planner.engines.facility) or k-means++ by cost.

    A piece of more than ``split_units`` units gets its p-median start region by region (:func:`_split_start`).
    """
    need = k - len(taken)
    if need <= 0:
        return list(taken)
    taken_set = set(taken)
    cand = [u for u in units if prob.cand[u] and u not in taken_set] or [
        u for u in units if u not in taken_set
    ]
    if use_pmedian and not taken:
        if len(units) > split_units:
            got = _split_start(prob, units, need, rng, cap, region_units)
            if len(got) < need:  # regions too small for their share: k-means++ adds the rest
                got = _seed_centers(prob, units, k, got, rng, use_pmedian=False, cap=cap)
            return got
        return _pmedian_start(prob, units, cand, need, rng, cap)
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


def _pmedian_start(
    prob: _DistrictModel, units: list[int], cand: list[int], need: int, rng: np.random.Generator, cap: TimeCap
) -> list[int]:
    """``need`` p-median centres among ``cand`` for ``units``: a start only, a short VNS (counts, not clocks),
    no MIP; the district search does the rest."""
    sub = prob.cost[np.ix_(units, cand)]
    stall = min(max(20, need), 100)
    seed = int(rng.integers(1 << 30))
    w = np.ascontiguousarray(prob.w[units])
    # the district stage solves the same county several times (more districts, relaxed road graphs): the start
    # depends on the costs, residents, count and seed only, not on the graph, so a counted (uncut) start is kept
    # by the content of its inputs and given again, the same medians
    key = hashlib.sha1(np.ascontiguousarray(sub).tobytes() + w.tobytes() + repr((need, seed, stall)).encode())
    medians = _STARTS.get(key.digest())
    if medians is None:
        sol = pmedian(
            sub,
            need,
            weights=w,
            seed=seed,
            time_limit=max(cap.left(), 0.0),
            exact=False,
            max_stall=stall,
            max_rounds=5 * stall,
        )
        medians = np.asarray(sol.medians)
        if sol.stopped_by_time:
            cap.record("p-median start")
        else:
            if len(_STARTS) >= 256:
                _STARTS.clear()
            _STARTS[key.digest()] = medians
    return [cand[int(j)] for j in medians]


# counted p-median starts by the digest of their inputs (:func:`_pmedian_start`)
_STARTS: dict[bytes, np.ndarray] = {}


def known_starts() -> dict[bytes, np.ndarray]:
    """The counted p-median starts this process has made (digest of their inputs -> medians): a solve in
    another process given them (:func:`add_starts`) skips what this one has already computed, the same
    starts."""
    return dict(_STARTS)


def add_starts(starts: dict[bytes, np.ndarray]) -> None:
    """Starts made elsewhere (:func:`known_starts`), kept as if this process had made them."""
    for key, medians in starts.items():
        if len(_STARTS) >= 256:
            _STARTS.clear()
        _STARTS[key] = medians


def _regions(prob: _DistrictModel, units: list[int], n_regions: int, rounds: int = 6) -> np.ndarray:
    """Region (0..n_regions-1) of each of ``units``: medoid clustering by travel time, a counted number of
    rounds, no chance (farthest-point seeds from the unit of least total travel), so it is reproducible."""
    uarr = np.asarray(units, dtype=np.int64)
    cost = prob.cost[np.ix_(uarr, uarr)]
    seeds = [int(np.argmin(cost.sum(axis=0)))]
    d = cost[:, seeds[0]].copy()
    while len(seeds) < n_regions:
        i = int(np.argmax(d))
        seeds.append(i)
        d = np.minimum(d, cost[:, i])
    region = np.argmin(cost[:, seeds], axis=1)
    for _ in range(rounds):
        medoids = []
        for r in range(n_regions):
            mem = np.flatnonzero(region == r)
            if len(mem) == 0:
                medoids.append(seeds[r])
                continue
            medoids.append(int(mem[np.argmin(cost[np.ix_(mem, mem)].sum(axis=0))]))
        if medoids == seeds:
            break
        seeds = medoids
        region = np.argmin(cost[:, seeds], axis=1)
    return region


def _apportion(shares: np.ndarray, total: int, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Integers within low..high summing to ``total`` (when the bounds allow), near ``total * shares`` (largest
    remainder)."""
    quota = total * shares / max(float(shares.sum()), 1e-12)
    out = np.clip(np.floor(quota).astype(np.int64), low, high)
    for _ in range(4 * len(shares) + abs(total)):  # a count: each step moves one district
        gap = total - int(out.sum())
        if gap == 0:
            break
        rem = quota - out
        if gap > 0:
            ok = np.flatnonzero(out < high)
            if len(ok) == 0:
                break
            out[ok[int(np.argmax(rem[ok]))]] += 1
        else:
            ok = np.flatnonzero(out > low)
            if len(ok) == 0:
                break
            out[ok[int(np.argmin(rem[ok]))]] -= 1
    return out


def _split_start(
    prob: _DistrictModel,
    units: list[int],
    need: int,
    rng: np.random.Generator,
    cap: TimeCap,
    region_units: int,
) -> list[int]:
    """The p-median start of a large piece, region by region: regions of about ``region_units`` units by travel
    time (:func:`_regions`), each given the districts its villages and residents need under the size and
    population bounds (apportioned to sum to ``need``), each region's p-median solved on its own."""
    n_regions = max(2, min(need, round(len(units) / max(region_units, 1))))
    region = _regions(prob, units, n_regions)
    uarr = np.asarray(units, dtype=np.int64)
    shares, high = np.zeros(n_regions), np.zeros(n_regions, dtype=np.int64)
    for r in range(n_regions):
        mem = uarr[region == r]
        p = float(prob.pop[mem].sum())
        shares[r] = max(len(mem) / max(prob.max_size, 1), p / prob.hi if np.isfinite(prob.hi) else 0.0)
        high[r] = max(1, int(prob.cand[mem].sum()) or len(mem))
    counts = _apportion(shares, need, np.minimum(1, high), high)
    centres: list[int] = []
    for r in range(n_regions):
        mem = [int(u) for u in uarr[region == r]]
        if counts[r] == 0 or not mem:
            continue
        cand = [u for u in mem if prob.cand[u]] or mem
        centres.extend(_pmedian_start(prob, mem, cand, int(counts[r]), rng, cap))
    log.info(
        "district start: %d units split into %d regions (%d-%d units) for %d centres",
        len(units),
        n_regions,
        int(np.bincount(region).min()),
        int(np.bincount(region).max()),
        len(centres),
    )
    return centres


def _grow(prob: _DistrictModel, units: list[int], centers: list[int], group: np.ndarray) -> dict[int, int]:
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
