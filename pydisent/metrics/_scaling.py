"""Power-of-two rescaling of codes, so that extreme magnitudes reach no estimator or sum of squares.

Codes from real models reach extreme scales (a collapsed posterior at 1e-30, a diverged run at 1e40).
Multiplying a float64 column by ``2**k`` is exact (barring underflow of entries far below the column's
largest), and commutes exactly with every later floating-point operation of a scale-free computation: a
mean, a standard deviation, a z-score, a float32 cast, a tree split come out as the same bits, scaled.
So a column is rescaled only when its largest magnitude lies outside a range, and every number computed
for codes inside the range is unchanged.

* :func:`tree_guard` (boosted trees: invariant to positive per-feature scaling by definition; scikit-learn
  casts their input to float32, which overflows above ~3.4e38 and flushes below ~1e-38): columns are
  outside ``[2**-100, 2**100]`` brought to a largest magnitude in ``[0.5, 1)``.
* :func:`linear_guard` (linear classifiers on the raw codes: SAP's ``LinearSVC``, BetaVAE's and
  downstream's logistic regressions, scale-dependent by definition through their regularisation):
  columns above ``2**96`` (~7.9e28) are scaled down to it (scikit-learn refuses liblinear above 1e30).
  Their score has long reached its large-scale limit there (SAP agrees at 1e10, 1e30, 1e50 and 1e76),
  while liblinear's solver loops forever once ``|x|`` is about 1e77. Small codes are left alone: that
  limit (the regulariser wins, a constant prediction) is what the definition gives.
* :func:`unit_scale`: a whole array scaled by one power of two to a largest magnitude in ``[0.5, 1)``
  (for covariances and correlations, scale-free by definition).
"""

from __future__ import annotations

import math

import numpy as np
import torch

#: Columns whose largest magnitude is inside ``[2**-RANGE, 2**RANGE]`` are never touched.
RANGE = 100
#: Largest magnitude a linear classifier sees (below scikit-learn's 1e30 refusal for liblinear).
LINEAR_LIMIT = 96


def _column_shift(arrays, lo: int | None, hi: int, target: int | None = 0) -> np.ndarray | None:
    """Per-column power-of-two exponent shift for every column whose largest magnitude lies outside
    ``[2**lo, 2**hi]`` (``lo=None``: no lower bound), or None when no column needs one. The shifted
    column's largest magnitude is in ``[2**(target-1), 2**target)`` (``target=None``: just below ``2**hi``):
    near 1, where float32 keeps the most of a column's small entries."""
    amax = np.max(np.stack([np.abs(a).max(axis=0) if len(a) else np.zeros(a.shape[1]) for a in arrays]), axis=0)
    e = np.frexp(amax)[1].astype(np.int64)  # amax = f * 2**e, 0.5 <= f < 1
    out = amax > 2.0**hi
    if lo is not None:
        out |= (amax > 0) & (amax < 2.0**lo)
    if not out.any():
        return None
    shift = np.zeros_like(e)
    shift[out] = (hi if target is None else target) - e[out]
    return shift


def _apply(arrays, shift):
    if shift is None:
        return tuple(arrays)
    return tuple(np.ldexp(np.asarray(a, dtype=np.float64), shift[None, :]) for a in arrays)


def tree_guard(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """``arrays`` (each ``(n_i, Z)``, e.g. train and test codes) with the same per-column power-of-two
    scale applied to each, bringing every column outside ``[2**-RANGE, 2**RANGE]`` to a largest magnitude
    in ``[0.5, 1)``; unchanged if none needs it."""
    return _apply(arrays, _column_shift(arrays, -RANGE, RANGE))


def linear_guard(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """``arrays`` with columns whose largest magnitude exceeds ``2**LINEAR_LIMIT`` scaled down by a power of two
    (the same for each array); unchanged if none does."""
    return _apply(arrays, _column_shift(arrays, None, LINEAR_LIMIT, target=None))


def column_guard_torch(x: torch.Tensor) -> torch.Tensor:
    """:func:`tree_guard` for one float64 tensor ``(n, Z)`` (for scale-free statistics of each column)."""
    if x.numel() == 0:
        return x
    amax = x.abs().amax(dim=0)
    _, e = torch.frexp(amax)
    lo, hi = 2.0**-RANGE, 2.0**RANGE
    shift = torch.where((amax > hi) | ((amax > 0) & (amax < lo)), -e, 0)  # to [0.5, 1)
    if not bool(shift.any()):
        return x
    shift = shift.to(x.dtype)[None, :]
    half = torch.trunc(shift / 2)  # two exact steps: 2**1029 alone overflows
    return x * torch.exp2(half) * torch.exp2(shift - half)


def unit_scale(x: torch.Tensor) -> tuple[torch.Tensor, float]:
    """``(x * 2**-e, 2**e)`` with ``e`` the exponent of ``max|x|`` (so the result's largest magnitude is in
    ``[0.5, 1)``); ``(x, 1.0)`` for an all-zero or empty ``x``. Exact for float64 input."""
    if x.numel() == 0:
        return x, 1.0
    amax = float(x.abs().max())
    if amax == 0.0 or not math.isfinite(amax):
        return x, 1.0
    e = math.frexp(amax)[1]
    # two exact steps: 2**-e alone overflows for subnormal maxima (e down to -1073)
    half = -e // 2
    y = x * math.ldexp(1.0, half)
    return y * math.ldexp(1.0, -e - half), math.ldexp(1.0, e)


def global_guard(x: torch.Tensor) -> tuple[torch.Tensor, float]:
    """:func:`unit_scale` when ``max|x|`` is outside ``[2**-RANGE, 2**RANGE]``, else ``(x, 1.0)`` (unchanged)."""
    if x.numel() == 0:
        return x, 1.0
    amax = float(x.abs().max())
    if amax == 0.0 or 2.0**-RANGE <= amax <= 2.0**RANGE:
        return x, 1.0
    return unit_scale(x)


def linear_guard_torch(*tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """:func:`linear_guard` for tensors ``(n_i, Z)`` (float64 results where a column is scaled)."""
    amax = torch.stack([t.abs().amax(dim=0).to(torch.float64) if t.shape[0] else
                        torch.zeros(t.shape[1], dtype=torch.float64, device=t.device) for t in tensors]).amax(dim=0)
    if not bool((amax > 2.0**LINEAR_LIMIT).any()):
        return tuple(tensors)
    _, e = torch.frexp(amax)
    shift = torch.where(amax > 2.0**LINEAR_LIMIT, LINEAR_LIMIT - e, 0).to(torch.float64)
    return tuple(torch.ldexp(t.to(torch.float64), shift[None, :]) for t in tensors)
