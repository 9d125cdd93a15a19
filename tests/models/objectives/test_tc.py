"""beta-TCVAE: the MSS/MWS weights, the decomposition against loops, the peers' bugs not repeated."""

import math

import numpy as np
import pytest
import torch

from pydisent.models import make_objective
from pydisent.models.objectives.tc import log_importance_weights, tc_decomposition
from tests.models._fixed import fixed_model, gauss_kl, setup_case


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
    mean, logvar, weight, x = setup_case(rng, B=6)
    mk = lambda **hp: make_objective("beta_tcvae", model=fixed_model(mean, logvar, weight),  # noqa: E731
                                     likelihood="bernoulli", dataset_size=100, **hp)
    g = lambda: torch.Generator().manual_seed(seed)  # noqa: E731
    o = mk(alpha=2.0, beta=5.0, gamma=3.0, analytic_kl=False).loss(x, 0, g())
    reg = o.total.item() - o.terms["recon"].item()
    t = o.terms
    assert reg == pytest.approx(2 * t["mi"].item() + 5 * t["tc"].item() + 3 * t["dwkl"].item(), rel=1e-10)
    o = mk(beta=5.0).loss(x, 0, g())  # dlib: KL + (beta - 1) TC
    reg = o.total.item() - o.terms["recon"].item()
    assert reg == pytest.approx(gauss_kl(mean, logvar).mean() + 4 * o.terms["tc"].item(), rel=1e-10)
    with pytest.raises(ValueError, match="dataset_size"):
        make_objective("beta_tcvae", model=fixed_model(mean, logvar, weight)).loss(x, 0, g())


def _dlib_total_correlation(z, mean, logvar):
    """disentanglement_lib's vae.total_correlation, transcribed: the MWS estimate without its constants."""
    lq = -0.5 * (np.log(2 * np.pi) + logvar[None] + (z[:, None] - mean[None]) ** 2 * np.exp(-logvar[None]))
    from scipy.special import logsumexp

    log_qz_product = logsumexp(lq, axis=1).sum(1)
    log_qz = logsumexp(lq.sum(2), axis=1)
    return (log_qz - log_qz_product).mean()


def test_mws_differs_from_dlib_by_the_dropped_constant(rng):
    M, Z, N = 8, 5, 1000
    mean, logvar = rng.normal(size=(M, Z)), rng.normal(scale=0.3, size=(M, Z))
    z = mean + np.exp(0.5 * logvar) * rng.normal(size=(M, Z))
    t = lambda a: torch.as_tensor(a)  # noqa: E731
    ours = tc_decomposition(t(z), t(mean), t(logvar), torch.zeros(M, Z, dtype=torch.float64), N, "mws")["tc"].item()
    assert ours == pytest.approx(_dlib_total_correlation(z, mean, logvar) + (Z - 1) * math.log(N * M), rel=1e-10)


def test_the_strided_mss_matrix_of_the_peers_is_not_ours():
    # disentangling-vae / pythae (from the original beta-TCVAE code): flat stride M + 1 with M = B - 1 walks
    # columns 0 and 1, not the diagonal (disentangling-vae #58); its rows do not sum to 1
    B, N = 6, 100
    M = B - 1
    strat = (N - M) / (N * M)
    w = torch.full((B, B), 1.0 / M, dtype=torch.float64)
    w.view(-1)[:: M + 1] = 1.0 / N
    w.view(-1)[1 :: M + 1] = strat
    w[M - 1, 0] = strat
    assert torch.all(w[: M - 1, 0] == 1.0 / N) and torch.all(w[:, 1] == strat)  # columns 0 and 1, not the diagonal
    assert not torch.allclose(w.sum(1), torch.ones(B, dtype=torch.float64))
    ours = log_importance_weights(B, N, "mss", dtype=torch.float64).exp()
    assert torch.allclose(ours.sum(1), torch.ones(B, dtype=torch.float64))
    assert not torch.allclose(ours, w)


def test_tc_weight_keeps_its_meaning_under_the_mean_reduction(rng, seed):
    # disent #3: one beta for the KL and the TC, so its mean-reduction beta 0.003 gives TC the weight -0.997.
    # Here beta weighs only TC (relative to a KL of weight 1), whatever the reduction.
    mean, logvar, weight, x = setup_case(rng, B=6)
    Z = mean.shape[1]
    obj = make_objective("beta_tcvae", model=fixed_model(mean, logvar, weight), likelihood="bernoulli",
                         dataset_size=100, beta=6.0, reduction="mean")
    o = obj.loss(x, 0, torch.Generator().manual_seed(seed))
    reg = o.total.item() - o.terms["recon"].item()
    assert reg * Z == pytest.approx(gauss_kl(mean, logvar).mean() + 5.0 * o.terms["tc"].item(), rel=1e-9)
