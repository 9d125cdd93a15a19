"""Modularity and explicitness against the disentanglement_lib transcription."""

from __future__ import annotations

import pytest

import pydisent.metrics as pm
from tests._references import disentanglement_lib as ref
from tests.metrics._codes import make


@pytest.mark.parametrize("kind", ["perfect", "rotated", "noise"])
def test_modularity_explicitness_parity(rng, kind):
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    z, f = make(rng, 600, kind=kind, extra=1)
    zt, ft = make(rng, 300, kind=kind, extra=1)
    got = pm.modularity_explicitness(z, f, zt, ft, n_jobs=1)
    assert abs(got["modularity_score"] - ref.modularity(z.T, f.T)) < 1e-9
    tr, te = ref.explicitness(z.T, f.T, zt.T, ft.T, lambda: OneVsRestClassifier(LogisticRegression(solver="liblinear")))
    assert abs(got["explicitness_score_train"] - tr) < 1e-9
    assert abs(got["explicitness_score_test"] - te) < 1e-9
    got2 = pm.modularity_explicitness(z, f, zt, ft, solver="lbfgs", n_jobs=2)
    tr2, te2 = ref.explicitness(z.T, f.T, zt.T, ft.T, lambda: LogisticRegression())
    assert abs(got2["explicitness_score_train"] - tr2) < 1e-6 and abs(got2["explicitness_score_test"] - te2) < 1e-6
