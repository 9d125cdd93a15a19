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


# ---- issue 15 regressions -------------------------------------------------------------------------

def test_pearson_exact_at_any_magnitude():
    """Defect 9: pearson([1e200, -1e200, 0], [1, 2, 3]) was -0.0 (scipy: -0.5)."""
    import numpy as np
    import pytest
    import scipy.stats

    from pydisent.ops import pearson

    y = np.array([1.0, 2.0, 3.0])
    assert float(pearson(np.array([1e200, -1e200, 0.0]), y)) == pytest.approx(-0.5, rel=1e-12)
    base = np.array([1.0, -1.0, 0.5, 0.25])
    want = scipy.stats.pearsonr(base, np.arange(4.0))[0]
    for s in (1e-320, 1e-300, 1e300, 1.7e308 / 2):
        assert float(pearson(base * s, np.arange(4.0))) == pytest.approx(want, rel=1e-12)
    # batched slices of very different magnitudes, each exact
    x = np.stack([base * 1e-300, base, base * 1e300])
    np.testing.assert_allclose(pearson(x, np.arange(4.0)[None].repeat(3, 0)).numpy(), want, rtol=1e-12)


def test_pearson_nan_raises_like_spearman():
    """Defect 23: pearson returned NaN for NaN input where spearman raises."""
    import numpy as np
    import pytest

    from pydisent.ops import pearson, spearman

    x, y = np.array([1.0, np.nan, 3.0]), np.array([1.0, 2.0, 3.0])
    for fn in (pearson, spearman):
        with pytest.raises(ValueError, match="'x' contains NaN"):
            fn(x, y)
        with pytest.raises(ValueError, match="'y' contains NaN"):
            fn(y, x)


def test_rankdata_bad_dim_and_dtypes():
    """Defect 18: dim=2 on 2-d input, dim=0.5, complex and str input leaked torch/numpy errors."""
    import numpy as np
    import pytest

    from pydisent.ops import pearson, rankdata

    x = np.random.default_rng(0).random((3, 4))
    with pytest.raises(ValueError, match="argument 'dim'"):
        rankdata(x, dim=2)
    with pytest.raises(TypeError, match="argument 'dim'"):
        rankdata(x, dim=0.5)
    with pytest.raises(ValueError, match="argument 'dim'"):
        pearson(x, x, dim=-3)
    with pytest.raises(TypeError, match="argument 'x'"):
        rankdata(np.array([1j, 2j]))
    with pytest.raises(TypeError, match="argument 'x'"):
        rankdata(np.array(["a", "b"]))
    assert rankdata(x, dim=-2).shape == (3, 4)


def test_pearson_constant_slice_is_nan_even_with_an_inexact_mean():
    """Found by the property tests: three equal values whose float64 mean is not exact correlated their
    rounding residues instead of giving the documented NaN."""
    import numpy as np

    from pydisent.ops import pearson, spearman

    x = np.full(3, np.float32(0.01428571), dtype=np.float32).astype(np.float64)
    assert np.isnan(float(pearson(x, np.array([1.0, 2.0, 4.0]))))
    assert np.isnan(float(pearson(np.array([1.0, 2.0, 4.0]), x)))
    assert np.isnan(float(spearman(x, np.array([1.0, 2.0, 4.0]))))
