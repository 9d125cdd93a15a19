"""Batched ranking and correlation on any device, vectorised over leading dimensions.

The distance-learning metrics correlate hundreds of thousands of distances per factor; these run the
whole batch at once where the data already lives, instead of one ``scipy.stats`` call per series: ranks
on the CPU come from the C++ kernel (``_C.rank_average_cpu``: a radix sort per slice, OpenMP over slices),
elsewhere (and with ``backend="torch"``, the reference) from a stable torch sort; the correlations are
torch reductions in float64.
"""

from __future__ import annotations

import torch

from pydisent import _C
from pydisent._dispatch import ref
from pydisent._validation import Interval, as_tensor, check, check_backend, check_finite, check_same_device

__all__ = ["rankdata", "pearson", "spearman"]


def rankdata(x, dim: int = -1, *, backend: str = "auto") -> torch.Tensor:
    """Ranks along ``dim`` with ties given their average rank, 1-based, as ``scipy.stats.rankdata(x,
    method="average")`` applied to every 1-d slice. Returns float64 on ``x``'s device.

    ``backend``: ``"auto"`` (the C++ kernel, a radix sort per slice with OpenMP over slices, for CPU
    float32/float64 input and int32/int64 input below 2^53 in magnitude; torch otherwise), ``"cpu"`` or
    ``"torch"`` (a stable device sort and tie bookkeeping in torch, the reference).

    NaN/inf values are rejected (``ValueError``), unlike scipy, which ranks NaN last or propagates it.
    """
    x = as_tensor(x, "x")
    if x.dim() == 0:
        raise ValueError("argument 'x' must have at least one dimension")
    if x.is_complex():
        raise TypeError(f"argument 'x' must hold real numbers, got {x.dtype}")
    dim = check(dim, "dim", Interval(int, -x.dim(), x.dim() - 1))
    check_backend(backend, ("auto", "cpu", "torch"))
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    if x.is_floating_point():
        check_finite(x, "x")
    x = x.movedim(dim, -1)
    n = x.shape[-1]
    if n == 0 or x.numel() == 0:
        return torch.empty(x.shape, dtype=torch.float64, device=x.device).movedim(-1, dim)
    compiled = x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64, torch.int32, torch.int64)
    if backend == "cpu" and not compiled:
        raise ValueError(f"backend='cpu' ranks CPU float or integer tensors, got {x.dtype} on {x.device}")
    if backend != "torch" and compiled and (x.dtype.is_floating_point or x.abs().max() < 2**53):
        # (float64 holds float32 values and integers below 2^53 exactly: the same order and ties)
        flat = x.reshape(-1, n).to(torch.float64).contiguous()
        out = torch.empty_like(flat)
        _C.rank_average_cpu(ref(flat), ref(out))
        return out.reshape(x.shape).movedim(-1, dim)
    sorted_x, order = torch.sort(x, dim=-1, stable=True)
    pos = torch.arange(n, device=x.device).expand_as(order)
    starts_group = torch.ones_like(order, dtype=torch.bool)
    starts_group[..., 1:] = sorted_x[..., 1:] != sorted_x[..., :-1]
    ends_group = torch.ones_like(starts_group)
    ends_group[..., :-1] = starts_group[..., 1:]
    # first and last sorted position of each element's tie group, by running max / reversed running min
    first = torch.cummax(torch.where(starts_group, pos, torch.zeros_like(pos)), dim=-1).values
    last_rev = torch.where(ends_group, pos, torch.full_like(pos, n - 1)).flip(-1)
    last = torch.cummin(last_rev, dim=-1).values.flip(-1)
    avg = (first + last).to(torch.float64) * 0.5 + 1.0
    ranks = torch.empty_like(avg).scatter_(-1, order, avg)
    return ranks.movedim(-1, dim)


def pearson(x, y, dim: int = -1) -> torch.Tensor:
    """Pearson correlation of ``x`` and ``y`` along ``dim`` (float64, clamped to [-1, 1]).

    A slice where either input is constant has no correlation: the result there is NaN, as with
    ``scipy.stats.pearsonr`` (callers decide what that means; the metrics report 0 and warn). NaN or
    infinite input raises ``ValueError`` (as :func:`spearman`). Exact for any magnitude: slices near the
    float64 limits (1e-300, 1e300) are rescaled by powers of two before the sums of squares.
    """
    x = as_tensor(x, "x")
    y = as_tensor(y, "y")
    if x.shape != y.shape:
        raise ValueError(f"arguments 'x' and 'y' must have the same shape, got {tuple(x.shape)} and {tuple(y.shape)}")
    check_same_device(("x", x), ("y", y))
    if x.dtype == torch.bool or x.is_complex() or y.dtype == torch.bool or y.is_complex():
        raise TypeError(f"arguments 'x' and 'y' must hold real numbers, got {x.dtype} and {y.dtype}")
    if x.dim() == 0:
        raise ValueError("arguments 'x' and 'y' must have at least one dimension")
    dim = check(dim, "dim", Interval(int, -x.dim(), x.dim() - 1))
    check_finite(x, "x")  # as spearman: NaN/inf is an error, never a silent NaN
    check_finite(y, "y")
    # The correlation of a slice is invariant to scaling it: a slice whose magnitude would overflow (1e200
    # squared) or underflow the sums of squares is moved by a power of two first (exact: the same bits).
    x = _slice_guard(x.to(torch.float64), dim)
    y = _slice_guard(y.to(torch.float64), dim)
    xc = _slice_guard(x - x.mean(dim, keepdim=True), dim)
    yc = _slice_guard(y - y.mean(dim, keepdim=True), dim)
    num = (xc * yc).sum(dim)
    den = torch.sqrt((xc * xc).sum(dim) * (yc * yc).sum(dim))
    r = num / den
    # a constant slice is detected exactly: its mean need not be exact (three equal values summed and
    # divided by 3), which left rounding residues that correlated instead of the NaN documented below
    const = (x == x.narrow(dim, 0, 1)).all(dim) | (y == y.narrow(dim, 0, 1)).all(dim) if x.shape[dim] else den == 0
    return torch.where((den > 0) & ~const, r.clamp(-1.0, 1.0), torch.full_like(r, float("nan")))


_GUARD = 2.0**400  # (2 * 2**400)**2 * 2**60 points is still finite


def _slice_guard(x: torch.Tensor, dim: int) -> torch.Tensor:
    """``x`` with every 1-d slice along ``dim`` whose largest magnitude lies outside ``[1/_GUARD, _GUARD]``
    multiplied by a power of two bringing it to ``[0.5, 1)``; ``x`` itself when none does."""
    if x.numel() == 0 or x.shape[dim] == 0:
        return x
    amax = x.abs().amax(dim, keepdim=True)
    out = (amax > _GUARD) | ((amax < 1.0 / _GUARD) & (amax > 0))
    if not bool(out.any()):
        return x
    _, e = torch.frexp(amax)
    shift = torch.where(out, -e, torch.zeros_like(e)).to(x.dtype)
    half = torch.trunc(shift / 2)  # two exact steps: 2**1074 alone overflows
    return x * torch.exp2(half) * torch.exp2(shift - half)


def spearman(x, y, dim: int = -1) -> torch.Tensor:
    """Spearman rank correlation along ``dim``: the Pearson correlation of the average-tie ranks, as
    ``scipy.stats.spearmanr`` for each pair of 1-d slices (NaN where a slice is constant)."""
    x, y = as_tensor(x, "x"), as_tensor(y, "y")
    if x.is_floating_point():
        check_finite(x, "x")
    if y.is_floating_point():
        check_finite(y, "y")
    return pearson(rankdata(x, dim), rankdata(y, dim), dim)
