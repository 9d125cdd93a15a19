"""beta-TCVAE (Chen, Li, Grosse & Duvenaud 2018, "Isolating Sources of Disentanglement in VAEs").

The KL term decomposes (``n`` the data index, ``q(z) = 1/N sum_n q(z|n)`` the aggregate posterior):

    E_x KL(q(z|x) || p(z)) = MI + TC + DWKL
    MI   = E_q(z,n)[log q(z|n) - log q(z)]                (index-code mutual information)
    TC   = E_q(z)[log q(z) - sum_j log q(z_j)]             (total correlation)
    DWKL = E_q(z)[sum_j log q(z_j) - log p(z_j)]           (dimension-wise KL)

    L = rec + alpha MI + beta TC + gamma DWKL

Each expectation is estimated on the minibatch with the sampled ``z_i`` of each ``x_i``;
``log q(z_i)`` and ``log q(z_ij)`` need a minibatch estimator of the aggregate posterior:

* ``"mws"`` minibatch-weighted sampling: ``log q(z_i) ~ logsumexp_k log q(z_i|x_k) - log(N M)``,
  the same for each ``log q(z_ij)`` (M the batch size, N the dataset size);
* ``"mss"`` minibatch-stratified sampling (Chen et al. appendix C.2): ``log q(z_i) ~
  logsumexp_k [log W_ik + log q(z_i|x_k)]`` with the importance weight matrix ``W``: ``1/N`` on
  the diagonal (the sample's own ``x_i``), ``(N - M') / (N M')`` at ``(i, i+1 mod M)``, ``1/M'``
  elsewhere (``M' = M - 1``); each row sums to 1. (The matrix of the original code and of
  disentangling-vae / pythae writes the weights through a flat stride that lands them in columns
  0 and 1, rows not summing to 1 (disentangling-vae #58); and disentangling-vae adds ``log W``
  per latent dimension before summing over dimensions, giving ``log q(z)`` the weight ``Z``
  times (#60). Both are regression-tested here.)

``log q(z_i)`` uses the *joint* density ``sum_j log q(z_ij|x_k)`` inside the logsumexp with one
``log W_ik``; ``log q(z_ij)`` uses the per-dimension density with the same weights.

With ``analytic_kl=True`` (default) the sum ``MI + TC + DWKL`` (= the Monte-Carlo KL) is replaced
by the closed-form KL, ``L = rec + KL + (alpha-1) MI + (beta-1) TC + (gamma-1) DWKL`` (same
expectation, lower variance; with ``alpha = gamma = 1`` this is disentanglement_lib's
``KL + (beta - 1) TC``, and ``beta`` is the TC weight, never the KL's: disent's ``beta KL +
(beta - 1) TC`` with ``beta < 1`` rewards TC (disent #3)).

Defaults: ``alpha = gamma = 1``, ``beta = 6`` (middle of disentanglement_lib's sweep 1..10;
disentangling-vae uses 6.4), ``estimator="mss"`` (the paper's), ``dataset_size`` from the trainer
(``len(dataset)``; required).
"""

from __future__ import annotations

import math

import torch

from pydisent.models.objectives.base import Objective, register_objective

ESTIMATORS = ("mws", "mss")


def log_importance_weights(batch_size: int, dataset_size: int, estimator: str = "mss",
                           device=None, dtype=torch.float32) -> torch.Tensor:
    """``log W`` ``(M, M)`` of the aggregate-posterior estimator (see the module docstring).

    ``"mss"``: rows sum to 1 (needs ``M >= 2`` and ``N >= M - 1``); ``"mws"``: every entry
    ``1 / (N M)``."""
    M, N = int(batch_size), int(dataset_size)
    if estimator not in ESTIMATORS:
        raise ValueError(f"argument 'estimator' must be one of {ESTIMATORS}, got {estimator!r}")
    if M < 1:
        raise ValueError(f"argument 'batch_size' must be >= 1, got {M}")
    if N < M:
        raise ValueError(f"argument 'dataset_size' ({N}) must be at least the batch size ({M})")
    if estimator == "mws" or M == 1:
        return torch.full((M, M), -math.log(N * M), device=device, dtype=dtype)
    m = M - 1
    w = torch.full((M, M), 1.0 / m, device=device, dtype=torch.float64)
    idx = torch.arange(M, device=device)
    w[idx, idx] = 1.0 / N
    w[idx, (idx + 1) % M] = (N - m) / (N * m)
    return w.log().to(dtype)


def tc_decomposition(z: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor, log_prior_dims: torch.Tensor,
                     dataset_size: int, estimator: str = "mss") -> dict[str, torch.Tensor]:
    """Minibatch estimates of MI, TC and DWKL (batch means) and the per-sample log densities.

    Args:
        z: samples ``(M, Z)``, ``z_i ~ q(z|x_i)``.
        mean, logvar: the posteriors ``(M, Z)``.
        log_prior_dims: ``log p(z_ij)`` ``(M, Z)`` (factorised prior).
        dataset_size: N.
        estimator: ``"mss"`` or ``"mws"``.

    Returns:
        dict with ``mi``, ``tc``, ``dwkl`` (scalars) and ``log_qz`` ``(M,)``,
        ``log_qz_prod`` ``(M,)``, ``log_qz_x`` ``(M,)``.
    """
    M = z.shape[0]
    # log q(z_ij | x_k): (M, M, Z), sample i against posterior k
    lq = -0.5 * (math.log(2 * math.pi) + logvar[None] + (z[:, None] - mean[None]) ** 2 * torch.exp(-logvar[None]))
    log_w = log_importance_weights(M, dataset_size, estimator, device=z.device, dtype=z.dtype)
    log_qz = torch.logsumexp(log_w + lq.sum(-1), dim=1)                       # one weight per (i, k)
    log_qz_dims = torch.logsumexp(log_w[:, :, None] + lq, dim=1)              # (M, Z)
    log_qz_prod = log_qz_dims.sum(-1)
    idx = torch.arange(M, device=z.device)
    log_qz_x = lq[idx, idx].sum(-1)
    return {
        "mi": (log_qz_x - log_qz).mean(),
        "tc": (log_qz - log_qz_prod).mean(),
        "dwkl": (log_qz_prod - log_prior_dims.sum(-1)).mean(),
        "log_qz": log_qz, "log_qz_prod": log_qz_prod, "log_qz_x": log_qz_x,
    }


@register_objective
class BetaTCVAE(Objective):
    """beta-TCVAE (Chen et al. 2018): ``L = rec + alpha MI + beta TC + gamma DWKL``, MSS or MWS estimator."""

    name = "beta_tcvae"
    defaults = {"alpha": 1.0, "beta": 6.0, "gamma": 1.0, "estimator": "mss", "dataset_size": 0,
                "analytic_kl": True}
    #: hyperparameters the trainer fills from the dataset when not given
    dataset_hparams = ("dataset_size",)

    def validate(self):
        if self.hparams["estimator"] not in ESTIMATORS:
            raise ValueError(f"hyperparameter 'estimator' must be one of {ESTIMATORS}, "
                             f"got {self.hparams['estimator']!r}")
        if self.hparams["dataset_size"] < 0:
            raise ValueError(f"hyperparameter 'dataset_size' must be >= 0, got {self.hparams['dataset_size']}")
        if not self.prior.factorised:
            raise ValueError("beta_tcvae needs a factorised prior (the DWKL term is per dimension)")

    def regularizer(self, *, q, z, **_):
        n = self.hparams["dataset_size"]
        if n <= 0:
            raise ValueError("objective 'beta_tcvae' needs hyperparameter 'dataset_size' (the number of training "
                             "observations, N in log(N M)); pydisent.train sets it from the dataset")
        d = tc_decomposition(z, q.mean, q.logvar, self.prior.log_prob_dims(z), n, self.hparams["estimator"])
        if self.hparams["analytic_kl"] and self.prior.kl(q) is not None:
            kl = self.prior.kl(q).mean()
            reg = kl + (self.alpha - 1) * d["mi"] + (self.beta - 1) * d["tc"] + (self.gamma - 1) * d["dwkl"]
        else:
            kl = d["mi"] + d["tc"] + d["dwkl"]
            reg = self.alpha * d["mi"] + self.beta * d["tc"] + self.gamma * d["dwkl"]
        reg = self.scale_reg(reg)
        return reg, {"kl": kl, "mi": d["mi"], "tc": d["tc"], "dwkl": d["dwkl"]}
