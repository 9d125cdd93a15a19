"""Ground-truth correlation: do latent distances reproduce ground-truth distances? (msc-research)

Michlo, James & Klein, "Data Overlap: A Prerequisite For Disentanglement" (arXiv 2202.13341), and
disent's ``metric_distances`` / ``metric_factored_components`` (distances part), reproduced here with
disent's defaults and key names. Registered as ``ground_truth_correlation``; ``"distances"``, its former
registry name, is still accepted with a ``DeprecationWarning`` (the keys keep disent's ``distances.`` prefix).

For each factor ``f`` with more than one value, ``repeats`` (1024) random traversals along ``f`` are
encoded; in each, ``num_samples`` (64) random triplets ``(a, p, n)`` of traversal positions are drawn
with replacement. For every triplet the distances ``d(a, p)`` and ``d(a, n)`` are measured in four
spaces:

* ground: ``|i_a - i_p|``, the difference of the factor's value along the traversal;
* data: the per-element mean squared difference of the two (transformed, float) observations. For a
  pydisent dataset with uint8 images and its default (or a :class:`~pydisent.data.FloatCHW`) transform,
  the evaluate form measures it on the uint8 images with the transform's per-channel scale
  (:func:`pydisent.ops.paired_image_mse`): the same quantity from exact integer sums, so pairs whose
  true distances are equal tie exactly. Computed from float images (disent; the array form), such
  ties are broken by rounding at the 1e-16 level, which moves the ``rsame`` fractions that count
  ``==`` (by 0.005 on XYObject at 64 repeats), not the correlations (1e-9);
* latent L1 and latent L2 between the codes.

Concatenating ``d(a, p)`` and ``d(a, n)`` of all repeats (``2 * repeats * num_samples`` values), for
each pair of spaces (ground/data, ground/latent, latent/data):

* ``rcorr``: Spearman rank correlation (average ranks for ties, as ``scipy.stats.spearmanr``);
* ``lcorr``: Pearson correlation;
* ``rsame``: the fraction of triplets ordered the same way in both spaces, i.e. where
  ``sign(d(a,p) - d(a,n))`` agrees (``<``, ``==``, ``>``).

Per-factor values are combined across factors by the geometric mean (float64). The "global" scores
do the same on ``repeats`` random subsets of ``global_subset_size`` (32) factor vectors, with the
ground distance the L1 distance between factor position vectors.

Keys (``<l>`` is ``l1`` or ``l2``, ``<scope>`` is ``factor`` or ``global``):
``distances.{rsame,rcorr,lcorr}_ground_data.<scope>``, ``distances.{rsame,rcorr,lcorr}_ground_latent.<l>.<scope>``,
``distances.{rsame,rcorr,lcorr}_latent_data.<l>.<scope>``. The paper's "ground-truth correlation" is
``distances.rcorr_ground_latent.l1.factor`` (and ``.l2``).

Undefined values (disent gives NaN): a correlation with a constant series (e.g. constant codes) is
reported as 0, and a negative per-factor value counts as 0 in the geometric mean; both with a
``RuntimeWarning``. Factors with a single value are skipped, as in disent.
"""

from __future__ import annotations

import numpy as np
import torch

from pydisent._dispatch import resolve_backend
from pydisent._rng import as_rng
from pydisent._validation import as_tensor, check_finite, check_float, check_positive_int
from pydisent.metrics._registry import ALIASES, register
from pydisent.metrics._scaling import global_guard
from pydisent.metrics._traversals import (
    ImageBatch,
    check_backend,
    check_repeats,
    check_traversals,
    factor_names_for,
    geometric_mean,
    iter_observation_chunks,
    no_active_factors,
    sample_active_traversals,
    sample_triplets,
    warn_notes,
)
from pydisent.ops.paired import _paired, _paired_image
from pydisent.ops.rank import pearson, rankdata

# (key fragment, space a, space b): the pairs of spaces compared; latent pairs exist per L1/L2.
_PAIRS = [("ground_data", "ground", "data")] + [
    item
    for lp in ("l1", "l2")
    for item in ((f"ground_latent.{lp}", "ground", lp), (f"latent_data.{lp}", lp, "data"))
]
_LATENT = (("l1", "manhattan"), ("l2", "euclidean"))


def distance_keys(scope: str, with_data: bool = True) -> list[str]:
    keys = []
    for frag, a, b in _PAIRS:
        if not with_data and "data" in (a, b):
            continue
        keys += [f"distances.{k}_{frag}.{scope}" for k in ("rsame", "rcorr", "lcorr")]
    return sorted(keys)


# -- distances of sampled pairs -------------------------------------------------------------------

def pair_distances(points: torch.Tensor, ia: torch.Tensor, ib: torch.Tensor, metric: str,
                   backend: str = "auto") -> torch.Tensor:
    """``d(points[c, ia[c, j]], points[c, ib[c, j]])`` for ``points`` ``(C, s, D)``: ``(C, N)`` float64,
    by :func:`pydisent.ops.paired_distance`: each sampled pair straight from its two rows, all pairs
    reduced alike, so ties stay exact as disent has them (a tiled all-pairs kernel rounds a pair
    according to its place in the tile, and the sampled pairs are few: 128 per traversal against
    ``s(s-1)/2``)."""
    C, s, D = points.shape
    base = torch.arange(C, device=points.device)[:, None] * s
    # points are checked (finite) by the callers and the indices are drawn in range
    return _paired(points.reshape(C * s, D), base + ia, base + ib, metric, resolve_backend(backend, points))


def image_pair_distances(batch: ImageBatch, ia: torch.Tensor, ib: torch.Tensor, backend: str = "auto") -> torch.Tensor:
    """:func:`pair_distances` ``"mse"`` of the float observations, from the uint8 images of ``batch``
    (:func:`pydisent.ops.paired_image_mse`): ``(C, N)`` float64."""
    images = batch.images
    C, s, D = images.shape
    base = torch.arange(C, device=images.device)[:, None] * s
    scale = torch.as_tensor(batch.channel_scale, dtype=torch.float64)
    path = "torch" if backend == "torch" else "cpu"
    return _paired_image(images.reshape(C * s, D), base + ia, base + ib, scale, path)


def chunk_distances(codes: torch.Tensor, triplets: torch.Tensor, observations: torch.Tensor | None,
                    factors: torch.Tensor | None, backend: str = "auto") -> dict:
    """Triplet distances of a chunk of traversals/subsets: ``{space: (d(a,p), d(a,n))}``, each ``(C, N)``.

    ``codes`` ``(C, s, Z)``, ``triplets`` ``(C, N, 3)`` (long, on the codes' device), ``observations``
    ``(C, s, D)`` or None, ``factors`` ``(C, s, F)`` for the global scope (ground = L1 between factor
    vectors) or None for traversals (ground = index difference).
    """
    a, p, n = triplets.unbind(-1)
    out = {}
    if factors is None:
        out["ground"] = ((a - p).abs().to(torch.float64), (a - n).abs().to(torch.float64))
    else:
        out["ground"] = (pair_distances(factors, a, p, "manhattan", backend),
                         pair_distances(factors, a, n, "manhattan", backend))
    for name, metric in _LATENT:
        out[name] = (pair_distances(codes, a, p, metric, backend), pair_distances(codes, a, n, metric, backend))
        if not bool(torch.isfinite(out[name][0]).all() & torch.isfinite(out[name][1]).all()):
            raise ValueError(f"the codes' {metric} distances overflow float64 (codes beyond about 1e154): rescale "
                             f"the representation, or score codes you already have with the array form, which "
                             f"rescales them exactly")
    if isinstance(observations, ImageBatch):  # uint8 images: exact, and finite by construction
        out["data"] = (image_pair_distances(observations, a, p, backend),
                       image_pair_distances(observations, a, n, backend))
    elif observations is not None:
        out["data"] = (pair_distances(observations, a, p, "mse", backend),
                       pair_distances(observations, a, n, "mse", backend))
        # a non-finite value in a sampled image makes its distances non-finite: checking the few
        # distances is far cheaper than scanning every image
        if not bool(torch.isfinite(out["data"][0]).all() & torch.isfinite(out["data"][1]).all()):
            raise ValueError("the observations contain NaN or infinite values (the data distances need finite "
                             "observations)")
    return out


def _concat(parts: list[dict]) -> dict:
    return {k: (torch.cat([d[k][0] for d in parts]), torch.cat([d[k][1] for d in parts])) for k in parts[0]}


# -- scores ---------------------------------------------------------------------------------------

def scores_from_distances(scopes: list[dict]) -> list[dict]:
    """For each scope ``{space: (ap (R, N), an (R, N))}``: ``{key fragment: value}`` with the keys
    ``rsame_*``, ``rcorr_*``, ``lcorr_*`` (NaN where a series is constant; callers decide).

    Scopes with the same number of triplets are ranked and correlated in one batched call."""
    results: list[dict | None] = [None] * len(scopes)
    groups: dict[tuple, list[int]] = {}
    for i, sc in enumerate(scopes):
        groups.setdefault((tuple(sorted(sc)), sc["ground"][0].numel()), []).append(i)
    for (spaces, _), idx in groups.items():
        # (S, 2M) values per space: all d(a,p) then all d(a,n), as disent concatenates them
        vals = {k: torch.stack([torch.cat([scopes[i][k][0].reshape(-1), scopes[i][k][1].reshape(-1)]) for i in idx])
                for k in spaces}
        signs = {k: torch.stack([torch.sign(scopes[i][k][0] - scopes[i][k][1]).reshape(-1) for i in idx])
                 for k in spaces}
        stacked = torch.stack([vals[k] for k in spaces])  # one ranking call for every space and scope
        ranks = dict(zip(spaces, rankdata(stacked, dim=-1).unbind(0)))
        out = [{} for _ in idx]
        for frag, sa, sb in _PAIRS:
            if sa not in vals or sb not in vals:
                continue
            rsame = (signs[sa] == signs[sb]).to(torch.float64).mean(-1)
            rcorr = pearson(ranks[sa], ranks[sb])
            lcorr = pearson(vals[sa], vals[sb])
            for j in range(len(idx)):
                out[j][f"rsame_{frag}"] = float(rsame[j])
                out[j][f"rcorr_{frag}"] = float(rcorr[j])
                out[j][f"lcorr_{frag}"] = float(lcorr[j])
        for j, i in enumerate(idx):
            results[i] = out[j]
    return results


def combine_scopes(factor_scores: list[dict], factor_names: list[str], global_scores: dict | None,
                   notes: list[str]) -> dict:
    """Geometric mean over factors (``.factor`` keys) and the global values (``.global`` keys), with
    undefined correlations (NaN) reported as 0."""
    result = {}
    for frag in factor_scores[0]:
        vals = np.array([fs[frag] for fs in factor_scores], dtype=np.float64)
        bad = np.isnan(vals)
        if bad.any():
            notes.append(f"distances.{frag}: a distance series is constant for factor(s) "
                         f"{[factor_names[i] for i in np.flatnonzero(bad)]} (correlation undefined), counted as 0")
            vals = np.where(bad, 0.0, vals)
        result[f"distances.{frag}.factor"] = geometric_mean(vals, f"distances.{frag}.factor", notes)
    if global_scores is not None:
        for frag, v in global_scores.items():
            if np.isnan(v):
                notes.append(f"distances.{frag}.global: a distance series is constant (correlation undefined), "
                             f"reported as 0")
                v = 0.0
            result[f"distances.{frag}.global"] = float(v)
    return dict(sorted(result.items()))


# -- array form -----------------------------------------------------------------------------------

def ground_truth_correlation(traversals, traversal_observations=None, *, global_codes=None, global_observations=None,
                             global_factors=None, num_samples: int = 64, rng=0, backend: str = "auto",
                             factor_names=None) -> dict:
    """Ground-truth correlation scores from codes (and observations) the caller already has.

    Args:
        traversals: one ``(repeats, s_f, Z)`` array per factor: codes of full traversals of factor
            ``f`` (values ``0..s_f-1`` in order, other factors fixed). Factors with ``s_f = 1`` are
            skipped.
        traversal_observations: optional, one ``(repeats, s_f, ...)`` array per factor: the (float,
            transformed) observations of those traversals, for the data-distance keys (``*_data``),
            which are left out without them.
        global_codes: optional ``(repeats, n, Z)`` codes of random subsets of factor vectors, with
            ``global_factors`` ``(repeats, n, F)`` (their factor positions) and optionally
            ``global_observations`` ``(repeats, n, ...)``: the ``.global`` keys.
        num_samples: triplets per traversal / subset (64).
        rng: seed or generator for the triplets (drawn per factor in order, then for the global scope).
        backend: :func:`pydisent.ops.paired_distance` backend (``"auto"``, ``"cpu"``, ``"cuda"``, ``"torch"``).
        factor_names: names for warnings (default ``factor_0``, ...).

    Returns:
        The keys of the module docstring; see there for definitions, defaults and undefined values.
    """
    rng = as_rng(rng)
    num_samples = check_positive_int(num_samples, "num_samples")
    # every key is a (rank) correlation of distances: scale-free, so codes beyond 2**+-100 are moved by a
    # power of two before their squared distances overflow or underflow (codes inside are untouched)
    codes = [global_guard(c)[0] for c in check_traversals(traversals)]
    device = codes[0].device
    obs = None
    if traversal_observations is not None:
        obs = _check_observations(traversal_observations, codes, "traversal_observations")
    names = factor_names_for(factor_names, len(codes))
    active = [f for f, c in enumerate(codes) if c.shape[1] > 1]
    if not active:
        no_active_factors("ground_truth_correlation", [c.shape[1] for c in codes])
    trips = {f: sample_triplets(rng, codes[f].shape[0], codes[f].shape[1], num_samples) for f in active}
    g = None
    if global_codes is not None:
        g = _check_global(global_codes, global_factors, global_observations, codes[0].shape[2], device)
        gtrip = sample_triplets(rng, g[0].shape[0], g[0].shape[1], num_samples)
    elif global_factors is not None or global_observations is not None:
        raise ValueError("argument 'global_codes' is required with 'global_factors'/'global_observations'")

    scopes = []
    for f in active:
        t = torch.as_tensor(trips[f], device=device)
        scopes.append(_collect_in_memory(codes[f], None if obs is None else obs[f], None, t, backend))
    if g is not None:
        scopes.append(_collect_in_memory(g[0], g[2], g[1], torch.as_tensor(gtrip, device=device), backend))
    scores = scores_from_distances(scopes)
    notes: list[str] = []
    out = combine_scopes(scores[:len(active)], [names[f] for f in active], scores[-1] if g is not None else None, notes)
    warn_notes("ground_truth_correlation", notes)
    return out


def _collect_in_memory(codes, obs, factors, trips, backend) -> dict:
    """Triplet distances of in-memory arrays, in chunks that bound the temporaries."""
    R, s = codes.shape[:2]
    per = (obs[0].numel() if obs is not None else 0) + s * codes.shape[2]
    step = max(1, (1 << 26) // max(1, per * s))
    parts = []
    for r0 in range(0, R, step):
        r1 = min(R, r0 + step)
        parts.append(chunk_distances(codes[r0:r1], trips[r0:r1], None if obs is None else obs[r0:r1],
                                     None if factors is None else factors[r0:r1], backend))
    return _concat(parts)


def _check_observations(observations, codes, name):
    if isinstance(observations, (torch.Tensor, np.ndarray)) or len(observations) != len(codes):
        raise ValueError(f"argument '{name}' must be a sequence with one array per factor ({len(codes)}), "
                         f"like 'traversals'")
    out = []
    for f, (o, c) in enumerate(zip(observations, codes)):
        nm = f"{name}[{f}]"
        o = as_tensor(o, nm, device=c.device)
        if not o.is_floating_point():
            o = o.to(torch.float32)
        check_float(o, nm)
        if o.dim() < 2 or tuple(o.shape[:2]) != tuple(c.shape[:2]):
            raise ValueError(f"argument '{nm}' must have shape ({c.shape[0]}, {c.shape[1]}, ...) to match "
                             f"traversals[{f}], got {tuple(o.shape)}")
        check_finite(o, nm)
        out.append(o.reshape(c.shape[0], c.shape[1], -1))
    return out


def _check_global(codes, factors, observations, z, device):
    codes = as_tensor(codes, "global_codes", device=device)
    if not codes.is_floating_point():
        codes = codes.to(torch.float32)
    if codes.dim() != 3 or codes.shape[2] != z or codes.shape[1] < 1 or codes.shape[0] < 1:
        raise ValueError(f"argument 'global_codes' must have shape (repeats, subset_size, {z}), "
                         f"got {tuple(codes.shape)}")
    check_finite(codes, "global_codes")
    if factors is None:
        raise ValueError("argument 'global_factors' is required with 'global_codes' (the ground distances)")
    factors = as_tensor(factors, "global_factors", device=device)
    if factors.dim() != 3 or tuple(factors.shape[:2]) != tuple(codes.shape[:2]):
        raise ValueError(f"argument 'global_factors' must have shape ({codes.shape[0]}, {codes.shape[1]}, F), "
                         f"got {tuple(factors.shape)}")
    factors = factors.to(torch.float64)
    check_finite(factors, "global_factors")
    if observations is not None:
        observations = _check_observations([observations], [codes], "global_observations")[0]
    return codes, factors, observations


# -- evaluate form --------------------------------------------------------------------------------

def sample_all(source, rng, repeats: int, global_subset_size: int | None):
    """Factor vectors of every traversal of every active factor, then of the global subsets."""
    active, trav = sample_active_traversals("ground_truth_correlation", source, repeats, rng)
    glob = None
    if global_subset_size is not None:
        glob = source.sample_factors(repeats * global_subset_size, rng).reshape(repeats, global_subset_size, -1)
    return active, trav, glob


def distances_streamed(source, encoder, rng, active, trav, glob, num_samples, backend="auto", keep_codes=False):
    """Renders and encodes the traversals chunk by chunk, measuring the triplet distances of each chunk
    (the images are dropped after their chunk). Returns the scores dict, and the traversal codes
    when ``keep_codes``."""
    trips = [sample_triplets(rng, t.shape[0], t.shape[1], num_samples) for t in trav]
    gtrip = sample_triplets(rng, glob.shape[0], glob.shape[1], num_samples)
    scopes, kept = [], []
    for t, tr in zip(trav, trips):
        parts, codes_parts = [], []
        for r0, r1, x, z in iter_observation_chunks(source, encoder, t, rng):
            parts.append(chunk_distances(z, torch.as_tensor(tr[r0:r1], device=z.device), x, None, backend))
            if keep_codes:
                codes_parts.append(z)
        scopes.append(_concat(parts))
        if keep_codes:
            kept.append(torch.cat(codes_parts))
    parts = []
    for r0, r1, x, z in iter_observation_chunks(source, encoder, glob, rng):
        gf = torch.as_tensor(glob[r0:r1], device=z.device, dtype=torch.float64)
        parts.append(chunk_distances(z, torch.as_tensor(gtrip[r0:r1], device=z.device), x, gf, backend))
    scopes.append(_concat(parts))
    scores = scores_from_distances(scopes)
    notes: list[str] = []
    names = [source.factor_space.names[f] for f in active]
    out = combine_scopes(scores[:-1], names, scores[-1], notes)
    warn_notes("ground_truth_correlation", notes)
    return out, kept


@register("ground_truth_correlation", ground_truth_correlation,
          headline=("distances.rcorr_ground_latent.l1.factor", "distances.rcorr_ground_latent.l2.factor"))
def evaluate_ground_truth_correlation(source, encoder, rng, *, num_samples: int = 64, global_subset_size: int = 32,
                                      repeats: int = 1024, backend: str = "auto") -> dict:
    """Ground-truth correlation (msc-research): rank/linear/order agreement of ground, data and latent distances.

    ``repeats`` traversals per factor (1024; disent's fast setting is 128) with ``num_samples``
    triplets each (64), and ``repeats`` global subsets of ``global_subset_size`` factor vectors (32).
    See :mod:`pydisent.metrics._ground_truth_correlation` for the definitions and keys.
    """
    repeats = check_repeats(repeats)
    check_backend(backend)
    num_samples = check_positive_int(num_samples, "num_samples")
    global_subset_size = check_positive_int(global_subset_size, "global_subset_size")
    active, trav, glob = sample_all(source, rng, repeats, global_subset_size)
    out, _ = distances_streamed(source, encoder, rng, active, trav, glob, num_samples, backend)
    return out


ALIASES["distances"] = "ground_truth_correlation"  # its registry name until 0.1 (disent calls it "distances")
