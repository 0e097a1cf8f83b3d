"""A seeded synthetic province planned by `planner province`'s engine with 1 and then 2 Dask workers (issue 13).

Counties are synthetic grid counties (benchmarks/scale_county.py) of lognormal size around the mean, laid side by
side; their roads are one road-line layer of the whole province, cut to each county by the planner as a real
province's would be. Prints, per worker count, the wall time, the county seconds summed, the peak memory of the
busiest worker, the CPU seconds of the workers and of the whole machine (so that what runs beside the workers, such
as Chromium's page processes, shows) and the speed-up against 1 worker, one line (and one JSON line) per worker
count as it ends; then the projection for a cluster of N machines of 2 workers from the per-county times (the
longest county bounds it).

    python benchmarks/province_synthetic.py --villages 14357 --counties 100 --json province.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_county import synthetic_county

from planner.io.roads import lines_to_roads
from planner.io.villages import read_villages
from planner.many import dask_client, plan_province, split_counties
from planner.rules import Rules


def synthetic_province(
    villages: int, counties: int, *, seed: int = 0
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The province's villages (with a ``county`` column) and its road lines, in one metric CRS."""
    rng = np.random.default_rng(seed)
    sizes = rng.lognormal(mean=0.0, sigma=0.35, size=counties)
    sizes = np.maximum(20, np.round(sizes / sizes.sum() * villages)).astype(int)
    sizes[-1] += villages - sizes.sum()
    side = int(np.ceil(np.sqrt(counties)))
    vs, rs = [], []
    for k, n in enumerate(sizes):
        v, r = synthetic_county(int(n), seed=seed * 1000 + k)
        dx, dy = (k % side) * 60_000.0, (k // side) * 60_000.0
        v = v.set_geometry(v.geometry.translate(dx, dy))
        v.index = [f"C{k:03d}-{i}" for i in v.index]
        vs.append(v.assign(county=f"县{k:03d}"))
        rs.append(
            gpd.GeoDataFrame({"highway": r["highway"]}, geometry=r.geometry.translate(dx, dy), crs=v.crs)
        )
    villages_gdf = gpd.GeoDataFrame(pd.concat(vs), crs=vs[0].crs)
    villages_gdf.index.name = "village_id"
    return villages_gdf, gpd.GeoDataFrame(pd.concat(rs, ignore_index=True), crs=vs[0].crs)


def _worker_peak_mb(client) -> float:
    import resource

    peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)
    return round(max(peaks.values()), 1) if peaks else 0.0


def _cpu_s(client) -> tuple[float, float]:
    """CPU seconds (user + system) of the workers so far, and of the whole machine (Linux /proc/stat; 0 elsewhere).

    The machine's figure counts what the workers' own do not: Chromium's page processes, which are not the
    workers' waited-for children, the scheduler and the client."""
    import resource

    def own() -> float:
        ru = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return sum(r.ru_utime + r.ru_stime for r in ru)

    workers = float(sum(client.run(own).values())) if client is not None else 0.0
    try:
        import os

        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        machine = (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        machine = 0.0
    return workers, machine


def run(
    villages: int, counties: int, workers: list[int], *, seed: int, month: str, json_path: str | None = None
) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="planner-province-") as tmp:
        root = Path(tmp)
        v, r = synthetic_province(villages, counties, seed=seed)
        v.reset_index().to_file(root / "villages.gpkg", layer="villages")
        lines_to_roads(r)  # checks the roads read as a road layer before the run
        r.to_file(root / "roads.gpkg")
        layer = read_villages(root / "villages.gpkg", keep=("county",))
        parts = split_counties(layer.drop(columns=["county"]), layer["county"])
        rows = []
        for n in workers:
            out = root / f"out-{n}"
            t0 = time.perf_counter()
            _, machine0 = _cpu_s(None)
            with dask_client(workers=n) as client:
                result = plan_province(
                    parts,
                    [str(root / "roads.gpkg")],
                    out,
                    client=client,
                    rules=Rules(),
                    month=month,
                    seed=seed,
                    overwrite=True,
                )
                peak = _worker_peak_mb(client)
                worker_cpu, machine1 = _cpu_s(client)
            wall = time.perf_counter() - t0
            county_s = [c.seconds for c in result.counties]
            rows.append(
                {
                    "villages": villages,
                    "counties": counties,
                    "workers": n,
                    "wall_s": round(wall, 1),
                    "county_s_sum": round(sum(county_s), 1),
                    "county_s_max": round(max(county_s), 1),
                    "failed": len(result.failed),
                    "worker_peak_mb": peak,
                    "worker_cpu_s": round(worker_cpu, 1),
                    "machine_cpu_s": round(machine1 - machine0, 1),
                }
            )
            print("  ".join(f"{k}={v}" for k, v in rows[-1].items()), flush=True)
            if json_path:  # each worker count as it ends: a long run stopped later keeps what it measured
                with open(json_path, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(rows[-1], ensure_ascii=False) + "\n")
        base = next((r["wall_s"] for r in rows if r["workers"] == 1), rows[0]["wall_s"])
        for row in rows:
            row["speedup"] = round(base / row["wall_s"], 2) if row["wall_s"] else None
        return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--villages", type=int, default=14357)
    ap.add_argument("--counties", type=int, default=100)
    ap.add_argument(
        "--workers", default="1,2", help="comma-separated worker counts, the first is the baseline"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--month", default="2026-12")
    ap.add_argument("--json", help="append one JSON line per worker count here")
    args = ap.parse_args(argv)
    rows = run(
        args.villages,
        args.counties,
        [int(w) for w in args.workers.split(",")],
        seed=args.seed,
        month=args.month,
        json_path=args.json,
    )
    for row in rows:
        print(f"workers={row['workers']}  speedup={row['speedup']} (1-worker wall / this wall)")
    s, m = rows[0]["county_s_sum"], rows[0]["county_s_max"]
    for machines in (1, 5, 10, 50):
        print(
            f"projection, {machines} machine(s) x 2 workers: >= {max(s / (2 * machines), m):.0f} s "
            "(counties' seconds shared out, never below the longest county)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
