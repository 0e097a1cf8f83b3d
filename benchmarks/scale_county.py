"""End-to-end scale benchmark: a synthetic county of N villages planned by `planner plan`'s pipeline.

Villages are square cells on a jittered grid, grouped into townships of 10 x 10 cells, with random
populations; roads run along every row and column of village centres (township roads) plus a faster county
road every fifth row and column, and a few gaps so that some villages sit on cut-off pieces. Prints the
seconds of every stage and the peak memory, as a table and one JSON line.

    python benchmarks/scale_county.py --villages 5000 --json scale.jsonl
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import itertools
import json
import logging
import math
import re
import resource
import sys
import time

import geopandas as gpd
import numpy as np
from shapely.geometry import LineString, box

from planner.io.roads import lines_to_roads
from planner.pipeline import StageClock, make_plan
from planner.rules import Rules
from planner.settings import DISTRICTS_TIME_CAP

CRS = "EPSG:32648"  # UTM 48N (Yunnan)


def synthetic_county(
    n: int, *, seed: int = 0, size_m: float = 2500.0
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """n villages on a near-square grid and the roads between them (metric CRS)."""
    rng = np.random.default_rng(seed)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    x0, y0 = 400_000.0, 2_600_000.0
    recs = []
    for k in range(n):
        r, c = divmod(k, cols)
        recs.append(
            {
                "village_id": f"V{k:05d}",
                "name": f"村{k:05d}",
                "township": f"乡{r // 10:02d}{c // 10:02d}",
                # rural villages: mostly 500-2,500 residents, a few township seats up to 9,000
                "population": int(rng.lognormal(mean=7.0, sigma=0.5)) + (6000 if rng.random() < 0.01 else 0),
                "geometry": box(
                    x0 + c * size_m, y0 + r * size_m, x0 + (c + 1) * size_m, y0 + (r + 1) * size_m
                ),
            }
        )
    villages = gpd.GeoDataFrame(recs, crs=CRS).set_index("village_id")
    lines = []
    for r in range(rows):
        y = y0 + (r + 0.5) * size_m
        cls = "secondary" if r % 5 == 0 else "unclassified"
        pts = [(x0 + (c + 0.5) * size_m, y + rng.normal(0, 150)) for c in range(cols)]
        for a, b in itertools.pairwise(pts):
            if cls == "unclassified" and rng.random() < 0.01:
                continue  # a missing stretch of township road
            lines.append({"highway": cls, "geometry": LineString([a, b])})
    for c in range(cols):
        x = x0 + (c + 0.5) * size_m
        cls = "secondary" if c % 5 == 0 else "unclassified"
        pts = [(x + rng.normal(0, 150), y0 + (r + 0.5) * size_m) for r in range(rows)]
        for a, b in itertools.pairwise(pts):
            if cls == "unclassified" and rng.random() < 0.01:
                continue
            lines.append({"highway": cls, "geometry": LineString([a, b])})
    return villages, lines_to_roads(gpd.GeoDataFrame(lines, crs=CRS))


def _districts_only(args: argparse.Namespace) -> int:
    """The network, travel times and district stage of `make_plan` only (the district search's cost)."""
    from planner.districts import plan_districts
    from planner.network import build_network, locate_villages, travel_times
    from planner.network.estimate import fill_unreachable

    rules = Rules()
    villages, roads = synthetic_county(args.villages, seed=args.seed)
    objectives: list[float] = []

    class _Objective(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            m = re.search(r"objective=([0-9.]+)", record.getMessage())
            if m:
                objectives.append(float(m.group(1)))

    eng = logging.getLogger("planner.engines.districting.contiguous")
    eng.setLevel(logging.INFO)
    eng.addHandler(_Objective())
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    for name in ("planner.engines.districting", "planner.districts"):
        logging.getLogger(name).setLevel(logging.INFO)
    t0 = time.perf_counter()
    network = build_network(roads, rules=rules.network, crs=villages.crs)
    access = locate_villages(network, villages, rules=rules.network)
    times = travel_times(network, access)
    if rules.network.estimate_unreachable:
        times, access = fill_unreachable(times, access, villages, rules.network)
    t1 = time.perf_counter()
    part = plan_districts(
        villages,
        times,
        access,
        rules=rules,
        seed=args.seed,
        time_limit=args.time_limit or DISTRICTS_TIME_CAP,
        network=network,  # as the pipeline's stage: relaxed road graphs ranked and C5 polished by the routes
    )
    t2 = time.perf_counter()
    labels = np.asarray(part.labels, dtype=np.int64)
    layer = part.villages["district_id"].astype(str)
    row = {
        "villages": args.villages,
        "districts": len(part.centers),
        "matrix_s": round(t1 - t0, 1),
        "districts_s": round(t2 - t1, 1),
        "stopped_by_time": bool(part.stopped_by_time),
        # the engine's objective of the last solve (the plan kept is one of the solves; see the log)
        "engine_objectives": objectives,
        "layer_sha1": hashlib.sha1("\n".join(f"{i},{d}" for i, d in layer.items()).encode()).hexdigest()[:12],
        "n_labels": int(labels.max()) + 1,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0),
    }
    for k, v in row.items():
        print(f"{k:>28}: {v}")
    if args.json:
        with open(args.json, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--villages", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--time-limit", type=float, default=None, help="seconds per solver stage (default: pipeline's)"
    )
    ap.add_argument("--month", default="2026-12")
    ap.add_argument("--json", help="append one JSON line here")
    ap.add_argument(
        "--workers",
        type=int,
        default=1,
        help="plan the month's offices on a local Dask cluster of N processes (planner plan --workers)",
    )
    ap.add_argument(
        "--districts-only",
        action="store_true",
        help="stop after the district stage: its seconds, objective, cap flag and a hash of the district layer",
    )
    args = ap.parse_args(argv)
    if args.districts_only:
        return _districts_only(args)

    t0 = time.perf_counter()
    villages, roads = synthetic_county(args.villages, seed=args.seed)
    build_s = time.perf_counter() - t0
    clock = StageClock()
    with contextlib.ExitStack() as stack:
        executor = None
        if args.workers > 1:
            from planner.many import dask_client

            executor = stack.enter_context(dask_client(workers=args.workers)).get_executor()
        t1 = time.perf_counter()
        result = make_plan(
            villages,
            roads,
            rules=Rules(),
            month=args.month,
            seed=args.seed,
            time_limit=args.time_limit,
            clock=clock,
            executor=executor,
        )
        total_s = time.perf_counter() - t1
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    s = result.plan.summary
    row = {
        "villages": args.villages,
        "workers": args.workers,
        "road_segments": len(roads),
        "districts": s["districts"],
        "officers": s["officers"],
        "unreachable": len(s["unreachable_villages"]),
        "violations": len(s["violations"]),
        "visit_requirements_met_pct": s["visit_requirements_met_pct"],
        "build_inputs_s": round(build_s, 1),
        "seconds": clock.seconds,
        "total_s": round(total_s, 1),
        "peak_rss_mb": round(peak_mb),
        "peak_rss_children_mb": round(children_mb),
        "schedule_sha1": hashlib.sha1(result.plan.schedule.to_csv(index=False).encode()).hexdigest()[:12],
    }
    for k, v in row.items():
        print(f"{k:>28}: {v}")
    if args.json:
        with open(args.json, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
