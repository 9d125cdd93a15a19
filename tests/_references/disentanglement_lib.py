"""Straightforward NumPy transcriptions of the disentanglement_lib metric algorithms (no tests here: the
parity tests in tests/metrics/ and the metrics benchmark import them).

Written loop by loop in the reference's own layout (codes ``(num_codes, n)``, factors ``(num_factors, n)``),
calling scikit-learn where the reference does, so that pydisent's vectorised versions can be compared with an
independent implementation on the same samples.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.special
import scipy.stats
from sklearn.metrics import mutual_info_score


def histogram_discretize(target, num_bins=20):
    out = np.zeros_like(target)
    for i in range(target.shape[0]):
        out[i, :] = np.digitize(target[i, :], np.histogram(target[i, :], num_bins)[1][:-1])
    return out


def discrete_mutual_info(mus, ys):
    m = np.zeros([mus.shape[0], ys.shape[0]])
    for i in range(mus.shape[0]):
        for j in range(ys.shape[0]):
            m[i, j] = mutual_info_score(ys[j, :], mus[i, :])
    return m


def discrete_entropy(ys):
    return np.array([mutual_info_score(ys[j, :], ys[j, :]) for j in range(ys.shape[0])])


def mig(mus, ys, num_bins=20):
    m = discrete_mutual_info(histogram_discretize(mus, num_bins), ys)
    entropy = discrete_entropy(ys)
    sorted_m = np.sort(m, axis=0)[::-1]
    return np.mean(np.divide(sorted_m[0, :] - sorted_m[1, :], entropy[:]))


def modularity(mus, ys, num_bins=20):
    mi = discrete_mutual_info(histogram_discretize(mus, num_bins), ys)
    squared_mi = np.square(mi)
    max_squared_mi = np.max(squared_mi, axis=1)
    numerator = np.sum(squared_mi, axis=1) - max_squared_mi
    denominator = max_squared_mi * (squared_mi.shape[1] - 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        delta = numerator / denominator
    score = 1.0 - delta
    score[max_squared_mi == 0.0] = 0.0
    return np.mean(score)


def explicitness(mus_train, ys_train, mus_test, ys_test, make_clf):
    from sklearn.metrics import roc_auc_score
    from sklearn.preprocessing import MultiLabelBinarizer

    mean = np.mean(mus_train, axis=1)
    std = np.std(mus_train, axis=1)
    xtr = ((mus_train - mean[:, None]) / std[:, None]).T
    xte = ((mus_test - mean[:, None]) / std[:, None]).T
    tr, te = [], []
    for i in range(ys_train.shape[0]):
        clf = make_clf().fit(xtr, ys_train[i])
        mlb = MultiLabelBinarizer()
        tr.append(roc_auc_score(mlb.fit_transform(ys_train[i][:, None]), clf.predict_proba(xtr)))
        te.append(roc_auc_score(mlb.fit_transform(ys_test[i][:, None]), clf.predict_proba(xte)))
    return np.mean(tr), np.mean(te)


def unsupervised(mus, num_bins=20):
    num_codes = mus.shape[0]
    cov = np.cov(mus)
    tc = 0.5 * (np.sum(np.log(np.diag(cov))) - np.linalg.slogdet(cov)[1])
    sq = scipy.linalg.sqrtm(cov * np.expand_dims(np.diag(cov), axis=1))
    wc = 2 * np.trace(cov) - 2 * np.trace(sq)
    wc = float(np.real(wc))
    d = histogram_discretize(mus, num_bins)
    mi = discrete_mutual_info(d, d)
    np.fill_diagonal(mi, 0)
    return {"gaussian_total_correlation": tc, "gaussian_wasserstein_correlation": wc,
            "gaussian_wasserstein_correlation_norm": wc / np.sum(np.diag(cov)),
            "mutual_info_score": np.sum(mi) / (num_codes ** 2 - num_codes)}


def irs(mus, ys, diff_quantile=0.99, num_bins=20):
    ys_discrete = histogram_discretize(ys, num_bins)
    active = mus[mus.var(axis=1) > 0.0, :]
    if not active.any():
        return 0.0, 0.0
    gen, lat = ys_discrete.T, active.T
    max_dev = np.max(np.abs(lat - lat.mean(axis=0)), axis=0)
    cum = np.zeros([lat.shape[1], gen.shape[1]])
    for i in range(gen.shape[1]):
        values = np.unique(gen[:, i])
        for v in values:
            match = gen[:, i] == v
            e_loc = np.mean(lat[match, :], axis=0)
            cum[:, i] += np.quantile(np.abs(lat[match, :] - e_loc), q=diff_quantile, axis=0)
        cum[:, i] /= len(values)
    irs_matrix = 1.0 - cum / max_dev[:, None]
    scores = irs_matrix.max(axis=1)
    avg = np.average(scores, weights=max_dev) if np.sum(max_dev) > 0 else np.mean(scores)
    return avg, np.sum(active)


def factor_vae_votes(global_var, active, vote_codes, vote_labels, num_factors):
    votes = np.zeros((num_factors, global_var.shape[0]), dtype=np.int64)
    for codes, k in zip(vote_codes, vote_labels):
        local = np.var(codes, axis=0, ddof=1)
        argmin = np.argmin(local[active] / global_var[active])
        votes[k, argmin] += 1
    return votes


def factor_vae(variance_codes, train_codes, train_labels, eval_codes, eval_labels, num_factors, threshold=0.05):
    global_var = np.var(variance_codes, axis=0, ddof=1)
    active = np.sqrt(global_var) >= threshold
    if not active.any():
        return 0.0, 0.0, 0
    tv = factor_vae_votes(global_var, active, train_codes, train_labels, num_factors)
    classifier = np.argmax(tv, axis=0)
    other = np.arange(tv.shape[1])
    train_acc = np.sum(tv[classifier, other]) * 1.0 / np.sum(tv)
    ev = factor_vae_votes(global_var, active, eval_codes, eval_labels, num_factors)
    eval_acc = np.sum(ev[classifier, other]) * 1.0 / np.sum(ev)
    return train_acc, eval_acc, len(active)


def dci_importance(x_train, y_train, x_test, y_test, seeds):
    from sklearn.ensemble import GradientBoostingClassifier

    num_factors, num_codes = y_train.shape[0], x_train.shape[0]
    imp = np.zeros([num_codes, num_factors])
    tr, te = [], []
    for i in range(num_factors):
        model = GradientBoostingClassifier(random_state=seeds[i]).fit(x_train.T, y_train[i, :])
        imp[:, i] = np.abs(model.feature_importances_)
        tr.append(np.mean(model.predict(x_train.T) == y_train[i, :]))
        te.append(np.mean(model.predict(x_test.T) == y_test[i, :]))
    return imp, np.mean(tr), np.mean(te)


def dci_scores(imp):
    per_code = 1.0 - scipy.stats.entropy(imp.T + 1e-11, base=imp.shape[1])
    w = imp if imp.sum() != 0 else np.ones_like(imp)
    d = np.sum(per_code * w.sum(axis=1) / w.sum())
    per_factor = 1.0 - scipy.stats.entropy(imp + 1e-11, base=imp.shape[0])
    c = np.sum(per_factor * w.sum(axis=0) / w.sum())
    return d, c


def sap(mus, ys, mus_test, ys_test, continuous=False):
    from sklearn import svm

    s = np.zeros([mus.shape[0], ys.shape[0]])
    for i in range(mus.shape[0]):
        for j in range(ys.shape[0]):
            if continuous:
                c = np.cov(mus[i, :], ys[j, :], ddof=1)
                s[i, j] = c[0, 1] ** 2 / (c[0, 0] * c[1, 1]) if c[0, 0] > 1e-12 else 0.0
            else:
                clf = svm.LinearSVC(C=0.01, class_weight="balanced").fit(mus[i, :, None], ys[j, :])
                s[i, j] = np.mean(clf.predict(mus_test[i, :, None]) == ys_test[j, :])
    srt = np.sort(s, axis=0)
    return np.mean(srt[-1, :] - srt[-2, :])


def hoyer_sparsity(zs, norm=True):
    z = np.asarray(zs, dtype=np.float64)
    if norm:
        z = z / z.std(axis=0, ddof=1)
    d = z.shape[1]
    ratios = [np.abs(r).sum() / np.sqrt((r ** 2).sum()) for r in z]
    return (np.sqrt(d) - np.mean(ratios)) / (np.sqrt(d) - 1)


def mmd_dim(x, y, scales=(0.1, 0.2, 0.5, 1.0, 2.0, 5.0)):
    b, d = x.shape
    total = 0.0
    for s in scales:
        c = 2.0 * s
        for k in range(d):
            kxx = kyy = kxy = 0.0
            for i in range(b):
                for j in range(b):
                    kxy += c / (c + (x[i, k] - y[j, k]) ** 2)
                    if i != j:
                        kxx += c / (c + (x[i, k] - x[j, k]) ** 2)
                        kyy += c / (c + (y[i, k] - y[j, k]) ** 2)
            total += (kxx + kyy) / (b * (b - 1)) - 2 * kxy / (b * b)
    return total


def kld_inc(zp, mu, logvar):
    """Inclusive KL minibatch estimate with given prior samples ``zp`` (B, D) under N(0, I)."""
    b = mu.shape[0]
    vals = []
    for i in range(b):
        logq = []
        for j in range(b):
            var = np.exp(logvar[j])
            logq.append(np.sum(-0.5 * (zp[i] - mu[j]) ** 2 / var - 0.5 * logvar[j] - 0.5 * np.log(2 * np.pi)))
        lq = scipy.special.logsumexp(logq) - np.log(b)
        lp = np.sum(-0.5 * zp[i] ** 2 - 0.5 * np.log(2 * np.pi))
        vals.append(lp - lq)
    return np.mean(vals)


def generate_batch_factor_code(data, rep, num_points, rs, batch_size):
    """``utils.generate_batch_factor_code``: codes ``(Z, n)`` and factors ``(F, n)``, batch by batch in the
    reference's call order."""
    reps, facs = [], []
    for i in range(0, num_points, batch_size):
        f, o = data.sample(min(batch_size, num_points - i), rs)
        facs.append(f)
        reps.append(rep(o))
    return np.concatenate(reps).T, np.concatenate(facs).T


# -- whole metrics from a dataset and a representation (the benchmarks' "dlib-port" peer) ---------------------
# ``data`` has the GroundTruthData methods (num_factors, sample_factors, sample_observations_from_factors,
# sample), ``rep`` maps observations to numpy codes (n, Z), ``rs`` is a numpy RandomState; every sample is drawn
# in the reference's order and batch sizes.

def _liblinear_ovr():
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    return OneVsRestClassifier(LogisticRegression(solver="liblinear"))


def beta_vae_pipeline(data, rep, rs, bs=64, num_train=10000, num_eval=5000):
    """``beta_vae.compute_beta_vae_sklearn``: per point, a factor held fixed across two batches of ``bs``;
    the feature is the mean absolute code difference; a logistic regression predicts the factor."""

    def points(n):
        x, y = [], []
        for _ in range(n):
            k = rs.randint(data.num_factors)
            f1, f2 = data.sample_factors(bs, rs), data.sample_factors(bs, rs)
            f2[:, k] = f1[:, k]
            r1 = np.asarray(rep(data.sample_observations_from_factors(f1, rs)), dtype=np.float64)
            r2 = np.asarray(rep(data.sample_observations_from_factors(f2, rs)), dtype=np.float64)
            x.append(np.mean(np.abs(r1 - r2), axis=0))
            y.append(k)
        return np.array(x), np.array(y)

    x, y = points(num_train)
    rs.randint(np.iinfo(np.int32).max)  # scikit-learn < 0.22's liblinear drew one seed from the RandomState
    m = _liblinear_ovr().fit(x, y)
    xe, ye = points(num_eval)
    return {"train_accuracy": m.score(x, y), "eval_accuracy": m.score(xe, ye)}


def modularity_explicitness_pipeline(data, rep, rs, num_train=10000, num_test=5000):
    """``modularity_explicitness.compute_modularity_explicitness``."""
    mus, ys = generate_batch_factor_code(data, rep, num_train, rs, 16)
    mt, yt = generate_batch_factor_code(data, rep, num_test, rs, 16)
    tr, te = explicitness(mus, ys, mt, yt, _liblinear_ovr)
    return {"modularity_score": float(modularity(mus, ys)), "explicitness_score_train": float(tr),
            "explicitness_score_test": float(te)}


def irs_pipeline(data, rep, rs, num_train=10000, q=0.99):
    """``irs.compute_irs``."""
    mus, ys = generate_batch_factor_code(data, rep, num_train, rs, 16)
    score, active = irs(mus, ys, diff_quantile=q)
    return {"IRS": float(score), "num_active_dims": float(active)}


def downstream_pipeline(data, rep, rs, sizes=(10, 100, 1000, 10000), num_test=5000):
    """``downstream_task.compute_downstream_task`` with ``LogisticRegressionCV(Cs=10, cv=KFold(5))``."""
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import KFold
    from sklearn.multiclass import OneVsRestClassifier

    out = {}
    for s in sizes:
        mus, ys = generate_batch_factor_code(data, rep, s, rs, 16)
        mt, yt = generate_batch_factor_code(data, rep, num_test, rs, 16)
        acc = []
        for i in range(ys.shape[0]):
            m = OneVsRestClassifier(LogisticRegressionCV(Cs=10, cv=KFold(n_splits=5), scoring="accuracy"))
            m.fit(mus.T, ys[i])
            acc.append(np.mean(m.predict(mt.T) == yt[i]))
        out[f"{s}:mean_test_accuracy"] = float(np.mean(acc))
    return out


def mig_pipeline(data, rep, rs, num_train=10000):
    """``mig.compute_mig``."""
    mus, ys = generate_batch_factor_code(data, rep, num_train, rs, 16)
    return {"discrete_mig": float(mig(mus, ys))}


def sap_pipeline(data, rep, rs, num_train=10000, num_test=5000):
    """``sap_score.compute_sap`` (discrete factors)."""
    mus, ys = generate_batch_factor_code(data, rep, num_train, rs, 16)
    mt, yt = generate_batch_factor_code(data, rep, num_test, rs, 16)
    return {"SAP_score": float(sap(mus, ys, mt, yt))}


def unsupervised_pipeline(data, rep, rs, num_train=10000):
    """``unsupervised_metrics.unsupervised_metrics``."""
    mus, _ = generate_batch_factor_code(data, rep, num_train, rs, 16)
    return {k: float(v) for k, v in unsupervised(mus).items()}


def dci_pipeline(data, rep, rs, num_train=10000, num_test=5000):
    """``dci.compute_dci`` (one ``GradientBoostingClassifier`` per factor, seeded from ``rs``)."""
    x, y = generate_batch_factor_code(data, rep, num_train, rs, 16)
    xt, yt = generate_batch_factor_code(data, rep, num_test, rs, 16)
    imp, tr, te = dci_importance(x, y, xt, yt, rs.randint(2**31 - 1, size=y.shape[0]))
    d, c = dci_scores(imp)
    return {"disentanglement": float(d), "completeness": float(c), "informativeness_train": float(tr),
            "informativeness_test": float(te)}


def factor_vae_pipeline(data, rep, rs, bs=64, num_train=10000, num_eval=5000, num_variance_estimate=10000):
    """``factor_vae.compute_factor_vae``: a vote per batch of ``bs`` observations sharing one factor's value."""
    def codes(obs):
        return np.asarray(rep(obs), dtype=np.float64)

    variance_codes = codes(data.sample_observations_from_factors(data.sample_factors(num_variance_estimate, rs), rs))

    def votes(n):
        vote_codes, labels = [], []
        for _ in range(n):
            k = rs.randint(data.num_factors)
            f = data.sample_factors(bs, rs)
            f[:, k] = f[0, k]
            vote_codes.append(codes(data.sample_observations_from_factors(f, rs)))
            labels.append(k)
        return vote_codes, labels

    tc, tl = votes(num_train)
    ec, el = votes(num_eval)
    tr, ev, active = factor_vae(variance_codes, tc, tl, ec, el, data.num_factors)
    return {"train_accuracy": float(tr), "eval_accuracy": float(ev), "num_active_dims": int(active)}
