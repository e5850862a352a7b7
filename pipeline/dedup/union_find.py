"""Connected components of an undirected graph given as edge lists: a compiled union-find.

The dedup's cluster phases only need, for every node of the accepted pairs, the smallest node of its component.
A union-find that always links the larger root under the smaller one keeps every root the smallest index of its
tree, so the answer falls out of one pass of ``find``: O(m log n) at worst with path halving, in one kernel, and
without importing SciPy's sparse graphs (0.17 CPU-s per process, most of it ``scipy.linalg``).
``tests/test_dedup_minhash.py`` checks the labels against ``scipy.sparse.csgraph.connected_components``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _find(parent: np.ndarray, x: int) -> int:
    while parent[x] != x:
        parent[x] = parent[parent[x]]  # path halving
        x = parent[x]
    return x


@njit(cache=True, nogil=True)
def smallest_in_component(left: np.ndarray, right: np.ndarray, n: int) -> np.ndarray:
    """For nodes ``0..n-1`` joined by the edges ``(left[i], right[i])``: the smallest node of each one's component."""
    parent = np.arange(n, dtype=np.int64)
    for i in range(left.size):
        a = _find(parent, left[i])
        b = _find(parent, right[i])
        if a < b:
            parent[b] = a
        elif b < a:
            parent[a] = b
    labels = np.empty(n, dtype=np.int64)
    for x in range(n):
        labels[x] = _find(parent, x)
    return labels
