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


# ---- issue 15 regressions -------------------------------------------------------------------------

def test_modularity_explicitness_extreme_labels_and_scales():
    """Defects 3 and 7: int64 extreme labels (modularity fell to 0.0) and codes at 1e160 (explicitness 0.5)."""
    import numpy as np
    import pytest

    import pydisent.metrics as pm
    from tests._probe import probe

    C, F, _ = probe()
    lo, hi = np.iinfo(np.int64).min, np.iinfo(np.int64).max
    assert pm.modularity_explicitness(C, np.where(F > 0, hi, lo)) == pm.modularity_explicitness(C, (F > 0) * 1)
    want = pm.modularity_explicitness(C, F)
    for s in (2.0**-600, 2.0**530):  # powers of two: the z-scores are the same bits
        assert pm.modularity_explicitness(C * s, F) == want
    got = pm.modularity_explicitness(C * 1e160, F)
    assert got["explicitness_score_test"] == pytest.approx(want["explicitness_score_test"], abs=0.01)
