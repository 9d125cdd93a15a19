"""batched_pca against float64 numpy references, degenerate clouds, masks, and bad input."""

import numpy as np
import pytest
import torch

from pydisent import _C
from pydisent._dispatch import ref
from pydisent.ops import batched_pca
from pydisent.ops.pca import MAX_DIM
from tests.conftest import HAS_CUDA

BACKENDS = ["cpu", "torch"] + (["cuda"] if HAS_CUDA else [])


def _to(x, backend):
    x = torch.as_tensor(x)
    return x.cuda() if backend == "cuda" else x


def reference(x, mask=None, unbiased=True):
    """float64 numpy: per cloud mean, covariance, eigenvalues (descending), eigenvectors."""
    x = np.asarray(x, dtype=np.float64)
    B, m, k = x.shape
    means, covs = np.zeros((B, k)), np.zeros((B, k, k))
    for b in range(B):
        pts = x[b] if mask is None else x[b][np.asarray(mask[b])]
        n = len(pts)
        if n:
            means[b] = pts.mean(0)
        denom = n - 1 if unbiased else n
        if denom > 0:
            c = pts - means[b]
            covs[b] = c.T @ c / denom
    w, v = np.linalg.eigh(covs)
    return means, covs, w[:, ::-1], v[:, :, ::-1]


def tolerances(dtype, backend):
    """(rtol, atol relative to the largest eigenvalue) per the issue: 1e-5 relative, 1e-4 of the largest
    for tiny eigenvalues. float64 and the CPU kernel (float64 inside) are held much tighter."""
    if dtype == torch.float64:
        return 1e-10, 1e-12
    if backend == "cpu":
        return 1e-6, 1e-7
    return 1e-5, 1e-4


def check_eigenvalues(got, want, dtype, backend, x=None):
    """``x`` (the clouds) adds the rounding floor of the covariance itself, eps * max|x|^2, which
    matters only for (near-)constant clouds whose exact eigenvalues are 0."""
    got = got.double().cpu().numpy()
    rtol, atol = tolerances(dtype, backend)
    scale = np.abs(want).max(axis=1, keepdims=True)
    err = np.abs(got - want)
    bound = rtol * np.abs(want) + atol * scale + 1e-300
    if x is not None:
        eps = np.finfo(np.float64 if dtype == torch.float64 or backend == "cpu" else np.float32).eps
        xmax = np.abs(np.asarray(x, dtype=np.float64)).reshape(len(x), -1).max(1, initial=0)[:, None]
        bound = bound + 64 * eps * xmax**2
    assert (err <= bound).all(), f"max excess {np.max(err / bound):.3g}"
    assert (np.diff(got, axis=1) <= atol * scale).all(), "eigenvalues must be in descending order"


def check_eigenvectors(vecs, vals, covs, dtype, backend, x=None):
    """Compare spectral projectors of eigenvalue clusters (eigenvectors are defined up to sign, and up to
    a rotation within a repeated eigenvalue), plus orthonormality and the sign convention. Clouds whose
    covariance is at the rounding floor (constant clouds, given ``x``) have arbitrary eigenvectors."""
    V = vecs.double().cpu().numpy()
    lam = vals.double().cpu().numpy()
    B, k, _ = V.shape
    rtol, atol = tolerances(dtype, backend)
    orth_tol = 1e-12 if dtype == torch.float64 else (1e-6 if backend == "cpu" else 1e-5)
    np.testing.assert_allclose(V.transpose(0, 2, 1) @ V, np.broadcast_to(np.eye(k), V.shape), atol=orth_tol)
    for b in range(B):
        scale = max(np.abs(lam[b]).max(), 1e-300)
        if x is not None and scale <= 64 * np.finfo(np.float32).eps * np.abs(x[b]).max() ** 2:
            continue
        # A column's sign: its largest-magnitude component is positive.
        idx = np.abs(V[b]).argmax(axis=0)
        assert (V[b][idx, np.arange(k)] > 0).all()
        # Cluster eigenvalues closer than the gap a projector can resolve at this precision.
        gap_tol = 1e-6 * scale if dtype == torch.float64 else 3e-3 * scale
        start = 0
        w_ref, v_ref = np.linalg.eigh(covs[b])
        w_ref, v_ref = w_ref[::-1], v_ref[:, ::-1]
        for j in range(1, k + 1):
            if j == k or w_ref[j - 1] - w_ref[j] > gap_tol:
                P = V[b][:, start:j] @ V[b][:, start:j].T
                P_ref = v_ref[:, start:j] @ v_ref[:, start:j].T
                np.testing.assert_allclose(P, P_ref, atol=1e-7 if dtype == torch.float64 else 2e-3)
                start = j
        # and the decomposition reproduces the covariance
        np.testing.assert_allclose(V[b] @ np.diag(lam[b]) @ V[b].T, covs[b], atol=(atol + 2 * rtol) * scale + 1e-300)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("k", [1, 2, 3, 10, 16, 17, 32, 64])  # 16: the largest k of the CPU Jacobi path
def test_random_clouds_match_numpy(rng, backend, dtype, k):
    B, m = 40, int(rng.integers(max(2, k // 2), 2 * k + 3))
    # anisotropic clouds with a shared offset, so the spectrum spreads over several decades
    scales = np.exp(rng.uniform(-3, 2, size=(B, 1, k)))
    x = rng.normal(size=(B, m, k)) * scales + rng.normal(size=(B, 1, k)) * 5
    xt = _to(torch.tensor(x, dtype=dtype), backend)
    mean, vals, vecs = batched_pca(xt, eigenvectors=True, backend=backend)
    assert mean.dtype == vals.dtype == vecs.dtype == dtype and vals.device == xt.device
    assert mean.shape == (B, k) and vals.shape == (B, k) and vecs.shape == (B, k, k)
    means, covs, w, _ = reference(xt.cpu().double().numpy())
    np.testing.assert_allclose(mean.double().cpu().numpy(), means, rtol=1e-6 if dtype == torch.float32 else 1e-12,
                               atol=1e-5 if dtype == torch.float32 else 1e-12)
    check_eigenvalues(vals, w, dtype, backend)
    check_eigenvectors(vecs, vals, covs, dtype, backend)
    # eigenvalues-only call gives the same values
    _, vals2, none = batched_pca(xt, backend=backend)
    assert none is None
    check_eigenvalues(vals2, w, dtype, backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_biased_covariance(rng, backend):
    x = rng.normal(size=(25, 9, 6))
    _, vals, _ = batched_pca(_to(x, backend), unbiased=False, backend=backend)
    check_eigenvalues(vals, reference(x, unbiased=False)[2], torch.float64, backend)
    _, vals_u, _ = batched_pca(_to(x, backend), unbiased=True, backend=backend)
    np.testing.assert_allclose(vals.cpu().numpy() * 9 / 8, vals_u.cpu().numpy(), rtol=1e-10, atol=1e-14)


def _degenerate_clouds(rng, k=8):
    clouds = []
    # repeated eigenvalues: the 2k points +-e_i have covariance proportional to I
    e = np.eye(k)
    clouds.append(np.concatenate([e, -e]) * 3.0)
    # a 2-fold and a 3-fold eigenvalue in a rotated frame
    q, _ = np.linalg.qr(rng.normal(size=(k, k)))
    coords = np.concatenate([np.eye(k), -np.eye(k)]) * np.array([4, 4, 2, 2, 2, 1, 0.5, 0.25])[:k]
    clouds.append(coords @ q.T)
    # rank-deficient: points on a random 2-plane
    basis = rng.normal(size=(2, k))
    clouds.append(rng.normal(size=(2 * k, 2)) @ basis + 7.0)
    # m < k: fewer points than dims (rank m-1)
    pts = np.zeros((2 * k, k))
    pts[:3] = rng.normal(size=(3, k))
    pts[3:] = pts[0]  # duplicates of one point: rank stays <= 2
    clouds.append(pts)
    # all points equal
    clouds.append(np.tile(rng.normal(size=(1, k)) * 100, (2 * k, 1)))
    # huge offset, small spread; and large overall scale
    clouds.append(rng.normal(size=(2 * k, k)) + 1e6)
    clouds.append(rng.normal(size=(2 * k, k)) * 1e3)
    # tiny scale
    clouds.append(rng.normal(size=(2 * k, k)) * 1e-9)
    # ties inside the data: duplicated points
    pts = rng.normal(size=(k, k))
    clouds.append(np.concatenate([pts, pts]))
    return np.stack(clouds)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_degenerate_spectra(rng, backend, dtype):
    x = _degenerate_clouds(rng)
    xt = _to(torch.tensor(x, dtype=dtype), backend)
    mean, vals, vecs = batched_pca(xt, eigenvectors=True, backend=backend)
    xr = xt.cpu().double().numpy()
    means, covs, w, _ = reference(xr)
    check_eigenvalues(vals, w, dtype, backend, xr)
    check_eigenvectors(vecs, vals, covs, dtype, backend, xr)
    # the constant cloud's covariance is zero up to the rounding of its mean
    assert vals[4].abs().max() <= 64 * torch.finfo(dtype).eps * xr[4].max() ** 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_point_and_empty_clouds(backend):
    x = torch.arange(2 * 1 * 3, dtype=torch.float64).reshape(2, 1, 3)
    mean, vals, vecs = batched_pca(_to(x, backend), eigenvectors=True, backend=backend)
    np.testing.assert_array_equal(mean.cpu().numpy(), x[:, 0].numpy())
    assert (vals == 0).all()
    np.testing.assert_array_equal(vecs.cpu().numpy(), np.broadcast_to(np.eye(3), (2, 3, 3)))
    # biased covariance of one point is zero too
    _, vals, _ = batched_pca(_to(x, backend), unbiased=False, backend=backend)
    assert (vals == 0).all()
    # m = 0: empty clouds have mean 0 and zero eigenvalues
    mean, vals, vecs = batched_pca(_to(torch.zeros(3, 0, 4), backend), eigenvectors=True, backend=backend)
    assert (mean == 0).all() and (vals == 0).all() and vecs.shape == (3, 4, 4)


@pytest.mark.parametrize("backend", BACKENDS)
def test_batch_of_one_and_empty_batch(rng, backend):
    x = rng.normal(size=(1, 12, 5))
    _, vals, _ = batched_pca(_to(x, backend), backend=backend)
    check_eigenvalues(vals, reference(x)[2], torch.float64, backend)
    mean, vals, vecs = batched_pca(_to(torch.zeros(0, 7, 5), backend), eigenvectors=True, backend=backend)
    assert mean.shape == (0, 5) and vals.shape == (0, 5) and vecs.shape == (0, 5, 5)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_masks(rng, backend, dtype):
    B, m, k = 30, 20, 7
    x = rng.normal(size=(B, m, k)) * rng.uniform(0.1, 3, size=(B, 1, k))
    mask = rng.random((B, m)) < rng.uniform(0.05, 1, size=(B, 1))
    mask[0] = False          # empty cloud
    mask[1] = False
    mask[1, 3] = True        # one point
    mask[2] = True           # full
    x[~mask] = np.nan        # masked-out points are never read
    xt = _to(torch.tensor(x, dtype=dtype), backend)
    mt = _to(torch.tensor(mask), backend)
    mean, vals, vecs = batched_pca(xt, mt, eigenvectors=True, backend=backend)
    xr = xt.cpu().double().numpy()
    means, covs, w, _ = reference(xr, mask)
    np.testing.assert_allclose(mean.double().cpu().numpy(), means, atol=1e-5 if dtype == torch.float32 else 1e-12)
    check_eigenvalues(vals, w, dtype, backend)
    check_eigenvectors(vecs, vals, covs, dtype, backend)
    # a full mask equals no mask
    full = torch.ones(B, m, dtype=torch.bool, device=xt.device)
    xf = _to(torch.tensor(rng.normal(size=(B, m, k)), dtype=dtype), backend)
    a = batched_pca(xf, full, backend=backend)[1]
    b = batched_pca(xf, backend=backend)[1]
    exact = backend != "torch"  # the torch path sums differently with weights
    torch.testing.assert_close(a, b, rtol=0 if exact else 1e-6, atol=0 if exact else 1e-12)


def test_cpu_and_torch_backends_agree(rng):
    x = torch.tensor(rng.normal(size=(200, 16, 12)) * rng.uniform(0.5, 2, size=(200, 1, 12)))
    m1, v1, e1 = batched_pca(x, eigenvectors=True, backend="cpu")
    m2, v2, e2 = batched_pca(x, eigenvectors=True, backend="torch")
    torch.testing.assert_close(m1, m2)
    torch.testing.assert_close(v1, v2, rtol=1e-10, atol=1e-12)
    # well-separated spectra: the eigenvectors agree column by column under the shared sign convention
    torch.testing.assert_close(e1, e2, rtol=1e-6, atol=1e-6)


def test_numpy_input_and_large_k_falls_back_to_torch(rng):
    x = rng.normal(size=(3, 80, MAX_DIM + 2))
    mean, vals, _ = batched_pca(x)
    assert isinstance(vals, torch.Tensor) and vals.shape == (3, MAX_DIM + 2)
    check_eigenvalues(vals, reference(x)[2], torch.float64, "torch")
    with pytest.raises(ValueError, match="'x'.*at most 64"):
        batched_pca(x, backend="cpu")


def test_torch_path_converges_on_ill_conditioned_float32_clouds(rng):
    """Sparse image pixels along traversals (many constant and many equal columns, k > 64): LAPACK's
    float32 eigensolver fails to converge on such covariances; the torch path solves them in float64."""
    from pydisent.data import XYObject

    ds = XYObject()
    t = ds.factor_space.traversals(0, ds.factor_space.sample_factors(24, rng))
    x = ds.observations(t.reshape(-1, t.shape[-1])).reshape(24, t.shape[1], -1)[:, :, ::97].contiguous()
    assert x.dtype == torch.float32 and x.shape[2] > MAX_DIM
    for vectors in (False, True):
        mean, vals, vecs = batched_pca(x, eigenvectors=vectors)
        check_eigenvalues(vals, reference(x.double().numpy())[2], torch.float32, "torch")
        if vectors:
            assert vecs.dtype == torch.float32 and bool(torch.isfinite(vecs).all())


@pytest.mark.parametrize("backend", BACKENDS)
def test_nan_input_rejected(backend):
    x = torch.randn(4, 6, 3, dtype=torch.float64)
    x[2, 1, 0] = float("nan")
    with pytest.raises(ValueError, match="'x'.*NaN"):
        batched_pca(_to(x, backend), backend=backend)
    x[2, 1, 0] = float("inf")
    with pytest.raises(ValueError, match="'x'.*(NaN|infinite)"):
        batched_pca(_to(x, backend), backend=backend)
    # a NaN in a one-point cloud is caught too (no covariance is formed there)
    x = torch.randn(2, 1, 3)
    x[1, 0, 2] = float("nan")
    with pytest.raises(ValueError, match="'x'"):
        batched_pca(_to(x, backend), backend=backend)


def test_overflowing_covariance_rejected():
    x = torch.randn(2, 5, 3, dtype=torch.float64) * 1e200
    with pytest.raises(ValueError, match="'x'.*overflow"):
        batched_pca(x, backend="cpu")


def test_bad_arguments_name_the_argument():
    x = torch.randn(4, 6, 3)
    with pytest.raises(ValueError, match="'x' must have 3 dimensions"):
        batched_pca(torch.randn(6, 3))
    with pytest.raises(TypeError, match="'x' must be float32 or float64"):
        batched_pca(torch.ones(2, 3, 4, dtype=torch.int64))
    with pytest.raises(TypeError, match="'mask' must be a bool"):
        batched_pca(x, torch.ones(4, 6))
    with pytest.raises(ValueError, match=r"'mask' must have shape \(4, 6\)"):
        batched_pca(x, torch.ones(4, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match="'mask' must have 2 dimensions"):
        batched_pca(x, torch.ones(4, 6, 1, dtype=torch.bool))
    with pytest.raises(TypeError, match="'unbiased'"):
        batched_pca(x, unbiased=1)
    with pytest.raises(TypeError, match="'eigenvectors'"):
        batched_pca(x, eigenvectors="yes")
    with pytest.raises(ValueError, match="'backend'"):
        batched_pca(x, backend="gpu")
    with pytest.raises(TypeError, match="'x'"):
        batched_pca(object())
    if not HAS_CUDA:
        with pytest.raises((RuntimeError, ValueError), match="cuda|CUDA"):
            batched_pca(x, backend="cuda")


def _outs(B, k, dtype=torch.float32):
    return torch.empty(B, k, dtype=dtype), torch.empty(B, k, dtype=dtype), torch.empty(B, k, k, dtype=dtype)


def test_cpp_checks_raise():
    x = torch.randn(4, 6, 3)
    mean, vals, vecs = _outs(4, 3)
    _C.pca_cpu(ref(x), None, ref(mean), ref(vals), ref(vecs), True)  # the valid call
    with pytest.raises(ValueError, match="'x' must have 3 dimensions"):
        _C.pca_cpu(ref(x[0]), None, ref(mean), ref(vals), None, True)
    with pytest.raises(TypeError, match="'x' must be float32 or float64"):
        _C.pca_cpu(ref(x.to(torch.int32)), None, ref(mean), ref(vals), None, True)
    with pytest.raises(TypeError, match="'mean' must have dtype float32"):
        _C.pca_cpu(ref(x), None, ref(mean.double()), ref(vals), None, True)
    with pytest.raises(ValueError, match="'eigenvalues' has the wrong shape"):
        _C.pca_cpu(ref(x), None, ref(mean), ref(torch.empty(4, 2)), None, True)
    with pytest.raises(ValueError, match="'eigenvectors' has the wrong shape"):
        _C.pca_cpu(ref(x), None, ref(mean), ref(vals), ref(torch.empty(4, 3, 2)), True)
    with pytest.raises(ValueError, match="'x' must be contiguous"):
        _C.pca_cpu(ref(torch.randn(4, 3, 6).transpose(1, 2)), None, ref(mean), ref(vals), None, True)
    with pytest.raises(TypeError, match="'mask' must have dtype bool"):
        _C.pca_cpu(ref(x), ref(torch.ones(4, 6, dtype=torch.uint8)), ref(mean), ref(vals), None, True)
    with pytest.raises(ValueError, match=r"'mask' must have shape \(4, 6\)"):
        _C.pca_cpu(ref(x), ref(torch.ones(4, 5, dtype=torch.bool)), ref(mean), ref(vals), None, True)
    big = torch.randn(2, 3, 65)
    m2, v2, _ = _outs(2, 65)
    with pytest.raises(ValueError, match="'x' must have 1 to 64 dimensions"):
        _C.pca_cpu(ref(big), None, ref(m2), ref(v2), None, True)
    if not _C.has_cuda():
        with pytest.raises(NotImplementedError, match="built without CUDA"):
            _C.pca_cuda(ref(x), None, ref(mean), ref(vals), None, True, ref(torch.full((2,), 4)), 0)
    elif not HAS_CUDA:
        with pytest.raises(ValueError, match="'x' must be a CUDA tensor"):
            _C.pca_cuda(ref(x), None, ref(mean), ref(vals), None, True, ref(torch.full((2,), 4)), 0)


# -- the CUDA kernel's algorithm, emulated in numpy so its formulas are checked without a GPU ----------

def _tournament_pair(r, i, n):
    mod = n - 1
    return (r, n - 1) if i == 0 else ((r + i) % mod, (r - i + mod) % mod)


def _parallel_jacobi(C, dtype):
    """Same rounds, rotation formulas, 2x2 block updates and stopping rule as pca_cuda.cu."""
    k = C.shape[0]
    n = k + (k & 1)
    h = n // 2
    A = np.zeros((n, n), dtype)
    A[:k, :k] = C
    V = np.eye(n, dtype=dtype)
    tol = np.finfo(dtype).eps * n
    one, two = dtype(1), dtype(2)
    for _ in range(30):
        sq = A.astype(np.float64) ** 2
        off = float(sq[~np.eye(n, dtype=bool)].sum())  # summed directly, as the kernel does
        if off <= tol * tol * float(sq.sum()):
            break
        for rnd in range(n - 1):
            pairs = [_tournament_pair(rnd, i, n) for i in range(h)]
            assert sorted(sum(pairs, ())) == list(range(n))  # disjoint and complete
            cs = []
            for p, q in pairs:
                c, s = one, dtype(0)
                if A[p, q] != 0:
                    th = (A[q, q] - A[p, p]) / (two * A[p, q])
                    t = (one if th >= 0 else -one) / (abs(th) + np.sqrt(th * th + one))
                    c = one / np.sqrt(t * t + one)
                    s = t * c
                cs.append((c, s))
            An = A.copy()
            for I, ((pi, qi), (ci, si)) in enumerate(zip(pairs, cs)):
                for J, ((pj, qj), (cj, sj)) in enumerate(zip(pairs, cs)):
                    b00, b01, b10, b11 = A[pi, pj], A[pi, qj], A[qi, pj], A[qi, qj]
                    m00, m01 = b00 * cj - b01 * sj, b00 * sj + b01 * cj
                    m10, m11 = b10 * cj - b11 * sj, b10 * sj + b11 * cj
                    An[pi, pj], An[qi, qj] = ci * m00 - si * m10, si * m01 + ci * m11
                    if I == J:
                        An[pi, qj] = An[qi, pj] = 0
                    else:
                        An[pi, qj], An[qi, pj] = ci * m01 - si * m11, si * m00 + ci * m10
            Vn = V.copy()
            for (pj, qj), (cj, sj) in zip(pairs, cs):
                Vn[:, pj], Vn[:, qj] = cj * V[:, pj] - sj * V[:, qj], sj * V[:, pj] + cj * V[:, qj]
            A, V = An, Vn
    return np.diag(A)[:k], V[:k, :k]


@pytest.mark.parametrize("k", [1, 2, 5, 8, 11])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cuda_jacobi_algorithm_emulated(rng, k, dtype):
    x = rng.normal(size=(3 * k + 2, k)) * rng.uniform(0.1, 3, size=k)
    C = np.atleast_2d(np.cov(x.T))
    d, V = _parallel_jacobi(C.astype(dtype), dtype)
    w = np.linalg.eigvalsh(C)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(np.sort(d), w, atol=tol * w.max())
    np.testing.assert_allclose(V @ np.diag(d) @ V.T, C, atol=10 * tol * w.max())


def assert_same_subspaces(v1, w1, v2, atol_rel):
    """Eigenvectors of two decompositions of one matrix agree as subspaces: per cloud, the eigenvalues are
    grouped into clusters closer than 1e3 * atol_rel of the largest (a cluster's vectors may rotate inside
    it), and the sine of the angle between the two spans is at most the Davis-Kahan bound
    ||E|| / gap, with ||E|| <= k * atol_rel * max|w| (what the eigenvalue tolerance allows)."""
    v1, w1, v2 = (np.asarray(t.double().cpu()) for t in (v1, w1, v2))
    B, k = w1.shape
    for b in range(B):
        scale = max(np.abs(w1[b]).max(), 1e-300)
        cut = 1e3 * atol_rel * scale
        groups, start = [], 0
        for j in range(1, k + 1):
            if j == k or w1[b, j - 1] - w1[b, j] > cut:
                groups.append((start, j))
                start = j
        for lo, hi in groups:
            gap = min([w1[b, lo - 1] - w1[b, lo]] if lo > 0 else [np.inf])
            gap = min(gap, w1[b, hi - 1] - w1[b, hi] if hi < k else np.inf)
            if not np.isfinite(gap):
                continue  # one group: the whole space
            # || (I - P1) P2 ||: the sine of the largest principal angle between the spans
            P1 = v1[b][:, lo:hi]
            Q2 = v2[b][:, lo:hi]
            sine = np.linalg.norm(Q2 - P1 @ (P1.T @ Q2), 2)
            assert sine <= k * atol_rel * scale / gap + 1e-6, (b, lo, hi, sine, gap / scale)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cpu_kernel_eigenvectors_span_the_reference_subspaces(rng, dtype):
    """The subspace comparison the CUDA parity test uses, on the CPU kernel against float64 numpy (and a
    deliberately wrong pair of vectors fails it)."""
    for k in (3, 10, 31, 64):
        x = rng.normal(size=(20, 40, k)) * rng.uniform(0.1, 3, size=(20, 1, k))
        _, w, v = batched_pca(torch.tensor(x, dtype=dtype), backend="cpu", eigenvectors=True)
        _, _, wr, vr = reference(x)
        assert_same_subspaces(torch.from_numpy(vr.copy()), torch.from_numpy(wr.copy()), v,
                              1e-6 if dtype == torch.float32 else 1e-12)
    swapped = vr.copy()
    swapped[:, :, [0, 1]] = swapped[:, :, [1, 0]]
    with pytest.raises(AssertionError):
        assert_same_subspaces(torch.from_numpy(vr.copy()), torch.from_numpy(wr.copy()), torch.from_numpy(swapped),
                              1e-12)


@pytest.mark.cuda
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cuda_matches_cpu_kernel(rng, dtype):
    """Eigenvalues within the tolerances (float32 at k = 64: the GPU's float Jacobi is about 1e-5 of the
    largest eigenvalue from the CPU's float64, inside the 1e-4 allowed), eigenvectors as subspaces, means."""
    for k in (1, 3, 10, 31, 64):
        x = torch.tensor(rng.normal(size=(300, 40, k)) * rng.uniform(0.1, 3, size=(300, 1, k)), dtype=dtype)
        mask = torch.tensor(rng.random((300, 40)) < 0.8)
        for msk in (None, mask):
            m1, v1, e1 = batched_pca(x, msk, backend="cpu", eigenvectors=True)
            m2, v2, e2 = batched_pca(x.cuda(), None if msk is None else msk.cuda(), eigenvectors=True)
            rtol, atol = tolerances(dtype, "cuda")
            scale = v1.abs().amax(1, keepdim=True)
            err = ((v2.cpu() - v1).abs() / scale).max().item()
            assert ((v2.cpu() - v1).abs() <= rtol * v1.abs() + atol * scale).all(), (k, err)
            if k == 64 and dtype == torch.float32:
                print(f"float32 k=64: largest eigenvalue error {err:.2e} of the largest (allowed {atol:.0e})")
            assert_same_subspaces(e1, v1, e2, atol if dtype == torch.float32 else 1e-12)
            torch.testing.assert_close(m2.cpu(), m1, rtol=1e-6, atol=1e-6)


# ---- issue 15 regressions -------------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["cpu", "torch"])
def test_pca_negative_strides_grad_and_extremes(backend):
    """Defects 13, 15 and 23: negative-stride views accepted; grad dropped on every backend; extreme
    magnitudes computed exactly (powers of two) or one ValueError when the covariance is unrepresentable."""
    a = np.random.default_rng(0).random((2, 6, 3))
    m0, e0, _ = batched_pca(a[::-1].copy(), backend=backend)
    m1, e1, _ = batched_pca(a[::-1], backend=backend)
    torch.testing.assert_close(m0, m1)
    torch.testing.assert_close(e0, e1)
    t = torch.rand(2, 6, 3, requires_grad=True)
    assert not any(o.requires_grad for o in batched_pca(t, eigenvectors=True, backend=backend))
    m_ref, e_ref, _ = batched_pca(a, backend=backend)
    for s in (2.0**-600, 2.0**500):
        m, e, _ = batched_pca(a * s, backend=backend)
        torch.testing.assert_close(m, m_ref * s)
        torch.testing.assert_close(e, e_ref * s * s)
    for x in (a * 1e160, (a * 1e30).astype(np.float32)):
        with pytest.raises(ValueError, match="'x'.*overflows"):
            batched_pca(x, backend=backend)
