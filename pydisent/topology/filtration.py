"""Persistence (H0, H1 over Z/2) of explicit filtrations of vertices, edges and triangles, batched.

A filtration here is any simplicial complex of dimension <= 2 with a value per simplex such that every
face of a simplex is present with a value <= the simplex's (what ``gudhi.SimplexTree`` holds, and what
:func:`pydisent.topology.witness_filtration` returns). The engine is the witness engine's reduction
(``csrc/persistence/witness_cpu.cpp``): H0 by union-find with the elder rule, H1 by cohomology over the
edges in reverse filtration order with clearing (forest edges) and emergent/apparent pairs for free; one
complex per thread. Diagrams equal gudhi's ``SimplexTree.persistence(homology_coeff_field=2)``.
"""

from __future__ import annotations

import numpy as np

from pydisent.topology.witness import MAX_LANDMARKS, WitnessDiagrams, WitnessFiltration

__all__ = ["filtration_persistence"]


def filtration_persistence(filtrations, *, maxdim: int = 1, persistence_dim_max: bool = True):
    """Diagrams ``[H0, H1]`` of one explicit filtration or of a list of them (one engine call).

    Args:
        filtrations: a :class:`~pydisent.topology.witness.WitnessFiltration`, a dict
            ``{(v0, ..., vk): value}`` (k <= 2, e.g. from ``SimplexTree.get_filtration()``), or a
            pair ``(simplices, values)`` of three arrays each (``(n_k, k + 1)`` int vertex ids, ``(n_k,)``
            values); or a list of these. Vertex ids are integers in ``[0, 8192)``.
        maxdim: 0 or 1.
        persistence_dim_max: ``True`` (default here) reports every H0/H1 bar; ``False`` applies gudhi's
            ``persistence()`` default (no bars of the complex's top dimension: no H1 without triangles, no
            H0 without edges), as :func:`~pydisent.topology.witness_persistence` does by default.

    Returns:
        :class:`~pydisent.topology.witness.WitnessDiagrams` (``max_alpha_square`` = nan) or a list.
        Rows: H0 by (death, birth), H1 by (birth, death); zero-length bars dropped; inf for essential bars.

    Raises ValueError naming ``filtrations`` for a face that is missing or has a larger value than its
    coface, a repeated simplex, a vertex repeated inside a simplex, NaN values or bad shapes.
    """
    from pydisent import _C

    single = _is_one(filtrations)
    items = [filtrations] if single else list(filtrations)
    if isinstance(maxdim, bool) or maxdim not in (0, 1):
        raise ValueError(f"argument 'maxdim' must be 0 or 1, got {maxdim!r}")
    if not isinstance(persistence_dim_max, (bool, np.bool_)):
        raise TypeError(f"argument 'persistence_dim_max' must be a bool, got {type(persistence_dim_max).__name__}")
    prepared = [_prepare(f, i if not single else None) for i, f in enumerate(items)]
    L = max([int(p[0].max()) + 1 if len(p[0]) else 0 for p in prepared] + [0])
    raw = _C.filtration_persistence_cpu([tuple(p) for p in prepared], max(L, 1), int(maxdim),
                                        bool(persistence_dim_max), _C.omp_max_threads())
    o0, o1 = raw["off0"].tolist(), raw["off1"].tolist()
    out = []
    for k in range(len(items)):
        dgms = [raw["dgm0"][o0[k]:o0[k + 1]]]
        if maxdim >= 1:
            dgms.append(raw["dgm1"][o1[k]:o1[k + 1]])
        out.append(WitnessDiagrams(dgms, float("nan")))
    return out[0] if single else out


def _is_one(f) -> bool:
    """One filtration (not a list of them): a WitnessFiltration, a dict, or (simplices, values) whose
    first element holds three arrays."""
    if isinstance(f, (WitnessFiltration, dict)):
        return True
    if isinstance(f, (list, tuple)) and len(f) == 2 and isinstance(f[0], (list, tuple)) and len(f[0]) == 3:
        return not isinstance(f[0][0], (WitnessFiltration, dict, list, tuple)) or all(
            isinstance(x, np.ndarray) for x in f[0])
    return False


def _prepare(f, index):
    where = "argument 'filtrations'" + (f"[{index}]" if index is not None else "")
    if isinstance(f, WitnessFiltration):
        simplices, values = f.simplices, f.values
    elif isinstance(f, dict):
        by = {0: ([], []), 1: ([], []), 2: ([], [])}
        for s, v in f.items():
            s = tuple(s)
            if not 1 <= len(s) <= 3:
                raise ValueError(f"{where}: simplices must have 1 to 3 vertices, got {s}")
            by[len(s) - 1][0].append(s)
            by[len(s) - 1][1].append(v)
        simplices = [np.array(by[k][0], dtype=np.int64).reshape(-1, k + 1) for k in range(3)]
        values = [np.array(by[k][1], dtype=np.float64) for k in range(3)]
    elif isinstance(f, (list, tuple)) and len(f) == 2:
        simplices, values = f
    else:
        raise TypeError(f"{where} must be a WitnessFiltration, a dict {{simplex: value}} or (simplices, values)")
    if len(simplices) != 3 or len(values) != 3:
        raise ValueError(f"{where}: need three simplex arrays (vertices, edges, triangles) and three value arrays")
    S, V = [], []
    for k in range(3):
        s = np.asarray(simplices[k])
        v = np.asarray(values[k], dtype=np.float64).reshape(-1)
        if s.size == 0:
            s = s.reshape(0, k + 1)
        if s.ndim != 2 or s.shape[1] != k + 1 or s.dtype.kind not in "iu":
            raise ValueError(f"{where}: dimension-{k} simplices must be an integer array of shape (n, {k + 1}), "
                             f"got {s.dtype} {s.shape}")
        if len(v) != len(s):
            raise ValueError(f"{where}: {len(s)} dimension-{k} simplices but {len(v)} values")
        if np.isnan(v).any():
            raise ValueError(f"{where}: NaN filtration values")
        s = np.sort(s.astype(np.int64), axis=1)
        if len(s) and (s.min() < 0 or s.max() >= MAX_LANDMARKS):
            raise ValueError(f"{where}: vertex ids must be in [0, {MAX_LANDMARKS}), got {int(s.min())}..{int(s.max())}")
        if k and len(s) and (np.diff(s, axis=1) == 0).any():
            raise ValueError(f"{where}: a simplex repeats a vertex")
        keys = _keys(s)
        if len(np.unique(keys)) != len(keys):
            raise ValueError(f"{where}: a dimension-{k} simplex appears twice")
        S.append(s)
        V.append(v)
    # faces present, with values <= their cofaces'
    for k in (1, 2):
        fk, fv = _keys(S[k - 1]), V[k - 1]
        order = np.argsort(fk)
        fk, fv = fk[order], fv[order]
        for drop in range(k + 1):
            face = np.delete(S[k], drop, axis=1)
            key = _keys(face)
            pos = np.searchsorted(fk, key)
            ok = (pos < len(fk)) & (fk[np.minimum(pos, len(fk) - 1)] == key) if len(fk) else np.zeros(len(key), bool)
            if not ok.all():
                bad = tuple(S[k][~ok][0].tolist())
                raise ValueError(f"{where}: simplex {bad} has a face that is not in the filtration")
            if (fv[pos] > V[k]).any():
                bad = tuple(S[k][fv[pos] > V[k]][0].tolist())
                raise ValueError(f"{where}: simplex {bad} has a face with a larger value (not a filtration)")
    return (S[0][:, 0].astype(np.int32), V[0], S[1].astype(np.int32), V[1], S[2].astype(np.int32), V[2])


def _keys(s: np.ndarray) -> np.ndarray:
    key = np.zeros(len(s), dtype=np.int64)
    for j in range(s.shape[1]):
        key = key * MAX_LANDMARKS + s[:, j]
    return key
