"""Modularity and explicitness (Ridgeway & Mozer 2018), as disentanglement_lib computes them."""

from __future__ import annotations

import numpy as np
import torch

from pydisent.metrics._arrays import check_positive_int, check_two_classes, seed_from, to_numpy, train_test
from pydisent.metrics._discretize import histogram_discretize
from pydisent.metrics._estimators import check_solver, logistic_regression, parallel_map
from pydisent.metrics._mi import discrete_mutual_info
from pydisent.metrics._registry import register
from pydisent.metrics._sampling import sample_codes_factors
from pydisent.metrics._scaling import tree_guard


def modularity_from_mi(mutual_information) -> float:
    """``mean_d (1 - delta_d)``, ``delta_d = (sum_k m_dk^2 - max_k m_dk^2) / (max_k m_dk^2 (F - 1))``; codes
    with no information (max MI 0) score 0. With a single factor ``delta_d = 0`` by convention (the
    reference divides 0 by 0)."""
    m = torch.as_tensor(mutual_information, dtype=torch.float64)
    sq = m * m
    mx = sq.amax(dim=1)
    num = sq.sum(dim=1) - mx
    f = sq.shape[1]
    delta = num / (mx * (f - 1)) if f > 1 else torch.zeros_like(mx)
    score = torch.where(mx == 0, torch.zeros_like(mx), 1.0 - torch.nan_to_num(delta))
    return float(score.mean())


def _standardize(x: np.ndarray, xt: np.ndarray):
    # z-scores are scale-free: columns outside 2**-100..2**100 are moved by a power of two first (exact, so
    # the same z-scores), where the squares of the std can no longer overflow (1e160) or underflow
    x, xt = tree_guard(x, xt)
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    # A constant code has std 0: the reference divides by 0 (NaN, then scikit-learn raises). Here it is left
    # centred but unscaled (all zeros), which a linear classifier ignores.
    std = np.where(std > 0, std, 1.0)
    return (x - mean) / std, (xt - mean) / std


def _auc(y: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    # Reference: roc_auc_score(MultiLabelBinarizer().fit_transform(y[:, None]), proba), i.e. the macro mean
    # over classes of one-vs-rest AUC. Classes are taken from the classifier; a class absent from `y`
    # (possible on small test sets, where the reference raises) is left out of the mean.
    ind = (y[:, None] == classes[None, :]).astype(np.int64)
    keep = (ind.sum(axis=0) > 0) & (ind.sum(axis=0) < len(y))
    if not keep.any():
        raise ValueError("explicitness: every test point has the same factor value; ROC-AUC is undefined")
    return float(roc_auc_score(ind[:, keep], proba[:, keep], average="macro"))


def _explicitness_factor(args):
    x, y, xt, yt, solver, seed = args
    clf = logistic_regression(solver, seed).fit(x, y)
    classes = np.asarray(clf.classes_)
    return _auc(y, clf.predict_proba(x), classes), _auc(yt, clf.predict_proba(xt), classes)


def modularity_explicitness(codes, factors, codes_test=None, factors_test=None, *, train_fraction: float = 2 / 3,
                            num_bins: int = 20, solver: str = "liblinear", random_state=0, n_jobs=None) -> dict:
    """Modularity and explicitness.

    Modularity: with ``m`` the (codes x factors) mutual information of the 20-bin-discretised training codes,
    ``modularity = mean_d [1 - (sum_k m_dk^2 - max_k m_dk^2) / (max_k m_dk^2 (F - 1))]`` (0 for codes without
    information). Explicitness: codes z-scored with the training mean/std (np.std, ddof=0); per factor a
    ``LogisticRegression`` predicts the factor value; the score is the macro-averaged one-vs-rest ROC-AUC of
    its ``predict_proba`` on the training and on the test points, averaged over factors.

    Args:
        codes, factors: training points ``(n, Z)`` / ``(n, F)``.
        codes_test, factors_test: test points (default: split by ``train_fraction``, unshuffled).
        num_bins: discretiser bins (20).
        solver: ``"liblinear"`` (one-vs-rest, scikit-learn < 0.22 defaults: the published numbers) or
            ``"lbfgs"`` (multinomial, scikit-learn >= 0.22 defaults).
        random_state: classifier seed. n_jobs: threads for the per-factor fits.

    Returns:
        ``{"modularity_score", "explicitness_score_train", "explicitness_score_test"}``.

    Documented differences to the reference (which raises in these cases): a constant code dimension is
    centred but not scaled; a class missing from the test points is left out of the AUC mean.

    Reference: Ridgeway & Mozer, "Learning Deep Disentangled Embeddings With the F-Statistic Loss",
    NeurIPS 2018; disentanglement_lib ``evaluation/metrics/modularity_explicitness.py`` (10000 / 5000 points).
    """
    check_solver(solver)
    num_bins = check_positive_int(num_bins, "num_bins")
    c, f, ct, ft = train_test(codes, factors, codes_test, factors_test, train_fraction)
    mi = discrete_mutual_info(histogram_discretize(c, num_bins), f)
    scores = {"modularity_score": modularity_from_mi(mi)}
    x, xt = _standardize(to_numpy(c, np.float64), to_numpy(ct, np.float64))
    y, yt = to_numpy(f), to_numpy(ft)
    check_two_classes(y, "the explicitness classifier")
    seed = seed_from(random_state)
    res = parallel_map(_explicitness_factor, [(x, y[:, k], xt, yt[:, k], solver, seed) for k in range(y.shape[1])],
                       n_jobs)
    scores["explicitness_score_train"] = float(np.mean([r[0] for r in res]))
    scores["explicitness_score_test"] = float(np.mean([r[1] for r in res]))
    return scores


@register("modularity_explicitness", modularity_explicitness, headline=('modularity_score', 'explicitness_score_test'))
def evaluate_modularity_explicitness(source, encoder, rng, *, num_train: int = 10000, num_test: int = 5000,
                                     batch_size: int = 16, num_bins: int = 20, solver: str = "liblinear",
                                     fast: bool = False, n_jobs=None) -> dict:
    """Modularity and explicitness on ``num_train`` / ``num_test`` points (reference defaults 10000 / 5000)."""
    num_train = check_positive_int(num_train, "num_train", 2)
    num_test = check_positive_int(num_test, "num_test")
    batch_size = check_positive_int(batch_size, "batch_size")
    c, f = sample_codes_factors(source, encoder, num_train, rng, batch_size)
    ct, ft = sample_codes_factors(source, encoder, num_test, rng, batch_size)
    return modularity_explicitness(c, f, ct, ft, num_bins=num_bins, solver=solver, random_state=0, n_jobs=n_jobs)
