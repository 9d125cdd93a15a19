"""Property tests of batched_pca (hypothesis; profiles in tests/conftest.py)."""

import numpy as np
import pytest
import torch

pytest.importorskip("hypothesis", reason="property tests need hypothesis (the `test` extra)")

from hypothesis import given  # noqa: E402

from pydisent.ops import batched_pca  # noqa: E402
from tests._strategies import examples, grid_arrays, st, view  # noqa: E402


def _cov(x):
    x = x.astype(np.float64)
    if x.shape[1] < 2:
        return np.zeros((x.shape[2], x.shape[2]))
    # float64 reference free of intermediate overflow: scaled by a power of two (exact) and scaled back in two
    # steps, so a covariance that float64 holds (points at +-1e154: variance 1e308) is not reported as inf
    amax = float(np.abs(x).max(initial=0))
    u = np.ldexp(1.0, np.frexp(amax)[1]) if amax > 0 else 1.0
    return np.cov(x[0] / u, rowvar=False, ddof=1).reshape(x.shape[2], x.shape[2]) * u * u


@st.composite
def clouds(draw, extreme=True):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    m, k = draw(st.integers(0, 8)), draw(st.integers(1, 4))
    a = draw(grid_arrays((1, m, k), dtype, extreme))
    return view(a, draw(st.sampled_from(["contiguous", "fortran", "strided", "reversed"]))), dtype


@examples(40)
@given(c=clouds(), backend=st.sampled_from(["cpu", "torch"]))
def test_matches_numpy_or_value_error(c, backend):
    x, dtype = c
    try:
        mean, ev, vecs = batched_pca(x, eigenvectors=True, backend=backend)
    except ValueError as e:  # only when the covariance is not representable in the dtype
        assert "overflows" in str(e)
        return
    assert mean.dtype == torch.from_numpy(np.zeros(0, dtype)).dtype and ev.shape == (1, x.shape[2])
    cov = _cov(np.asarray(x))
    want = np.sort(np.linalg.eigvalsh(cov))[::-1] if x.shape[1] else np.zeros(x.shape[2])
    scale = max(np.abs(want).max(initial=0), np.abs(np.asarray(x, np.float64)).max(initial=0) ** 2 * 1e-30)
    tol = (2e-5 if dtype == np.float32 else 1e-9) * scale
    tiny = float(np.finfo(dtype).smallest_subnormal) * 4  # eigenvalues below the normal range round coarsely
    np.testing.assert_allclose(ev[0].double().numpy(), want, atol=tol + tiny, rtol=0)
    v = vecs[0].double().numpy()
    np.testing.assert_allclose(v.T @ v, np.eye(x.shape[2]), atol=1e-5 if dtype == np.float32 else 1e-9)


@examples(25)
@given(c=clouds(extreme=False), t=grid_arrays((4,), np.float64, extreme=False), angle=st.floats(0, 6.28),
       backend=st.sampled_from(["cpu", "torch"]))
def test_translation_invariance_rotation_equivariance(c, t, angle, backend):
    x = np.asarray(c[0], dtype=np.float64)
    k = x.shape[2]
    _, ev0, _ = batched_pca(x, backend=backend)
    mean1, ev1, _ = batched_pca(x + t[:k], backend=backend)
    np.testing.assert_allclose(ev1.numpy(), ev0.numpy(), atol=1e-9 * (1 + np.abs(t).max()) ** 2)
    q = np.eye(k)
    if k >= 2:
        cs, sn = np.cos(angle), np.sin(angle)
        q[:2, :2] = [[cs, -sn], [sn, cs]]
    _, ev2, v2 = batched_pca(x @ q, eigenvectors=True, backend=backend)
    np.testing.assert_allclose(ev2.numpy(), ev0.numpy(), atol=1e-9)
    # the rotated covariance is reproduced by the eigen-decomposition
    c2 = v2[0].numpy() @ np.diag(ev2[0].numpy()) @ v2[0].numpy().T
    np.testing.assert_allclose(c2, q.T @ _cov(x) @ q, atol=1e-9)


@examples(15)
@given(x=grid_arrays((2, 5, 3)), bad=st.sampled_from([np.nan, np.inf]), where=st.integers(0, 29))
def test_non_finite_is_a_value_error(x, bad, where):
    y = x.copy()
    y.flat[where] = bad
    for backend in ("cpu", "torch"):
        with pytest.raises(ValueError, match="'x'"):
            batched_pca(y, backend=backend)
