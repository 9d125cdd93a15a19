"""SAP score (Kumar et al. 2018), as disentanglement_lib computes it."""

from __future__ import annotations

import numpy as np
import torch

from pydisent.metrics._arrays import check_positive_int, check_two_classes, to_numpy, train_test
from pydisent.metrics._estimators import parallel_map
from pydisent.metrics._linear_svc import linear_svc_accuracy
from pydisent.metrics._registry import register
from pydisent.metrics._sampling import sample_codes_factors
from pydisent.metrics._scaling import column_guard_torch, linear_guard_torch


def _svc_pair(args):
    from sklearn.svm import LinearSVC

    x, y, xt, yt, C = args
    clf = LinearSVC(C=C, class_weight="balanced").fit(x[:, None], y)
    return float(np.mean(clf.predict(xt[:, None]) == yt))


def _exponent_shift(raw: torch.Tensor, scaled: torch.Tensor) -> torch.Tensor:
    """Per column, the power of two ``k`` with ``scaled = raw * 2**k`` (0 for all-zero columns)."""
    _, e_raw = torch.frexp(raw.abs().amax(dim=0))
    _, e_new = torch.frexp(scaled.abs().amax(dim=0))
    return (e_new - e_raw).to(torch.float64)


def sap_matrix(codes, factors, codes_test, factors_test, *, continuous_factors: bool = False, fast: bool = False,
               C: float = 0.01, n_jobs=None) -> torch.Tensor:
    """SAP score matrix ``S`` ``(Z, F)``; see :func:`sap`. Arguments are checked tensors."""
    if continuous_factors:
        raw = codes.to(torch.float64)
        # correlations are scale-free: extreme codes are moved by a power of two per column (exact) before
        # their squares overflow; the reference's variance threshold (1e-12) still applies to the raw codes
        x = column_guard_torch(raw)
        shift = torch.zeros(x.shape[1], dtype=torch.float64) if x is raw else _exponent_shift(raw, x)
        y = factors.to(torch.float64)
        xc = x - x.mean(dim=0)
        yc = y - y.mean(dim=0)
        n = x.shape[0]
        var_x = (xc * xc).sum(dim=0) / (n - 1)
        var_y = (yc * yc).sum(dim=0) / (n - 1)
        if bool((var_y == 0).any()):
            k = int(torch.nonzero(var_y == 0)[0])
            raise ValueError(f"argument 'factors': factor {k} is constant; its squared correlation is undefined")
        cov = xc.t() @ yc / (n - 1)
        s = cov * cov / (var_x[:, None] * var_y[None, :])
        threshold = torch.ldexp(torch.full_like(var_x, 1e-12), 2 * shift.to(var_x.device))  # 1e-12 in x's scale
        return torch.where(var_x[:, None] > threshold[:, None], s, torch.zeros_like(s))
    # LinearSVC on the raw codes is scale-dependent by definition (C = 0.01): no standardising; columns
    # beyond 2**96 are brought down to it, where the score has long reached its large-scale limit and
    # liblinear cannot loop (it never returned at 1e77)
    codes, codes_test = linear_guard_torch(codes, codes_test)
    if fast:  # (linear_svc_accuracy raises the same error for a single-valued factor)
        return linear_svc_accuracy(codes, factors, codes_test, factors_test, C=C)
    check_two_classes(factors)
    x, y, xt, yt = (to_numpy(codes, np.float64), to_numpy(factors), to_numpy(codes_test, np.float64),
                    to_numpy(factors_test))
    Z, F = x.shape[1], y.shape[1]
    acc = parallel_map(_svc_pair, [(x[:, i], y[:, j], xt[:, i], yt[:, j], C) for i in range(Z) for j in range(F)],
                       n_jobs)
    return torch.tensor(acc, dtype=torch.float64).view(Z, F)


def sap(codes, factors, codes_test=None, factors_test=None, *, train_fraction: float = 2 / 3,
        continuous_factors: bool = False, fast: bool = False, n_jobs=None) -> dict:
    """Separated Attribute Predictability.

    Score matrix ``S[i, j]``: discrete factors (default) — test accuracy of ``LinearSVC(C=0.01,
    class_weight="balanced")`` trained on the single raw code ``i`` to predict factor ``j``; continuous
    factors — squared Pearson correlation of code ``i`` and factor ``j`` on the training points (0 where the
    code's variance is <= 1e-12). ``SAP = mean_j (largest - second largest of S[:, j])``.

    A one-dimensional one-vs-rest linear classifier cannot isolate the middle values of a many-valued factor,
    and ``C=0.01`` on unscaled codes makes the score scale-dependent: even a perfect code scores far below 1
    (both as in the reference). Codes beyond 2**96 are scaled down to it (a power of two per code): the score
    has reached its large-scale limit long before (it agrees at 1e10 and 1e76), and liblinear never returns
    near 1e77. The continuous score is scale-free (extreme codes are rescaled exactly) except for the
    reference's absolute variance threshold.

    Args:
        codes, factors: training points; codes_test, factors_test: test points (default: split by
            ``train_fraction``, unshuffled; reference sizes 10000 / 5000).
        continuous_factors: use the squared-correlation matrix (reference gin default ``False``).
        fast: ``False``: scikit-learn ``LinearSVC`` for each (code, factor) pair, in parallel threads.
            ``True``: the same objective solved to optimality for all pairs in one batch of torch Newton
            steps (see ``_linear_svc``); liblinear stops at a 1e-4 relative gradient, so per-pair accuracies
            can differ for test points within that tolerance of a decision boundary (measured on 20 seeded
            synthetic cases: equal SAP on 19, one test prediction apart (6.7e-4) on one; see the README).
        n_jobs: threads for the scikit-learn fits (default: every core).

    Returns:
        ``{"SAP_score": float}``.

    Reference: Kumar, Sattigeri, Balakrishnan, "Variational Inference of Disentangled Latent Concepts from
    Unlabeled Observations", ICLR 2018; disentanglement_lib ``evaluation/metrics/sap_score.py``.
    """
    c, f, ct, ft = train_test(codes, factors, codes_test, factors_test, train_fraction, min_dims=2)
    s = sap_matrix(c, f, ct, ft, continuous_factors=continuous_factors, fast=fast, n_jobs=n_jobs)
    top = torch.topk(s, 2, dim=0).values
    return {"SAP_score": float((top[0] - top[1]).mean())}


@register("sap", sap, headline=('SAP_score',), fast=True)
def evaluate_sap(source, encoder, rng, *, num_train: int = 10000, num_test: int = 5000, batch_size: int = 16,
                 continuous_factors: bool = False, fast: bool = False, n_jobs=None) -> dict:
    """SAP on ``num_train`` / ``num_test`` points (reference defaults 10000 / 5000, discrete factors)."""
    num_train = check_positive_int(num_train, "num_train", 2)
    num_test = check_positive_int(num_test, "num_test")
    batch_size = check_positive_int(batch_size, "batch_size")
    c, f = sample_codes_factors(source, encoder, num_train, rng, batch_size)
    ct, ft = sample_codes_factors(source, encoder, num_test, rng, batch_size)
    return sap(c, f, ct, ft, continuous_factors=continuous_factors, fast=fast, n_jobs=n_jobs)
