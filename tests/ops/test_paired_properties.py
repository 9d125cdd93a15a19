"""Property tests of paired_distance / paired_image_mse (hypothesis; profiles in tests/conftest.py)."""

import numpy as np
import pytest
import torch

pytest.importorskip("hypothesis", reason="property tests need hypothesis (the `test` extra)")

from hypothesis import given  # noqa: E402

from pydisent.ops import PAIR_METRICS, paired_distance, paired_image_mse, pairwise_distance  # noqa: E402
from tests._strategies import examples, point_sets, st  # noqa: E402


@examples(40)
@given(x=point_sets(min_n=1, max_n=8, extreme=False), metric=st.sampled_from(PAIR_METRICS),
       backend=st.sampled_from(["cpu", "torch"]), seed=st.integers(0, 2**32 - 1))
def test_paired_equals_the_pairwise_entries(x, metric, backend, seed):
    n = x.shape[0]
    r = np.random.default_rng(seed)
    ia, ib = r.integers(0, n, 7), r.integers(0, n, 7)
    got = paired_distance(x, ia, ib, metric, backend=backend)
    assert got.dtype == torch.float64 and got.shape == (7,)
    full = pairwise_distance(np.asarray(x, dtype=np.float64), metric={"manhattan": "manhattan"}.get(metric, metric))
    np.testing.assert_allclose(got.numpy(), full.numpy()[ia, ib], rtol=1e-6, atol=1e-12)
    np.testing.assert_array_equal(paired_distance(x, ib, ia, metric, backend=backend).numpy(), got.numpy())


@examples(30)
@given(seed=st.integers(0, 2**32 - 1), hw=st.integers(0, 5), c=st.sampled_from([1, 3]),
       backend=st.sampled_from(["cpu", "torch"]))
def test_image_mse_equals_float_mse(seed, hw, c, backend):
    r = np.random.default_rng(seed)
    u = r.integers(0, 256, (4, hw, hw, c), dtype=np.uint8)
    scale = r.uniform(0.5, 2.0, c)
    ia, ib = r.integers(0, 4, 6), r.integers(0, 4, 6)
    got = paired_image_mse(u, ia, ib, scale, backend=backend)
    f = u.astype(np.float64) * scale
    want = ((f[ia] - f[ib]) ** 2).reshape(6, -1).mean(1) if hw else np.zeros(6)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)


@examples(20)
@given(bad=st.sampled_from(["nan", "index", "float_index", "shape", "dtype"]))
def test_bad_input_is_a_value_or_type_error(bad):
    x = np.zeros((3, 2))
    ia, ib = np.array([0, 1]), np.array([1, 2])
    if bad == "nan":
        x[0, 0] = np.nan
    elif bad == "index":
        ib = np.array([1, 3])
    elif bad == "float_index":
        ia = np.array([0.5, 1.0])
    elif bad == "shape":
        ib = np.array([1])
    else:
        x = x.astype(np.int64)
    with pytest.raises((ValueError, TypeError)):
        paired_distance(x, ia, ib)
