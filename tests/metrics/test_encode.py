"""pydisent.metrics._encode: the code cache is exact and encodes each item once."""

from __future__ import annotations

import numpy as np
import torch

import pydisent.metrics as pm
from tests.metrics._data import SIZES, FactorVectors


def test_code_cache_is_exact_and_encodes_each_item_once(seed):
    """With a deterministic representation, caching changes no number and encodes each item once."""
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(len(SIZES), 6, generator=gen)
    calls = []

    def rep(x):
        calls.append(len(x))
        return torch.tanh(torch.as_tensor(x, dtype=torch.float32) @ w)

    names = ["mig", "factor_vae", "beta_vae", "irs"]
    opts = {"mig": {"num_train": 3000}, "irs": {"num_train": 800},
            "beta_vae": {"num_train": 300, "num_eval": 300, "batch_size": 16},
            "factor_vae": {"num_train": 300, "num_eval": 300, "num_variance_estimate": 1000, "batch_size": 16}}
    cached = pm.evaluate(rep, FactorVectors(), names, seed=seed, options=opts)
    n_cached = sum(calls)
    calls.clear()
    plain = pm.evaluate(rep, FactorVectors(), names, seed=seed, options=opts, cache_codes=False)
    assert cached == plain
    assert n_cached <= int(np.prod(SIZES)) < sum(calls)
