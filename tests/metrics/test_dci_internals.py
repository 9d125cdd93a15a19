"""The fast DCI path reads scikit-learn's private HistGradientBoosting internals: when they are not the
expected form (or the replay disagrees with the model's public decision_function), dci(fast=True) warns and
uses the public API instead, never returning a number from a misread forest."""

import numpy as np
import pytest

import pydisent.metrics as pm
from pydisent.metrics import _estimators


class _Proxy:
    """A tree that predicts like the real one (public predictions stay right) but shows other `nodes`."""

    def __init__(self, tree, nodes):
        self._tree, self.nodes = tree, nodes

    def __getattr__(self, name):
        return getattr(self._tree, name)


def _codes(rng, n=90):
    f = rng.integers(0, 2, (n, 2))
    return np.c_[f + 0.2 * rng.standard_normal((n, 2)), rng.standard_normal(n)], f


def _patch_fit(monkeypatch, change):
    from sklearn.ensemble import HistGradientBoostingClassifier

    fit = HistGradientBoostingClassifier.fit

    def patched(self, *a, **k):
        out = fit(self, *a, **k)
        self._predictors = [[_Proxy(t, change(t.nodes)) for t in stage] for stage in self._predictors]
        return out

    monkeypatch.setattr(HistGradientBoostingClassifier, "fit", patched)


@pytest.fixture(scope="module")
def scored():
    rng = np.random.default_rng(3)
    data = (*_codes(rng), *_codes(rng, 60))
    return data, pm.dci(*data, fast=True, n_jobs=1), pm.dci(*data, fast=False, n_jobs=1)


@pytest.mark.parametrize("change", ["renamed field", "wrong values"])
def test_fast_dci_falls_back_to_the_public_api_on_unexpected_internals(change, scored, monkeypatch):
    (c, f, ct, ft), good, slow = scored
    if change == "renamed field":  # a field the replay reads is called differently
        def alter(nodes):
            names = ["bin_thr" if n == "bin_threshold" else n for n in nodes.dtype.names]
            return nodes.astype(np.dtype({"names": names, "formats": [nodes.dtype[n] for n in nodes.dtype.names]}))
    else:  # the form is right but the leaf values are not the ones the model predicts with
        def alter(nodes):
            nodes = nodes.copy()
            nodes["value"] = nodes["value"] * 2 + 0.1
            return nodes
    _patch_fit(monkeypatch, alter)
    with pytest.warns(RuntimeWarning, match="public scikit-learn API"):
        got = pm.dci(c, f, ct, ft, fast=True, n_jobs=1)
    # importances from the reference estimator (same seeds): its disentanglement and completeness;
    # accuracies from the fitted HGB model's public predict: the fast path's informativeness
    assert got["disentanglement"] == pytest.approx(slow["disentanglement"], abs=1e-12)
    assert got["completeness"] == pytest.approx(slow["completeness"], abs=1e-12)
    assert got["informativeness_train"] == pytest.approx(good["informativeness_train"], abs=1e-12)
    assert got["informativeness_test"] == pytest.approx(good["informativeness_test"], abs=1e-12)


def test_internals_check_names_what_is_missing():
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(0)
    c, f = _codes(rng, 100)
    m = _estimators.hist_gradient_boosting(0).fit(c, f[:, 0])
    _estimators.check_internals(m)  # the installed scikit-learn passes
    assert isinstance(m, HistGradientBoostingClassifier)
    del m._bin_mapper
    with pytest.raises(_estimators.InternalsMismatch, match="_bin_mapper.*tested"):
        _estimators.check_internals(m)
    m2 = _estimators.hist_gradient_boosting(0).fit(c, f[:, 0])
    m2._predictors = None
    with pytest.raises(_estimators.InternalsMismatch, match="_predictors"):
        _estimators.check_internals(m2)


def test_tested_range_matches_pyproject():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert f'"scikit-learn{_estimators.SKLEARN_TESTED}"' in text
