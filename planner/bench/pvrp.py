"""`planner bench pvrp`: Cordeau's periodic VRP instances against reference_solutions.csv.

Conventions (shared/benchmarks/pvrp/SOURCE.md): real (unrounded) Euclidean distances; travel time = distance;
route duration = travel + service, limited by ``D`` when ``D > 0``; ``m`` vehicles each day; the objective is the
total distance over all days. p11 is defective in our copy (138 customers in the file, 139 in the reference
solution) and is skipped with a printed reason. p01's node 51 is a dummy at the depot (demand = Q on one fixed
day): it is kept, as in the reference, and costs nothing. Default time limit: 120 s per instance.
"""

from __future__ import annotations

import argparse
import csv
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from planner.bench.common import BenchRow, emit, find_instances, instance_name
from planner.errors import ValidationError

logger = logging.getLogger(__name__)

SKIP = {"p11": "defective copy: the file has 138 customers but the reference solution visits 139 (SOURCE.md)"}


@dataclass(frozen=True)
class PvrpInstance:
    """A Cordeau PVRP instance; node 0 is the depot, patterns are 0-based day tuples."""

    name: str
    days: int
    vehicles: int
    capacity: float
    max_duration: float | None
    coords: np.ndarray
    service: np.ndarray
    demand: np.ndarray
    frequency: np.ndarray
    patterns: list[list[tuple[int, ...]]]
    distance: np.ndarray


def decode_pattern(code: int, days: int) -> tuple[int, ...]:
    """Cordeau's day combination: binary digits are days, day 1 the most significant bit -> 0-based days."""
    return tuple(d for d in range(days) if code >> (days - 1 - d) & 1)


def read_cordeau(path: str | Path) -> PvrpInstance:
    """Read a Cordeau PVRP file (type 1): header, one ``D Q`` line per day, then depot and customers."""
    path = Path(path)
    lines = [ln.split() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    kind, m, n, t = (int(v) for v in lines[0][:4])
    if kind != 1:
        raise ValidationError(
            f"{path}: problem type {kind} is not a periodic VRP (type 1).",
            zh=f"{path}: 问题类型 {kind} 不是周期性 VRP (类型 1)。",
        )
    dq = [(float(a), float(b)) for a, b in (ln[:2] for ln in lines[1 : 1 + t])]
    if len({x for x in dq}) != 1:
        raise ValidationError(
            f"{path}: days with different limits are not supported.", zh=f"{path}: 不支持各天限制不同的算例。"
        )
    duration, capacity = dq[0]
    rows = lines[1 + t : 1 + t + n + 1]
    if len(rows) != n + 1:
        raise ValidationError(
            f"{path}: expected {n + 1} node lines, found {len(rows)}.",
            zh=f"{path}: 应有 {n + 1} 行节点, 实际 {len(rows)} 行。",
        )
    coords = np.array([[float(r[1]), float(r[2])] for r in rows])
    service = np.array([float(r[3]) for r in rows])
    demand = np.array([float(r[4]) for r in rows])
    frequency = np.array([int(r[5]) for r in rows])
    patterns: list[list[tuple[int, ...]]] = [[]]
    for r in rows[1:]:
        a = int(r[6])
        patterns.append([decode_pattern(int(code), t) for code in r[7 : 7 + a]])
    diff = coords[:, None, :] - coords[None, :, :]
    distance = np.sqrt((diff**2).sum(axis=2))
    return PvrpInstance(
        path.stem,
        t,
        m,
        capacity,
        duration if duration > 0 else None,
        coords,
        service,
        demand,
        frequency,
        patterns,
        distance,
    )


def read_references(directory: Path) -> dict[str, float]:
    """{instance: reference_cost} from reference_solutions.csv in ``directory`` or its parent."""
    for candidate in (directory / "reference_solutions.csv", directory.parent / "reference_solutions.csv"):
        if candidate.is_file():
            with open(candidate, newline="", encoding="utf-8") as fh:
                return {r["instance"].strip(): float(r["reference_cost"]) for r in csv.DictReader(fh)}
    logger.warning("no reference_solutions.csv near %s: gaps will be missing", directory)
    return {}


def run(args: argparse.Namespace) -> int:
    """Entry point of ``planner bench pvrp``."""
    directory = Path(args.instances) if args.instances else None
    files = find_instances(directory, ["p[0-9]*.txt", "pr[0-9]*.txt"], only=args.only)
    kept = []
    for path in files:
        name = instance_name(path)
        if name in SKIP:
            print(f"skipping {name}: {SKIP[name]}")
            continue
        kept.append(path)
    refs = read_references(Path(args.instances))
    columns = ["days", "routes"] + (["peer_objective", "peer_seconds", "ratio"] if args.peers else [])
    emit(_rows(kept, refs, args), json_path=args.json, columns=columns)
    return 0


def _rows(files: list[Path], refs: dict[str, float], args: argparse.Namespace) -> Iterator[BenchRow]:
    from planner.engines.routing import solve_pvrp

    for path in files:
        inst = read_cordeau(path)
        name = instance_name(path)
        limit = args.time_limit if args.time_limit is not None else 120.0
        sol = solve_pvrp(
            inst.distance,
            inst.demand,
            inst.capacity,
            inst.frequency,
            inst.patterns,
            inst.days,
            inst.vehicles,
            max_duration=inst.max_duration,
            service=inst.service,
            time_limit=limit,
            seed=args.seed,
        )
        extra: dict[str, object] = {"days": inst.days, "routes": sol.summary()["routes"], "time_limit": limit}
        if args.peers:
            peer_cost, peer_seconds = _peer(inst, limit)
            extra.update(
                peer_objective=None if peer_cost is None else round(peer_cost, 2),
                peer_seconds=round(peer_seconds, 3),
                ratio=None if not peer_cost else round(sol.cost / peer_cost, 4),
            )
        yield BenchRow(
            name,
            inst.distance.shape[0] - 1,
            round(sol.cost, 2),
            refs.get(name),
            sol.feasible,
            sol.seconds,
            extra,
        )


def _peer(inst: PvrpInstance, limit: float) -> tuple[float | None, float]:
    """Plain OR-Tools on the same instance: patterns chosen to balance the daily demand (largest customers
    first, each on the allowed pattern whose busiest day stays least loaded), then each day routed by OR-Tools
    at default settings (PATH_CHEAPEST_ARC, default metaheuristic), the time limit split over the days. It
    ignores route-duration limits (none in p01-p32).
    """
    import time

    from planner.engines.routing import solve_cvrp
    from planner.errors import InfeasibleError, SolverError

    start = time.perf_counter()
    load = np.zeros(inst.days)
    pattern: dict[int, tuple[int, ...]] = {}
    for i in sorted(range(1, len(inst.patterns)), key=lambda i: -inst.demand[i] * inst.frequency[i]):
        pattern[i] = min(inst.patterns[i], key=lambda p: max(load[list(p)] + inst.demand[i]))
        load[list(pattern[i])] += inst.demand[i]
    total = 0.0
    for d in range(inst.days):
        nodes = [0] + [i for i in range(1, len(inst.patterns)) if d in pattern[i]]
        idx = np.array(nodes)
        sub = inst.distance[np.ix_(idx, idx)]
        if len(nodes) < 2:
            continue
        try:
            day = solve_cvrp(
                sub,
                inst.demand[idx],
                inst.capacity,
                vehicles=inst.vehicles,
                time_limit=limit / inst.days,
                engine="ortools-default",
            )
        except (SolverError, InfeasibleError):  # a day the balanced patterns overload: the peer has no plan
            return None, time.perf_counter() - start
        total += day.cost
    return total, time.perf_counter() - start
