"""Synthetic county: the full village-to-village travel-time matrix on a 200,000-node road graph, timed.

Usage::

    .venv/bin/python benchmarks/matrix_synthetic.py [--seed 0] [--nodes 200000] [--villages 3000]
        [--variant county|grid|both] [--workers N] [--json FILE]

Two kinds of road graph, both with mixed road classes, a few one-way roads, sinuous roads and a few road pieces
that do not connect to the rest:

- ``county`` (the realistic case): a perturbed grid of junctions about 1 km apart, 75% of the links present,
  each road drawn with shape nodes (a road-line layer splits roads into many features, every split is a node of
  degree 2) and dead-end village spurs; nodes are padded with spurs to exactly ``--nodes``.
- ``grid`` (the worst case for our graph shrinking): every node is a junction of a perturbed grid, nothing to
  prune or contract.

For each: build the network (build_network from a u/v edge table), locate the villages, then time
``travel_times`` (all villages x all villages, no cache) and report the peak memory of the process and of its
worker processes (``resource.getrusage`` maxrss). Prints a table and one JSON object per line.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import resource
import sys
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planner.network import build_network, locate_villages, travel_times
from planner.rules import NetworkRules

CRS = "EPSG:32648"  # UTM 48N (Yunnan); the coordinates below are metres around an arbitrary origin
X0, Y0 = 500_000.0, 2_700_000.0


def _links(
    nx_: int, ny_: int, keep: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grid links between junction ids (row-major) kept with probability ``keep``, and their class rank."""
    idx = np.arange(nx_ * ny_).reshape(ny_, nx_)
    a = np.r_[idx[:, :-1].ravel(), idx[:-1, :].ravel()]
    b = np.r_[idx[:, 1:].ravel(), idx[1:, :].ravel()]
    # the line (row or column) a link runs along decides its class: every 12th a primary, every 4th a secondary...
    line = np.r_[np.repeat(np.arange(ny_), nx_ - 1), np.tile(np.arange(nx_), ny_ - 1)]
    rank = np.where(line % 12 == 0, 0, np.where(line % 4 == 0, 1, np.where(line % 2 == 0, 2, 3)))
    main = rank <= 1
    ok = main | (rng.random(len(a)) < keep)  # main roads run through
    return a[ok], b[ok], rank[ok]


CLASSES = np.array(["primary", "secondary", "tertiary", "unclassified", "residential", "track"], dtype=object)


def synthetic_county(
    *, nodes: int, villages: int, seed: int, variant: str
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The road edge table (u, v, highway, oneway, surface...) and the villages of a synthetic county."""
    rng = np.random.default_rng(seed)
    if variant == "grid":
        side = int(np.sqrt(nodes))
        spacing = 300.0
        nxj, nyj = side, side
        shape_mean = 0.0
        keep = 0.9
    else:
        # junctions and shape nodes take ~55% of the nodes (~7.4 nodes per junction), village spurs the rest
        nxj = nyj = max(4, int(np.sqrt(0.55 * nodes / 7.4)))
        spacing = 1000.0
        shape_mean = 4.0
        keep = 0.75
    jxy = np.column_stack([np.tile(np.arange(nxj), nyj) * spacing, np.repeat(np.arange(nyj), nxj) * spacing])
    jxy += rng.uniform(-0.25, 0.25, jxy.shape) * spacing
    a, b, rank = _links(nxj, nyj, keep, rng)
    cls_idx = np.where(rank == 3, rng.choice([3, 4, 5], size=len(rank), p=[0.4, 0.35, 0.25]), rank)
    xy_parts = [jxy]
    n_next = len(jxy)
    eu: list[np.ndarray] = []
    ev: list[np.ndarray] = []
    ecls: list[np.ndarray] = []
    # roads as chains of shape nodes
    k = rng.poisson(shape_mean, len(a)) if shape_mean > 0 else np.zeros(len(a), np.int64)
    total_shape = int(k.sum())
    if total_shape:
        owner = np.repeat(np.arange(len(a)), k)
        pos = np.arange(total_shape) - np.repeat(np.cumsum(k) - k, k)
        t = (pos + 1) / (k[owner] + 1)
        p = jxy[a[owner]] * (1 - t)[:, None] + jxy[b[owner]] * t[:, None]
        p += rng.normal(0, 60, p.shape)  # wiggles: sinuous roads
        ids = n_next + np.arange(total_shape)
        xy_parts.append(p)
        n_next += total_shape
        # chain: a -> s1 -> ... -> sk -> b
        first = np.cumsum(k) - k
        prev = np.where(pos == 0, a[owner], ids - 1)
        has = k > 0
        last = ids[(first + k - 1)[has]]
        eu += [prev, last, a[~has]]
        ev += [ids, b[has], b[~has]]
        ecls += [cls_idx[owner], cls_idx[has], cls_idx[~has]]
    else:
        eu.append(a)
        ev.append(b)
        ecls.append(cls_idx)
    # disconnected pieces: five small grids 8 km beyond the east edge
    width = nxj * spacing
    for piece in range(5):
        pn = 3
        pxy = np.column_stack([np.tile(np.arange(pn), pn), np.repeat(np.arange(pn), pn)]) * 500.0
        pxy += [width + 8000.0, piece * (nyj * spacing / 5)]
        pa, pb, _ = _links(pn, pn, 1.0, rng)
        xy_parts.append(pxy)
        eu.append(pa + n_next)
        ev.append(pb + n_next)
        ecls.append(np.full(len(pa), 4))
        n_next += len(pxy)
    # dead-end village spurs padded to the node target
    spur_nodes = nodes - n_next
    if spur_nodes > 0:
        lengths = rng.integers(1, 6, spur_nodes)
        lengths = lengths[np.cumsum(lengths) <= spur_nodes]
        if lengths.sum() < spur_nodes:
            lengths = np.r_[lengths, spur_nodes - lengths.sum()]
        n_sp = len(lengths)
        anchor = rng.integers(0, n_next, n_sp)
        owner = np.repeat(np.arange(n_sp), lengths)
        pos = np.arange(spur_nodes) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        ang = rng.uniform(0, 2 * np.pi, n_sp)
        all_xy = np.vstack(xy_parts)
        step = np.column_stack([np.cos(ang), np.sin(ang)])[owner] * 150.0 * (pos + 1)[:, None]
        sxy = all_xy[anchor[owner]] + step + rng.normal(0, 20, (spur_nodes, 2))
        ids = n_next + np.arange(spur_nodes)
        prev = np.where(pos == 0, anchor[owner], ids - 1)
        xy_parts.append(sxy)
        eu.append(prev)
        ev.append(ids)
        ecls.append(np.where(rng.random(spur_nodes) < 0.5, 4, 5))
        n_next += spur_nodes
    xy = np.vstack(xy_parts) + np.array([X0, Y0])
    u = np.concatenate(eu).astype(np.int64)
    v = np.concatenate(ev).astype(np.int64)
    c = np.concatenate(ecls)
    # both directions, except a few one-way secondary roads (1%)
    oneway = (c == 1) & (rng.random(len(u)) < 0.01)
    uu = np.r_[u, v[~oneway]]
    vv = np.r_[v, u[~oneway]]
    cc = np.r_[c, c[~oneway]]
    geom = shapely.linestrings(np.stack([xy[uu], xy[vv]], axis=1))
    gravel = rng.random(len(uu)) < 0.15
    edges = gpd.GeoDataFrame(
        {
            "u": uu,
            "v": vv,
            "highway": CLASSES[cc],
            "maxspeed_kmh": np.nan,
            "unpaved": gravel | (CLASSES[cc] == "track"),
            "speed_kmh": np.nan,
            "oneway": np.ones(len(uu), np.int8),
        },
        geometry=geom,
        crs=CRS,
    )
    edges.attrs = {"source": f"synthetic-{variant}-seed{seed}", "kind": "osm"}
    # villages: near a random node, 0-1.5 km off the road (a few walk)
    at = rng.integers(0, len(xy), villages)
    off = rng.exponential(250.0, (villages, 2)) * rng.choice([-1, 1], (villages, 2))
    pts = xy[at] + off
    vids = [f"V{i:05d}" for i in range(villages)]
    vil = gpd.GeoDataFrame(
        {
            "name": vids,
            "township": [f"T{i % 20:02d}" for i in range(villages)],
            "population": rng.integers(200, 4000, villages),
        },
        geometry=shapely.points(pts),
        crs=CRS,
        index=pd.Index(vids, name="village_id"),
    )
    return edges, vil


class _LastMessage(logging.Handler):
    """Keeps the matrix log line (core graph size, workers) for the report."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.text = ""

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if msg.startswith("matrix:"):
            self.text = msg


def maxrss_mb() -> tuple[float, float]:
    """Peak resident memory (MB) of this process and of its finished children (the matrix workers)."""
    return (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0,
    )


def run_one(*, nodes: int, villages: int, seed: int, variant: str, workers: int | None) -> dict[str, Any]:
    rules = NetworkRules()
    t0 = time.perf_counter()
    edges, vil = synthetic_county(nodes=nodes, villages=villages, seed=seed, variant=variant)
    net = build_network(edges, rules=rules, crs=CRS)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    acc = locate_villages(net, vil, rules=rules)
    t_locate = time.perf_counter() - t0
    net.graph()
    grab = _LastMessage()
    logging.getLogger("planner.network").addHandler(grab)
    logging.getLogger("planner.network").setLevel(logging.INFO)
    t0 = time.perf_counter()
    tt = travel_times(net, acc, workers=workers)
    t_matrix = time.perf_counter() - t0
    logging.getLogger("planner.network").removeHandler(grab)
    core = re.search(r"core of (\d+) nodes / (\d+) edges.*?(\d+) worker", grab.text)
    self_mb, child_mb = maxrss_mb()
    s = net.summary()
    deg = np.bincount(np.r_[net.edge_u, net.edge_v], minlength=net.n_nodes) // 2
    return {
        "network": f"synthetic-{variant}",
        "seed": seed,
        "villages": villages,
        "nodes": s["nodes"],
        "edges": s["edges"],
        "pieces": s["pieces"],
        "degree2_nodes_pct": round(100.0 * float((deg == 2).mean()), 1),
        "dead_end_nodes_pct": round(100.0 * float((deg == 1).mean()), 1),
        "access": acc["access"].value_counts().to_dict(),
        "build_seconds": round(t_build, 2),
        "locate_seconds": round(t_locate, 2),
        "seconds": round(t_matrix, 2),
        "core_nodes": int(core.group(1)) if core else None,
        "core_edges": int(core.group(2)) if core else None,
        "workers": int(core.group(3)) if core else None,
        "reachable_pairs_pct": round(tt.summary()["reachable_pairs_pct"], 2),
        "peak_mb": round(self_mb, 0),
        "peak_workers_mb": round(child_mb, 0),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--nodes", type=int, default=200_000)
    ap.add_argument("--villages", type=int, default=3000)
    ap.add_argument("--variant", choices=("county", "grid", "both"), default="both")
    ap.add_argument("--workers", type=int, default=None, help="matrix processes (default: chosen by size)")
    ap.add_argument("--json", help="write one JSON object per line to this file")
    args = ap.parse_args(argv)
    variants = ("county", "grid") if args.variant == "both" else (args.variant,)
    head = [
        "network",
        "villages",
        "nodes",
        "edges",
        "deg2%",
        "deadend%",
        "core_nodes",
        "build_s",
        "locate_s",
        "seconds",
        "peak_mb",
        "workers_mb",
    ]
    print("  ".join(f"{h:>16}" for h in head))
    out = open(args.json, "w", encoding="utf-8") if args.json else None  # noqa: SIM115 - closed below
    try:
        for variant in variants:
            r = run_one(
                nodes=args.nodes,
                villages=args.villages,
                seed=args.seed,
                variant=variant,
                workers=args.workers,
            )
            vals = [
                r["network"],
                r["villages"],
                r["nodes"],
                r["edges"],
                r["degree2_nodes_pct"],
                r["dead_end_nodes_pct"],
                r["core_nodes"],
                r["build_seconds"],
                r["locate_seconds"],
                r["seconds"],
                r["peak_mb"],
                r["peak_workers_mb"],
            ]
            print("  ".join(f"{v!s:>16}" for v in vals))
            print(json.dumps(r))
            sys.stdout.flush()
            if out:
                out.write(json.dumps(r) + "\n")
    finally:
        if out:
            out.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
