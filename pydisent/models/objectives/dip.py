"""DIP-VAE I and II (Kumar, Sattigeri & Balakrishnan 2018, "Variational Inference of Disentangled
Latent Concepts from Unlabeled Observations").

    L = rec + KL(q(z|x) || p(z)) + lambda_od sum_{i != j} C_ij^2 + lambda_d sum_i (C_ii - 1)^2

* DIP-VAE-I: ``C = Cov_x[mu(x)]``, the covariance of the posterior means over the batch
  (``E[mu mu^T] - E[mu] E[mu]^T``, normalised by the batch size as disentanglement_lib).
* DIP-VAE-II: ``C = Cov_q(z)[z] = E_x[diag(sigma^2(x))] + Cov_x[mu(x)]``: the batch mean of the
  posterior variances is added **on the diagonal only** (a diagonal matrix), as the paper's
  law of total covariance says. (disent builds ``torch.diag`` of the ``(B, Z)`` variance tensor,
  which extracts a diagonal instead, and adds a scalar to every entry, disent #5.)

Defaults (disentanglement_lib's study, the third of lambda_od in {1, 2, 5, 10, 20, 50}): I:
``lambda_od = 5``, ``lambda_d = 10 lambda_od = 50``; II: ``lambda_od = lambda_d = 5``; the KL term
kept with weight 1.
"""

from __future__ import annotations

import torch

from pydisent.models.objectives.base import Objective, register_objective


def covariance(x: torch.Tensor) -> torch.Tensor:
    """Biased batch covariance ``E[x x^T] - E[x] E[x]^T`` of ``x (B, Z)``."""
    m = x.mean(0)
    return (x.T @ x) / len(x) - torch.outer(m, m)


def dip_covariance(mean: torch.Tensor, logvar: torch.Tensor, kind: str) -> torch.Tensor:
    """DIP-VAE's matched covariance: ``Cov[mu]`` (``"i"``) or ``E[diag var] + Cov[mu]`` (``"ii"``)."""
    cov = covariance(mean)
    if kind == "ii":
        cov = cov + torch.diag(logvar.exp().mean(0))
    elif kind != "i":
        raise ValueError(f"argument 'kind' must be 'i' or 'ii', got {kind!r}")
    return cov


def dip_penalty(cov: torch.Tensor, lambda_od: float, lambda_d: float) -> torch.Tensor:
    """``lambda_od sum_{i != j} C_ij^2 + lambda_d sum_i (C_ii - 1)^2``."""
    diag = torch.diagonal(cov)
    off = cov - torch.diag(diag)
    return lambda_od * (off**2).sum() + lambda_d * ((diag - 1) ** 2).sum()


class _DIP(Objective):
    kind = "i"

    def validate(self):
        if self.lambda_od < 0 or self.lambda_d < 0:
            raise ValueError("hyperparameters 'lambda_od' and 'lambda_d' must be >= 0")

    def regularizer(self, *, q, z, **_):
        kl = self.kl_mean(q, z)
        cov = dip_covariance(q.mean, q.logvar, self.kind)
        dip = self.scale_reg(dip_penalty(cov, self.lambda_od, self.lambda_d))
        return kl + dip, {"kl": kl, "dip": dip}


@register_objective
class DIPVAEI(_DIP):
    """DIP-VAE-I: match ``Cov[mu(x)]`` to the identity."""

    name = "dip_vae_i"
    kind = "i"
    defaults = {"lambda_od": 5.0, "lambda_d": 50.0}


@register_objective
class DIPVAEII(_DIP):
    """DIP-VAE-II: match ``E[diag var] + Cov[mu(x)]`` to the identity."""

    name = "dip_vae_ii"
    kind = "ii"
    defaults = {"lambda_od": 5.0, "lambda_d": 5.0}
