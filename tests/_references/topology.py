"""Reference pipelines for the topological metrics, composed the way the released code composes them
(never imported by the package; the tests' parity target and the benchmarks' peer).

- Geometry Score (Khrulkov & Oseledets, ``KhrulkovV/geometry-score`` and ``piq.gs``): ``scipy`` ``cdist``
  table sorted per witness, ``gudhi.WitnessComplex`` with plain distances, ``create_simplex_tree(
  max_alpha_square=gamma * max, limit_dimension=2)``, ``persistence(homology_coeff_field=2)``, H1
  intervals, and the RLT by the midpoint rule in pure Python (one bar at a time, as the original).
- Zhou et al. (``stanfordmlgroup/disentanglement``): one base set of latents, 10 values per dimension,
  ``rlts`` per submanifold in a loop, ``ot.bregman.barycenter`` (POT, which the spec verified equal to
  their torch IBP) with the cost built from the number of draws, ``scipy.stats.wasserstein_distance``
  between W. RLTs, block means, ``SpectralCoclustering(random_state=0)`` on ``1 - A`` for every count,
  the bicluster score / variance and the arg-min of the variance.

Landmarks come from a ``numpy.random.Generator`` (``integers(0, N, L0)``, with replacement) so that a
seeded run can be compared with pydisent's; the original used ``np.random.choice`` on the global RNG.
Written from the spec (``shared/specs/topology_and_decomposition.md``), not copied.
"""

from __future__ import annotations

import numpy as np


def landmark_table(witnesses: np.ndarray, landmarks: np.ndarray):
    """gudhi's nearest-landmark table (per witness: (landmark position, distance) sorted by distance) of
    plain Euclidean distances, and the largest distance."""
    from scipy.spatial.distance import cdist

    d = cdist(witnesses, landmarks)
    order = np.argsort(d, axis=1)
    return [list(zip(o.tolist(), row[o].tolist())) for o, row in zip(order, d)], float(d.max())


def witness_h1(x: np.ndarray, landmark_idx: np.ndarray, gamma: float):
    """H1 intervals and alpha_max of the GS witness complex of ``x`` on ``x[landmark_idx]``."""
    import gudhi

    table, max_dist = landmark_table(x, x[landmark_idx])
    alpha_max = max_dist * gamma
    st = gudhi.WitnessComplex(nearest_landmark_table=table).create_simplex_tree(
        max_alpha_square=alpha_max, limit_dimension=2)
    st.persistence(homology_coeff_field=2)
    return np.asarray(st.persistence_intervals_in_dimension(1), dtype=np.float64).reshape(-1, 2), alpha_max


def relative(intervals, alpha_max: float, i_max: int = 100) -> np.ndarray:
    """RLT by the reference's midpoint rule, bar by bar in Python."""
    bars = [[float(b), alpha_max if np.isinf(d) else float(d)] for b, d in intervals]
    out = np.zeros(i_max)
    if not bars:
        out[0] = 1.0
        return out
    points = sorted({v for bar in bars for v in bar} | {0.0, float(alpha_max)})
    for lo, hi in zip(points[:-1], points[1:]):
        mid = (lo + hi) / 2
        alive = 0
        for b, d in bars:
            if b <= mid < d:
                alive += 1
        if alive < i_max:
            out[alive] += hi - lo
    return out / alpha_max


def rlts(x: np.ndarray, L0: int, gamma: float, i_max: int, n: int, rng=None, landmarks=None) -> np.ndarray:
    """``n`` RLT draws of the reference (``landmarks``: ``(n, L0)`` indices instead of drawing them)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros((n, i_max))
    for k in range(n):
        idx = landmarks[k] if landmarks is not None else rng.integers(0, len(x), L0)
        out[k] = relative(*witness_h1(x, idx, gamma), i_max=i_max)
    return out


def geometry_score(x1, x2, L0=64, gamma=None, i_max=100, n=1000, rng=None) -> float:
    g1 = (1.0 / 128) * len(x1) / 5000 if gamma is None else gamma
    g2 = (1.0 / 128) * len(x2) / 5000 if gamma is None else gamma
    m1 = rlts(x1, L0, g1, i_max, n, rng).mean(0)
    m2 = rlts(x2, L0, g2, i_max, n, rng).mean(0)
    return float(((m1 - m2) ** 2).sum())


def barymean(draws: np.ndarray) -> np.ndarray:
    """W. RLT of ``(n, i_max)`` draws: POT's IBP barycenter, cost ``(i-j)^2`` normalised, sized by the
    number of draws (as ``gs.barymean``; requires n == i_max)."""
    import ot

    k = np.arange(len(draws), dtype=np.float64)
    cost = (k[:, None] - k[None, :]) ** 2
    cost /= cost.max()
    return ot.bregman.barycenter(draws.T, cost, 1e-2, numItermax=100, stopThr=1e-4, warn=False)


def cocluster_score(A: np.ndarray, supervised: bool = False, random_state=0):
    """(score, chosen count, variance, {count: (score, var)}) of the ``gen_cov.py`` stage; an empty block
    raises in the unsupervised case (the original drops into pdb) and scores 0 in the supervised case."""
    from sklearn.cluster import SpectralCoclustering

    S = 1 - A
    counts = list(range(2, A.shape[0] + 1))
    table = {}
    for k in counts:
        model = SpectralCoclustering(n_clusters=k, random_state=random_state).fit(S)
        scores, variances = [], []
        for b in range(k):
            rows, cols = model.get_indices(b)
            ncols = np.nonzero(np.logical_not(model.columns_[b]))[0]
            d_in, d_out = len(rows) * len(cols), len(rows) * len(ncols)
            if d_in == 0 or d_out == 0:
                if not supervised:
                    raise RuntimeError(f"empty block at {k} clusters (the reference stops in pdb)")
                scores.append(0.0)
                variances.append(0.0)
                continue
            inside, outside = A[rows][:, cols], A[rows][:, ncols]
            scores.append(outside.sum() / d_out - inside.sum() / d_in)
            variances.append((inside.std() / d_in) ** 2 + (outside.std() / d_out) ** 2)
        table[k] = (np.mean(scores) * 10000, np.mean(variances) * 10000)
    best = counts[int(np.argmin([table[k][1] for k in counts]))]
    return table[best][0], best, table[best][1], table


def unsupervised_score(generator, latent_dim: int, rng, num_points=1000, num_values=10, L0=100, gamma=1 / 128,
                       n=100, i_max=100):
    """The whole unsupervised pipeline of the released code for a generator of vectors (no embedder)."""
    from scipy.stats import wasserstein_distance

    base = rng.standard_normal((num_points, latent_dim))
    values = rng.standard_normal((num_values, latent_dim)).T
    wrlt = {}
    for i in range(latent_dim):
        for j in range(num_values):
            z = base.copy()
            z[:, i] = values[i, j]
            x = np.stack([np.asarray(generator(z[r:r + 1]))[0] for r in range(num_points)])  # one sample per call
            wrlt[i, j] = barymean(rlts(x.reshape(num_points, -1), L0, gamma, i_max, n, rng))
    A = np.zeros((latent_dim, latent_dim))
    for i in range(latent_dim):
        for t in range(latent_dim):
            A[i, t] = np.mean([wasserstein_distance(wrlt[i, a], wrlt[t, b])
                               for a in range(num_values) for b in range(num_values)])
    return cocluster_score(A)
