"""BetaVAE score (Higgins et al. 2017), as disentanglement_lib's ``beta_vae_sklearn`` computes it."""

from __future__ import annotations

import numpy as np
import torch

from pydisent._rng import randint
from pydisent._validation import as_tensor
from pydisent.metrics._arrays import as_codes, check_positive_int, seed_from, to_numpy
from pydisent.metrics._encode import encode_factors
from pydisent.metrics._estimators import _quiet, check_solver, logistic_regression
from pydisent.metrics._registry import register
from pydisent.metrics._sampling import EncodeBuffer, reference_order
from pydisent.metrics._scaling import linear_guard


def pair_features(pair_codes) -> torch.Tensor:
    """``mean_b |z1_b - z2_b|`` per point: ``(n, 2, B, Z) -> (n, Z)`` float64."""
    t = pair_codes.to(torch.float64)
    return (t[:, 0] - t[:, 1]).abs().mean(dim=1)


def _features(x, name: str) -> torch.Tensor:
    t = as_tensor(x, name)
    if t.dim() == 4:
        if t.shape[1] != 2 or t.shape[2] < 1:
            raise ValueError(f"argument '{name}' must have shape (n, 2, batch, num_codes) (pairs of batches) or "
                             f"(n, num_codes) (features), got {tuple(t.shape)}")
        flat = as_codes(t.reshape(-1, t.shape[-1]), name)
        return pair_features(flat.reshape(t.shape))
    if t.dim() == 2:
        return as_codes(t, name).to(torch.float64)
    raise ValueError(f"argument '{name}' must have shape (n, 2, batch, num_codes) or (n, num_codes), "
                     f"got {tuple(t.shape)}")


def _labels(y, name: str, n: int) -> np.ndarray:
    a = np.asarray(y.detach().cpu() if isinstance(y, torch.Tensor) else y)
    if a.ndim != 1 or a.shape[0] != n:
        raise ValueError(f"argument '{name}' must have shape ({n},), got {a.shape}")
    if a.dtype.kind not in "iu":
        raise TypeError(f"argument '{name}' must hold integer factor indices, got dtype {a.dtype}")
    return a.astype(np.int64)


def _fit_score(xtr, ytr, xev, yev, solver, seed) -> dict:
    if len(np.unique(ytr)) < 2:
        raise ValueError("argument 'train_labels' holds a single factor index; the classifier needs >= 2 "
                         "(use more training points or a dataset with >= 2 factors)")
    model = logistic_regression(solver, seed)
    with _quiet():
        model.fit(xtr, ytr)
    return {"train_accuracy": float(np.mean(model.predict(xtr) == ytr)),
            "eval_accuracy": float(np.mean(model.predict(xev) == yev))}


def beta_vae(train_codes, train_labels, eval_codes, eval_labels, *, solver: str = "liblinear",
             random_state=0) -> dict:
    """BetaVAE score: accuracy of a linear classifier predicting which factor was held fixed.

    One point: a factor ``k`` is drawn, two batches of ``B`` factor vectors share the value of ``k``
    (everything else random); the feature is ``mean_b |r(x1_b) - r(x2_b)|`` (a ``Z``-vector) and the label
    is ``k``. A ``LogisticRegression`` on the raw features is fit on the training points;
    ``train_accuracy`` and ``eval_accuracy`` are its accuracies. Chance level is ``1 / F``. The classifier
    is regularised (C = 1) and sees the raw features, so the score depends on the scale of the codes by
    definition; features beyond 2**96 are scaled down to it, where the large-scale limit is reached
    (liblinear refuses input above 1e30).

    Args:
        train_codes: ``(n, 2, B, Z)`` codes of the two batches of each training point, or the features
            ``(n, Z)`` already reduced.
        train_labels: ``(n,)`` factor index of each point.
        eval_codes, eval_labels: the same for the evaluation points.
        solver: ``"liblinear"`` (default): one-vs-rest liblinear, scikit-learn < 0.22's
            ``LogisticRegression()``, which produced the published disentanglement_lib numbers;
            ``"lbfgs"``: the multinomial lbfgs model of scikit-learn >= 0.22 (what disentanglement_lib's
            code computes when run today). disent has no BetaVAE score.
        random_state: seed of the classifier (liblinear's primal solver is deterministic anyway).

    Returns:
        ``{"train_accuracy", "eval_accuracy"}``.

    Reference: Higgins et al., "beta-VAE: Learning Basic Visual Concepts with a Constrained Variational
    Framework", ICLR 2017; disentanglement_lib ``evaluation/metrics/beta_vae.py`` (defaults batch 64,
    10000 train / 5000 eval points).
    """
    check_solver(solver)
    xtr = to_numpy(_features(train_codes, "train_codes"))
    xev = to_numpy(_features(eval_codes, "eval_codes"))
    if xtr.shape[1] != xev.shape[1]:
        raise ValueError(f"arguments 'train_codes' and 'eval_codes' have {xtr.shape[1]} and {xev.shape[1]} code "
                         f"dimensions")
    # a logistic regression on the raw features is scale-dependent by definition (its regularisation);
    # features beyond 2**96 come down to it, where the score has reached its large-scale limit
    xtr, xev = linear_guard(xtr, xev)
    ytr = _labels(train_labels, "train_labels", xtr.shape[0])
    yev = _labels(eval_labels, "eval_labels", xev.shape[0])
    return _fit_score(xtr, ytr, xev, yev, solver, seed_from(random_state))


def sample_pair_features(source, encoder, rng, num_points: int, batch_size: int):
    """Labels ``(n,)`` and features ``(n, Z)`` of ``num_points`` BetaVAE points."""
    F = source.num_factors
    if reference_order(source):
        buf = EncodeBuffer(encoder)
        labels = np.empty(num_points, dtype=np.int64)
        for i in range(num_points):
            k = int(randint(rng, F))
            f1 = source.sample_factors(batch_size, rng)
            f2 = source.sample_factors(batch_size, rng)
            f2[:, k] = f1[:, k]
            labels[i] = k
            buf.add(source.observations(f1, rng))
            buf.add(source.observations(f2, rng))
        codes = buf.result()
        return labels, pair_features(codes.reshape(num_points, 2, batch_size, -1))
    labels = randint(rng, F, size=num_points)
    f1 = source.sample_factors(num_points * batch_size, rng).reshape(num_points, batch_size, F)
    f2 = source.sample_factors(num_points * batch_size, rng).reshape(num_points, batch_size, F)
    rows = np.arange(num_points)
    f2[rows, :, labels] = f1[rows, :, labels]
    per_chunk = max(1, encoder.batch_size // (2 * batch_size))  # one render + encoder call per chunk
    feats = []
    for i in range(0, num_points, per_chunk):
        a, b = f1[i : i + per_chunk], f2[i : i + per_chunk]
        m = len(a)
        pair = np.stack([a, b], axis=1).reshape(-1, F)  # (m, 2, B, F) flattened: one render/encode pass
        codes = encode_factors(source, encoder, pair, rng, chunk=len(pair))
        feats.append(pair_features(codes.reshape(m, 2, batch_size, -1)))
    return labels, torch.cat(feats)


@register("beta_vae", beta_vae, headline=('eval_accuracy',))
def evaluate_beta_vae(source, encoder, rng, *, batch_size: int = 64, num_train: int = 10000, num_eval: int = 5000,
                      solver: str = "liblinear", fast: bool = False) -> dict:
    """BetaVAE score on ``num_train``/``num_eval`` points of two ``batch_size`` batches (reference defaults)."""
    check_solver(solver)
    batch_size = check_positive_int(batch_size, "batch_size")
    num_train = check_positive_int(num_train, "num_train", 2)
    num_eval = check_positive_int(num_eval, "num_eval")
    ytr, xtr = sample_pair_features(source, encoder, rng, num_train, batch_size)
    # The reference hands its RandomState to LogisticRegression; liblinear draws one seed from it while
    # fitting, before the evaluation points are sampled. Mirror that draw so the streams stay aligned.
    seed = seed_from(rng) if solver == "liblinear" else 0
    xtr_np = to_numpy(xtr)
    if len(np.unique(ytr)) < 2:
        raise ValueError("argument 'num_train': the sampled training points hold a single factor index; use more "
                         "points or a dataset with >= 2 factors")
    yev, xev = sample_pair_features(source, encoder, rng, num_eval, batch_size)
    return _fit_score(xtr_np, ytr, to_numpy(xev), yev, solver, seed)
