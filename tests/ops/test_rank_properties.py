"""Property tests of rankdata / pearson / spearman (hypothesis; profiles in tests/conftest.py)."""

import numpy as np
import pytest
import scipy.stats
import torch

pytest.importorskip("hypothesis", reason="property tests need hypothesis (the `test` extra)")

from hypothesis import given  # noqa: E402

from pydisent.ops import pearson, rankdata, spearman  # noqa: E402
from tests._strategies import examples, grid_arrays, st, view  # noqa: E402


@st.composite
def series(draw, min_len=0, extreme=True):
    rows, n = draw(st.integers(1, 3)), draw(st.integers(min_len, 9))
    dtype = draw(st.sampled_from([np.float32, np.float64, np.int64, np.int32]))
    a = draw(grid_arrays((rows, n), np.float64, extreme and dtype in (np.float32, np.float64)))
    if dtype == np.float32:
        a = np.clip(a, -1e30, 1e30)
    return view(a.astype(dtype), draw(st.sampled_from(["contiguous", "fortran", "strided", "reversed"])))


@examples(40)
@given(x=series(), backend=st.sampled_from(["auto", "torch"]), dim=st.sampled_from([-1, 0, 1, -2]))
def test_rankdata_matches_scipy(x, backend, dim):
    got = rankdata(x, dim=dim, backend=backend)
    assert got.dtype == torch.float64 and got.shape == x.shape
    if x.size:
        want = scipy.stats.rankdata(np.asarray(x, dtype=np.float64), axis=dim, method="average")
        np.testing.assert_array_equal(got.numpy(), want)


@examples(40)
@given(x=series(min_len=2), s=st.integers(-1000, 1000))
def test_correlations_match_scipy_and_are_scale_free(x, s):
    x = np.asarray(x, dtype=np.float64)
    y = np.arange(x.shape[1], dtype=np.float64)[::-1] ** 2
    y = np.broadcast_to(y, x.shape)  # a broadcast (zero-stride) view
    r = pearson(x, y).numpy()
    rho = spearman(x, y).numpy()
    for i in range(x.shape[0]):
        if np.ptp(x[i]) == 0:
            assert np.isnan(r[i]) and np.isnan(rho[i])
            continue
        xs = x[i] / np.abs(x[i]).max()  # scipy overflows at 1e300: compare on the (exactly) normalised row
        assert r[i] == pytest.approx(scipy.stats.pearsonr(xs, y[i])[0], rel=1e-9, abs=1e-12)
        assert rho[i] == pytest.approx(scipy.stats.spearmanr(x[i], y[i])[0], rel=1e-9, abs=1e-12)
    xs = np.ldexp(x, s)
    if np.isfinite(xs).all() and not (np.abs(xs[x != 0]) < 1e-300).any():
        np.testing.assert_array_equal(pearson(xs, y).numpy(), r)  # powers of two: the same bits
        np.testing.assert_array_equal(spearman(xs, y).numpy(), rho)
    np.testing.assert_allclose(pearson(y, x).numpy(), r, rtol=1e-14, atol=1e-15)  # symmetric (to summation order)


@examples(20)
@given(x=grid_arrays((2, 5)), bad=st.sampled_from([np.nan, np.inf]), where=st.integers(0, 9),
       fn=st.sampled_from([rankdata, lambda a: pearson(a, a), lambda a: spearman(a, a)]))
def test_non_finite_is_a_value_error(x, bad, where, fn):
    y = x.copy()
    y.flat[where] = bad
    with pytest.raises(ValueError, match="NaN"):
        fn(y)
