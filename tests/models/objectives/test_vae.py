"""VAE, beta-VAE, annealed VAE: terms by hand, the reduction convention, the batch-mean capacity."""

import numpy as np
import pytest
import torch

from pydisent.models import beta_mean_to_sum, make_objective
from tests.models._fixed import bce, eps_like, fixed_model, gauss_kl, setup_case


@pytest.mark.parametrize("name,hp", [("vae", {}), ("beta_vae", {"beta": 3.0})])
def test_vae_terms_by_hand(rng, seed, name, hp):
    mean, logvar, weight, x = setup_case(rng)
    obj = make_objective(name, model=fixed_model(mean, logvar, weight), likelihood="bernoulli", **hp)
    out = obj.loss(x, 0, torch.Generator().manual_seed(seed))
    (eps,) = eps_like(mean.shape, seed)
    z = mean + np.exp(0.5 * logvar) * eps.numpy()
    rec = bce(z @ weight.T, x.numpy()).mean()
    kl = gauss_kl(mean, logvar).mean()
    assert out.terms["recon"].item() == pytest.approx(rec, rel=1e-10)
    assert out.terms["kl"].item() == pytest.approx(kl, rel=1e-10)
    assert out.total.item() == pytest.approx(rec + hp.get("beta", 1.0) * kl, rel=1e-10)


def test_reduction_mean_is_disent_convention_and_beta_converts(rng, seed):

    mean, logvar, weight, x = setup_case(rng)
    D, Z = weight.shape
    m = make_objective("beta_vae", model=fixed_model(mean, logvar, weight), likelihood="bernoulli",
                       reduction="mean", beta=0.01)
    s = make_objective("beta_vae", model=fixed_model(mean, logvar, weight), likelihood="bernoulli",
                       beta=beta_mean_to_sum(0.01, D, Z))
    om = m.loss(x, 0, torch.Generator().manual_seed(seed))
    os_ = s.loss(x, 0, torch.Generator().manual_seed(seed))
    assert om.terms["recon"].item() == pytest.approx(os_.terms["recon"].item() / D)
    assert om.terms["kl"].item() == pytest.approx(os_.terms["kl"].item() / Z)
    assert om.total.item() * D == pytest.approx(os_.total.item(), rel=1e-10)


def test_annealed_capacity_uses_batch_mean_kl(rng, seed):
    # two samples with KL on either side of C: |mean KL - C| differs from mean |KL - C| (pythae's form)
    mean = np.array([[0.1, 0.0], [3.0, 2.0]])
    logvar = np.zeros((2, 2))
    weight = rng.normal(size=(3, 2))
    x = torch.as_tensor(rng.uniform(size=(2, 3)))
    kl = gauss_kl(mean, logvar)
    C = 2.0
    obj = make_objective("annealed_vae", model=fixed_model(mean, logvar, weight), likelihood="bernoulli",
                         gamma=10.0, c_max=4.0, c_steps=100)
    assert obj.capacity(50) == pytest.approx(C)
    assert obj.capacity(10**6) == pytest.approx(4.0)
    out = obj.loss(x, 50, torch.Generator().manual_seed(seed))
    reg = out.total.item() - out.terms["recon"].item()
    assert reg == pytest.approx(10.0 * abs(kl.mean() - C), rel=1e-9)
    assert reg != pytest.approx(10.0 * np.abs(kl - C).mean(), rel=1e-3)
    obj.hparams["c_steps"] = 0
    obj.c = 1.5  # a trainer schedule sets the attribute
    assert obj.capacity(50) == 1.5
