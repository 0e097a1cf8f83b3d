"""`planner bench districting`: fewest cut edges on the Validi-Buchanan county and tract graphs.

Reads ``<level>/<ST>_<level>.json`` (networkx adjacency JSON, population ``TOTPOP``) and the reference table
``optimal_cut_edges.csv`` (k, L, U, best cut edges) beside them; runs
:func:`planner.engines.districting.min_cut_districts` and re-checks the plan it returns (k parts, each connected,
population within [L, U]).
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from planner.bench.common import BenchRow, emit, find_instances, instance_name
from planner.errors import SolverError, ValidationError


def read_instance(path: Path) -> tuple[sp.csr_matrix, np.ndarray]:
    """Adjacency and population of one dual graph (node order of the file)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    ids = [nd["id"] for nd in data["nodes"]]
    pos = {v: i for i, v in enumerate(ids)}
    pop = np.array([float(nd["TOTPOP"]) for nd in data["nodes"]])
    rows, cols = [], []
    for i, nb in enumerate(data["adjacency"]):
        for e in nb:
            j = pos[e["id"]]
            if j != i:
                rows.append(i)
                cols.append(j)
    n = len(ids)
    a = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)).tocsr()
    return ((a + a.T) > 0).astype(np.int8).tocsr(), pop


def _reference(root: Path) -> dict[str, dict[str, str]]:
    ref = next(root.rglob("optimal_cut_edges.csv"), None)
    if ref is None:
        raise ValidationError(
            f"{root}: optimal_cut_edges.csv not found", zh=f"{root}: 未找到 optimal_cut_edges.csv"
        )
    with open(ref, newline="", encoding="utf-8") as fh:
        return {f"{r['state']}_{r['level']}": r for r in csv.DictReader(fh)}


def _verify(adj: sp.csr_matrix, pop: np.ndarray, labels: np.ndarray, k: int, lo: float, hi: float) -> bool:
    from scipy.sparse.csgraph import connected_components

    if set(labels.tolist()) != set(range(k)):
        return False
    for d in range(k):
        m = np.flatnonzero(labels == d)
        if not lo <= pop[m].sum() <= hi or connected_components(adj[m][:, m], directed=False)[0] != 1:
            return False
    return True


def run(args: argparse.Namespace) -> int:
    from planner.engines.districting import min_cut_districts

    root = Path(args.instances) if args.instances else None
    files = find_instances(root, ["*_county.json", "*_tract.json"], only=getattr(args, "only", None))
    refs = _reference(Path(args.instances))
    limit = args.time_limit or 60.0

    def rows() -> Iterator[BenchRow]:
        for f in files:
            name = instance_name(f)
            ref = refs[name]
            adj, pop = read_instance(f)
            k, lo, hi = int(ref["k"]), float(ref["pop_lower_L"]), float(ref["pop_upper_U"])
            t0 = time.monotonic()
            try:
                sol = min_cut_districts(adj, pop, k, pop_lower=lo, pop_upper=hi, seed=0, time_limit=limit)
            except SolverError:
                yield BenchRow(
                    name, len(pop), None, float(ref["best_cut_edges"]), False, time.monotonic() - t0, {"k": k}
                )
                continue
            ok = _verify(adj, pop, sol.labels, k, lo, hi)
            yield BenchRow(
                name,
                len(pop),
                sol.objective,
                float(ref["best_cut_edges"]),
                ok,
                sol.seconds,
                {"k": k, "proven_optimal": sol.proven_optimal},
            )

    emit(rows(), json_path=getattr(args, "json", None), columns=("k",))
    return 0
