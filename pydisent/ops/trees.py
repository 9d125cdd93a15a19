"""Replay of a boosted tree ensemble on binned rows: the Python face of ``csrc/trees``.

The fast DCI path (:func:`pydisent.metrics.dci` with ``fast=True``) fits scikit-learn's
``HistGradientBoostingClassifier`` and needs, besides its predictions, an importance the library does
not provide: ``GradientBoostingClassifier.feature_importances_``'s definition (the decrease, over each
split, of the squared error of the negative log-loss gradients the tree was fit to, summed per feature;
Friedman 2001, section 8.1) evaluated on the histogram trees. :func:`gbt_replay` walks every tree of every
stage once, in C++, and returns the raw scores and that (unnormalised) importance.

This module knows node tables (plain arrays), not scikit-learn: the metric's adapter
(``pydisent/metrics/_estimators.py``) extracts them from a fitted model and checks them; its numpy replay on
the unbinned codes is the reference the tests compare this kernel with.
"""

from __future__ import annotations

import numpy as np
import torch

from pydisent import _C
from pydisent._dispatch import ref

__all__ = ["TREE_FIELDS", "gbt_replay"]

#: the node-table arrays :func:`gbt_replay` takes (dtype; one entry per node of every tree, trees of a
#: stage consecutive, stages in order), plus "offsets" (int64, trees + 1: tree t spans
#: [offsets[t], offsets[t + 1])) and "baseline" (float64, trees per stage K)
TREE_FIELDS = {
    "feature": np.int32,       # split feature (0 for leaves)
    "threshold": np.uint8,     # go left when the row's bin <= threshold
    "missing_left": np.uint8,  # where the missing-value bin goes
    "left": np.int32,          # global index of the left child (0 for leaves)
    "right": np.int32,
    "is_leaf": np.uint8,
    "value": np.float64,       # leaf value (learning rate applied)
}


def gbt_replay(binned, tables: dict, missing_bin: int, targets=None):
    """Raw scores ``(n, K)`` of a boosted ensemble on binned rows and, given every row's class, the
    gradient-SSE importance ``(F,)`` of the features.

    ``raw[i] = baseline + sum over stages s of value[leaf_s,k(i)]`` for the K trees per stage (softmax
    classes; K = 1 for a binary log-loss, sigmoid). With ``targets`` (class index per row, ``0..K-1``, or
    0/1 for K = 1), before stage s every row has the residual ``r = y_k - p_k`` of its current scores, and
    every split contributes ``max(SSE(node) - SSE(left) - SSE(right), 0)`` to its feature, where SSE is the
    sum of squared deviations of ``r`` over the rows reaching the node.

    Args:
        binned: ``(n, F)`` uint8 rows, as the model's bin mapper encodes them.
        tables: the arrays of :data:`TREE_FIELDS`, ``"offsets"`` and ``"baseline"``.
        missing_bin: the bin index of missing values (``0..255``).
        targets: optional ``(n,)`` integer class indices.

    Returns:
        ``(raw, importance)``: float64 numpy arrays; ``importance`` is None without ``targets``.
    """
    xb = torch.from_numpy(np.ascontiguousarray(binned, dtype=np.uint8))
    if xb.dim() != 2:
        raise ValueError(f"argument 'binned' must have shape (n, F), got {tuple(xb.shape)}")
    missing = set(TREE_FIELDS) | {"offsets", "baseline"}
    missing -= set(tables)
    if missing:
        raise ValueError(f"argument 'tables' lacks {sorted(missing)}")
    n, num_features = xb.shape
    t = {name: torch.from_numpy(np.ascontiguousarray(tables[name], dtype=dtype)) for name, dtype in TREE_FIELDS.items()}
    offsets = torch.from_numpy(np.ascontiguousarray(tables["offsets"], dtype=np.int64))
    baseline = torch.from_numpy(np.ascontiguousarray(tables["baseline"], dtype=np.float64).reshape(-1))
    raw = torch.empty((n, baseline.numel()), dtype=torch.float64)
    y = importance = None
    if targets is not None:
        y = ref(torch.from_numpy(np.ascontiguousarray(targets, dtype=np.int64)))
        importance = torch.empty(num_features, dtype=torch.float64)
    _C.gbt_replay_cpu(ref(xb), ref(t["feature"]), ref(t["threshold"]), ref(t["missing_left"]), ref(t["left"]),
                      ref(t["right"]), ref(t["is_leaf"]), ref(t["value"]), ref(offsets), ref(baseline),
                      int(missing_bin), y, ref(raw), None if importance is None else ref(importance))
    return raw.numpy(), None if importance is None else importance.numpy()
