"""Tiny hand-made graphs for the districting tests: grids of unit squares and a contiguity check."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def grid_graph(rows: int, cols: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """A rows x cols grid of units joined to their four neighbours, and each unit's (row, col)."""
    n = rows * cols
    a = sp.lil_matrix((n, n))
    for i in range(n):
        r, c = divmod(i, cols)
        if c + 1 < cols:
            a[i, i + 1] = a[i + 1, i] = 1
        if r + 1 < rows:
            a[i, i + cols] = a[i + cols, i] = 1
    xy = np.array([divmod(i, cols) for i in range(n)], dtype=float)
    return a.tocsr(), xy


def connected(members: list[int], adj: sp.csr_matrix) -> bool:
    """The members form one piece of the graph."""
    sub = adj[members][:, members]
    ncomp, _ = sp.csgraph.connected_components(sub, directed=False)
    return ncomp == 1
