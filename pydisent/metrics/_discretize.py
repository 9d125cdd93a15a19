"""disentanglement_lib's histogram discretiser, vectorised over code dimensions in torch.

Reference (``evaluation/metrics/utils.py::_histogram_discretize``), per code dimension ``x``::

    np.digitize(x, np.histogram(x, num_bins)[1][:-1])

i.e. ``num_bins`` equal-width bins spanning ``[min(x), max(x)]`` of the sample being scored, labels
``1..num_bins``; a value on an interior edge goes to the upper bin, the maximum to bin ``num_bins``;
a constant dimension (min == max) gets the range ``[v - 0.5, v + 0.5]`` and hence the single label
``num_bins // 2 + 1``. The bin edges are computed as ``np.linspace`` computes them (``i * step + min``
in the codes' own precision, last edge = max), so labels agree with numpy exactly, ties included.

One documented difference: where a float32 column's range is too small for ``num_bins`` distinct float32
edges (a nearly collapsed code far from 0), ``np.histogram`` raises "Too many bins for data range" and the
reference crashes; here that column's edges are computed in float64 (as numpy would for float64 codes).
"""

from __future__ import annotations

import torch

from pydisent._validation import check_positive_int
from pydisent.metrics._scaling import column_guard_torch


def histogram_discretize(codes: torch.Tensor, num_bins: int = 20) -> torch.Tensor:
    """Labels ``(n, Z)`` int64 in ``1..num_bins`` of float codes ``(n, Z)`` (one histogram per column).

    Args:
        codes: float32 or float64 tensor ``(n, Z)`` with ``n >= 1``; the edges are computed in its dtype.
        num_bins: number of equal-width bins (disentanglement_lib's gin default: 20).
    """
    num_bins = check_positive_int(num_bins, "num_bins")
    if codes.dim() != 2 or codes.shape[0] == 0:
        raise ValueError(f"argument 'codes' must have shape (n >= 1, Z), got {tuple(codes.shape)}")
    if not codes.is_floating_point():
        codes = codes.to(torch.float64)
    # A column beyond 2**100 (or below 2**-100) is moved by a power of two: its edges and labels are the
    # same numbers scaled (exact), and max - min can no longer overflow (or the edges underflow).
    x = column_guard_torch(codes).t().contiguous()  # (Z, n): one sorted edge row per code dimension
    left = _left_edges(x, num_bins)
    if x.dtype != torch.float64:
        # float32 edges can collapse on a tiny data range (numpy then raises "Too many bins for data
        # range"); a constant column is widened to +-0.5 and its last edge lies above the data by design.
        hi = x.amax(dim=1)
        flat = (left[:, 1:] <= left[:, :-1]).any(dim=1) | ((left[:, -1] >= hi) & (x.amin(dim=1) != hi))
        if bool(flat.any()):
            x = x.to(torch.float64)
            left = torch.where(flat[:, None], _left_edges(x, num_bins), left.to(torch.float64))
    # np.digitize(x, bins) with increasing bins and right=False == searchsorted(bins, x, side="right")
    labels = torch.searchsorted(left, x, right=True)
    return labels.t()


def _left_edges(x: torch.Tensor, num_bins: int) -> torch.Tensor:
    """The ``num_bins`` left bin edges of every row of ``x`` (Z, n), as ``np.histogram`` computes them."""
    lo = x.amin(dim=1)
    hi = x.amax(dim=1)
    same = lo == hi
    lo = torch.where(same, lo - 0.5, lo)
    hi = torch.where(same, hi + 0.5, hi)
    step = (hi - lo) / num_bins
    # np.linspace: y = arange(num) * step + start (two roundings, in the working dtype), y[-1] = stop.
    edges = torch.arange(num_bins + 1, dtype=x.dtype, device=x.device)[None, :] * step[:, None]
    edges = edges + lo[:, None]
    edges[:, -1] = hi
    return edges[:, :-1].contiguous()
