"""Every loss term against a hand computation on a tiny batch (closed forms, explicit loops, numpy)."""

import math

import numpy as np
import pytest
import torch
from _fixed import eps_like, fixed_model

from pydisent.models import make_objective
from pydisent.models.objectives.decomposition import imq_mmd_dims, inclusive_kl, iwae_bound
from pydisent.models.objectives.dip import covariance, dip_covariance, dip_penalty
from pydisent.models.objectives.factor import permute_dims
from pydisent.models.objectives.tc import log_importance_weights, tc_decomposition
from pydisent.models.objectives.triplet import ada_triplet_loss, dist_triplet_loss, mine_triplets
from pydisent.models.objectives.weak import ada_posteriors, kl_dims, shared_mask
from pydisent.models.base import Posterior


def _setup(rng, B=4, Z=3, D=5):
    mean = rng.normal(size=(B, Z))
    logvar = rng.normal(scale=0.5, size=(B, Z))
    weight = rng.normal(size=(D, Z))
    x = rng.uniform(size=(B, D))
    return mean, logvar, weight, torch.as_tensor(x)


def _gauss_kl(mean, logvar):
    return 0.5 * (mean**2 + np.exp(logvar) - logvar - 1).sum(1)


def _bce(logits, x):
    p = 1 / (1 + np.exp(-logits))
    return -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(1)


@pytest.mark.parametrize("name,hp", [("vae", {}), ("beta_vae", {"beta": 3.0})])
def test_vae_terms_by_hand(rng, seed, name, hp):
    mean, logvar, weight, x = _setup(rng)
    obj = make_objective(name, model=fixed_model(mean, logvar, weight), likelihood="bernoulli", **hp)
    out = obj.loss(x, 0, torch.Generator().manual_seed(seed))
    (eps,) = eps_like(mean.shape, seed)
    z = mean + np.exp(0.5 * logvar) * eps.numpy()
    rec = _bce(z @ weight.T, x.numpy()).mean()
    kl = _gauss_kl(mean, logvar).mean()
    assert out.terms["recon"].item() == pytest.approx(rec, rel=1e-10)
    assert out.terms["kl"].item() == pytest.approx(kl, rel=1e-10)
    assert out.total.item() == pytest.approx(rec + hp.get("beta", 1.0) * kl, rel=1e-10)


def test_reduction_mean_is_disent_convention_and_beta_converts(rng, seed):
    from pydisent.models import beta_mean_to_sum

    mean, logvar, weight, x = _setup(rng)
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
    kl = _gauss_kl(mean, logvar)
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


# -- beta-TCVAE -----------------------------------------------------------------------------------
@pytest.mark.parametrize("M,N", [(2, 2), (4, 10), (7, 1000), (64, 737280)])
def test_mss_weight_rows_sum_to_one(M, N):
    w = log_importance_weights(M, N, "mss", dtype=torch.float64).exp()
    np.testing.assert_allclose(w.sum(1).numpy(), np.ones(M), rtol=1e-12)
    assert torch.allclose(torch.diagonal(w), torch.full((M,), 1.0 / N, dtype=torch.float64))
    # the published matrix (Chen et al. C.2): one stratified weight per row at (i, i+1), 1/(M-1) elsewhere
    m = M - 1
    ref = np.full((M, M), 1.0 / m)
    for i in range(M):
        ref[i, i] = 1.0 / N
        ref[i, (i + 1) % M] = (N - m) / (N * m)
    np.testing.assert_allclose(w.numpy(), ref, rtol=1e-12)


def test_mws_weights_include_log_nm():
    w = log_importance_weights(5, 100, "mws", dtype=torch.float64)
    assert torch.allclose(w, torch.full((5, 5), -math.log(500), dtype=torch.float64))


def _tc_reference(z, mean, logvar, N, estimator):
    """Explicit loops in float64: log q(z_i) with one weight per (i, k) on the joint density."""
    M, Z = z.shape
    if estimator == "mws":
        logw = np.full((M, M), -math.log(N * M))
    else:
        logw = np.log(log_importance_weights(M, N, "mss", dtype=torch.float64).exp().numpy())
    def lq(i, k, j):
        return -0.5 * (math.log(2 * math.pi) + logvar[k, j] + (z[i, j] - mean[k, j]) ** 2 / math.exp(logvar[k, j]))
    log_qz, log_prod, log_qzx, log_pz = [], [], [], []
    for i in range(M):
        joint = [logw[i, k] + sum(lq(i, k, j) for j in range(Z)) for k in range(M)]
        log_qz.append(np.logaddexp.reduce(joint))
        log_prod.append(sum(np.logaddexp.reduce([logw[i, k] + lq(i, k, j) for k in range(M)]) for j in range(Z)))
        log_qzx.append(sum(lq(i, i, j) for j in range(Z)))
        log_pz.append(sum(-0.5 * (math.log(2 * math.pi) + z[i, j] ** 2) for j in range(Z)))
    log_qz, log_prod, log_qzx, log_pz = map(np.array, (log_qz, log_prod, log_qzx, log_pz))
    return {"mi": (log_qzx - log_qz).mean(), "tc": (log_qz - log_prod).mean(), "dwkl": (log_prod - log_pz).mean()}


@pytest.mark.parametrize("estimator", ["mss", "mws"])
def test_tc_decomposition_matches_loops(rng, estimator):
    M, Z, N = 6, 3, 50
    mean, logvar = rng.normal(size=(M, Z)), rng.normal(scale=0.3, size=(M, Z))
    z = mean + np.exp(0.5 * logvar) * rng.normal(size=(M, Z))
    t = lambda a: torch.as_tensor(a)  # noqa: E731
    out = tc_decomposition(t(z), t(mean), t(logvar), -0.5 * (math.log(2 * math.pi) + t(z) ** 2), N, estimator)
    ref = _tc_reference(z, mean, logvar, N, estimator)
    for k in ("mi", "tc", "dwkl"):
        assert out[k].item() == pytest.approx(ref[k], rel=1e-9, abs=1e-9), k
    # MI + TC + DWKL = E[log q(z|x) - log p(z)], the Monte-Carlo KL, whatever the estimator
    mc = (out["log_qz_x"] + 0.5 * (math.log(2 * math.pi) + t(z) ** 2).sum(1)).mean()
    assert (out["mi"] + out["tc"] + out["dwkl"]).item() == pytest.approx(mc.item(), rel=1e-9)


def test_tc_per_dimension_weight_bug_is_not_repeated(rng):
    # disentangling-vae #60 adds log W per dimension before summing dims (Z times the weight in log q(z))
    M, Z, N = 5, 4, 30
    mean, logvar = rng.normal(size=(M, Z)), np.zeros((M, Z))
    z = mean + rng.normal(size=(M, Z))
    t = lambda a: torch.as_tensor(a)  # noqa: E731
    out = tc_decomposition(t(z), t(mean), t(logvar), torch.zeros(M, Z, dtype=torch.float64), N, "mss")
    logw = log_importance_weights(M, N, "mss", dtype=torch.float64)
    lq = -0.5 * (math.log(2 * math.pi) + (t(z)[:, None] - t(mean)[None]) ** 2)
    buggy = torch.logsumexp((logw[:, :, None] + lq).sum(-1), 1)
    assert not torch.allclose(out["log_qz"], buggy)
    assert torch.allclose(out["log_qz"], torch.logsumexp(logw + lq.sum(-1), 1))


def _aggregate_tc(rho, seed, M=1000, Z=2, sd=0.3):
    g = np.random.default_rng(seed)
    cov = np.array([[1.0, rho], [rho, 1.0]])
    mean = g.multivariate_normal(np.zeros(Z), cov, size=M)
    logvar = np.full((M, Z), math.log(sd**2))
    z = mean + sd * g.normal(size=(M, Z))
    t = lambda a: torch.as_tensor(a)  # noqa: E731
    out = tc_decomposition(t(z), t(mean), t(logvar), torch.zeros(M, Z, dtype=torch.float64), M, "mss")
    return out["tc"].item()


def test_tc_of_factorised_aggregate_is_zero_and_grows_with_correlation(seed):
    # q(z) = N(0, [[1 + s^2, rho], [rho, 1 + s^2]]): TC = -1/2 log(1 - (rho / (1 + s^2))^2)
    tcs = [_aggregate_tc(r, seed) for r in (0.0, 0.5, 0.9)]
    truth = [-0.5 * math.log(1 - (r / 1.09) ** 2) for r in (0.0, 0.5, 0.9)]
    assert abs(tcs[0]) < 0.05, tcs
    assert tcs[0] < tcs[1] < tcs[2], tcs
    assert tcs[1] == pytest.approx(truth[1], abs=0.06)
    assert tcs[2] == pytest.approx(truth[2], abs=0.08)


def test_beta_tcvae_weights_and_analytic_kl(rng, seed):
    mean, logvar, weight, x = _setup(rng, B=6)
    mk = lambda **hp: make_objective("beta_tcvae", model=fixed_model(mean, logvar, weight),  # noqa: E731
                                     likelihood="bernoulli", dataset_size=100, **hp)
    g = lambda: torch.Generator().manual_seed(seed)  # noqa: E731
    o = mk(alpha=2.0, beta=5.0, gamma=3.0, analytic_kl=False).loss(x, 0, g())
    reg = o.total.item() - o.terms["recon"].item()
    t = o.terms
    assert reg == pytest.approx(2 * t["mi"].item() + 5 * t["tc"].item() + 3 * t["dwkl"].item(), rel=1e-10)
    o = mk(beta=5.0).loss(x, 0, g())  # dlib: KL + (beta - 1) TC
    reg = o.total.item() - o.terms["recon"].item()
    assert reg == pytest.approx(_gauss_kl(mean, logvar).mean() + 4 * o.terms["tc"].item(), rel=1e-10)
    with pytest.raises(ValueError, match="dataset_size"):
        make_objective("beta_tcvae", model=fixed_model(mean, logvar, weight)).loss(x, 0, g())


# -- FactorVAE ------------------------------------------------------------------------------------
def test_permute_dims_is_a_per_column_permutation(rng):
    z = torch.as_tensor(rng.normal(size=(50, 4)))
    p = permute_dims(z, torch.Generator().manual_seed(0))
    for j in range(4):
        assert torch.equal(p[:, j].sort().values, z[:, j].sort().values)
    assert not torch.equal(p, z)


def test_factor_vae_terms_and_no_discriminator_gradient_to_encoder(rng, seed):
    obj = make_objective("factor_vae", (6,), latent_dim=3, arch_options={"hidden": [16]}, disc_width=8, gamma=7.0)
    x = torch.as_tensor(rng.normal(size=(10, 6)), dtype=torch.float32)
    g = torch.Generator().manual_seed(seed)
    out = obj.loss(x, 0, g)
    out.total.backward()
    assert all(p.grad is None for p in obj.discriminator.parameters()), "the VAE loss trained the discriminator"
    assert all(p.requires_grad for p in obj.discriminator.parameters())
    # the TC term by hand: mean(logit_0 - logit_1) of the sampled codes (recomputed with the same draws)
    z = obj._cache[1]
    logits = obj.discriminator(z)
    assert out.terms["tc"].item() == pytest.approx((logits[:, 0] - logits[:, 1]).mean().item(), rel=1e-5)
    reg = out.total.item() - out.terms["recon"].item()
    assert reg == pytest.approx(out.terms["kl"].item() + 7.0 * out.terms["tc"].item(), rel=1e-5)
    # the discriminator's loss: no gradient reaches the encoder or decoder
    obj.zero_grad(set_to_none=True)
    aux = obj.aux_loss(x, 0, g)
    aux.total.backward()
    assert all(p.grad is None for p in obj.model.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in obj.discriminator.parameters())
    # main optimiser parameters exclude the discriminator
    ids = {id(p) for p in obj.main_parameters()}
    assert not ids & {id(p) for p in obj.aux_parameters()}
    assert ids == {id(p) for p in obj.model.parameters()} | {id(p) for p in obj.likelihood.parameters()}


def test_factor_vae_discriminator_loss_by_hand(rng):
    obj = make_objective("factor_vae", (6,), latent_dim=3, arch_options={"hidden": [16]}, disc_width=8)
    z = torch.as_tensor(rng.normal(size=(12, 3)), dtype=torch.float32)
    loss = obj.discriminator_loss(z, torch.Generator().manual_seed(3))
    zp = permute_dims(z, torch.Generator().manual_seed(3))
    pr = torch.softmax(obj.discriminator(z), 1).clamp(1e-6, 1 - 1e-6)
    pp = torch.softmax(obj.discriminator(zp), 1).clamp(1e-6, 1 - 1e-6)
    ref = -(0.5 * pr[:, 0].log().mean() + 0.5 * pp[:, 1].log().mean())
    assert loss.item() == pytest.approx(ref.item(), rel=1e-6)


# -- DIP-VAE --------------------------------------------------------------------------------------
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
    mean, logvar, weight, x = _setup(rng, B=6)
    obj = make_objective(name, model=fixed_model(mean, logvar, weight), likelihood="bernoulli")
    assert (obj.lambda_od, obj.lambda_d) == (lod, ld)
    out = obj.loss(x, 0, torch.Generator().manual_seed(seed))
    cov = dip_covariance(torch.as_tensor(mean), torch.as_tensor(logvar), name[-2:].strip("_"))
    ref = _gauss_kl(mean, logvar).mean() + dip_penalty(cov, lod, ld).item()
    assert out.total.item() - out.terms["recon"].item() == pytest.approx(ref, rel=1e-10)


# -- weak supervision -----------------------------------------------------------------------------
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
    bce = _bce(z @ weight.T, np.concatenate([x0.numpy(), x1.numpy()]))
    rec = 0.5 * bce[:B].mean() + 0.5 * bce[B:].mean()
    kl = 0.5 * _gauss_kl(am[:B], al[:B]).mean() + 0.5 * _gauss_kl(am[B:], al[B:]).mean()
    assert out.terms["recon"].item() == pytest.approx(rec, rel=1e-10)
    assert out.total.item() == pytest.approx(rec + 2.0 * kl, rel=1e-10)


# -- triplets -------------------------------------------------------------------------------------
def test_triplet_losses_by_hand(rng):
    a, p, n = (torch.as_tensor(rng.normal(size=(6, 4))) for _ in range(3))
    dp = (a - p).abs().sum(1).numpy()
    dn = (a - n).abs().sum(1).numpy()
    ref = 2.0 * np.maximum(dp - dn + 1.5, 0).mean()
    assert dist_triplet_loss(a - p, a - n, margin=1.5, p=1, scale=2.0).item() == pytest.approx(ref, rel=1e-10)
    d2 = np.sqrt(((a - p) ** 2).sum(1).numpy()) - np.sqrt(((a - n) ** 2).sum(1).numpy())
    assert dist_triplet_loss(a - p, a - n, margin=0.3, p=2).item() == pytest.approx(np.maximum(d2 + 0.3, 0).mean())
    # Ada-TVAE: the shared a-n dims scaled by s
    loss, mask = ada_triplet_loss(a, p, n, share_scale=0.5, ratio=0.5, margin=1.5, norm_p=1)
    delta = (a - n).abs().numpy()
    sh = delta < delta.min(1, keepdims=True) + 0.5 * (delta.max(1, keepdims=True) - delta.min(1, keepdims=True))
    assert np.array_equal(mask.numpy(), sh)
    dn_s = np.abs(np.where(sh, 0.5 * (a - n).numpy(), (a - n).numpy())).sum(1)
    assert loss.item() == pytest.approx(np.maximum(dp - dn_s + 1.5, 0).mean(), rel=1e-10)


def test_tvae_and_ada_tvae_totals(rng, seed):
    B, Z, D = 4, 3, 5
    mean, logvar = rng.normal(size=(3 * B, Z)), rng.normal(scale=0.3, size=(3 * B, Z))
    weight = rng.normal(size=(D, Z))
    xs = tuple(torch.as_tensor(rng.uniform(size=(B, D))) for _ in range(3))
    (eps,) = eps_like((3 * B, Z), seed)
    z = mean + np.exp(0.5 * logvar) * eps.numpy()
    x = np.concatenate([t.numpy() for t in xs])
    rec = (((z @ weight.T) - x) ** 2).mean()          # disent: mse, per-element mean over all three
    kl = (0.5 * (mean**2 + np.exp(logvar) - logvar - 1)).mean()  # mean over dims and observations
    mu = [torch.as_tensor(m) for m in np.split(mean, 3)]
    o = make_objective("tvae", model=fixed_model(mean, logvar, weight)).loss(xs, 0, torch.Generator().manual_seed(seed))
    trip = dist_triplet_loss(mu[0] - mu[1], mu[0] - mu[2], 10.0, 1.0, 1.0).item()
    assert o.terms["recon"].item() == pytest.approx(rec, rel=1e-10)
    assert o.total.item() == pytest.approx(rec + 0.01 * kl + trip, rel=1e-10)
    ada = make_objective("ada_tvae", model=fixed_model(mean, logvar, weight), share_scale_steps=100)
    assert ada.share_scale_at(0) == 1.0 and ada.share_scale_at(50) == 0.75 and ada.share_scale_at(500) == 0.5
    o = ada.loss(xs, 50, torch.Generator().manual_seed(seed))
    at, _ = ada_triplet_loss(mu[0], mu[1], mu[2], 0.75, 0.5, 10.0, 1.0)
    assert o.total.item() == pytest.approx(rec + 0.01 * kl + at.item(), rel=1e-10)


def test_mine_triplets_orders_by_data_distance(rng):
    x = torch.as_tensor(rng.uniform(size=(20, 6)))
    a, p, n = mine_triplets(x, 300, torch.Generator().manual_seed(1))
    dp = ((x[a] - x[p]) ** 2).mean(1)
    dn = ((x[a] - x[n]) ** 2).mean(1)
    assert bool((dp <= dn).all())
    assert len(a) == 300 and int(a.max()) < 20


# -- decomposition --------------------------------------------------------------------------------
def test_imq_mmd_by_double_sum(rng):
    B, Z = 5, 3
    X, Y = rng.normal(size=(B, Z)), rng.normal(loc=0.5, size=(B, Z))
    ref = 0.0
    for s in (0.1, 0.2, 0.5, 1.0, 2.0, 5.0):
        c = 2 * s
        k = lambda a, b: c / (c + (a - b) ** 2)  # noqa: E731
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
    mean, logvar, weight, x = _setup(rng)
    model = fixed_model(mean, logvar, weight)
    obj = make_objective("decomposition_vae", model=model, likelihood="bernoulli", num_samples=3, beta=2.0)
    out = obj.loss(x, 0, torch.Generator().manual_seed(seed))
    (eps,) = eps_like((3, *mean.shape), seed)
    z = mean + np.exp(0.5 * logvar) * eps.numpy()
    rec = np.mean([_bce(z[k] @ weight.T, x.numpy()).mean() for k in range(3)])
    assert out.total.item() == pytest.approx(rec + 2.0 * _gauss_kl(mean, logvar).mean(), rel=1e-10)
    # K = 1: the IWAE bound is the single-sample ELBO; it tightens (on average) with K
    e1 = iwae_bound(obj, x, 1, torch.Generator().manual_seed(seed))
    (eps,) = eps_like((1, *mean.shape), seed)
    z1 = mean + np.exp(0.5 * logvar) * eps.numpy()[0]
    lq = (-0.5 * (np.log(2 * np.pi) + logvar + eps.numpy()[0] ** 2)).sum(1)
    lp = (-0.5 * (np.log(2 * np.pi) + z1**2)).sum(1)
    np.testing.assert_allclose(e1.numpy(), -_bce(z1 @ weight.T, x.numpy()) + lp - lq, rtol=1e-10)
    elbo = np.mean([iwae_bound(obj, x, 1, torch.Generator().manual_seed(s)).mean().item() for s in range(200)])
    iw = np.mean([iwae_bound(obj, x, 50, torch.Generator().manual_seed(s)).mean().item() for s in range(20)])
    assert iw > elbo


def test_decomposition_alpha_terms(rng, seed):
    mean, logvar, weight, x = _setup(rng, B=6)
    for div in ("kl", "mmd"):
        obj = make_objective("decomposition_vae", model=fixed_model(mean, logvar, weight), likelihood="bernoulli",
                             alpha=3.0, divergence=div)
        out = obj.loss(x, 0, torch.Generator().manual_seed(seed))
        assert out.total.item() == pytest.approx(out.terms["recon"].item() + out.terms["kl"].item()
                                                 + 3.0 * out.terms["divergence"].item(), rel=1e-10)


# -- autoencoders ---------------------------------------------------------------------------------
def test_sparse_ae_l1_by_hand(rng):
    obj = make_objective("sparse_ae", (5,), latent_dim=3, arch_options={"hidden": [8]}, l1=0.5)
    x = torch.as_tensor(rng.normal(size=(4, 5)), dtype=torch.float32)
    out = obj.loss(x)
    z = obj.model.encode(x).mean
    rec = 0.5 * ((obj.model.decode(z) - x) ** 2).sum(1).mean()
    assert out.terms["l1_code"].item() == pytest.approx(z.abs().sum(1).mean().item(), rel=1e-6)
    assert out.total.item() == pytest.approx(rec.item() + 0.5 * z.abs().sum(1).mean().item(), rel=1e-5)


def test_denoising_corruptions(rng):
    obj = make_objective("denoising_ae", (1000,), latent_dim=2, arch_options={"hidden": [4]},
                         corruption="mask", mask_prob=0.3)
    x = torch.ones(20, 1000)
    xc = obj.corrupt(x, torch.Generator().manual_seed(0))
    assert set(xc.unique().tolist()) <= {0.0, 1.0}
    assert (xc == 0).float().mean().item() == pytest.approx(0.3, abs=0.01)
    obj = make_objective("denoising_ae", (1000,), latent_dim=2, arch_options={"hidden": [4]}, noise_std=0.2)
    noise = obj.corrupt(torch.zeros(20, 1000), torch.Generator().manual_seed(0))
    assert noise.std().item() == pytest.approx(0.2, rel=0.02)
    # the clean x is the target: with a perfect identity the loss is the clean reconstruction
    out = obj.loss(x[:4], 0, torch.Generator().manual_seed(0))
    assert torch.isfinite(out.total)
