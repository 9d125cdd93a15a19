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


# ---- issue 15 regressions -------------------------------------------------------------------------

def test_sap_huge_codes_do_not_hang():
    """Defect 1: liblinear never returned at |codes| ~ 1e77; the score is its large-scale limit (the
    1e50 value). Run in a subprocess so that a hang fails the test instead of the session."""
    import subprocess
    import sys

    code = ("from tests._probe import probe; import pydisent.metrics as pm; C, F, _ = probe(); "
            "print(pm.sap(C * 1e77, F)['SAP_score'], pm.sap(C * 1e50, F)['SAP_score'], "
            "pm.sap(C * 1e300, F, fast=True)['SAP_score'], pm.sap(C * 1e50, F, fast=True)['SAP_score'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    a, b, c, d = map(float, out.stdout.split())
    assert a == b and c == d


def test_sap_fast_with_codes_above_later_codes():
    """Defect 2: an earlier code column lying above a later one crashed the batched solver."""
    from tests._probe import probe

    C, F, _ = probe()
    for shift in ([100, 0, 0], [0, 0, -1e6], [1e12, 0, 0]):
        assert pm.sap(C + shift, F, fast=True)["SAP_score"] == pytest.approx(pm.sap(C + shift, F)["SAP_score"],
                                                                                 abs=0.05)


def test_sap_continuous_extreme_scales():
    """Defect 6: squared correlations are scale-free; 1e155 gave NaN."""
    from tests._probe import probe

    C, F, _ = probe()
    want = pm.sap(C, F, continuous_factors=True)["SAP_score"]
    for s in (1e155, 1e300):
        assert pm.sap(C * s, F, continuous_factors=True)["SAP_score"] == pytest.approx(want, rel=1e-9)
    # the reference's absolute variance threshold (1e-12) applies to the raw codes: tiny codes score 0
    for s in (1e-7, 1e-150, 1e-310):
        assert pm.sap(C * s, F, continuous_factors=True)["SAP_score"] == 0.0
