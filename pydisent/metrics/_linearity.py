"""Linearity and axis-alignment ratios of factor traversals in the latent space (msc-research).

Michlo, James & Klein, "Data Overlap: A Prerequisite For Disentanglement" (arXiv 2202.13341), and
disent's ``metric_linearity`` (the linearity part of ``metric_factored_components``), with disent's
defaults and key names.

For each factor ``f`` with more than one value, ``repeats`` (1024) random traversals along ``f`` are
encoded (``s_f`` codes in ``Z`` dimensions each). For one traversal, with values ``v_1..v_Z``:

* linear values: the eigenvalues (absolute values) of the traversal's covariance (centred,
  ``1/(s_f - 1)``): the variance along the principal axes;
* axis values: the per-dimension unbiased variances: the variance along the latent axes;
* ``ratio(v) = (max v / sum v - 1/Z) / (1 - 1/Z)``: 1 when one direction holds all the variance,
  0 when it is spread evenly.

Per traversal: ``linear_ratio = ratio(linear values)`` (the points lie on a line),
``axis_ratio = ratio(axis values)`` (on a line along one latent axis), and
``axis_alignment = axis_ratio / (linear_ratio + 1e-20)``. Each is averaged over the repeats, and
``axis_ratio_ave = ratio(axis values averaged over the repeats)``. Per-factor values are combined
across factors by the geometric mean. Keys: ``linearity.linear_ratio.var``,
``linearity.axis_ratio.var``, ``linearity.axis_alignment.var``, ``linearity.axis_ratio_ave.var``
(the paper's "linearity ratio" and "axis-alignment ratio" are the first two).

All covariance spectra (every traversal of every factor) come from one :func:`pydisent.ops.batched_pca`
call, ragged traversal lengths handled by its mask.

Undefined values (disent gives NaN): a traversal whose codes are all equal has no variance; its
ratios are 0 (with a ``RuntimeWarning``). With ``Z = 1`` every ratio is 1 (one dimension is a line
along an axis; disent's normalisation divides 0 by 0 there).
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
    factor_names_for,
    geometric_mean,
    no_active_factors,
    sample_active_traversals,
    warn_notes,
)
from pydisent.ops.pca import batched_pca

KEYS = ("linearity.axis_alignment.var", "linearity.axis_ratio.var", "linearity.axis_ratio_ave.var",
        "linearity.linear_ratio.var")


def ratio_score(values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(max/sum - 1/Z) / (1 - 1/Z)`` along the last axis of non-negative ``values`` (float64), and a
    mask of the rows whose sum is 0 (score set to 0). ``Z = 1`` gives 1."""
    values = values.to(torch.float64)
    Z = values.shape[-1]
    total = values.sum(-1)
    empty = total <= 0
    frac = values.amax(-1) / torch.where(empty, torch.ones_like(total), total)
    if Z == 1:
        r = torch.ones_like(frac)
    else:
        r = (frac - 1.0 / Z) / (1.0 - 1.0 / Z)
    return torch.where(empty, torch.zeros_like(r), r), empty


def linearity_per_factor(codes: list[torch.Tensor], backend: str = "auto") -> tuple[dict, np.ndarray]:
    """Per-factor (repeat-averaged) values of the four keys for traversal codes ``(R_f, s_f, Z)``
    (every ``s_f >= 2``), and the number of constant traversals per factor."""
    device = codes[0].device
    dtype = torch.float64 if any(c.dtype == torch.float64 for c in codes) else torch.float32
    Z = codes[0].shape[2]
    s_max = max(c.shape[1] for c in codes)
    counts = [c.shape[0] for c in codes]
    # every traversal of every factor as one ragged batch of clouds: pad to s_max, mask the padding
    x = torch.zeros((sum(counts), s_max, Z), dtype=dtype, device=device)
    mask = torch.zeros((sum(counts), s_max), dtype=torch.bool, device=device)
    start = 0
    for c in codes:
        x[start:start + c.shape[0], :c.shape[1]] = c
        mask[start:start + c.shape[0], :c.shape[1]] = True
        start += c.shape[0]
    x, _ = global_guard(x)  # every key is a ratio of variances: scale-free, so extreme codes are rescaled
    mean, evals, _ = batched_pca(x, mask, unbiased=True, backend=backend)
    n = mask.sum(1).to(torch.float64)
    dev = torch.where(mask[:, :, None], x.to(torch.float64) - mean.to(torch.float64)[:, None, :], 0.0)
    axis_values = dev.square().sum(1) / (n - 1)[:, None]
    linear_values = evals.to(torch.float64).abs()
    # A traversal whose codes are all equal is detected exactly (its computed spectrum is rounding
    # noise of the mean, not a shape): its ratios are 0.
    constant = ~((x != x[:, :1]) & mask[:, :, None]).flatten(1).any(1)
    axis_ratio, const_a = ratio_score(axis_values)
    linear_ratio, const_l = ratio_score(linear_values)
    constant = constant | const_a | const_l
    zero = torch.zeros_like(axis_ratio)
    axis_ratio = torch.where(constant, zero, axis_ratio)
    linear_ratio = torch.where(constant, zero, linear_ratio)
    axis_values = torch.where(constant[:, None], torch.zeros_like(axis_values), axis_values)
    alignment = axis_ratio / (linear_ratio + 1e-20)
    out = {k: [] for k in KEYS}
    n_const = []
    for part in zip(axis_ratio.split(counts), linear_ratio.split(counts), alignment.split(counts),
                    axis_values.split(counts), constant.split(counts)):
        ar, lr, al, av, cst = part
        out["linearity.axis_ratio.var"].append(float(ar.mean()))
        out["linearity.linear_ratio.var"].append(float(lr.mean()))
        out["linearity.axis_alignment.var"].append(float(al.mean()))
        out["linearity.axis_ratio_ave.var"].append(float(ratio_score(av.mean(0))[0]))
        n_const.append(int(cst.sum()))
    return {k: np.asarray(v) for k, v in out.items()}, np.asarray(n_const)


def _combine(per_factor: dict, n_const: np.ndarray, names: list[str], repeats: list[int]) -> dict:
    notes: list[str] = []
    if n_const.any():
        detail = ", ".join(f"{names[i]}: {n_const[i]}/{repeats[i]}" for i in np.flatnonzero(n_const))
        notes.append(f"traversals with constant codes (no variance; their ratios count as 0): {detail}")
    out = {k: geometric_mean(per_factor[k], k, notes) for k in sorted(per_factor)}
    warn_notes("linearity", notes)
    return out


def linearity(traversals, *, backend: str = "auto", factor_names=None) -> dict:
    """Linearity / axis-alignment ratios from traversal codes the caller already has.

    Args:
        traversals: one ``(repeats, s_f, Z)`` array per factor: codes of traversals of factor ``f``
            (the order of the points does not matter here). Factors with ``s_f = 1`` are skipped.
        backend: :func:`pydisent.ops.batched_pca` backend.
        factor_names: names for warnings (default ``factor_0``, ...).

    Returns:
        ``linearity.{linear_ratio,axis_ratio,axis_alignment,axis_ratio_ave}.var``; see the module
        docstring for the definitions.
    """
    codes = check_traversals(traversals)
    names = factor_names_for(factor_names, len(codes))
    active = [f for f, c in enumerate(codes) if c.shape[1] > 1]
    if not active:
        no_active_factors("linearity", [c.shape[1] for c in codes])
    per, n_const = linearity_per_factor([codes[f] for f in active], backend)
    return _combine(per, n_const, [names[f] for f in active], [codes[f].shape[0] for f in active])


@register("linearity", linearity, headline=('linearity.linear_ratio.var', 'linearity.axis_ratio.var'))
def evaluate_linearity(source, encoder, rng, *, repeats: int = 1024, backend: str = "auto") -> dict:
    """Linearity and axis-alignment ratios (msc-research): variance concentration of traversals on PCA / code axes.

    ``repeats`` traversals per factor (1024; disent's fast setting is 128). See
    :mod:`pydisent.metrics._linearity` for the definitions and keys.
    """
    repeats = check_repeats(repeats)
    check_backend(backend)
    active, trav = sample_active_traversals("linearity", source, repeats, rng)
    codes = encode_traversals(source, encoder, trav, rng)
    return linearity_from_codes(codes, [source.factor_space.names[f] for f in active], backend)


def linearity_from_codes(codes: list[torch.Tensor], names: list[str], backend: str = "auto") -> dict:
    """Scores of encoded traversals of the active factors (shared with ``factored_components``)."""
    per, n_const = linearity_per_factor(codes, backend)
    return _combine(per, n_const, names, [c.shape[0] for c in codes])
