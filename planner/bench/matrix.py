"""`planner bench matrix`: our travel-time matrix against plain networkx Dijkstra, on two real road networks.

For each network (the demo region and Liechtenstein) the villages are located on the road graph, then the full
village-to-village matrix is computed twice in the same run: by :func:`planner.network.travel_times` (timed from
the bare network: CSR, pieces, core graph and Dijkstra included) and by networkx ``single_source_dijkstra`` from
every origin village on the same graph (the fastest parallel edge per node pair, the same access legs added).
Building the graphs is not timed on either side (the network's CSR and its strongly connected pieces, the
networkx DiGraph); everything that depends on the villages is. One JSON object per network: network, villages, nodes, edges,
seconds, baseline_seconds, speedup, max_rel_diff (and reachable_pairs, inf_mismatches).
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from planner.bench.common import BenchRow, emit, shared_dir
from planner.rules import NetworkRules

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
RAW = shared_dir() / "data" / "raw"
DEMO_ROADS = ROOT / "data" / "demo" / "roads.osm.bz2"
DEMO_VILLAGES = ROOT / "data" / "demo" / "villages.gpkg"
ANDORRA_ROADS = RAW / "osm-andorra-2021" / "andorra-drive.osm.bz2"
ANDORRA_PBF = RAW / "osm-andorra-2021" / "andorra-latest.osm.pbf"
LIECHTENSTEIN_ROADS = RAW / "osm-liechtenstein-2024" / "liechtenstein-drive.osm.bz2"
LIECHTENSTEIN_PBF = RAW / "osm-liechtenstein-2024" / "liechtenstein-latest.osm.pbf"
REPEATS = 3
PLACES = ("town", "village", "hamlet", "suburb", "isolated_dwelling")


def place_villages(pbf: Path, *, places: tuple[str, ...] = PLACES) -> gpd.GeoDataFrame:
    """Villages as the place nodes of an OSM extract (points), in a metric UTM CRS."""
    import osmium

    rows: list[dict[str, Any]] = []
    for n in osmium.FileProcessor(str(pbf), osmium.osm.NODE).with_filter(osmium.filter.KeyFilter("place")):
        if n.tags.get("place") in places and n.location.valid():  # type: ignore[union-attr]
            rows.append(
                {
                    "village_id": f"n{n.id}",
                    "name": n.tags.get("name", f"n{n.id}"),
                    "township": "",
                    "population": 0,
                    "lon": n.location.lon,  # type: ignore[union-attr]
                    "lat": n.location.lat,  # type: ignore[union-attr]
                }
            )
    df = pd.DataFrame(rows).set_index("village_id")
    gdf = gpd.GeoDataFrame(
        df.drop(columns=["lon", "lat"]), geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326"
    )
    return gdf.to_crs(gdf.estimate_utm_crs())


def _metric(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf.to_crs(gdf.estimate_utm_crs()) if gdf.crs is None or gdf.crs.is_geographic else gdf


def demo_villages() -> gpd.GeoDataFrame:
    """The demo villages (data/demo/villages.gpkg), else Andorra's place nodes."""
    if DEMO_VILLAGES.is_file():
        try:
            from planner.io.villages import read_villages

            return _metric(read_villages(DEMO_VILLAGES))
        except ImportError:
            gdf = gpd.read_file(DEMO_VILLAGES)
            return _metric(gdf.set_index("village_id") if "village_id" in gdf else gdf)
    return place_villages(ANDORRA_PBF)


def liechtenstein_villages() -> gpd.GeoDataFrame:
    """Liechtenstein's villages from planner.osm.prepare_osm, else its place nodes."""
    try:
        from planner.prepare_osm import prepare_osm
    except ImportError:
        return place_villages(LIECHTENSTEIN_PBF)
    return _metric(prepare_osm(LIECHTENSTEIN_PBF))


def networkx_matrix(network: Any, access: pd.DataFrame) -> tuple[np.ndarray, float]:
    """The same matrix by plain networkx Dijkstra from every origin village; returns (seconds, time taken)."""
    G = nx.from_scipy_sparse_array(network.graph(), create_using=nx.DiGraph, edge_attribute="weight")
    node = access["node"].to_numpy(np.int64)
    ok = (access["access"].to_numpy(object) != "unreachable") & (node >= 0)
    extra = np.where(
        ok,
        np.nan_to_num(access["walk_s"].to_numpy(float)) + np.nan_to_num(access["drive_s"].to_numpy(float)),
        np.inf,
    )
    n = len(access)
    out = np.full((n, n), np.inf)
    t0 = time.perf_counter()
    for i in np.flatnonzero(ok):
        lengths, _paths = nx.single_source_dijkstra(G, int(node[i]), weight="weight")
        for j in np.flatnonzero(ok):
            d = lengths.get(int(node[j]))
            if d is not None:
                out[i, j] = extra[i] + d + extra[j]
    np.fill_diagonal(out, 0.0)
    return out, time.perf_counter() - t0


def compare(name: str, roads_path: Path, villages: gpd.GeoDataFrame, *, rules: NetworkRules) -> BenchRow:
    """Build, locate, time both matrices and compare them."""
    from planner.io.roads import read_roads
    from planner.network import build_network, locate_villages, travel_times

    roads = read_roads(roads_path)
    net = build_network(roads, rules=rules, crs=villages.crs)
    access = locate_villages(net, villages, rules=rules)
    # The CSR graph and its pieces belong to the network (built once, as the networkx graph is built untimed);
    # everything that depends on the villages (core graph, Dijkstra, assembly) is timed.
    # Both sides: the median of REPEATS runs; ours after one warm-up call (first-call costs of numpy/scipy/pandas
    # code paths, a few ms, would otherwise dominate a 20 ms run).
    net.graph()
    _ = net.strong_pieces
    travel_times(net, access.iloc[:2], origins=access.index[:2], destinations=access.index[:2])
    ours_runs = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        tt = travel_times(net, access)
        ours_runs.append(time.perf_counter() - t0)
    ours = float(np.median(ours_runs))
    base_runs = []
    for _ in range(REPEATS):
        base, s_ = networkx_matrix(net, access)
        base_runs.append(s_)
    base_s = float(np.median(base_runs))
    a, b = tt.seconds, base
    fin = np.isfinite(a) & np.isfinite(b)
    mismatch = int((np.isfinite(a) != np.isfinite(b)).sum())
    denom = np.maximum(np.abs(b[fin]), 1e-12)
    rel = float(np.max(np.abs(a[fin] - b[fin]) / denom)) if fin.any() else 0.0
    if mismatch:
        rel = float("inf")
    s = net.summary()
    return BenchRow(
        instance=name,
        n=len(villages),
        objective=None,
        reference=None,
        feasible=mismatch == 0 and rel <= 1e-6,
        seconds=ours,
        extra={
            "network": name,
            "villages": len(villages),
            "nodes": s["nodes"],
            "edges": s["edges"],
            "baseline_seconds": round(base_s, 4),
            "speedup": round(base_s / ours, 1) if ours > 0 else None,
            "max_rel_diff": rel,
            "reachable_pairs": int(fin.sum()),
            "inf_mismatches": mismatch,
            "access": access["access"].value_counts().to_dict(),
        },
    )


def networks() -> list[tuple[str, Path, Callable[[], gpd.GeoDataFrame]]]:
    """The two benchmark networks: the demo region (or Andorra until the demo data exists) and Liechtenstein."""
    demo = (
        ("demo", DEMO_ROADS, demo_villages)
        if DEMO_ROADS.is_file()
        else ("andorra", ANDORRA_ROADS, lambda: place_villages(ANDORRA_PBF))
    )
    return [demo, ("liechtenstein", LIECHTENSTEIN_ROADS, liechtenstein_villages)]


def run(args: argparse.Namespace) -> int:
    """``planner bench matrix [--json FILE]``; exit 0 when every network meets max_rel_diff <= 1e-6."""
    rules = NetworkRules()

    def rows() -> Iterator[BenchRow]:
        for name, roads, villages in networks():
            yield compare(name, roads, villages(), rules=rules)

    out = emit(
        rows(),
        json_path=getattr(args, "json", None),
        columns=("nodes", "edges", "baseline_seconds", "speedup", "max_rel_diff"),
    )
    return 0 if all(r.feasible for r in out) else 1
