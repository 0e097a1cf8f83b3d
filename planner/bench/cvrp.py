"""`planner bench cvrp`: CVRPLIB instances (Augerat A/B/P, Uchoa X) against the best-known values in bks.csv.

Conventions (shared/benchmarks/cvrp/SOURCE.md): TSPLIB EUC_2D distances rounded to the nearest integer (nint);
Fleet: Augerat's optima assume the ``k`` of the name (``A-n32-k5``: 5 vehicles), so A/B/P are solved with at
most ``k`` vehicles (with a free fleet P-n55-k15 has a 16-route solution of 945 < 989); X instances have a free
fleet (CVRPLIB). The reference is the lower of bks.csv's ``bks`` and its re-verified solution cost: this
matters for P-n55-k8 (588 assumes exactly 8 vehicles; a 7-route solution of 576 exists, and "at most 8" allows
it). Default time limit: 10 s per A/B/P instance, 60 s per X instance.
"""

from __future__ import annotations

import argparse
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from planner.bench.common import BenchRow, emit, find_instances, instance_name
from planner.errors import SolverError, ValidationError

logger = logging.getLogger(__name__)

#: the 25-instance X working subset named in shared/benchmarks/cvrp/SOURCE.md
X_SUBSET = (
    "X-n101-k25",
    "X-n106-k14",
    "X-n110-k13",
    "X-n120-k6",
    "X-n125-k30",
    "X-n139-k10",
    "X-n153-k22",
    "X-n162-k11",
    "X-n176-k26",
    "X-n190-k8",
    "X-n204-k19",
    "X-n219-k73",
    "X-n237-k14",
    "X-n256-k16",
    "X-n275-k28",
    "X-n303-k21",
    "X-n336-k84",
    "X-n367-k17",
    "X-n401-k29",
    "X-n449-k29",
    "X-n502-k39",
    "X-n561-k42",
    "X-n655-k131",
    "X-n801-k40",
    "X-n1001-k43",
)


@dataclass(frozen=True)
class CvrpInstance:
    """A CVRPLIB instance: node 0 is the depot."""

    name: str
    capacity: float
    coords: np.ndarray
    demand: np.ndarray
    distance: np.ndarray
    comment: str = ""


def read_vrp(path: str | Path) -> CvrpInstance:
    """Read a TSPLIB/VRPLIB ``.vrp`` file (EUC_2D, one depot) with rounded Euclidean distances (nint)."""
    path = Path(path)
    header: dict[str, str] = {}
    sections: dict[str, list[list[str]]] = {}
    current: str | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line == "EOF":
            continue
        if re.match(r"^[A-Z_]+\s*:", line):
            key, _, value = line.partition(":")
            header[key.strip().upper()] = value.strip()
            current = None
            continue
        if re.match(r"^[A-Z_]+$", line):
            current = line
            sections[current] = []
            continue
        if current is None:
            raise ValidationError(f"{path}: cannot read line {raw!r}.", zh=f"{path}: 无法读取行 {raw!r}。")
        sections[current].append(line.split())
    kind = header.get("EDGE_WEIGHT_TYPE", "")
    if kind != "EUC_2D":
        raise ValidationError(
            f"{path}: EDGE_WEIGHT_TYPE {kind!r} is not supported (EUC_2D only).",
            zh=f"{path}: 不支持 EDGE_WEIGHT_TYPE {kind!r} (仅 EUC_2D)。",
        )
    n = int(header["DIMENSION"])
    coords = np.array([[float(r[1]), float(r[2])] for r in sections["NODE_COORD_SECTION"]])
    demand = np.array([float(r[1]) for r in sections["DEMAND_SECTION"]])
    depots = [int(r[0]) for r in sections.get("DEPOT_SECTION", [["1"]]) if int(r[0]) > 0]
    if coords.shape != (n, 2) or demand.shape != (n,) or depots != [1]:
        raise ValidationError(
            f"{path}: expected {n} coordinates and demands and depot 1.",
            zh=f"{path}: 应有 {n} 个坐标和需求, 且仓库为 1 号节点。",
        )
    diff = coords[:, None, :] - coords[None, :, :]
    distance = np.floor(np.sqrt((diff**2).sum(axis=2)) + 0.5)  # TSPLIB nint
    return CvrpInstance(
        header.get("NAME", path.stem),
        float(header["CAPACITY"]),
        coords,
        demand,
        distance,
        header.get("COMMENT", ""),
    )


def read_sol(path: str | Path) -> tuple[list[list[int]], float]:
    """Read a CVRPLIB ``.sol`` file: routes (customer numbers = our node indices, depot 0) and the stated cost."""
    routes: list[list[int]] = []
    cost = float("nan")
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.startswith("Route"):
            routes.append([int(t) for t in line.split(":", 1)[1].split()])
        elif line.startswith("Cost"):
            cost = float(line.split()[1])
    return routes, cost


def read_references(directory: Path) -> dict[str, tuple[float, str]]:
    """{instance: (reference, note)} from bks.csv under ``directory`` (searched upwards to its parent too)."""
    import csv

    for candidate in (directory / "bks.csv", directory.parent / "bks.csv"):
        if candidate.is_file():
            out: dict[str, tuple[float, str]] = {}
            with open(candidate, newline="", encoding="utf-8") as fh:
                for row in csv.DictReader(fh):
                    bks = float(row["bks"])
                    ver = row.get("verified_solution_cost", "").strip()
                    ref, note = bks, ""
                    if ver and float(ver) < bks:
                        ref, note = (
                            float(ver),
                            f"reference {ver}: a verified solution with fewer routes beats bks.csv {bks:g}",
                        )
                    out[row["instance"].strip()] = (ref, note)
            return out
    logger.warning("no bks.csv under %s: gaps will be missing", directory)
    return {}


def fleet_of(name: str) -> int | None:
    """At most ``k`` vehicles for Augerat's A/B/P (``P-n55-k15`` -> 15); None (free) for X and others."""
    match = re.match(r"^[ABP]-n\d+-k(\d+)$", name)
    return int(match.group(1)) if match else None


def run(args: argparse.Namespace) -> int:
    """Entry point of ``planner bench cvrp``."""
    directory = Path(args.instances) if args.instances else None
    files = find_instances(directory, ["*.vrp"], only=args.only)
    refs = read_references(Path(args.instances))
    columns = ["engine", "routes"] + (["peer_objective", "peer_seconds", "ratio"] if args.peers else [])
    emit(_rows(files, refs, args), json_path=args.json, columns=columns)
    return 0


def _rows(
    files: list[Path], refs: dict[str, tuple[float, str]], args: argparse.Namespace
) -> Iterator[BenchRow]:
    from planner.engines.routing import solve_cvrp

    for path in files:
        inst = read_vrp(path)
        name = instance_name(path)
        limit = args.time_limit if args.time_limit is not None else (60.0 if name.startswith("X-") else 10.0)
        fleet = fleet_of(name)
        sol = solve_cvrp(
            inst.distance,
            inst.demand,
            inst.capacity,
            vehicles=fleet,
            time_limit=limit,
            seed=args.seed,
            engine=getattr(args, "engine", "auto"),
        )
        ref, note = refs.get(name, (None, ""))
        extra: dict[str, object] = {
            "engine": sol.engine,
            "routes": len(sol.routes),
            "vehicles": fleet,
            "time_limit": limit,
        }
        if note:
            extra["note"] = note
        if args.peers:
            started = time.perf_counter()
            try:
                peer = solve_cvrp(
                    inst.distance,
                    inst.demand,
                    inst.capacity,
                    vehicles=fleet,
                    time_limit=limit,
                    engine="ortools-default",
                )
            except SolverError as exc:  # the peer failing is a result to record, not a crash
                extra.update(peer_objective=None, peer_seconds=round(time.perf_counter() - started, 3))
                extra.update(ratio=None, peer_note=exc.message)
            else:
                extra.update(
                    peer_objective=peer.cost,
                    peer_seconds=round(peer.seconds, 3),
                    ratio=round(sol.cost / peer.cost, 4),
                    peer_feasible=peer.feasible,
                )
        yield BenchRow(name, inst.distance.shape[0] - 1, sol.cost, ref, sol.feasible, sol.seconds, extra)
