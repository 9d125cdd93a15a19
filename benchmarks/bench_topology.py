"""Topological metrics: pydisent vs the reference composition (gudhi + pure-Python RLT, POT, scikit-learn, scipy).

Cases:
* witness RLT draws at the Zhou et al. settings (N = 1000 points in R^64, L0 = 100, gamma = 1/128, 100 draws)
  and at the Geometry Score defaults (N = 5000 in R^64, L0 = 64, gamma = (1/128) N / 5000, 1000 draws):
  ``pydisent.topology.rlt.witness_rlts`` (all draws in one engine call) vs the reference loop (scipy table,
  ``gudhi.WitnessComplex``, persistence, the midpoint-rule RLT in Python) and vs the same loop in a
  ``multiprocessing.Pool`` over the cores, as ``piq.GS`` runs it. The rows time all draws; ``draws`` in the
  JSON gives the per-draw figure (the ratio is the same). At the GS defaults the side-by-side row runs 100
  draws (the peers take about 0.1 s per draw); pydisent's 1000-draw call is the row after it.
* the whole unsupervised Zhou et al. score of a 10-dimensional toy generator (spec A.6's generator, 7 more latents
  it ignores) at the paper's settings (1000
  points, 10 values per dimension, L0 = 100, n = 100, i_max = 100, no embedder: 100 submanifolds, 10,000
  witness complexes) vs ``tests._references.topology.unsupervised_score`` (the released code's composition:
  one generator call per sample, gudhi per draw, POT barycenters, scipy W1, SpectralCoclustering). The
  check compares the reference's score with the spread of pydisent's over ``SEEDS`` seeds and records both
  in the JSON row (``scores``).

``PYDISENT_BENCH_TOPOLOGY=rlt`` (or ``=score``) runs only the RLT rows (or only the whole score).
``--quick``: 10 draws (N = 1000 for the GS row), and a 4-dimensional generator with 300 points, 3 values,
n = i_max = 100 for the whole score (the reference sizes its cost by n, and fewer bins drop all mass).
The machine these run on is usually shared: figures are noisy.
"""

from __future__ import annotations

import math
import os
import statistics

import numpy as np

from benchmarks.harness import Case

SEEDS = 5


def _toy_generator(latent_dim: int, out_dim: int = 32, seed: int = 1234):
    """Spec A.6's generator with extra latents it ignores (as the collapsed dimensions of a trained VAE):
    x = Q [cos 2 pi Phi(z0), sin 2 pi Phi(z0), z1, z2] with a fixed isometry Q, z ~ N(0, I_latent_dim).
    Fixing z0 leaves a plane, z1 or z2 a cylinder, an ignored latent the whole 3-d manifold."""
    import torch

    q = np.linalg.qr(np.random.default_rng(seed).standard_normal((out_dim, 4)))[0]
    qt = torch.as_tensor(q.T, dtype=torch.float64)

    def generate(z):
        z = torch.as_tensor(np.asarray(z) if not isinstance(z, torch.Tensor) else z, dtype=torch.float64)
        p = 2 * math.pi * torch.special.ndtr(z[:, 0])
        return (torch.stack([torch.cos(p), torch.sin(p), z[:, 1], z[:, 2]], 1) @ qt).to(torch.float32)

    return generate


def _cloud(n: int, d: int = 64, seed: int = 0) -> np.ndarray:
    """A conditional submanifold of the toy generator lifted to R^d (what an embedder would hand over)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 10))
    z[:, 1] = 0.5
    x = _toy_generator(10, d)(z).numpy().astype(np.float64)
    return x + 0.01 * rng.standard_normal(x.shape)


def _ref_draw(args):
    from tests._references import topology as ref

    x, idx, gamma, i_max = args
    return ref.relative(*ref.witness_h1(x, idx, gamma), i_max=i_max)


def _rlt_case(name, x, L0, gamma, draws, i_max=100):
    from pydisent.topology.rlt import witness_rlts
    from tests._references import topology as ref

    lm = np.random.default_rng(1).integers(0, len(x), (draws, L0))
    procs = os.cpu_count() or 1

    def pool():
        import multiprocessing as mp

        with mp.get_context("fork").Pool(procs) as p:  # as piq.GS: one pool per call, a draw per task
            return np.stack(p.map(_ref_draw, [(x, lm[k], gamma, i_max) for k in range(draws)]))

    def check(outputs):
        base = np.asarray(outputs["pydisent"])
        for impl, out in outputs.items():
            err = float(np.abs(np.asarray(out) - base).max())
            if err > 1e-9:
                raise AssertionError(f"{impl} RLTs differ from pydisent's by {err:.2e}")

    impls = {
        "pydisent": lambda: witness_rlts(x, L0, gamma, i_max=i_max, landmarks=lm).numpy(),
        "gudhi+py-rlt loop": lambda: ref.rlts(x, L0, gamma, i_max, draws, landmarks=lm),
    }
    if procs > 1:
        impls[f"gudhi+py-rlt pool-{procs}"] = pool
    return Case(name, impls, check=check, extra={"N": len(x), "d": x.shape[1], "L0": L0, "gamma": gamma,
                                                  "draws": draws, "i_max": i_max})


def _score_case(quick: bool):
    from pydisent.metrics import topological_disentanglement
    from tests._references import topology as ref

    nz = 4 if quick else 10
    # the reference sizes its barycenter cost by the number of draws: it only runs with n == i_max
    kw = dict(num_points=300, num_values=3) if quick else {}
    gen = _toy_generator(nz)
    scores: dict = {}

    def ours():
        return topological_disentanglement(gen, nz, seed=0, **kw).score

    def reference():
        return ref.unsupervised_score(gen, nz, np.random.default_rng(0), **kw)[0]

    def check(outputs):
        # the seed spread of pydisent's score (each seed: fresh base set, values and landmarks)
        seeds = [topological_disentanglement(gen, nz, seed=s, **kw) for s in range(SEEDS)]
        scores["pydisent_seeds"] = [r.score for r in seeds]
        scores["pydisent_n_clusters"] = [r.n_clusters for r in seeds]
        scores["reference"] = outputs.get("reference")
        mu, sd = statistics.mean(scores["pydisent_seeds"]), statistics.stdev(scores["pydisent_seeds"])
        lo, hi = min(scores["pydisent_seeds"]), max(scores["pydisent_seeds"])
        print(f"  score: pydisent over {SEEDS} seeds {mu:.3f} +- {sd:.3f} (range {lo:.3f}..{hi:.3f}); "
              f"reference (seed 0) {scores['reference']:.3f}")
        if scores["reference"] is not None and abs(scores["reference"] - mu) > max(3 * sd, hi - lo):
            raise AssertionError(f"reference score {scores['reference']:.3f} outside pydisent's seed spread")

    settings = {"latent_dim": nz, "num_points": kw.get("num_points", 1000), "num_values": kw.get("num_values", 10),
                "L0": 100, "n": kw.get("n", 100), "i_max": kw.get("i_max", 100), "gamma": 1 / 128}
    return Case(f"zhou unsupervised score, {nz}-dim toy generator", {"pydisent": ours, "reference": reference},
                check=check, extra={"settings": settings, "scores": scores}, repeats=1)


def cases(args):
    """All cases; ``PYDISENT_BENCH_TOPOLOGY=rlt`` or ``=score`` keeps one group."""
    only = os.environ.get("PYDISENT_BENCH_TOPOLOGY", "")
    if only not in ("", "rlt", "score"):
        raise ValueError(f"PYDISENT_BENCH_TOPOLOGY must be 'rlt' or 'score', got {only!r}")
    if only != "score":
        yield from _rlt_cases(args)
    if only != "rlt":
        yield _score_case(bool(getattr(args, "quick", False)))


def _rlt_cases(args):
    from pydisent.topology.rlt import witness_rlts

    witness_rlts(_cloud(50), 10, 0.1, num_draws=2, rng=0)  # first-call costs (thread pool, imports) out of the rows
    quick = bool(getattr(args, "quick", False))
    draws_zhou = 10 if quick else 100
    draws_gs = 100 if quick else 1000  # the side-by-side row runs a tenth of them
    n_gs = 1000 if quick else 5000
    yield _rlt_case(f"witness RLT, Zhou settings (N=1000, d=64, L0=100, {draws_zhou} draws)",
                    _cloud(1000), 100, 1 / 128, draws_zhou)
    gs_cloud, gs_gamma = _cloud(n_gs, seed=1), (1 / 128) * n_gs / 5000
    # The peers at the GS defaults cost about a second per 10 draws: they run 1/10 of the draws (same per-draw
    # work; the ratio is per draw), and pydisent alone runs all 1000 in the next row.
    yield _rlt_case(f"witness RLT, GS defaults (N={n_gs}, d=64, L0=64, {draws_gs // 10} draws)",
                    gs_cloud, 64, gs_gamma, max(1, draws_gs // 10))
    if not quick:
        from pydisent.topology.rlt import witness_rlts

        lm = np.random.default_rng(2).integers(0, n_gs, (draws_gs, 64))
        yield Case(f"witness RLT, GS defaults (N={n_gs}, d=64, L0=64, {draws_gs} draws)",
                   {"pydisent": lambda: witness_rlts(gs_cloud, 64, gs_gamma, i_max=100, landmarks=lm)},
                   extra={"N": n_gs, "d": 64, "L0": 64, "gamma": gs_gamma, "draws": draws_gs, "i_max": 100})
