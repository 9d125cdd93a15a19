"""Weakly supervised Ada-GVAE and Ada-ML-VAE (Locatello et al. 2020, "Weakly-Supervised
Disentanglement Without Compromises"), on pairs ``(x0, x1)`` that share an unknown set of factors.

Per pair and latent dimension, a divergence ``delta_j`` between the two posteriors (``thresh_mode``):
``"kl"`` ``KL(q0_j || q1_j)`` (disentanglement_lib's ``compute_kl``, up to its factor 2, which does not
move the threshold), ``"symmetric_kl"`` the mean of both directions (disent's default), ``"dist"``
``|mu0_j - mu1_j|``. The threshold is ``tau = min + ratio (max - min)`` of the pair's deltas
(``ratio = 0.5``: disentanglement_lib's two equal-width histogram bins); dimensions with
``delta_j < tau`` are taken as **shared** and both posteriors are replaced there by their average:

* Ada-GVAE (``ada_gvae``, Hosoya 2019's group VAE averaging): ``mu = (mu0 + mu1) / 2``,
  ``var = (var0 + var1) / 2``;
* Ada-ML-VAE (``ada_ml_vae``, Bouchacourt et al. 2018's product of Gaussians):
  ``var = 2 var0 var1 / (var0 + var1)``, ``mu = (mu0 / var0 + mu1 / var1) var / 2``.

The other dimensions keep their own posterior. Then, with ``z_i ~ q~_i``:

    L = 1/2 (rec(x0 | z0) + rec(x1 | z1)) + beta 1/2 (KL(q~0 || p) + KL(q~1 || p))

Pairs: ``batch_kind = "pairs"``, drawn by :meth:`pydisent.data.FactorSpace.sample_pairs_differing`
with disentanglement_lib's dynamics (``sampler_defaults``: ``k = -1`` draws k in [1, F-1] per pair,
then ``dlib_quirk=True`` resamples 1 or k factors with probability 1/2 each, as its ``simple_dynamics``).

Defaults: ``beta = 4`` (the third of the sweep {1, 2, 4, 6, 8, 16}), ``thresh_mode = "kl"``,
``thresh_ratio = 0.5``, disentanglement_lib's training defaults.
"""

from __future__ import annotations

import torch

from pydisent.models.base import Posterior
from pydisent.models.objectives.base import LossOutput, Objective, register_objective

THRESH_MODES = ("kl", "symmetric_kl", "dist")


def kl_dims(q0: Posterior, q1: Posterior) -> torch.Tensor:
    """Per-dimension ``KL(q0 || q1)`` of diagonal Gaussians, ``(B, Z)``."""
    return 0.5 * (q1.logvar - q0.logvar + (q0.logvar.exp() + (q0.mean - q1.mean) ** 2) * torch.exp(-q1.logvar) - 1)


def pair_deltas(q0: Posterior, q1: Posterior, mode: str = "kl") -> torch.Tensor:
    if mode == "kl":
        return kl_dims(q0, q1)
    if mode == "symmetric_kl":
        return 0.5 * kl_dims(q0, q1) + 0.5 * kl_dims(q1, q0)
    if mode == "dist":
        return (q0.mean - q1.mean).abs()
    raise ValueError(f"argument 'thresh_mode' must be one of {THRESH_MODES}, got {mode!r}")


def shared_mask(deltas: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """``delta < min + ratio (max - min)`` per row (no dimension is shared when all deltas are equal)."""
    lo = deltas.min(dim=1, keepdim=True).values
    hi = deltas.max(dim=1, keepdim=True).values
    return deltas < torch.lerp(lo, hi, float(ratio))


def average_posteriors(q0: Posterior, q1: Posterior, mode: str) -> Posterior:
    v0, v1 = q0.logvar.exp(), q1.logvar.exp()
    if mode == "gvae":
        return Posterior(0.5 * (q0.mean + q1.mean), torch.log(0.5 * (v0 + v1)))
    if mode == "ml_vae":
        var = 2 * v0 * v1 / (v0 + v1)
        return Posterior((q0.mean / v0 + q1.mean / v1) * var * 0.5, torch.log(var))
    raise ValueError(f"argument 'mode' must be 'gvae' or 'ml_vae', got {mode!r}")


def ada_posteriors(q0: Posterior, q1: Posterior, average: str, thresh_mode: str = "kl", ratio: float = 0.5):
    """The two adapted posteriors and the shared mask ``(B, Z)``."""
    mask = shared_mask(pair_deltas(q0, q1, thresh_mode), ratio)
    ave = average_posteriors(q0, q1, average)
    out = tuple(Posterior(torch.where(mask, ave.mean, q.mean), torch.where(mask, ave.logvar, q.logvar))
                for q in (q0, q1))
    return out[0], out[1], mask


class _AdaVAE(Objective):
    batch_kind = "pairs"
    sampler_defaults = {"k": -1, "dlib_quirk": True}
    defaults = {"beta": 4.0, "thresh_mode": "kl", "thresh_ratio": 0.5}
    average = "gvae"

    def validate(self):
        if self.hparams["thresh_mode"] not in THRESH_MODES:
            raise ValueError(f"hyperparameter 'thresh_mode' must be one of {THRESH_MODES}, "
                             f"got {self.hparams['thresh_mode']!r}")
        if not 0.0 <= self.thresh_ratio <= 1.0:
            raise ValueError(f"hyperparameter 'thresh_ratio' must be in [0, 1], got {self.thresh_ratio}")

    def loss(self, batch, step: int = 0, generator=None) -> LossOutput:
        x0, x1 = self.split_batch(batch, 2)
        g = self.step_generator(generator, x0.device)
        # one encoder call for both halves: the same function, half the launches
        q = self.encode_posterior(torch.cat([x0, x1]))
        n = len(x0)
        q0, q1 = Posterior(q.mean[:n], q.logvar[:n]), Posterior(q.mean[n:], q.logvar[n:])
        a0, a1, mask = ada_posteriors(q0, q1, self.average, self.hparams["thresh_mode"], self.thresh_ratio)
        qa = Posterior(torch.cat([a0.mean, a1.mean]), torch.cat([a0.logvar, a1.logvar]))
        z = qa.sample(g)
        params = self.decode_params(z)
        rec = self.reconstruction(params, torch.cat([x0, x1]))  # the batch mean = 1/2 (rec0 + rec1)
        kl = self.kl_mean(qa, z)
        total = rec + self.beta * kl
        return LossOutput(total, {"loss": total.detach(), "recon": rec.detach(), "kl": kl.detach(),
                                  "shared": mask.sum(1).float().mean()})


@register_objective
class AdaGVAE(_AdaVAE):
    """Ada-GVAE: shared dimensions averaged arithmetically (mean of means and of variances)."""

    name = "ada_gvae"
    average = "gvae"


@register_objective
class AdaMLVAE(_AdaVAE):
    """Ada-ML-VAE: shared dimensions replaced by the product of the two Gaussians."""

    name = "ada_ml_vae"
    average = "ml_vae"
