"""Pairwise distances between point sets, batched, on the CPU (C++/OpenMP), a GPU (CUDA) or in PyTorch.

``pairwise_distance(x)`` gives the self distances of one point set (or of each of a batch of point
sets), ``pairwise_distance(x, y)`` / ``cdist(x, y)`` the cross distances. Metrics, for points
``a, b`` with ``d`` features:

=============  ==========================================================================
euclidean      ``sqrt(sum_k (a_k - b_k)^2)``
sqeuclidean    ``sum_k (a_k - b_k)^2``
manhattan      ``sum_k |a_k - b_k|`` (L1, cityblock)
chebyshev      ``max_k |a_k - b_k|`` (L-infinity)
cosine         ``1 - a.b / (|a| |b|)``, in ``[0, 2]``; a zero vector is at distance 0 from
               another zero vector and 1 from any other vector (scipy gives NaN there)
mse            ``sum_k (a_k - b_k)^2 / d``: the per-element mean squared difference, the
               "perceived distance" between two images of disent / msc-research
=============  ==========================================================================

Guarantees (every backend): self distances are exactly symmetric with an exactly zero diagonal;
no distance is negative or NaN. ``mode="exact"`` (the default) computes every distance from the
differences ``a_k - b_k``, never from the expansion ``|a|^2 + |b|^2 - 2 a.b``, so near-duplicate
points far from the origin lose nothing to cancellation: in float32 the sqeuclidean, mse and
manhattan relative error is below 1e-5 (euclidean below 5e-6) for any ``d``, because the compiled
kernels sum at most 128 float32 terms before adding the partial sums in float64 (the ``"torch"``
backend relies on torch's own summation). ``mode="gemm"`` (opt-in) uses that expansion through a
matrix product (``torch.bmm``: MKL / cuBLAS) for euclidean, sqeuclidean, mse and cosine on every
backend; it can be faster on GPUs for large ``d``, but its error is relative to ``|a|^2 + |b|^2``,
not to the distance (results are clamped at 0). Manhattan and chebyshev have no such form and are
always computed exactly.

Inputs whose largest magnitude is extreme (float32 beyond ``2**50`` or below ``2**-40``; float64
beyond ``2**450`` or below ``2**-450``) are handled without overflow or underflow of the squares:
float32 inputs are then computed in float64, float64 inputs are rescaled by a power of two.
"""

from __future__ import annotations

import math

import torch

from pydisent import _C, _distance_metric
from pydisent._dispatch import ref, resolve_backend, stream_of
from pydisent._memory import check_memory
from pydisent._validation import as_tensor, check_bool, check_float, check_rank, check_same_device, max_abs

__all__ = ["DISTANCE_METRICS", "DISTANCE_MODES", "pairwise_distance", "cdist"]

DISTANCE_METRICS = ("euclidean", "sqeuclidean", "manhattan", "chebyshev", "cosine", "mse")
DISTANCE_MODES = ("exact", "gemm")
_GEMM_METRICS = ("euclidean", "sqeuclidean", "mse", "cosine")

# Magnitude ranges in which the squares and their partial sums stay comfortably finite and normal.
_SAFE_RANGE = {torch.float32: (2.0**-40, 2.0**50), torch.float64: (2.0**-450, 2.0**450)}
# Elements per temporary in the PyTorch path (its (rows, m, d) difference tensor).
_TORCH_CHUNK = 1 << 22


def pairwise_distance(x, y=None, metric: str = "euclidean", *, backend: str = "auto", condensed: bool = False,
                      mode: str = "exact", memory_budget=None) -> torch.Tensor:
    """Pairwise distances between the rows of ``x`` and the rows of ``y`` (or of ``x`` itself).

    Args:
        x: points, ``(n, d)`` or a batch of point sets ``(B, n, d)``; a torch tensor (CPU or CUDA)
            or a numpy array (the result is then a CPU torch tensor). float32 or float64; any
            strides (non-contiguous inputs are read in place by the compiled kernels).
        y: ``(m, d)`` / ``(B, m, d)`` with the dtype, device and rank of ``x``, or ``None`` for the
            self distances of ``x``.
        metric: one of :data:`DISTANCE_METRICS` (see the module docstring for the formulas).
        backend: ``"auto"`` (CUDA kernel for CUDA tensors, C++ kernel for CPU tensors), ``"cuda"``,
            ``"cpu"`` or ``"torch"`` (plain PyTorch, the reference path).
        condensed: self distances only (``y=None``): return the upper triangle, ``(n*(n-1)/2,)`` or
            ``(B, n*(n-1)/2)``, in ``scipy.spatial.distance.pdist`` order.
        mode: ``"exact"`` (default) or ``"gemm"`` (opt-in, not exact for near-duplicates: see above).
        memory_budget: bytes (or e.g. ``"8G"``) the output may take (default: 90% of the available memory,
            see :mod:`pydisent._memory`); a larger ``(B, n, m)`` result raises ``MemoryError`` before it is
            allocated.

    Returns:
        ``(n, m)`` or ``(B, n, m)`` distances (``m = n`` for self distances), or the condensed form;
        same dtype and device as ``x``. Not differentiable (no autograd graph is recorded).

    Raises:
        TypeError: non-float dtype, ``x``/``y`` of different dtypes, a non-string metric.
        ValueError: wrong rank, mismatched batch or feature sizes, NaN/inf values, tensors on
            different devices, unknown metric/mode/backend, ``condensed=True`` with ``y``.
        RuntimeError: ``backend="cuda"`` without a CUDA build or a usable GPU.

    Reference: the definitions of ``scipy.spatial.distance.cdist`` (metrics ``euclidean``,
    ``sqeuclidean``, ``cityblock``, ``chebyshev``, ``cosine``), except for zero vectors in cosine.
    """
    metric = _check_choice(metric, "metric", DISTANCE_METRICS)
    mode = _check_choice(mode, "mode", DISTANCE_MODES)
    condensed = check_bool(condensed, "condensed")
    xt = _points(x, "x")
    if y is None:
        yt, symmetric = xt, True
    else:
        if condensed:
            raise ValueError("argument 'condensed' is only for self distances: pass y=None (got a 'y')")
        yt = _points(y, "y")
        _check_pair(xt, yt)
        symmetric = _same_view(xt, yt)
    backend = resolve_backend(backend, xt, yt)

    batched = xt.dim() == 3
    X = (xt if batched else xt.unsqueeze(0)).detach()
    Y = X if symmetric else (yt if batched else yt.unsqueeze(0)).detach()
    B, n, d = X.shape
    m = Y.shape[1]
    if d < 1:
        raise ValueError(f"argument 'x' must have at least one feature (last dimension >= 1), "
                         f"got shape {tuple(xt.shape)}")

    out_dtype = X.dtype
    entries = B * (n * (n - 1) // 2 if condensed else n * m)
    check_memory(entries * X.element_size() * (2 if backend == "torch" else 1),
                 f"pairwise_distance ({B} x {n} x {m} distances)",
                 "pass fewer points, or compute blocks of rows with cdist(x[i:j], y)", memory_budget)
    if metric == "cosine":
        X, Y, e, tiny = _cosine_range(X, Y, symmetric)
    else:
        X, Y, e, tiny = _safe_range(X, Y, symmetric)
    shape = (B, n * (n - 1) // 2) if condensed else (B, n, m)
    if math.prod(shape) == 0:
        out = X.new_zeros(shape)
    elif tiny and metric == "euclidean":
        out = _torch_euclidean_scaled(X, Y, symmetric, condensed)
    elif mode == "gemm" and metric in _GEMM_METRICS:
        out = _torch_gemm(X, Y, metric, symmetric, condensed)
    elif backend == "torch":
        out = _torch_exact(X, Y, metric, symmetric, condensed)
    else:
        out = X.new_empty(shape)
        if backend == "cpu":
            code = _distance_metric.code(metric)
            _C.distance_cpu(ref(X), ref(Y), ref(out), code, symmetric, condensed, "auto", False)
        else:
            _run_cuda(X, Y, out, metric, symmetric, condensed)
    if e != 0 and metric != "cosine":
        out = _ldexp(out, 2 * e if metric in ("sqeuclidean", "mse") else e)
    out = out.to(out_dtype)
    return out if batched else out[0]


def cdist(x, y, metric: str = "euclidean", *, backend: str = "auto", mode: str = "exact",
          memory_budget=None) -> torch.Tensor:
    """Cross distances ``(n, m)`` / ``(B, n, m)`` between the rows of ``x`` and ``y``.

    The same as :func:`pairwise_distance` with ``y`` given (``y`` is required here); see there.
    """
    if y is None:
        raise ValueError("argument 'y' is required by cdist; use pairwise_distance(x) for self distances")
    return pairwise_distance(x, y, metric, backend=backend, mode=mode, memory_budget=memory_budget)


# ---- argument checks --------------------------------------------------------------------------

def _check_choice(value, name: str, choices: tuple) -> str:
    if not isinstance(value, str):
        raise TypeError(f"argument '{name}' must be a string, one of {choices}; got {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"argument '{name}' must be one of {choices}, got {value!r}")
    return value


def _points(a, name: str) -> torch.Tensor:
    t = as_tensor(a, name)
    check_float(t, name)
    check_rank(t, name, (2, 3), "((n, d) points or a (B, n, d) batch of point sets)")
    return t


def _check_pair(x: torch.Tensor, y: torch.Tensor) -> None:
    if x.dim() != y.dim():
        raise ValueError(f"argument 'y' must have the rank of 'x' ({x.dim()}), got shape {tuple(y.shape)}")
    if x.dtype != y.dtype:
        raise TypeError(f"arguments 'x' and 'y' must have the same dtype, got {x.dtype} and {y.dtype}")
    check_same_device(("x", x), ("y", y))
    if x.dim() == 3 and x.shape[0] != y.shape[0]:
        raise ValueError(f"arguments 'x' and 'y' must have the same batch size, got shapes {tuple(x.shape)} "
                         f"and {tuple(y.shape)}")
    if x.shape[-1] != y.shape[-1]:
        raise ValueError(f"arguments 'x' and 'y' must have the same number of features (last dimension), got "
                         f"shapes {tuple(x.shape)} and {tuple(y.shape)}")


def _same_view(x: torch.Tensor, y: torch.Tensor) -> bool:
    """True when ``y`` is the very same view of memory as ``x`` (then the self path applies)."""
    return (x.data_ptr() == y.data_ptr() and x.shape == y.shape and x.stride() == y.stride()
            and x.storage_offset() == y.storage_offset())


def _ldexp(t: torch.Tensor, e: int) -> torch.Tensor:
    """``t * 2**e`` in two exact steps (``2**e`` alone overflows for ``|e|`` near 1024 and beyond)."""
    h = e // 2
    return t * math.ldexp(1.0, h) * math.ldexp(1.0, e - h)


def _min_nonzero(t: torch.Tensor) -> float:
    if t.numel() == 0:
        return math.inf
    a = t.abs()
    return float(torch.where(a > 0, a, torch.full((), math.inf, dtype=a.dtype, device=a.device)).amin())


def _safe_range(X: torch.Tensor, Y: torch.Tensor, symmetric: bool):
    """Checks finiteness; moves extreme-magnitude inputs into a range where squares cannot overflow or
    underflow.

    Returns ``(X, Y, e, tiny)``: distances computed on the returned tensors, multiplied by ``2**e``
    (squared for the squared metrics), are the distances of the inputs; ``tiny`` says that float64 input
    holds nonzero magnitudes below the safe range beside larger ones (their squared differences underflow;
    the euclidean and cosine paths then scale per pair / per point).
    """
    amax = max_abs(X, "x")
    if not symmetric:
        amax = max(amax, max_abs(Y, "y"))
    lo, hi = _SAFE_RANGE[X.dtype]
    e = 0
    if amax != 0.0 and not lo <= amax <= hi:
        if X.dtype == torch.float32:  # every float32 square and sum is finite and normal in float64
            X = X.double()
            Y = X if symmetric else Y.double()
        else:
            e = math.frexp(amax)[1]  # amax = f * 2**e, 0.5 <= f < 1: scaling by 2**-e is exact
            X = _ldexp(X, -e)
            Y = X if symmetric else _ldexp(Y, -e)
    # A point far below the largest magnitude (1e-30 beside 1 in float32) has squared differences that
    # underflow: float32 is then computed in float64 (which holds every float32 square); float64 is flagged.
    lo = _SAFE_RANGE[X.dtype][0]
    small = _min_nonzero(X) if symmetric else min(_min_nonzero(X), _min_nonzero(Y))
    tiny = False
    if small < lo:
        if X.dtype == torch.float32:
            X = X.double()
            Y = X if symmetric else Y.double()
        else:
            tiny = True
    return X, Y, e, tiny


def _cosine_range(X: torch.Tensor, Y: torch.Tensor, symmetric: bool):
    """:func:`_safe_range` for cosine, which is invariant to scaling each point: when any magnitude is
    outside the safe range, every point is scaled by its own power of two (in float64 for float32 input),
    so a small point beside a huge one keeps its direction (one global factor flushed it to zero)."""
    amax = max_abs(X, "x")
    if not symmetric:
        amax = max(amax, max_abs(Y, "y"))
    lo, hi = _SAFE_RANGE[X.dtype]
    small = _min_nonzero(X) if symmetric else min(_min_nonzero(X), _min_nonzero(Y))
    if amax == 0.0 or (lo <= amax <= hi and small >= lo):
        return X, Y, 0, False
    X = _row_unit(X.double())
    Y = X if symmetric else _row_unit(Y.double())
    return X, Y, 0, False


def _row_unit(t: torch.Tensor) -> torch.Tensor:
    """Every point (last axis) scaled by a power of two to a largest magnitude in [0.5, 1) (zero rows kept)."""
    amax = t.abs().amax(-1, keepdim=True)
    _, ex = torch.frexp(amax)
    ex = torch.where(amax > 0, ex, torch.zeros_like(ex)).to(t.dtype)
    h = torch.trunc(-ex / 2)
    return t * torch.exp2(h) * torch.exp2(-ex - h)


def _torch_euclidean_scaled(X, Y, symmetric, condensed) -> torch.Tensor:
    """Euclidean distances with each pair's differences divided by their largest magnitude before squaring
    (``m sqrt(sum (d/m)^2)``): exact to rounding for any magnitudes (1e-300 beside 1)."""
    B, n, d = X.shape
    m = Y.shape[1]
    D = X.new_empty((B, n, m))
    rows = max(1, _TORCH_CHUNK // max(1, B * m * d))
    for i0 in range(0, n, rows):
        diff = X[:, i0:i0 + rows, None, :] - Y[:, None, :, :]
        big = diff.abs().amax(-1, keepdim=True)
        safe = torch.where(big > 0, big, torch.ones_like(big))
        D[:, i0:i0 + rows] = (diff / safe).square().sum(-1).sqrt() * big[..., 0]
    if symmetric:
        D = torch.add(D, D.transpose(1, 2)).mul_(0.5)
        D.diagonal(dim1=1, dim2=2).zero_()
    if condensed:
        iu = torch.triu_indices(n, n, 1, device=D.device)
        return D[:, iu[0], iu[1]]
    return D


# ---- the paths --------------------------------------------------------------------------------

def _run_cuda(X, Y, out, metric, symmetric, condensed):
    with torch.cuda.device(X.device):
        B, n, m = X.shape[0], X.shape[1], Y.shape[1]
        norms = torch.empty(B * (n + m) if metric == "cosine" else 0, dtype=torch.float64, device=X.device)
        _C.distance_cuda(ref(X), ref(Y), ref(out), ref(norms), _distance_metric.code(metric), symmetric, condensed,
                         stream_of(X))


def _finish(D: torch.Tensor, metric: str, d: int, symmetric: bool, condensed: bool) -> torch.Tensor:
    """Shared tail of the PyTorch paths (D is a fresh (B, n, m) tensor of squared distances, dot
    products or cosine distances): exact symmetry, zero diagonal, final transform, condensed form."""
    if symmetric:
        # (a + b) / 2 does not depend on which of the two is a, and halving is exact.
        D = torch.add(D, D.transpose(1, 2)).mul_(0.5)
        D.diagonal(dim1=1, dim2=2).zero_()
    if metric == "euclidean":
        D.clamp_min_(0).sqrt_()
    elif metric in ("sqeuclidean", "mse"):
        D.clamp_min_(0)
        if metric == "mse":
            D.div_(d)
    if condensed:
        n = D.shape[1]
        iu = torch.triu_indices(n, n, 1, device=D.device)
        return D[:, iu[0], iu[1]]
    return D


def _cosine(dot: torch.Tensor, nx: torch.Tensor, ny: torch.Tensor) -> torch.Tensor:
    """``1 - dot / (|x| |y|)`` in place on ``dot``, from float64 squared norms, with the zero-vector
    convention (similarity 0 with a zero vector, so distance 1; distance 0 between two zero vectors)."""
    ix = torch.where(nx > 0, nx.rsqrt(), torch.zeros_like(nx)).to(dot.dtype)
    iy = ix if ny is nx else torch.where(ny > 0, ny.rsqrt(), torch.zeros_like(ny)).to(dot.dtype)
    D = dot.mul_(ix[:, :, None]).mul_(iy[:, None, :]).clamp_(-1, 1).neg_().add_(1)
    zx, zy = nx == 0, ny == 0
    if bool(zx.any()) and bool(zy.any()):
        D.masked_fill_(zx[:, :, None] & zy[:, None, :], 0)
    return D


def _torch_exact(X, Y, metric, symmetric, condensed) -> torch.Tensor:
    """Plain PyTorch, from differences (the reference path of the parity tests)."""
    B, n, d = X.shape
    m = Y.shape[1]
    if metric == "cosine":
        dot = torch.bmm(X, Y.transpose(1, 2))
        nx = X.double().square().sum(-1)
        ny = nx if symmetric else Y.double().square().sum(-1)
        return _finish(_cosine(dot, nx, ny), metric, d, symmetric, condensed)
    D = X.new_empty((B, n, m))
    rows = max(1, _TORCH_CHUNK // max(1, B * m * d))
    for i0 in range(0, n, rows):
        diff = X[:, i0:i0 + rows, None, :] - Y[:, None, :, :]
        if metric == "manhattan":
            D[:, i0:i0 + rows] = diff.abs_().sum(-1)
        elif metric == "chebyshev":
            D[:, i0:i0 + rows] = diff.abs_().amax(-1)
        else:
            D[:, i0:i0 + rows] = diff.square_().sum(-1)
    return _finish(D, metric, d, symmetric, condensed)


def _torch_gemm(X, Y, metric, symmetric, condensed) -> torch.Tensor:
    """``mode="gemm"``: ``|a|^2 + |b|^2 - 2 a.b`` (or the normalised dot product) with one batched GEMM."""
    d = X.shape[2]
    if metric == "cosine":
        nx = X.double().square().sum(-1)
        ny = nx if symmetric else Y.double().square().sum(-1)
        return _finish(_cosine(torch.bmm(X, Y.transpose(1, 2)), nx, ny), metric, d, symmetric, condensed)
    nx = X.square().sum(-1)
    ny = nx if symmetric else Y.square().sum(-1)
    D = torch.baddbmm(nx[:, :, None] + ny[:, None, :], X, Y.transpose(1, 2), alpha=-2)
    return _finish(D, metric, d, symmetric, condensed)
