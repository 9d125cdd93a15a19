"""Ada-GVAE / Ada-ML-VAE: the threshold, the averages and the loss by hand."""

import numpy as np
import pytest
import torch

from pydisent.models import make_objective
from pydisent.models.base import Posterior
from pydisent.models.objectives.weak import ada_posteriors, kl_dims, shared_mask
from tests.models._fixed import bce, eps_like, fixed_model, gauss_kl


def test_shared_mask_is_dlib_two_bins():
    d = torch.tensor([[0.0, 0.1, 0.9, 1.0, 0.5], [2.0, 2.0, 2.0, 2.0, 2.0]])
    m = shared_mask(d, 0.5)
    assert m[0].tolist() == [True, True, False, False, False]  # 0.5 = the midpoint is in the upper bin
    assert not m[1].any()


def test_kl_dims_matches_dlib_compute_kl_over_two(rng):
    m0, m1 = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    l0, l1 = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    dlib = np.exp(l0) / np.exp(l1) + (m1 - m0) ** 2 / np.exp(l1) - 1 + l1 - l0
    t = lambda a: torch.as_tensor(a)  # noqa: E731
    got = kl_dims(Posterior(t(m0), t(l0)), Posterior(t(m1), t(l1))).numpy()
    np.testing.assert_allclose(got, dlib / 2, rtol=1e-10)


@pytest.mark.parametrize("average", ["gvae", "ml_vae"])
def test_ada_averaging_by_hand(rng, average):
    m0, m1 = rng.normal(size=(2, 5)), rng.normal(size=(2, 5))
    l0, l1 = rng.normal(size=(2, 5)), rng.normal(size=(2, 5))
    t = lambda a: torch.as_tensor(a)  # noqa: E731
    a0, a1, mask = ada_posteriors(Posterior(t(m0), t(l0)), Posterior(t(m1), t(l1)), average, "kl")
    v0, v1 = np.exp(l0), np.exp(l1)
    if average == "gvae":
        am, av = (m0 + m1) / 2, (v0 + v1) / 2
    else:
        av = 2 * v0 * v1 / (v0 + v1)
        am = (m0 / v0 + m1 / v1) * av / 2
    kl = (np.log(v1 / v0) + (v0 + (m0 - m1) ** 2) / v1 - 1) / 2
    thr = kl.min(1, keepdims=True) + 0.5 * (kl.max(1, keepdims=True) - kl.min(1, keepdims=True))
    sh = kl < thr
    assert np.array_equal(mask.numpy(), sh)
    np.testing.assert_allclose(a0.mean.numpy(), np.where(sh, am, m0), rtol=1e-10)
    np.testing.assert_allclose(a1.mean.numpy(), np.where(sh, am, m1), rtol=1e-10)
    np.testing.assert_allclose(a0.logvar.numpy(), np.where(sh, np.log(av), l0), rtol=1e-10)
    np.testing.assert_allclose(a1.logvar.numpy(), np.where(sh, np.log(av), l1), rtol=1e-10)


def test_ada_gvae_loss_by_hand(rng, seed):
    B, Z, D = 3, 4, 5
    mean, logvar = rng.normal(size=(2 * B, Z)), rng.normal(scale=0.3, size=(2 * B, Z))
    weight = rng.normal(size=(D, Z))
    x0, x1 = torch.as_tensor(rng.uniform(size=(B, D))), torch.as_tensor(rng.uniform(size=(B, D)))
    obj = make_objective("ada_gvae", model=fixed_model(mean, logvar, weight), likelihood="bernoulli", beta=2.0)
    out = obj.loss((x0, x1), 0, torch.Generator().manual_seed(seed))
    t = lambda a: torch.as_tensor(a)  # noqa: E731
    a0, a1, _ = ada_posteriors(Posterior(t(mean[:B]), t(logvar[:B])), Posterior(t(mean[B:]), t(logvar[B:])), "gvae")
    am = np.concatenate([a0.mean.numpy(), a1.mean.numpy()])
    al = np.concatenate([a0.logvar.numpy(), a1.logvar.numpy()])
    (eps,) = eps_like((2 * B, Z), seed)
    z = am + np.exp(0.5 * al) * eps.numpy()
    nll = bce(z @ weight.T, np.concatenate([x0.numpy(), x1.numpy()]))
    rec = 0.5 * nll[:B].mean() + 0.5 * nll[B:].mean()
    kl = 0.5 * gauss_kl(am[:B], al[:B]).mean() + 0.5 * gauss_kl(am[B:], al[B:]).mean()
    assert out.terms["recon"].item() == pytest.approx(rec, rel=1e-10)
    assert out.total.item() == pytest.approx(rec + 2.0 * kl, rel=1e-10)
