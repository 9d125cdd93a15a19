"""SAP against the disentanglement_lib transcription, and the fast solver."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import pydisent.metrics as pm
from tests._references import disentanglement_lib as ref
from tests.metrics._codes import make


@pytest.mark.parametrize("continuous", [False, True])
def test_sap_parity(rng, continuous):
    z, f = make(rng, 400, sizes=(3, 2, 5), kind="rotated", extra=1)
    zt, ft = make(rng, 200, sizes=(3, 2, 5), kind="rotated", extra=1)
    got = pm.sap(z, f, zt, ft, continuous_factors=continuous, n_jobs=2)["SAP_score"]
    assert abs(got - ref.sap(z.T, f.T, zt.T, ft.T, continuous)) < 1e-9


def test_sap_fast_solver_matches_liblinear(rng):
    from sklearn.svm import LinearSVC

    from pydisent.metrics._linear_svc import _solve_sorted, _SortedSums

    # The Newton solution is the optimum that liblinear approaches (to its 1e-4 tolerance).
    for K in (2, 3, 6):
        n = 800
        y = rng.integers(0, K, n)
        y[rng.random(n) < 0.3] = 0  # unbalanced classes
        y[:K] = np.arange(K)
        x = rng.standard_normal(n) + 0.7 * y
        clf = LinearSVC(C=0.01, class_weight="balanced", tol=1e-10, max_iter=100000).fit(x[:, None], y)
        counts = np.bincount(y)
        weight = n / (K * counts)
        S = _SortedSums(torch.from_numpy(x)[None, :], torch.from_numpy(y), K)
        if K == 2:
            w, b = _solve_sorted(S, torch.ones(1, dtype=torch.int64), 0.01 * weight[1], 0.01 * weight[0])
        else:
            w, b = _solve_sorted(S, torch.arange(K), torch.from_numpy(0.01 * weight)[None, :], 0.01)
        np.testing.assert_allclose(w[0].numpy(), clf.coef_.ravel(), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(b[0].numpy(), clf.intercept_, rtol=1e-5, atol=1e-7)


def test_sap_fast_close_to_reference(rng):
    z, f = make(rng, 1000, sizes=(3, 2, 6), kind="rotated", extra=1)
    zt, ft = make(rng, 500, sizes=(3, 2, 6), kind="rotated", extra=1)
    slow = pm.sap(z, f, zt, ft, n_jobs=1)["SAP_score"]
    fast = pm.sap(z, f, zt, ft, fast=True)["SAP_score"]
    assert abs(slow - fast) < 0.01
