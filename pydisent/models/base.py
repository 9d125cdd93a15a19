"""The encoder/decoder protocol and the model every objective trains.

Protocol (any ``nn.Module`` pair follows it, pydisent's architectures included):

* **encoder** ``x (B, *observation_shape) -> h (B, encoder_width)`` where ``encoder_width`` is
  ``2 * latent_dim`` for a stochastic model (first half the posterior means, second half the
  log-variances of a diagonal Gaussian ``q(z|x)``) or ``latent_dim`` for a deterministic one
  (autoencoders). A tuple ``(mean, logvar)`` is accepted as well.
* **decoder** ``z (B, latent_dim) -> p (B, *observation_shape)``: the *parameters* of the
  likelihood before its link (e.g. Bernoulli logits); the likelihood turns them into a mean image.

:class:`Model` wraps the pair, checks shapes at the boundary with messages naming the part, and
gives the views the rest of pydisent reads: the posterior, the deterministic representation
(posterior mean) that :func:`pydisent.metrics.evaluate` scores, and a decoder view.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from pydisent._validation import check_positive_int

LOG_2PI = math.log(2.0 * math.pi)


class Posterior(NamedTuple):
    """A diagonal Gaussian ``q(z|x) = N(mean, diag(exp(logvar)))``; ``logvar`` is None for a
    deterministic code (a point mass at ``mean``)."""

    mean: torch.Tensor
    logvar: torch.Tensor | None

    @property
    def var(self) -> torch.Tensor:
        return self.logvar.exp() if self.logvar is not None else torch.zeros_like(self.mean)

    @property
    def std(self) -> torch.Tensor:
        return (0.5 * self.logvar).exp() if self.logvar is not None else torch.zeros_like(self.mean)

    def sample(self, generator: torch.Generator | None = None, num_samples: int | None = None) -> torch.Tensor:
        """``z = mean + std * eps`` (reparameterised); ``(B, Z)``, or ``(K, B, Z)`` for ``num_samples=K``."""
        if self.logvar is None:
            return self.mean if num_samples is None else self.mean.expand(num_samples, *self.mean.shape)
        shape = self.mean.shape if num_samples is None else (int(num_samples), *self.mean.shape)
        eps = torch.randn(shape, generator=generator, device=self.mean.device, dtype=self.mean.dtype)
        return self.mean + self.std * eps

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """Per-dimension ``log q(z_j|x)`` (same shape as ``z``, broadcast against ``mean``)."""
        if self.logvar is None:
            raise ValueError("a deterministic code has no density")
        return -0.5 * (LOG_2PI + self.logvar + (z - self.mean) ** 2 * torch.exp(-self.logvar))


def _shape(shape, name: str) -> tuple[int, ...]:
    try:
        out = tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"argument '{name}' must be a sequence of ints, got {shape!r}") from None
    if not out or any(s < 1 for s in out):
        raise ValueError(f"argument '{name}' must be a non-empty sequence of positive ints, got {shape!r}")
    return out


class Model(nn.Module):
    """An encoder and a decoder following the module protocol above.

    Args:
        encoder: ``x -> (B, 2 * latent_dim)`` (stochastic) or ``(B, latent_dim)`` (deterministic).
        decoder: ``z (B, latent_dim) -> (B, *observation_shape)`` likelihood parameters.
        latent_dim: size of the code.
        observation_shape: shape of one observation, e.g. ``(3, 64, 64)`` or ``(2,)``.
        stochastic: whether the encoder gives a Gaussian posterior (VAEs) or a point (AEs).
        config: how to rebuild the pair (set by :func:`pydisent.models.architectures.build_model`;
            ``None`` for user modules, whose checkpoints hold weights only).
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module, latent_dim: int,
                 observation_shape: Sequence[int], stochastic: bool = True, config: dict | None = None):
        super().__init__()
        for name, mod in (("encoder", encoder), ("decoder", decoder)):
            if not isinstance(mod, nn.Module):
                raise TypeError(f"argument '{name}' must be a torch.nn.Module, got {type(mod).__name__}")
        self.encoder = encoder
        self.decoder = decoder
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        self.observation_shape = _shape(observation_shape, "observation_shape")
        self.stochastic = bool(stochastic)
        self.arch_config = dict(config) if config is not None else None

    # -- the protocol, checked ---------------------------------------------------------------------
    def check_observations(self, x, name: str = "x") -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"argument '{name}' must be a torch.Tensor, got {type(x).__name__}")
        if tuple(x.shape[1:]) != self.observation_shape:
            raise ValueError(
                f"argument '{name}' must have shape (B, {', '.join(map(str, self.observation_shape))}), "
                f"got {tuple(x.shape)}")
        if not x.is_floating_point():
            raise TypeError(f"argument '{name}' must be a floating-point tensor (convert uint8 images with "
                            f"pydisent.data.to_float_chw), got {x.dtype}")
        return x

    def encode(self, x: torch.Tensor) -> Posterior:
        """The posterior ``q(z|x)`` of a batch (a point mass for a deterministic model)."""
        self.check_observations(x)
        h = self.encoder(x)
        if isinstance(h, (tuple, list)):
            if len(h) != 2:
                raise ValueError(f"the encoder returned a tuple of {len(h)} tensors; expected (mean, logvar)")
            mean, logvar = h
        else:
            want = 2 * self.latent_dim if self.stochastic else self.latent_dim
            if h.ndim != 2 or h.shape != (len(x), want):
                raise ValueError(f"the encoder must return shape ({len(x)}, {want}) "
                                 f"({'2 x ' if self.stochastic else ''}latent_dim={self.latent_dim}), "
                                 f"got {tuple(h.shape)}")
            if not self.stochastic:
                return Posterior(h, None)
            mean, logvar = h[:, : self.latent_dim], h[:, self.latent_dim :]
        if mean.shape != (len(x), self.latent_dim) or logvar.shape != mean.shape:
            raise ValueError(f"the encoder's (mean, logvar) must each have shape ({len(x)}, {self.latent_dim}), "
                             f"got {tuple(mean.shape)} and {tuple(logvar.shape)}")
        return Posterior(mean, logvar)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Likelihood parameters ``(B, *observation_shape)`` for codes ``z (B, latent_dim)``."""
        if not isinstance(z, torch.Tensor):
            raise TypeError(f"argument 'z' must be a torch.Tensor, got {type(z).__name__}")
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"argument 'z' must have shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        out = self.decoder(z)
        if tuple(out.shape) != (len(z), *self.observation_shape):
            raise ValueError(f"the decoder must return shape ({len(z)}, "
                             f"{', '.join(map(str, self.observation_shape))}), got {tuple(out.shape)}")
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The posterior mean (the representation)."""
        return self.encode(x).mean

    def config(self) -> dict:
        """What rebuilds this model (architecture name and arguments), or raises for user modules."""
        return {"latent_dim": self.latent_dim, "observation_shape": list(self.observation_shape),
                "stochastic": self.stochastic, "architecture": self.arch_config}


def _device_of(module: nn.Module) -> torch.device | None:
    p = next(iter(module.parameters()), None)
    return p.device if p is not None else None


def _torch_generator(rng, device) -> torch.Generator | None:
    """A ``torch.Generator`` on ``device`` from ``rng``: itself if it is one, else seeded from a NumPy
    Generator/RandomState or an int (the metrics pass NumPy generators); ``None`` is seed 0 (never the
    global RNG)."""
    if isinstance(rng, torch.Generator):
        return rng
    from pydisent._rng import as_rng, torch_seed

    return torch.Generator(device or "cpu").manual_seed(torch_seed(as_rng(0 if rng is None else rng)))


class Representation(nn.Module):
    """``x -> posterior mean`` (deterministic), for :func:`pydisent.metrics.evaluate`.

    Meets the metrics' subject protocol (:mod:`pydisent.metrics._subject`): ``encode(x)`` (the
    mean), ``posterior(x) -> (mean, logvar)`` (``logvar = -inf`` for a deterministic code), and
    calling it is ``encode``. Observations are moved to the model's device."""

    def __init__(self, model: Model):
        super().__init__()
        self.model = model
        self.latent_dim = model.latent_dim

    def _x(self, x):
        x = x if isinstance(x, torch.Tensor) else torch.as_tensor(x)
        device = _device_of(self.model)
        return x.to(device) if device is not None else x

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.encode(self._x(x)).mean

    encode = forward

    @torch.no_grad()
    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        q = self.model.encode(self._x(x))
        logvar = q.logvar if q.logvar is not None else torch.full_like(q.mean, -math.inf)
        return q.mean, logvar


class Generator(nn.Module):
    """``z -> mean observation`` (the likelihood's mean of the decoder output), with the prior.

    Meets the metrics' subject protocol: ``latent_dim``, ``generate(z)`` (also ``self(z)``),
    ``sample_prior(n, rng)`` drawing ``(n, latent_dim)`` codes from the objective's prior
    (``rng`` a ``torch.Generator``, or a NumPy Generator / int seed that seeds one) and
    ``sample(n, rng)``. Codes are moved to the model's device."""

    def __init__(self, model: Model, likelihood, prior):
        super().__init__()
        self.model = model
        self.likelihood = likelihood
        self.prior = prior
        self.latent_dim = model.latent_dim
        self.observation_shape = model.observation_shape

    @torch.no_grad()
    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = z if isinstance(z, torch.Tensor) else torch.as_tensor(z, dtype=torch.float32)
        device = _device_of(self.model)
        return self.likelihood.mean(self.model.decode(z.to(device) if device is not None else z))

    generate = forward

    @torch.no_grad()
    def sample_prior(self, n: int, rng=None) -> torch.Tensor:
        g = _torch_generator(rng, _device_of(self.model))
        return self.prior.sample(check_positive_int(n, "n"), generator=g)

    @torch.no_grad()
    def sample(self, n: int, rng=None) -> torch.Tensor:
        return self(self.sample_prior(n, rng))
