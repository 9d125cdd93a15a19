"""The decomposition VAE: the IMQ MMD by its double sum, the inclusive KL, K samples, the IWAE bound."""

import math

import numpy as np
import pytest
import torch

from pydisent.models import make_objective
from pydisent.models.objectives.decomposition import imq_mmd_dims, inclusive_kl, iwae_bound
from tests.models._fixed import bce, eps_like, fixed_model, gauss_kl, setup_case


def test_imq_mmd_by_double_sum(rng):
    B, Z = 5, 3
    X, Y = rng.normal(size=(B, Z)), rng.normal(loc=0.5, size=(B, Z))
    ref = 0.0
    for s in (0.1, 0.2, 0.5, 1.0, 2.0, 5.0):
        c = 2 * s
        k = lambda a, b, c=c: c / (c + (a - b) ** 2)
        for d in range(Z):
            within = sum(k(X[i, d], X[j, d]) + k(Y[i, d], Y[j, d]) for i in range(B) for j in range(B) if i != j)
            cross = sum(k(X[i, d], Y[j, d]) for i in range(B) for j in range(B))
            ref += within / (B - 1) - 2 * cross / B
    ref /= B
    got = imq_mmd_dims(torch.as_tensor(X), torch.as_tensor(Y)).item()
    assert got == pytest.approx(ref, rel=1e-10)
    # same distribution -> near zero on a large sample, different -> clearly positive
    g = np.random.default_rng(0)
    same = imq_mmd_dims(torch.as_tensor(g.normal(size=(400, 2))), torch.as_tensor(g.normal(size=(400, 2)))).item()
    diff = imq_mmd_dims(torch.as_tensor(g.normal(size=(400, 2))), torch.as_tensor(g.normal(2, size=(400, 2)))).item()
    assert abs(same) < 0.05 < diff


def test_inclusive_kl_by_hand(rng):
    from pydisent.models.priors import StandardGaussian

    B, Z = 4, 2
    mean, logvar = rng.normal(size=(B, Z)), rng.normal(scale=0.3, size=(B, Z))
    prior = StandardGaussian(Z)
    got = inclusive_kl(prior, torch.as_tensor(mean), torch.as_tensor(logvar), torch.Generator().manual_seed(5)).item()
    zp = prior.sample(B, torch.Generator().manual_seed(5)).double().numpy()
    ref = 0.0
    for b in range(B):
        lp = -0.5 * (Z * math.log(2 * math.pi) + (zp[b] ** 2).sum())
        lq = [(-0.5 * (np.log(2 * np.pi) + logvar[j] + (zp[b] - mean[j]) ** 2 / np.exp(logvar[j]))).sum()
              for j in range(B)]
        ref += lp - (np.logaddexp.reduce(lq) - math.log(B))
    assert got == pytest.approx(ref / B, rel=1e-6)


def test_decomposition_loss_and_iwae(rng, seed):
    mean, logvar, weight, x = setup_case(rng)
    model = fixed_model(mean, logvar, weight)
    obj = make_objective("decomposition_vae", model=model, likelihood="bernoulli", num_samples=3, beta=2.0)
    out = obj.loss(x, 0, torch.Generator().manual_seed(seed))
    (eps,) = eps_like((3, *mean.shape), seed)
    z = mean + np.exp(0.5 * logvar) * eps.numpy()
    rec = np.mean([bce(z[k] @ weight.T, x.numpy()).mean() for k in range(3)])
    assert out.total.item() == pytest.approx(rec + 2.0 * gauss_kl(mean, logvar).mean(), rel=1e-10)
    # K = 1: the IWAE bound is the single-sample ELBO; it tightens (on average) with K
    e1 = iwae_bound(obj, x, 1, torch.Generator().manual_seed(seed))
    (eps,) = eps_like((1, *mean.shape), seed)
    z1 = mean + np.exp(0.5 * logvar) * eps.numpy()[0]
    lq = (-0.5 * (np.log(2 * np.pi) + logvar + eps.numpy()[0] ** 2)).sum(1)
    lp = (-0.5 * (np.log(2 * np.pi) + z1**2)).sum(1)
    np.testing.assert_allclose(e1.numpy(), -bce(z1 @ weight.T, x.numpy()) + lp - lq, rtol=1e-10)
    elbo = np.mean([iwae_bound(obj, x, 1, torch.Generator().manual_seed(s)).mean().item() for s in range(200)])
    iw = np.mean([iwae_bound(obj, x, 50, torch.Generator().manual_seed(s)).mean().item() for s in range(20)])
    assert iw > elbo


def test_decomposition_alpha_terms(rng, seed):
    mean, logvar, weight, x = setup_case(rng, B=6)
    for div in ("kl", "mmd"):
        obj = make_objective("decomposition_vae", model=fixed_model(mean, logvar, weight), likelihood="bernoulli",
                             alpha=3.0, divergence=div)
        out = obj.loss(x, 0, torch.Generator().manual_seed(seed))
        assert out.total.item() == pytest.approx(out.terms["recon"].item() + out.terms["kl"].item()
                                                 + 3.0 * out.terms["divergence"].item(), rel=1e-10)
