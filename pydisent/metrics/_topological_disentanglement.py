"""Topological disentanglement score of a generator (Zhou, Zelikman, Lu, Ng, Carlsson, Ermon, "Evaluating
the Disentanglement of Deep Generative Models through Manifold Topology", ICLR 2021).

No encoder is needed. For every latent dimension ``i`` and ``num_values`` values ``v`` of it (drawn from
the prior), one shared base set of ``num_points`` latents from the prior gets coordinate ``i`` set to
``v``; the generated points (optionally embedded) form the conditional submanifold ``X_{i,v}``. Its
topology is summarised by ``n`` RLTs of H1 of witness complexes (Geometry Score, Algorithm 1:
``L0`` random landmarks, ``gamma`` relative truncation, ``i_max`` bins) and their entropic Wasserstein
barycenter, the "W. RLT" ``w_{i,v}`` (:func:`pydisent.topology.transport.entropic_barycenter`). Then::

    A[i, j] = mean_{v, v'} d(w_{i,v}, w_{j,v'})        (targets j: latent dims, or real factors)
    S = 1 - A,   biclusters = SpectralCoclustering(n_clusters, random_state).fit(S)   for n_clusters = 2..nz
    score_b = mean A[R_b, not C_b] - mean A[R_b, C_b]           (rows R_b, columns C_b of bicluster b)
    var_b   = (std A[R_b, C_b] / (|R_b||C_b|))^2 + (std A[R_b, not C_b] / (|R_b||not C_b|))^2
    score(n) = 1e4 mean_b score_b,   var(n) = 1e4 mean_b var_b,   n* = argmin_n var(n)

and the score is ``score(n*)``: higher when latent dimensions group into sets that are topologically alike
within and unlike across. Unsupervised: targets are the model's own latent dimensions (``nz x nz``).
Supervised: targets are the real factors of a ground-truth dataset, each rendered at every one of its
values over ``num_factor_samples`` shared factor samples (``nz x K``).

Defaults are the released code's (``barcode_gen.py``, ``gen_cov.py``): N = 1000, 10 values per dimension,
L0 = 100, gamma = 1/128 (passed explicitly, so the Geometry Score's N/5000 rescaling does not apply),
n = 100 draws, i_max = 100, IBP eps 1e-2 (<= 100 iterations, the released loop's stop rule at 1e-4), value-based W1,
``SpectralCoclustering(random_state=0)``, every count 2..nz searched.

Reference quirks, each an option (reference behaviour available; the fix named):

* ``replace=True``: landmarks drawn with replacement (``np.random.choice(N, L0)``), as the code; fix:
  ``replace=False`` (distinct landmarks, needs L0 <= N).
* ``cost_matrix="bins"``: the barycenter's ground cost ``(i-j)^2/(i_max-1)^2`` built from the number of
  bins (the fix, default); ``"draws"``: built from the number of draws as the code does (``dist(len(rlts))``),
  which only works when ``n == i_max`` (otherwise the code fails on a shape mismatch; so does this).
* ``distance="zhou_code"``: ``scipy.stats.wasserstein_distance(a, b)`` of the W. RLTs, i.e. W1 between
  their bin *values* as samples (default, for parity); fix: ``"histogram"``, the W1 between the
  histograms over the number of holes (support scaled to [0, 1] so that ``1 - A`` stays a similarity);
  ``"euclidean"``: the Geometry Score's sum of squares (the code's ``dist_type='euclidean'``).
* ``separate_real_embedder=False``: the supervised real-data submanifolds are embedded by the same
  network as the model's (the fix, default); ``True``: a second, independently drawn random embedder, as
  the unseeded reference effectively does (its real-data and model runs each build a fresh random VGG).
* ``barycenter_stop="zhou"``: the stop rule of the released IBP loop (``gs/barycenter.py``: the change of the
  barycenter and its mass defect both <= 1e-4; default); ``"pot"``: POT's rule (``ot.bregman.barycenter``,
  which the spec took for the same): the same iterations continued longer, about 2e-5 per bin apart.
* ``mean="wasserstein"`` (reference) or ``"arithmetic"`` (the MRLT ablation of ``supplement/wdist_compare.py``).
* Empty blocks (a bicluster without rows, without columns, or with every column): the code scores them 0
  (score and variance, still counted in the mean) in the supervised case and stops in a debugger in the
  unsupervised one. ``empty_blocks=None`` (default) keeps the supervised rule and, unsupervised,
  ``"skip"``s the cluster counts that produce one (their score and variance are NaN and they cannot be
  chosen; if every count is skipped, ``ValueError``). ``"zero"`` / ``"skip"`` / ``"raise"`` force a rule.

The random VGG16 embedder (``embedder="random_vgg16"``, :func:`pydisent.models.embedders.random_vgg16_embedder`)
is seeded from ``seed``, unlike the reference's.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field

import numpy as np
import torch

from pydisent._rng import as_rng, randint, torch_seed
from pydisent._validation import Interval, Options, check, check_positive_int
from pydisent.metrics._registry import register
from pydisent.topology.rlt import mean_rlt, witness_rlts_clouds
from pydisent.topology.transport import (
    BARYCENTER_STOPS,
    DISTANCES,
    bin_cost,
    distance_matrix,
    entropic_barycenter,
)

PRIORS = ("normal", "uniform")
EMPTY_BLOCKS = ("zero", "skip", "raise")
MEANS = ("wasserstein", "arithmetic")
COST_MATRICES = ("bins", "draws")

__all__ = [
    "TopologicalDisentanglementResult",
    "block_mean_distances",
    "cocluster_scores",
    "submanifold_wrlts",
    "topological_disentanglement",
]


@dataclass
class TopologicalDisentanglementResult:
    """Everything the score is made of, so reports can draw it.

    Attributes:
        score: ``score(n*)`` (x 1e4 units). n_clusters: ``n*``. variance: ``var(n*)``.
        supervised: targets are real factors (True) or the model's latent dims (False).
        scores, variances: ``{count: value}`` for every searched count (NaN where skipped).
        biclusters: ``{count: [(rows, columns), ...]}`` index arrays of each bicluster (rows = latent dims,
            columns = targets).
        distances: ``A``, ``(nz, nz)`` or ``(nz, K)``. similarity: ``1 - A``.
        submanifold_distances: ``d(w_{i,v}, target)`` for every pair of submanifolds,
            ``(nz * num_values, nz * num_values)`` or ``(nz * num_values, sum_k n_k)`` (rows dim-major).
        wrlt: W. RLTs of the model's submanifolds ``(nz, num_values, i_max)``.
        latent_values: the values ``v`` ``(nz, num_values)``.
        real_wrlt: supervised only: per factor, ``(n_k, i_max)`` W. RLTs of its values.
        factors: supervised only: the factor indices (columns of ``A``), and their names.
        rlts, real_rlts: the raw RLT draws (``keep_rlts=True`` only): ``(nz, num_values, n, i_max)`` and
            per factor ``(n_k, n, i_max)``.
        settings: the options the score was computed with.
    """

    score: float
    n_clusters: int
    variance: float
    supervised: bool
    scores: dict
    variances: dict
    biclusters: dict
    distances: np.ndarray
    similarity: np.ndarray
    submanifold_distances: np.ndarray
    wrlt: np.ndarray
    latent_values: np.ndarray
    real_wrlt: list | None = None
    factors: tuple | None = None
    factor_names: tuple | None = None
    rlts: np.ndarray | None = None
    real_rlts: list | None = None
    settings: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """The headline numbers: ``{"score", "n_clusters", "variance"}``."""
        return {"score": self.score, "n_clusters": self.n_clusters, "variance": self.variance}


# ---- pure parts ----------------------------------------------------------------------------------

def submanifold_wrlts(rlts, *, mean: str = "wasserstein", reg: float = 1e-2, max_iter: int = 100, tol: float = 1e-4,
                      stop: str = "zhou", cost_matrix: str = "bins") -> torch.Tensor:
    """W. RLTs ``(C, i_max)`` of ``C`` submanifolds from their RLT draws ``(C, n, i_max)``: the entropic
    barycenter of each submanifold's ``n`` RLTs (``mean="wasserstein"``) or their plain mean (the MRLT).
    ``cost_matrix``: see the module docstring."""
    r = torch.as_tensor(rlts, dtype=torch.float64)
    if r.dim() != 3:
        raise ValueError(f"argument 'rlts' must have shape (num_submanifolds, n, i_max), got {tuple(r.shape)}")
    mean = check(mean, "mean", Options(MEANS))
    cost_matrix = check(cost_matrix, "cost_matrix", Options(COST_MATRICES))
    empty = r.sum(-1) <= 0
    if bool(empty.any()):
        c, k = (int(v) for v in torch.nonzero(empty)[0])
        raise ValueError(f"argument 'i_max': draw {k} of submanifold {c} spent all of [0, alpha_max] with >= i_max = "
                         f"{r.shape[2]} holes alive, so its RLT is all zeros (the reference returns NaN there); "
                         f"increase i_max")
    if mean == "arithmetic":
        return mean_rlt(r)
    if cost_matrix == "draws" and r.shape[1] != r.shape[2]:
        raise ValueError(f"argument 'cost_matrix' = 'draws' builds the cost from the n = {r.shape[1]} draws, as the "
                         f"reference does, which only fits i_max = {r.shape[2]} bins when n == i_max; use "
                         f"cost_matrix='bins' (the fix)")
    cost = bin_cost(r.shape[1] if cost_matrix == "draws" else r.shape[2], device=r.device)
    return entropic_barycenter(r, cost, reg=reg, max_iter=max_iter, tol=tol, stop=stop)


def block_mean_distances(d, row_sizes, col_sizes) -> np.ndarray:
    """``A[i, j]``: the mean of block ``(i, j)`` of the submanifold distance matrix ``d`` whose rows
    (columns) come in consecutive groups of ``row_sizes`` (``col_sizes``)."""
    t = torch.as_tensor(d, dtype=torch.float64)
    rs, cs = [int(s) for s in row_sizes], [int(s) for s in col_sizes]
    if t.shape != (sum(rs), sum(cs)) or min(rs + cs) < 1:
        raise ValueError(f"argument 'd' of shape {tuple(t.shape)} does not match groups of sizes {rs} x {cs}")
    ri = torch.repeat_interleave(torch.arange(len(rs)), torch.tensor(rs))
    ci = torch.repeat_interleave(torch.arange(len(cs)), torch.tensor(cs))
    rows = torch.zeros(len(rs), t.shape[1], dtype=torch.float64).index_add_(0, ri, t.cpu())
    sums = torch.zeros(len(rs), len(cs), dtype=torch.float64).index_add_(1, ci, rows)
    counts = torch.tensor(rs, dtype=torch.float64)[:, None] * torch.tensor(cs, dtype=torch.float64)[None]
    return (sums / counts).numpy()


def cocluster_scores(a, counts=None, *, random_state=0, empty_blocks: str = "skip") -> dict:
    """The co-clustering stage of Zhou et al. on a distance matrix ``A`` ``(nz, K)``.

    For each count in ``counts`` (default ``2 .. nz``): ``SpectralCoclustering(count, random_state).fit(1 - A)``,
    the per-bicluster ``score_b``/``var_b`` of the module docstring, ``score = 1e4 mean_b score_b`` and
    ``var = 1e4 mean_b var_b``. A bicluster with ``|R||C| = 0`` or ``|R||not C| = 0`` is handled by
    ``empty_blocks``: ``"zero"`` (score_b = var_b = 0, counted: the reference's supervised rule), ``"skip"``
    (this count gets NaN and cannot be chosen), ``"raise"``.

    Returns:
        ``{"n_clusters", "score", "variance", "scores", "variances", "biclusters"}`` with the chosen count
        ``argmin var`` (the first on ties, as ``np.argmin``).
    """
    from sklearn.cluster import SpectralCoclustering

    A = np.asarray(a, dtype=np.float64)
    if A.ndim != 2 or min(A.shape) < 1:
        raise ValueError(f"argument 'a' must be a (num_dims, num_targets) matrix, got shape {A.shape}")
    if not np.isfinite(A).all():
        raise ValueError("argument 'a' contains NaN or infinite values")
    empty_blocks = check(empty_blocks, "empty_blocks", Options(EMPTY_BLOCKS))
    S = 1.0 - A
    if (S < 0).any():
        raise ValueError(f"the similarity 1 - A has negative entries (largest distance {A.max():.4g} > 1): spectral "
                         f"co-clustering needs a non-negative matrix; use a distance bounded by 1 "
                         f"('zhou_code' or 'histogram')")
    nz = A.shape[0]
    if counts is None:
        counts = list(range(2, nz + 1))
    counts = [check_positive_int(c, "n_clusters", 2) for c in ([counts] if isinstance(counts, (int, np.integer))
                                                               else counts)]
    if not counts:
        raise ValueError(f"no cluster count to search: argument 'n_clusters' is empty or nz = {nz} < 2")
    scores, variances, biclusters = {}, {}, {}
    for k in counts:
        if k > nz + A.shape[1]:
            raise ValueError(f"argument 'n_clusters' = {k} exceeds the {nz + A.shape[1]} rows and columns of A")
        model = SpectralCoclustering(n_clusters=k, random_state=random_state).fit(S)
        sb, vb, skipped, blocks = [], [], False, []
        for b in range(k):
            rows, cols = np.nonzero(model.rows_[b])[0], np.nonzero(model.columns_[b])[0]
            blocks.append((rows, cols))
            ncol = np.ones(A.shape[1], dtype=bool)
            ncol[cols] = False
            inside, outside = A[np.ix_(rows, cols)], A[np.ix_(rows, np.nonzero(ncol)[0])]
            if inside.size == 0 or outside.size == 0:
                if empty_blocks == "raise":
                    raise ValueError(f"bicluster {b} of {k} has an empty block (rows {rows.tolist()}, columns "
                                     f"{cols.tolist()}); pass empty_blocks='zero' or 'skip'")
                if empty_blocks == "skip":
                    skipped = True
                sb.append(0.0)
                vb.append(0.0)
                continue
            sb.append(outside.mean() - inside.mean())
            vb.append((inside.std() / inside.size) ** 2 + (outside.std() / outside.size) ** 2)
        biclusters[k] = blocks
        scores[k] = math.nan if skipped else float(np.mean(sb) * 1e4)
        variances[k] = math.nan if skipped else float(np.mean(vb) * 1e4)
    valid = [k for k in counts if not math.isnan(variances[k])]
    if not valid:
        raise ValueError(f"every cluster count {counts} gives a bicluster with an empty block; pass "
                         f"empty_blocks='zero' (the reference's supervised rule) or fewer counts")
    best = valid[int(np.argmin([variances[k] for k in valid]))]
    return {"n_clusters": best, "score": scores[best], "variance": variances[best], "scores": scores,
            "variances": variances, "biclusters": biclusters}


# ---- sampling the submanifolds -------------------------------------------------------------------

def _device_of(generator, device):
    if device is not None:
        return torch.device(device)
    if isinstance(generator, torch.nn.Module):
        for p in list(generator.parameters()) + list(generator.buffers()):
            return p.device
    return torch.device("cpu")


def _prior_draw(prior, n: int, nz: int, rng) -> np.ndarray:
    if isinstance(prior, str):
        prior = check(prior, "prior", Options(PRIORS))
        z = rng.standard_normal((n, nz)) if prior == "normal" else rng.random((n, nz))
    else:
        z = prior(n, rng)
        z = z.detach().cpu().numpy() if isinstance(z, torch.Tensor) else np.asarray(z)
        if z.shape != (n, nz):
            raise ValueError(f"argument 'prior' must return latents of shape ({n}, {nz}), it returned {z.shape}")
    z = np.asarray(z, dtype=np.float64)
    if not np.isfinite(z).all():
        raise ValueError("argument 'prior' returned NaN or infinite latents")
    return z


class _Embed:
    """Maps a batch of generated (or rendered) observations to points ``(b, D)`` on the CPU."""

    def __init__(self, embedder, seed: int, device):
        self.spec, self.seed, self.device, self.net = embedder, seed, device, None
        if not (embedder is None or embedder == "random_vgg16" or callable(embedder)):
            raise ValueError(f"argument 'embedder' must be None, 'random_vgg16' or a callable, got {embedder!r}")

    def __call__(self, x: torch.Tensor, what: str) -> torch.Tensor:
        if self.spec is None:
            out = x
        else:
            if self.spec == "random_vgg16" and self.net is None:
                from pydisent.models.embedders import random_vgg16_embedder

                if x.dim() != 4:
                    raise ValueError(f"argument 'embedder' = 'random_vgg16' needs images (n, C, H, W); the {what} have "
                                     f"shape {tuple(x.shape)}")
                self.net = random_vgg16_embedder(int(x.shape[1]), 64, seed=self.seed, device=self.device)
            fn = self.net if self.spec == "random_vgg16" else self.spec
            out = fn(x.to(self.device) if self.spec == "random_vgg16" else x)
            out = out if isinstance(out, torch.Tensor) else torch.as_tensor(np.asarray(out))
            if out.dim() < 1 or out.shape[0] != x.shape[0]:
                raise ValueError(f"argument 'embedder' returned shape {tuple(out.shape)} for a batch of {x.shape[0]} "
                                 f"{what}")
        return out.detach().reshape(out.shape[0], -1).to("cpu")


def _generate_points(generator, z: torch.Tensor, batch_size: int, embed: _Embed, where: str) -> torch.Tensor:
    parts = []
    with torch.no_grad():
        for s in range(0, z.shape[0], batch_size):
            zb = z[s:s + batch_size]
            x = generator(zb)
            if isinstance(x, (tuple, list)):
                x = x[0]
            x = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
            if x.dim() < 1 or x.shape[0] != zb.shape[0]:
                raise ValueError(f"argument 'generator' returned shape {tuple(x.shape)} for a batch of {zb.shape[0]} "
                                 f"latents; it must return one observation per latent (batch first)")
            if x.dtype == torch.bool or x.is_complex():
                raise TypeError(f"argument 'generator' must return real observations, got dtype {x.dtype}")
            if not x.is_floating_point():
                x = x.to(torch.float32)
            if not bool(torch.isfinite(x).all()):
                raise ValueError(f"argument 'generator' produced NaN or infinite values ({where})")
            parts.append(embed(x, "generated observations"))
    pts = torch.cat(parts)
    if not bool(torch.isfinite(pts).all()):
        raise ValueError(f"argument 'embedder' produced NaN or infinite values ({where})")
    return pts


def _render_points(source, factors: np.ndarray, rng, batch_size: int, embed: _Embed, where: str) -> torch.Tensor:
    parts = []
    with torch.no_grad():
        for s in range(0, len(factors), batch_size):
            obs = source.observations(factors[s:s + batch_size], rng)
            obs = obs if isinstance(obs, torch.Tensor) else torch.as_tensor(np.asarray(obs))
            if not obs.is_floating_point():
                obs = obs.to(torch.float32)
            parts.append(embed(obs, "dataset observations"))
    pts = torch.cat(parts)
    if not bool(torch.isfinite(pts).all()):
        raise ValueError(f"the dataset observations (or their embedding) hold NaN or infinite values ({where})")
    return pts


class _CloudRLTs:
    """Collects submanifolds and hands them to the witness engine several at a time (one call per ~256 MiB
    of points), in order, so the landmark draws follow the same RNG stream as one call per submanifold."""

    def __init__(self, L0, gamma, rng, wit, budget_bytes: int = 256 << 20):
        self.L0, self.gamma, self.rng, self.wit, self.budget = L0, gamma, rng, wit, budget_bytes
        self.pending, self.bytes, self.done = [], 0, []

    def add(self, pts: torch.Tensor) -> None:
        self.pending.append(pts)
        self.bytes += pts.numel() * 8  # the engine reads float64
        if self.bytes >= self.budget:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            self.done.append(witness_rlts_clouds(self.pending, self.L0, self.gamma, rng=self.rng, **self.wit))
            self.pending, self.bytes = [], 0

    def result(self) -> torch.Tensor:
        self._flush()
        return torch.cat(self.done)


# ---- the score -----------------------------------------------------------------------------------

def topological_disentanglement(generator, latent_dim: int, *, dataset=None, prior="normal", num_points: int = 1000,
                                num_values: int = 10, L0: int = 100, gamma: float = 1.0 / 128, n: int = 100,
                                i_max: int = 100, embedder=None, seed=0, batch_size: int = 1000, device=None,
                                replace: bool = True, mean: str = "wasserstein", reg: float = 1e-2,
                                max_iter: int = 100, tol: float = 1e-4, barycenter_stop: str = "zhou",
                                cost_matrix: str = "bins", distance: str = "zhou_code", n_clusters=None,
                                random_state=0, empty_blocks: str | None = None, factors=None,
                                num_factor_samples: int = 1000, separate_real_embedder: bool = False,
                                keep_rlts: bool = False, backend: str = "auto") -> TopologicalDisentanglementResult:
    """The manifold-topology disentanglement score of Zhou et al. (ICLR 2021) of any generator.

    See the module docstring for the definition, the defaults (the released code's) and the reference
    quirks kept as options.

    Args:
        generator: callable ``z (b, latent_dim) float32 tensor -> observations (b, ...)`` (a decoder, a GAN
            generator); called under ``no_grad`` in batches of ``batch_size``, with ``z`` on ``device``
            (default: the device of the generator's parameters for an ``nn.Module``, else CPU).
        latent_dim: ``nz``, at least 2.
        dataset: a ground-truth dataset (pydisent or disentanglement_lib style) for the supervised variant
            (targets = its factors); ``None``: unsupervised (targets = the latent dims).
        prior: ``"normal"`` (N(0, I), VAEs/GANs), ``"uniform"`` (U(0, 1), InfoGAN-CR) or a callable
            ``(n, rng) -> z (n, latent_dim)``; the values of dimension ``i`` are column ``i`` of prior draws.
        num_points: ``N``, points per submanifold (1000; the code uses 100 for CelebA-HQ).
        num_values: values per latent dimension (10).
        L0, gamma, n, i_max: Geometry Score settings per submanifold (100, 1/128, 100, 100).
        embedder: ``None`` (points = flattened observations: vector outputs), ``"random_vgg16"`` (the
            reference's random VGG16 with 64-d output, seeded from ``seed``), or any callable
            ``(b, ...) -> (b, D)``.
        seed: int or ``numpy.random.Generator``: the base latents, the values, the landmarks, the factor
            samples and the embedder's weights all come from it (bit-identical reruns on the CPU).
        replace, mean, reg, max_iter, tol, barycenter_stop, cost_matrix, distance: see the module docstring
            (``barycenter_stop``: :func:`entropic_barycenter`'s ``stop``: ``"zhou"`` (default), the stop
            rule of the released code's own IBP loop; ``"pot"``, POT's rule, equal to
            ``ot.bregman.barycenter``: the same iterations run longer, about 2e-5 per bin apart on RLTs, 3-4x
            the barycenter time).
        n_clusters: the counts searched: ``None`` -> ``2 .. nz`` (the code's ``--search_n_clusters``), an
            int or a list.
        random_state: ``SpectralCoclustering``'s (0).
        empty_blocks: ``None`` -> ``"zero"`` supervised, ``"skip"`` unsupervised (see the module docstring).
        factors: supervised: the factor indices to use (default: every factor with >= 2 values).
        num_factor_samples: supervised: the shared factor samples per real submanifold (1000).
        separate_real_embedder: supervised with ``embedder="random_vgg16"``: embed real data with a second
            random network (the reference's behaviour) instead of the same one.
        keep_rlts: keep every RLT draw in the result.
        backend: the witness engine's backend.

    Returns:
        :class:`TopologicalDisentanglementResult` (``.score``, ``.n_clusters``, ``.as_dict()``).
    """
    a = _checked(dict(locals()))
    return _run(generator, dataset, ("supervised",) if dataset is not None else ("unsupervised",), a)[0]


def _checked(a: dict) -> dict:
    """The arguments of :func:`topological_disentanglement` (a dict of them), checked and converted."""
    if not callable(a["generator"]):
        raise TypeError(f"argument 'generator' must be callable (z -> observations), got "
                        f"{type(a['generator']).__name__}")
    a["latent_dim"] = check_positive_int(a["latent_dim"], "latent_dim", 2)
    a["num_points"] = check_positive_int(a["num_points"], "num_points", 2)
    for k in ("num_values", "L0", "n", "i_max", "batch_size", "max_iter"):
        a[k] = check_positive_int(a[k], k)
    a["gamma"] = check(a["gamma"], "gamma", Interval(float, 0, None, closed="neither"))
    a["reg"] = check(a["reg"], "reg", Interval(float, 0, None, closed="neither"))
    a["tol"] = check(a["tol"], "tol", Interval(float, 0, None))
    a["distance"] = check(a["distance"], "distance", Options(DISTANCES))
    a["barycenter_stop"] = check(a["barycenter_stop"], "barycenter_stop", Options(BARYCENTER_STOPS))
    a["mean"] = check(a["mean"], "mean", Options(MEANS))
    a["cost_matrix"] = check(a["cost_matrix"], "cost_matrix", Options(COST_MATRICES))
    a["empty_blocks"] = check(a["empty_blocks"], "empty_blocks", Options(EMPTY_BLOCKS, none=True))
    if not (isinstance(a["prior"], str) or callable(a["prior"])):
        raise TypeError(f"argument 'prior' must be 'normal', 'uniform' or a callable (n, rng) -> z, got "
                        f"{type(a['prior']).__name__}")
    if isinstance(a["prior"], str):
        check(a["prior"], "prior", Options(PRIORS))
    for k in ("replace", "separate_real_embedder", "keep_rlts"):
        if not isinstance(a[k], (bool, np.bool_)):
            raise TypeError(f"argument '{k}' must be a bool, got {type(a[k]).__name__}")
    if not a["replace"] and a["L0"] > a["num_points"]:
        raise ValueError(f"argument 'L0' = {a['L0']} exceeds 'num_points' = {a['num_points']}: distinct landmarks "
                         f"(replace=False) need L0 <= num_points; use replace=True (the reference)")
    if a["cost_matrix"] == "draws" and a["mean"] == "wasserstein" and a["n"] != a["i_max"]:
        raise ValueError(f"argument 'cost_matrix' = 'draws' builds the barycenter cost from the n = {a['n']} draws, as "
                         f"the reference does, which only fits i_max = {a['i_max']} bins when n == i_max; use "
                         f"cost_matrix='bins' (the fix)")
    if a["separate_real_embedder"] and a["embedder"] != "random_vgg16":
        raise ValueError("argument 'separate_real_embedder' needs embedder='random_vgg16' (a given callable is "
                         "used as it is for both)")
    _Embed(a["embedder"], 0, None)  # checks the kind of 'embedder'
    return a


def _run(generator, dataset, variants, a) -> list:
    """The model's submanifolds once, then each requested variant's score (``a``: the checked arguments)."""
    nz = a["latent_dim"]
    rng = as_rng(a["seed"])
    dev = _device_of(generator, a["device"])
    num_points, num_values, L0, n, i_max = a["num_points"], a["num_values"], a["L0"], a["n"], a["i_max"]
    prior, embedder, distance = a["prior"], a["embedder"], a["distance"]
    wit = dict(i_max=i_max, num_draws=n, replace=a["replace"], backend=a["backend"])
    settings = dict(num_points=num_points, num_values=num_values, L0=L0, gamma=a["gamma"], n=n, i_max=i_max,
                    prior=prior if isinstance(prior, str) else "callable",
                    embedder=embedder if embedder is None or isinstance(embedder, str) else "callable",
                    replace=bool(a["replace"]), mean=a["mean"], reg=a["reg"], max_iter=a["max_iter"], tol=a["tol"],
                    barycenter_stop=a["barycenter_stop"], cost_matrix=a["cost_matrix"], distance=distance,
                    random_state=a["random_state"])

    # One shared base set, then num_values values per dimension, then the embedders' seeds.
    base = _prior_draw(prior, num_points, nz, rng)
    values = _prior_draw(prior, num_values, nz, rng).T.copy()  # (nz, num_values)
    embed_seed = torch_seed(rng)
    real_seed = torch_seed(rng) if a["separate_real_embedder"] else embed_seed
    embed = _Embed(embedder, embed_seed, dev)

    z = torch.as_tensor(base, dtype=torch.float32).to(dev)
    model_rlts = _CloudRLTs(L0, a["gamma"], rng, wit)
    for i in range(nz):
        for j in range(num_values):
            zi = z.clone()
            zi[:, i] = float(values[i, j])
            model_rlts.add(_generate_points(generator, zi, a["batch_size"], embed,
                                            f"latent dimension {i}, value {values[i, j]:.4g}"))
    rl = model_rlts.result()  # (nz * num_values, n, i_max)
    bary = dict(mean=a["mean"], reg=a["reg"], max_iter=a["max_iter"], tol=a["tol"], stop=a["barycenter_stop"],
                cost_matrix=a["cost_matrix"])
    w = submanifold_wrlts(rl, **bary)
    support = torch.arange(i_max, dtype=torch.float64) / max(i_max - 1, 1) if distance == "histogram" else None

    results = []
    for variant in variants:
        real_w = real_rl = fidx = fnames = None
        if variant == "supervised":
            from pydisent.data.source import as_source

            source = as_source(dataset)
            sizes = [int(s) for s in source.factor_sizes]
            if a["factors"] is None:
                fidx = tuple(k for k, s in enumerate(sizes) if s >= 2)
            else:
                fidx = tuple(check(k, "factors", Interval(int, 0, len(sizes) - 1)) for k in a["factors"])
            if not fidx:
                raise ValueError("argument 'dataset' has no factor with >= 2 values to compare with")
            names = getattr(source.factor_space, "names", None)
            fnames = tuple(names[k] for k in fidx) if names is not None else None
            nfs = check_positive_int(a["num_factor_samples"], "num_factor_samples", 2)
            # the dataset draws from its own kind of RNG (RandomState for disentanglement_lib datasets)
            drng = source.make_rng(int(randint(rng, 2**31)))
            shared = source.sample_factors(nfs, drng)
            real_embed = embed if real_seed == embed_seed else _Embed(embedder, real_seed, dev)
            real_rlts = _CloudRLTs(L0, a["gamma"], rng, wit)
            for k in fidx:
                for v in range(sizes[k]):
                    f = shared.copy()
                    f[:, k] = v
                    where = f"factor {k}, value {v}"
                    real_rlts.add(_render_points(source, f, drng, a["batch_size"], real_embed, where))
            real_rl = list(torch.split(real_rlts.result(), [sizes[k] for k in fidx]))
            real_w = [submanifold_wrlts(r, **bary) for r in real_rl]
            d = distance_matrix(w, torch.cat(real_w), distance=distance, support=support).numpy()
            A = block_mean_distances(d, [num_values] * nz, [sizes[k] for k in fidx])
        else:
            d = distance_matrix(w, distance=distance, support=support).numpy()
            A = block_mean_distances(d, [num_values] * nz, [num_values] * nz)
        rule = a["empty_blocks"] or ("zero" if variant == "supervised" else "skip")
        cc = cocluster_scores(A, a["n_clusters"], random_state=a["random_state"], empty_blocks=rule)
        results.append(TopologicalDisentanglementResult(
            score=cc["score"], n_clusters=cc["n_clusters"], variance=cc["variance"],
            supervised=variant == "supervised", scores=cc["scores"], variances=cc["variances"],
            biclusters=cc["biclusters"], distances=A, similarity=1.0 - A, submanifold_distances=d,
            wrlt=w.reshape(nz, num_values, i_max).numpy(), latent_values=values,
            real_wrlt=None if real_w is None else [r.numpy() for r in real_w], factors=fidx, factor_names=fnames,
            rlts=rl.reshape(nz, num_values, n, i_max).numpy() if a["keep_rlts"] else None,
            real_rlts=[r.numpy() for r in real_rl] if a["keep_rlts"] and real_rl is not None else None,
            settings={**settings, "supervised": variant == "supervised", "empty_blocks": rule}))
    return results


@register("topological_disentanglement", topological_disentanglement, needs="generator",
          headline=("unsupervised_score", "supervised_score"), default=False)
def evaluate_topological_disentanglement(source, generator, rng, *, supervised: bool | None = None, **options) -> dict:
    """Zhou et al. (ICLR 2021) manifold-topology score of a generator: unsupervised, and supervised against the
    dataset's factors when one is given (``supervised=None``: when a dataset is given)."""
    sup = source is not None if supervised is None else bool(supervised)
    if sup and source is None:
        raise ValueError("argument 'dataset' is needed for the supervised topological_disentanglement score")
    opts = dict(options)
    opts.setdefault("prior", lambda k, r: generator.sample_latents(k, r).detach().cpu().numpy())
    stray = set(opts) & {"dataset", "seed", "generator", "latent_dim"}
    if stray:
        raise ValueError(f"options {sorted(stray)} are set by evaluate(); pass the dataset and seed to evaluate()")
    # Check every option by the public function's rules, then compute the model side once for both variants.
    bound = inspect.signature(topological_disentanglement).bind(generator.generate, generator.latent_dim,
                                                                seed=torch_seed(rng), **opts)
    bound.apply_defaults()
    args = _checked(dict(bound.arguments))
    variants = ("unsupervised", "supervised") if sup else ("unsupervised",)
    out = {}
    for res in _run(generator.generate, source, variants, args):
        out.update({f"{'supervised' if res.supervised else 'unsupervised'}_{k}": v for k, v in res.as_dict().items()})
    return out
