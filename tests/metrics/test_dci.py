"""DCI: reference estimator parity, the fast (histogram boosting) path and its compiled tree replay,
hand-checked scores."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import pydisent.metrics as pm
from pydisent.metrics._dci import disentanglement_completeness
from tests._references import disentanglement_lib as ref
from tests.metrics._codes import make


def test_dci_parity_reference_estimator(rng):
    z, f = make(rng, 240, sizes=(3, 4), kind="rotated", extra=1)
    zt, ft = make(rng, 120, sizes=(3, 4), kind="rotated", extra=1)
    got = pm.dci(z, f, zt, ft, random_state=7, n_jobs=2)
    imp, tr, te = ref.dci_importance(z.T, f.T, zt.T, ft.T, seeds=[7, 8])
    d, c = ref.dci_scores(imp)
    assert abs(got["disentanglement"] - d) < 1e-9 and abs(got["completeness"] - c) < 1e-9
    assert abs(got["informativeness_train"] - tr) < 1e-12 and abs(got["informativeness_test"] - te) < 1e-12
    err = pm.dci(z, f, zt, ft, random_state=7, informativeness="error", n_jobs=1)
    assert err["informativeness_test"] == pytest.approx(1 - te)


def test_fast_dci_importance_follows_the_reference_definition(rng):
    from threadpoolctl import threadpool_limits

    from pydisent.metrics._estimators import (
        gradient_boosting,
        gradient_importance,
        hist_gradient_boosting,
        predict_from_raw,
    )

    z, f = make(rng, 400, sizes=(3, 2), kind="perfect", noise=0.05, extra=2)
    for k in range(2):  # multi-class and binary
        with threadpool_limits(limits=1):  # HGB's OpenMP threads spin badly on a busy CI machine
            m = hist_gradient_boosting(0).fit(z, f[:, k])
        gi, raw = gradient_importance(m, z, f[:, k], return_raw=True)  # raises if the replay disagrees
        np.testing.assert_array_equal(predict_from_raw(m, raw), m.predict(z))  # fast DCI's training accuracy
        ref_imp = gradient_boosting(0).fit(z, f[:, k]).feature_importances_
        assert gi.sum() == pytest.approx(1.0) and np.argmax(gi) == k
        assert np.abs(gi - ref_imp).max() < 0.05
    zt, ft = make(rng, 200, sizes=(3, 2), kind="perfect", noise=0.05, extra=2)
    slow, fast = pm.dci(z, f, zt, ft, n_jobs=2), pm.dci(z, f, zt, ft, fast=True, n_jobs=2)
    # Two different boosters, so the scores differ by estimator noise: over 40 seeds of this setting
    # |slow - fast| was at most 0.040 (disentanglement; the two noise codes' small importances move it),
    # 0.020 for the others. This end-to-end check is for gross errors (importance matrix transposed or
    # misaligned with the factors); the importance definition itself is pinned above, per tree and per feature.
    for key in slow:
        assert abs(slow[key] - fast[key]) < 0.08, key


def test_compiled_tree_replay_matches_the_numpy_replay_and_the_model(rng):
    from threadpoolctl import threadpool_limits

    from pydisent.metrics._estimators import (
        gbt_replay,
        gradient_importance,
        hist_gradient_boosting,
        predict_from_raw,
    )

    for sizes, discrete in [((4, 2), False), ((2, 3), True), ((6,), False)]:
        z, f = make(rng, 300, sizes=sizes, kind="perfect", noise=0.2, extra=2)
        zt, _ = make(rng, 150, sizes=sizes, kind="perfect", noise=0.2, extra=2)
        if discrete:  # integer-valued codes: bin edges halfway between values, many ties
            z, zt = np.round(z * 3), np.round(zt * 3)
        for k in range(len(sizes)):
            with threadpool_limits(limits=1):
                m = hist_gradient_boosting(int(rng.integers(1 << 30))).fit(z, f[:, k])
            imp_np, raw_np = gradient_importance(m, z, f[:, k], return_raw=True, compiled=False)
            imp_c, raw_c = gradient_importance(m, z, f[:, k], return_raw=True)
            np.testing.assert_allclose(raw_c, raw_np, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(imp_c, imp_np, rtol=1e-9, atol=1e-12)
            raw_t, imp_none = gbt_replay(m, zt)
            assert imp_none is None
            np.testing.assert_allclose(raw_t, m._raw_predict(zt), rtol=1e-12, atol=1e-12)
            np.testing.assert_array_equal(predict_from_raw(m, raw_t), m.predict(zt))


def test_compiled_tree_replay_rejects_malformed_forests():
    from pydisent import _C
    from pydisent._dispatch import ref

    def call(left=(1, 0, 0), offsets=(0, 3), targets=(0, 1), feature=(0, 0, 0)):
        t = lambda a, dt: ref(torch.tensor(a, dtype=dt))
        _C.gbt_replay_cpu(t([[1], [2]], torch.uint8), t(feature, torch.int32), t([1, 0, 0], torch.uint8),
                          t([1, 0, 0], torch.uint8), t(left, torch.int32), t([2, 0, 0], torch.int32),
                          t([0, 1, 1], torch.uint8), t([0.0, -1.0, 1.0], torch.float64), t(offsets, torch.int64),
                          t([0.0], torch.float64), 255, t(targets, torch.int64),
                          ref(torch.empty(2, 1, dtype=torch.float64)),
                          ref(torch.empty(1, dtype=torch.float64)))

    call()  # a stump: valid
    with pytest.raises(ValueError, match="children outside its tree"):
        call(left=(0, 0, 0))  # a split pointing at itself would never reach a leaf
    with pytest.raises(ValueError, match="feature"):
        call(feature=(3, 0, 0))
    with pytest.raises(ValueError, match="targets"):
        call(targets=(0, 2))
    with pytest.raises(ValueError, match="offsets"):
        call(offsets=(0, 2))


def test_dci_scores_hand_checked():
    d, c = disentanglement_completeness(np.eye(3))
    assert d == pytest.approx(1.0, abs=1e-8) and c == pytest.approx(1.0, abs=1e-8)
    d, c = disentanglement_completeness(np.ones((3, 3)))
    assert d == pytest.approx(0.0, abs=1e-8) and c == pytest.approx(0.0, abs=1e-8)
    # two codes for factor 0, one for factor 1: codes are disentangled, factor 0 is not complete
    r = np.array([[0.5, 0.0], [0.5, 0.0], [0.0, 1.0]])
    d, c = disentanglement_completeness(r)
    assert d == pytest.approx(1.0, abs=1e-8)
    assert c == pytest.approx(ref.dci_scores(r)[1], abs=1e-12)
    assert disentanglement_completeness(np.zeros((3, 2))) == pytest.approx(ref.dci_scores(np.zeros((3, 2))))
    # one factor / one code: documented value 1 where the reference divides by log(1) = 0
    assert disentanglement_completeness(np.array([[0.3], [0.7]]))[0] == 1.0
    assert disentanglement_completeness(np.array([[0.3, 0.7]]))[1] == 1.0


# ---- issue 15 regressions -------------------------------------------------------------------------

@pytest.mark.parametrize("fast", [False, True])
def test_dci_extreme_scales(fast):
    """Defects 7 and 16: trees are scale-free; 1e39 leaked scikit-learn's float32 message and fast DCI at
    1e300 gave disentanglement 0.22 (1.0). Powers of two give the same trees (exactly)."""
    from tests._probe import probe

    C, F, _ = probe()
    want = pm.dci(C, F, fast=fast)
    for s in (2.0**-1000, 2.0**130, 2.0**1000):
        assert pm.dci(C * s, F, fast=fast) == want
    for s in (1e-300, 1e39, 1e300):
        got = pm.dci(C * s, F, fast=fast)
        assert got["disentanglement"] == pytest.approx(want["disentanglement"], abs=0.02)
        assert got["informativeness_test"] == pytest.approx(want["informativeness_test"], abs=0.02)
