"""pydisent.ops.rank: average-tie ranks and the Spearman/Pearson correlations against scipy."""

import numpy as np
import pytest
import scipy.stats
import torch

from pydisent import _C
from pydisent._dispatch import ref
from pydisent.ops import pearson, rankdata, spearman

# -- ranking ops ----------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["cpu", "torch"])
def test_rankdata_matches_scipy_with_ties(rng, backend):
    x = rng.integers(0, 6, size=(4, 3, 40)).astype(np.float64)
    np.testing.assert_array_equal(rankdata(x, backend=backend).numpy(), scipy.stats.rankdata(x, axis=-1))
    np.testing.assert_array_equal(rankdata(x, dim=1, backend=backend).numpy(), scipy.stats.rankdata(x, axis=1))
    # continuous values of both signs and wide range, with ties, -0.0 == +0.0, huge and tiny magnitudes
    y = rng.normal(size=(7, 3001)) * np.exp(rng.uniform(-30, 30, size=(7, 3001)))
    y[:, 5::5] = y[:, :-5:5]  # ties
    y[0, :4] = [0.0, -0.0, 1e308, -1e308]
    y[1, :3] = [5e-324, -5e-324, 0.0]
    for arr in (y, np.clip(y, -1e30, 1e30).astype(np.float32), rng.integers(-10**12, 10**12, size=(3, 500)), y[:1, :1]):
        got = rankdata(arr, backend=backend)
        assert got.dtype == torch.float64
        np.testing.assert_array_equal(got.numpy(), scipy.stats.rankdata(arr, axis=-1))
    assert rankdata(np.zeros((2, 0)), backend=backend).shape == (2, 0)
    np.testing.assert_array_equal(rankdata([3.0], backend=backend).numpy(), [1.0])
    with pytest.raises(ValueError, match="'x'.*NaN"):
        rankdata([1.0, float("nan")], backend=backend)
    with pytest.raises(ValueError, match="'x'.*NaN"):
        rankdata([1.0, float("-inf")], backend=backend)


def test_rankdata_bad_arguments():
    with pytest.raises(ValueError, match="'backend'"):
        rankdata([1.0], backend="gpu")
    with pytest.raises(ValueError, match="backend='cpu'"):
        rankdata(torch.tensor([1, 2], dtype=torch.int16), backend="cpu")
    x, out = torch.zeros(2, 3, dtype=torch.float64), torch.empty(2, 3, dtype=torch.float64)
    with pytest.raises(TypeError, match="'x' must have dtype float64"):
        _C.rank_average_cpu(ref(x.float()), ref(out))
    with pytest.raises(ValueError, match="'out' must have the shape"):
        _C.rank_average_cpu(ref(x), ref(out[:1]))
    with pytest.raises(ValueError, match="NaN"):
        _C.rank_average_cpu(ref(torch.full((1, 2), float("nan"), dtype=torch.float64)), ref(out[:1, :2]))


def test_spearman_pearson_match_scipy(rng):
    x = rng.integers(0, 5, size=(5, 60)).astype(np.float64)
    y = rng.normal(size=(5, 60)) + x
    for i in range(5):
        assert spearman(x, y)[i].item() == pytest.approx(scipy.stats.spearmanr(x[i], y[i])[0], abs=1e-12)
        assert pearson(x, y)[i].item() == pytest.approx(scipy.stats.pearsonr(x[i], y[i])[0], abs=1e-12)
    assert torch.isnan(spearman(np.ones(5), np.arange(5.0)))
    with pytest.raises(ValueError, match="same shape"):
        pearson(np.ones(3), np.ones(4))
