"""Flatness of factor traversals in the latent space (msc-research / disent ``metric_flatness``).

For each factor ``f`` with more than one value, ``repeats`` (1024) random traversals along ``f``
(values ``0..s_f-1`` in order) are encoded. For ``p`` in {1, 2} and one traversal ``z_0..z_{s-1}``:

* steps: ``|z_{i+1} - z_i|_p`` with wrap-around (``z_s = z_0``), keeping the ``s - 1`` smallest: for
  an open traversal the dropped step is usually the closing jump, for a cyclic factor (e.g. rotation)
  it is one ordinary step, so both give ``s - 1`` steps along the curve;
* width: the largest pairwise distance ``max_ij |z_i - z_j|_p`` (the diameter).

Averaged over repeats: ``width_p`` and the mean step, and ``length_p = (s - 1) * mean step``. Per
factor, ``flatness = width / length`` (0 when the length is 0): 1 for points in order on a straight
line with their width used up by their length, near 0 for a crumpled curve. Keys, all arithmetic
means over the factors with more than one value:

* ``flatness.ave_flatness``: ``width_2 / length_1`` (the main score; it also rewards axis
  alignment, since ``|.|_2 <= |.|_1`` with equality along an axis);
* ``flatness.ave_flatness_l1`` = ``width_1 / length_1``, ``flatness.ave_flatness_l2`` = ``width_2 / length_2``;
* ``flatness.ave_width_l1``, ``ave_width_l2``, ``ave_length_l1``, ``ave_length_l2``.

Widths come from the batched distance kernel (all traversals of a factor in one call).
"""

from __future__ import annotations

import numpy as np
import torch

from pydisent.metrics._registry import register
from pydisent.metrics._scaling import global_guard
from pydisent.metrics._traversals import (
    check_backend,
    check_repeats,
    check_traversals,
    encode_traversals,
    no_active_factors,
    sample_active_traversals,
)
from pydisent.ops.distance import pairwise_distance

KEYS = ("flatness.ave_flatness", "flatness.ave_flatness_l1", "flatness.ave_flatness_l2", "flatness.ave_length_l1",
        "flatness.ave_length_l2", "flatness.ave_width_l1", "flatness.ave_width_l2")
_P = ((1, "manhattan"), (2, "euclidean"))


def width_length(z: torch.Tensor, p: int, metric: str, backend: str = "auto") -> tuple[float, float]:
    """Repeat-averaged width and length of traversals ``z`` ``(R, s, Z)`` (``s >= 2``) under the L``p`` norm."""
    R, s, _ = z.shape
    z, unscale = global_guard(z)  # widths and lengths scale with the codes: no squares overflow on the way
    steps = torch.linalg.vector_norm(torch.roll(z, -1, dims=1) - z, ord=p, dim=-1).to(torch.float64)
    # keep the s-1 smallest steps of each traversal: drop its largest (the wrap-around for open curves)
    kept = torch.sort(steps, dim=-1).values[:, : s - 1]
    length = (s - 1) * float(kept.mean())
    width = float(pairwise_distance(z, metric=metric, backend=backend).flatten(1).amax(1).to(torch.float64).mean())
    return width * unscale, length * unscale


def flatness_per_factor(codes: list[torch.Tensor], backend: str = "auto") -> dict:
    """``{p: (widths (F,), lengths (F,))}`` for traversal codes ``(R_f, s_f, Z)`` with ``s_f >= 2``."""
    out = {}
    for p, metric in _P:
        wl = np.array([width_length(c, p, metric, backend) for c in codes], dtype=np.float64)
        out[p] = (wl[:, 0], wl[:, 1])
    return out


def _ratio(widths: np.ndarray, lengths: np.ndarray) -> float:
    # disent: a factor with zero length (all codes equal) scores 0
    safe = np.where(lengths == 0, 1.0, lengths)
    return float(np.mean(np.where(lengths == 0, 0.0, widths / safe)))


def _keys(m: dict) -> dict:
    (w1, l1), (w2, l2) = m[1], m[2]
    out = {
        "flatness.ave_flatness": _ratio(w2, l1),
        "flatness.ave_flatness_l1": _ratio(w1, l1),
        "flatness.ave_flatness_l2": _ratio(w2, l2),
        "flatness.ave_width_l1": float(np.mean(w1)),
        "flatness.ave_width_l2": float(np.mean(w2)),
        "flatness.ave_length_l1": float(np.mean(l1)),
        "flatness.ave_length_l2": float(np.mean(l2)),
    }
    return dict(sorted(out.items()))


def flatness(traversals, *, backend: str = "auto") -> dict:
    """Flatness from traversal codes the caller already has.

    Args:
        traversals: one ``(repeats, s_f, Z)`` array per factor: codes of full traversals of factor
            ``f`` with the factor's values in order ``0..s_f-1``. Factors with ``s_f = 1`` are skipped.
        backend: distance-kernel backend.

    Returns:
        The ``flatness.*`` keys of the module docstring.
    """
    codes = check_traversals(traversals)
    active = [c for c in codes if c.shape[1] > 1]
    if not active:
        no_active_factors("flatness", [c.shape[1] for c in codes])
    return _keys(flatness_per_factor(active, backend))


@register("flatness", flatness, headline=('flatness.ave_flatness',))
def evaluate_flatness(source, encoder, rng, *, repeats: int = 1024, backend: str = "auto") -> dict:
    """Flatness (msc-research): traversal width over traversal length in the latent space, L1 and L2.

    ``repeats`` traversals per factor (1024; disent's fast setting is 128). See
    :mod:`pydisent.metrics._flatness` for the definitions and keys.
    """
    repeats = check_repeats(repeats)
    check_backend(backend)
    _, trav = sample_active_traversals("flatness", source, repeats, rng)
    codes = encode_traversals(source, encoder, trav, rng)
    return _keys(flatness_per_factor(codes, backend))
