"""The contiguous districting model: ``k`` connected districts, each with one centre inside it.

Minimises residents' travel time to the centre (the p-median core) plus workload balance and compactness, under
size (units) and population bounds, optionally within townships. A multi-start location-allocation heuristic
(seeds from :func:`planner.engines.facility.pmedian`) with contiguity-preserving local search and
merge-and-redraw of neighbouring pairs (:mod:`.search`), then OR-Tools CP-SAT with flow contiguity on small components (:mod:`.exact`), warm-started
from the heuristic, which proves optimality where it pays.

The seam: :class:`DistrictingProblem` (validated on construction) -> :func:`solve` -> :class:`DistrictSolution`;
:func:`contiguous_districts` is the one-call form.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from planner.engines.districting.exact import _cpsat_travel
from planner.engines.districting.graph import (
    EPS,
    DistrictBreak,
    DistrictSolution,
    TimeCap,
    canonical,
    components,
    is_connected,
    neighbours,
)
from planner.engines.districting.search import (
    _better,
    _DistrictModel,
    _grow,
    _Search,
    _seed_centers,
    add_starts,
)
from planner.errors import ValidationError
from planner.settings import DISTRICT_START_SPLIT

log = logging.getLogger(__name__)

# Components up to this many units go to CP-SAT after the heuristic (flow contiguity grows as k * edges).
# Measured (2 shared cores): with the default balance and compactness terms CP-SAT proves 15-unit components
# optimal within 0.1 deterministic seconds but proves no 20-25-unit one within 3 (7-11 s of wall time), and on
# 30 units it did not improve the heuristic's plan; so the exact model runs where it can prove.
EXACT_MAX_UNITS = 16


@dataclass(frozen=True, eq=False)
class DistrictingProblem:
    """A contiguous districting instance, validated and normalised on construction.

    Attributes
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
        Units per district (R1); default 1 and n.
    pop_lower, pop_upper
        Residents per district (R2); default 0 and unbounded.
    township
        Township label per unit: districts never cross a township border.
    candidates
        Bool mask or index array of units that may hold a centre (default every unit).
    locked
        Int array (n,): -1 free, else a group id; units of one group stay in one district together and
        different groups in different districts. ``locked_centers`` maps a group id to its fixed centre unit.
    weights
        Residents counted in the travel term (default ``population``).
    balance_weight, compactness_weight, balance_tolerance
        Objective = sum over districts of [sum_i w_i cost(i, centre) + compactness_weight * (P/k) * radius
        + balance_weight * c_mean * max(|pop_d - P/k| - balance_tolerance * P/k, 0)], where radius is the largest
        cost to the centre in the district and c_mean is the residents' mean cost to their (n/k)-th nearest unit (a
        typical trip to an office), so one resident off balance costs about one trip; a district within
        ``balance_tolerance`` (a share of the mean) either side of the mean pays no balance.
    max_cost, max_cost_hard
        With ``max_cost`` soft, sum_i w_i * max(cost(i, centre) - max_cost, 0) is added to the objective (each
        resident-minute beyond the limit counts twice, for the residents actually beyond it); with it hard, the
        excess is a break.

    After construction, ``neighbours`` holds each unit's neighbours (township borders cut), ``candidate_mask``
    and ``group`` the candidates and locked groups as arrays, and ``unit_cost`` the c_mean above.

    Raises
    ------
    ValidationError
        Shapes that do not match, a cost that is not finite, or ``k`` outside 1..n.
    """

    adjacency: Any
    population: Any
    cost: Any
    k: int
    min_size: int | None = None
    max_size: int | None = None
    pop_lower: float | None = None
    pop_upper: float | None = None
    township: Any = None
    candidates: Any = None
    locked: Any = None
    locked_centers: dict[int, int] | None = None
    weights: Any = None
    # the engine's own defaults (the district stage always passes the rules' weights)
    balance_weight: float = 1.0
    compactness_weight: float = 0.1
    max_cost: float | None = None
    max_cost_hard: bool = False
    balance_tolerance: float = 0.0
    neighbours: list[np.ndarray] = field(init=False, repr=False)
    candidate_mask: np.ndarray = field(init=False, repr=False)
    group: np.ndarray = field(init=False, repr=False)
    unit_cost: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        pop = np.asarray(self.population, dtype=float)
        n = len(pop)
        cost = np.asarray(self.cost, dtype=float)
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
        k = self.k
        if k < 1 or k > n:
            raise ValidationError(f"k = {k} districts for {n} units", zh=f"{n} 个单元划分 k = {k} 个警务区")
        nbrs = neighbours(self.adjacency, n)
        if self.township is not None:
            tw = np.asarray(self.township)
            nbrs = [nb[tw[nb] == tw[i]] for i, nb in enumerate(nbrs)]
        cand = np.ones(n, dtype=bool)
        if self.candidates is not None:
            cc = np.asarray(self.candidates)
            if cc.dtype == bool:
                cand = cc.copy()
            else:
                cand = np.zeros(n, dtype=bool)
                cand[cc.astype(int)] = True
        locked = self.locked
        group = (
            np.full(n, -1, dtype=np.int64) if locked is None else np.asarray(locked, dtype=np.int64).copy()
        )
        w = pop.copy() if self.weights is None else np.asarray(self.weights, dtype=float)
        wsum = float(w.sum()) or 1.0
        # mean resident trip in a k-median-like sense: residents' mean cost to their k-th nearest unit
        kth = min(n - 1, max(1, n // max(k, 1)))
        unit_cost = float((w @ np.partition(cost, kth, axis=1)[:, kth]) / wsum) or 1.0
        for name, value in (
            ("population", pop),
            ("cost", cost),
            ("weights", w),
            ("neighbours", nbrs),
            ("candidate_mask", cand),
            ("group", group),
            ("unit_cost", unit_cost),
        ):
            object.__setattr__(self, name, value)

    @property
    def n(self) -> int:
        """Number of units."""
        return len(self.population)

    @property
    def size_bounds(self) -> tuple[int, int]:
        """(fewest, most) units per district."""
        mn = int(self.min_size) if self.min_size is not None else 1
        mx = int(self.max_size) if self.max_size is not None else self.n
        return mn, mx

    @property
    def pop_bounds(self) -> tuple[float, float]:
        """(fewest, most) residents per district."""
        lo = float(self.pop_lower) if self.pop_lower is not None else 0.0
        hi = float(self.pop_upper) if self.pop_upper is not None else math.inf
        return lo, hi

    def model(self, target: float) -> _DistrictModel:
        """The search's model of this problem; only the balance target differs between a component and the whole."""
        mn, mx = self.size_bounds
        lo, hi = self.pop_bounds
        return _DistrictModel(
            self.neighbours,
            self.population,
            self.weights,
            self.cost,
            self.candidate_mask,
            mn,
            mx,
            lo,
            hi,
            self.max_cost,
            self.max_cost_hard,
            self.balance_weight,
            self.compactness_weight,
            target,
            self.unit_cost,
            dict(self.locked_centers or {}),
            balance_tolerance=self.balance_tolerance,
        )


def solve(
    problem: DistrictingProblem,
    *,
    seed: int = 0,
    time_limit: float = 60.0,
    exact: bool = True,
    rounds: int | None = None,
    exact_work: float | None = None,
    exact_max_units: int = EXACT_MAX_UNITS,
    start_split: int = DISTRICT_START_SPLIT,
) -> DistrictSolution:
    """Partition the units of a graph into ``problem.k`` contiguous districts, each with one centre inside it.

    Parameters
    ----------
    problem
        The validated instance.
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
    start_split
        A component of more than this many units gets its p-median start region by region
        (default ``planner.settings.DISTRICT_START_SPLIT``); the search after it is joint.

    Returns
    -------
    DistrictSolution
    """
    t0 = time.monotonic()
    cap = TimeCap(time_limit, "contiguous_districts")
    comps, alloc, breaks = _pieces(problem)
    labels = np.full(problem.n, -1, dtype=np.int64)
    centers: list[int] = []
    all_optimal = True
    rng = np.random.default_rng(seed)
    pop = problem.population
    for comp, kc in zip(comps, alloc, strict=True):
        lab, cents, optimal = _solve_component(
            problem.model(float(pop[comp].sum()) / kc),
            comp,
            kc,
            problem.group,
            rng,
            cap,
            exact=exact and len(comp) <= exact_max_units,
            seed=seed,
            rounds=rounds,
            exact_work=exact_work,
            start_split=start_split,
        )
        all_optimal &= optimal
        base = len(centers)
        for u, d in lab.items():
            labels[u] = base + d
        centers.extend(cents)
    labels, centers = _drop_empty(labels, centers, breaks)
    labels, centers = canonical(labels, centers)
    objective, plan_breaks = _final_figures(problem, labels, centers)
    breaks.extend(plan_breaks)
    seconds = time.monotonic() - t0
    log.info(
        "contiguous_districts: n=%d k=%d objective=%.1f breaks=%d optimal=%s stopped_by_time=%s %.1fs",
        problem.n,
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


def solve_elsewhere(
    problem: DistrictingProblem,
    starts: dict[bytes, np.ndarray],
    *,
    seed: int = 0,
    time_limit: float = 60.0,
) -> DistrictSolution:
    """:func:`solve` as a task in another process (an executor's worker), given the starts the calling
    process has made (:func:`planner.engines.districting.search.known_starts`): the same solution as
    :func:`solve` there."""
    add_starts(starts)
    return solve(problem, seed=seed, time_limit=time_limit)


def _drop_empty(
    labels: np.ndarray, centers: list[int], breaks: list[DistrictBreak]
) -> tuple[np.ndarray, list[int]]:
    """Districts the search left empty (locked groups can crowd a piece) are dropped and listed as a "k" break,
    so that a plan is whole and numbered whatever the locks (issue 17: the canonical numbering crashed)."""
    sizes = np.bincount(labels[labels >= 0], minlength=len(centers))
    if (sizes > 0).all():
        return labels, centers
    keep = np.flatnonzero(sizes > 0)
    remap = np.full(len(centers), -1, dtype=np.int64)
    remap[keep] = np.arange(len(keep))
    log.warning("contiguous_districts: %d district(s) left empty, dropped", len(centers) - len(keep))
    breaks.append(
        DistrictBreak(
            "k",
            None,
            f"{len(centers) - len(keep)} of {len(centers)} districts could not be given any unit (locked groups "
            f"and sizes); the plan has {len(keep)}",
            f"{len(centers)} 个警务区中有 {len(centers) - len(keep)} 个分不到任何单元 (锁定组与规模所致); "
            f"方案共 {len(keep)} 个",
            value=float(len(keep)),
            low=float(len(centers)),
            high=float(len(centers)),
        )
    )
    return np.where(labels >= 0, remap[np.maximum(labels, 0)], -1), [centers[d] for d in keep]


def _pieces(problem: DistrictingProblem) -> tuple[list[list[int]], list[int], list[DistrictBreak]]:
    """(connected pieces of the graph, districts for each, the "k" break when they need another number)."""
    group = problem.group
    comps = components(problem.neighbours, range(problem.n))
    n_groups = [len({int(group[u]) for u in c if group[u] >= 0}) for c in comps]
    mn, mx = problem.size_bounds
    lo, hi = problem.pop_bounds
    alloc = _allocate_k(comps, problem.population, problem.k, mn, mx, lo, hi, n_groups)
    breaks: list[DistrictBreak] = []
    if sum(alloc) != problem.k:
        breaks.append(
            DistrictBreak(
                "k",
                None,
                f"the graph falls into {len(comps)} parts that need {sum(alloc)} districts, not {problem.k}",
                f"图分为 {len(comps)} 个互不相连的部分, 需要 {sum(alloc)} 个警务区, 而不是 {problem.k} 个",
                value=float(sum(alloc)),
                low=float(problem.k),
                high=float(problem.k),
            )
        )
    return comps, alloc, breaks


def _final_figures(
    problem: DistrictingProblem, labels: np.ndarray, centers: list[int]
) -> tuple[float, list[DistrictBreak]]:
    """The plan's objective (balance measured against the whole's mean) and the bounds each district breaks."""
    objective = 0.0
    breaks: list[DistrictBreak] = []
    final_model = problem.model(float(problem.population.sum()) / len(centers))
    group = problem.group
    for d, cu in enumerate(centers):
        mem = np.flatnonzero(labels == d)
        g = {int(group[u]) for u in mem if group[u] >= 0}
        _viol, obj, _best_c = final_model.terms(mem.tolist(), next(iter(g)) if len(g) == 1 else -1)
        objective += obj
        breaks.extend(_district_breaks(problem, d, mem, cu))
    return objective, breaks


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
    balance_weight: float = 1.0,
    compactness_weight: float = 0.1,
    max_cost: float | None = None,
    max_cost_hard: bool = False,
    balance_tolerance: float = 0.0,
    seed: int = 0,
    time_limit: float = 60.0,
    exact: bool = True,
    rounds: int | None = None,
    exact_work: float | None = None,
    exact_max_units: int = EXACT_MAX_UNITS,
    start_split: int = DISTRICT_START_SPLIT,
) -> DistrictSolution:
    """Partition the units of a graph into ``k`` contiguous districts, each with one centre inside it.

    The one-call form of ``solve(DistrictingProblem(...), seed=, time_limit=, ...)``: the data are
    :class:`DistrictingProblem`'s fields, the options :func:`solve`'s.
    """
    problem = DistrictingProblem(
        adjacency,
        population,
        cost,
        k,
        min_size=min_size,
        max_size=max_size,
        pop_lower=pop_lower,
        pop_upper=pop_upper,
        township=township,
        candidates=candidates,
        locked=locked,
        locked_centers=locked_centers,
        weights=weights,
        balance_weight=balance_weight,
        compactness_weight=compactness_weight,
        max_cost=max_cost,
        max_cost_hard=max_cost_hard,
        balance_tolerance=balance_tolerance,
    )
    return solve(
        problem,
        seed=seed,
        time_limit=time_limit,
        exact=exact,
        rounds=rounds,
        exact_work=exact_work,
        exact_max_units=exact_max_units,
        start_split=start_split,
    )


def _district_breaks(
    problem: DistrictingProblem, d: int, mem: np.ndarray, center: int
) -> list[DistrictBreak]:
    """The bounds district ``d`` (units ``mem``, centre ``center``) breaks."""
    mn, mx = problem.size_bounds
    lo, hi = problem.pop_bounds
    out = []
    if len(mem) < mn or len(mem) > mx:
        out.append(
            DistrictBreak(
                "size",
                d,
                f"{len(mem)} units, outside {mn}..{mx}",
                f"{len(mem)} 个单元, 不在 {mn}..{mx} 内",
                value=float(len(mem)),
                low=float(mn),
                high=float(mx),
            )
        )
    p = float(problem.population[mem].sum())
    if p > hi + EPS or p < lo - EPS:
        out.append(
            DistrictBreak(
                "population",
                d,
                f"{p:.0f} residents, outside {lo:.0f}..{hi:.0f}",
                f"{p:.0f} 人, 不在 {lo:.0f}..{hi:.0f} 内",
                value=p,
                low=lo,
                high=hi,
            )
        )
    if not problem.candidate_mask[center]:
        out.append(
            DistrictBreak(
                "candidates",
                d,
                f"no candidate office site; centre at unit {center}",
                f"无候选警务室地点; 中心设在单元 {center}",
                unit=int(center),
            )
        )
    if not is_connected(mem.tolist(), problem.neighbours):
        out.append(DistrictBreak("contiguity", d, "not connected", "不连通"))
    max_cost = problem.max_cost
    if max_cost is not None and problem.max_cost_hard:
        far = mem[problem.cost[mem, center] > max_cost + EPS]
        if len(far):
            out.append(
                DistrictBreak(
                    "travel",
                    d,
                    f"{len(far)} units beyond {max_cost:g} from the centre",
                    f"{len(far)} 个单元距中心超过 {max_cost:g}",
                    unit=int(center),
                    value=float(len(far)),
                    high=float(max_cost),
                )
            )
    return out


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


def _solve_component(
    prob: _DistrictModel,
    comp: list[int],
    k: int,
    group: np.ndarray,
    rng: np.random.Generator,
    cap: TimeCap,
    *,
    exact: bool,
    seed: int,
    rounds: int | None,
    exact_work: float | None,
    start_split: int = DISTRICT_START_SPLIT,
) -> tuple[dict[int, int], list[int], bool]:
    """Multi-start location-allocation, iterated local search with merge-and-redraw (:meth:`_Search.improve`),
    CP-SAT on small components; all by counts."""
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
    # a piece above start_split has one start, the split p-median one: a second full local search from a
    # k-means++ start costs as much as the rest of the start and rarely wins at that size
    starts = 4 if len(comp) < 400 else 2 if len(comp) <= start_split else 1
    for s in range(starts):
        if best is not None and cap.hit("district starts"):
            break
        cents = _seed_centers(
            prob, comp, min(k, len(comp)), taken, rng, use_pmedian=(s == 0), cap=cap, split_units=start_split
        )
        search.load(_grow(prob, comp, cents, group))
        search.improve()
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
        search.improve(touched)
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
