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

from pydisent._validation import check_positive_int
from pydisent.models._spec import split_spec
from pydisent.models.base import LOG_2PI, Posterior


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


class AnisotropicGaussian(Prior):
    """``N(0, diag(sigma^2))``; ``log sigma`` learnable when ``learn=True`` (Mathieu et al.'s
    learned prior variances). ``KL = 0.5 sum_j (log s_j^2 - log var_j + (var_j + mu_j^2) / s_j^2 - 1)``."""

    name = "anisotropic"

    def __init__(self, latent_dim: int, scales=None, learn: bool = True):
        super().__init__(latent_dim)
        init = torch.ones(self.latent_dim) if scales is None else torch.as_tensor(scales, dtype=torch.float32)
        if init.shape != (self.latent_dim,) or not bool((init > 0).all()):
            raise ValueError(f"argument 'scales' must be {self.latent_dim} positive numbers, got {scales!r}")
        self.learn = bool(learn)
        log_s = init.log()
        if self.learn:
            self.log_scale = nn.Parameter(log_s)
        else:
            self.register_buffer("log_scale", log_s)

    @torch.no_grad()
    def init_pca(self, observations: torch.Tensor) -> AnisotropicGaussian:
        """Scales from the data: ``s_j^2`` proportional to the ``j``-th principal variance of the
        flattened ``observations`` (the top ``Z``), normalised to mean 1."""
        x = observations.reshape(len(observations), -1).to(torch.float64)
        x = x - x.mean(0)
        s = torch.linalg.svdvals(x)[: self.latent_dim] ** 2
        if len(s) < self.latent_dim:
            s = torch.cat([s, s.new_full((self.latent_dim - len(s),), float(s.min()) if len(s) else 1.0)])
        s = s.clamp_min(1e-12 * float(s.max()) if float(s.max()) > 0 else 1.0)
        var = s / s.mean()
        self.log_scale.copy_(0.5 * var.log().to(self.log_scale))
        return self

    def log_prob_dims(self, z):
        ls = self.log_scale
        return -0.5 * (LOG_2PI + 2 * ls + z**2 * torch.exp(-2 * ls))

    def kl_dims(self, q):
        ls2 = 2 * self.log_scale
        return 0.5 * (ls2 - q.logvar + (q.logvar.exp() + q.mean**2) * torch.exp(-ls2) - 1.0)

    def kl(self, q):
        return self.kl_dims(q).sum(-1)

    def sample(self, n, generator=None):
        return self._randn((int(n), self.latent_dim), generator) * self.log_scale.exp()

    def config(self):
        return {"name": self.name, "learn": self.learn}


def sample_gamma(shape, concentration: float, generator=None, device=None, dtype=torch.float32) -> torch.Tensor:
    """``Gamma(concentration, 1)`` draws from ``generator`` (Marsaglia & Tsang 2000, vectorised
    rejection; ``a < 1`` through ``Gamma(a + 1) U^(1/a)``)."""
    a = float(concentration)
    boost = a < 1
    d = (a + 1 if boost else a) - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    n = math.prod(shape)
    out = torch.empty(n, device=device, dtype=torch.float64)
    todo = torch.arange(n, device=device)
    while len(todo):
        m = len(todo)
        x = torch.randn(m, generator=generator, device=device, dtype=torch.float64)
        u = torch.rand(m, generator=generator, device=device, dtype=torch.float64)
        v = (1 + c * x) ** 3
        ok = (v > 0) & (torch.log(u.clamp_min(1e-300)) < 0.5 * x**2 + d - d * v + d * torch.log(v.clamp_min(1e-300)))
        out[todo[ok]] = (d * v)[ok]
        todo = todo[~ok]
    if boost:
        u = torch.rand(n, generator=generator, device=device, dtype=torch.float64)
        out = out * u.clamp_min(1e-300) ** (1.0 / a)
    return out.view(shape).to(dtype)


class StudentT(Prior):
    """Independent Student-t per dimension, ``dof`` degrees of freedom (Mathieu et al.: 2), scale ``s``:
    ``log p(z_j) = lgamma((v+1)/2) - lgamma(v/2) - 1/2 log(v pi) - log s - (v+1)/2 log(1 + (z_j/s)^2 / v)``."""

    name = "student_t"

    def __init__(self, latent_dim: int, dof: float = 2.0, scale: float = 1.0):
        super().__init__(latent_dim)
        self.dof, self.scale = float(dof), float(scale)
        if not (self.dof > 0 and self.scale > 0):
            raise ValueError(f"arguments 'dof' and 'scale' must be > 0, got {dof!r}, {scale!r}")
        self.register_buffer("_anchor", torch.zeros(()), persistent=False)

    def log_prob_dims(self, z):
        v, s = self.dof, self.scale
        const = math.lgamma((v + 1) / 2) - math.lgamma(v / 2) - 0.5 * math.log(v * math.pi) - math.log(s)
        return const - (v + 1) / 2 * torch.log1p((z / s) ** 2 / v)

    def sample(self, n, generator=None):
        device, dtype = self._device()
        if generator is not None:
            device = generator.device
        shape = (int(n), self.latent_dim)
        x = torch.randn(shape, generator=generator, device=device, dtype=dtype)
        chi2 = 2.0 * sample_gamma(shape, self.dof / 2, generator, device, dtype)
        return self.scale * x / torch.sqrt(chi2 / self.dof)

    def config(self):
        return {"name": self.name, "dof": self.dof, "scale": self.scale}


class SpikeAndSlab(Prior):
    """Mathieu et al.'s sparse prior, per dimension ``gamma N(0, spike_sd^2) + (1 - gamma) N(0, slab_sd^2)``
    (``gamma = 0.8``, ``spike_sd = 0.05``, ``slab_sd = 1``): most codes near 0."""

    name = "spike_slab"

    def __init__(self, latent_dim: int, gamma: float = 0.8, spike_sd: float = 0.05, slab_sd: float = 1.0):
        super().__init__(latent_dim)
        self.gamma, self.spike_sd, self.slab_sd = float(gamma), float(spike_sd), float(slab_sd)
        if not 0 < self.gamma < 1 or not (self.spike_sd > 0 and self.slab_sd > 0):
            raise ValueError("arguments: 'gamma' must be in (0, 1), 'spike_sd' and 'slab_sd' > 0")
        self.register_buffer("_anchor", torch.zeros(()), persistent=False)

    def log_prob_dims(self, z):
        def normal(sd):
            return -0.5 * (LOG_2PI + 2 * math.log(sd) + (z / sd) ** 2)

        return torch.logaddexp(math.log(self.gamma) + normal(self.spike_sd),
                               math.log1p(-self.gamma) + normal(self.slab_sd))

    def sample(self, n, generator=None):
        shape = (int(n), self.latent_dim)
        eps = self._randn(shape, generator)
        spike = torch.rand(shape, generator=generator, device=eps.device) < self.gamma
        return eps * torch.where(spike, self.spike_sd, self.slab_sd).to(eps.dtype)

    def config(self):
        return {"name": self.name, "gamma": self.gamma, "spike_sd": self.spike_sd, "slab_sd": self.slab_sd}


class GaussianMixture(Prior):
    """``sum_k pi_k N(m_k, s^2 I)`` (not factorised). Default: Mathieu et al.'s pinwheel prior, 4
    equally weighted components at ``(0, -1), (0, 1), (1, 0), (-1, 0)`` (times ``radius``) in the
    first two dimensions, ``s = 1``; ``means`` ``(K, Z)`` and ``weights`` override."""

    name = "mixture"
    factorised = False

    def __init__(self, latent_dim: int, num_components: int = 4, radius: float = 1.0, scale: float = 1.0,
                 means=None, weights=None, learn_scale: bool = False):
        super().__init__(latent_dim)
        if means is None:
            k = check_positive_int(num_components, "num_components")
            if self.latent_dim < 2:
                raise ValueError("the default mixture places its components in 2 dimensions: latent_dim must be >= 2")
            base = torch.tensor([[0.0, -1.0], [0.0, 1.0], [1.0, 0.0], [-1.0, 0.0]])
            if k != 4:  # evenly on the circle
                t = torch.arange(k, dtype=torch.float32) * 2 * math.pi / k
                base = torch.stack([t.cos(), t.sin()], 1)
            means = torch.zeros(k, self.latent_dim)
            means[:, :2] = float(radius) * base
        means = torch.as_tensor(means, dtype=torch.float32)
        if means.ndim != 2 or means.shape[1] != self.latent_dim:
            raise ValueError(f"argument 'means' must have shape (K, {self.latent_dim}), got {tuple(means.shape)}")
        k = len(means)
        weights = torch.full((k,), 1.0 / k) if weights is None else torch.as_tensor(weights, dtype=torch.float32)
        if weights.shape != (k,) or not bool((weights > 0).all()):
            raise ValueError(f"argument 'weights' must be {k} positive numbers")
        self.register_buffer("means", means)
        self.register_buffer("log_weights", (weights / weights.sum()).log())
        if float(scale) <= 0:
            raise ValueError(f"argument 'scale' must be > 0, got {scale}")
        log_s = torch.tensor(math.log(float(scale)))
        self.learn_scale = bool(learn_scale)
        if self.learn_scale:
            self.log_scale = nn.Parameter(log_s)
        else:
            self.register_buffer("log_scale", log_s)

    def component_log_prob(self, z):
        """``log pi_k + log N(z; m_k, s^2 I)``, shape ``(..., K)``."""
        ls = self.log_scale
        d = z[..., None, :] - self.means
        lp = -0.5 * (LOG_2PI + 2 * ls + d**2 * torch.exp(-2 * ls)).sum(-1)
        return lp + self.log_weights

    def log_prob(self, z):
        return torch.logsumexp(self.component_log_prob(z), -1)

    def log_prob_dims(self, z):
        raise ValueError("a Gaussian mixture prior is not factorised: it has no per-dimension density")

    def sample(self, n, generator=None):
        idx = torch.multinomial(self.log_weights.exp(), int(n), replacement=True, generator=generator)
        eps = self._randn((int(n), self.latent_dim), generator)
        return self.means.to(eps.device)[idx.to(eps.device)] + self.log_scale.exp() * eps

    def config(self):
        return {"name": self.name, "means": self.means.tolist(), "weights": self.log_weights.exp().tolist(),
                "scale": float(self.log_scale.exp()), "learn_scale": self.learn_scale}


PRIORS: dict[str, type[Prior]] = {c.name: c for c in (StandardGaussian, AnisotropicGaussian, StudentT, SpikeAndSlab,
                                                       GaussianMixture)}


def make_prior(spec="gaussian", latent_dim: int = 10) -> Prior:
    """A prior from a name, a dict ``{"name": ..., **options}`` or an instance."""
    if isinstance(spec, Prior):
        if spec.latent_dim != latent_dim:
            raise ValueError(f"argument 'prior' has latent_dim {spec.latent_dim}, the model {latent_dim}")
        return spec
    name, spec = split_spec(spec)
    if name not in PRIORS:
        raise ValueError(f"argument 'prior': unknown {name!r}; known: {sorted(PRIORS)}")
    return PRIORS[name](latent_dim, **spec)
