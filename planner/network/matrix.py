"""Many-to-many village travel times: Dijkstra on a contracted core of the main piece, in chunks and processes."""

from __future__ import annotations

import hashlib
import logging
import os
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from planner.errors import ValidationError
from planner.io.cache import TravelTimeCache
from planner.model import TravelTimes
from planner.network.graph import RoadNetwork

log = logging.getLogger(__name__)


def _min_csr(rows: np.ndarray, cols: np.ndarray, w: np.ndarray, n: int) -> sp.csr_matrix:
    """CSR of the smallest weight per (row, col) (csr_matrix would add duplicates up)."""
    order = np.lexsort((w, cols, rows))
    rows, cols, w = rows[order], cols[order], w[order]
    first = np.ones(len(rows), bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    g = sp.csr_matrix((w[first], (rows[first], cols[first])), shape=(n, n))
    g.sort_indices()
    return g


def _core_graph(
    graph: sp.csr_matrix, keep_nodes: np.ndarray, terminals: np.ndarray
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Shrink the graph without changing any shortest time between terminals.

    Works on the sub-graph of ``keep_nodes`` (the main strongly connected piece: a shortest path between two of
    its nodes never leaves it). Non-terminal dead ends are pruned (a shortest path never enters a dead end and
    comes back) and chains of non-terminal nodes with exactly two neighbours are contracted (a -> x1 -> ... -> b
    becomes a -> b with the summed time, each direction where every edge of it exists, the faster one kept beside
    an existing a -> b); repeated while it shrinks the graph. Vectorised: every chain is walked at once, one
    step per round. Returns the core CSR and, per core node, its node id in ``graph``.
    """
    sub = graph[keep_nodes][:, keep_nodes].tocoo()
    n = len(keep_nodes)
    is_term = np.zeros(graph.shape[0], bool)
    is_term[terminals] = True
    term = is_term[keep_nodes]
    nodiag = sub.row != sub.col
    rows, cols, w = sub.row[nodiag].astype(np.int64), sub.col[nodiag].astype(np.int64), sub.data[nodiag]
    alive = np.ones(n, bool)
    for _ in range(8):
        before = int(alive.sum())
        # undirected neighbour pattern of the live graph
        a_ = np.concatenate([rows, cols])
        b_ = np.concatenate([cols, rows])
        P = sp.csr_matrix((np.ones(len(a_), np.int8), (a_, b_)), shape=(n, n))
        P.data[:] = 1
        P.eliminate_zeros()
        deg = np.diff(P.indptr).astype(np.int64)
        frontier = np.flatnonzero((deg <= 1) & ~term & alive)
        while frontier.size:
            alive[frontier] = False
            nb = P[frontier].indices
            deg -= np.bincount(nb, minlength=n)
            cand = np.unique(nb)
            frontier = cand[(deg[cand] <= 1) & ~term[cand] & alive[cand]]
        live_e = alive[rows] & alive[cols]
        rows, cols, w = rows[live_e], cols[live_e], w[live_e]
        chain = alive & ~term & (deg == 2)
        if chain.any():
            rows, cols, w, gone = _contract_chains(rows, cols, w, chain, alive, n)
            alive[gone] = False
        if int(alive.sum()) > 0.9 * before:  # another round would cost more than it saves
            break
    live = np.flatnonzero(alive)
    new_id = np.full(n, -1, np.int64)
    new_id[live] = np.arange(len(live))
    core = _min_csr(new_id[rows], new_id[cols], w, len(live))
    return core, keep_nodes[live]


def _contract_chains(
    rows: np.ndarray, cols: np.ndarray, w: np.ndarray, chain: np.ndarray, alive: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Replace every chain of ``chain`` nodes by direct edges between its two end nodes."""
    key = rows * n + cols
    order = np.argsort(key)
    skey, sw = key[order], w[order]

    def weight(p: np.ndarray, c: np.ndarray) -> np.ndarray:
        k = p * n + c
        i = np.minimum(np.searchsorted(skey, k), len(skey) - 1)
        return np.where(skey[i] == k, sw[i], np.inf)

    a_ = np.concatenate([rows, cols])
    b_ = np.concatenate([cols, rows])
    P = sp.csr_matrix((np.ones(len(a_), np.int8), (a_, b_)), shape=(n, n))
    P.sum_duplicates()
    P.sort_indices()
    idx = np.flatnonzero(chain)
    nb0 = np.full(n, -1, np.int64)
    nb1 = np.full(n, -1, np.int64)
    nb0[idx] = P.indices[P.indptr[idx]]
    nb1[idx] = P.indices[P.indptr[idx] + 1]
    coo = P.tocoo()
    start_mask = ~chain[coo.row] & alive[coo.row] & chain[coo.col]
    start = coo.row[start_mask].astype(np.int64)
    prev = start.copy()
    cur = coo.col[start_mask].astype(np.int64)
    fw = weight(prev, cur)
    bw = weight(cur, prev)
    active = np.arange(len(start))
    while active.size:
        p, c = prev[active], cur[active]
        nxt = np.where(nb0[c] != p, nb0[c], nb1[c])
        fw[active] += weight(c, nxt)
        bw[active] += weight(nxt, c)
        prev[active], cur[active] = c, nxt
        active = active[chain[nxt]]
    end = cur
    keep = start < end  # each chain is walked from both ends; a chain back to its own start is useless
    s, e, f, b = start[keep], end[keep], fw[keep], bw[keep]
    outside = ~chain[rows] & ~chain[cols]
    new_rows = np.concatenate([rows[outside], s[np.isfinite(f)], e[np.isfinite(b)]])
    new_cols = np.concatenate([cols[outside], e[np.isfinite(f)], s[np.isfinite(b)]])
    new_w = np.concatenate([w[outside], f[np.isfinite(f)], b[np.isfinite(b)]])
    # keep the fastest of parallel edges so that the next round sees simple neighbour sets
    order = np.lexsort((new_w, new_cols, new_rows))
    new_rows, new_cols, new_w = new_rows[order], new_cols[order], new_w[order]
    first = np.ones(len(new_rows), bool)
    first[1:] = (new_rows[1:] != new_rows[:-1]) | (new_cols[1:] != new_cols[:-1])
    return new_rows[first], new_cols[first], new_w[first], idx


_POOL_GRAPH: sp.csr_matrix | None = None


def _dijkstra_rows(args: tuple[np.ndarray, np.ndarray, float]) -> np.ndarray:
    sources, targets, limit = args
    assert _POOL_GRAPH is not None
    d = dijkstra(_POOL_GRAPH, directed=True, indices=sources, limit=limit)
    return d[:, targets]


def _many_to_many(
    graph: sp.csr_matrix, sources: np.ndarray, targets: np.ndarray, *, limit: float, workers: int, chunk: int
) -> np.ndarray:
    global _POOL_GRAPH
    chunks = [sources[i : i + chunk] for i in range(0, len(sources), chunk)]
    jobs = [(c, targets, limit) for c in chunks]
    _POOL_GRAPH = graph
    try:
        if workers > 1 and len(chunks) > 1:
            import multiprocessing as mp

            # fork shares the graph with the workers without pickling it
            with mp.get_context("fork").Pool(workers) as pool:
                parts = pool.map(_dijkstra_rows, jobs, chunksize=1)
        else:
            parts = [_dijkstra_rows(j) for j in jobs]
    finally:
        _POOL_GRAPH = None
    return np.vstack(parts) if parts else np.zeros((0, len(targets)))


def village_ids(access: pd.DataFrame, ids: Any, what: str) -> pd.Index:
    """``ids`` (default: every village of ``access``) as an index, checked to be villages of ``access``."""
    idx = access.index if ids is None else pd.Index(ids)
    missing = idx[access.index.get_indexer(idx) < 0]
    if len(missing):
        raise ValidationError(
            f"{what}: {list(missing[:20])} are not villages of the access table.",
            zh=f"{what}: {list(missing[:20])} 不在村接入表中。",
        )
    return idx


def travel_times_key(
    network: RoadNetwork,
    access: pd.DataFrame,
    origins: pd.Index,
    destinations: pd.Index,
    cutoff_s: float | None,
) -> str:
    """The cache key of a matrix: a hash of the graph arrays, the access table and the arguments."""
    h = hashlib.sha256(network.fingerprint.encode())
    h.update(access["node"].to_numpy(np.int64).tobytes())
    h.update(np.nan_to_num(access["walk_s"].to_numpy(float), nan=-1).tobytes())
    h.update(np.nan_to_num(access["drive_s"].to_numpy(float), nan=-1).tobytes())
    for ids in (access.index, origins, destinations):
        h.update("\x1f".join(map(str, ids)).encode())
        h.update(b"\x1e")
    h.update(repr(cutoff_s).encode())
    return h.hexdigest()[:32]


def travel_times(
    network: RoadNetwork,
    access: pd.DataFrame,
    *,
    origins: Any = None,
    destinations: Any = None,
    cutoff_s: float | None = None,
    cache: TravelTimeCache | None = None,
    workers: int | None = None,
    chunk: int | None = None,
) -> TravelTimes:
    """Village-to-village travel times (seconds) along the roads, walking and edge legs included.

    Dijkstra (scipy.sparse.csgraph) from the distinct access nodes of the origins, on the main piece with dead
    ends pruned and two-neighbour chains contracted (:func:`_core_graph`), in chunks of origins to bound memory,
    in ``workers`` processes (default: 2 when the machine has them and the job is large enough to pay for them).

    Parameters
    ----------
    network, access
        From :func:`build_network` and :func:`locate_villages`.
    origins, destinations
        Village ids (default: every village of ``access``).
    cutoff_s
        Times above it are ``inf`` (the search stops there, which is faster).
    cache
        If given, the matrix is looked up there under :func:`travel_times_key` and stored there when computed
        (the cache, in :mod:`planner.io.cache`, does the disk work; the network never touches disk).
    workers
        Processes for the Dijkstra runs (default: 2 when the machine has 2 cores and origins x core nodes exceeds
        2e7, where forking pays: measured 3,000 x 200,000 synthetic county; else 1).
    chunk
        Origins per Dijkstra call (default: about 200 MB of rows, at least four chunks per worker).

    Returns
    -------
    TravelTimes
        ``inf`` for unreachable villages and pairs; 0 on the diagonal (a village to itself).
    """
    o_ids = village_ids(access, origins, "origins")
    d_ids = village_ids(access, destinations, "destinations")
    key = travel_times_key(network, access, o_ids, d_ids, cutoff_s) if cache is not None else ""
    if cache is not None:
        stored = cache.get(key, shape=(len(o_ids), len(d_ids)))
        if stored is not None:
            return TravelTimes(o_ids, d_ids, stored)
    a_o = access.loc[o_ids]
    a_d = access.loc[d_ids]
    node_o, ok_o, extra_o = _ends(a_o)
    node_d, ok_d, extra_d = _ends(a_d)
    seconds = np.full((len(o_ids), len(d_ids)), np.inf)
    if ok_o.any() and ok_d.any():
        dist = _node_seconds(
            network, node_o[ok_o], node_d[ok_d], cutoff_s=cutoff_s, workers=workers, chunk=chunk
        )
        block = dist + extra_o[ok_o][:, None] + extra_d[ok_d][None, :]
        seconds[np.ix_(np.flatnonzero(ok_o), np.flatnonzero(ok_d))] = block
        if cutoff_s is not None:
            seconds[seconds > cutoff_s] = np.inf
    same = o_ids.get_indexer(d_ids)
    cols = np.flatnonzero(same >= 0)
    seconds[same[cols], cols] = 0.0
    if cache is not None:
        cache.put(key, seconds)
    return TravelTimes(o_ids, d_ids, seconds)


def _ends(access: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per village: its access node, whether it is on the graph, and the seconds walked and driven to that node."""
    node = access["node"].to_numpy(np.int64)
    ok = (access["access"].to_numpy(object) != "unreachable") & (node >= 0)
    leg = np.nan_to_num(access["walk_s"].to_numpy(float)) + np.nan_to_num(access["drive_s"].to_numpy(float))
    return node, ok, np.where(ok, leg, np.inf)


def _node_seconds(
    network: RoadNetwork,
    node_o: np.ndarray,
    node_d: np.ndarray,
    *,
    cutoff_s: float | None,
    workers: int | None,
    chunk: int | None,
) -> np.ndarray:
    """Seconds from every node of ``node_o`` to every node of ``node_d`` (repeats allowed) on the core graph."""
    graph = network.graph()
    pieces = network.strong_pieces
    terminals = np.unique(np.concatenate([node_o, node_d]))
    # Shrinking pays even on the small demo network (66 villages, 2,300 nodes: 2x faster than Dijkstra on the
    # whole graph) and makes the province-size case (3,000 villages, 200,000 nodes) fit the minute.
    labels = np.unique(pieces[terminals])
    keep = np.flatnonzero(np.isin(pieces, labels))
    core, core_nodes = _core_graph(graph, keep, terminals)
    to_core = np.full(network.n_nodes, -1, np.int64)
    to_core[core_nodes] = np.arange(len(core_nodes))
    src, src_inv = np.unique(to_core[node_o], return_inverse=True)
    dst, dst_inv = np.unique(to_core[node_d], return_inverse=True)
    if workers is None:
        work = len(src) * core.shape[0]
        workers = 2 if (os.cpu_count() or 1) >= 2 and work > 20_000_000 else 1
    if chunk is None:
        # about 200 MB of float64 rows per chunk, at least 16 rows, and at least 4 chunks per worker
        rows_fit = max(16, int(25_000_000 // max(core.shape[0], 1)))
        chunk = rows_fit if workers == 1 else max(16, min(rows_fit, -(-len(src) // (4 * workers))))
    limit = np.inf if cutoff_s is None else float(cutoff_s)
    log.info(
        "matrix: %d x %d villages, %d origin nodes on a core of %d nodes / %d edges (graph %d / %d), "
        "%d worker(s), chunks of %d",
        len(node_o),
        len(node_d),
        len(src),
        core.shape[0],
        core.nnz,
        network.n_nodes,
        graph.nnz,
        workers,
        chunk,
    )
    dist = _many_to_many(core, src, dst, limit=limit, workers=workers, chunk=chunk)
    return dist[src_inv][:, dst_inv]
