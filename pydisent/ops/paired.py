"""Distances of sampled pairs of rows: ``d(x[index_a[p]], x[index_b[p]])`` for each ``p``.

The distance-learning metrics measure a few hundred sampled pairs per factor traversal (triplets),
not all pairs; this measures exactly those, straight from the rows (no ``(pairs, D)`` difference
tensor is materialised), and every pair is reduced by the same code in the same order, so a pair
measured twice (``(a, b)`` and ``(b, a)``, or two copies of one image) gives bit-identical distances:
ties stay ties, which rank correlations and same-order fractions depend on.
"""

from __future__ import annotations

import torch

from pydisent import _C
from pydisent._checks import as_tensor, check_finite, check_float, check_same_device
from pydisent._dispatch import ref, resolve_backend, stream_of

PAIR_METRICS = ("manhattan", "euclidean", "sqeuclidean", "mse")


def paired_distance(x, index_a, index_b, metric: str = "euclidean", *, backend: str = "auto") -> torch.Tensor:
    """Distances between the rows ``index_a`` and ``index_b`` of ``x``, pair by pair.

    Args:
        x: ``(n, ...)`` float32/float64 points (trailing dimensions are flattened into ``D`` features).
        index_a, index_b: integer tensors of one shape (any), values in ``[0, n)``.
        metric: ``"manhattan"`` (``sum |a-b|``), ``"euclidean"`` (``sqrt(sum (a-b)^2)``),
            ``"sqeuclidean"`` (``sum (a-b)^2``) or ``"mse"`` (``sum (a-b)^2 / D``, disent's per-image
            data distance).
        backend: ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"torch"`` (gathered differences in torch).

    Returns:
        float64 distances with the indices' shape, on ``x``'s device. Differences are taken in
        ``x``'s dtype (as ``x[a] - x[b]`` rounds them) and summed in float64.
    """
    if not isinstance(metric, str) or metric not in PAIR_METRICS:
        raise ValueError(f"argument 'metric' must be one of {PAIR_METRICS}, got {metric!r}")
    x = as_tensor(x, "x")
    check_float(x, "x")
    if x.dim() < 1 or x.shape[0] < 0:
        raise ValueError(f"argument 'x' must have shape (n, ...), got {tuple(x.shape)}")
    x = x.reshape(x.shape[0], -1) if x.dim() != 2 else x
    ia = as_tensor(index_a, "index_a", device=x.device)
    ib = as_tensor(index_b, "index_b", device=x.device)
    for name, t in (("index_a", ia), ("index_b", ib)):
        if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
            raise TypeError(f"argument '{name}' must be an integer tensor, got {t.dtype}")
    if ia.shape != ib.shape:
        raise ValueError(f"arguments 'index_a' and 'index_b' must have the same shape, got {tuple(ia.shape)} "
                         f"and {tuple(ib.shape)}")
    check_same_device(("x", x), ("index_a", ia), ("index_b", ib))
    check_finite(x, "x")
    n = x.shape[0]
    if ia.numel() and (int(torch.minimum(ia.min(), ib.min())) < 0 or int(torch.maximum(ia.max(), ib.max())) >= n):
        raise ValueError(f"arguments 'index_a'/'index_b' must be in [0, {n}) (rows of 'x')")
    return _paired(x, ia, ib, metric, resolve_backend(backend, x))


def _paired(x: torch.Tensor, ia: torch.Tensor, ib: torch.Tensor, metric: str, path: str) -> torch.Tensor:
    """:func:`paired_distance` after its checks (the metrics call this on data they checked already:
    x (n, D) float, finite; indices in range, on x's device; path a resolved backend)."""
    shape = ia.shape
    ia = ia.reshape(-1).to(torch.int64).contiguous()
    ib = ib.reshape(-1).to(torch.int64).contiguous()
    out = torch.empty(ia.numel(), dtype=torch.float64, device=x.device)
    if ia.numel() == 0:
        return out.reshape(shape)
    if path == "torch":
        diff = (x[ia] - x[ib]).to(torch.float64)
        if metric == "manhattan":
            out = diff.abs().sum(-1)
        else:
            out = diff.square().sum(-1)
            if metric == "euclidean":
                out = out.sqrt()
            elif metric == "mse":
                out = out / x.shape[1]
        return out.reshape(shape)
    x = x.contiguous()
    code = PAIR_METRICS.index(metric)
    if path == "cuda":
        _C.paired_distance_cuda(ref(x), ref(ia), ref(ib), ref(out), code, stream_of(x))
    else:
        _C.paired_distance_cpu(ref(x), ref(ia), ref(ib), ref(out), code)
    return out.reshape(shape)
