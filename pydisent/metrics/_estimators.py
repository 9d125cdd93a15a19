"""The scikit-learn estimators that define some metrics, their fast alternatives, and parallel fitting.

Reference estimators (disentanglement_lib): ``GradientBoostingClassifier()`` (DCI, downstream),
``LinearSVC(C=0.01, class_weight="balanced")`` (SAP), ``LogisticRegression()`` (BetaVAE, explicitness),
``LogisticRegressionCV(Cs=10, cv=KFold(5))`` (downstream). Fits are independent across factors (and
code/factor pairs for SAP) and run in parallel threads (scikit-learn's tree builders and liblinear release
the GIL); inside a parallel section BLAS/OpenMP pools are limited to one thread each to avoid
oversubscription.

scikit-learn version note: the published disentanglement_lib numbers were computed with scikit-learn
0.20/0.21, where ``LogisticRegression()`` meant ``solver="liblinear"`` one-vs-rest and
``LogisticRegressionCV()`` meant lbfgs one-vs-rest; since 0.22 both default to lbfgs multinomial (and
since 1.8 liblinear refuses multi-class input, so one-vs-rest is built with ``OneVsRestClassifier``,
which fits the same binary problems).
"""

from __future__ import annotations

import contextlib
import os
import warnings

import numpy as np

LOGISTIC_SOLVERS = ("liblinear", "lbfgs")


def n_workers(n_jobs, n_tasks: int) -> int:
    """Threads to use: ``n_jobs`` (None or -1: every core), capped by the number of tasks."""
    if n_jobs is None or n_jobs == -1:
        n = os.cpu_count() or 1
    elif isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"argument 'n_jobs' must be a positive integer, -1 or None, got {n_jobs!r}")
    else:
        n = int(n_jobs)
    return max(1, min(n, n_tasks))


@contextlib.contextmanager
def _quiet():
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        # The reference settings (e.g. max_iter=100) are kept even where a solver stops early: that is
        # part of the metric's definition, and the warning would repeat for every factor.
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", category=FutureWarning, module="sklearn")
        warnings.filterwarnings("ignore", category=UserWarning, module="sklearn")
        yield


def parallel_map(fn, items, n_jobs=None) -> list:
    """``[fn(x) for x in items]`` in threads (order kept)."""
    items = list(items)
    workers = n_workers(n_jobs, len(items))
    if workers == 1:
        with _quiet():
            return [fn(x) for x in items]
    from joblib import Parallel, delayed
    from threadpoolctl import threadpool_limits

    def run(x):
        with _quiet():
            return fn(x)

    with threadpool_limits(limits=1):
        return Parallel(n_jobs=workers, prefer="threads")(delayed(run)(x) for x in items)


def check_solver(solver: str, name: str = "solver") -> str:
    if solver not in LOGISTIC_SOLVERS:
        raise ValueError(f"argument '{name}' must be one of {LOGISTIC_SOLVERS}, got {solver!r}")
    return solver


def logistic_regression(solver: str = "liblinear", seed: int | None = None):
    """``LogisticRegression()`` as disentanglement_lib ran it.

    ``"liblinear"``: one-vs-rest liblinear (C=1, L2, intercept regularised) — scikit-learn < 0.22
    defaults, used for the published numbers. ``"lbfgs"``: multinomial lbfgs, max_iter=100 —
    scikit-learn >= 0.22 defaults (what the unchanged disentanglement_lib code computes today).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    check_solver(solver)
    if solver == "liblinear":
        return OneVsRestClassifier(LogisticRegression(solver="liblinear", random_state=seed))
    return LogisticRegression(random_state=seed)


def logistic_regression_cv(solver: str = "liblinear", seed: int | None = None):
    """``LogisticRegressionCV(Cs=10, cv=KFold(n_splits=5))`` (unshuffled folds, accuracy scoring).

    ``"liblinear"`` here selects the scikit-learn < 0.22 behaviour the published numbers used: lbfgs
    one-vs-rest (C chosen per class); ``"lbfgs"``: the multinomial model of scikit-learn >= 0.22.
    """
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import KFold
    from sklearn.multiclass import OneVsRestClassifier

    check_solver(solver)
    base = LogisticRegressionCV(Cs=10, cv=KFold(n_splits=5), scoring="accuracy", random_state=seed)
    return OneVsRestClassifier(base) if solver == "liblinear" else base


def gradient_boosting(seed: int | None = None):
    """``GradientBoostingClassifier()`` with scikit-learn defaults (log-loss, 100 stages, learning rate 0.1,
    depth 3, subsample 1). disentanglement_lib leaves ``random_state`` unset (numpy's global RNG, used only
    to break ties between equally good splits); here it is seeded."""
    from sklearn.ensemble import GradientBoostingClassifier

    return GradientBoostingClassifier(random_state=seed)


def hist_gradient_boosting(seed: int | None = None):
    """The ``fast=True`` stand-in for :func:`gradient_boosting`: ``HistGradientBoostingClassifier`` with the
    same number of stages, learning rate and depth (no early stopping, up to 255 bins, leaves of >= 1 point)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, max_depth=3, max_leaf_nodes=None,
                                          min_samples_leaf=1, early_stopping=False, random_state=seed)


def split_gain_importance(model, num_features: int) -> np.ndarray:
    """Feature importances of a fitted ``HistGradientBoostingClassifier``: the split gains of every node of
    every tree summed per feature, normalised to sum 1 (zeros if no tree split).

    This is the analogue of ``GradientBoostingClassifier.feature_importances_`` (impurity decrease summed
    over the trees' splits, normalised): HGB's gain is the decrease of its second-order loss approximation
    at the split. Read from the fitted predictors (``_predictors``, scikit-learn >= 0.21)."""
    imp = np.zeros(num_features, dtype=np.float64)
    for stage in model._predictors:
        for tree in stage:
            nodes = tree.nodes
            split = nodes["is_leaf"] == 0
            np.add.at(imp, nodes["feature_idx"][split].astype(np.int64), np.maximum(nodes["gain"][split], 0.0))
    total = imp.sum()
    return imp / total if total > 0 else imp


class ConstantClassifier:
    """Predicts the one class seen in training (used where a small training set holds a single class)."""

    def __init__(self, value):
        self.value = value

    def predict(self, x):
        return np.full(len(x), self.value)
