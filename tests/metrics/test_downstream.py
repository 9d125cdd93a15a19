"""Downstream classification scores and statistical efficiency."""

from __future__ import annotations

import numpy as np
import pytest

import pydisent.metrics as pm
from tests.metrics._codes import make


def test_downstream_parity(rng):
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import KFold
    from sklearn.multiclass import OneVsRestClassifier

    # (LogisticRegressionCV costs ~1 s per fit even on tiny data: one factor per check)
    z, f = make(rng, 200, sizes=(3,), kind="rotated", extra=1)
    zt, ft = make(rng, 100, sizes=(3,), kind="rotated", extra=1)
    got = pm.downstream(z, f, zt, ft, num_train=(60,), solver="lbfgs", n_jobs=1)
    m = LogisticRegressionCV(Cs=10, cv=KFold(n_splits=5), scoring="accuracy").fit(z[:60], f[:60, 0])
    assert got["60:test_accuracy_factor_0"] == pytest.approx(np.mean(m.predict(zt) == ft[:, 0]), abs=1e-12)
    assert got["60:train_accuracy_factor_0"] == pytest.approx(np.mean(m.predict(z[:60]) == f[:60, 0]), abs=1e-12)
    assert got["60:mean_test_accuracy"] == got["60:min_test_accuracy"] == got["60:test_accuracy_factor_0"]
    assert "statistical_efficiency" not in got
    # published-numbers mode: one-vs-rest LogisticRegressionCV (scikit-learn < 0.22 behaviour)
    fb = f[:40] % 2
    ovr = pm.downstream(z[:40], fb, zt, ft % 2, num_train=(40,), n_jobs=1)
    m = OneVsRestClassifier(LogisticRegressionCV(Cs=10, cv=KFold(n_splits=5), scoring="accuracy")).fit(z[:40], fb[:, 0])
    assert ovr["40:test_accuracy_factor_0"] == pytest.approx(np.mean(m.predict(zt) == ft[:, 0] % 2), abs=1e-12)
    # gradient boosting; a tiny training set may hold a single value of a factor (predicted as that value)
    z2, f2 = make(rng, 100, sizes=(3, 2), kind="rotated")
    small = pm.downstream(z2, f2, z2, f2, num_train=(3, 100), predictor="gradient_boosting", n_jobs=1)
    assert set(small) >= {"3:mean_test_accuracy", "100:min_train_accuracy", "3:test_accuracy_factor_1"}
    with pytest.raises(ValueError, match="5-fold"):
        pm.downstream(z, f, zt, ft, num_train=(3, 100))


def test_downstream_statistical_efficiency(rng):
    z, f = make(rng, 10000, sizes=(3, 2), kind="perfect", noise=0.01)
    zt, ft = make(rng, 200, sizes=(3, 2), kind="perfect", noise=0.01)
    got = pm.downstream(z, f, zt, ft, num_train=(100, 10000), predictor="gradient_boosting", fast=True)
    efficiency = got["100:mean_test_accuracy"] / got["10000:mean_test_accuracy"]
    assert got["statistical_efficiency"] == pytest.approx(efficiency)
