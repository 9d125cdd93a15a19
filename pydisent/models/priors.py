"""Priors ``p(z)`` (``PRIORS`` by name), as Mathieu et al. 2019 ("Disentangling Disentanglement in
Variational Autoencoders", ICML) use them to impose a decomposition.

Every prior has ``latent_dim``, ``sample(n, generator) -> (n, Z)``, ``log_prob(z) -> (...)``
(the joint log density over the last axis), ``kl(q) -> (B,)`` in closed form where one exists
(else ``None``: objectives then estimate ``E_q[log q(z|x) - log p(z)]`` by Monte Carlo), and
``factorised`` with ``log_prob_dims(z) -> (..., Z)`` for the factorised ones.

* ``gaussian``: ``N(0, I)``.
* ``anisotropic``: ``N(0, diag(sigma^2))`` with learnable ``log sigma`` (``learn=True``), initial
  scales given, or from PCA of data codes via :meth:`AnisotropicGaussian.init_pca`.
* ``student_t``: independent Student-t per dimension, ``dof`` (Mathieu et al.: 2), scale 1.
* ``spike_slab``: sparse prior of Mathieu et al. section 5, per dimension
  ``(1 - gamma) N(0, 1) + gamma N(0, spike_sd^2)`` with ``gamma = 0.8``, ``spike_sd = 0.05``.
* ``mixture``: a mixture of ``K`` Gaussians ``sum_k pi_k N(m_k, s^2 I)`` (clustering, e.g. the
  pinwheel): means on a circle of ``radius`` in the first two dims by default, ``scale`` s.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from pydisent.models.base import LOG_2PI, Posterior, check_positive_int


class Prior(nn.Module):
    name = "?"
    factorised = True

    def __init__(self, latent_dim: int):
        super().__init__()
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")

    def log_prob_dims(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return self.log_prob_dims(z).sum(-1)

    def kl(self, q: Posterior) -> torch.Tensor | None:
        """Closed-form ``KL(q(z|x) || p(z))`` per observation, or None."""
        return None

    def kl_dims(self, q: Posterior) -> torch.Tensor | None:
        return None

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        raise NotImplementedError

    def _device(self):
        buf = next(iter(self.buffers()), None)
        par = next(iter(self.parameters()), None)
        t = buf if buf is not None else par
        return (t.device, t.dtype) if t is not None else (torch.device("cpu"), torch.float32)

    def _randn(self, shape, generator):
        device, dtype = self._device()
        if generator is not None:
            device = generator.device
        return torch.randn(shape, generator=generator, device=device, dtype=dtype)

    def config(self) -> dict:
        return {"name": self.name}


class StandardGaussian(Prior):
    """``N(0, I)``; ``KL = 0.5 sum_j (mu_j^2 + var_j - log var_j - 1)``."""

    name = "gaussian"

    def __init__(self, latent_dim: int):
        super().__init__(latent_dim)
        self.register_buffer("_anchor", torch.zeros(()), persistent=False)

    def log_prob_dims(self, z):
        return -0.5 * (LOG_2PI + z**2)

    def kl_dims(self, q):
        return 0.5 * (q.mean**2 + q.logvar.exp() - q.logvar - 1.0)

    def kl(self, q):
        return self.kl_dims(q).sum(-1)

    def sample(self, n, generator=None):
        return self._randn((int(n), self.latent_dim), generator)


PRIORS: dict[str, type[Prior]] = {"gaussian": StandardGaussian}


def make_prior(spec="gaussian", latent_dim: int = 10) -> Prior:
    """A prior from a name, a dict ``{"name": ..., **options}`` or an instance."""
    if isinstance(spec, Prior):
        if spec.latent_dim != latent_dim:
            raise ValueError(f"argument 'prior' has latent_dim {spec.latent_dim}, the model {latent_dim}")
        return spec
    if isinstance(spec, dict):
        spec = dict(spec)
        name = spec.pop("name", None)
    else:
        name, spec = spec, {}
    if name not in PRIORS:
        raise ValueError(f"argument 'prior': unknown {name!r}; known: {sorted(PRIORS)}")
    return PRIORS[name](latent_dim, **spec)
