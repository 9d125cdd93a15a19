"""Reconstruction likelihoods ``p(x|z)`` on the decoder's output (``LIKELIHOODS`` by name).

Each likelihood's :meth:`Likelihood.nll` gives ``-log p(x|z)`` **summed over the elements of each
observation**, one value per observation ``(B,)``; objectives average it over the batch
(disentanglement_lib, disentangling-vae, pythae). The decoder output ``p`` is the parameter
before the link:

* ``bernoulli``: ``p`` are logits; ``-log p(x|p) = BCE_with_logits(p, x)`` (x in [0, 1]; a
  soft target gives the cross-entropy, as disentanglement_lib).
* ``gaussian``: mean ``p``, standard deviation ``sigma`` fixed (default 1) or learned (one
  log-sigma per element with ``learn_scale=True``); ``0.5 ((x-p)/sigma)^2 + log sigma + 0.5 log 2 pi``.
  ``constant=False`` (default) drops the terms that do not depend on ``p`` when ``sigma`` is
  fixed, giving ``0.5 ||x - p||^2`` (the lecture's l2 loss).
* ``mse``: ``(x - p)^2``, disent's default ``"mse"`` (a Gaussian of variance 1/2 without constants).
* ``laplace``: location ``p``, scale ``b`` (default 1): ``|x - p| / b + log(2 b)``.
* ``continuous_bernoulli``: Loaiza-Ganem & Cunningham 2019, logits ``p``: the Bernoulli NLL minus
  ``log C(lambda)``, ``C(lambda) = 2 artanh(1 - 2 lambda) / (1 - 2 lambda)`` (``= 2`` at 1/2; a
  Taylor expansion near 1/2, as the paper's code).

The **per-element-mean convention** of disent (``loss_reduction="mean"``) divides the
reconstruction by the number of elements ``D`` and the KL by the latent size ``Z``. The two
objectives are proportional when ``beta_sum = beta_mean * D / Z``: disent's beta 0.003 on
``3 x 64 x 64`` images with ``Z = 9`` is beta ~ 4.1 here. Objectives take ``reduction="sum"``
(default) or ``"mean"`` and apply it; :func:`beta_mean_to_sum` converts.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from pydisent.models._spec import split_spec

LOG_2PI = math.log(2.0 * math.pi)


def beta_mean_to_sum(beta_mean: float, num_elements: int, latent_dim: int) -> float:
    """disent's per-element-mean beta as the per-sample-sum beta: ``beta * D / Z``."""
    return float(beta_mean) * int(num_elements) / int(latent_dim)


def beta_sum_to_mean(beta_sum: float, num_elements: int, latent_dim: int) -> float:
    """The inverse of :func:`beta_mean_to_sum`: ``beta * Z / D``."""
    return float(beta_sum) * int(latent_dim) / int(num_elements)


class Likelihood(nn.Module):
    name = "?"

    def __init__(self, observation_shape=None):
        super().__init__()

    def nll(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``-log p(x | params)`` summed over each observation's elements: ``(B,)``."""
        if params.shape != x.shape:
            raise ValueError(f"decoder output {tuple(params.shape)} and observations {tuple(x.shape)} differ in shape")
        return self.elementwise_nll(params, x).reshape(len(x), -1).sum(1)

    def elementwise_nll(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        """The mean observation for decoder output ``params``."""
        raise NotImplementedError

    def config(self) -> dict:
        return {"name": self.name}


class Bernoulli(Likelihood):
    name = "bernoulli"

    def elementwise_nll(self, params, x):
        return F.binary_cross_entropy_with_logits(params, x, reduction="none")

    def mean(self, params):
        return torch.sigmoid(params)


class Gaussian(Likelihood):
    name = "gaussian"

    def __init__(self, observation_shape=None, sigma: float = 1.0, learn_scale: bool = False, constant: bool = False):
        super().__init__()
        sigma = float(sigma)
        if not sigma > 0:
            raise ValueError(f"argument 'sigma' must be > 0, got {sigma}")
        self.learn_scale = bool(learn_scale)
        self.constant = bool(constant) or self.learn_scale
        self.sigma = sigma
        if self.learn_scale:
            if observation_shape is None:
                raise ValueError("argument 'observation_shape' is needed for a learned Gaussian scale")
            self.log_sigma = nn.Parameter(torch.full(tuple(observation_shape), math.log(sigma)))
        else:
            self.log_sigma = math.log(sigma)  # a Python float: exact in any dtype

    def elementwise_nll(self, params, x):
        if self.learn_scale:
            log_sigma = self.log_sigma.to(params.dtype)
            out = 0.5 * (x - params) ** 2 * torch.exp(-2.0 * log_sigma)
        else:
            log_sigma = self.log_sigma
            out = (0.5 / (self.sigma * self.sigma)) * (x - params) ** 2
        if self.constant:
            out = out + log_sigma + 0.5 * LOG_2PI
        return out

    def mean(self, params):
        return params

    def config(self):
        return {"name": self.name, "sigma": self.sigma, "learn_scale": self.learn_scale, "constant": self.constant}


class SquaredError(Gaussian):
    """``(x - p)^2`` per element (disent's ``"mse"``): a Gaussian of variance 1/2 without its constants."""

    name = "mse"

    def __init__(self, observation_shape=None):
        super().__init__(observation_shape, sigma=math.sqrt(0.5))

    def config(self):
        return {"name": self.name}


class Laplace(Likelihood):
    name = "laplace"

    def __init__(self, observation_shape=None, scale: float = 1.0, constant: bool = False):
        super().__init__()
        self.scale = float(scale)
        if not self.scale > 0:
            raise ValueError(f"argument 'scale' must be > 0, got {scale}")
        self.constant = bool(constant)

    def elementwise_nll(self, params, x):
        out = (x - params).abs() / self.scale
        if self.constant:
            out = out + math.log(2.0 * self.scale)
        return out

    def mean(self, params):
        return params

    def config(self):
        return {"name": self.name, "scale": self.scale, "constant": self.constant}


def continuous_bernoulli_log_norm(logits: torch.Tensor, lims=(0.49, 0.51)) -> torch.Tensor:
    """``log C(lambda)``, ``lambda = sigmoid(logits)``: ``log(2 artanh(1 - 2 l) / (1 - 2 l))``, replaced in
    ``lims`` by its Taylor expansion ``log 2 + (4/3) (l - 1/2)^2 + (104/45) (l - 1/2)^4`` (the closed form
    divides 0 by 0 at 1/2)."""
    lam = torch.sigmoid(logits).clamp(1e-6, 1 - 1e-6)
    near = (lam > lims[0]) & (lam < lims[1])
    safe = torch.where(near, torch.full_like(lam, lims[0]), lam)
    exact = torch.log(torch.abs(2.0 * torch.atanh(1.0 - 2.0 * safe))) - torch.log(torch.abs(1.0 - 2.0 * safe))
    d = lam - 0.5
    taylor = math.log(2.0) + (4.0 / 3.0) * d**2 + (104.0 / 45.0) * d**4
    return torch.where(near, taylor, exact)


class ContinuousBernoulli(Likelihood):
    name = "continuous_bernoulli"

    def elementwise_nll(self, params, x):
        return F.binary_cross_entropy_with_logits(params, x, reduction="none") - continuous_bernoulli_log_norm(params)

    def mean(self, params):
        # E[x] = l / (2 l - 1) + 1 / (2 artanh(1 - 2 l)), -> 1/2 at l = 1/2
        lam = torch.sigmoid(params).clamp(1e-6, 1 - 1e-6)
        near = (lam - 0.5).abs() < 1e-3
        safe = torch.where(near, torch.full_like(lam, 0.4), lam)
        m = safe / (2 * safe - 1) + 1 / (2 * torch.atanh(1 - 2 * safe))
        return torch.where(near, 0.5 + (lam - 0.5) / 3.0, m)


LIKELIHOODS = {c.name: c for c in (Bernoulli, Gaussian, SquaredError, Laplace, ContinuousBernoulli)}


def make_likelihood(spec="bernoulli", observation_shape=None) -> Likelihood:
    """A likelihood from a name, a dict ``{"name": ..., **options}`` or an instance."""
    if isinstance(spec, Likelihood):
        return spec
    name, spec = split_spec(spec)
    if name not in LIKELIHOODS:
        raise ValueError(f"argument 'likelihood': unknown {name!r}; known: {sorted(LIKELIHOODS)}")
    return LIKELIHOODS[name](observation_shape, **spec)
