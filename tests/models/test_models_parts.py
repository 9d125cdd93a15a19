"""Likelihoods, priors and architectures against closed forms, scipy and disentanglement_lib's layer shapes."""

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from pydisent.models import (
    ARCHITECTURES, LIKELIHOODS, PRIORS, Model, build_model, make_likelihood, make_prior,
)
from pydisent.models.base import Posterior
from pydisent.models.likelihoods import beta_mean_to_sum, beta_sum_to_mean, continuous_bernoulli_log_norm
from pydisent.models.priors import sample_gamma

T = lambda a: torch.as_tensor(a, dtype=torch.float64)  # noqa: E731


# -- likelihoods ----------------------------------------------------------------------------------
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


# -- priors ---------------------------------------------------------------------------------------
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
    assert (np.abs(ss) < 0.2).mean() == pytest.approx(0.8 + 0.2 * (stats.norm.cdf(0.2) - stats.norm.cdf(-0.2)), abs=0.02)
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


# -- architectures --------------------------------------------------------------------------------
def _count(mod):
    return sum(p.numel() for p in mod.parameters())


def test_conv64_is_disentanglement_lib(rng):
    m = build_model((3, 64, 64), 10, "conv64")
    x = torch.rand(2, 3, 64, 64)
    shapes = []
    h = x
    for layer in m.encoder.net:
        h = layer(h)
        if isinstance(layer, torch.nn.Conv2d):
            shapes.append(tuple(h.shape[1:]))
    assert shapes == [(32, 32, 32), (32, 16, 16), (64, 8, 8), (64, 4, 4)]
    assert [c.kernel_size for c in m.encoder.net if isinstance(c, torch.nn.Conv2d)] == [(4, 4), (4, 4), (2, 2), (2, 2)]
    # parameter counts of conv_encoder / deconv_decoder (TF layers: kernel + bias)
    enc = (3 * 32 * 16 + 32) + (32 * 32 * 16 + 32) + (32 * 64 * 4 + 64) + (64 * 64 * 4 + 64) + (1024 * 256 + 256) \
        + 2 * (256 * 10 + 10)
    dec = (10 * 256 + 256) + (256 * 1024 + 1024) + (64 * 64 * 16 + 64) + (64 * 32 * 16 + 32) + (32 * 32 * 16 + 32) \
        + (32 * 3 * 16 + 3)
    assert _count(m.encoder) == enc and _count(m.decoder) == dec
    q = m.encode(x)
    assert q.mean.shape == (2, 10) and m.decode(q.mean).shape == (2, 3, 64, 64)
    biases = [mod.bias for mod in m.modules() if isinstance(mod, (torch.nn.Conv2d, torch.nn.Linear))]
    assert all(float(b.detach().abs().sum()) == 0 for b in biases)  # TF's zero bias init


def test_fc_is_disentanglement_lib():
    m = build_model((1, 64, 64), 10, "fc")
    enc = (4096 * 1200 + 1200) + (1200 * 1200 + 1200) + 2 * (1200 * 10 + 10)
    dec = (10 * 1200 + 1200) + 2 * (1200 * 1200 + 1200) + (1200 * 4096 + 4096)
    assert _count(m.encoder) == enc and _count(m.decoder) == dec
    assert m.decode(m.encode(torch.rand(2, 1, 64, 64)).mean).shape == (2, 1, 64, 64)


@pytest.mark.parametrize("size", [32, 64])
def test_burgess_shapes(size):
    m = build_model((1, size, size), 6, "burgess")
    convs = [c for c in m.encoder.net if isinstance(c, torch.nn.Conv2d)]
    assert len(convs) == (3 if size == 32 else 4) and all(c.out_channels == 32 for c in convs)
    z = m.encode(torch.rand(3, 1, size, size)).mean
    assert m.decode(z).shape == (3, 1, size, size)


def test_mlp_and_tied_weights():
    m = build_model((2, 3), 4, "mlp", stochastic=False, hidden=[8, 5], tied=True)
    enc = m.encoder
    x = torch.rand(7, 2, 3)
    z = m.encode(x).mean
    out = m.decode(z)
    assert out.shape == (7, 2, 3)
    # tied: decoder layer i is W_{L-i}^T: same storage, no weights of its own
    assert all(not n.endswith("weight") for n, _ in m.decoder.named_parameters())
    h = z
    for i, layer in enumerate(reversed(enc.layers)):
        h = h @ layer.weight + m.decoder.biases[i]
        if i < len(enc.layers) - 1:
            h = torch.relu(h)
    assert torch.allclose(h.view(7, 2, 3), out)
    out.sum().backward()
    assert enc.layers[0].weight.grad is not None
    assert "decoder._encoder" not in dict(m.named_modules())  # weights saved once, with the encoder
    with pytest.raises(ValueError, match="tied"):
        build_model((6,), 4, "mlp", stochastic=True, tied=True)


def test_user_modules_follow_the_protocol():
    enc = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 6))
    dec = torch.nn.Sequential(torch.nn.Linear(3, 12), torch.nn.Unflatten(1, (3, 4)))
    m = Model(enc, dec, 3, (3, 4))
    q = m.encode(torch.rand(5, 3, 4))
    assert q.mean.shape == (5, 3) and q.logvar.shape == (5, 3)
    # a tuple (mean, logvar) is accepted too
    class Two(torch.nn.Module):
        def forward(self, x):
            return x.reshape(len(x), -1)[:, :3], x.reshape(len(x), -1)[:, 3:6]
    assert Model(Two(), dec, 3, (3, 4)).encode(torch.rand(2, 3, 4)).logvar.shape == (2, 3)
    with pytest.raises(ValueError, match="encoder must return shape"):
        Model(enc, dec, 4, (3, 4)).encode(torch.rand(5, 3, 4))
    with pytest.raises(ValueError, match="decoder must return shape"):
        Model(enc, torch.nn.Linear(3, 12), 3, (3, 4)).decode(torch.zeros(2, 3))
    with pytest.raises(TypeError, match="'encoder'"):
        Model(lambda x: x, dec, 3, (3, 4))


def test_registries_are_complete():
    assert set(ARCHITECTURES) == {"conv64", "burgess", "fc", "mlp"}
    assert set(LIKELIHOODS) == {"bernoulli", "gaussian", "mse", "laplace", "continuous_bernoulli"}
    assert set(PRIORS) == {"gaussian", "anisotropic", "student_t", "spike_slab", "mixture"}
