"""Distances of sampled pairs of rows: ``d(x[index_a[p]], x[index_b[p]])`` for each ``p``.

The distance-learning metrics measure a few hundred sampled pairs per factor traversal (triplets),
not all pairs; this measures exactly those, straight from the rows (no ``(pairs, D)`` difference
tensor is materialised), and every pair is reduced by the same code in the same order, so a pair
measured twice (``(a, b)`` and ``(b, a)``, or two copies of one image) gives bit-identical distances:
ties stay ties, which rank correlations and same-order fractions depend on.
"""

from __future__ import annotations

import torch

from pydisent import _C, _distance_metric
from pydisent._dispatch import ref, resolve_backend, stream_of
from pydisent._validation import as_tensor, check_backend, check_finite, check_float, check_same_device

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
        ``x``'s dtype (as ``x[a] - x[b]`` rounds them) and summed in float64. Points with no features
        (``D = 0``) are at distance 0 under every metric and backend (an empty sum; ``mse`` too).
    """
    if not isinstance(metric, str) or metric not in PAIR_METRICS:
        raise ValueError(f"argument 'metric' must be one of {PAIR_METRICS}, got {metric!r}")
    x = as_tensor(x, "x")
    check_float(x, "x")
    if x.dim() < 1 or x.shape[0] < 0:
        raise ValueError(f"argument 'x' must have shape (n, ...), got {tuple(x.shape)}")
    x = x.reshape(x.shape[0], -1) if x.dim() != 2 else x
    ia, ib = _check_indices(x, "x", index_a, index_b)
    check_finite(x, "x")
    return _paired(x, ia, ib, metric, resolve_backend(backend, x))


def _check_indices(x: torch.Tensor, name: str, index_a, index_b) -> tuple[torch.Tensor, torch.Tensor]:
    """``index_a``/``index_b`` as tensors on ``x``'s device: integers, of one shape, rows of ``x``."""
    ia = as_tensor(index_a, "index_a", device=x.device)
    ib = as_tensor(index_b, "index_b", device=x.device)
    for arg, t in (("index_a", ia), ("index_b", ib)):
        if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
            raise TypeError(f"argument '{arg}' must be an integer tensor, got {t.dtype}")
    if ia.shape != ib.shape:
        raise ValueError(f"arguments 'index_a' and 'index_b' must have the same shape, got {tuple(ia.shape)} "
                         f"and {tuple(ib.shape)}")
    check_same_device((name, x), ("index_a", ia), ("index_b", ib))
    n = x.shape[0]
    if ia.numel() and (int(torch.minimum(ia.min(), ib.min())) < 0 or int(torch.maximum(ia.max(), ib.max())) >= n):
        raise ValueError(f"arguments 'index_a'/'index_b' must be in [0, {n}) (rows of '{name}')")
    return ia, ib


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
            elif metric == "mse":  # D = 0: 0, as the kernels give (an empty sum), not 0/0
                out = out / x.shape[1] if x.shape[1] else out
        return out.reshape(shape)
    x = x.contiguous()
    code = _distance_metric.code(metric)
    if path == "cuda":
        _C.paired_distance_cuda(ref(x), ref(ia), ref(ib), ref(out), code, stream_of(x))
    else:
        _C.paired_distance_cpu(ref(x), ref(ia), ref(ib), ref(out), code)
    return out.reshape(shape)


def paired_image_mse(images, index_a, index_b, channel_scale, *, backend: str = "auto") -> torch.Tensor:
    """Mean squared difference of pairs of ``uint8`` images, as measured on their float versions.

    For images ``u`` ``(n, H, W, C)`` (channels last, as datasets render them) and a per-channel affine
    map ``x = channel_scale[c] * u + offset[c]`` to the float images a model sees (``x / 255``, then
    ``(x - mean) / std``: ``channel_scale = 1 / (255 std)``; the offsets cancel), pair ``p`` gets

        ``mse_p = sum_c channel_scale[c]^2 * S_c / (H W C)``,  ``S_c = sum (u_a - u_b)^2`` over channel c,

    the per-image MSE of :func:`paired_distance` (``metric="mse"``) on the float images, from exact
    integer sums instead of float images rounded first: a quarter of the bytes to read, and equal
    differences give equal distances. Ties stay exact as with :func:`paired_distance`.

    Args:
        images: ``uint8`` ``(n, ...)`` with the channels on the last axis (or ``(n, D)`` with one channel).
        index_a, index_b: integer tensors of one shape, values in ``[0, n)``.
        channel_scale: ``(C,)`` positive scales (or a number), one per channel.
        backend: ``"auto"`` (the C++ kernel for CPU images; CUDA images take the torch path), ``"cpu"``
            or ``"torch"`` (float64 differences in torch, the reference).

    Returns:
        float64 distances with the indices' shape, on the images' device.
    """
    x = as_tensor(images, "images")
    if x.dtype != torch.uint8:
        raise TypeError(f"argument 'images' must be a uint8 tensor, got {x.dtype}")
    if x.dim() < 1:
        raise ValueError(f"argument 'images' must have shape (n, ...), got {tuple(x.shape)}")
    if isinstance(channel_scale, (str, bytes)):
        raise TypeError(f"argument 'channel_scale' must be a number or a sequence of numbers, got {channel_scale!r}")
    try:
        scale = torch.as_tensor(channel_scale, dtype=torch.float64).reshape(-1).cpu()
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"argument 'channel_scale' must be a number or a sequence of numbers, "
                        f"got {type(channel_scale).__name__}") from None
    C = x.shape[-1] if x.dim() > 2 else 1
    if scale.numel() == 1:
        scale = scale.expand(C)
    if scale.numel() != C or not bool(torch.isfinite(scale).all()) or not bool((scale > 0).all()):
        raise ValueError(f"argument 'channel_scale' must hold {C} positive finite numbers (one per channel), "
                         f"got {scale.tolist()}")
    x = x.reshape(x.shape[0], -1)
    ia, ib = _check_indices(x, "images", index_a, index_b)
    check_backend(backend, ("auto", "cpu", "torch"))
    if backend == "cpu" and x.is_cuda:
        raise ValueError("argument 'images' is on a CUDA device; backend='cpu' needs CPU images")
    return _paired_image(x, ia, ib, scale, "torch" if (backend == "torch" or x.is_cuda) else "cpu")


def _paired_image(x: torch.Tensor, ia: torch.Tensor, ib: torch.Tensor, scale: torch.Tensor, path: str) -> torch.Tensor:
    """:func:`paired_image_mse` after its checks (x (n, D) uint8; scale (C,) float64 on the CPU)."""
    shape = ia.shape
    ia = ia.reshape(-1).to(torch.int64).contiguous()
    ib = ib.reshape(-1).to(torch.int64).contiguous()
    weights = (scale * scale).contiguous()
    if path == "torch":
        # the kernel's arithmetic: exact per-channel integer sums (float64 holds them exactly), then the
        # weights in channel order, so both paths give the same bits and ties stay exact
        C, D = weights.numel(), x.shape[1]
        if D == 0:  # images without pixels: every MSE is 0, as the kernel gives (an empty sum)
            return torch.zeros(shape, dtype=torch.float64, device=x.device)
        d = x[ia].to(torch.float64) - x[ib].to(torch.float64)
        sums = (d * d).reshape(-1, D // C, C).sum(1)
        w = weights.tolist()
        if all(v == w[0] for v in w):
            acc = w[0] * sums.sum(1)
        else:
            acc = torch.zeros(len(ia), dtype=torch.float64, device=x.device)
            for c in range(C):
                acc = acc + w[c] * sums[:, c]
        return (acc * (1.0 / D if D else 0.0)).reshape(shape)
    out = torch.empty(ia.numel(), dtype=torch.float64)
    if ia.numel():
        _C.paired_image_mse_cpu(ref(x.contiguous()), ref(ia), ref(ib), ref(weights), ref(out))
    return out.reshape(shape)
