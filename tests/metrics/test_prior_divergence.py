"""Aggregate-posterior divergences (Mathieu et al. 2019) against a transcription and in behaviour."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import pydisent.metrics as pm
from tests._references import disentanglement_lib as ref


def test_mmd_dim_and_kld_inc_parity(rng):
    from pydisent.metrics._prior_divergence import _imq_mmd_dim

    x = rng.standard_normal((12, 3))
    y = rng.standard_normal((12, 3)) + 1.0
    got = float(_imq_mmd_dim(torch.from_numpy(x)[None], torch.from_numpy(y)[None])[0])
    assert got == pytest.approx(ref.mmd_dim(x, y), abs=1e-12)
    same = float(_imq_mmd_dim(torch.from_numpy(x)[None], torch.from_numpy(x)[None])[0])
    assert -12 * 3 / 12 <= same < 0  # X = Y: slightly negative, bounded by -12 D / B
    # kld_inc with a standard normal prior: compare with a loop transcription on the same prior draws
    mu = rng.standard_normal((16, 3)) * 0.5
    logvar = rng.standard_normal((16, 3)) * 0.1 - 1.0
    out = pm.prior_divergence(mu, logvar, batch_size=16, rng=3, divergences="kld_inc")
    zp = torch.randn((1, 16, 3), generator=torch.Generator().manual_seed(3), dtype=torch.float64).numpy()[0]
    assert out["kld_inc"] == pytest.approx(ref.kld_inc(zp, mu, logvar), abs=1e-10)


def test_prior_divergence_behaviour(rng):
    n, d = 1024, 5
    # posterior = prior (mu ~ N(0, 1 - s^2), var s^2): aggregate is N(0, I)
    s2 = 0.01
    mu = rng.standard_normal((n, d)) * np.sqrt(1 - s2)
    lv = np.full((n, d), np.log(s2))
    near = pm.prior_divergence(mu, lv, rng=0)
    far = pm.prior_divergence(mu + 3.0, lv, rng=0)
    assert abs(near["mmd_dim"]) < 0.5 and far["mmd_dim"] > 10  # spec: ~+18 for N(0,1) vs N(3,1), B=64, D=5
    assert near["kld_inc"] < far["kld_inc"] and far["kld_inc"] > 10
    d1 = torch.distributions.Normal(torch.zeros(d, dtype=torch.float64), torch.ones(d, dtype=torch.float64))
    with_prior = pm.prior_divergence(mu, lv, rng=0, prior=d1)
    assert abs(with_prior["mmd_dim"] - near["mmd_dim"]) < 0.5
    state = torch.random.get_rng_state()
    pm.prior_divergence(mu, lv, rng=1, prior=d1)
    assert torch.equal(state, torch.random.get_rng_state())  # the global RNG is left untouched
