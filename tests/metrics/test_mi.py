"""Discrete mutual information and entropy against scikit-learn."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import mutual_info_score

from pydisent.metrics._mi import discrete_entropy, discrete_mutual_info


def test_mutual_info_matches_sklearn(rng):
    for _ in range(15):
        n = int(rng.integers(1, 400))
        a = rng.integers(-3, int(rng.integers(1, 30)), (n, int(rng.integers(1, 5))))
        b = rng.integers(0, int(rng.integers(1, 10)), (n, int(rng.integers(1, 4)))) * 7  # sparse label values
        got = discrete_mutual_info(torch.from_numpy(a), torch.from_numpy(b)).numpy()
        expect = np.array([[mutual_info_score(b[:, j], a[:, i]) for j in range(b.shape[1])] for i in range(a.shape[1])])
        np.testing.assert_allclose(got, expect, atol=1e-12, rtol=0)
        h = discrete_entropy(torch.from_numpy(b)).numpy()
        np.testing.assert_allclose(h, [mutual_info_score(b[:, j], b[:, j]) for j in range(b.shape[1])], atol=1e-12)


def test_mutual_info_sparse_fallback_and_huge_labels(rng, monkeypatch):
    import pydisent.metrics._mi as mi

    a = rng.integers(0, 10, (150, 3))
    b = rng.integers(0, 10, (150, 2)) * 10**15  # spans too large for the presence table
    expect = np.array([[mutual_info_score(b[:, j], a[:, i]) for j in range(2)] for i in range(3)])
    got = discrete_mutual_info(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    np.testing.assert_allclose(got, expect, atol=1e-12)
    monkeypatch.setattr(mi, "_DENSE_CELLS", 4)  # force the per-pair sparse path
    got = discrete_mutual_info(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    np.testing.assert_allclose(got, expect, atol=1e-12)


def test_mutual_info_perfect_and_independent():
    y = torch.arange(1000)[:, None] % 4
    m = discrete_mutual_info(y, y)
    assert abs(float(m[0, 0]) - np.log(4)) < 1e-12
    const = torch.zeros(1000, 1, dtype=torch.int64)
    assert float(discrete_mutual_info(const, y)[0, 0]) == 0.0
    assert float(discrete_entropy(const)[0]) == 0.0
