"""Downstream-task accuracy and statistical efficiency (Locatello et al. 2019), as disentanglement_lib's
``downstream_task`` computes them."""

from __future__ import annotations

import numpy as np

from pydisent._validation import Options, check
from pydisent.metrics._arrays import check_positive_int, seed_from, to_numpy, train_test
from pydisent.metrics._estimators import (
    ConstantClassifier,
    check_solver,
    gradient_boosting,
    hist_gradient_boosting,
    logistic_regression_cv,
    parallel_map,
)
from pydisent.metrics._registry import register
from pydisent.metrics._sampling import sample_codes_factors
from pydisent.metrics._scaling import linear_guard, tree_guard

PREDICTORS = ("logistic_regression_cv", "gradient_boosting")
DEFAULT_SIZES = (10, 100, 1000, 10000)


def _check_sizes(num_train) -> tuple[int, ...]:
    sizes = (num_train,) if isinstance(num_train, (int, np.integer)) else tuple(num_train)
    if not sizes:
        raise ValueError("argument 'num_train' must name at least one training-set size")
    return tuple(check_positive_int(s, "num_train") for s in sizes)


def _check_cv_sizes(predictor, sizes):
    if predictor == "logistic_regression_cv" and min(sizes) < 5:
        raise ValueError(f"argument 'num_train': LogisticRegressionCV's 5-fold cross-validation needs >= 5 training "
                         f"points, got sizes {sizes}")


def _make(predictor: str, solver: str, fast: bool, seed):
    if predictor == "gradient_boosting":
        return hist_gradient_boosting(seed) if fast else gradient_boosting(seed)
    return logistic_regression_cv(solver, seed)


def _fit_factor(args):
    x, y, xt, yt, predictor, solver, fast, seed = args
    classes = np.unique(y)
    # A small training set may hold a single value of a factor; the reference's estimators raise there.
    # Predict that value (documented).
    model = ConstantClassifier(classes[0]) if len(classes) < 2 else _make(predictor, solver, fast, seed).fit(x, y)
    return float(np.mean(model.predict(x) == y)), float(np.mean(model.predict(xt) == yt))


def _scores_for_size(size: int, x, y, xt, yt, predictor, solver, fast, seed, n_jobs) -> dict:
    # trees are scale-free (codes brought into float32's range, exactly); the logistic regression is not
    # (its regularisation): only columns beyond 2**96 come down, where its large-scale limit is reached
    x, xt = tree_guard(x, xt) if predictor == "gradient_boosting" else linear_guard(x, xt)
    res = parallel_map(_fit_factor, [(x, y[:, k], xt, yt[:, k], predictor, solver, fast, seed)
                                     for k in range(y.shape[1])], n_jobs)
    train = [r[0] for r in res]
    test = [r[1] for r in res]
    s = str(size)
    out = {f"{s}:mean_train_accuracy": float(np.mean(train)), f"{s}:mean_test_accuracy": float(np.mean(test)),
           f"{s}:min_train_accuracy": float(np.min(train)), f"{s}:min_test_accuracy": float(np.min(test))}
    for i in range(len(train)):
        out[f"{s}:train_accuracy_factor_{i}"] = train[i]
        out[f"{s}:test_accuracy_factor_{i}"] = test[i]
    return out


def _efficiency(scores: dict, sizes) -> dict:
    if 100 in sizes and 10000 in sizes:
        denom = scores["10000:mean_test_accuracy"]
        scores["statistical_efficiency"] = scores["100:mean_test_accuracy"] / denom if denom > 0 else 0.0
    return scores


def _check_predictor(predictor):
    check(predictor, "predictor", Options(PREDICTORS))


def downstream(codes, factors, codes_test, factors_test, *, num_train=DEFAULT_SIZES,
               predictor: str = "logistic_regression_cv", solver: str = "liblinear", fast: bool = False,
               random_state=0, n_jobs=None) -> dict:
    """Downstream accuracy of a classifier per factor, for several training-set sizes.

    For each size ``s`` in ``num_train`` one predictor per factor is fit on the first ``s`` training points
    (raw codes) and scored on them and on the test points. ``predictor``: ``"logistic_regression_cv"``
    (``LogisticRegressionCV(Cs=10, cv=KFold(5))``, accuracy scoring) or ``"gradient_boosting"``
    (``GradientBoostingClassifier()``); ``fast=True`` swaps the latter for histogram gradient boosting.
    ``statistical_efficiency`` = ``100:mean_test_accuracy / 10000:mean_test_accuracy`` (Locatello et al.),
    when both sizes are scored.

    The logistic regressions are regularised and see the raw codes: their scores depend on the scale of the
    codes by definition (codes beyond 2**96 are scaled down to it, the large-scale limit); the boosted trees
    are scale-free (extreme codes are rescaled exactly by powers of two into float32's range).

    The evaluate form (``evaluate(..., ["downstream"])``) draws a fresh training set *and a fresh test set of
    5000 points* for every size, as disentanglement_lib does; this array form reuses one test set and nested
    training prefixes.

    Args:
        codes, factors: training points (at least ``max(num_train)`` rows).
        codes_test, factors_test: test points (reference: 5000).
        num_train: training-set sizes (reference ``[10, 100, 1000, 10000]``).
        predictor: see above. solver: for logistic regression, ``"liblinear"`` reproduces the published
            numbers' scikit-learn < 0.22 behaviour (lbfgs one-vs-rest, C chosen per class), ``"lbfgs"`` the
            multinomial model of scikit-learn >= 0.22.
        fast: histogram gradient boosting for ``predictor="gradient_boosting"`` (no effect on logistic
            regression). random_state: estimator seed. n_jobs: threads for the per-factor fits.

    Returns:
        Per size ``s``: ``"s:mean_train_accuracy"``, ``"s:mean_test_accuracy"``, ``"s:min_train_accuracy"``,
        ``"s:min_test_accuracy"``, ``"s:train_accuracy_factor_i"``, ``"s:test_accuracy_factor_i"``; plus
        ``"statistical_efficiency"``. A factor with a single value in a (small) training set is predicted as
        that value (the reference's estimators raise).

    Reference: Locatello et al., "Challenging Common Assumptions in the Unsupervised Learning of Disentangled
    Representations", ICML 2019; disentanglement_lib ``evaluation/metrics/downstream_task.py``.
    """
    _check_predictor(predictor)
    check_solver(solver)
    sizes = _check_sizes(num_train)
    _check_cv_sizes(predictor, sizes)
    c, f, ct, ft = train_test(codes, factors, codes_test, factors_test, 0.5, min_train=1)
    if c.shape[0] < max(sizes):
        raise ValueError(f"argument 'codes' has {c.shape[0]} points, fewer than the largest training size "
                         f"num_train={max(sizes)}")
    x, y, xt, yt = to_numpy(c), to_numpy(f), to_numpy(ct), to_numpy(ft)
    seed = seed_from(random_state)
    scores = {}
    for s in sizes:
        scores.update(_scores_for_size(s, x[:s], y[:s], xt, yt, predictor, solver, fast, seed, n_jobs))
    return _efficiency(scores, sizes)


@register("downstream", downstream, headline=('statistical_efficiency',), fast=True, default=False)
def evaluate_downstream(source, encoder, rng, *, num_train=DEFAULT_SIZES, num_test: int = 5000, batch_size: int = 16,
                        predictor: str = "logistic_regression_cv", solver: str = "liblinear", fast: bool = False,
                        n_jobs=None) -> dict:
    """Downstream accuracies: per size in ``num_train`` a fresh training set and a fresh ``num_test`` test set."""
    _check_predictor(predictor)
    check_solver(solver)
    sizes = _check_sizes(num_train)
    _check_cv_sizes(predictor, sizes)
    num_test = check_positive_int(num_test, "num_test")
    batch_size = check_positive_int(batch_size, "batch_size")
    scores = {}
    for s in sizes:
        c, f = sample_codes_factors(source, encoder, s, rng, batch_size)
        ct, ft = sample_codes_factors(source, encoder, num_test, rng, batch_size)
        scores.update(_scores_for_size(s, to_numpy(c), f, to_numpy(ct), ft, predictor, solver, fast, 0, n_jobs))
    return _efficiency(scores, sizes)
