"""Pure numpy/Python reference for Vietoris-Rips H0/H1 (``backend="reference"``): small clouds only.

It shares nothing with the C++ engine but the conventions: float32 filtration values computed the
same way, the same simplexwise refinement (diameter, then combinatorial index descending), the same
threshold rules. H0 is Kruskal's union-find over the sorted edges; H1 is the textbook *homology*
reduction of the boundary matrix of all triangles (Z/2 columns as Python integers). Homology and
cohomology of one simplexwise filtration have the same persistence pairs (de Silva, Morozov,
Vejdemo-Johansson 2011), so this also checks the engine's generators exactly. Cost is
O(#triangles * #edges / 64): fine for a few dozen points.
"""

from __future__ import annotations

import numpy as np

_FLT_MAX = float(np.finfo(np.float32).max)


def distance_matrix(points: np.ndarray, metric="euclidean") -> np.ndarray:
    """float32 distances, accumulated in float64 in coordinate order (the engine's arithmetic).

    ``metric``: ``"euclidean"``, ``"manhattan"`` or ``"chebyshev"`` (or an alias or kernel code of
    :mod:`pydisent._distance_metric`)."""
    from pydisent._distance_metric import name_of

    metric = name_of(metric)
    if metric not in ("euclidean", "manhattan", "chebyshev"):
        raise ValueError(f"argument 'metric' must be euclidean, manhattan or chebyshev, got {metric!r}")
    x = np.asarray(points, dtype=np.float64)
    n, d = x.shape
    acc = np.zeros((n, n), dtype=np.float64)
    for q in range(d):
        diff = x[:, None, q] - x[None, :, q]
        if metric == "euclidean":
            acc += diff * diff
        elif metric == "manhattan":
            acc += np.abs(diff)
        else:
            acc = np.maximum(acc, np.abs(diff))
    if metric == "euclidean":
        acc = np.sqrt(acc)
    return acc.astype(np.float32)


def rips_reference(D: np.ndarray, maxdim: int, threshold: float):
    """Diagrams and generators (lists per dimension) of the float32 distance matrix ``D``."""
    D = np.asarray(D, dtype=np.float32)
    n = D.shape[0]
    thr = min(float(np.float32(threshold)), _FLT_MAX)
    dgms, gens = [], []
    # Edges (i > j) in F: diameter ascending, then key (i, j) descending.
    ii, jj = np.tril_indices(n, -1)
    w = D[ii, jj].astype(np.float64)
    keep = w <= thr
    ii, jj, w = ii[keep], jj[keep], w[keep]
    order = np.lexsort((-jj, -ii, w))
    ii, jj, w = ii[order], jj[order], w[order]

    parent = list(range(n))
    low = list(range(n))

    def find(v):
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    tree = set()
    h0, g0 = [], []
    for i, j, d in zip(ii.tolist(), jj.tolist(), w.tolist()):
        ri, rj = find(i), find(j)
        if ri == rj:
            continue
        tree.add((i, j))
        if low[ri] > low[rj]:
            ri, rj = rj, ri
        if d > 0:
            h0.append((0.0, d))
            g0.append((low[rj], i, j))
        parent[rj] = ri
    roots = sorted(low[v] for v in range(n) if find(v) == v)
    for r in roots:
        h0.append((0.0, np.inf))
        g0.append((r, -1, -1))
    dgms.append(np.array(h0, dtype=np.float64).reshape(-1, 2))
    gens.append(np.array(g0, dtype=np.int64).reshape(-1, 3))
    if maxdim < 1:
        return dgms, gens

    h1, g1 = [], []
    if n >= 3:
        radius = float(D.max(axis=1).min())
        t1 = min(thr, radius)
        sel = w <= t1
        e_i, e_j, e_w = ii[sel].tolist(), jj[sel].tolist(), w[sel].tolist()
        pos = {(i, j): p for p, (i, j) in enumerate(zip(e_i, e_j))}
        a, b, c = np.array(list(_triples(n))).T if n >= 3 else (None, None, None)
        tw = np.maximum(np.maximum(D[a, b], D[a, c]), D[b, c]).astype(np.float64)
        keep = tw <= t1
        a, b, c, tw = a[keep], b[keep], c[keep], tw[keep]
        order = np.lexsort((-c, -b, -a, tw))
        pivot_owner = {}
        columns = {}
        death_of = {}
        for t in order.tolist():
            ta, tb, tc = int(a[t]), int(b[t]), int(c[t])
            col = (1 << pos[(tb, tc)]) | (1 << pos[(ta, tc)]) | (1 << pos[(ta, tb)])
            while col:
                lowbit = col.bit_length() - 1
                other = pivot_owner.get(lowbit)
                if other is None:
                    pivot_owner[lowbit] = t
                    columns[lowbit] = col
                    death_of[lowbit] = (float(tw[t]), ta, tb, tc)
                    break
                col ^= columns[lowbit]
        for p, (i, j, d) in enumerate(zip(e_i, e_j, e_w)):
            if (i, j) in tree:
                continue
            if p in death_of:
                dd, ta, tb, tc = death_of[p]
                if dd > d:
                    h1.append((d, dd))
                    g1.append((i, j, ta, tb, tc))
            else:
                h1.append((d, np.inf))
                g1.append((i, j, -1, -1, -1))
    dgms.append(np.array(h1, dtype=np.float64).reshape(-1, 2))
    gens.append(np.array(g1, dtype=np.int64).reshape(-1, 5))
    return dgms, gens


def _triples(n: int):
    for x in range(2, n):
        for y in range(1, x):
            for z in range(y):
                yield (x, y, z)
