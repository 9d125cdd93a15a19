"""Witness complex persistence (no RLT): pydisent's engine, all draws in one call, vs gudhi one draw at a time.

Cases (what the Geometry Score / Zhou et al. code runs per landmark draw: table, weak relaxed witness
complex to dimension 2 at ``alpha_max = gamma * max``, persistence over Z/2):

* Zhou et al. settings: N = 1000 witnesses in R^64, L0 = 100, gamma = 1/128, 100 draws;
* Geometry Score defaults: N = 5000 in R^64, L0 = 64, gamma = (1/128) N / 5000, 1000 draws.

Peers: the reference loop (``scipy`` ``cdist`` table sorted per witness, ``gudhi.WitnessComplex``,
``create_simplex_tree(max_alpha_square=gamma * max, limit_dimension=2)``, ``persistence(
homology_coeff_field=2)``, H1 intervals) and the same loop in a ``multiprocessing.Pool`` over the cores
(as ``piq.GS`` runs it). The RLT rows (engine + RLT) are in ``bench_topology``. The check compares the
H1 bars draw by draw (scipy's ``cdist`` may differ from the engine's table in the last bit, so equal
counts and bars within 1e-9 are required). Rows time all draws; ``draws`` in the JSON gives the per-draw
figure. The machine these run on is usually shared: figures are noisy.

``--quick``: 10 draws, N = 1000 for the GS row.
"""

from __future__ import annotations

import os

import numpy as np

from benchmarks.harness import Case


def _cloud(n: int, d: int = 64, seed: int = 0) -> np.ndarray:
    """A noisy closed curve in R^d (two circles' worth of H1 at the GS scales)."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 2 * np.pi, n)
    q = np.linalg.qr(rng.standard_normal((d, d)))[0]
    base = np.zeros((n, d))
    base[:, 0], base[:, 1] = np.cos(t), np.sin(t)
    base[:, 2], base[:, 3] = 0.5 * np.cos(3 * t), 0.5 * np.sin(3 * t)
    return (base + 0.05 * rng.standard_normal((n, d))) @ q


def _gudhi_h1(args):
    import gudhi
    from scipy.spatial.distance import cdist

    x, idx, gamma = args
    d = cdist(x, x[idx])
    order = np.argsort(d, axis=1)
    table = [list(zip(o.tolist(), row[o].tolist())) for o, row in zip(order, d)]
    st = gudhi.WitnessComplex(nearest_landmark_table=table).create_simplex_tree(
        max_alpha_square=gamma * float(d.max()), limit_dimension=2)
    st.persistence(homology_coeff_field=2)
    return np.asarray(st.persistence_intervals_in_dimension(1), dtype=np.float64).reshape(-1, 2)


def _case(name, x, L0, gamma, draws):
    from pydisent.topology.witness import witness_persistence_packed

    lm = np.random.default_rng(1).integers(0, len(x), (draws, L0))
    procs = os.cpu_count() or 1

    def ours():
        p = witness_persistence_packed(x, lm, relative_alpha=gamma)
        return [p.h1[p.off1[k]:p.off1[k + 1]] for k in range(draws)]

    def loop():
        return [_gudhi_h1((x, lm[k], gamma)) for k in range(draws)]

    def pool():
        import multiprocessing as mp

        with mp.get_context("fork").Pool(procs) as p:
            return p.map(_gudhi_h1, [(x, lm[k], gamma) for k in range(draws)])

    def check(outputs):
        base = outputs["pydisent"]
        for impl, out in outputs.items():
            for k, (a, b) in enumerate(zip(base, out)):
                a = a[np.lexsort((a[:, 1], a[:, 0]))]
                b = b[np.lexsort((b[:, 1], b[:, 0]))]
                if a.shape != b.shape or not np.allclose(a, b, rtol=0, atol=1e-9):
                    raise AssertionError(f"{impl}: H1 of draw {k} differs from pydisent's "
                                         f"({len(b)} vs {len(a)} bars)")

    impls = {"pydisent": ours, "gudhi loop": loop}
    if procs > 1:
        impls[f"gudhi pool-{procs}"] = pool
    return Case(name, impls, check=check,
                extra={"N": len(x), "d": x.shape[1], "L0": L0, "gamma": gamma, "draws": draws,
                       "threads": procs})


def cases(args):
    from pydisent.topology.witness import witness_persistence_packed

    witness_persistence_packed(_cloud(50), np.zeros((2, 5), np.int64), relative_alpha=0.1)  # first-call costs
    quick = bool(getattr(args, "quick", False))
    draws_zhou = 10 if quick else 100
    draws_gs = 10 if quick else 1000
    n_gs = 1000 if quick else 5000
    yield _case(f"witness persistence, Zhou settings (N=1000, d=64, L0=100, {draws_zhou} draws)",
                _cloud(1000), 100, 1 / 128, draws_zhou)
    yield _case(f"witness persistence, GS defaults (N={n_gs}, d=64, L0=64, {draws_gs} draws)",
                _cloud(n_gs, seed=1), 64, (1 / 128) * n_gs / 5000, draws_gs)
