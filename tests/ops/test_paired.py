"""pydisent.ops.paired: distances of sampled pairs, and the uint8 image MSE."""

import numpy as np
import pytest
import torch

from pydisent import _C
from pydisent._dispatch import ref
from pydisent.ops import paired_distance
from tests.conftest import HAS_CUDA

# -- paired distances ---------------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["cpu", "torch"] + (["cuda"] if HAS_CUDA else []))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_paired_distance_matches_numpy(rng, backend, dtype):
    x = rng.normal(size=(30, 4, 37)) * 10 + 100  # trailing dims are flattened; large offset
    ia, ib = rng.integers(0, 30, size=(2, 7, 11))
    xt = torch.tensor(x, dtype=dtype)
    if backend == "cuda":
        xt = xt.cuda()
    xc = xt.cpu().reshape(30, -1)
    diff = (xc[torch.as_tensor(ia)] - xc[torch.as_tensor(ib)]).double().numpy()  # differences rounded in dtype
    want = {"manhattan": np.abs(diff).sum(-1), "euclidean": np.sqrt((diff ** 2).sum(-1)),
            "sqeuclidean": (diff ** 2).sum(-1), "mse": (diff ** 2).mean(-1)}
    for metric, w in want.items():
        got = paired_distance(xt, ia, ib, metric, backend=backend)
        assert got.dtype == torch.float64 and got.shape == (7, 11)
        np.testing.assert_allclose(got.cpu().numpy(), w, rtol=1e-12)


@pytest.mark.parametrize("backend", ["cpu"] + (["cuda"] if HAS_CUDA else []))
def test_paired_distance_keeps_ties_exact(rng, backend):
    # swapped pairs and copies of a row at other positions give bit-identical distances
    x = torch.tensor(rng.normal(size=(9, 1000)), dtype=torch.float32)
    x[5] = x[1]
    if backend == "cuda":
        x = x.cuda()
    a = torch.tensor([0, 2, 0, 2, 3])
    b = torch.tensor([2, 0, 1, 5, 8])
    for metric in ("manhattan", "euclidean", "mse"):
        d = paired_distance(x, a, b, metric, backend=backend).cpu()
        assert d[0] == d[1] and d[2] == paired_distance(x, [0], [5], metric, backend=backend).cpu()[0]
        assert d[3] == paired_distance(x, [2], [1], metric, backend=backend).cpu()[0]


@pytest.mark.parametrize("C", [1, 3, 4])
def test_paired_image_mse_is_the_float_images_mse_exactly(rng, C):
    from pydisent.data import to_float_chw
    from pydisent.ops import paired_image_mse

    n, H, W = 12, 9, 700  # D = 6300 C: more than one 4096-element block per row
    u = torch.tensor(rng.integers(0, 256, size=(n, H, W, C)), dtype=torch.uint8)
    u[3] = u[7]  # a duplicate image
    u[0, :, :, 0] = 255  # extreme differences
    u[1, :, :, 0] = 0
    ia, ib = rng.integers(0, n, size=(2, 40))
    ia[:3], ib[:3] = [0, 3, 2], [1, 7, 3]
    std = rng.uniform(0.2, 2.0, size=C)
    for scale, mean, sd in [(np.full(C, 1 / 255), None, None), (1 / (255 * std), rng.uniform(size=C), std)]:
        exact = (u[ia].double() - u[ib].double()).numpy().reshape(40, -1, C) ** 2 * np.asarray(scale) ** 2
        want = exact.sum((1, 2)) / (H * W * C)  # integer squares: exact in float64
        for backend in ("cpu", "torch"):
            got = paired_image_mse(u, ia, ib, scale, backend=backend)
            assert got.dtype == torch.float64 and got.shape == (40,)
            np.testing.assert_allclose(got.numpy(), want, rtol=1e-13)
            assert got[1] == 0.0 and got[2] == paired_image_mse(u, [7], [2], scale, backend=backend)[0]
        assert torch.equal(paired_image_mse(u, ia, ib, scale, backend="cpu"),
                           paired_image_mse(u, ia, ib, scale, backend="torch"))  # same arithmetic, same bits
        # what paired_distance measures on the float images, up to their float32 rounding
        x = to_float_chw(u, mean, sd)
        np.testing.assert_allclose(paired_distance(x, ia, ib, "mse").numpy(), want, rtol=1e-5, atol=1e-12)
    assert paired_image_mse(u, [[0, 1]], [[2, 3]], 1 / 255).shape == (1, 2)
    # long rows of extreme differences: the kernel's 32-bit lanes are flushed before they could overflow
    big = torch.zeros(2, 1_200_007, dtype=torch.uint8)
    big[0] = 255
    big[0, 1::7] = 0
    s_exact = (1_200_007 - len(range(1, 1_200_007, 7))) * 255**2
    for backend in ("cpu", "torch"):
        assert paired_image_mse(big, [0, 1], [1, 0], 1.0, backend=backend).tolist() == [s_exact * (1.0 / 1_200_007)] * 2
    assert paired_image_mse(u, torch.empty(0, dtype=torch.long), torch.empty(0, dtype=torch.long), 1.0).shape == (0,)


def test_paired_image_mse_bad_input():
    from pydisent.ops import paired_image_mse

    u = torch.zeros(4, 2, 2, 3, dtype=torch.uint8)
    with pytest.raises(TypeError, match="'images' must be a uint8"):
        paired_image_mse(u.float(), [0], [1], 1.0)
    with pytest.raises(ValueError, match="'channel_scale' must hold 3 positive"):
        paired_image_mse(u, [0], [1], [1.0, 2.0])
    with pytest.raises(ValueError, match="'channel_scale'"):
        paired_image_mse(u, [0], [1], [1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match=r"in \[0, 4\)"):
        paired_image_mse(u, [0], [4], 1.0)
    with pytest.raises(TypeError, match="'index_b' must be an integer"):
        paired_image_mse(u, [0], [0.5], 1.0)
    with pytest.raises(ValueError, match="'backend'"):
        paired_image_mse(u, [0], [1], 1.0, backend="cuda")
    x, i0, i9 = u.reshape(4, -1), torch.tensor([0]), torch.tensor([9])
    w, out = torch.ones(3, dtype=torch.float64), torch.empty(1, dtype=torch.float64)
    with pytest.raises(ValueError, match="out of range"):
        _C.paired_image_mse_cpu(ref(x), ref(i0), ref(i9), ref(w), ref(out))
    with pytest.raises(TypeError, match="'x' must have dtype uint8"):
        _C.paired_image_mse_cpu(ref(x.float()), ref(i0), ref(i0), ref(w), ref(out))
    with pytest.raises(ValueError, match="'weights' must have one entry per channel"):
        _C.paired_image_mse_cpu(ref(x), ref(i0), ref(i0), ref(torch.ones(5, dtype=torch.float64)), ref(out))
    with pytest.raises(ValueError, match="'out' must have 1 entries"):
        _C.paired_image_mse_cpu(ref(x), ref(i0), ref(i0), ref(w), ref(torch.empty(2, dtype=torch.float64)))


def test_paired_distance_bad_input():
    x = torch.randn(5, 3)
    with pytest.raises(ValueError, match="'metric'"):
        paired_distance(x, [0], [1], "cosine")
    with pytest.raises(TypeError, match="'index_a' must be an integer"):
        paired_distance(x, [0.5], [1])
    with pytest.raises(ValueError, match="same shape"):
        paired_distance(x, [0, 1], [1])
    with pytest.raises(ValueError, match=r"in \[0, 5\)"):
        paired_distance(x, [0], [5])
    with pytest.raises(ValueError, match="'x' contains NaN"):
        paired_distance(torch.tensor([[0.0], [float("nan")]]), [0], [1])
    with pytest.raises(TypeError, match="'x' must be float"):
        paired_distance(torch.ones(3, 2, dtype=torch.int32), [0], [1])
    out = torch.empty(1, dtype=torch.float64)
    i0, i9 = torch.tensor([0]), torch.tensor([9])
    with pytest.raises(ValueError, match="out of range"):
        _C.paired_distance_cpu(ref(x), ref(i0), ref(i9), ref(out), _C.DistanceMetric.mse)
    with pytest.raises(TypeError, match="'index_a' must have dtype int64"):
        _C.paired_distance_cpu(ref(x), ref(i0.int()), ref(i0), ref(out), _C.DistanceMetric.mse)
    with pytest.raises(TypeError, match="'out' must have dtype float64"):
        _C.paired_distance_cpu(ref(x), ref(i0), ref(i0), ref(out.float()), _C.DistanceMetric.mse)
    with pytest.raises(ValueError, match="'metric' of paired_distance must be one of manhattan"):
        _C.paired_distance_cpu(ref(x), ref(i0), ref(i0), ref(out), _C.DistanceMetric.cosine)
    with pytest.raises(ValueError, match="'x' must have 2 dimensions"):
        _C.paired_distance_cpu(ref(x[0]), ref(i0), ref(i0), ref(out), _C.DistanceMetric.mse)


# ---- issue 15 regressions -------------------------------------------------------------------------

def test_paired_zero_features_and_bad_scale():
    """Defects 18 and 23: zero-feature inputs gave 0.0 on the CPU and NaN (or ZeroDivisionError for
    images) on torch; a string channel_scale leaked torch's "new(): invalid data type"."""
    import numpy as np
    import pytest
    import torch

    from pydisent.ops import PAIR_METRICS, paired_distance, paired_image_mse

    for metric in PAIR_METRICS:
        for backend in ("cpu", "torch"):
            got = paired_distance(np.zeros((3, 0)), [0], [1], metric, backend=backend)
            assert got.tolist() == [0.0], (metric, backend)
    u = np.zeros((2, 0, 0, 3), np.uint8)
    for backend in ("cpu", "torch"):
        assert paired_image_mse(u, [0], [1], 1.0, backend=backend).tolist() == [0.0]
    with pytest.raises(TypeError, match="'channel_scale'"):
        paired_image_mse(np.zeros((2, 4, 4, 3), np.uint8), [0], [1], "a")
    with pytest.raises(TypeError, match="'channel_scale'"):
        paired_image_mse(np.zeros((2, 4, 4, 3), np.uint8), [0], [1], [object()])
    assert torch.equal(paired_image_mse(np.zeros((2, 4, 4, 3), np.uint8), [0], [1], [1.0, 2.0, 3.0]),
                       torch.zeros(1, dtype=torch.float64))
