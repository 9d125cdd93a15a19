"""FactorVAE (Kim & Mnih 2018, "Disentangling by Factorising").

    L_VAE  = rec + KL(q(z|x) || p(z)) + gamma E_q(z)[log D(z) / (1 - D(z))]
           = rec + KL + gamma mean_i (logit_0(z_i) - logit_1(z_i))
    L_disc = -( 1/2 mean_i log D(z_i) + 1/2 mean_i log(1 - D(perm(z)_i)) )

``D`` is a discriminator (disentanglement_lib's ``fc_discriminator``: 6 dense layers of 1000
units with leaky ReLU (slope 0.2, TensorFlow's default), 2 logits, softmax, probabilities clipped
to ``[1e-6, 1 - 1e-6]``); ``perm(z)`` permutes every latent dimension independently across the
batch (disentanglement_lib's ``shuffle_codes``, a sample of ``prod_j q(z_j)``). The discriminator is
trained on the sampled codes of the same batch, **detached**, with its own Adam (lr 1e-4, betas
(0.5, 0.9)); during the VAE loss its parameters are frozen, so it takes no gradient from it,
and the VAE optimiser never holds them (``main_parameters()``). See the update order in
:mod:`pydisent.models.objectives.base`. One global step per batch (disentanglement_lib's two
optimiser steps each increment it).

Defaults: ``gamma = 30`` (the third of disentanglement_lib's sweep {10, 20, 30, 40, 50, 100}),
disentanglement_lib's training defaults otherwise.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from pydisent.models.objectives.base import LossOutput, Objective, register_objective


class Discriminator(nn.Module):
    """``z -> 2 logits``: ``layers`` dense layers of ``width`` units, leaky ReLU(0.2)."""

    def __init__(self, latent_dim: int, width: int = 1000, layers: int = 6):
        super().__init__()
        mods, d = [], latent_dim
        for _ in range(layers):
            mods += [nn.Linear(d, width), nn.LeakyReLU(0.2)]
            d = width
        mods.append(nn.Linear(d, 2))
        self.net = nn.Sequential(*mods)

    def forward(self, z):
        return self.net(z)


def permute_dims(z: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Each column of ``z (B, Z)`` permuted independently across the batch."""
    keys = torch.rand(z.shape, generator=generator, device=z.device)
    return torch.gather(z, 0, keys.argsort(dim=0))


@register_objective
class FactorVAE(Objective):
    """FactorVAE (Kim & Mnih 2018): ``L = rec + KL + gamma E[logit_0 - logit_1]``, discriminator aside."""

    name = "factor_vae"
    defaults = {"gamma": 30.0, "disc_width": 1000, "disc_layers": 6}
    aux_optimizer_defaults = {"optimizer": "adam", "lr": 1e-4, "betas": (0.5, 0.9), "eps": 1e-8}

    def __init__(self, model, **hparams):
        super().__init__(model, **hparams)
        self.discriminator = Discriminator(model.latent_dim, self.hparams["disc_width"], self.hparams["disc_layers"])
        self._cache = None

    def aux_parameters(self):
        return list(self.discriminator.parameters())

    def _frozen_logits(self, z):
        params = list(self.discriminator.parameters())
        flags = [p.requires_grad for p in params]
        for p in params:
            p.requires_grad_(False)
        try:
            return self.discriminator(z)
        finally:
            for p, f in zip(params, flags):
                p.requires_grad_(f)

    def regularizer(self, *, x, q, z, generator, **_):
        kl = self.kl_mean(q, z)
        logits = self._frozen_logits(z).float()
        tc = (logits[:, 0] - logits[:, 1]).mean()
        self._cache = (x, z.detach())
        return kl + self.gamma * self.scale_reg(tc), {"kl": kl, "tc": tc}

    def discriminator_loss(self, z: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """``-(1/2 mean log D(z) + 1/2 mean log(1 - D(perm z)))`` on detached codes."""
        z = z.detach()
        p_real = F.softmax(self.discriminator(z).float(), dim=1).clamp(1e-6, 1 - 1e-6)
        p_perm = F.softmax(self.discriminator(permute_dims(z, generator)).float(), dim=1).clamp(1e-6, 1 - 1e-6)
        return -(0.5 * p_real[:, 0].log().mean() + 0.5 * p_perm[:, 1].log().mean())

    def aux_loss(self, batch, step: int = 0, generator=None) -> LossOutput:
        (x,) = self.split_batch(batch, 1)
        g = self.step_generator(generator, x.device)
        if self._cache is not None and self._cache[0] is x:
            z = self._cache[1]
        else:  # called without loss() on this batch: draw the codes afresh
            with torch.no_grad():
                z = self.encode_posterior(x).sample(g)
        self._cache = None
        loss = self.discriminator_loss(z, g)
        return LossOutput(loss, {"disc_loss": loss.detach()})
