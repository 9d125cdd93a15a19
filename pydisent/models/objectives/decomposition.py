"""The decomposition VAE of Mathieu, Rainforth, Siddharth & Teh 2019 ("Disentangling Disentanglement
in Variational Autoencoders", ICML), with structured priors (:mod:`pydisent.models.priors`).

    L(x) = E_q(z|x)[log p(x|z)] - beta KL(q(z|x) || p(z)) - alpha D(q(z), p(z))

minimised as its negative averaged over the batch; ``beta`` controls the overlap of the
encodings, ``alpha`` the match of the aggregate posterior ``q(z) = E_x q(z|x)`` to the prior's
structure. ``E_q`` uses ``num_samples`` (K) reparameterised samples per observation (averaged);
the KL is in closed form where the prior has one, else the Monte-Carlo ``log q(z|x) - log p(z)``
at the same samples. ``D`` (``divergence``):

* ``"kl"``: the inclusive KL ``KL(p(z) || q(z))`` on the minibatch (Mathieu et al.'s ``kld_inc``):
  ``z_b ~ p`` (B prior draws), ``D = mean_b [log p(z_b) - log (1/B sum_j q(z_b|x_j))]``;
* ``"mmd"``: the per-dimension inverse-multiquadric MMD between B prior draws ``X`` and the
  posterior samples ``Y`` (their ``imq_dim_kernel``): for every latent dimension ``d`` and scale
  ``s`` in {0.1, 0.2, 0.5, 1, 2, 5}, ``k(a, b) = C / (C + (a - b)^2)``, ``C = 2 s``, and
  ``D = 1/B sum_{d,s} [ 1/(B-1) sum_{i != j} (k(X_id, X_jd) + k(Y_id, Y_jd)) - 2/B sum_{i,j} k(X_id, Y_jd) ]``.

Priors: ``prior="gaussian"`` (the default), ``"anisotropic"`` (learnable variances, PCA init via
``objective.prior.init_pca(x)``), ``"student_t"`` (dof 2), ``"spike_slab"`` (sparse, gamma 0.8),
``"mixture"`` (the pinwheel's 4 Gaussians); options as a dict, e.g. ``prior={"name": "student_t", "dof": 3}``.
:func:`iwae_bound` gives the importance-weighted bound on ``log p(x)`` for evaluation (Burda et al. 2016).

Defaults (Mathieu et al.): ``beta = 1``, ``alpha = 0``, ``num_samples = 1``, Adam lr 1e-4, batch 64,
latent 10.
"""

from __future__ import annotations

import math

import torch

from pydisent.models.objectives.base import LossOutput, Objective, register_objective

DIVERGENCES = ("kl", "mmd")
IMQ_SCALES = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


def imq_mmd_dims(x: torch.Tensor, y: torch.Tensor, scales=IMQ_SCALES) -> torch.Tensor:
    """Mathieu et al.'s per-dimension IMQ MMD between samples ``x`` and ``y`` (both ``(B, Z)``, B >= 2)."""
    if x.shape != y.shape or x.ndim != 2:
        raise ValueError(f"arguments 'x' and 'y' must both have shape (B, Z), "
                         f"got {tuple(x.shape)} and {tuple(y.shape)}")
    B = x.shape[0]
    if B < 2:
        raise ValueError("the MMD needs at least 2 samples")
    dxx = (x[:, None] - x[None]) ** 2  # (B, B, Z)
    dyy = (y[:, None] - y[None]) ** 2
    dxy = (x[:, None] - y[None]) ** 2
    off = (1 - torch.eye(B, device=x.device, dtype=x.dtype))[..., None]
    total = x.new_zeros(())
    for s in scales:
        c = 2.0 * s
        within = (off * (c / (c + dxx) + c / (c + dyy))).sum((0, 1)) / (B - 1)
        cross = (c / (c + dxy)).sum((0, 1)) * 2.0 / B
        total = total + (within - cross).sum()
    return total / B


def inclusive_kl(prior, mean: torch.Tensor, logvar: torch.Tensor, generator=None) -> torch.Tensor:
    """``mean_b [log p(z_b) - log (1/B sum_j q(z_b|x_j))]`` with ``B`` prior draws ``z_b``."""
    B = mean.shape[0]
    zp = prior.sample(B, generator=generator).to(mean)
    lq = -0.5 * (math.log(2 * math.pi) + logvar[None] + (zp[:, None] - mean[None]) ** 2 * torch.exp(-logvar[None]))
    log_qz = torch.logsumexp(lq.sum(-1), dim=1) - math.log(B)
    return (prior.log_prob(zp) - log_qz).mean()


@register_objective
class DecompositionVAE(Objective):
    """Mathieu et al. 2019: ``L = rec + beta KL + alpha D(q(z), p(z))`` with a structured prior."""

    name = "decomposition_vae"
    defaults = {"beta": 1.0, "alpha": 0.0, "divergence": "kl", "num_samples": 1}

    def validate(self):
        if self.hparams["divergence"] not in DIVERGENCES:
            raise ValueError(f"hyperparameter 'divergence' must be one of {DIVERGENCES}, "
                             f"got {self.hparams['divergence']!r}")
        if self.hparams["num_samples"] < 1:
            raise ValueError(f"hyperparameter 'num_samples' must be >= 1, got {self.hparams['num_samples']}")

    def divergence(self, q, z, generator) -> torch.Tensor:
        if self.hparams["divergence"] == "kl":
            return inclusive_kl(self.prior, q.mean, q.logvar, generator)
        zp = self.prior.sample(len(z), generator=generator).to(z)
        return imq_mmd_dims(zp, z)

    def loss(self, batch, step: int = 0, generator=None) -> LossOutput:
        (x,) = self.split_batch(batch, 1)
        g = self.step_generator(generator, x.device)
        K = self.hparams["num_samples"]
        q = self.encode_posterior(x)
        zs = q.sample(g, num_samples=K)                                  # (K, B, Z)
        params = self.decode_params(zs.reshape(-1, zs.shape[-1]))
        xk = x.expand(K, *x.shape).reshape(-1, *x.shape[1:])
        rec = self.reconstruction(params, xk)                            # mean over K and B
        kl = self.prior.kl(q)
        if kl is None:
            kl = (q.log_prob(zs).sum(-1) - self.prior.log_prob(zs)).mean(0)
        kl = self.scale_reg(kl.mean())
        total = rec + self.beta * kl
        terms = {"recon": rec.detach(), "kl": kl.detach()}
        if self.alpha != 0:
            d = self.scale_reg(self.divergence(q, zs[0], g))
            total = total + self.alpha * d
            terms["divergence"] = d.detach()
        return LossOutput(total, {"loss": total.detach(), **terms})


@torch.no_grad()
def iwae_bound(objective: Objective, x: torch.Tensor, num_samples: int = 50,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """The importance-weighted bound (Burda, Grosse & Salakhutdinov 2016) per observation ``(B,)``:

        log p(x) >= log 1/K sum_k p(x|z_k) p(z_k) / q(z_k|x),   z_k ~ q(z|x)

    with the objective's likelihood and prior (``K = 1`` is the ELBO). The likelihood's density must
    be normalised for a true bound (Bernoulli, continuous Bernoulli; a Gaussian or Laplace with
    ``constant=True``)."""
    if not objective.model.stochastic:
        raise ValueError("argument 'objective': the IWAE bound needs a stochastic encoder")
    K = int(num_samples)
    if K < 1:
        raise ValueError(f"argument 'num_samples' must be >= 1, got {num_samples!r}")
    (x,) = objective.split_batch(x, 1)
    g = objective.step_generator(generator, x.device)
    q = objective.model.encode(x)
    zs = q.sample(g, num_samples=K)
    params = objective.model.decode(zs.reshape(-1, zs.shape[-1]))
    xk = x.expand(K, *x.shape).reshape(-1, *x.shape[1:])
    log_px_z = -objective.likelihood.nll(params, xk).view(K, len(x))
    log_w = log_px_z + objective.prior.log_prob(zs) - q.log_prob(zs).sum(-1)
    return torch.logsumexp(log_w, 0) - math.log(K)
