"""Property tests of pairwise_distance / cdist (hypothesis; profiles in tests/conftest.py)."""

import math

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist as scipy_cdist

pytest.importorskip("hypothesis", reason="property tests need hypothesis (the `test` extra)")

from hypothesis import given  # noqa: E402

from pydisent.ops import DISTANCE_METRICS, cdist, pairwise_distance  # noqa: E402
from tests._strategies import examples, grid_arrays, point_sets, st  # noqa: E402

_SCIPY = {"euclidean": "euclidean", "sqeuclidean": "sqeuclidean", "manhattan": "cityblock",
          "chebyshev": "chebyshev", "cosine": "cosine"}
_DEGREE = {"euclidean": 1, "manhattan": 1, "chebyshev": 1, "sqeuclidean": 2, "mse": 2, "cosine": 0}


def _reference(a: np.ndarray, b: np.ndarray, metric: str) -> np.ndarray:
    """scipy in float64 on inputs scaled by one power of two (exact), scaled back."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    if metric == "cosine":  # scale-free per point: each row scaled to its own largest magnitude first
        a = a / np.where(a.any(1), np.abs(a).max(1, initial=0), 1.0)[:, None]
        b = b / np.where(b.any(1), np.abs(b).max(1, initial=0), 1.0)[:, None]
    amax = max(np.abs(a).max(initial=0), np.abs(b).max(initial=0))
    e = math.frexp(amax)[1] if amax > 0 else 0
    a, b = np.ldexp(a, -e), np.ldexp(b, -e)
    if metric == "mse":
        ref = scipy_cdist(a, b, "sqeuclidean") / a.shape[1]
    else:
        ref = scipy_cdist(a, b, _SCIPY[metric])
    if metric == "cosine":  # pydisent's zero-vector convention (scipy: NaN)
        za, zb = ~a.any(1), ~b.any(1)
        ref[za[:, None] | zb[None, :]] = 1.0
        ref[za[:, None] & zb[None, :]] = 0.0
    with np.errstate(over="ignore"):
        return np.ldexp(ref, e * _DEGREE[metric]) if e else ref


def _trusted(ref, a, b, metric):
    """Entries where scipy's float64 reference (on inputs scaled to the largest magnitude) is itself exact:
    points far below the largest (1e-114 beside 1e44) become subnormal or underflow there."""
    if metric == "cosine":
        return np.ones(ref.shape, dtype=bool)
    amax = max(np.abs(a).max(initial=0), np.abs(b).max(initial=0), 1e-300)
    rel = ref / amax ** _DEGREE[metric] if metric != "cosine" else ref
    return rel > 1e-140


@examples(40)
@given(x=point_sets(), metric=st.sampled_from(DISTANCE_METRICS), backend=st.sampled_from(["cpu", "torch"]))
def test_self_distances(x, metric, backend):
    d = pairwise_distance(x, metric=metric, backend=backend)
    n = x.shape[0]
    assert d.shape == (n, n) and d.dtype == torch.from_numpy(np.zeros(0, x.dtype)).dtype
    assert torch.equal(d, d.T), "exactly symmetric"
    assert bool((torch.diagonal(d) == 0).all()) and bool((d >= 0).all()) and not bool(torch.isnan(d).any())
    ref = _reference(np.asarray(x), np.asarray(x), metric)
    got = d.double().numpy()
    rtol = 2e-5 if x.dtype == np.float32 else 1e-9
    if metric == "cosine":  # 1 - cos: absolute error relative to 1
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-5 if x.dtype == np.float32 else 1e-12)
    else:
        finite = np.isfinite(ref) & (ref < np.finfo(x.dtype).max)
        tiny = float(np.finfo(x.dtype).smallest_subnormal) * 4  # results below the normal range round coarsely
        np.testing.assert_allclose(got[finite], ref[finite], rtol=rtol, atol=tiny)
    if metric in ("euclidean", "manhattan", "chebyshev") and n >= 3 and np.isfinite(got).all():
        tri = got[:, :, None] + got[None, :, :] - got[:, None, :].transpose(0, 2, 1)  # d(i,j)+d(j,k)-d(i,k)
        assert (tri >= -rtol * 4 * got.max()).all()
    cond = pairwise_distance(x, metric=metric, backend=backend, condensed=True)
    iu = np.triu_indices(n, 1)
    assert torch.equal(cond, d[iu[0], iu[1]])


@examples(25)
@given(x=point_sets(min_n=1), y=point_sets(min_n=0), metric=st.sampled_from(DISTANCE_METRICS))
def test_cross_distances_match_scipy(x, y, metric):
    if x.shape[1] != y.shape[1] or x.dtype != y.dtype:
        with pytest.raises((ValueError, TypeError)):
            cdist(x, y, metric)
        return
    got = cdist(x, y, metric).double().numpy()
    ref = _reference(np.asarray(x), np.asarray(y), metric)
    finite = np.isfinite(ref) & (ref < np.finfo(x.dtype).max) & _trusted(ref, np.asarray(x), np.asarray(y), metric)
    tiny = float(np.finfo(x.dtype).smallest_subnormal) * 4
    tol = dict(rtol=0, atol=1e-5) if metric == "cosine" else dict(rtol=2e-5 if x.dtype == np.float32 else 1e-9,
                                                                   atol=tiny)
    if metric == "cosine" and x.dtype == np.float64:
        tol = dict(rtol=0, atol=1e-12)
    np.testing.assert_allclose(got[finite], ref[finite], **tol)
    a, b = cdist(x, y, metric, backend="torch").double(), cdist(x, y, metric, backend="cpu").double()
    torch.testing.assert_close(a, b, rtol=2e-5, atol=1e-5 if metric == "cosine" else tiny)


@examples(25)
@given(x=grid_arrays((5, 3)), bad=st.sampled_from([np.nan, np.inf, -np.inf]), where=st.integers(0, 14),
       kind=st.sampled_from(["float16", "int64", "bool", "complex", "object", "3d-wrong", "0d"]))
def test_bad_input_is_a_value_or_type_error(x, bad, where, kind):
    y = x.copy()
    y.flat[where] = bad
    with pytest.raises(ValueError, match="'x'"):
        pairwise_distance(y)
    with np.errstate(over="ignore", invalid="ignore"):
        z = {"float16": x.astype(np.float16), "int64": x.astype(np.int64), "bool": x > 0,
             "complex": x.astype(np.complex128), "object": x.astype(object), "3d-wrong": x[None, None],
             "0d": np.float64(1.0)}[kind]
    with pytest.raises((ValueError, TypeError)):
        pairwise_distance(z)


@examples(20)
@given(x=point_sets(min_n=1, extreme=False), s=st.integers(-1000, 1000), metric=st.sampled_from(DISTANCE_METRICS))
def test_power_of_two_homogeneity(x, s, metric):
    """d(2**s x) = 2**(s deg) d(x), exactly, when nothing over- or underflows."""
    x = np.asarray(x, dtype=np.float64)
    d0 = pairwise_distance(x, metric=metric).numpy()
    xs = np.ldexp(x, s)
    if not np.isfinite(xs).all() or (np.abs(xs[x != 0]) < 1e-290).any():
        return
    want = np.ldexp(d0, s * _DEGREE[metric])
    ok = np.isfinite(want) & ((want == 0) | (np.abs(want) > 1e-290))
    np.testing.assert_allclose(pairwise_distance(xs, metric=metric).numpy()[ok], want[ok], rtol=1e-12)
