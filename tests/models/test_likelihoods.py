"""Likelihoods against scipy and closed forms, the continuous-Bernoulli normaliser by quadrature,
the beta conversion."""

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from pydisent.models import make_likelihood
from pydisent.models.likelihoods import beta_mean_to_sum, beta_sum_to_mean, continuous_bernoulli_log_norm

T = lambda a: torch.as_tensor(a, dtype=torch.float64)  # noqa: E731


def test_likelihoods_by_hand(rng):
    p = rng.normal(size=(3, 4))
    x = rng.uniform(size=(3, 4))
    sig = 1 / (1 + np.exp(-p))
    bern = -(x * np.log(sig) + (1 - x) * np.log(1 - sig)).sum(1)
    np.testing.assert_allclose(make_likelihood("bernoulli").nll(T(p), T(x)).numpy(), bern, rtol=1e-10)
    g = make_likelihood({"name": "gaussian", "sigma": 0.5, "constant": True})
    np.testing.assert_allclose(g.nll(T(p), T(x)).numpy(), -stats.norm.logpdf(x, p, 0.5).sum(1), rtol=1e-10)
    np.testing.assert_allclose(make_likelihood("gaussian").nll(T(p), T(x)).numpy(), 0.5 * ((x - p) ** 2).sum(1))
    np.testing.assert_allclose(make_likelihood("mse").nll(T(p), T(x)).numpy(), ((x - p) ** 2).sum(1), rtol=1e-12)
    lap = make_likelihood({"name": "laplace", "scale": 2.0, "constant": True})
    np.testing.assert_allclose(lap.nll(T(p), T(x)).numpy(), -stats.laplace.logpdf(x, p, 2.0).sum(1), rtol=1e-10)
    assert torch.allclose(make_likelihood("bernoulli").mean(T(p)), T(sig))


def test_gaussian_learned_scale_is_a_parameter():
    g = make_likelihood({"name": "gaussian", "learn_scale": True}, (2, 3))
    assert isinstance(g.log_sigma, torch.nn.Parameter) and g.log_sigma.shape == (2, 3)
    x = torch.zeros(4, 2, 3)
    loss = g.nll(torch.ones(4, 2, 3), x).mean()
    loss.backward()
    assert g.log_sigma.grad is not None


@pytest.mark.parametrize("logit", [-3.0, -0.5, -0.01, 0.0, 0.02, 1.0, 4.0])
def test_continuous_bernoulli_normaliser_integrates_to_one(logit):
    lam = 1 / (1 + math.exp(-logit))
    log_c = continuous_bernoulli_log_norm(torch.tensor(logit, dtype=torch.float64)).item()
    area, _ = integrate.quad(lambda v: lam**v * (1 - lam) ** (1 - v), 0, 1)
    assert log_c == pytest.approx(-math.log(area), abs=1e-6)
    # nll = bernoulli nll - log C; its density integrates to 1
    cb = make_likelihood("continuous_bernoulli")
    dens = lambda v: math.exp(-cb.elementwise_nll(torch.tensor(logit, dtype=torch.float64),  # noqa: E731
                                                   torch.tensor(v, dtype=torch.float64)).item())
    assert integrate.quad(dens, 0, 1)[0] == pytest.approx(1.0, abs=1e-6)
    mean = cb.mean(torch.tensor(logit, dtype=torch.float64)).item()
    assert mean == pytest.approx(integrate.quad(lambda v: v * dens(v), 0, 1)[0], abs=1e-4)


def test_beta_conversion_round_trip():
    # disent's comment: beta 0.003 under mean reduction ~ beta 4 for 64x64x3, z = 9
    assert beta_mean_to_sum(0.003, 64 * 64 * 3, 9) == pytest.approx(4.096)
    assert beta_sum_to_mean(beta_mean_to_sum(0.01, 100, 7), 100, 7) == pytest.approx(0.01)
