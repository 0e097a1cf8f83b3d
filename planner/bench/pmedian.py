"""`planner bench pmedian`: OR-Library pmed1-40 (Beasley) through :func:`planner.engines.facility.pmedian`.

Reading follows shared/benchmarks/pmedian/SOURCE.md: line 1 ``n m p``, then ``i j cost`` lines (1-based,
undirected); a duplicated edge takes the cost of its LAST occurrence (OR-Library convention); distances are
all-pairs shortest paths; every vertex is a customer of weight 1 and a candidate site. Reference values come
from optimal.csv. With ``--peers`` each instance is also solved by spopt's exact PMedian (PuLP + CBC, one
thread) in the same run, with a generous limit of max(``--time-limit``, 120 s) so that it can finish; the
time ratio is spopt's seconds over ours, reported only as a like-for-like figure when both objectives agree.

Our solver stops on deterministic counts; ``--time-limit`` is its safety cap. An instance where the cap cut
the search is marked ``stopped_by_time`` in the table and the JSON lines.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from planner.bench.common import BenchRow, emit, find_instances, instance_name, read_reference_csv
from planner.errors import ValidationError

log = logging.getLogger(__name__)

DEFAULT_TIME_LIMIT = 30.0
PEER_TIME_LIMIT = 120.0  # spopt's floor: exact CBC needs far longer than our heuristic on pmed6 and beyond


def read_pmed(path: str | Path) -> tuple[np.ndarray, int]:
    """The all-pairs shortest-path distance matrix and p of one OR-Library pmed file."""
    path = Path(path)
    tokens = path.read_text(encoding="ascii").split()
    try:
        n, m, p = (int(t) for t in tokens[:3])
        body = np.array(tokens[3 : 3 + 3 * m], dtype=np.int64).reshape(m, 3)
    except ValueError as exc:
        raise ValidationError(
            f"{path}: not an OR-Library p-median file ({exc}).",
            zh=f"{path}: 不是 OR-Library p-median 文件 ({exc})。",
        ) from exc
    edges: dict[tuple[int, int], int] = {}
    for i, j, c in body:
        a, b = (int(i) - 1, int(j) - 1)
        edges[(min(a, b), max(a, b))] = int(c)  # the last occurrence of a duplicated edge wins
    u = np.array([k[0] for k in edges], dtype=np.int64)
    v = np.array([k[1] for k in edges], dtype=np.int64)
    c = np.array(list(edges.values()), dtype=np.float64)
    graph = csr_matrix((c, (u, v)), shape=(n, n))
    dist = shortest_path(graph, method="D", directed=False)
    return dist, p


def _spopt_pmedian(cost: np.ndarray, p: int, time_limit: float) -> tuple[float | None, float, str]:
    """spopt's exact PMedian (PuLP + CBC) on the same matrix: (objective, seconds, status)."""
    import pulp
    from spopt.locate import PMedian

    t0 = time.perf_counter()
    model = PMedian.from_cost_matrix(cost, np.ones(cost.shape[0]), p_facilities=p)
    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=max(1, round(time_limit)), threads=1)
    try:
        model = model.solve(solver)
    except RuntimeError as exc:  # spopt raises when CBC stops at the time limit without a solution
        log.info("spopt PMedian: %s", exc)
        return None, time.perf_counter() - t0, "Not Solved"
    seconds = time.perf_counter() - t0
    status = pulp.LpStatus[model.problem.status]
    # PuLP says "Optimal" even when CBC stopped on its time limit with a feasible solution; the solution
    # status tells the two apart ("Optimal Solution Found" vs "Solution Found").
    sol_status = getattr(model.problem, "sol_status", None)
    if sol_status is not None and sol_status != pulp.LpSolutionOptimal:
        status = f"{status} ({pulp.LpSolution.get(sol_status, sol_status)})"
    value = pulp.value(model.problem.objective)
    return (None if value is None else float(value)), seconds, status


def rows(
    files: list[Path], reference: dict[str, float], *, time_limit: float, seed: int, peers: bool
) -> Iterator[BenchRow]:
    from planner.engines.facility import pmedian

    for path in files:
        name = instance_name(path)
        dist, p = read_pmed(path)
        t0 = time.perf_counter()
        # The heuristic alone (no MIP proof), so the time is the time to reach the objective.
        sol = pmedian(dist, p, seed=seed, time_limit=time_limit, exact=False)
        seconds = time.perf_counter() - t0
        extra: dict[str, Any] = {
            "p": p,
            "proven_optimal": sol.proven_optimal,
            "stopped_by_time": sol.stopped_by_time,
            "method": sol.method,
            "seconds_to_best": None if sol.seconds_to_best is None else round(sol.seconds_to_best, 3),
        }
        if peers:
            peer_obj, peer_s, peer_status = _spopt_pmedian(dist, p, max(time_limit, PEER_TIME_LIMIT))
            same = peer_obj is not None and abs(peer_obj - sol.objective) <= 1e-6 * max(1.0, abs(peer_obj))
            extra.update(
                peer_objective=peer_obj,
                peer_seconds=round(peer_s, 3),
                peer_status=peer_status,
                equal_objective=same,
                time_ratio=round(peer_s / seconds, 2) if seconds > 0 else None,
                time_ratio_to_best=round(peer_s / sol.seconds_to_best, 1) if sol.seconds_to_best else None,
            )
        yield BenchRow(name, dist.shape[0], sol.objective, reference.get(name), True, seconds, extra)


def run(args: argparse.Namespace) -> int:
    """Run the family and print the table; 0 when every instance was solved."""
    files = find_instances(args.instances, ["pmed[0-9]*.txt"], only=args.only)  # not pmedopt_orlib.txt
    ref_path = next(Path(args.instances).rglob("optimal.csv"), None)
    reference = read_reference_csv(ref_path, key="instance", value="optimal") if ref_path else {}
    time_limit = DEFAULT_TIME_LIMIT if args.time_limit is None else float(args.time_limit)
    columns = ["p", "proven_optimal", "stopped_by_time"] + (
        ["peer_objective", "peer_seconds", "peer_status", "time_ratio"] if args.peers else []
    )
    out = emit(
        rows(files, reference, time_limit=time_limit, seed=args.seed, peers=args.peers),
        json_path=args.json,
        columns=columns,
    )
    return 0 if all(r.feasible for r in out) else 1
