"""pydisent.data.transforms: uint8 HWC -> float CHW conversions."""

import numpy as np
import pytest
import torch

from pydisent.data import (
    FloatCHW,
    XYSquares,
    dataset_stats,
)


def test_transforms_normalise(rng):
    ds = XYSquares()
    mean, std = dataset_stats(ds, n=500, rng=rng)
    np.testing.assert_allclose(mean, [64 / 4096] * 3)  # exactly one 8 x 8 square per channel
    np.testing.assert_allclose(std, [np.sqrt(64 / 4096 * (1 - 64 / 4096))] * 3)
    norm = XYSquares(transform=FloatCHW(mean, std))
    x = norm.observations(ds.factor_space.sample_factors(300, rng))
    assert x.shape == (300, 3, 64, 64)
    np.testing.assert_allclose(x.mean(dim=(0, 2, 3)).numpy(), 0, atol=1e-5)
    np.testing.assert_allclose(x.std(dim=(0, 2, 3)).numpy(), 1, atol=1e-3)
    with pytest.raises(ValueError, match="'std'"):
        FloatCHW(0.5, 0.0)
    assert "FloatCHW" in repr(FloatCHW(0.1, 0.2))


def _to_float_reference(b, mean=None, std=None):
    # the torch definition of to_float_chw: x / 255 in float32, then (x - mean) / std per channel
    x = b.permute(0, 3, 1, 2).to(torch.float32).div_(255.0)
    if mean is not None or std is not None:
        m = torch.as_tensor(0.0 if mean is None else mean, dtype=x.dtype).reshape(1, -1, 1, 1)
        s = torch.as_tensor(1.0 if std is None else std, dtype=x.dtype).reshape(1, -1, 1, 1)
        x = (x - m) / s
    return x.contiguous()


@pytest.mark.parametrize("C", [1, 3, 4])
def test_to_float_chw_fast_path_is_exact(tgen, C):
    from pydisent.data import to_float_chw

    x = torch.randint(0, 256, (9, 5, 7, C), dtype=torch.uint8, generator=tgen)
    x[0, 0, 0] = 255
    x[0, 0, 1] = 0
    mean = torch.rand(C, generator=tgen).tolist()
    std = (torch.rand(C, generator=tgen) + 0.1).tolist()
    for kw in ({}, {"mean": mean, "std": std}, {"mean": 0.5}, {"std": 0.25}):
        want = _to_float_reference(x, **kw)
        got = to_float_chw(x, **kw)
        assert got.shape == (9, C, 5, 7) and got.dtype == torch.float32 and got.is_contiguous()
        assert torch.equal(got, want)
    strided = x.flip(1)  # non-contiguous input
    assert torch.equal(to_float_chw(strided), _to_float_reference(strided))
    assert to_float_chw(x[:0]).shape == (0, C, 5, 7)
    with pytest.raises(ValueError, match="'batch'"):
        to_float_chw(x[0])
