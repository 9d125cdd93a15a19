"""Histogram transport: barycenters against POT and a transcription of the Zhou et al. IBP loop, the two W1
distances against scipy, the distance matrix, bad input."""

import numpy as np
import pytest
import torch

from pydisent.topology.transport import (
    bin_cost,
    distance_matrix,
    entropic_barycenter,
    histogram_w1,
    values_w1,
)

ot = pytest.importorskip("ot", reason="POT (test extra) is the barycenter reference")
scipy_stats = pytest.importorskip("scipy.stats")


def zhou_ibp(P, C, eps=1e-2, num_iterations=100, stop=1e-4):
    """The "original" stabilisation of gs/barycenter.py (Zhou et al.) in numpy: V = 1, U = P / KV,
    q = geometric mean of K^T U, V = q / K^T U; loop until ||q - q_prev|| and |1 - sum q| are <= stop."""
    K = np.exp(-C / eps)
    V = np.ones_like(P)
    q_all = K.T @ (P / (K @ V))
    V = np.exp(np.log(q_all).mean(1))[:, None] / q_all
    last, q_diff, q_sum, it = np.zeros(P.shape[0]), np.inf, np.inf, 0
    while (q_diff > stop or q_sum > stop) and it < num_iterations:
        it += 1
        q_all = K.T @ (P / (K @ V))
        q = np.exp(np.log(q_all).mean(1))
        V = q[:, None] / q_all
        q_diff, q_sum = np.linalg.norm(q - last), abs(1 - q.sum())
        last = q
    return last, it


def _hists(rng, n, m, zeros=0.3):
    h = rng.random((n, m)) ** 3
    h[rng.random((n, m)) < zeros] = 0
    h[:, 0] += 1e-3  # every histogram keeps some mass
    return h / h.sum(1, keepdims=True) * rng.uniform(0.8, 1.0, (n, 1))  # RLTs may sum to < 1


def _rlt_like(rng, n, m):
    """Peaked histograms like RLTs: mass around a mode of a few tens of holes."""
    k = np.arange(m)
    mode = rng.uniform(0.2, 0.4, (n, 1)) * m
    h = np.exp(-((k[None] - mode) ** 2) / (2 * rng.uniform(2, 6, (n, 1)) ** 2))
    return h / h.sum(1, keepdims=True)


def test_bin_cost():
    c = bin_cost(5).numpy()
    assert c.dtype == np.float64 and c.max() == 1.0 and c[0, 4] == 1.0 and c[1, 3] == 4 / 16
    np.testing.assert_array_equal(bin_cost(1).numpy(), [[0.0]])


@pytest.mark.parametrize("n,m", [(100, 100), (30, 20), (3, 7), (1, 5)])
def test_barycenter_equals_pot(rng, n, m):
    for reg, tol in ((1e-2, 1e-4), (5e-2, 1e-9)):
        h = _hists(rng, n, m)
        want = ot.bregman.barycenter(h.T, bin_cost(m).numpy(), reg, numItermax=100, stopThr=tol, warn=False)
        got = entropic_barycenter(h, reg=reg, tol=tol).numpy()  # default stop rule: POT's
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)


def test_zhou_stop_rule_is_the_released_loop(rng):
    h = _hists(rng, 40, 30)
    want, it = zhou_ibp(h.T, bin_cost(30).numpy())
    got, its = entropic_barycenter(h, stop="zhou", return_iterations=True)
    np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-12)
    assert int(its) == it


def test_on_rlts_the_two_rules_are_close(rng):
    # The same iterations stopped at different points: the released loop stops earlier than POT.
    h = _rlt_like(rng, 100, 100)
    pot, it_pot = entropic_barycenter(h, return_iterations=True)
    zhou, it_zhou = entropic_barycenter(h, stop="zhou", return_iterations=True)
    assert int(it_zhou) <= int(it_pot)
    assert (pot - zhou).abs().max().item() < 1e-3
    np.testing.assert_allclose(zhou.numpy(), zhou_ibp(h.T, bin_cost(100).numpy())[0], rtol=0, atol=1e-12)


def test_batch_equals_separate_calls(rng):
    hs = np.stack([_hists(rng, 20, 15, zeros=z) for z in (0.0, 0.3, 0.6)] + [_rlt_like(rng, 20, 15)])
    for stop in ("zhou", "pot"):
        got, its = entropic_barycenter(hs, stop=stop, return_iterations=True)
        assert got.shape == (4, 15)
        for b in range(4):
            one, it = entropic_barycenter(hs[b], stop=stop, return_iterations=True)
            # the same iterations (a batched matmul may round differently in the last bit)
            np.testing.assert_allclose(got[b].numpy(), one.numpy(), rtol=0, atol=1e-14)
            assert int(its[b]) == int(it)


def test_weights_and_custom_cost(rng):
    h = _hists(rng, 6, 9, zeros=0)
    w = rng.random(6)
    w /= w.sum()
    c = rng.random((9, 9))
    c = (c + c.T) / 2
    np.fill_diagonal(c, 0)
    want = ot.bregman.barycenter(h.T, c, 0.1, weights=w, numItermax=100, stopThr=1e-12, warn=False)
    got = entropic_barycenter(h, torch.as_tensor(c), reg=0.1, weights=w, tol=1e-12, stop="pot")
    np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-10)


def test_barycenter_bad_input(rng):
    h = _hists(rng, 4, 5)
    with pytest.raises(ValueError, match="zero mass"):
        entropic_barycenter(np.r_[h, np.zeros((1, 5))])
    with pytest.raises(ValueError, match="non-negative"):
        entropic_barycenter(-h)
    with pytest.raises(ValueError, match="NaN"):
        entropic_barycenter(np.where(h > 0.1, np.nan, h))
    with pytest.raises(ValueError, match="'cost'"):
        entropic_barycenter(h, np.zeros((4, 4)))
    with pytest.raises(ValueError, match="'reg'"):
        entropic_barycenter(h, reg=0)
    with pytest.raises(ValueError, match="'stop'"):
        entropic_barycenter(h, stop="never")
    with pytest.raises(ValueError, match="'weights'"):
        entropic_barycenter(h, weights=np.ones(3))
    with pytest.raises(ValueError, match="'hists'"):
        entropic_barycenter(h[0])


def test_values_w1_is_scipy_on_values(rng):
    for m in (1, 7, 100):
        a, b = rng.random(m), rng.random(m) ** 2
        assert abs(values_w1(a, b).item() - scipy_stats.wasserstein_distance(a, b)) < 1e-14
        # it is blind to which bin holds which value: the W1 over bins is not
        p = rng.permutation(m)
        assert abs(values_w1(a[p], b).item() - values_w1(a, b).item()) < 1e-15


def test_histogram_w1_is_scipy_over_bins(rng):
    for m in (1, 2, 10, 100):
        a, b = rng.random(m), rng.random(m)
        s = np.arange(m)
        assert abs(histogram_w1(a, b).item() - scipy_stats.wasserstein_distance(s, s, a, b)) < 1e-12
        s2 = np.sort(rng.random(m))
        assert abs(histogram_w1(a, b, support=s2).item() - scipy_stats.wasserstein_distance(s2, s2, a, b)) < 1e-12
    # mass on bin 0 vs mass on bin 3: W1 = 3
    assert histogram_w1([1, 0, 0, 0], [0, 0, 0, 2]).item() == 3.0


def test_distance_matrix(rng):
    a, b = rng.random((7, 20)), rng.random((5, 20))
    s = np.arange(20) / 19
    dz = distance_matrix(a, b).numpy()
    dh = distance_matrix(a, b, distance="histogram", support=s, chunk=100).numpy()
    de = distance_matrix(a, b, distance="euclidean").numpy()
    for i in range(7):
        for j in range(5):
            assert abs(dz[i, j] - scipy_stats.wasserstein_distance(a[i], b[j])) < 1e-14
            assert abs(dh[i, j] - scipy_stats.wasserstein_distance(s, s, a[i], b[j])) < 1e-12
            assert abs(de[i, j] - ((a[i] - b[j]) ** 2).sum()) < 1e-12
    sq = distance_matrix(a).numpy()
    assert sq.shape == (7, 7) and np.allclose(np.diag(sq), 0) and np.allclose(sq, sq.T)
    with pytest.raises(ValueError, match="'distance'"):
        distance_matrix(a, b, distance="l2")
    with pytest.raises(ValueError, match="bins"):
        distance_matrix(a, b[:, :3])
    with pytest.raises(ValueError, match="'support'"):
        distance_matrix(a, b, distance="histogram", support=np.arange(3))
