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

from pydisent._validation import Options, check

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
    """``[fn(x) for x in items]`` in threads (order kept). Warning filters and thread-pool limits are global
    state: they are set once here, around the whole parallel section, never inside the worker threads."""
    items = list(items)
    workers = n_workers(n_jobs, len(items))
    with _quiet():
        if workers == 1:
            return [fn(x) for x in items]
        from joblib import Parallel, delayed
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            return Parallel(n_jobs=workers, prefer="threads")(delayed(fn)(x) for x in items)


def check_solver(solver: str, name: str = "solver") -> str:
    return check(solver, name, Options(LOGISTIC_SOLVERS))


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


# ---- fast DCI: the histogram trees, read through scikit-learn's private internals ---------------------
# HistGradientBoostingClassifier has no public view of its trees, so the fast path reads `_predictors`
# (TreePredictor objects with a structured `nodes` array), `_bin_mapper` and `_baseline_prediction`. The form
# is checked before use (check_internals); a model that does not pass, or whose replayed scores disagree with
# its public decision_function, raises InternalsMismatch, and the caller falls back to the public API
# (never a wrong number). pyproject.toml pins the same tested range.
SKLEARN_TESTED = ">=1.3,<1.10"
_NODE_FIELDS = ("value", "feature_idx", "num_threshold", "missing_go_to_left", "left", "right", "depth",
                "is_leaf", "bin_threshold", "is_categorical")


class InternalsMismatch(Exception):
    """The fitted model's private internals are not the form the fast DCI path reads."""


def _sklearn_version() -> str:
    import sklearn

    return sklearn.__version__


def check_internals(model) -> None:
    """Raises :class:`InternalsMismatch` (with the reason) unless ``model``, a fitted
    ``HistGradientBoostingClassifier``, has the internals the compiled replay reads: ``_predictors`` a list
    of stages of ``n_trees_per_iteration_`` trees, each with a structured ``nodes`` array holding
    ``_NODE_FIELDS``; a ``_bin_mapper`` with ``transform`` and an integer ``missing_values_bin_idx_`` in
    0..255; a ``_baseline_prediction`` of one value per tree of a stage; no categorical split."""
    def fail(why):
        raise InternalsMismatch(f"{why} (scikit-learn {_sklearn_version()}; tested {SKLEARN_TESTED})")

    stages = getattr(model, "_predictors", None)
    k = getattr(model, "n_trees_per_iteration_", None)
    if not isinstance(stages, list) or not stages or not isinstance(k, int | np.integer) or k < 1:
        fail("no list of fitted stages in `_predictors`")
    for stage in stages:
        if not isinstance(stage, list | tuple) or len(stage) != k:
            fail(f"a stage of `_predictors` does not hold {k} trees")
        for tree in stage:
            nodes = getattr(tree, "nodes", None)
            names = getattr(getattr(nodes, "dtype", None), "names", None) or ()
            if not isinstance(nodes, np.ndarray) or nodes.ndim != 1 or len(nodes) == 0:
                fail("a tree has no 1-d `nodes` array")
            lacking = [f for f in _NODE_FIELDS if f not in names]
            if lacking:
                fail(f"tree nodes lack the fields {lacking}")
            if nodes["is_categorical"].any():
                fail("a tree has categorical splits, which the replay does not read")
    mapper = getattr(model, "_bin_mapper", None)
    missing = getattr(mapper, "missing_values_bin_idx_", None)
    if not callable(getattr(mapper, "transform", None)) or not isinstance(missing, int | np.integer) \
            or not 0 <= int(missing) <= 255:
        fail("no `_bin_mapper` with `transform` and a uint8 `missing_values_bin_idx_`")
    base = np.asarray(getattr(model, "_baseline_prediction", None), dtype=object)
    if base.size != k:
        fail(f"`_baseline_prediction` does not hold {k} values")


def _forest_tables(model):
    """Every tree's node table of a fitted HGB classifier, concatenated for :func:`pydisent.ops.trees.gbt_replay`
    (child indices made global); raises :class:`InternalsMismatch` where the internals differ."""
    check_internals(model)
    trees = [t for stage in model._predictors for t in stage]
    nodes = np.concatenate([t.nodes for t in trees])
    sizes = np.array([len(t.nodes) for t in trees], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    shift = np.repeat(offsets[:-1], sizes)
    leaf = nodes["is_leaf"].astype(bool)

    def child(name):
        return np.where(leaf, 0, nodes[name].astype(np.int64) + shift).astype(np.int32)

    return {"feature": np.where(leaf, 0, nodes["feature_idx"]).astype(np.int32),
            "threshold": nodes["bin_threshold"].astype(np.uint8),
            "missing_left": nodes["missing_go_to_left"].astype(np.uint8),
            "left": child("left"), "right": child("right"), "is_leaf": leaf.astype(np.uint8),
            "value": nodes["value"].astype(np.float64), "offsets": offsets,
            "baseline": np.asarray(model._baseline_prediction, dtype=np.float64).reshape(-1),
            "missing_bin": int(model._bin_mapper.missing_values_bin_idx_)}


def _binned(model, x: np.ndarray) -> np.ndarray:
    xb = np.asarray(model._bin_mapper.transform(np.ascontiguousarray(x, np.float64)))
    if xb.dtype != np.uint8 or xb.shape != np.shape(x):
        raise InternalsMismatch(f"`_bin_mapper.transform` gave {xb.dtype} {xb.shape}, expected uint8 "
                                f"{np.shape(x)} (scikit-learn {_sklearn_version()}; tested {SKLEARN_TESTED})")
    return xb


def _walk_leaves(nodes, x: np.ndarray) -> np.ndarray:
    """Leaf index of every row of ``x`` (unbinned) in one tree, by numpy (the reference walk)."""
    node = np.zeros(len(x), dtype=np.int64)
    rows = np.arange(len(x))
    leaf = nodes["is_leaf"].astype(bool)
    for _ in range(int(nodes["depth"].max())):
        inner = ~leaf[node]
        if not inner.any():
            break
        go_left = x[rows, nodes["feature_idx"][node].astype(np.int64)] <= nodes["num_threshold"][node]
        node = np.where(inner, np.where(go_left, nodes["left"][node], nodes["right"][node]), node).astype(np.int64)
    return node


def gbt_replay(model, x: np.ndarray, classes_idx: np.ndarray | None = None, tables=None):
    """Raw scores ``(n, K)`` of a fitted ``HistGradientBoostingClassifier`` on the rows of ``x`` (what
    ``model.decision_function`` gives, up to summation order) and, given ``classes_idx`` (each row's class as
    an index into ``model.classes_``), the unnormalised gradient-SSE importance ``(F,)`` of
    :func:`gradient_importance`: the compiled replay :func:`pydisent.ops.trees.gbt_replay` on the model's
    node tables. Raises :class:`InternalsMismatch` where the internals are not the expected form."""
    from pydisent.ops.trees import gbt_replay as replay

    tables = tables if tables is not None else _forest_tables(model)
    return replay(_binned(model, x), tables, tables["missing_bin"], classes_idx)


def gradient_importance(model, x: np.ndarray, y: np.ndarray, *, return_raw: bool = False, compiled: bool = True,
                        tables=None):
    """``GradientBoostingClassifier.feature_importances_``'s definition evaluated on the trees of a fitted
    ``HistGradientBoostingClassifier``.

    For every tree: the decrease, over each split, of the squared error of the negative log-loss gradients the
    tree was fit to (``y_k - p_k`` at that stage, unit weights), summed per feature over all trees and normalised
    to sum 1. HGB's own split gains weight points by the loss's Hessian, which moves importance onto noise
    features (about -0.04 on DCI disentanglement of near-perfect codes); with this definition the two estimators
    differ only through the trees' structure. ``return_raw=True`` also returns the replayed raw predictions
    ``(n, K)`` of the rows of ``x``, which spares the caller a second pass over every tree to predict the
    training points. ``compiled=True`` replays in C++ (:func:`gbt_replay`); ``False`` walks the trees in
    numpy on the unbinned rows, the reference the tests compare it with. The replayed scores of a few rows are
    checked against the model's public ``decision_function``; a model whose internals are not the expected
    form, or whose replay disagrees, raises :class:`InternalsMismatch`. ``tables`` are the model's
    :func:`_forest_tables` when the caller already has them."""
    x = np.asarray(x, dtype=np.float64)
    if not np.isfinite(x).all():
        raise ValueError("gradient_importance needs finite codes")
    classes = np.asarray(model.classes_)
    yi = np.searchsorted(classes, y)
    if compiled:
        raw, imp = gbt_replay(model, x, yi, tables)
        return _checked_importance(model, x, raw, imp, return_raw)
    check_internals(model)
    n, num_features = x.shape
    k_trees = model.n_trees_per_iteration_
    raw = np.repeat(np.asarray(model._baseline_prediction, dtype=np.float64).reshape(1, -1), n, axis=0)
    target = (yi[:, None] == np.arange(k_trees)[None, :]) if k_trees > 1 else (yi[:, None] == 1)
    imp = np.zeros(num_features, dtype=np.float64)
    for stage in model._predictors:
        if k_trees == 1:
            resid = (target[:, 0] - 1.0 / (1.0 + np.exp(-raw[:, 0])))[None, :]
        else:
            p = np.exp(raw - raw.max(axis=1, keepdims=True))
            resid = np.ascontiguousarray((target - p / p.sum(axis=1, keepdims=True)).T)  # (K, n)
        # every tree of the stage in one node table, indices made global
        sizes = np.array([len(t.nodes) for t in stage])
        offset = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        nodes = np.concatenate([t.nodes for t in stage])
        m = len(nodes)
        shift = np.repeat(offset, sizes)
        leaf = np.empty((len(stage), n), dtype=np.int64)  # (K, n) global leaf index of every row
        for k, t in enumerate(stage):
            leaf[k] = _walk_leaves(t.nodes, x)
        leaf += offset[:, None]
        flat = leaf.ravel()
        sums = np.stack([np.bincount(flat, minlength=m).astype(np.float64),
                         np.bincount(flat, weights=resid.ravel(), minlength=m),
                         np.bincount(flat, weights=(resid * resid).ravel(), minlength=m)])
        split = np.flatnonzero(nodes["is_leaf"] == 0)
        left = nodes["left"][split].astype(np.int64) + shift[split]
        right = nodes["right"][split].astype(np.int64) + shift[split]
        # children before parents: add every node's totals into its parent, deepest level first
        parent = np.zeros(m, dtype=np.int64)
        parent[left], parent[right] = split, split
        depth = nodes["depth"].astype(np.int64)
        for d in range(int(depth.max()), 0, -1):
            at = np.flatnonzero(depth == d)
            np.add.at(sums, (slice(None), parent[at]), sums[:, at])
        cnt, s1, s2 = sums
        sse = s2 - np.divide(s1 * s1, cnt, out=np.zeros(m), where=cnt > 0)
        dec = sse[split] - sse[left] - sse[right]
        np.add.at(imp, nodes["feature_idx"][split].astype(np.int64), np.maximum(dec, 0.0))
        raw += nodes["value"][leaf].T
    return _checked_importance(model, x, raw, imp, return_raw)


def _checked_importance(model, x, raw, imp, return_raw):
    """Normalises the importance after checking the replayed scores of a few rows against the model's own
    (public ``decision_function``)."""
    check = slice(0, min(len(x), 32))
    own = np.asarray(model.decision_function(x[check]), dtype=np.float64).reshape(raw[check].shape)
    if not np.allclose(raw[check], own, rtol=1e-6, atol=1e-6):
        raise InternalsMismatch(f"replayed predictions differ from the model's decision_function (scikit-learn "
                                f"{_sklearn_version()}; tested {SKLEARN_TESTED})")
    total = imp.sum()
    imp = imp / total if total > 0 else imp
    return (imp, raw) if return_raw else imp


def predict_from_raw(model, raw: np.ndarray) -> np.ndarray:
    """``HistGradientBoostingClassifier.predict`` from raw predictions ``(n, K)``: the class of the largest
    score (first on ties), or for two classes ``classes_[1]`` where the score is positive."""
    classes = np.asarray(model.classes_)
    if raw.shape[1] == 1:
        return classes[(raw[:, 0] > 0).astype(np.int64)]
    return classes[np.argmax(raw, axis=1)]


class ConstantClassifier:
    """Predicts the one class seen in training (used where a small training set holds a single class)."""

    def __init__(self, value):
        self.value = value

    def predict(self, x):
        return np.full(len(x), self.value)
