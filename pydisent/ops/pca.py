"""Batched PCA of many small point clouds.

The distance-learning metrics (linearity / axis alignment) need the covariance spectrum of thousands of
factor traversals at once; :func:`batched_pca` does all of them in one call.
"""

from __future__ import annotations

import math

import torch

from pydisent import _C
from pydisent._dispatch import ref, resolve_backend, stream_of
from pydisent._validation import as_tensor, check_bool, check_float, check_rank, check_same_device, max_abs

#: Largest point dimension ``k`` the compiled kernels take (``backend="auto"`` uses torch beyond it).
MAX_DIM = int(_C.PCA_MAX_DIM)


def batched_pca(x, mask=None, *, unbiased: bool = True, eigenvectors: bool = False, backend: str = "auto"):
    """Mean and covariance eigen-decomposition of every cloud in a batch.

    For cloud ``b`` with the ``n_b`` points selected by ``mask[b]`` (all ``m`` points without a mask):

    .. math::

        \\mu_b = \\frac{1}{n_b}\\sum_i x_{bi}, \\qquad
        C_b = \\frac{1}{n_b - 1}\\sum_i (x_{bi} - \\mu_b)(x_{bi} - \\mu_b)^T

    (``1/n_b`` when ``unbiased=False``), and ``C_b = V_b diag(eigenvalues_b) V_b^T``.

    Args:
        x: ``(B, m, k)`` float32/float64 tensor or array: ``B`` clouds of ``m`` points in ``k`` dims.
        mask: optional ``(B, m)`` bool: which points belong to each cloud (ragged clouds).
        unbiased: divide by ``n_b - 1`` (default, as ``torch.cov`` and disent's PCA) or by ``n_b``.
        eigenvectors: also return the eigenvectors.
        backend: ``"auto"`` (CUDA kernel for CUDA tensors, C++ kernel for CPU tensors; torch for
            ``k > 64``), ``"cuda"``, ``"cpu"`` or ``"torch"`` (``torch.linalg.eigh``, the reference).

    Returns:
        ``(mean, eigenvalues, eigenvectors)``: ``mean`` ``(B, k)``; ``eigenvalues`` ``(B, k)`` in
        descending order; ``eigenvectors`` ``(B, k, k)`` with the eigenvector of ``eigenvalues[:, j]`` in
        column ``j`` (the ``torch.linalg.eigh`` layout), signed so that its largest-magnitude component
        is positive, or ``None``. Outputs have ``x``'s dtype and device.

    Degenerate clouds: a cloud with ``n_b <= 1`` (unbiased) or ``n_b = 0`` (biased) has a zero
    covariance, hence zero eigenvalues and identity eigenvectors; an empty cloud has mean 0. Eigenvalues
    of rank-deficient clouds may come out as tiny negative numbers (rounding, about ``eps * max``).
    Within a repeated eigenvalue, any orthonormal basis of the eigenspace is a valid answer.

    The compiled kernels compute in float64 on the CPU (float32 input included); the CUDA kernel
    accumulates the covariance in float64 and runs cyclic Jacobi in the input precision.

    Not differentiable on any backend (inputs are detached, as in the distance kernels). Any magnitude:
    points beyond the range where the covariance sums stay finite and normal are scaled by a power of two
    (exact) and the results scaled back; a covariance that the output dtype cannot hold (float32 points
    near 1e30, float64 near 1e160) raises ``ValueError`` naming ``x`` on every backend, as NaN/inf points do.
    """
    x = as_tensor(x, "x").detach()  # not differentiable on any backend (as the distance kernels)
    check_float(x, "x")
    check_rank(x, "x", (3,), "(clouds, points, dims)")
    if mask is not None:
        mask = as_tensor(mask, "mask", device=x.device)
        if mask.dtype != torch.bool:
            raise TypeError(f"argument 'mask' must be a bool tensor, got {mask.dtype}")
        check_rank(mask, "mask", (2,), "(clouds, points)")
        if tuple(mask.shape) != tuple(x.shape[:2]):
            raise ValueError(f"argument 'mask' must have shape {tuple(x.shape[:2])} to match 'x', "
                             f"got {tuple(mask.shape)}")
        check_same_device(("x", x), ("mask", mask))
    unbiased = check_bool(unbiased, "unbiased")
    eigenvectors = check_bool(eigenvectors, "eigenvectors")
    B, m, k = x.shape
    path = resolve_backend(backend, x)
    if k > MAX_DIM:
        if backend == "auto":
            path = "torch"
        elif path != "torch":
            raise ValueError(f"argument 'x' has k={k} dims per point; backend={backend!r} supports at most "
                             f"{MAX_DIM} (use backend='torch')")
    if k == 0 or B == 0 or m == 0:
        eye = torch.eye(k, dtype=x.dtype, device=x.device).expand(B, k, k).contiguous()
        return x.new_zeros((B, k)), x.new_zeros((B, k)), (eye if eigenvectors else None)
    # Non-finite points would poison the eigensolver; masked-out points are never read, so they may hold
    # anything. Extreme magnitudes are moved by a power of two (exact) into a range where the covariance
    # cannot overflow or underflow, and the results scaled back.
    x, unscale = _safe_range(x, mask)
    if path == "torch":
        mean, evals, evecs = _pca_torch(x, mask, unbiased, eigenvectors)
    else:
        mean, evals, evecs = _pca_kernel(x, mask, unbiased, eigenvectors, path)
    if unscale != 1.0:
        mean = mean * unscale
        scaled = evals.to(torch.float64)
        evals = scaled * unscale * unscale  # in two steps: unscale**2 alone can overflow (0 * inf = NaN)
        big = ~torch.isfinite(evals) | (evals.abs() > torch.finfo(x.dtype).max)
        if bool(big.any()):
            b = int(torch.nonzero(big.any(dim=1))[0])
            decade = math.log10(max(float(scaled[b].abs().max()), 1e-300)) + 2 * math.log10(unscale)
            raise ValueError(f"argument 'x': the covariance of cloud {b} overflows {x.dtype} (largest variance "
                             f"about 1e{decade:.0f}); rescale the points"
                             + (" or pass float64" if x.dtype == torch.float32 else ""))
        evals = evals.to(x.dtype)
    return mean, evals, evecs


# Largest magnitudes whose covariance sums stay finite and normal in the computing precision.
_SAFE_RANGE = {torch.float32: (2.0**-40, 2.0**50), torch.float64: (2.0**-450, 2.0**450)}


def _safe_range(x: torch.Tensor, mask):
    """``(x * 2**-e, 2**e)`` when ``max|x|`` (over the masked points) is outside the safe range, else
    ``(x, 1.0)``; ``ValueError`` naming ``x`` on NaN/inf."""
    sel = x if mask is None else torch.where(mask[:, :, None], x, torch.zeros((), dtype=x.dtype, device=x.device))
    amax = max_abs(sel, "x")
    lo, hi = _SAFE_RANGE[x.dtype]
    if amax == 0.0 or lo <= amax <= hi:
        return x, 1.0
    e = math.frexp(amax)[1]
    return x * math.ldexp(1.0, -e), math.ldexp(1.0, e)


def _pca_kernel(x, mask, unbiased, eigenvectors, path):
    B, _, k = x.shape
    x = x.contiguous()
    mask = mask.contiguous() if mask is not None else None
    mean = torch.empty((B, k), dtype=x.dtype, device=x.device)
    evals = torch.empty((B, k), dtype=x.dtype, device=x.device)
    evecs = torch.empty((B, k, k), dtype=x.dtype, device=x.device) if eigenvectors else None
    args = (ref(x), None if mask is None else ref(mask), ref(mean), ref(evals), None if evecs is None else ref(evecs),
            unbiased)
    if path == "cuda":
        # the kernel reports back through `status` (first unconverged cloud, first non-finite covariance,
        # B for none); reading it synchronises, and the errors are the CPU kernel's
        status = torch.full((2,), B, dtype=torch.int64, device=x.device)
        _C.pca_cuda(*args, ref(status), stream_of(x))
        unconverged, not_finite = status.tolist()
        if not_finite < B or not bool(torch.isfinite(evals).all()):
            raise ValueError("argument 'x' has values whose covariance overflows (non-finite eigenvalues)")
        if unconverged < B:
            raise ValueError(f"batched_pca: the eigensolver did not converge for cloud {unconverged} "
                             "(argument 'x' has extreme values?)")
    else:
        _C.pca_cpu(*args)
    return mean, evals, evecs


def batched_covariance(x: torch.Tensor, mask: torch.Tensor | None = None, unbiased: bool = True):
    """``(mean (B, k), covariance (B, k, k))`` of each cloud in plain torch, in ``x``'s dtype (the
    ``backend="torch"`` path runs this on float64 copies, as the compiled kernels accumulate)."""
    if mask is None:
        count = torch.full((x.shape[0],), x.shape[1], dtype=x.dtype, device=x.device)
        w = None
    else:
        w = mask.to(x.dtype)
        count = w.sum(1)
        x = torch.where(mask[:, :, None], x, torch.zeros((), dtype=x.dtype, device=x.device))  # NaN * 0 is NaN
    total = x.sum(1) if w is None else torch.einsum("bm,bmk->bk", w, x)
    mean = total / count.clamp_min(1)[:, None]
    xc = x - mean[:, None, :]
    if w is not None:
        xc = xc * w[:, :, None]
    denom = (count - 1) if unbiased else count
    scale = torch.where(denom > 0, 1.0 / denom.clamp_min(1), torch.zeros_like(denom))
    cov = torch.einsum("bmi,bmj->bij", xc, xc) * scale[:, None, None]
    return mean, cov


def _pca_torch(x, mask, unbiased, eigenvectors):
    # float64 throughout, like the kernels: LAPACK's float32 eigensolver fails to converge on some
    # ill-conditioned covariances (many constant code dimensions, k > 64)
    mean, cov = batched_covariance(x.double(), mask, unbiased)
    mean = mean.to(x.dtype)
    if eigenvectors:
        evals, evecs = torch.linalg.eigh(cov)
        evals, evecs = evals.flip(-1).to(x.dtype), evecs.flip(-1).to(x.dtype)
        # zero covariance (one point, constant cloud): identity, as the kernels give
        zero = (cov == 0).flatten(1).all(1)
        evecs = torch.where(zero[:, None, None], torch.eye(x.shape[2], dtype=x.dtype, device=x.device), evecs)
        # same sign convention as the kernels: largest-magnitude component positive
        idx = evecs.abs().argmax(dim=1, keepdim=True)
        sign = torch.sign(torch.gather(evecs, 1, idx))
        sign = torch.where(sign == 0, torch.ones_like(sign), sign)
        return mean, evals, evecs * sign
    return mean, torch.linalg.eigvalsh(cov).flip(-1).to(x.dtype), None
