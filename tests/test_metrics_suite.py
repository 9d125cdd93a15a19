"""Array forms of the disentanglement metric suite: parity with straightforward transcriptions of the
disentanglement_lib algorithms (same inputs, same numbers), the building blocks, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import mutual_info_score

import pydisent.metrics as pm
import test_metrics_suite_ref as ref
from pydisent.metrics._discretize import histogram_discretize
from pydisent.metrics._dci import disentanglement_completeness
from pydisent.metrics._mi import discrete_entropy, discrete_mutual_info

SIZES = (4, 5, 3)


def make(rng, n, sizes=SIZES, kind="perfect", noise=0.05, extra=0, dtype=np.float64):
    """Factors (n, F) and codes (n, Z): perfect (factor + noise), rotated, noise, or missing half."""
    f = np.stack([rng.integers(0, s, n) for s in sizes], axis=1)
    base = f / np.asarray(sizes, dtype=np.float64) + noise * rng.standard_normal(f.shape)
    if kind == "perfect":
        z = base
    elif kind == "rotated":
        q, _ = np.linalg.qr(rng.standard_normal((len(sizes), len(sizes))))
        z = base @ q
    elif kind == "noise":
        z = rng.standard_normal(f.shape)
    elif kind == "half":
        keep = (len(sizes) + 1) // 2
        z = np.concatenate([base[:, :keep], rng.standard_normal((n, len(sizes) - keep))], axis=1)
    else:
        raise ValueError(kind)
    if extra:
        z = np.concatenate([z, rng.standard_normal((n, extra))], axis=1)
    return z.astype(dtype), f


# -- building blocks ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_discretizer_matches_numpy_histogram_digitize(rng, dtype):
    for trial in range(30):
        n, z = int(rng.integers(1, 300)), int(rng.integers(1, 5))
        x = rng.standard_normal((n, z)).astype(dtype)
        if trial % 3 == 0:  # values on bin edges
            x = (np.round(x * 3) / 3).astype(dtype)
        if trial % 4 == 0:  # small integers: many exact ties with edges
            x = rng.integers(0, 7, (n, z)).astype(dtype)
        if trial % 5 == 0:  # a constant column
            x[:, 0] = 1.5
        if trial % 7 == 0:  # large offset, tiny range
            x = (1e4 + 1e-3 * x).astype(dtype)
        try:
            expect = ref.histogram_discretize(x.T).T
        except ValueError:  # numpy: "Too many bins for data range" (float32); documented: float64 edges
            expect = ref.histogram_discretize(x.T.astype(np.float64)).T
        got = histogram_discretize(torch.from_numpy(x)).numpy()
        np.testing.assert_array_equal(got, expect)
        assert got.min() >= 1 and got.max() <= 20


def test_discretizer_one_sample_float32_matches_numpy():
    # one sample: every column is constant and widened to +-0.5; the middle float32 edge can fall
    # just above the value (regression: this once forced float64 edges and labelled it 11, not 10)
    x = np.array([[-0.03101433, -0.531457, 0.6915504, 0.47322643]], dtype=np.float32)
    np.testing.assert_array_equal(histogram_discretize(torch.from_numpy(x)).numpy(),
                                  ref.histogram_discretize(x.T).T)


def test_discretizer_other_bin_counts(rng):
    x = rng.standard_normal((200, 3))
    for b in (1, 2, 7, 50):
        np.testing.assert_array_equal(histogram_discretize(torch.from_numpy(x), b).numpy(),
                                      ref.histogram_discretize(x.T, b).T)


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
    np.testing.assert_allclose(discrete_mutual_info(torch.from_numpy(a), torch.from_numpy(b)).numpy(), expect, atol=1e-12)
    monkeypatch.setattr(mi, "_DENSE_CELLS", 4)  # force the per-pair sparse path
    np.testing.assert_allclose(discrete_mutual_info(torch.from_numpy(a), torch.from_numpy(b)).numpy(), expect, atol=1e-12)


def test_mutual_info_perfect_and_independent():
    y = torch.arange(1000)[:, None] % 4
    m = discrete_mutual_info(y, y)
    assert abs(float(m[0, 0]) - np.log(4)) < 1e-12
    const = torch.zeros(1000, 1, dtype=torch.int64)
    assert float(discrete_mutual_info(const, y)[0, 0]) == 0.0
    assert float(discrete_entropy(const)[0]) == 0.0


# -- parity with the reference transcriptions ------------------------------------------------------------
@pytest.mark.parametrize("kind", ["perfect", "rotated", "noise", "half"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mig_parity(rng, kind, dtype):
    z, f = make(rng, 1500, kind=kind, extra=2, dtype=dtype)
    got = pm.mig(z, f)["discrete_mig"]
    assert abs(got - ref.mig(z.T, f.T)) < 1e-9
    assert abs(pm.mig(torch.from_numpy(z), torch.from_numpy(f))["discrete_mig"] - got) < 1e-12


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


@pytest.mark.parametrize("kind", ["perfect", "rotated", "noise"])
def test_unsupervised_parity(rng, kind):
    z, _ = make(rng, 2000, kind=kind, extra=2)
    got = pm.unsupervised(z)
    expect = ref.unsupervised(z.T)
    for k, v in expect.items():
        assert abs(got[k] - v) <= 1e-9 * max(1.0, abs(v)), k


@pytest.mark.parametrize("kind", ["perfect", "rotated", "noise", "half"])
def test_irs_parity(rng, kind):
    z, f = make(rng, 1200, sizes=(4, 30, 3), kind=kind, extra=1)  # 30 values -> binned into 20
    z[:, -1] = 0.25  # a constant code is dropped
    got = pm.irs(z, f)
    score, active_sum = ref.irs(z.T, f.T)
    assert abs(got["IRS"] - score) < 1e-9
    assert abs(got["num_active_dims"] - active_sum) < 1e-9 * max(1.0, abs(active_sum))
    got1 = pm.irs(z, f, diff_quantile=1.0)
    assert abs(got1["IRS"] - ref.irs(z.T, f.T, diff_quantile=1.0)[0]) < 1e-9


@pytest.mark.parametrize("threshold", [0.05, 0.0])
def test_factor_vae_parity_on_fixed_votes(rng, threshold):
    sizes = (3, 4, 5)
    z = rng.standard_normal((500, 5))
    votes_k = rng.integers(0, 3, 80)
    vote_codes = rng.standard_normal((80, 16, 5)) * rng.uniform(0.1, 2, (80, 1, 5))
    ev_k = rng.integers(0, 3, 40)
    ev_codes = rng.standard_normal((40, 16, 5)) * rng.uniform(0.1, 2, (40, 1, 5))
    z[:, 3] *= 0.01  # pruned at 0.05
    got = pm.factor_vae(z, vote_codes, votes_k, ev_codes, ev_k, prune_threshold=threshold)
    tr, ev, nact = ref.factor_vae(z, vote_codes, votes_k, ev_codes, ev_k, len(sizes), threshold)
    assert abs(got["train_accuracy"] - tr) < 1e-12 and abs(got["eval_accuracy"] - ev) < 1e-12
    assert got["num_active_dims"] == nact == 5  # reference quirk: len(mask)


def test_factor_vae_dead_dimension_quirk(rng):
    z = rng.standard_normal((300, 4))
    z[:, 2] = 1.0
    votes = rng.standard_normal((50, 8, 4))
    votes[:, :, 2] = 1.0
    labels = rng.integers(0, 3, 50)
    # threshold 0 keeps the dead dim: 0/0 = NaN and np.argmin picks it for every vote (disent's setting)
    with pytest.warns(RuntimeWarning, match="zero variance"):
        got = pm.factor_vae(z, votes, labels, votes, labels, prune_threshold=0.0)
    tr, ev, _ = ref.factor_vae(z, votes, labels, votes, labels, 3, 0.0)
    assert got["train_accuracy"] == pytest.approx(tr, abs=1e-12)
    assert got["train_accuracy"] == pytest.approx(np.bincount(labels).max() / 50)
    none = pm.factor_vae(z * 1e-3, votes, labels, votes, labels)
    assert none == {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}


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
    from pydisent.metrics._estimators import (gradient_boosting, gradient_importance, hist_gradient_boosting,
                                              predict_from_raw)

    from threadpoolctl import threadpool_limits

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

    from pydisent.metrics._estimators import gbt_replay, gradient_importance, hist_gradient_boosting, predict_from_raw

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
                          t([0.0], torch.float64), 255, t(targets, torch.int64), ref(torch.empty(2, 1, dtype=torch.float64)),
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
    assert got["statistical_efficiency"] == pytest.approx(got["100:mean_test_accuracy"] / got["10000:mean_test_accuracy"])


# -- Mathieu et al. ----------------------------------------------------------------------------------------
def test_sparsity_hand_checked(rng):
    onehot = np.eye(6)[rng.integers(0, 6, 500)] * rng.uniform(0.5, 2, (500, 1))
    onehot[:6] = np.eye(6)  # every dimension used
    assert pm.sparsity(onehot)["normalised_sparsity"] == pytest.approx(1.0, abs=1e-12)
    assert pm.sparsity(np.ones((10, 4)) + np.eye(10, 4) * 1e-9, normalise=False)["sparsity"] == pytest.approx(0.0, abs=1e-6)
    dense = rng.standard_normal((1000, 10))
    got = pm.sparsity(dense)["normalised_sparsity"]
    assert got == pytest.approx(ref.hoyer_sparsity(dense), abs=1e-12)
    assert 0.2 < got < 0.33  # ~0.267 for N(0, I_10) (spec)


def test_mmd_dim_and_kld_inc_parity(rng):
    from pydisent.metrics._mathieu import _imq_mmd_dim

    x = rng.standard_normal((12, 3))
    y = rng.standard_normal((12, 3)) + 1.0
    got = float(_imq_mmd_dim(torch.from_numpy(x)[None], torch.from_numpy(y)[None])[0])
    assert got == pytest.approx(ref.mmd_dim(x, y), abs=1e-12)
    same = float(_imq_mmd_dim(torch.from_numpy(x)[None], torch.from_numpy(x)[None])[0])
    assert -12 * 3 / 12 <= same < 0  # X = Y: slightly negative, bounded by -12 D / B
    # kld_inc with a standard normal prior: compare with a loop transcription on the same prior draws
    mu = rng.standard_normal((16, 3)) * 0.5
    logvar = rng.standard_normal((16, 3)) * 0.1 - 1.0
    out = pm.prior_divergence(mu, logvar, batch_size=16, rng=3, divergences="kld_inc")
    zp = torch.randn((1, 16, 3), generator=torch.Generator().manual_seed(3), dtype=torch.float64).numpy()[0]
    assert out["kld_inc"] == pytest.approx(ref.kld_inc(zp, mu, logvar), abs=1e-10)


def test_prior_divergence_behaviour(rng):
    n, d = 1024, 5
    # posterior = prior (mu ~ N(0, 1 - s^2), var s^2): aggregate is N(0, I)
    s2 = 0.01
    mu = rng.standard_normal((n, d)) * np.sqrt(1 - s2)
    lv = np.full((n, d), np.log(s2))
    near = pm.prior_divergence(mu, lv, rng=0)
    far = pm.prior_divergence(mu + 3.0, lv, rng=0)
    assert abs(near["mmd_dim"]) < 0.5 and far["mmd_dim"] > 10  # spec: ~+18 for N(0,1) vs N(3,1), B=64, D=5
    assert near["kld_inc"] < far["kld_inc"] and far["kld_inc"] > 10
    d1 = torch.distributions.Normal(torch.zeros(d, dtype=torch.float64), torch.ones(d, dtype=torch.float64))
    with_prior = pm.prior_divergence(mu, lv, rng=0, prior=d1)
    assert abs(with_prior["mmd_dim"] - near["mmd_dim"]) < 0.5
    state = torch.random.get_rng_state()
    pm.prior_divergence(mu, lv, rng=1, prior=d1)
    assert torch.equal(state, torch.random.get_rng_state())  # the global RNG is left untouched


# -- invariances -------------------------------------------------------------------------------------------
def test_permuting_and_rescaling_codes(rng):
    z, f = make(rng, 2000, kind="rotated", extra=1)
    perm = rng.permutation(z.shape[1])
    scale = 2.0 ** rng.integers(-3, 4, z.shape[1])  # powers of two: rescaling is exact in floating point
    z2 = z[:, perm] * scale[perm] + 0.0
    assert pm.mig(z2, f) == pm.mig(z, f)
    assert pm.modularity_explicitness(z2, f, n_jobs=1)["modularity_score"] == pytest.approx(
        pm.modularity_explicitness(z, f, n_jobs=1)["modularity_score"], abs=1e-12)
    # IRS scores each code scale-free but averages them weighted by their (scale-dependent) max deviation
    assert pm.irs(z[:, perm], f)["IRS"] == pytest.approx(pm.irs(z, f)["IRS"], abs=1e-12)
    assert pm.irs(z * 8.0, f)["IRS"] == pytest.approx(pm.irs(z, f)["IRS"], abs=1e-12)
    u1, u2 = pm.unsupervised(z), pm.unsupervised(z2)
    assert u1["gaussian_total_correlation"] == pytest.approx(u2["gaussian_total_correlation"], rel=1e-9)
    assert u1["mutual_info_score"] == pytest.approx(u2["mutual_info_score"], abs=1e-12)
    votes = rng.standard_normal((60, 10, z.shape[1]))
    k = rng.integers(0, 3, 60)
    a = pm.factor_vae(z, votes, k, votes, k)
    b = pm.factor_vae(z2 * 16, votes[:, :, perm] * scale[perm] * 16, k, votes[:, :, perm] * scale[perm] * 16, k)
    assert a["train_accuracy"] == pytest.approx(b["train_accuracy"]) and a["eval_accuracy"] == pytest.approx(b["eval_accuracy"])


# -- bad input ---------------------------------------------------------------------------------------------
def test_bad_inputs_name_the_argument(rng):
    z, f = make(rng, 100)
    bad = z.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="'codes' contains NaN"):
        pm.mig(bad, f)
    with pytest.raises(ValueError, match="same number of points"):
        pm.mig(z[:50], f)
    with pytest.raises(ValueError, match="transposed|same number"):
        pm.mig(z.T, f)
    with pytest.raises(ValueError, match="factor 1 takes a single value"):
        f1 = f.copy()
        f1[:, 1] = 2
        pm.mig(z, f1)
    with pytest.raises(ValueError, match="at least 2 code dimensions"):
        pm.mig(z[:, :1], f)
    with pytest.raises(TypeError, match="integer factor positions"):
        pm.mig(z, f + 0.5)
    with pytest.raises(ValueError, match="shape"):
        pm.mig(z, f[:, 0])
    with pytest.raises(ValueError, match="too few for train_fraction"):
        pm.dci(z[:2], f[:2])
    with pytest.raises(ValueError, match="'codes_test' and 'factors_test'"):
        pm.sap(z, f, z)
    with pytest.raises(ValueError, match="factor 0 takes a single value"):
        f0 = f.copy()
        f0[:, 0] = 1
        pm.dci(z, f0)
    with pytest.raises(ValueError, match="num_bins"):
        pm.mig(z, f, num_bins=0)
    with pytest.raises(ValueError, match="every code dimension is constant"):
        pm.unsupervised(np.ones((10, 3)))
    with pytest.raises(ValueError, match="constant"):
        pm.sparsity(np.concatenate([z, np.ones((100, 1))], axis=1))
    with pytest.raises(ValueError, match="fewer than the largest training size"):
        pm.downstream(z, f, z, f, num_train=(1000,))
    with pytest.raises(ValueError, match="solver"):
        pm.beta_vae(z, f[:, 0], z, f[:, 0], solver="saga")
    with pytest.raises(ValueError, match="prune_threshold"):
        pm.factor_vae(z, z[:10].reshape(2, 5, 3), [0, 1], z[:10].reshape(2, 5, 3), [0, 1], prune_threshold=-1)
    with pytest.raises(ValueError, match="group_size|>= 2 points"):
        pm.factor_vae(z, z[:10].reshape(10, 1, 3), np.zeros(10, int), z[:10].reshape(10, 1, 3), np.zeros(10, int))
    with pytest.raises(ValueError, match="'mu' and 'logvar'"):
        pm.prior_divergence(z, z[:, :2])


def test_constant_code_dims_documented_values(rng):
    z, f = make(rng, 600, kind="perfect", extra=1)
    z[:, -1] = 3.0
    # modularity: a code without information scores 0; explicitness: constant code left unscaled
    me = pm.modularity_explicitness(z, f, n_jobs=1)
    assert np.isfinite(list(me.values())).all()
    u = pm.unsupervised(z)
    assert np.isfinite(list(u.values())).all()
    u_live = pm.unsupervised(z[:, :-1])
    assert u["gaussian_total_correlation"] == pytest.approx(u_live["gaussian_total_correlation"], rel=1e-12)
    assert u["gaussian_wasserstein_correlation"] == pytest.approx(u_live["gaussian_wasserstein_correlation"], rel=1e-12)
    assert np.isfinite(pm.mig(z, f)["discrete_mig"]) and np.isfinite(pm.irs(z, f)["IRS"])
    assert np.isfinite(pm.sap(z, f, fast=True)["SAP_score"])
