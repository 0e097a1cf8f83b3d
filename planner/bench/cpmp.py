"""`planner bench cpmp`: capacitated p-median instances through
:func:`planner.engines.facility.capacitated_pmedian`.

Reading follows shared/benchmarks/cpmp/SOURCE.md. Osman & Christofides ``pmedcapNN.txt``: line 1
``problem_no best``, line 2 ``n p capacity``, then ``id x y demand``; distances are floor(Euclidean).
Lorena & Senne ``SJC*.dat`` / ``p3038_*.dat``: line 1 ``n p``, then ``x y capacity demand``; distances are real
Euclidean. Every point is a customer and a candidate site; assignment is single-source. Reference values come
from bks.csv.
"""

from __future__ import annotations

import argparse
import csv
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.distance import cdist

from planner.bench.common import BenchRow, emit, find_instances, instance_name
from planner.errors import PlannerError, ValidationError

log = logging.getLogger(__name__)

DEFAULT_TIME_LIMIT = 60.0


@dataclass(frozen=True)
class CpmpInstance:
    """One CPMP instance: cost matrix, demand, capacity per site, p, and the family it comes from."""

    name: str
    cost: np.ndarray
    demand: np.ndarray
    capacity: np.ndarray
    p: int
    family: str


def read_cpmp(path: str | Path) -> CpmpInstance:
    """Read an Osman-Christofides (.txt) or Lorena-Senne (.dat) file with its distance convention."""
    path = Path(path)
    lines = [ln.split() for ln in path.read_text(encoding="ascii").splitlines() if ln.strip()]
    try:
        if path.suffix == ".txt":  # Osman & Christofides
            n, p, cap = (int(t) for t in lines[1][:3])
            body = np.array([[float(t) for t in ln[:4]] for ln in lines[2 : 2 + n]])
            xy, demand = body[:, 1:3], body[:, 3]
            capacity = np.full(n, float(cap))
            cost = np.floor(cdist(xy, xy))  # floor(Euclid): SOURCE.md
            family = "osman_christofides"
        else:  # Lorena & Senne
            n, p = (int(t) for t in lines[0][:2])
            body = np.array([[float(t) for t in ln[:4]] for ln in lines[1 : 1 + n]])
            xy, capacity, demand = body[:, 0:2], body[:, 2], body[:, 3]
            cost = cdist(xy, xy)
            family = "lorena_senne"
    except (ValueError, IndexError) as exc:
        raise ValidationError(
            f"{path}: not a CPMP instance file ({exc}).", zh=f"{path}: 不是 CPMP 算例文件 ({exc})。"
        ) from exc
    if body.shape[0] != n:
        raise ValidationError(
            f"{path}: header says {n} points, the file holds {body.shape[0]}.",
            zh=f"{path}: 文件头为 {n} 个点, 实际 {body.shape[0]} 个。",
        )
    return CpmpInstance(instance_name(path), cost, demand, capacity, p, family)


def _bks(directory: Path) -> dict[str, float]:
    path = next(directory.rglob("bks.csv"), None)
    if path is None:
        return {}
    with open(path, newline="", encoding="utf-8") as fh:
        return {r["instance"].strip(): float(r["bks"]) for r in csv.DictReader(fh) if r.get("bks")}


def rows(
    files: list[Path], reference: dict[str, float], *, time_limit: float, seed: int
) -> Iterator[BenchRow]:
    from planner.engines.facility import capacitated_pmedian

    for path in files:
        inst = read_cpmp(path)
        t0 = time.perf_counter()
        try:
            sol = capacitated_pmedian(
                inst.cost, inst.demand, inst.capacity, inst.p, seed=seed, time_limit=time_limit
            )
        except PlannerError as exc:
            log.error("%s: %s", inst.name, exc.message)
            yield BenchRow(
                inst.name,
                len(inst.demand),
                None,
                reference.get(inst.name),
                False,
                time.perf_counter() - t0,
                {"set": inst.family, "p": inst.p, "error": exc.message},
            )
            continue
        seconds = time.perf_counter() - t0
        load = np.bincount(sol.assignment, weights=inst.demand, minlength=len(inst.demand))
        feasible = bool(
            (sol.assignment >= 0).all()
            and (load <= inst.capacity + 1e-9).all()
            and np.isin(sol.assignment, sol.medians).all()
            and len(sol.medians) == inst.p
        )
        objective = round(sol.objective, 2)
        yield BenchRow(
            inst.name,
            len(inst.demand),
            objective,
            reference.get(inst.name),
            feasible,
            seconds,
            {
                "set": inst.family,
                "p": inst.p,
                "proven_optimal": sol.proven_optimal,
                "stopped_by_time": sol.stopped_by_time,
                "method": sol.method,
                "lower_bound": None if sol.lower_bound is None else round(sol.lower_bound, 2),
            },
        )


def run(args: argparse.Namespace) -> int:
    """Run the family and print the table; 0 when every instance got a feasible plan."""
    files = find_instances(args.instances, ["pmedcap*.txt", "SJC*.dat", "p3038*.dat"], only=args.only)
    reference = _bks(Path(args.instances))
    time_limit = DEFAULT_TIME_LIMIT if args.time_limit is None else float(args.time_limit)
    out = emit(
        rows(files, reference, time_limit=time_limit, seed=args.seed),
        json_path=args.json,
        columns=["set", "p", "proven_optimal", "stopped_by_time"],
    )
    return 0 if all(r.feasible for r in out) else 1
