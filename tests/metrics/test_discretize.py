"""The histogram discretiser against numpy's histogram + digitize."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pydisent.metrics._discretize import histogram_discretize
from tests._references import disentanglement_lib as ref


# -- building blocks ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_discretizer_matches_numpy_histogram_digitize(rng, dtype):
    for trial in range(30):
        n, z = int(rng.integers(1, 300)), int(rng.integers(1, 5))
        x = rng.standard_normal((n, z)).astype(dtype)
        if trial % 3 == 0:  # values on bin edges
            x = (np.round(x * 3) / 3).astype(dtype)
        if trial % 4 == 0:  # small integers: many exact ties with edges
            x = rng.integers(0, 7, (n, z)).astype(dtype)
        if trial % 5 == 0:  # a constant column
            x[:, 0] = 1.5
        if trial % 7 == 0:  # large offset, tiny range
            x = (1e4 + 1e-3 * x).astype(dtype)
        try:
            expect = ref.histogram_discretize(x.T).T
        except ValueError:  # numpy: "Too many bins for data range" (float32); documented: float64 edges
            expect = ref.histogram_discretize(x.T.astype(np.float64)).T
        got = histogram_discretize(torch.from_numpy(x)).numpy()
        np.testing.assert_array_equal(got, expect)
        assert got.min() >= 1 and got.max() <= 20


def test_discretizer_one_sample_float32_matches_numpy():
    # one sample: every column is constant and widened to +-0.5; the middle float32 edge can fall
    # just above the value (regression: this once forced float64 edges and labelled it 11, not 10)
    x = np.array([[-0.03101433, -0.531457, 0.6915504, 0.47322643]], dtype=np.float32)
    np.testing.assert_array_equal(histogram_discretize(torch.from_numpy(x)).numpy(),
                                  ref.histogram_discretize(x.T).T)


def test_discretizer_other_bin_counts(rng):
    x = rng.standard_normal((200, 3))
    for b in (1, 2, 7, 50):
        np.testing.assert_array_equal(histogram_discretize(torch.from_numpy(x), b).numpy(),
                                      ref.histogram_discretize(x.T, b).T)
