"""`planner bench districts`: the product's district stage, its certificate, and GerryChain's ReCom beside it.

Instances: the two real regions (the demo shipped with the package; Liechtenstein, villages by
:func:`planner.prepare_osm.prepare_osm` and roads from the same OSM extract) run through the district stage
(:func:`planner.districts.plan_districts` and the office stage), and seeded synthetic counties of 100, 200 and
300 villages (Delaunay neighbours, straight-line minutes at 40 km/h times 1.3) run through the same engine the
stage calls. Each row: the objective, its lower bound and gap (the certificate of
:mod:`planner.engines.districting.certificate`), seconds, and on the real regions the share of the offices'
road kilometres to their villages driven outside the district (:func:`planner.districts.roads.km_outside` on
the office -> village routes: the measure of ``benchmarks/km_outside.py``, on these routes, not a month's legs).
The ``rm`` columns certify the residents' travel alone (:mod:`planner.engines.districting.travel`): the plan's
resident-minutes (the delivered offices on the real regions, the engine's centres on the synthetic counties),
the bound on every plan's under the hard rules, the gap, the bound's method (lp, mip), proven, seconds.

With ``--peers``: GerryChain's ReCom with simulated annealing on the same graph, populations and objective
(:func:`planner.engines.districting.certificate.plan_objective`), started from the stage's plan and bound by
the same size and population rules; ``peer_ratio`` is its objective over ours (below 1: the peer did better).
"""

from __future__ import annotations

import argparse
import logging
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from planner.bench.common import BenchRow, emit, shared_dir
from planner.engines.districting import DistrictingProblem
from planner.engines.districting.certificate import certify, plan_objective
from planner.engines.districting.contiguous import solve as solve_districts
from planner.engines.districting.travel import certify_travel, resident_minutes

log = logging.getLogger(__name__)

SIZES = (100, 200, 300)
PEER_STEPS = 2000


def synthetic_county(n: int, *, seed: int = 0) -> DistrictingProblem:
    """A seeded county of ``n`` villages under the default rules (5-8 villages, 2 officers x 5,000 residents).

    Villages at uniform random points (about 9 km apart), neighbours by Delaunay triangulation, minutes the
    straight line at 40 km/h times 1.3, residents log-normal (median about 800); the travel limit 45 minutes
    soft, balance and compactness weights the rules' defaults.
    """
    from scipy.spatial import Delaunay

    from planner.rules import DistrictRules

    r = DistrictRules()
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0.0, 9_000.0 * math.sqrt(n), (n, 2))
    rows: list[int] = []
    cols: list[int] = []
    for s in Delaunay(xy).simplices:
        for a in range(3):
            for b in range(3):
                if a != b:
                    rows.append(int(s[a]))
                    cols.append(int(s[b]))
    adj = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    adj = ((adj + adj.T) > 0).astype(np.int8)
    dist = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    minutes = dist * 1.3 / 1000.0 / 40.0 * 60.0
    pop = np.round(rng.lognormal(6.7, 0.6, n))
    cap = float(r.max_officers * r.residents_per_officer)
    k = max(math.ceil(n / r.max_villages), math.ceil(pop.sum() / cap))
    return DistrictingProblem(
        adj,
        pop,
        minutes,
        k,
        min_size=r.min_villages,
        max_size=r.max_villages,
        pop_upper=cap,
        balance_weight=r.balance_weight,
        balance_tolerance=r.balance_tolerance,
        compactness_weight=r.compactness_weight,
        max_cost=r.max_travel_min,
        max_cost_hard=r.max_travel_hard,
    )


def recom_peer(
    problem: DistrictingProblem, start: np.ndarray, *, steps: int = PEER_STEPS, seed: int = 0
) -> tuple[float | None, float, str]:
    """GerryChain's ReCom with simulated annealing on our objective: (objective, seconds, status)."""
    try:
        import networkx as nx
        from gerrychain import Graph, Partition
        from gerrychain.optimization import SingleMetricOptimizer
        from gerrychain.proposals import recom
        from gerrychain.updaters import Tally
    except ImportError:
        return None, 0.0, "gerrychain not installed (pip install planner[bench])"
    t0 = time.monotonic()
    n = problem.n
    g = nx.Graph()
    for i in range(n):
        g.add_node(i, population=float(problem.population[i]), units=1)
    for i in range(n):
        for j in problem.neighbours[i]:
            if i < int(j):
                g.add_edge(i, int(j))
    # the bounds of the rules, widened to the start's own range where geography forces it over them (as the
    # certificate's relaxation is)
    mn, mx = problem.size_bounds
    lo, hi = problem.pop_bounds
    sizes = np.bincount(start)
    pops = np.bincount(start, weights=problem.population)
    mn, mx = min(mn, int(sizes.min())), max(mx, int(sizes.max()))
    lo, hi = min(lo, float(pops.min())), max(hi, float(pops.max()))
    k = int(start.max()) + 1
    target = float(problem.population.sum()) / k
    # ReCom's own balance is left loose (each half within 10%..190% of the mean): the rules' bounds are the
    # chain's constraint, as for our engine
    eps = 0.9
    part = Partition(
        Graph.from_networkx(g),
        {i: int(start[i]) for i in range(n)},
        updaters={
            "population": Tally("population", alias="population"),
            "units": Tally("units", alias="units"),
        },
    )

    def valid(p: Any) -> bool:
        return all(mn <= u <= mx for u in p["units"].values()) and all(
            lo - 1e-9 <= q <= hi + 1e-9 for q in p["population"].values()
        )

    def metric(p: Any) -> float:
        lab = np.empty(n, dtype=np.int64)
        for node, d in p.assignment.items():
            lab[int(node)] = int(d)
        _, inv = np.unique(lab, return_inverse=True)
        return plan_objective(problem, inv)

    if not valid(part):
        return None, time.monotonic() - t0, "start breaks the size or population bounds"
    proposal = _recom_fn(recom, target, eps, seed)
    opt = SingleMetricOptimizer(proposal, [valid], part, metric, maximize=False, rng=seed)
    beta = SingleMetricOptimizer.jumpcycle_beta_function(max(1, steps // 10), max(1, steps // 10))
    scale = 1.0 / max(1.0, plan_objective(problem, start) * 1e-3)
    status = "ok"
    try:
        for _state in opt.simulated_annealing(steps, beta, beta_magnitude=scale):
            pass
    except RuntimeError as exc:  # GerryChain gives up when no balanced cut of a merged pair exists
        status = f"stopped: {str(exc)[:60]}"
    best = opt.best_score
    return (None if best is None else float(best)), time.monotonic() - t0, status


def _recom_fn(recom: Any, target: float, eps: float, seed: int) -> Any:
    import random
    from functools import partial

    from gerrychain.tree import bipartition_tree

    rng = random.Random(seed)  # the proposals' own stream, so that the run is the same at every seed
    # a merged pair with no balanced cut is given up for another pair, not retried 100,000 times
    split = partial(bipartition_tree, allow_pair_reselection=True, max_attempts=100, warn_attempts=10**9)

    def proposal(p: Any, *, rng: Any = rng) -> Any:
        return recom(
            p,
            pop_col="population",
            pop_target=target,
            epsilon=eps,
            node_repeats=0,
            bipartition_tree_fn=split,
            rng=rng,
        )

    return proposal


def _regions() -> list[tuple[str, Path, Path | None]]:
    """(name, villages, roads) of the real regions; Liechtenstein's villages come from its OSM extract."""
    from planner.io.files import demo_dir

    pbf = shared_dir() / "data" / "raw" / "osm-liechtenstein-2024" / "liechtenstein-latest.osm.pbf"
    d = demo_dir()
    return [("demo", d / "villages.gpkg", d / "roads.osm.bz2"), ("liechtenstein", pbf, None)]


def run_region(
    name: str,
    villages_path: Path,
    roads_path: Path | None,
    *,
    seed: int,
    exact: bool,
    time_limit: float,
    by_routes: bool = True,
) -> tuple[Any, dict[str, Any], DistrictingProblem]:
    """The district and office stages on one real region: (DistrictPlan, figures, the certified problem)."""
    import tempfile
    from dataclasses import replace

    from planner.districts import plan_districts
    from planner.io import read_villages
    from planner.io.files import write_layer
    from planner.io.roads import read_roads
    from planner.network import build_network, locate_villages, travel_times
    from planner.network.estimate import fill_unreachable
    from planner.offices import place_offices
    from planner.prepare_osm import prepare_osm
    from planner.rules import Rules

    rules = Rules()
    rules = replace(rules, districts=replace(rules.districts, exact=exact, exact_time_limit=time_limit))
    if roads_path is None:
        # as `planner prepare-osm --out li.gpkg` then `planner plan --villages li.gpkg` see it (the layer's
        # lon/lat become the villages' anchor points when read back)
        with tempfile.TemporaryDirectory() as tmp:
            write_layer(prepare_osm(villages_path), Path(tmp) / "li.gpkg", layer="villages")
            villages = read_villages(Path(tmp) / "li.gpkg")
        roads = read_roads(villages_path)
    else:
        villages = read_villages(villages_path)
        roads = read_roads(roads_path)
    network = build_network(roads, rules=rules.network, crs=villages.crs)
    access = locate_villages(network, villages, rules=rules.network)
    times = travel_times(network, access)
    if rules.network.estimate_unreachable:
        times, access = fill_unreachable(times, access, villages, rules.network)
    t0 = time.monotonic()
    partition = plan_districts(
        villages,
        times,
        access,
        rules=rules,
        seed=seed,
        time_limit=60.0,
        network=network if by_routes else None,
    )
    plan = place_offices(partition, rules=rules)
    seconds = time.monotonic() - t0
    share = _km_outside(network, access, plan)
    figures = {"seconds": seconds, **share}
    assert partition.problem is not None
    return plan, figures, partition.problem


def _km_outside(network: Any, access: Any, plan: Any) -> dict[str, Any]:
    """Worst and total share of the office -> village road kilometres outside the district."""
    import geopandas as gpd

    from planner.districts.roads import km_outside
    from planner.network import routes

    v = plan.villages
    office_village = dict(zip(plan.offices["office_id"], plan.offices["village_id"], strict=True))
    pairs = [(office_village[o], vid) for vid, o in zip(v.index, v["office_id"], strict=True)]
    lines = routes(network, access, pairs)
    gdf = gpd.GeoDataFrame(
        {"officer_id": [f"{o}-1" for o in v["office_id"]]},
        geometry=[ln[0] for ln in lines],
        crs=network.crs,
    )
    t = km_outside(gdf, plan.districts, plan.offices)
    return {
        "km_outside_worst": round(float(t["share_outside"].max()), 3),
        "km_outside_worst_district": str(t["share_outside"].idxmax()),
        "km_outside_total": round(float(t["km_outside"].sum() / max(t["km"].sum(), 1e-9)), 3),
    }


def _row(
    name: str,
    problem: DistrictingProblem,
    cert: Any,
    seconds: float,
    labels: np.ndarray,
    extra: dict[str, Any],
    *,
    peers: bool,
    seed: int,
) -> BenchRow:
    extra = {
        "k": int(labels.max()) + 1,
        "lower_bound": None if cert.lower_bound is None else round(cert.lower_bound, 1),
        "cert_gap_pct": None if cert.gap_pct is None else round(cert.gap_pct, 2),
        "bound": cert.method,
        "proven": cert.proven_optimal,
        **extra,
    }
    travel = extra.pop("travel", None) or {}
    extra.update(
        rm=travel.get("resident_minutes"),
        rm_bound=travel.get("resident_minutes_bound"),
        rm_gap_pct=travel.get("resident_minutes_gap_pct"),
        rm_method=travel.get("resident_minutes_bound_method"),
        rm_proven=travel.get("resident_minutes_proven"),
        rm_seconds=travel.get("resident_minutes_seconds"),
    )
    if peers:
        obj, secs, status = recom_peer(problem, labels, seed=seed)
        extra.update(
            peer_objective=None if obj is None else round(obj, 1),
            peer_seconds=round(secs, 2),
            peer_status=status,
            peer_ratio=None if obj is None else round(obj / cert.objective, 4),
        )
    return BenchRow(name, problem.n, round(cert.objective, 1), None, True, seconds, extra)


def run(args: argparse.Namespace) -> int:
    """Both real regions and the synthetic counties (``--only`` picks by name: demo, liechtenstein, s100...)."""
    only = {s.strip() for s in args.only.split(",")} if getattr(args, "only", None) else None
    exact = bool(getattr(args, "exact", False))
    limit = args.time_limit or 300.0
    seed = args.seed

    def rows() -> Iterator[BenchRow]:
        for name, vpath, rpath in _regions():
            if only is not None and name not in only:
                continue
            plan, figures, problem = run_region(name, vpath, rpath, seed=seed, exact=exact, time_limit=limit)
            cert = plan.certificate
            labels = _labels_of(plan)
            figures["travel"] = plan.travel
            yield _row(
                name, problem, cert, figures.pop("seconds"), labels, figures, peers=args.peers, seed=seed
            )
        for n in SIZES:
            name = f"s{n}"
            if only is not None and name not in only:
                continue
            problem = synthetic_county(n, seed=seed)
            t0 = time.monotonic()
            sol = solve_districts(problem, seed=seed, time_limit=120.0)
            sol, cert = certify(problem, sol, exact=exact, seed=seed, time_limit=limit)
            # the travel alone, the engine's centres as the offices (the stage's rule: MIP up to 100 units)
            tc = certify_travel(problem, sol.labels, seed=seed, time_limit=limit)
            travel = tc.summary(resident_minutes(problem, sol.labels, sol.centers), problem.population)
            yield _row(
                name,
                problem,
                cert,
                time.monotonic() - t0,
                sol.labels,
                {"breaks": len(sol.breaks), "travel": travel},
                peers=args.peers,
                seed=seed,
            )

    columns: tuple[str, ...] = (
        "k",
        "lower_bound",
        "cert_gap_pct",
        "bound",
        "proven",
        "rm",
        "rm_bound",
        "rm_gap_pct",
        "rm_method",
        "rm_proven",
        "rm_seconds",
        "km_outside_worst",
        "km_outside_total",
    )
    if args.peers:
        columns += ("peer_objective", "peer_seconds", "peer_ratio")
    emit(rows(), json_path=getattr(args, "json", None), columns=columns)
    return 0


def _labels_of(plan: Any) -> np.ndarray:
    """District index per village of a DistrictPlan (D01 -> 0)."""
    did = plan.villages["district_id"].astype(str).to_numpy()
    _, inv = np.unique(did, return_inverse=True)
    return np.asarray(inv, dtype=np.int64)
