"""Pairwise distances: every metric x backend x dtype x (batched or not) x (self, cross, condensed)
against a float64 reference, the near-duplicate accuracy guarantee, and the error cases."""

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist as scipy_cdist
from scipy.spatial.distance import pdist as scipy_pdist

from pydisent import _C
from pydisent._dispatch import cuda_available, ref
from pydisent._distance_metric import code as metric_code
from pydisent.ops import DISTANCE_METRICS, cdist, pairwise_distance

HAS_CUDA = cuda_available()

BACKENDS = ["cpu", "torch", pytest.param("cuda", marks=pytest.mark.cuda)]
DTYPES = [torch.float32, torch.float64]
SCIPY_NAME = {"euclidean": "euclidean", "sqeuclidean": "sqeuclidean", "manhattan": "cityblock",
              "chebyshev": "chebyshev", "cosine": "cosine"}


# ---- float64 reference ------------------------------------------------------------------------

def reference(x: np.ndarray, y: np.ndarray, metric: str) -> np.ndarray:
    """float64 distances (n, m) from scipy, with pydisent's zero-vector rule for cosine."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, m, d = x.shape[0], y.shape[0], x.shape[1]
    if n == 0 or m == 0:
        return np.zeros((n, m))
    if metric == "mse":
        return scipy_cdist(x, y, "sqeuclidean") / d
    if metric == "cosine":
        nx, ny = np.linalg.norm(x, axis=1), np.linalg.norm(y, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            c = np.clip((x @ y.T) / np.outer(nx, ny), -1, 1)
        out = 1 - c
        zx, zy = nx == 0, ny == 0
        out[zx[:, None] | zy[None, :]] = 1.0
        out[zx[:, None] & zy[None, :]] = 0.0
        return out
    return scipy_cdist(x, y, SCIPY_NAME[metric])


def condense(D: np.ndarray) -> np.ndarray:
    iu = np.triu_indices(D.shape[0], 1)
    return D[iu]


def assert_matches(got: torch.Tensor, expect: np.ndarray, metric: str, dtype: torch.dtype, what: str = ""):
    """Per-element relative error bound (absolute for cosine, whose 1 - cos cancels by definition)."""
    assert isinstance(got, torch.Tensor) and got.dtype == dtype, what
    g = got.detach().cpu().double().numpy()
    assert g.shape == expect.shape, f"{what}: shape {g.shape} != {expect.shape}"
    assert not np.isnan(g).any(), f"{what}: NaN in the output"
    assert (g >= 0).all(), f"{what}: negative distance"
    f32 = dtype == torch.float32
    if f32:  # what the float64 value rounds to in float32 (inf when it overflows)
        with np.errstate(over="ignore"):
            expect = expect.astype(np.float32).astype(np.float64)
    inf = np.isinf(expect)
    assert np.array_equal(np.isinf(g), inf), f"{what}: infinities differ"
    g, e = g[~inf], expect[~inf]
    if metric == "cosine":
        tol = 1e-5 if f32 else 1e-12
        err = np.abs(g - e)
    else:
        tol = 1e-5 if f32 else 1e-12
        with np.errstate(invalid="ignore", divide="ignore"):
            err = np.where(e == 0, np.abs(g), np.abs(g - e) / np.where(e == 0, 1, e))
    worst = err.max(initial=0.0)
    assert worst <= tol, f"{what}: max error {worst:.3g} > {tol:g}"


def to_device(a: np.ndarray, dtype, backend):
    t = torch.from_numpy(np.ascontiguousarray(a)).to(dtype)
    return t.cuda() if backend == "cuda" else t


# ---- test data --------------------------------------------------------------------------------

def make_points(rng, kind: str, shape, dtype_np=np.float64):
    *lead, n, d = shape
    if kind == "normal":
        a = rng.standard_normal(shape)
    elif kind == "ties":  # small integers: many equal distances, exact duplicates, zero rows
        a = rng.integers(-2, 3, size=shape).astype(np.float64)
    elif kind == "scaled":  # features on very different scales, offset from the origin
        a = rng.standard_normal(shape) * np.exp(rng.uniform(-3, 3, size=d)) + rng.uniform(-50, 50)
    else:
        raise AssertionError(kind)
    return a.astype(dtype_np)


# (n, m, d): one point, empty sets, d = 1, tile and chunk boundaries (tiles of 128 rows and columns,
# float32 feature chunks of 128, float64 chunks of 256; self distances with d <= 32 compute both
# triangles, above that one triangle and its mirror image), and d = 4096.
SHAPES = [(1, 1, 1), (1, 4, 3), (0, 5, 3), (4, 0, 3), (0, 0, 2), (6, 9, 1), (17, 13, 5), (130, 129, 7),
          (150, 20, 40), (40, 33, 130), (9, 140, 257), (5, 7, 4096)]
KINDS = ["normal", "ties", "scaled"]


def _cases(rng):
    for i, (n, m, d) in enumerate(SHAPES):
        yield n, m, d, KINDS[i % len(KINDS)]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("metric", DISTANCE_METRICS)
def test_parity_unbatched(metric, dtype, backend, rng):
    for n, m, d, kind in _cases(rng):
        x = make_points(rng, kind, (n, d))
        y = make_points(rng, kind, (m, d))
        if kind == "ties" and n and m:  # y shares points with x: exact duplicates across the sets
            y[: min(n, m)] = x[: min(n, m)]
        xt, yt = to_device(x, dtype, backend), to_device(y, dtype, backend)
        x64 = xt.double().cpu().numpy()
        y64 = yt.double().cpu().numpy()
        what = f"{metric} {backend} {dtype} n={n} m={m} d={d} {kind}"

        got = pairwise_distance(xt, yt, metric, backend=backend)
        assert got.device == xt.device
        assert_matches(got, reference(x64, y64, metric), metric, dtype, "cross " + what)
        assert_matches(cdist(xt, yt, metric, backend=backend), reference(x64, y64, metric), metric, dtype,
                       "cdist " + what)

        D = pairwise_distance(xt, metric=metric, backend=backend)
        expect = reference(x64, x64, metric)
        np.fill_diagonal(expect, 0.0)
        assert_matches(D, expect, metric, dtype, "self " + what)
        assert torch.equal(D, D.T), "self distances must be exactly symmetric: " + what
        assert (torch.diagonal(D) == 0).all(), "self distances must have a zero diagonal: " + what

        C = pairwise_distance(xt, metric=metric, backend=backend, condensed=True)
        assert C.shape == (n * (n - 1) // 2,)
        assert_matches(C, condense(expect), metric, dtype, "condensed " + what)
        assert torch.equal(C.cpu(), D.cpu()[tuple(torch.triu_indices(n, n, 1))])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("metric", DISTANCE_METRICS)
def test_parity_batched(metric, dtype, backend, rng):
    for B, n, m, d in [(3, 5, 4, 3), (2, 130, 7, 9), (4, 1, 1, 1), (0, 3, 3, 2), (2, 0, 3, 2), (2, 6, 8, 300)]:
        kind = KINDS[(n + d) % len(KINDS)]
        x = make_points(rng, kind, (B, n, d))
        y = make_points(rng, kind, (B, m, d))
        xt, yt = to_device(x, dtype, backend), to_device(y, dtype, backend)
        x64, y64 = xt.double().cpu().numpy(), yt.double().cpu().numpy()
        what = f"{metric} {backend} {dtype} B={B} n={n} m={m} d={d}"

        got = pairwise_distance(xt, yt, metric, backend=backend)
        assert got.shape == (B, n, m)
        D = pairwise_distance(xt, metric=metric, backend=backend)
        assert D.shape == (B, n, n)
        C = pairwise_distance(xt, metric=metric, backend=backend, condensed=True)
        assert C.shape == (B, n * (n - 1) // 2)
        for b in range(B):
            assert_matches(got[b], reference(x64[b], y64[b], metric), metric, dtype, f"cross {what} b={b}")
            expect = reference(x64[b], x64[b], metric)
            np.fill_diagonal(expect, 0.0)
            assert_matches(D[b], expect, metric, dtype, f"self {what} b={b}")
            assert_matches(C[b], condense(expect), metric, dtype, f"condensed {what} b={b}")
        assert torch.equal(D, D.transpose(1, 2))


@pytest.mark.parametrize("metric", DISTANCE_METRICS)
def test_condensed_is_scipy_pdist_order(metric, rng):
    x = rng.standard_normal((23, 4))
    got = pairwise_distance(x, metric=metric, condensed=True)
    if metric == "mse":
        expect = scipy_pdist(x, "sqeuclidean") / 4
    else:
        expect = scipy_pdist(x, SCIPY_NAME[metric])
    np.testing.assert_allclose(got.numpy(), expect, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("metric", DISTANCE_METRICS)
def test_non_contiguous_inputs(metric, backend, rng):
    base = to_device(rng.standard_normal((3, 40, 2 * 21)), torch.float32, backend)
    x = base[1, :, ::2]                    # strided features
    y = base[2, :25, ::2].T.contiguous().T  # column-major (transposed) storage
    assert not x.is_contiguous() and not y.is_contiguous()
    xb = base.permute(1, 0, 2)[:, :, 1::2].permute(1, 0, 2)  # a non-contiguous batch, (3, 40, 21)
    assert not xb.is_contiguous()
    x64, y64 = x.double().cpu().numpy(), y.double().cpu().numpy()
    assert_matches(pairwise_distance(x, y, metric, backend=backend), reference(x64, y64, metric), metric,
                   torch.float32, "strided cross")
    e = reference(x64, x64, metric)
    np.fill_diagonal(e, 0)
    assert_matches(pairwise_distance(x, metric=metric, backend=backend), e, metric, torch.float32, "strided self")
    got = pairwise_distance(xb, metric=metric, backend=backend)
    for b in range(3):
        xb64 = xb[b].double().cpu().numpy()
        e = reference(xb64, xb64, metric)
        np.fill_diagonal(e, 0)
        assert_matches(got[b], e, metric, torch.float32, f"strided batch {b}")
    # A broadcast (stride 0) batch dimension reads the same cloud B times.
    xe = x.unsqueeze(0).expand(4, -1, -1)
    got = pairwise_distance(xe, y.unsqueeze(0).expand(4, -1, -1), metric, backend=backend)
    for b in range(4):
        assert_matches(got[b], reference(x64, y64, metric), metric, torch.float32, "expanded batch")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("metric", DISTANCE_METRICS)
def test_extreme_magnitudes(metric, dtype, backend, rng):
    """Squares of very large (or very small) values must neither overflow nor underflow silently."""
    exps = (100, -100) if dtype == torch.float32 else (900, -900)
    for e in exps:
        s = 2.0**e
        x = rng.standard_normal((6, 5)) * s
        y = rng.standard_normal((4, 5)) * s
        x[0] = 0.0
        xt, yt = to_device(x, dtype, backend), to_device(y, dtype, backend)
        x64, y64 = xt.double().cpu().numpy(), yt.double().cpu().numpy()
        # Reference: distances scale exactly with a power of two (squared ones with its square).
        k = 2 if metric in ("sqeuclidean", "mse") else (0 if metric == "cosine" else 1)
        with np.errstate(over="ignore"):
            expect = reference(x64 / s, y64 / s, metric) * np.float64(s) ** k
        assert_matches(pairwise_distance(xt, yt, metric, backend=backend), expect, metric, dtype, f"scale 2^{e}")


def test_numpy_in_torch_out(rng):
    x = rng.standard_normal((5, 3)).astype(np.float32)
    got = pairwise_distance(x)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float32 and got.shape == (5, 5)
    ro = rng.standard_normal((4, 2))
    ro.flags.writeable = False  # read-only arrays are copied, not rejected
    assert pairwise_distance(ro, metric="manhattan").shape == (4, 4)
    assert pairwise_distance([[0.0, 0.0], [3.0, 4.0]])[0, 1].item() == 5.0


def test_hand_checked_values():
    x = torch.tensor([[0.0, 0.0], [3.0, 4.0], [1.0, 0.0]], dtype=torch.float64)
    assert pairwise_distance(x)[0, 1] == 5.0
    assert pairwise_distance(x, metric="sqeuclidean")[0, 1] == 25.0
    assert pairwise_distance(x, metric="manhattan")[0, 1] == 7.0
    assert pairwise_distance(x, metric="chebyshev")[0, 1] == 4.0
    assert pairwise_distance(x, metric="mse")[0, 1] == 12.5
    cos = pairwise_distance(x, metric="cosine")
    assert cos[1, 2] == pytest.approx(1 - 3 / 5)
    # zero vector: 1 from any other vector, 0 from another zero vector
    assert cos[0, 1] == 1.0 and cos[0, 2] == 1.0 and cos[0, 0] == 0.0
    z = torch.zeros(2, 3)
    assert torch.equal(cdist(z, z, "cosine"), torch.zeros(2, 2))
    assert torch.equal(cdist(z, torch.ones(1, 3), "cosine"), torch.ones(2, 1))


def test_same_tensor_as_y_is_self_distance(rng):
    x = torch.from_numpy(rng.standard_normal((20, 7)).astype(np.float32))
    for metric in DISTANCE_METRICS:
        D = pairwise_distance(x, x, metric)
        assert torch.equal(D, D.T) and (torch.diagonal(D) == 0).all()


def test_cpu_kernel_every_instruction_set(rng):
    """Each compiled instruction-set variant this CPU supports agrees with the reference."""
    isas = _C.distance_cpu_isas()
    assert isas[-1] == "generic"
    for isa in isas:
        for dtype in DTYPES:
            for n, m, d in [(3, 5, 2), (131, 150, 9), (140, 10, 50), (20, 30, 300)]:
                x = torch.from_numpy(rng.standard_normal((2, n, d))).to(dtype)
                y = torch.from_numpy(rng.standard_normal((2, m, d))).to(dtype)
                for metric in DISTANCE_METRICS:
                    out = torch.empty(2, n, m, dtype=dtype)
                    _C.distance_cpu(ref(x), ref(y), ref(out), metric_code(metric), False, False, isa)
                    sym = torch.empty(2, n, n, dtype=dtype)
                    _C.distance_cpu(ref(x), ref(x), ref(sym), metric_code(metric), True, False, isa)
                    for b in range(2):
                        x64, y64 = x[b].double().numpy(), y[b].double().numpy()
                        assert_matches(out[b], reference(x64, y64, metric), metric, dtype, f"{isa} {metric}")
                        e = reference(x64, x64, metric)
                        np.fill_diagonal(e, 0)
                        assert_matches(sym[b], e, metric, dtype, f"{isa} {metric} self")


# ---- accuracy ---------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("d", [3, 64, 4096])
def test_near_duplicates_float32(d, backend, rng):
    """Points 1e-3 apart, 1e3 from the origin: relative error <= 1e-5 in float32, never negative."""
    n = 40 if d < 4096 else 12
    center = rng.uniform(-1, 1, size=d) * 1e3
    x = (center + 1e-3 * rng.standard_normal((n, d))).astype(np.float32)
    y = (center + 1e-3 * rng.standard_normal((n + 3, d))).astype(np.float32)
    xt, yt = to_device(x, torch.float32, backend), to_device(y, torch.float32, backend)
    for metric in ("euclidean", "sqeuclidean", "mse", "manhattan", "chebyshev"):
        expect = reference(x.astype(np.float64), y.astype(np.float64), metric)
        assert_matches(pairwise_distance(xt, yt, metric, backend=backend), expect, metric, torch.float32,
                       f"near-duplicates {metric} d={d}")
        e = reference(x.astype(np.float64), x.astype(np.float64), metric)
        assert_matches(pairwise_distance(xt, metric=metric, backend=backend), e, metric, torch.float32,
                       f"near-duplicates self {metric} d={d}")
    if backend == "cpu":
        for isa in _C.distance_cpu_isas():
            out = torch.empty(1, n, n + 3)
            _C.distance_cpu(ref(xt[None]), ref(yt[None]), ref(out), metric_code("sqeuclidean"), False, False, isa)
            expect = reference(x.astype(np.float64), y.astype(np.float64), "sqeuclidean")
            assert_matches(out[0], expect, "sqeuclidean", torch.float32, f"near-duplicates {isa}")


def test_long_sums_float32(rng):
    """d = 4096 terms of one sign: float32 sums must not drift past 1e-5 (chunked, float64 between chunks)."""
    x = rng.uniform(0, 1, size=(6, 4096)).astype(np.float32)
    y = (x + rng.uniform(0.5, 1.0, size=(6, 4096))).astype(np.float32)
    # Equal terms round the same way at every step of a plain running sum: a naive float32
    # accumulation over 4096 of them is off by up to ~6e-5.
    z = np.zeros((1, 4096), dtype=np.float32)
    c = np.repeat(rng.uniform(0.5, 1.0, size=(200, 1)), 4096, axis=1).astype(np.float32)
    for metric in ("sqeuclidean", "manhattan", "mse", "euclidean"):
        for a, b in ((x, y), (z, c)):
            expect = reference(a.astype(np.float64), b.astype(np.float64), metric)
            for backend in ("cpu", "torch"):
                assert_matches(cdist(a, b, metric, backend=backend), expect, metric, torch.float32, metric)
        for isa in _C.distance_cpu_isas():
            out = torch.empty(1, 1, 200)
            _C.distance_cpu(ref(torch.from_numpy(z)[None]), ref(torch.from_numpy(c)[None]), ref(out),
                            metric_code(metric), False, False, isa)
            assert_matches(out[0], reference(z.astype(np.float64), c.astype(np.float64), metric), metric,
                           torch.float32, f"{metric} {isa}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_gemm_mode(backend, rng):
    """mode='gemm': close on well-separated points, never negative, exact symmetry and zero diagonal."""
    x = to_device(rng.standard_normal((50, 16)), torch.float32, backend)
    y = to_device(rng.standard_normal((30, 16)), torch.float32, backend)
    x64, y64 = x.double().cpu().numpy(), y.double().cpu().numpy()
    for metric in DISTANCE_METRICS:
        got = pairwise_distance(x, y, metric, backend=backend, mode="gemm").cpu().double().numpy()
        np.testing.assert_allclose(got, reference(x64, y64, metric), rtol=1e-4, atol=1e-4)
        D = pairwise_distance(x, metric=metric, backend=backend, mode="gemm")
        assert torch.equal(D, D.T) and (torch.diagonal(D) == 0).all() and (D >= 0).all()
        C = pairwise_distance(x, metric=metric, backend=backend, mode="gemm", condensed=True)
        assert torch.equal(C, D[tuple(torch.triu_indices(50, 50, 1, device=D.device))])
    # manhattan and chebyshev have no GEMM form: gemm mode is the exact kernel
    assert torch.equal(pairwise_distance(x, y, "manhattan", backend=backend, mode="gemm"),
                       pairwise_distance(x, y, "manhattan", backend=backend))


def test_gemm_mode_is_worse_on_near_duplicates_than_exact(rng):
    """Documents why gemm is opt-in: the expansion cancels on near-duplicates far from the origin."""
    x = (1e3 + 1e-3 * rng.standard_normal((30, 32))).astype(np.float32)
    expect = reference(x.astype(np.float64), x.astype(np.float64), "sqeuclidean")
    off = ~np.eye(30, dtype=bool)
    err = {mode: np.abs(pairwise_distance(x, metric="sqeuclidean", mode=mode).double().numpy() - expect)[off].max()
           / expect[off].min() for mode in ("exact", "gemm")}
    assert err["exact"] <= 1e-5 < err["gemm"]


# ---- errors -----------------------------------------------------------------------------------

def test_error_wrong_dtype():
    with pytest.raises(TypeError, match="'x'.*float32 or float64"):
        pairwise_distance(torch.zeros(3, 2, dtype=torch.int64))
    with pytest.raises(TypeError, match="'y'"):
        cdist(torch.zeros(3, 2), torch.zeros(3, 2, dtype=torch.int32))
    with pytest.raises(TypeError, match="'x'"):
        pairwise_distance(np.zeros((3, 2), dtype=np.int32))
    with pytest.raises(TypeError, match="'x'"):
        pairwise_distance(torch.zeros(3, 2, dtype=torch.float16))
    with pytest.raises(TypeError, match="'x' and 'y'.*same dtype"):
        cdist(torch.zeros(3, 2), torch.zeros(3, 2, dtype=torch.float64))


def test_error_wrong_rank():
    with pytest.raises(ValueError, match="'x'.*2 or 3 dimensions"):
        pairwise_distance(torch.zeros(3))
    with pytest.raises(ValueError, match="'x'.*2 or 3 dimensions"):
        pairwise_distance(torch.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError, match="'y'.*rank"):
        cdist(torch.zeros(2, 3, 4), torch.zeros(3, 4))


def test_error_mismatched_sizes():
    with pytest.raises(ValueError, match="'x' and 'y'.*features"):
        cdist(torch.zeros(3, 2), torch.zeros(3, 4))
    with pytest.raises(ValueError, match="'x' and 'y'.*batch size"):
        cdist(torch.zeros(2, 3, 4), torch.zeros(3, 3, 4))
    with pytest.raises(ValueError, match="'x'.*at least one feature"):
        pairwise_distance(torch.zeros(3, 0))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_error_non_finite(bad):
    x = torch.zeros(4, 3)
    x[2, 1] = bad
    with pytest.raises(ValueError, match="'x'.*NaN or infinite"):
        pairwise_distance(x)
    with pytest.raises(ValueError, match="'y'.*NaN or infinite"):
        cdist(torch.zeros(2, 3), x)
    with pytest.raises(ValueError, match="'x'.*NaN or infinite"):
        pairwise_distance(x, backend="torch")


def test_error_devices():
    with pytest.raises(ValueError, match="same device"):
        cdist(torch.zeros(3, 2), torch.zeros(3, 2, device="meta"))


def test_error_arguments():
    x = torch.zeros(3, 2)
    with pytest.raises(ValueError, match="'condensed'"):
        pairwise_distance(x, x, condensed=True)
    with pytest.raises(ValueError, match="'metric'.*euclidean"):
        pairwise_distance(x, metric="minkowski")
    with pytest.raises(TypeError, match="'metric'"):
        pairwise_distance(x, metric=2)
    with pytest.raises(ValueError, match="'mode'"):
        pairwise_distance(x, mode="fast")
    with pytest.raises(ValueError, match="'backend'"):
        pairwise_distance(x, backend="gpu")
    with pytest.raises(TypeError, match="'condensed'"):
        pairwise_distance(x, condensed="yes")
    with pytest.raises(ValueError, match="'y'"):
        cdist(x, None)


def test_error_cuda_backend_without_gpu():
    if HAS_CUDA:
        pytest.skip("a GPU is present")
    with pytest.raises((RuntimeError, ValueError), match="backend='cuda'"):
        pairwise_distance(torch.zeros(3, 2), backend="cuda")


def test_cuda_entry_point_without_cuda_build():
    if _C.has_cuda():
        pytest.skip("built with CUDA")
    t = torch.zeros(1, 2, 2)
    with pytest.raises(RuntimeError, match="built without CUDA"):
        _C.distance_cuda(ref(t), ref(t), ref(torch.zeros(1, 2, 2)), ref(torch.zeros(0, dtype=torch.float64)),
                         metric_code("euclidean"), True, False, 0)


def _tref(shape, dtype=None, device=-1, strides=None, ptr=None, like=None):
    """A TensorRef over a real buffer (so a check that failed to fire could not crash)."""
    dtype = dtype or _C.DType.float32
    if strides is None:
        strides, acc = [], 1
        for s in reversed(shape):
            strides.insert(0, acc)
            acc *= max(s, 1)
    return _C.TensorRef(like.data_ptr() if ptr is None else ptr, dtype, device, list(shape), strides)


def test_cpp_entry_rejects_bad_refs():
    """The C++ side checks again: bad TensorRefs raise ValueError/TypeError naming the argument."""
    buf = torch.zeros(4096)
    good = dict(shape=[1, 4, 3], like=buf)
    x, y, out = _tref(**good), _tref(**good), _tref([1, 4, 4], like=buf)

    def run(x, y, out, metric, *rest):
        return _C.distance_cpu(x, y, out, metric_code(metric), *rest)
    run(x, y, out, "euclidean")  # the valid call works

    cases = [
        (ValueError, "'x'.*3 dimensions", lambda: run(_tref([4, 3], like=buf), y, out, "euclidean")),
        (TypeError, "'x'.*float32 or float64", lambda: run(_tref([1, 4, 3], _C.DType.int32, like=buf), y, out,
                                                           "euclidean")),
        (TypeError, "'x' and 'y'.*same dtype", lambda: run(x, _tref([1, 4, 3], _C.DType.float64, like=buf), out,
                                                           "euclidean")),
        (TypeError, "'out'.*dtype", lambda: run(x, y, _tref([1, 4, 4], _C.DType.float64, like=buf), "euclidean")),
        (ValueError, "'x' and 'y'.*features", lambda: run(x, _tref([1, 4, 2], like=buf), out, "euclidean")),
        (ValueError, "'x' and 'y'.*batch", lambda: run(x, _tref([2, 4, 3], like=buf), out, "euclidean")),
        (ValueError, "'out'.*shape", lambda: run(x, y, _tref([1, 4, 5], like=buf), "euclidean")),
        (ValueError, "'out'.*contiguous", lambda: run(x, y, _tref([1, 4, 4], strides=[16, 1, 4], like=buf),
                                                      "euclidean")),
        (ValueError, "'x'.*CPU tensor", lambda: run(_tref([1, 4, 3], device=0, like=buf), y, out, "euclidean")),
        (ValueError, "'x'.*null", lambda: run(_tref([1, 4, 3], ptr=0), y, out, "euclidean")),
        (ValueError, "'y'.*non-negative strides", lambda: run(x, _tref([1, 4, 3], strides=[12, -3, 1], like=buf),
                                                              out, "euclidean")),
        (ValueError, "'metric'", lambda: run(x, y, out, _C.DistanceMetric(17))),
        (ValueError, "'y'.*same view", lambda: run(x, _tref([1, 4, 3], strides=[12, 1, 4], like=buf), out,
                                                  "euclidean", True)),
        (ValueError, "'condensed'", lambda: run(x, y, _tref([1, 6], like=buf), "euclidean", False, True)),
        (ValueError, "'out'.*condensed", lambda: run(x, x, _tref([1, 5], like=buf), "euclidean", True, True)),
        (ValueError, "'x'.*at least one feature", lambda: run(_tref([1, 4, 0], like=buf), _tref([1, 4, 0], like=buf),
                                                              out, "euclidean")),
        (ValueError, "'isa'", lambda: run(x, y, out, "euclidean", False, False, "avx9000")),
    ]
    for exc, pattern, call in cases:
        with pytest.raises(exc, match=pattern):
            call()

    nan = torch.zeros(1, 4, 3)
    nan[0, 1, 1] = float("nan")
    with pytest.raises(ValueError, match="'x'.*NaN"):
        run(ref(nan), ref(nan), ref(torch.empty(1, 4, 4)), "euclidean", True)
    with pytest.raises(ValueError, match="'y'.*NaN"):
        run(ref(torch.zeros(1, 4, 3)), ref(nan), ref(torch.empty(1, 4, 4)), "euclidean")


# ---- CUDA specifics ---------------------------------------------------------------------------

@pytest.mark.cuda
def test_cuda_many_batches_and_streams(rng):
    """More batch items than one grid dimension holds (65535), and a non-default stream."""
    x = torch.from_numpy(rng.standard_normal((70000, 3, 2)).astype(np.float32)).cuda()
    got = pairwise_distance(x, metric="manhattan")
    expect = pairwise_distance(x.cpu(), metric="manhattan")
    torch.testing.assert_close(got.cpu(), expect, rtol=1e-6, atol=1e-6)
    s = torch.cuda.Stream()
    y = torch.from_numpy(rng.standard_normal((300, 40)).astype(np.float64)).cuda()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        d = pairwise_distance(y)
    s.synchronize()
    torch.testing.assert_close(d.cpu(), pairwise_distance(y.cpu()), rtol=1e-12, atol=1e-12)


@pytest.mark.cuda
def test_cuda_backend_errors():
    with pytest.raises(ValueError, match="backend='cpu'"):
        pairwise_distance(torch.zeros(3, 2, device="cuda"), backend="cpu")
    with pytest.raises(ValueError, match="same device"):
        cdist(torch.zeros(3, 2), torch.zeros(3, 2, device="cuda"))
    with pytest.raises(ValueError, match="'x'.*CUDA tensor"):
        t = torch.zeros(1, 2, 2)
        _C.distance_cuda(ref(t), ref(t), ref(t), ref(torch.zeros(0, dtype=torch.float64, device="cuda")),
                         metric_code("euclidean"), True, False, 0)


# ---- issue 15 regressions -------------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["cpu", "torch"])
def test_extreme_largest_magnitudes(backend):
    """Defect 4: 9e307 and largest magnitudes below ~5e-309 raised OverflowError in the rescaling."""
    for v in (9e307, 1.7e308, 1e-309, 5e-324):
        d = pairwise_distance(torch.tensor([[v], [0.0]], dtype=torch.float64), backend=backend)
        assert float(d[0, 1]) == v and float(d[1, 0]) == v
    d = pairwise_distance(torch.tensor([[3e-310, 4e-310], [0.0, 0.0]], dtype=torch.float64), backend=backend)
    assert float(d[0, 1]) == pytest.approx(5e-310, rel=1e-3)  # subnormal inputs carry few bits


@pytest.mark.parametrize("backend", ["cpu", "torch"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_tiny_points_beside_large(backend, dtype):
    """Defect 5: d(1e-30, 0) beside a point at 1 was 0 (the squared difference underflowed float32)."""
    tiny = 1e-30 if dtype == torch.float32 else 1e-300
    x = torch.tensor([[1.0], [tiny], [0.0]], dtype=dtype)
    d = pairwise_distance(x, backend=backend)
    assert float(d[1, 2]) == pytest.approx(tiny, rel=5e-6)
    pts = torch.tensor([[1.0, 2.0], [tiny, 2 * tiny], [0.0, tiny], [3.0, 4.0]], dtype=dtype)
    small = pts[1:3].double().numpy() / tiny
    got = pairwise_distance(pts, backend=backend).double().numpy()
    np.testing.assert_allclose(got[1:3, 1:3], scipy_cdist(small, small) * tiny, rtol=5e-6)
    np.testing.assert_allclose(got[0], scipy_cdist(pts[:1].double().numpy(), pts.double().numpy())[0], rtol=5e-6)
    c = pairwise_distance(pts, metric="cosine", backend=backend)
    assert float(c[0, 1]) == pytest.approx(0.0, abs=1e-6) and float(c[1, 2]) > 0.1


def test_negative_stride_views_accepted():
    """Defect 13: x[::-1] is a valid NumPy view (torch.from_numpy refuses negative strides)."""
    a = np.random.default_rng(0).random((4, 3))
    torch.testing.assert_close(pairwise_distance(a[::-1]), pairwise_distance(a[::-1].copy()))
    torch.testing.assert_close(pairwise_distance(a[:, ::-1], a[::-2]), pairwise_distance(a[:, ::-1].copy(),
                                                                                       a[::-2].copy()))


@pytest.mark.parametrize("backend", ["cpu", "torch"])
def test_cosine_small_point_beside_huge_one(backend):
    """Found by the property tests: one global power of two (for a point at 1e260) flushed a point at 1e-64
    to zero, which cosine then treated as the zero vector. Cosine scales each point by itself."""
    x = np.array([[0, 0, 0, 1.4e-64], [1e-300, 0, 0, 0]])
    y = np.array([[0, 0, 0, 1.4e260], [0, 0, 0, 0.0], [1, 1, 0, 0]])
    got = cdist(x, y, "cosine", backend=backend).numpy()
    np.testing.assert_allclose(got, [[0, 1, 1], [1, 1, 1 - 0.5**0.5]], atol=1e-12)
    f = cdist(np.full((1, 3), 1e-30, np.float32), np.full((1, 3), 1e30, np.float32), "cosine", backend=backend)
    assert abs(float(f[0, 0])) < 1e-6
