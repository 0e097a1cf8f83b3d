"""The district stage: villages and travel times in, contiguous districts under R1/R2 out (:func:`plan_districts`).

The partition itself is the engine :func:`planner.engines.districting.contiguous_districts` (arrays in, arrays
out); this module turns the bureau's villages and rules into its arrays and its result back into a
:class:`DistrictPartition`. The office stage (:func:`planner.offices.place_offices`) then places each district's
office and completes the :class:`DistrictPlan` that the rest of the planner reads.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.districts.adjacency import _anchor_points, _bridge, village_adjacency
from planner.districts.candidates import Candidates, avoidable, best_count
from planner.districts.check import check_districts, heavy_neighbourhoods, heavy_villages
from planner.districts.compare import PlanComparison, compare_current
from planner.districts.roads import C5Roads, line_outside_share, road_adjacency, route_outside_share
from planner.districts.route_polish import RoutePolish, polish_routes
from planner.engines.districting import DistrictingProblem, DistrictSolution
from planner.engines.districting.certificate import (
    EXACT_NODES,
    EXACT_ROUNDS,
    Certificate,
    certify,
    plan_objective,
    solution_of,
)
from planner.engines.districting.graph import components, neighbours
from planner.engines.districting.travel import (
    DEFAULT_CAP_S,
    TravelCertificate,
    certify_travel,
    off_balance,
    resident_minutes,
)
from planner.engines.districting.travel import spread as _spread
from planner.errors import ValidationError
from planner.model import Violation
from planner.rules import DistrictRules, Rules
from planner.settings import DISTRICT_SCREEN_UNITS

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class DistrictPlan:
    """Districts, offices and the rules they break (docs/ARCHITECTURE.md, "District plan").

    ``proven_optimal``: CP-SAT proved the districts optimal for the objective; ``stopped_by_time``: the
    ``time_limit`` safety cap cut the district search short (the plan may then differ between runs);
    ``seconds``: wall time of the district and office stages. :meth:`summary` carries all three. Made by the
    office stage (:func:`planner.offices.place_offices`) from a :class:`DistrictPartition`.
    """

    villages: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    offices: gpd.GeoDataFrame
    violations: list[Violation]
    comparison: PlanComparison | None = None
    proven_optimal: bool = False
    seconds: float = 0.0
    stopped_by_time: bool = False
    offices_explained: list[dict[str, Any]] = field(default_factory=list)
    certificate: Certificate | None = None
    travel: dict[str, Any] = field(default_factory=dict)

    #: The keys of :meth:`summary` that hold exactly summary.json's district figures (an edited plan's are
    #: recomputed under the same keys)
    FIGURES: ClassVar[tuple[str, ...]] = (
        "villages",
        "population",
        "districts",
        "offices",
        "officers",
        "max_travel_min",
        "mean_travel_min",
        "district_villages",
        "district_population",
    )

    def summary(self) -> dict[str, Any]:
        """The district figures of summary.json, with its keys, definitions and rounding.

        ``mean_travel_min`` is the residents' mean (population-weighted) travel to their office, as summary.json
        gives it; ``max_travel_min`` the longest; both rounded to 2 decimals, ``cv`` to 4. The keys ``villages``,
        ``population``, ``districts``, ``offices``, ``officers``, ``max_travel_min``, ``mean_travel_min``,
        ``district_villages`` and ``district_population`` hold exactly summary.json's values;
        ``unreachable_villages`` (sorted), ``violations`` and the solver flags are this stage's share of it.
        """
        d = self.districts
        pop_d = d["population"].to_numpy(dtype=float)
        pop = self.villages["population"].to_numpy(dtype=float)
        travel = self.villages["travel_min_to_office"].to_numpy(dtype=float)
        finite = np.isfinite(travel)
        weighted = finite.any() and pop[finite].sum() > 0
        cv = float(pop_d.std() / pop_d.mean()) if len(pop_d) and pop_d.mean() > 0 else 0.0
        return {
            "villages": len(self.villages),
            "population": int(pop.sum()),
            "districts": len(d),
            "offices": len(self.offices),
            "officers": int(d["officers"].sum()),
            "max_travel_min": round(float(travel[finite].max()), 2) if finite.any() else None,
            "mean_travel_min": round(float(np.average(travel[finite], weights=pop[finite])), 2)
            if weighted
            else None,
            "district_villages": {"min": int(d["n_villages"].min()), "max": int(d["n_villages"].max())},
            "district_population": {"min": int(pop_d.min()), "max": int(pop_d.max()), "cv": round(cv, 4)},
            "unreachable_villages": sorted(
                str(v) for v in self.villages.index[self.villages["access"] == "unreachable"]
            ),
            "violations": [v.to_dict() for v in self.violations],
            "proven_optimal": self.proven_optimal,
            "stopped_by_time": self.stopped_by_time,
            "offices_explained": self.offices_explained,
            **_certificate_figures(self.certificate),
            **self.travel,
        }


def _certificate_figures(cert: Certificate | None) -> dict[str, Any]:
    """summary.json's certificate of the districts (docs/DOMAIN.md, "How good the districts are")."""
    if cert is None:
        return {"objective": None, "lower_bound": None, "gap_pct": None}
    return cert.summary()


@dataclass(frozen=True, eq=False)
class DistrictPartition:
    """The district stage's result: which district each village is in, before the office stage places offices.

    Attributes
    ----------
    villages
        The input villages plus ``district_id``.
    labels
        District index (0..k-1) of every village, in the order of ``villages``.
    centers
        The engine's centre (a position in ``villages``) of each district: the village of least
        resident-minutes to the rest of the district, under the travel, compactness and balance terms.
    minutes
        (n, n) drive minutes between the villages (``inf`` where no road).
    anchors
        (n, 2) metric xy of each village's anchor point (the office's point when it holds one).
    adjacency
        The neighbour matrix the districts are contiguous in (small pieces bridged).
    access
        The access table in the order of ``villages`` (access, reason).
    times
        The travel times the plan was drawn on (the checks re-read them).
    candidates
        Village ids that may hold an office (None: every village); ``candidate_mask`` the same as a mask.
    current
        The districts in force today (village_id -> district_id), when given.
    violations
        What the numbers rule out before solving (a village too heavy for R2, a piece too small for R1).
    proven_optimal, stopped_by_time, seconds
        As in :class:`DistrictPlan`, for the district search.
    certificate
        The plan's objective, a lower bound on every plan's and the gap (the exact mode's when it ran).
    travel_certificate
        A lower bound on the resident-minutes of every plan under the hard rules (the travel alone).
    problem
        The engine's instance the certificate is for (the final graph and number of districts).
    roads
        :class:`planner.districts.roads.C5Roads` when the plan was drawn on a road network: C5's notes name the
        road a route takes through another district.
    route_polish
        :class:`planner.districts.route_polish.RoutePolish`: the moves that kept the offices' routes inside
        their districts, and what they cost (None when the pass did not run).
    """

    villages: gpd.GeoDataFrame
    labels: np.ndarray
    centers: tuple[int, ...]
    minutes: np.ndarray
    anchors: np.ndarray
    adjacency: sp.csr_matrix
    access: pd.DataFrame
    times: Any
    candidates: list[str] | None
    candidate_mask: np.ndarray | None
    current: pd.Series | None
    violations: list[Violation]
    proven_optimal: bool
    stopped_by_time: bool
    seconds: float
    limit_min: tuple[float, bool] | None = None
    certificate: Certificate | None = None
    problem: DistrictingProblem | None = None
    travel_certificate: TravelCertificate | None = None
    roads: Any = None
    route_polish: RoutePolish | None = None

    @property
    def population(self) -> np.ndarray:
        """Residents of every village, in the order of ``villages``."""
        return self.villages["population"].to_numpy(dtype=float)


def _village_cost(villages: gpd.GeoDataFrame, times: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(minutes village -> office with unreachable pairs filled, raw minutes, anchor xy)."""
    ids = villages.index
    if not (times.origins.isin(ids).all() or set(ids) <= set(times.origins)):
        raise ValidationError("the travel-time matrix lacks some villages", zh="行程时间矩阵缺少部分村")
    have_o, have_d = set(times.origins), set(times.destinations)
    missing = [v for v in ids if v not in have_o or v not in have_d]
    if missing:
        raise ValidationError(
            f"villages {missing[:10]} are not in the travel-time matrix; recompute it",
            zh=f"村 {missing[:10]} 不在行程时间矩阵中; 请重新计算",
        )
    raw = times.subset(ids, ids).seconds / 60.0
    pts = np.array([[p.x, p.y] for p in _anchor_points(villages)])
    # unreachable pairs: straight line at walking pace (4 km/h) times 1.5 for the terrain, so such villages go
    # to the nearest district by straight line and are flagged
    cost = raw.copy()
    bad_r, bad_c = np.nonzero(~np.isfinite(raw))
    if len(bad_r):
        straight = np.hypot(*(pts[bad_r] - pts[bad_c]).T)
        cost[bad_r, bad_c] = straight / 1000.0 / 4.0 * 60.0 * 1.5
    np.fill_diagonal(cost, 0.0)
    return cost, raw, pts


def _district_counts(n: int, pop: float, r: DistrictRules) -> tuple[int, int]:
    """(fewest, most) districts the rules allow for n villages with pop residents."""
    low, high = 1, n
    if r.uses_villages:
        low = max(low, math.ceil(n / r.max_villages))
        high = min(high, n // r.min_villages)
    if r.uses_population:
        officers = math.ceil(pop / r.residents_per_officer)
        low = max(
            low,
            math.ceil(officers / r.max_officers),
            math.ceil(pop / (r.max_officers * r.residents_per_officer)),
        )
    return low, high


def _access_table(access: pd.DataFrame, ids: pd.Index) -> pd.DataFrame:
    """The access table in the villages' order; every village must be in it."""
    acc = access.reindex(ids)
    if acc["access"].isna().any():
        miss = ids[acc["access"].isna()].tolist()[:10]
        raise ValidationError(f"access lacks villages {miss}", zh=f"可达性表缺少村 {miss}")
    return acc


def _district_range(
    adj: sp.csr_matrix, ids: pd.Index, pop: np.ndarray, township: np.ndarray | None, r: DistrictRules
) -> tuple[int, int, list[Violation]]:
    """(fewest, most) districts over the map's pieces, and the R1 break of every piece too small for R1."""
    n = len(ids)
    nb = [adj.indices[adj.indptr[i] : adj.indptr[i + 1]] for i in range(n)]
    if township is not None:
        nb = [x[township[x] == township[i]] for i, x in enumerate(nb)]
    k_low = k_high = 0
    out: list[Violation] = []
    for comp in components(nb, range(n)):
        lo_c, hi_c = _district_counts(len(comp), float(pop[comp].sum()), r)
        k_low += lo_c
        k_high += max(lo_c, hi_c)
        if lo_c > hi_c and r.uses_villages:
            names = [str(ids[u]) for u in comp[:10]]
            where = f"township {township[comp[0]]}" if township is not None else "a separate piece of the map"
            where_zh = f"乡镇 {township[comp[0]]}" if township is not None else "地图上一块独立区域"
            out.append(
                Violation(
                    "R1",
                    where,
                    f"{where} has {len(comp)} villages ({', '.join(names)}): cannot make districts of "
                    f"{r.min_villages}-{r.max_villages} villages"
                    + (" within_township" if township is not None else ""),
                    f"{where_zh} 只有 {len(comp)} 个村 ({', '.join(names)}): 无法组成 {r.min_villages}-{r.max_villages} "
                    "个村的警务区" + (" (不跨乡镇)" if township is not None else ""),
                    kind="township" if township is not None else "piece",
                )
            )
    return k_low, k_high, out


def _locked_groups(
    ids: pd.Index, locked: Sequence[str] | None, current: pd.Series | None
) -> np.ndarray | None:
    """Group id per village (-1 free): locked villages of one current district form one group."""
    if not locked:
        return None
    if current is None:
        raise ValidationError(
            "locked villages need the current districts (--current)",
            zh="锁定村需要现行警务区 (--current)",
        )
    cur = current.reindex(ids)
    lk = ids.isin(list(locked))
    codes = {d: i for i, d in enumerate(sorted({str(cur.iloc[i]) for i in np.flatnonzero(lk)}))}
    return np.array([codes[str(cur.iloc[i])] if lk[i] else -1 for i in range(len(ids))], dtype=np.int64)


def _lock_notes(
    group: np.ndarray,
    labels: np.ndarray,
    did: np.ndarray,
    ids: pd.Index,
    pop: np.ndarray,
    current: pd.Series,
    r: DistrictRules,
) -> list[Violation]:
    """A soft "lock" note for every locked district the plan changed: what it gained and which rule forced it.

    A locked group stays whole and apart from the other groups; the plan may still join free villages to it when
    R1 wants more villages than the group has, or when the district count leaves no district that small.
    """
    out: list[Violation] = []
    cur = current.reindex(ids).astype(str).to_numpy()
    for g in sorted({int(x) for x in group if x >= 0}):
        mem = np.flatnonzero(group == g)
        d = int(labels[mem[0]])
        now = np.flatnonzero(labels == d)
        if len(now) == len(mem):
            continue
        name = str(cur[mem[0]])
        a, b = len(mem), len(now)
        pa, pb = float(pop[mem].sum()), float(pop[now].sum())
        if r.uses_villages and a < r.min_villages:
            need = r.min_villages - a
            why = f"R1 wants at least {r.min_villages} villages per district ({need} forced"
            why_zh = f"R1 要求每个警务区至少 {r.min_villages} 个村 (其中 {need} 个为规则所需"
            if b - a > need:
                why += f"; {b - a - need} more joined for residents' travel and balance"
                why_zh += f"; 另 {b - a - need} 个为出行时间与均衡而并入"
            why, why_zh = why + ")", why_zh + ")"
        else:
            why = "the number of districts leaves no district this small"
            why_zh = "警务区数量不允许这么小的警务区"
        out.append(
            Violation(
                "lock",
                name,
                f"locked district {name} became {did[d]} and grew from {a} to {b} villages ({pa:,.0f} to "
                f"{pb:,.0f} residents): {why}",
                f"锁定的警务区 {name} 变为 {did[d]}, 由 {a} 个村增至 {b} 个村 ({pa:,.0f} 人增至 {pb:,.0f} 人): {why_zh}",
                hard=False,
                kind="district",
            )
        )
    return out


def _candidate_mask(ids: pd.Index, candidates: Sequence[str] | None) -> np.ndarray | None:
    cand = None if candidates is None else ids.isin(list(candidates))
    if cand is not None and not cand.any():
        raise ValidationError(
            "no candidate office site is a village of the layer", zh="候选警务室地点都不是图层中的村"
        )
    return cand


def _forced(
    adj: sp.csr_matrix,
    borders: sp.csr_matrix | None,
    pop: np.ndarray,
    township: np.ndarray | None,
    r: DistrictRules,
) -> np.ndarray:
    """Villages whose district breaks R2 in every plan (:func:`planner.districts.check.heavy_neighbourhoods`),
    judged on every edge any candidate graph may use (roads and borders), within townships when they bind."""
    union = adj if borders is None else sp.csr_matrix(((adj + borders) > 0).astype(np.int8))
    nbrs = neighbours(union, len(pop))
    if township is not None:
        nbrs = [nb[township[nb] == township[i]] for i, nb in enumerate(nbrs)]
    return heavy_neighbourhoods(nbrs, pop, r)


def _relax_roads(
    sol: DistrictSolution,
    adj: sp.csr_matrix,
    borders: sp.csr_matrix,
    tries: list[int],
    solve_k: Any,
    graph: dict[str, sp.csr_matrix],
    forced: np.ndarray,
    geoms: gpd.GeoSeries,
    anchors: np.ndarray,
    *,
    t0: float,
    time_limit: float,
    lines: Any = None,
    cost: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> tuple[DistrictSolution, sp.csr_matrix, bool]:
    """Where the road graph alone forces R1/R2 breaks, join it to border neighbours there (C5 relaxed).

    A hub village with more cul-de-sac hamlets behind it than a district may hold makes no road-contiguous
    district. The plan is drawn again (``solve_k`` solves in ``graph["adj"]``) with the border edges of the
    road graph's dead-end villages in the districts that break R1/R2, then of all their villages, then on the
    borders graph alone; of these plans the one with the fewest avoidable R1/R2 breaks, then the smallest worst
    share of the straight lines office -> village outside the district
    (:func:`planner.districts.roads.line_outside_share`), then the least objective wins, so the plan is never worse on that share than the borders-contiguous one. Returns
    (plan, graph, whether the time cap cut a try).
    """
    graph["roads"] = adj  # the road graph alone: the route pass says whether the plan's graph is another
    if avoidable(sol, forced) == 0:
        return sol, adj, False
    bad = sorted(
        {
            int(b.district)
            for b in sol.breaks
            if b.district is not None and b.rule in ("size", "population", "contiguity")
        }
    )
    in_bad = np.isin(sol.labels, bad)
    deg = np.asarray((adj > 0).sum(axis=1)).ravel()
    graphs = []
    for mask in (in_bad & (deg <= 1), in_bad):
        rows = sp.diags(mask.astype(float))
        graphs.append(sp.csr_matrix(((adj + rows @ borders + borders @ rows) > 0).astype(np.int8)))
    graphs.append(borders)
    if any(b.rule == "contiguity" for b in sol.breaks):
        # a bureau's own (locked) districts in pieces: last, the graph `planner check` judges contiguity on,
        # borders or roads, so that the plan and the check name the same breaks
        graphs.append(sp.csr_matrix(((adj + borders) > 0).astype(np.int8)))

    def score(s_: DistrictSolution) -> tuple[int, float, float]:
        if lines is not None and cost is not None and weights is not None:
            # the road routes from each district's best village for resident-minutes (the office it gets)
            offices = [
                int(m[np.argmin(weights[m] @ cost[np.ix_(m, m)])])
                for m in (np.flatnonzero(s_.labels == d) for d in range(len(s_.centers)))
            ]
            worst, _total = route_outside_share(geoms, s_.labels, offices, lines)
        else:
            worst, _total = line_outside_share(geoms, anchors, s_.labels, s_.centers)
        return avoidable(s_, forced), round(worst, 6), s_.objective

    best, best_adj = sol, adj
    # each graph's solves are independent of the others': side by side when the stage has an executor
    found = solve_k.on_graphs(graphs, tries, forced, t0=t0, time_limit=time_limit)
    cut = len(found) < len(graphs)  # the time cap left no time for the last graphs
    for g, (s2, c2) in zip(graphs, found, strict=False):
        cut |= c2
        log.info("plan_districts: road graph relaxed: breaks, worst outside share, objective %s", score(s2))
        if score(s2) < score(best):
            best, best_adj = s2, g
    graph["adj"] = best_adj
    return best, best_adj, cut


def _route_lines(network: Any, access: pd.DataFrame, ids: pd.Index) -> Any:
    """pairs of village positions -> their road lines (:func:`planner.network.routes`), each pair routed once
    (the relaxed graphs' ranking and the route pass ask for many of the same office -> village routes)."""
    from planner.network import routes

    known: dict[tuple[int, int], Any] = {}

    def lines(pairs: list[tuple[int, int]]) -> list[Any]:
        want = list(dict.fromkeys(p for p in pairs if p not in known))
        if want:
            got = routes(network, access, [(ids[a], ids[b]) for a, b in want])
            known.update(zip(want, (r[0] for r in got), strict=True))
        return [known[p] for p in pairs]

    return lines


def _check_count(n_districts: int | None, n: int) -> None:
    """--districts N must be a count of districts the villages can make."""
    if n_districts is not None and not 1 <= n_districts <= n:
        raise ValidationError(
            f"--districts {n_districts}: must be between 1 and {n} villages",
            zh=f"--districts {n_districts}: 必须在 1 到 {n} (村数) 之间",
        )


def _route_step(
    sol: DistrictSolution,
    problem: DistrictingProblem,
    problem_k: Any,
    graph: dict[str, sp.csr_matrix],
    borders: sp.csr_matrix | None,
    roads: tuple[Any, gpd.GeoSeries] | None,
    r: DistrictRules,
) -> tuple[DistrictSolution, DistrictingProblem, sp.csr_matrix, RoutePolish | None]:
    """C5 after the search (:mod:`planner.districts.route_polish`) on a road-contiguous plan drawn on a road
    network (``roads``: the road lines of village pairs, :func:`_route_lines`, and the villages' outlines):
    (plan, its problem, its graph, what moved; None when the pass did not run)."""
    if roads is None or borders is None or r.contiguity != "roads" or r.route_allowance <= 0:
        return sol, problem, graph["adj"], None
    lines, geoms = roads
    joined = sp.csr_matrix(((graph["adj"] + borders) > 0).astype(np.int8))
    relaxed = graph.get("roads") is not None and graph["roads"] is not graph["adj"]
    labels, polish = polish_routes(
        problem, sol.labels, geoms, lines, allowance=r.route_allowance, adjacency=joined, relaxed=relaxed
    )
    if polish is None or not polish.moves:
        return sol, problem, graph["adj"], polish
    # a moved village may join its district by border only: the plan's graph is then the one `planner check`
    # judges contiguity on
    graph["adj"] = joined
    problem = problem_k(len(sol.centers))
    return solution_of(problem, labels, seconds=sol.seconds), problem, joined, polish


def _problem_maker(
    graph: dict[str, sp.csr_matrix],
    pop: np.ndarray,
    cost: np.ndarray,
    r: DistrictRules,
    *,
    township: np.ndarray | None,
    cand: np.ndarray | None,
    group: np.ndarray | None,
) -> Any:
    """The engine's instance for ``kk`` districts on the graph ``graph["adj"]`` holds at the time of the call."""
    cap = r.max_officers * r.residents_per_officer

    def problem_k(kk: int) -> DistrictingProblem:
        return DistrictingProblem(
            graph["adj"],
            pop,
            cost,
            kk,
            min_size=r.min_villages if r.uses_villages else None,
            max_size=r.max_villages if r.uses_villages else None,
            pop_upper=float(cap) if r.uses_population else None,
            township=township,
            candidates=cand,
            locked=group,
            balance_weight=r.balance_weight,
            balance_tolerance=r.balance_tolerance,
            compactness_weight=r.compactness_weight,
            max_cost=r.max_travel_min,
            max_cost_hard=r.max_travel_hard,
        )

    return problem_k


def plan_districts(
    villages: gpd.GeoDataFrame,
    times: Any,
    access: pd.DataFrame,
    *,
    rules: Rules,
    adjacency: Any = None,
    current: pd.Series | None = None,
    locked: Sequence[str] | None = None,
    candidates: Sequence[str] | None = None,
    n_districts: int | None = None,
    seed: int = 0,
    time_limit: float = 60.0,
    network: Any = None,
    executor: Executor | None = None,
) -> DistrictPartition:
    """Draw police districts under the bureau rules; the office stage then places their offices.

    Parameters
    ----------
    villages
        GeoDataFrame indexed by village_id with name, township, population, geometry (metric CRS).
    times
        :class:`planner.network.TravelTimes` between the villages (seconds, inf where no road).
    access
        DataFrame indexed by village_id with ``access`` (road / walk / unreachable) and ``reason``.
    rules
        The validated rules; ``rules.districts`` sizes and weights the plan.
    adjacency
        Neighbour matrix in the order of ``villages.index`` (default :func:`village_adjacency`).
    current
        Series village_id -> district_id in force today: the office stage compares the plan with it
        (:class:`PlanComparison`), and it is the source of ``locked`` districts.
    locked
        Village ids that keep their current district (requires ``current``): they stay together, and apart from
        the other locked groups.
    candidates
        Village ids that may hold an office (default every village).
    n_districts
        Number of districts; default the fewest the counts allow (R1 villages, R2 officers), or one or two
        more when the search finds no plan within R1/R2 at that number (contiguity can forbid it).
    seed
        Same inputs and seed, same plan, whatever the load (the searches stop on counts sized from the county).
    time_limit
        Safety cap in seconds on the search; when it cuts the search, a warning and ``stopped_by_time``.
    network
        The road network (:func:`planner.network.build_network`; ``access`` then from
        :func:`planner.network.locate_villages`): where the road graph must be relaxed, the candidate plans are
        ranked by the share of their office -> village road routes outside the district, not straight lines.
    executor
        Runs the relaxed road graphs' solves and a screened county's final full solves side by side (e.g. a
        Dask client's); the same plan.

    Returns
    -------
    DistrictPartition
        The districts, with the rules the numbers break before solving; :func:`planner.offices.place_offices`
        turns it into the :class:`DistrictPlan`.
    """
    t0 = time.monotonic()
    r = rules.districts
    _validate_villages(villages)
    ids = villages.index
    n = len(ids)
    pop = villages["population"].to_numpy(dtype=float)
    cost, raw, pts = _village_cost(villages, times)
    acc = _access_table(access, ids)
    township = villages["township"].astype(str).to_numpy() if r.within_township else None
    min_units = r.min_villages if r.uses_villages else 1
    borders = None
    if adjacency is None:
        borders = sp.csr_matrix(_bridge(village_adjacency(villages, times=times), pts, township, min_units))
        adj = borders if r.contiguity == "borders" else road_adjacency(borders, raw)
    else:
        adj = sp.csr_matrix(_bridge(sp.csr_matrix(adjacency), pts, township, min_units))
    violations = heavy_villages(ids, pop, r)
    k_low, k_high, small = _district_range(adj, ids, pop, township, r)
    violations.extend(small)
    _check_count(n_districts, n)
    k = n_districts if n_districts is not None else k_low
    cand = _candidate_mask(ids, candidates)
    group = _locked_groups(ids, locked, current)
    forced = _forced(adj, borders, pop, township, r)

    graph = {"adj": adj}
    problem_k = _problem_maker(graph, pop, cost, r, township=township, cand=cand, group=group)

    # above DISTRICT_SCREEN_UNITS villages each candidate is screened, and the winner solved in full at the end
    solve_k = Candidates(problem_k, graph, seed=seed, screen=n > DISTRICT_SCREEN_UNITS, executor=executor)
    # the fewest districts the counts allow; when the search finds no plan within the rules at that number
    # (contiguity and village sizes can make it impossible), one or two more, unless --districts fixed it
    tries = [k] if n_districts is not None else list(range(k, min(k + 2, max(k, k_high)) + 1))
    sol, cut = best_count(tries, solve_k, forced, t0=t0, time_limit=time_limit)
    lines = None if network is None else _route_lines(network, access, ids)
    if borders is not None and r.contiguity == "roads":
        sol, adj, cut2 = _relax_roads(
            sol,
            adj,
            borders,
            tries,
            solve_k,
            graph,
            forced,
            villages.geometry,
            pts,
            t0=t0,
            time_limit=time_limit,
            lines=lines,
            cost=cost,
            weights=pop,
        )
        cut |= cut2
    sol, cut, adj = solve_k.polish(sol, cut, forced, t0=t0, time_limit=time_limit)
    final_problem = problem_k(len(sol.centers))
    roads_at = None if lines is None else (lines, villages.geometry)
    sol, final_problem, adj, polish = _route_step(sol, final_problem, problem_k, graph, borders, roads_at, r)
    sol, travel = _travel_step(final_problem, sol, r, seed=seed, time_limit=time_limit)  # then the LP/exact
    limit = r.exact_time_limit if r.exact else time_limit
    sol, cert = certify(final_problem, sol, exact=r.exact, seed=seed, time_limit=limit)
    cut |= cert.stopped_by_time  # the exact mode's safety cap cut it: the plan may differ between runs
    did = _district_ids(sol.labels, len(sol.centers), group, current, ids)
    out = villages.copy()
    out["district_id"] = did[sol.labels]
    if group is not None and current is not None:
        violations.extend(_lock_notes(group, sol.labels, did, ids, pop, current, r))
    seconds = time.monotonic() - t0
    log.info("plan_districts: %d villages, %d districts, %.1fs", n, len(sol.centers), seconds)
    return DistrictPartition(
        out,
        sol.labels,
        tuple(int(c) for c in sol.centers),
        raw,
        pts,
        adj,
        acc,
        times,
        None if candidates is None else list(candidates),
        cand,
        current,
        violations,
        (sol.proven_optimal or cert.proven_optimal) and not cut,
        cut,
        seconds,
        (float(r.max_travel_min), bool(r.max_travel_hard)),
        cert,
        final_problem,
        travel,
        None if network is None else C5Roads(network, access, villages.geometry),
        polish,
    )


def _district_ids(
    labels: np.ndarray, k: int, group: np.ndarray | None, current: pd.Series | None, ids: pd.Index
) -> np.ndarray:
    """D01.. per district, or the bureau's own ids when every district is one locked district (--lock all)."""
    kept = _kept_ids(labels, group, current, ids)
    if kept is not None:
        return kept
    width = max(2, len(str(k)))
    return np.array([f"D{d + 1:0{width}d}" for d in range(k)])


def _kept_ids(
    labels: np.ndarray, group: np.ndarray | None, current: pd.Series | None, ids: pd.Index
) -> np.ndarray | None:
    """The current district ids, when every district of the plan is exactly one locked current district."""
    if group is None or current is None:
        return None
    cur = current.reindex(ids).astype(str).to_numpy()
    out = []
    for d in range(int(labels.max()) + 1):
        members = labels == d
        if len(set(group[members].tolist())) != 1 or group[members][0] < 0:
            return None
        out.append(cur[members][0])
    # the same districts as the locked ones, one to one
    whole = all((group == group[labels == d][0]).sum() == (labels == d).sum() for d in range(len(out)))
    return np.array(out) if whole and len(set(out)) == len(out) else None


def _travel_step(
    problem: DistrictingProblem, sol: DistrictSolution, r: DistrictRules, *, seed: int, time_limit: float
) -> tuple[DistrictSolution, TravelCertificate]:
    """The certificate of the travel alone; in the exact mode with the MIP's longer limits, and the MIP's plan of
    least travel kept when its objective (travel, balance, compactness) is below the search's plan's too."""
    if not r.exact:
        cap = min(time_limit, DEFAULT_CAP_S)
        return sol, certify_travel(problem, sol.labels, seed=seed, time_limit=cap)
    travel = certify_travel(
        problem, sol.labels, seed=seed, time_limit=r.exact_time_limit, rounds=EXACT_ROUNDS, nodes=EXACT_NODES
    )
    best = travel.best_labels
    if best is not None and plan_objective(problem, best) < sol.objective - 1e-6 * max(
        1.0, abs(sol.objective)
    ):
        log.info("district plan: the plan of least travel is better on the objective too; it is kept")
        sol = solution_of(problem, best, seconds=sol.seconds + travel.seconds)
    return sol, travel


def complete_plan(
    partition: DistrictPartition,
    offices: Sequence[int],
    offices_layer: gpd.GeoDataFrame,
    *,
    rules: Rules,
    seconds: float,
) -> DistrictPlan:
    """The :class:`DistrictPlan` of a partition whose district d has its office in village ``offices[d]``.

    Adds the office and travel columns to the villages, builds the districts layer, re-checks the whole plan
    (:func:`planner.districts.check_districts`), lists unreachable villages and compares with the current
    districts. Called by the office stage once the offices are placed.
    """
    p = partition
    ids = p.villages.index
    n = len(ids)
    labels, raw, pop = p.labels, p.minutes, p.population
    width = max(2, len(str(len(offices))))
    oid = np.array([f"O{d + 1:0{width}d}" for d in range(len(offices))])
    out = p.villages.copy()
    out["office_id"] = oid[labels]
    office_pos = np.array(offices)[labels]
    out["travel_min_to_office"] = raw[np.arange(n), office_pos]
    out["access"] = p.access["access"].astype(str).to_numpy()
    did = out["district_id"].to_numpy()
    districts = _districts_layer(out, labels, offices, raw, pop, rules.districts)
    out_check = out.copy()
    out_check["office_village_id"] = [str(ids[c]) for c in office_pos]
    violations = list(p.violations)
    violations.extend(
        check_districts(
            out_check, p.times, rules=rules, adjacency=p.adjacency, candidates=p.candidates, roads=p.roads
        )
    )
    violations.extend(_unreachable(out, p.access))
    violations = _dedupe(violations)
    comparison = (
        compare_current(out_check, p.current, raw, pop, rules.districts) if p.current is not None else None
    )
    log.info(
        "district plan: %d districts, %d offices, %d violations", len(set(did)), len(offices), len(violations)
    )
    return DistrictPlan(
        out,
        districts,
        offices_layer,
        violations,
        comparison,
        p.proven_optimal,
        seconds,
        p.stopped_by_time,
        certificate=p.certificate,
        travel=_travel_figures(p, offices, rules.districts),
    )


def _travel_figures(p: DistrictPartition, offices: Sequence[int], r: DistrictRules) -> dict[str, Any]:
    """summary.json's resident-minutes of the plan with its offices, the bound on every plan's and the gap
    (docs/DOMAIN.md, "How good the districts are"), with the weights of the soft terms they are traded for."""
    if p.travel_certificate is None or p.problem is None:
        return {}
    delivered = resident_minutes(p.problem, p.labels, offices)
    out = p.travel_certificate.summary(delivered, p.problem.population)
    bound = p.travel_certificate.bound
    out["resident_minutes_above_bound"] = None if bound is None else round(max(0.0, delivered - bound), 1)
    out["balance_weight"] = r.balance_weight
    out["balance_tolerance"] = r.balance_tolerance
    mean, off = off_balance(p.population, p.labels, r.balance_tolerance)
    out["districts_off_balance"] = off
    out["district_mean_residents"] = round(mean, 1)
    out["compactness_weight"] = r.compactness_weight
    out["district_population_cv"] = round(_spread(p.population, p.labels), 4)
    out["route_allowance"] = r.route_allowance
    out["route_polish"] = None if p.route_polish is None else p.route_polish.summary()
    return out


def _unreachable(out: gpd.GeoDataFrame, acc: pd.DataFrame) -> list[Violation]:
    """A soft note for every village no road reaches: it was placed by straight line."""
    notes = []
    for vid in out.index[out["access"].to_numpy() == "unreachable"]:
        reason = str(acc.loc[vid, "reason"]) if "reason" in acc.columns else ""
        notes.append(
            Violation(
                "access",
                str(vid),
                f"village {vid} is unreachable by road ({reason}); placed in the nearest "
                "district by straight line",
                f"村 {vid} 无道路可达 ({reason}); 按直线距离划入最近的警务区",
                hard=False,
                kind="village",
            )
        )
    return notes


def _dedupe(vs: list[Violation]) -> list[Violation]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for v in vs:
        key = (v.rule, v.subject, v.detail)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


def _validate_villages(villages: gpd.GeoDataFrame) -> None:
    need = [c for c in ("township", "population", "geometry") if c not in villages.columns]
    if need:
        raise ValidationError(f"villages lack column(s) {need}", zh=f"村图层缺少列 {need}")
    if not villages.index.is_unique:
        dup = villages.index[villages.index.duplicated()].tolist()[:10]
        raise ValidationError(f"village ids {dup} appear more than once", zh=f"村编号 {dup} 重复出现")
    if villages.crs is not None and not villages.crs.is_projected:
        raise ValidationError(
            "villages must be in a metric (projected) CRS", zh="村图层必须使用米制投影坐标系"
        )


def _districts_layer(
    out: gpd.GeoDataFrame,
    labels: np.ndarray,
    offices: Sequence[int],
    raw: np.ndarray,
    pop: np.ndarray,
    r: DistrictRules,
) -> gpd.GeoDataFrame:
    """One row per district: its size, residents, officers (R2), office and travel from it, dissolved outline."""
    rows, geoms = [], []
    did = out["district_id"].to_numpy()
    oid = out["office_id"].to_numpy()
    for d, c in enumerate(offices):
        mem = np.flatnonzero(labels == d)
        t = raw[mem, c]
        ft = t[np.isfinite(t)]
        p = float(pop[mem].sum())
        rows.append(
            {
                "district_id": did[mem[0]],
                "n_villages": len(mem),
                "population": int(p),
                "officers": r.officers_for(p),
                "office_id": oid[mem[0]],
                "max_travel_min": float(ft.max()) if len(ft) else float("nan"),
                "mean_travel_min": float(ft.mean()) if len(ft) else float("nan"),
            }
        )
        geoms.append(out.geometry.iloc[mem].union_all())
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=out.crs)
