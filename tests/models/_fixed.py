"""A model whose posterior and decoder are known in closed form, so loss terms can be computed by hand."""

import numpy as np
import torch
from torch import nn

from pydisent.models import Model


class TableEncoder(nn.Module):
    """Returns the fixed ``(B, 2Z)`` table (mean | logvar), whatever the observations."""

    def __init__(self, mean, logvar):
        super().__init__()
        self.mean = nn.Parameter(torch.as_tensor(mean, dtype=torch.float64).clone())
        self.logvar = nn.Parameter(torch.as_tensor(logvar, dtype=torch.float64).clone())

    def forward(self, x):
        n = len(x)
        reps = -(-n // len(self.mean))
        return torch.cat([self.mean.repeat(reps, 1)[:n], self.logvar.repeat(reps, 1)[:n]], 1)


class LinearDecoder(nn.Module):
    def __init__(self, weight, obs_dim):
        super().__init__()
        self.weight = nn.Parameter(torch.as_tensor(weight, dtype=torch.float64).clone())  # (D, Z)
        self.obs_dim = obs_dim

    def forward(self, z):
        return z @ self.weight.T


def fixed_model(mean, logvar, weight):
    mean = torch.as_tensor(mean, dtype=torch.float64)
    weight = torch.as_tensor(weight, dtype=torch.float64)
    return Model(TableEncoder(mean, logvar), LinearDecoder(weight, weight.shape[0]), mean.shape[1], (weight.shape[0],))


def eps_like(shape, seed, num=1):
    """The standard normal draws a ``torch.Generator().manual_seed(seed)`` gives first."""
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(shape, generator=g, dtype=torch.float64) for _ in range(num)]


def setup_case(rng, B=4, Z=3, D=5):
    """A random posterior table, decoder weight and observations in [0, 1]."""
    mean = rng.normal(size=(B, Z))
    logvar = rng.normal(scale=0.5, size=(B, Z))
    weight = rng.normal(size=(D, Z))
    x = rng.uniform(size=(B, D))
    return mean, logvar, weight, torch.as_tensor(x)


def gauss_kl(mean, logvar):
    """KL(N(mean, exp(logvar)) || N(0, I)) per row, by the closed form."""
    return 0.5 * (mean**2 + np.exp(logvar) - logvar - 1).sum(1)


def bce(logits, x):
    """Bernoulli negative log-likelihood per row, from the sigmoid."""
    p = 1 / (1 + np.exp(-logits))
    return -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(1)
