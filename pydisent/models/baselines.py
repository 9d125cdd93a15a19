"""Baseline representations: functions of the observations only, as any encoder is."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from pydisent._rng import as_rng, torch_seed


class RandomProjection(nn.Module):
    """``z = W flatten(x)`` with ``W_ij ~ N(0, 1/D)`` (D = pixels per observation), fixed by ``rng``."""

    def __init__(self, observation_shape, num_codes: int = 10, rng=0):
        super().__init__()
        d = int(np.prod(observation_shape))
        g = torch.Generator().manual_seed(torch_seed(as_rng(rng)))
        self.register_buffer("weight", torch.randn(d, int(num_codes), generator=g) / math.sqrt(d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(len(x), -1).to(self.weight) @ self.weight


def _top_singular(a: torch.Tensor, k: int, g: torch.Generator, oversample: int = 10, iters: int = 2):
    """Leading ``k`` singular values and right singular vectors of ``a`` by randomised subspace
    iteration (Halko, Martinsson & Tropp 2011), seeded by ``g``: a full SVD of 5000 x 12288 pixels
    takes minutes, this takes well under a second."""
    q = min(k + oversample, *a.shape)
    y = a @ torch.randn(a.shape[1], q, generator=g, dtype=a.dtype)
    for _ in range(iters):
        y, _ = torch.linalg.qr(y)
        y, _ = torch.linalg.qr(a @ (a.T @ y))
    q_mat, _ = torch.linalg.qr(y)
    _, s, vh = torch.linalg.svd(q_mat.T @ a, full_matrices=False)
    return s[:k], vh[:k]


class PCACode(nn.Module):
    """The first ``num_codes`` principal components of the flattened observations,
    ``z = V^T (flatten(x) - mean)``, with ``V`` fitted on ``num_fit`` observations drawn from the
    dataset. Components are scaled to unit variance so codes are comparable across dims."""

    def __init__(self, dataset, num_codes: int = 10, num_fit: int = 5000, rng=0):
        super().__init__()
        rng = as_rng(rng)
        factors = dataset.factor_space.sample_factors(int(num_fit), rng)
        x = dataset.observations(factors).reshape(int(num_fit), -1).to(torch.float32)
        mean = x.mean(0)
        g = torch.Generator().manual_seed(torch_seed(rng))
        s, vh = _top_singular(x - mean, int(num_codes), g)
        k = min(int(num_codes), vh.shape[0])
        scale = s[:k] / math.sqrt(max(int(num_fit) - 1, 1))
        scale = torch.where(scale > 0, scale, torch.ones_like(scale))
        self.register_buffer("mean", mean.to(torch.float32))
        self.register_buffer("components", (vh[:k].T / scale).to(torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.reshape(len(x), -1).to(self.mean) - self.mean) @ self.components


BASELINES = {
    "random_projection": lambda dataset, num_codes, rng: RandomProjection(dataset.observation_shape, num_codes, rng),
    "pca": lambda dataset, num_codes, rng: PCACode(dataset, num_codes, rng=rng),
}


def make_baseline(name: str, dataset, num_codes: int = 10, rng=0) -> nn.Module:
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; known: {sorted(BASELINES)}")
    return BASELINES[name](dataset, num_codes, rng).eval()
