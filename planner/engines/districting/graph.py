"""What the districting models share: the neighbour graph, its pieces, the time cap and the result types.

Unit indices are positions in the input arrays. The result carries typed :class:`DistrictBreak` records (rule,
district, unit, numbers, English and Chinese text): the engine knows nothing of villages, and the district
stage turns the breaks into the domain's violations.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from planner.errors import ValidationError

log = logging.getLogger(__name__)

EPS = 1e-9  # tolerance of the population and travel bounds


@dataclass(frozen=True)
class DistrictBreak:
    """A bound that a districting plan breaks, in the engine's own terms.

    Attributes
    ----------
    rule
        "k" (the graph's pieces need another number of districts), "size", "population", "candidates",
        "contiguity" or "travel".
    district
        The district index (0..k-1) it concerns; None for the whole plan.
    unit
        The unit it names (the centre, for "candidates"); None otherwise.
    value, low, high
        The figure that breaks the bound and the bound's range, where there are numbers.
    detail, detail_zh
        What breaks, in English and Chinese (the words summary.json and the report show).
    """

    rule: str
    district: int | None
    detail: str
    detail_zh: str
    unit: int | None = None
    value: float | None = None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True, eq=False)
class DistrictSolution:
    """Result of a districting model (unit indices are positions in the input arrays).

    Attributes
    ----------
    labels
        District index (0..k-1) per unit.
    centers
        The centre (office) unit of each district; always a member of its district.
    objective
        The model's objective: travel + balance + compactness (+ soft travel-limit excess) for
        :func:`contiguous_districts`, cut edges for :func:`min_cut_districts`.
    breaks
        Bounds the plan breaks; empty when every bound holds.
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
    breaks: tuple[DistrictBreak, ...]
    proven_optimal: bool
    seconds: float
    stopped_by_time: bool = False

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary: districts, objective, optimality, breaks, seconds."""
        return {
            "districts": len(self.centers),
            "centers": [int(c) for c in self.centers],
            "objective": float(self.objective),
            "proven_optimal": bool(self.proven_optimal),
            "breaks": [
                {"rule": b.rule, "district": b.district, "unit": b.unit, "detail": b.detail}
                for b in self.breaks
            ],
            "seconds": round(float(self.seconds), 3),
            "stopped_by_time": bool(self.stopped_by_time),
        }


class TimeCap:
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


def neighbours(adjacency: Any, n: int) -> list[np.ndarray]:
    """Sorted neighbour units of every unit of a symmetrised (n, n) adjacency matrix, without self-loops."""
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


def is_connected(members: set[int] | Sequence[int], nbrs: Sequence[Sequence[int]] | list[np.ndarray]) -> bool:
    """The members form one piece of the neighbour graph (an empty or single member set does)."""
    # one search from any member, striking off the members it reaches and stopping when none is left: the
    # searches ask this millions of times, and the pieces themselves (components) are not needed for the answer
    left = set(members)
    if len(left) <= 1:
        return True
    stack = [left.pop()]
    pop, push, strike = stack.pop, stack.append, left.discard
    while stack:
        for v in nbrs[pop()]:
            if v in left:
                strike(v)
                if not left:
                    return True
                push(v)
    return not left


def components(nbrs: Sequence[Sequence[int]] | list[np.ndarray], units: Sequence[int]) -> list[list[int]]:
    """The connected pieces of ``units`` in the neighbour graph, each sorted, in order of their smallest unit."""
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


def canonical(labels: np.ndarray, centers: list[int]) -> tuple[np.ndarray, list[int]]:
    """Number districts by their smallest unit, so equal plans have equal labels."""
    k = len(centers)
    first = [int(np.flatnonzero(labels == d).min()) for d in range(k)]
    order = sorted(range(k), key=lambda d: first[d])
    remap = np.empty(k, dtype=np.int64)
    remap[order] = np.arange(k)
    return remap[labels], [centers[d] for d in order]


def edge_arrays(nbrs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Each undirected edge once, as (u, v) with u < v."""
    eu = np.concatenate(
        [np.full(len(nb), u, dtype=np.int64) for u, nb in enumerate(nbrs)] or [np.zeros(0, int)]
    )
    ev = np.concatenate(list(nbrs) or [np.zeros(0, int)]).astype(np.int64)
    keep = eu < ev
    return eu[keep], ev[keep]


def random_tree(
    m: int, rul: list[int], rvl: list[int], rng: np.random.Generator
) -> tuple[list[int], list[int]] | None:
    """A random spanning tree of the graph on local units 0..m-1 with edges (rul[e], rvl[e]), from a random root.

    The minimum spanning tree under random edge weights (Kruskal over a random edge order). Returns (depth-first
    preorder, whose every subtree is a contiguous slice; parent of each unit, -1 at the root), or None when the
    units are not connected. Shared by the min-cut recombination and the travel search's merge-and-redraw move.
    """
    # plain Python lists: on graphs of tens to hundreds of units, scipy's per-call overhead dominates; the
    # search draws about a million of these, so the loops below keep their lookups few (same edges, same order)
    uf = list(range(m))
    tadj: list[list[int]] = [[] for _ in range(m)]
    need = m - 1
    for e in rng.permutation(len(rul)).tolist():
        x = ra = rul[e]
        y = rb = rvl[e]
        while uf[ra] != ra:  # path halving
            uf[ra] = ra = uf[uf[ra]]
        while uf[rb] != rb:
            uf[rb] = rb = uf[uf[rb]]
        if ra != rb:
            uf[ra] = rb
            tadj[x].append(y)
            tadj[y].append(x)
            need -= 1
            if not need:
                break
    if need > 0:
        return None
    root = int(rng.integers(m))
    predl = [-1] * m
    orderl: list[int] = []
    stack = [root]
    pop, visit, push = stack.pop, orderl.append, stack.append
    while stack:  # depth-first preorder: every subtree is a contiguous slice
        u = pop()
        visit(u)
        pu = predl[u]
        for v in tadj[u]:
            if v != pu:
                predl[v] = u
                push(v)
    return orderl, predl
