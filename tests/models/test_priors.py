"""Priors: densities against scipy, closed-form KLs against torch.distributions, samplers by KS tests, PCA init."""

import numpy as np
import pytest
import torch
from scipy import stats

from pydisent.models import make_prior
from pydisent.models.base import Posterior
from pydisent.models.priors import sample_gamma

T = lambda a: torch.as_tensor(a, dtype=torch.float64)  # noqa: E731


def test_prior_densities_against_scipy(rng):
    z = rng.normal(scale=2, size=(6, 3))
    np.testing.assert_allclose(make_prior("gaussian", 3).log_prob(T(z)).numpy(), stats.norm.logpdf(z).sum(1))
    st = make_prior({"name": "student_t", "dof": 2.0}, 3)
    np.testing.assert_allclose(st.log_prob(T(z)).numpy(), stats.t.logpdf(z, 2).sum(1), rtol=1e-10)
    ss = make_prior("spike_slab", 3)
    ref = np.log(0.8 * stats.norm.pdf(z, 0, 0.05) + 0.2 * stats.norm.pdf(z, 0, 1)).sum(1)
    np.testing.assert_allclose(ss.log_prob(T(z)).numpy(), ref, rtol=1e-9)
    an = make_prior({"name": "anisotropic", "scales": [0.5, 1.0, 2.0]}, 3)
    np.testing.assert_allclose(an.log_prob(T(z)).detach().numpy(),
                               stats.norm.logpdf(z, 0, [0.5, 1.0, 2.0]).sum(1), rtol=1e-6)
    mix = make_prior("mixture", 3)
    means = np.array([[0, -1, 0], [0, 1, 0], [1, 0, 0], [-1, 0, 0]], dtype=float)
    ref = np.log(np.mean([stats.multivariate_normal(m, np.eye(3)).pdf(z) for m in means], axis=0))
    np.testing.assert_allclose(mix.log_prob(T(z)).numpy(), ref, rtol=1e-6)


def test_closed_form_kls(rng):
    mean, logvar = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    q = Posterior(T(mean), T(logvar))
    for spec, sd in (("gaussian", np.ones(3)), ({"name": "anisotropic", "scales": [0.5, 1.0, 3.0]}, [0.5, 1.0, 3.0])):
        prior = make_prior(spec, 3)
        ref = torch.distributions.kl_divergence(
            torch.distributions.Normal(T(mean), T(np.exp(0.5 * logvar))), torch.distributions.Normal(0.0, T(sd))
        ).sum(1)
        np.testing.assert_allclose(prior.kl(q).detach().numpy(), ref.numpy(), rtol=1e-6)
    assert make_prior("student_t", 3).kl(q) is None  # Monte-Carlo in the objectives


def test_prior_samples_follow_the_density(seed):
    g = torch.Generator().manual_seed(seed)
    n = 20000
    st = make_prior("student_t", 1).sample(n, g).double().numpy()[:, 0]
    assert stats.kstest(st, stats.t(2).cdf).pvalue > 1e-4
    ss = make_prior("spike_slab", 1).sample(n, g).double().numpy()[:, 0]
    near = 0.8 + 0.2 * (stats.norm.cdf(0.2) - stats.norm.cdf(-0.2))
    assert (np.abs(ss) < 0.2).mean() == pytest.approx(near, abs=0.02)
    mix = make_prior({"name": "mixture", "scale": 0.1}, 2).sample(n, g).numpy()
    centres = np.array([[0, -1], [0, 1], [1, 0], [-1, 0]])
    nearest = np.argmin(((mix[:, None] - centres[None]) ** 2).sum(-1), 1)
    np.testing.assert_allclose(np.bincount(nearest, minlength=4) / n, 0.25, atol=0.02)
    for a in (0.3, 1.0, 2.5):
        x = sample_gamma((n,), a, g, dtype=torch.float64).numpy()
        assert stats.kstest(x, stats.gamma(a).cdf).pvalue > 1e-4, a


def test_anisotropic_pca_init(rng):
    x = torch.as_tensor(rng.normal(size=(500, 6)) * np.array([4.0, 2.0, 1.0, 0.5, 0.1, 0.1]))
    prior = make_prior("anisotropic", 3).init_pca(x)
    var = (2 * prior.log_scale).exp().detach().numpy()
    assert var.mean() == pytest.approx(1.0)
    assert var[0] > var[1] > var[2]
    assert var[0] / var[1] == pytest.approx(4.0, rel=0.25)


def test_prior_sampling_takes_numpy_rng_through_the_generator_view():
    from pydisent.models import make_objective

    obj = make_objective("decomposition_vae", (2,), latent_dim=2, prior="student_t")
    a = obj.generator().sample_prior(5, np.random.default_rng(3))
    b = obj.generator().sample_prior(5, np.random.default_rng(3))
    assert torch.equal(a, b) and a.shape == (5, 2)
