"""BetaVAE against the disentanglement_lib transcription."""

from __future__ import annotations

import numpy as np
import pytest

import pydisent.metrics as pm


def test_beta_vae_parity(rng):
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    pairs = rng.standard_normal((120, 2, 8, 4))
    labels = rng.integers(0, 3, 120)
    pairs[np.arange(120), 1, :, labels] = pairs[np.arange(120), 0, :, labels]  # factor k shared in code k
    ev = rng.standard_normal((60, 2, 8, 4))
    evl = rng.integers(0, 3, 60)
    got = pm.beta_vae(pairs, labels, ev, evl)
    feat = np.mean(np.abs(pairs[:, 0] - pairs[:, 1]), axis=1)
    feat_ev = np.mean(np.abs(ev[:, 0] - ev[:, 1]), axis=1)
    model = OneVsRestClassifier(LogisticRegression(solver="liblinear")).fit(feat, labels)
    assert got["train_accuracy"] == pytest.approx(model.score(feat, labels), abs=1e-12)
    assert got["eval_accuracy"] == pytest.approx(model.score(feat_ev, evl), abs=1e-12)
    assert got["train_accuracy"] == 1.0
    assert pm.beta_vae(feat, labels, feat_ev, evl) == got  # features given directly
    lb = pm.beta_vae(pairs, labels, ev, evl, solver="lbfgs")
    m2 = LogisticRegression().fit(feat, labels)
    assert lb["eval_accuracy"] == pytest.approx(m2.score(feat_ev, evl), abs=1e-12)


# ---- issue 15 regressions -------------------------------------------------------------------------

def test_beta_vae_huge_features_reach_the_large_scale_limit():
    """Defect 16: features above 1e30 surfaced liblinear's refusal; the logistic regression is
    scale-dependent by definition, its score at 1e31 and 1e200 is the large-scale limit (the 1e20 value)."""
    import numpy as np

    import pydisent.metrics as pm
    from tests._probe import probe

    C, F, _ = probe()
    x = np.abs(C)
    want = pm.beta_vae(x * 1e20, F[:, 0], x * 1e20, F[:, 0])
    for s in (1e31, 1e77, 1e200):
        assert pm.beta_vae(x * s, F[:, 0], x * s, F[:, 0]) == want
