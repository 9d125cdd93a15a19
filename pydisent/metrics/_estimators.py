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


def _leaf_finder(model, x: np.ndarray):
    """``leaves(tree) -> (n,) int64`` leaf index of every row of ``x`` in one HGB predictor tree, using
    scikit-learn's compiled predictor on a copy of the tree whose leaf values are the leaf indices; None if this
    scikit-learn version's internals differ (the caller then walks the trees in numpy)."""
    try:
        from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor

        # the training rows, binned as during the fit: integer comparisons with the trees' bin thresholds give
        # exactly the leaves the fit used
        xb = model._bin_mapper.transform(np.ascontiguousarray(x, dtype=np.float64))
        missing_bin = model._bin_mapper.missing_values_bin_idx_

        def leaves(tree):
            nodes = tree.nodes.copy()
            nodes["value"] = np.arange(len(nodes), dtype=np.float64)
            pred = TreePredictor(nodes, tree.binned_left_cat_bitsets, tree.raw_left_cat_bitsets)
            return pred.predict_binned(xb, missing_bin, 1).astype(np.int64)

        leaves(model._predictors[0][0])
        return leaves
    except Exception:  # pragma: no cover - depends on the installed scikit-learn
        return None


def _walk_leaves(nodes, x: np.ndarray) -> np.ndarray:
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


def _forest_tables(model):
    """Every tree's node table of a fitted HGB classifier, concatenated for ``_C.gbt_replay_cpu`` (child
    indices made global), or None where this scikit-learn version lays its trees out differently or a tree
    has categorical splits (the caller then replays in numpy)."""
    try:
        trees = [t for stage in model._predictors for t in stage]
        nodes = np.concatenate([t.nodes for t in trees])
        if nodes["is_categorical"].any():
            return None
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
    except (AttributeError, KeyError, ValueError):  # pragma: no cover - depends on the installed scikit-learn
        return None


def gbt_replay(model, x: np.ndarray, classes_idx: np.ndarray | None = None, tables=None):
    """Raw scores ``(n, K)`` of a fitted ``HistGradientBoostingClassifier`` on the rows of ``x`` (what
    ``model._raw_predict`` gives, up to summation order) and, given ``classes_idx`` (each row's class as an
    index into ``model.classes_``), the unnormalised gradient-SSE importance ``(F,)`` of
    :func:`gradient_importance`; replayed by the compiled ``_C.gbt_replay_cpu`` (one pass over every tree,
    OpenMP across the trees of a stage). None where the trees' layout is not the expected one."""
    import torch

    from pydisent import _C
    from pydisent._dispatch import ref

    tables = tables if tables is not None else _forest_tables(model)
    if tables is None:
        return None
    xb = torch.from_numpy(np.ascontiguousarray(model._bin_mapper.transform(np.ascontiguousarray(x, np.float64))))
    n, num_features = xb.shape
    k = tables["baseline"].size
    raw = torch.empty((n, k), dtype=torch.float64)
    t = {name: torch.from_numpy(np.ascontiguousarray(v)) for name, v in tables.items() if name != "missing_bin"}
    targets = importance = None
    if classes_idx is not None:
        targets = ref(torch.from_numpy(np.ascontiguousarray(classes_idx, dtype=np.int64)))
        importance = torch.empty(num_features, dtype=torch.float64)
    _C.gbt_replay_cpu(ref(xb), ref(t["feature"]), ref(t["threshold"]), ref(t["missing_left"]), ref(t["left"]),
                      ref(t["right"]), ref(t["is_leaf"]), ref(t["value"]), ref(t["offsets"]), ref(t["baseline"]),
                      tables["missing_bin"], targets, ref(raw), None if importance is None else ref(importance))
    return raw.numpy(), None if importance is None else importance.numpy()


def gradient_importance(model, x: np.ndarray, y: np.ndarray, *, return_raw: bool = False, compiled: bool = True,
                        tables=None):
    """``GradientBoostingClassifier.feature_importances_``'s definition evaluated on the trees of a fitted
    ``HistGradientBoostingClassifier``.

    For every tree: the decrease, over each split, of the squared error of the negative log-loss gradients the
    tree was fit to (``y_k - p_k`` at that stage, unit weights), summed per feature over all trees and normalised
    to sum 1. HGB's own split gains weight points by the loss's Hessian, which moves importance onto noise
    features (about -0.04 on DCI disentanglement of near-perfect codes); with this definition the two estimators
    differ only through the trees' structure. The stage-wise predictions are replayed from the stored trees (leaf
    of every row from the compiled predictor; node sums gathered from the leaves up) and checked against the
    model's own. ``return_raw=True`` also returns those replayed raw predictions ``(n, K)`` of the rows of ``x``
    (what ``model._raw_predict(x)`` gives, up to summation order), which spares the caller a second pass
    over every tree to predict the training points. ``compiled=True`` replays in C++ (:func:`gbt_replay`);
    ``False`` (or trees laid out unexpectedly) replays in numpy, the reference the tests compare it with;
    ``tables`` are the model's :func:`_forest_tables` when the caller already has them."""
    x = np.asarray(x, dtype=np.float64)
    if not np.isfinite(x).all():
        raise ValueError("gradient_importance needs finite codes")
    classes = np.asarray(model.classes_)
    yi = np.searchsorted(classes, y)
    replayed = gbt_replay(model, x, yi, tables) if compiled else None
    if replayed is not None:
        raw, imp = replayed
        return _checked_importance(model, x, raw, imp, return_raw)
    n, num_features = x.shape
    k_trees = model.n_trees_per_iteration_
    raw = np.repeat(np.asarray(model._baseline_prediction, dtype=np.float64).reshape(1, -1), n, axis=0)
    target = (yi[:, None] == np.arange(k_trees)[None, :]) if k_trees > 1 else (yi[:, None] == 1)
    leaves_of = _leaf_finder(model, x) or (lambda tree: _walk_leaves(tree.nodes, x))
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
            leaf[k] = leaves_of(t)
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
    """Normalises the importance after checking the replayed scores of a few rows against the model's own."""
    check = slice(0, min(len(x), 32))
    if not np.allclose(raw[check], model._raw_predict(x[check]), rtol=1e-6, atol=1e-6):
        raise RuntimeError("gradient_importance: replayed predictions differ from the model's; this scikit-learn "
                           "version stores its trees differently")
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
