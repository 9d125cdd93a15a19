"""Relative living times: hand cases, the reference's midpoint rule on random barcodes, batching, and the
witness RLT draws against the reference pipeline (gudhi + pure-Python RLT) on the same landmarks."""

import numpy as np
import pytest
import torch

from pydisent.topology.rlt import (
    _rlt_torch,
    mean_rlt,
    relative_living_times,
    rlt_from_flat,
    witness_rlts,
    witness_rlts_clouds,
)
from tests._references import topology as ref

HAND = [[0.1, 0.5], [0.2, 0.3], [0.4, np.inf]]


def test_hand_cases():
    np.testing.assert_allclose(relative_living_times(HAND, 1.0, 4).numpy(), [0.1, 0.7, 0.2, 0.0], atol=1e-15)
    np.testing.assert_array_equal(relative_living_times(np.zeros((0, 2)), 1.0, 4).numpy(), [1, 0, 0, 0])
    np.testing.assert_array_equal(relative_living_times([], 2.5, 4).numpy(), [1, 0, 0, 0])
    # counts >= i_max are dropped: with i_max = 2 the 0.2 spent with two holes is lost
    np.testing.assert_allclose(relative_living_times(HAND, 1.0, 2).numpy(), [0.1, 0.7], atol=1e-15)
    # alpha_max scales time: the same bars on [0, 2] (the infinite bar now lives until 2)
    np.testing.assert_allclose(relative_living_times(HAND, 2.0, 4).numpy(), [0.05, 0.35 + 0.5, 0.1, 0.0], atol=1e-15)
    # zero-length bars and a bar [b, b) change nothing; a bar on all of [0, alpha_max] is one hole throughout
    np.testing.assert_array_equal(relative_living_times([[0.3, 0.3]], 1.0, 3).numpy(), [1, 0, 0])
    np.testing.assert_array_equal(relative_living_times([[0.0, np.inf]], 1.0, 3).numpy(), [0, 1, 0])


def _random_barcode(rng, alpha_max):
    k = int(rng.integers(0, 12))
    grid = rng.integers(0, 2) == 1  # on a grid: many tied endpoints
    b = rng.integers(0, 8, k) / 8 * alpha_max if grid else rng.random(k) * alpha_max
    life = rng.integers(0, 8, k) / 8 * alpha_max if grid else rng.random(k) * alpha_max
    d = np.minimum(b + life, alpha_max)
    d[rng.random(k) < 0.2] = np.inf
    if k and rng.random() < 0.3:  # duplicated bars
        b[-1], d[-1] = b[0], d[0]
    return np.stack([b, d], 1) if k else np.zeros((0, 2))


def test_random_barcodes_match_the_midpoint_rule(rng):
    alphas = rng.random(40) * 3 + 0.01
    bars = [_random_barcode(rng, a) for a in alphas]
    for i_max in (1, 3, 100):
        got = relative_living_times(bars, alphas, i_max).numpy()
        want = np.stack([ref.relative(b, a, i_max) for b, a in zip(bars, alphas)])
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
        for k in (0, 7, 39):  # a batch equals separate calls
            np.testing.assert_array_equal(relative_living_times(bars[k], alphas[k], i_max).numpy(), got[k])


def test_flat_form_any_order(rng):
    alphas = np.array([1.0, 2.0, 0.5])
    bars = [_random_barcode(rng, a) for a in alphas]
    flat = np.concatenate(bars)
    owner = np.repeat(np.arange(3), [len(b) for b in bars])
    perm = rng.permutation(len(flat))
    got = rlt_from_flat(flat[perm, 0], flat[perm, 1], owner[perm], alphas, 10)
    np.testing.assert_allclose(got.numpy(), relative_living_times(bars, alphas, 10).numpy(), atol=1e-13)
    assert got.dtype == torch.float64 and got.shape == (3, 10)
    np.testing.assert_allclose(mean_rlt(got).numpy(), got.numpy().mean(0))


def test_torch_path_equals_numpy_path(rng):
    # the torch sweep runs for CUDA tensors; on the CPU it must give the numpy sweep's numbers
    alphas = rng.random(30) + 0.1
    bars = [_random_barcode(rng, a) for a in alphas]
    flat = torch.as_tensor(np.concatenate(bars))
    owner = torch.repeat_interleave(torch.arange(30), torch.tensor([len(b) for b in bars]))
    am = torch.as_tensor(alphas)
    got = _rlt_torch(flat[:, 0], flat[:, 1], owner, am, 20)
    np.testing.assert_allclose(got.numpy(), rlt_from_flat(flat[:, 0], flat[:, 1], owner, am, 20).numpy(),
                               rtol=0, atol=1e-13)


def test_positions_that_round_to_one_sort_key():
    # owner + scaled position loses the last bits: distinct endpoints one ulp apart collide (from the second
    # barcode on), and the exact two-key sort must take over when they come out in the wrong order.
    nb = 2
    p = 0.5
    q = np.nextafter(p, 1.0)
    bars = np.array([[q, 0.75], [p, q], [0.25, p]] * 4)
    owner = np.full(len(bars), nb - 1)
    got = rlt_from_flat(bars[:, 0], bars[:, 1], owner, np.ones(nb), 5)[nb - 1].numpy()
    np.testing.assert_allclose(got, ref.relative(bars, 1.0, 5), rtol=0, atol=1e-15)


def test_bad_input():
    with pytest.raises(ValueError, match="'alpha_max'"):
        relative_living_times(HAND, 0.0, 4)
    with pytest.raises(ValueError, match="'alpha_max'"):
        relative_living_times([HAND, HAND], [1.0, 2.0, 3.0], 4)
    with pytest.raises(ValueError, match="'deaths'"):
        relative_living_times([[0.5, 0.1]], 1.0, 4)
    with pytest.raises(ValueError, match="NaN"):
        relative_living_times([[np.nan, 0.1]], 1.0, 4)
    with pytest.raises(ValueError, match=r"'bars'.*\(k, 2\)"):
        relative_living_times([[0.1, 0.2, 0.3]], 1.0, 4)
    with pytest.raises(ValueError, match="'i_max'"):
        relative_living_times(HAND, 1.0, 0)
    with pytest.raises(ValueError, match="'owner'"):
        rlt_from_flat([0.1], [0.2], [3], [1.0, 1.0], 4)
    with pytest.raises(TypeError, match="'owner'"):
        rlt_from_flat([0.1], [0.2], [0.0], [1.0], 4)


def _circle(rng, n, noise=0.05):
    t = rng.uniform(0, 2 * np.pi, n)
    return np.c_[np.cos(t), np.sin(t)] + noise * rng.standard_normal((n, 2))


@pytest.mark.parametrize("duplicates", [False, True])
def test_witness_rlts_equal_the_reference_on_the_same_landmarks(rng, duplicates):
    x = np.concatenate([_circle(rng, 150), rng.standard_normal((50, 2)) * 0.3])
    lm = rng.integers(0, len(x), (6, 16))
    if duplicates:
        lm[:, :4] = lm[:, :1]  # the same landmark several times in every draw
    got = witness_rlts(x, 16, 1 / 8, i_max=10, landmarks=lm).numpy()
    want = ref.rlts(x, 16, 1 / 8, 10, 6, landmarks=lm)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_witness_rlts_draws_from_the_rng_like_the_reference(rng):
    x = _circle(rng, 120)
    seed = int(rng.integers(1 << 31))
    got = witness_rlts(x, 12, 1 / 8, i_max=8, num_draws=4, rng=np.random.default_rng(seed)).numpy()
    want = ref.rlts(x, 12, 1 / 8, 8, 4, rng=np.random.default_rng(seed))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    again = witness_rlts(x, 12, 1 / 8, i_max=8, num_draws=4, rng=np.random.default_rng(seed)).numpy()
    np.testing.assert_array_equal(got, again)


def test_many_clouds_in_one_call_equal_per_cloud_calls(rng):
    clouds = [_circle(rng, 120), _circle(rng, 90) * 2, rng.standard_normal((100, 2))]
    seed = int(rng.integers(1 << 31))
    got = witness_rlts_clouds(clouds, 12, 1 / 8, i_max=8, num_draws=3, rng=np.random.default_rng(seed))
    g = np.random.default_rng(seed)
    want = torch.stack([witness_rlts(c, 12, 1 / 8, i_max=8, num_draws=3, rng=g) for c in clouds])
    assert got.shape == (3, 3, 8)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_witness_rlts_bad_input(rng):
    x = _circle(rng, 20)
    with pytest.raises(ValueError, match="'gamma'"):
        witness_rlts(x, 5, 0.0)
    with pytest.raises(ValueError, match="'num_landmarks'"):
        witness_rlts(x, 30, 0.1, replace=False)
    with pytest.raises(ValueError, match="'points'"):
        witness_rlts(np.zeros((10, 2)), 3, 0.1)  # every point the same: alpha_max = 0
    with pytest.raises(ValueError, match="'points'"):
        witness_rlts(x[:, 0], 3, 0.1)
