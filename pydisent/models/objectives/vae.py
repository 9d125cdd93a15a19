"""VAE, beta-VAE and the capacity-annealed beta-VAE.

* ``vae``: Kingma & Welling 2014, ``L = E_x[ -E_q log p(x|z) + KL(q(z|x) || p(z)) ]``.
* ``beta_vae``: Higgins et al. 2017, ``L = rec + beta KL``; default ``beta = 4`` (the middle of
  disentanglement_lib's sweep {1, 2, 4, 6, 8, 16}; disentangling-vae's beta-H default is 4 too).
* ``annealed_vae``: Burgess et al. 2018, ``L = rec + gamma |E_x[KL] - C|`` with the capacity
  ``C`` raised linearly from ``c_start`` to ``c_max`` over ``c_steps`` (disentanglement_lib's
  AnnealedVAE: gamma 1000, C_max 25 (middle of {5, 10, 25, 50, 75, 100}), 100,000 steps).
  The absolute value is taken of the **batch mean** KL (disentanglement_lib, disentangling-vae),
  not averaged per sample as pythae does. ``C`` is also a plain attribute, so a trainer schedule
  on ``"c"`` overrides the built-in ramp (set ``c_steps = 0`` to use only the attribute).
"""

from __future__ import annotations

from pydisent.models.objectives.base import Objective, register_objective


@register_objective
class VAE(Objective):
    """VAE (Kingma & Welling 2014): ``L = rec + KL(q(z|x) || p(z))``."""

    name = "vae"
    defaults = {}

    def regularizer(self, *, q, z, **_):
        kl = self.kl_mean(q, z)
        return kl, {"kl": kl}


@register_objective
class BetaVAE(Objective):
    """beta-VAE (Higgins et al. 2017): ``L = rec + beta KL``, beta 4."""

    name = "beta_vae"
    defaults = {"beta": 4.0}

    def validate(self):
        if self.beta < 0:
            raise ValueError(f"hyperparameter 'beta' must be >= 0, got {self.beta}")

    def regularizer(self, *, q, z, **_):
        kl = self.kl_mean(q, z)
        return self.beta * kl, {"kl": kl}


@register_objective
class AnnealedVAE(Objective):
    """Capacity-annealed beta-VAE (Burgess et al. 2018): ``L = rec + gamma |E_x KL - C(step)|``."""

    name = "annealed_vae"
    defaults = {"gamma": 1000.0, "c_max": 25.0, "c_start": 0.0, "c_steps": 100_000, "c": 0.0}

    def validate(self):
        if self.hparams["c_steps"] < 0:
            raise ValueError(f"hyperparameter 'c_steps' must be >= 0, got {self.hparams['c_steps']}")

    def capacity(self, step: int) -> float:
        """``C(step) = c_start + (c_max - c_start) min(1, step / c_steps)``; the attribute ``c`` when c_steps = 0."""
        n = self.hparams["c_steps"]
        if n == 0:
            return float(self.c)
        return self.c_start + (self.c_max - self.c_start) * min(1.0, max(int(step), 0) / n)

    def regularizer(self, *, q, z, step, **_):
        kl = self.kl_mean(q, z)
        c = self.capacity(step)
        return self.gamma * (kl - c).abs(), {"kl": kl, "capacity": kl.new_tensor(c)}
