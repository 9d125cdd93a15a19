"""DIP-VAE I and II: the covariances are the definitions, the penalty and totals by hand."""

import numpy as np
import pytest
import torch

from pydisent.models import make_objective
from pydisent.models.objectives.dip import covariance, dip_covariance, dip_penalty
from tests.models._fixed import fixed_model, gauss_kl, setup_case


def test_dip_covariances_are_the_definitions(rng):
    mean = rng.normal(size=(7, 3))
    logvar = rng.normal(size=(7, 3))
    t = lambda a: torch.as_tensor(a)  # noqa: E731
    cov_mu = np.cov(mean.T, bias=True)
    np.testing.assert_allclose(covariance(t(mean)).numpy(), cov_mu, rtol=1e-10)
    np.testing.assert_allclose(dip_covariance(t(mean), t(logvar), "i").numpy(), cov_mu, rtol=1e-10)
    c2 = dip_covariance(t(mean), t(logvar), "ii").numpy()
    np.testing.assert_allclose(c2, cov_mu + np.diag(np.exp(logvar).mean(0)), rtol=1e-10)
    off = ~np.eye(3, dtype=bool)
    np.testing.assert_allclose(c2[off], cov_mu[off], rtol=1e-10)  # disent #5 added a scalar off the diagonal
    pen = dip_penalty(t(c2), 2.0, 3.0).item()
    assert pen == pytest.approx(2.0 * (c2[off] ** 2).sum() + 3.0 * ((np.diag(c2) - 1) ** 2).sum(), rel=1e-10)


@pytest.mark.parametrize("name,lod,ld", [("dip_vae_i", 5.0, 50.0), ("dip_vae_ii", 5.0, 5.0)])
def test_dip_vae_total_and_defaults(rng, seed, name, lod, ld):
    mean, logvar, weight, x = setup_case(rng, B=6)
    obj = make_objective(name, model=fixed_model(mean, logvar, weight), likelihood="bernoulli")
    assert (obj.lambda_od, obj.lambda_d) == (lod, ld)
    out = obj.loss(x, 0, torch.Generator().manual_seed(seed))
    cov = dip_covariance(torch.as_tensor(mean), torch.as_tensor(logvar), name[-2:].strip("_"))
    ref = gauss_kl(mean, logvar).mean() + dip_penalty(cov, lod, ld).item()
    assert out.total.item() - out.terms["recon"].item() == pytest.approx(ref, rel=1e-10)
