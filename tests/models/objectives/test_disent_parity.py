"""pydisent's pieces against the installed disent (0.8.0) where disent is right, and disent's two known
objective bugs shown next to pydisent's correct values (disent #3, #5). Skipped when disent is absent."""

import sys
import types
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch.distributions import Normal

from pydisent.models import make_likelihood
from pydisent.models.base import Posterior
from pydisent.models.objectives.dip import dip_covariance, dip_penalty
from pydisent.models.objectives.tc import tc_decomposition
from pydisent.models.objectives.triplet import ada_triplet_loss, dist_triplet_loss, overlap_distance
from pydisent.models.objectives.weak import average_posteriors, pair_deltas, shared_mask
from tests._references.disent import remove_stubs, stub_torchvision_and_lightning


@pytest.fixture(scope="module")
def disent():
    pytest.importorskip("disent")
    stubbed = stub_torchvision_and_lightning()
    if "torchvision" in stubbed and "torchvision.models" not in sys.modules:  # the frameworks import vgg19_bn
        mod = types.ModuleType("torchvision.models")
        mod.vgg19_bn = object
        sys.modules["torchvision.models"] = mod
        stubbed.append("torchvision.models")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from disent.frameworks.helper.latent_distributions import LatentDistsHandlerNormal
            from disent.frameworks.helper.reconstructions import make_reconstruction_loss
            from disent.frameworks.vae import AdaNegTripletVae, BetaVae, TripletVae
            from disent.frameworks.vae import _supervised__adaneg_tvae as adaneg
            from disent.frameworks.vae._unsupervised__betatcvae import BetaTcVae
            from disent.frameworks.vae._unsupervised__dipvae import DipVae
            from disent.frameworks.vae._weaklysupervised__adavae import (
                AdaVae,
                compute_average_gvae,
                compute_average_ml_vae,
            )
            from disent.model import AutoEncoder
            from disent.model.ae import DecoderLinear, EncoderLinear
            from disent.nn.loss import triplet as triplet_mod
    except Exception as e:  # an incompatible disent
        remove_stubs(stubbed)
        pytest.skip(f"disent frameworks not importable: {type(e).__name__}: {e}")
    remove_stubs(stubbed)
    return SimpleNamespace(LatentDistsHandlerNormal=LatentDistsHandlerNormal, recon=make_reconstruction_loss,
                           adaneg=adaneg, DipVae=DipVae, BetaTcVae=BetaTcVae, AdaVae=AdaVae,
                           BetaVae=BetaVae, TripletVae=TripletVae, AdaNegTripletVae=AdaNegTripletVae,
                           AutoEncoder=AutoEncoder, EncoderLinear=EncoderLinear, DecoderLinear=DecoderLinear,
                           gvae=compute_average_gvae, mlvae=compute_average_ml_vae, triplet=triplet_mod)


T = lambda a: torch.as_tensor(a, dtype=torch.float64)  # noqa: E731


def _normal(m, lv):
    return Normal(T(m), T(np.exp(0.5 * lv)))


def test_reconstruction_reductions_match_disent(disent, rng):
    p = T(rng.normal(size=(4, 3, 5, 5)))
    x = T(rng.uniform(size=(4, 3, 5, 5)))
    D = 3 * 5 * 5
    for name, ours in (("mse", "mse"), ("bce", "bernoulli")):
        lik = make_likelihood(ours)
        ref_mean = disent.recon(name, reduction="mean").compute_loss_from_partial(p, x)
        ref_sum = disent.recon(name, reduction="mean_sum").compute_loss_from_partial(p, x)
        assert lik.nll(p, x).mean().item() == pytest.approx(ref_sum.item(), rel=1e-10)
        assert lik.nll(p, x).mean().item() / D == pytest.approx(ref_mean.item(), rel=1e-10)


def test_kl_reduction_matches_disent(disent, rng):
    from pydisent.models.priors import StandardGaussian

    m, lv = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    post = _normal(m, lv)
    prior = Normal(torch.zeros_like(post.mean), torch.ones_like(post.mean))
    kl = StandardGaussian(4).kl(Posterior(T(m), T(lv)))
    for red, ours in (("mean", kl.mean() / 4), ("mean_sum", kl.mean())):
        ref = disent.LatentDistsHandlerNormal(kl_mode="direct", reduction=red).compute_kl_loss(post, prior)
        assert ours.item() == pytest.approx(ref.item(), rel=1e-10)


def test_ada_thresholding_and_averages_match_disent(disent, rng):
    m0, m1 = rng.normal(size=(5, 6)), rng.normal(size=(5, 6))
    l0, l1 = rng.normal(size=(5, 6)), rng.normal(size=(5, 6))
    q0, q1 = Posterior(T(m0), T(l0)), Posterior(T(m1), T(l1))
    d0, d1 = _normal(m0, l0), _normal(m1, l1)
    for ours, theirs in (("symmetric_kl", "symmetric_kl"), ("dist", "dist")):
        ref = disent.AdaVae.compute_deltas_from_posteriors(d0, d1, thresh_mode=theirs)
        torch.testing.assert_close(pair_deltas(q0, q1, ours), ref)
    # disent's "kl" is KL(q1 || q0); pydisent's is disentanglement_lib's direction KL(q0 || q1)
    torch.testing.assert_close(pair_deltas(q1, q0, "kl"), disent.AdaVae.compute_deltas_from_posteriors(d0, d1, "kl"))
    deltas = pair_deltas(q0, q1, "symmetric_kl")
    for ratio in (0.5, 0.3):
        assert torch.equal(shared_mask(deltas, ratio), disent.AdaVae.estimate_shared_mask(deltas, ratio))
    for ours, fn in (("gvae", disent.gvae), ("ml_vae", disent.mlvae)):
        a = average_posteriors(q0, q1, ours)
        ref = fn(d0, d1)
        torch.testing.assert_close(a.mean, ref.mean)
        torch.testing.assert_close(a.logvar.exp(), ref.variance)


def test_triplet_terms_match_disent(disent, rng):
    a, p, n = (T(rng.normal(size=(8, 5))) for _ in range(3))
    for norm_p in (1, 2):
        ref = disent.triplet.dist_triplet_loss(a - p, a - n, margin_max=10.0, p=norm_p)
        assert dist_triplet_loss(a - p, a - n, 10.0, norm_p).item() == pytest.approx(ref.item(), rel=1e-10)
    cfg = SimpleNamespace(triplet_loss="triplet", triplet_margin_min=None, triplet_margin_max=10.0, triplet_p=1,
                          triplet_scale=1.0, adat_triplet_share_scale=0.7, ada_thresh_ratio=0.5)
    masks, _ = disent.adaneg.compute_triplet_shared_masks_from_zs((a, p, n), cfg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref, _ = disent.adaneg.AdaNegTripletVae.compute_ada_triplet_loss(masks, (a, p, n), cfg)
    ours, mask = ada_triplet_loss(a, p, n, share_scale=0.7, ratio=0.5, margin=10.0, norm_p=1)
    assert torch.equal(mask, masks[1])
    assert ours.item() == pytest.approx(ref.item(), rel=1e-10)


def test_overlap_distance_matches_disent_pairwise_mse(disent, rng):
    xa, xb = T(rng.uniform(size=(6, 3, 4, 4))), T(rng.uniform(size=(6, 3, 4, 4)))
    ref = disent.recon("mse", reduction="mean").compute_pairwise_loss(xa, xb)
    torch.testing.assert_close(overlap_distance(xa, xb, "mse"), ref)


def test_dip_vae_ii_disent_bug_and_ours(disent, rng):
    m, lv = rng.normal(size=(9, 3)), rng.normal(size=(9, 3))
    post = _normal(m, lv)
    ours_i = dip_covariance(T(m), T(lv), "i")
    ours_ii = dip_covariance(T(m), T(lv), "ii")
    fake_i = SimpleNamespace(cfg=SimpleNamespace(dip_mode="i"))
    fake_ii = SimpleNamespace(cfg=SimpleNamespace(dip_mode="ii"))
    torch.testing.assert_close(disent.DipVae._dip_estimate_cov_matrix(fake_i, post), ours_i)  # mode i agrees
    theirs_ii = disent.DipVae._dip_estimate_cov_matrix(fake_ii, post)
    off = ~torch.eye(3, dtype=torch.bool)
    # disent #5: a scalar lands on every entry; pydisent adds E[var] on the diagonal only
    assert not torch.allclose(theirs_ii[off], ours_i[off])
    torch.testing.assert_close(ours_ii[off], ours_i[off])
    # the regulariser formula itself is the same
    cfg = SimpleNamespace(cfg=SimpleNamespace(lambda_d=3.0, lambda_od=2.0, dip_beta=1.0))
    ref, _ = disent.DipVae._dip_compute_regulariser(cfg, ours_ii)
    assert dip_penalty(ours_ii, 2.0, 3.0).item() == pytest.approx(ref.item(), rel=1e-10)


def test_beta_tcvae_estimate_and_disent_weight_bug(disent, rng):
    import math

    M, Z, N = 10, 4, 500
    m, lv = rng.normal(size=(M, Z)), rng.normal(scale=0.3, size=(M, Z))
    z = m + np.exp(0.5 * lv) * rng.normal(size=(M, Z))
    theirs = disent.BetaTcVae._betatc_compute_total_correlation(T(z), T(m), T(lv)).item()
    ours = tc_decomposition(T(z), T(m), T(lv), torch.zeros(M, Z, dtype=torch.float64), N, "mws")["tc"].item()
    assert ours == pytest.approx(theirs + (Z - 1) * math.log(N * M), rel=1e-10)  # the constants it drops
    # disent #3: its TC weight is (beta - 1) with the KL's beta: at its default 0.003 TC is rewarded
    fake = SimpleNamespace(cfg=SimpleNamespace(beta=0.003))
    reg, _ = disent.BetaTcVae._betatc_compute_loss(fake, Normal(T(m), T(np.exp(0.5 * lv))), T(z))
    assert reg.item() == pytest.approx(-0.997 * theirs, rel=1e-10)
    from pydisent.models import make_objective

    assert make_objective("beta_tcvae", (5,), dataset_size=N).beta - 1 > 0  # ours: beta weighs TC alone


# -- whole objectives: disent's training step and pydisent's loss on the same weights and batch --------------
class _Wrap(torch.nn.Module):
    def __init__(self, fn_owner, method):
        super().__init__()
        self.owner = fn_owner
        self.method = method

    def forward(self, t):
        return getattr(self.owner, self.method)(t)


def _both(disent, fw_cls, cfg, name, hp, n_obs, seed):
    from pydisent.models import Model, make_objective

    Z, shape = 3, (1, 4, 4)
    torch.manual_seed(seed)  # disent's own initialisation
    ae = disent.AutoEncoder(disent.EncoderLinear(x_shape=shape, z_size=Z, z_multiplier=2),
                            disent.DecoderLinear(x_shape=shape, z_size=Z))
    with torch.no_grad():  # near-point posteriors (log-variances about -40): the two samplers' noise is ~1e-9
        ae._encoder.model[1].weight[Z:] *= 0.3
        ae._encoder.model[1].bias[Z:] = -40.0
    fw = fw_cls(model=ae, cfg=cfg)
    fw.log_dict = lambda *a, **k: None
    fw.log = lambda *a, **k: None
    g = np.random.default_rng(seed)
    xs = tuple(torch.as_tensor(g.uniform(size=(5, *shape)), dtype=torch.float32) for _ in range(n_obs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = fw.do_training_step({"x_targ": xs}, 0)
    theirs = theirs[0] if isinstance(theirs, tuple) else theirs
    model = Model(_Wrap(ae._encoder, "encode"), _Wrap(ae._decoder, "decode"), Z, shape)
    obj = make_objective(name, model=model, **hp)
    ours = obj.loss(xs if n_obs > 1 else xs[0], 0, torch.Generator().manual_seed(1)).total
    return float(theirs), float(ours)


MEAN_MSE = dict(recon_loss="mse", loss_reduction="mean")
TRIPLET = dict(beta=0.01, triplet_loss="triplet", triplet_margin_max=10.0, triplet_scale=1.0, triplet_p=1, **MEAN_MSE)
SUM_BCE = dict(recon_loss="bce", loss_reduction="mean_sum")


@pytest.mark.parametrize("case", ["beta_vae", "tvae", "ada_tvae", "ada_gvae", "ada_ml_vae", "dip_vae_i"])
def test_whole_objectives_equal_disents_training_step(disent, seed, case):
    cases = {
        "beta_vae": (disent.BetaVae, dict(beta=0.01, **MEAN_MSE), dict(beta=0.01, likelihood="mse", reduction="mean"),
                     1),
        "tvae": (disent.TripletVae, TRIPLET, {}, 3),
        "ada_tvae": (disent.AdaNegTripletVae, dict(ada_thresh_mode="dist", adat_triplet_share_scale=0.7, **TRIPLET),
                     dict(share_scale_steps=0, share_scale=0.7), 3),
        "ada_gvae": (disent.AdaVae, dict(beta=4.0, ada_average_mode="gvae", ada_thresh_mode="symmetric_kl", **SUM_BCE),
                     dict(beta=4.0, likelihood="bernoulli", thresh_mode="symmetric_kl"), 2),
        "ada_ml_vae": (disent.AdaVae, dict(beta=4.0, ada_average_mode="ml-vae", ada_thresh_mode="symmetric_kl",
                                           **SUM_BCE),
                       dict(beta=4.0, likelihood="bernoulli", thresh_mode="symmetric_kl"), 2),
        "dip_vae_i": (disent.DipVae, dict(beta=1.0, dip_mode="i", lambda_od=5.0, lambda_d=50.0, **SUM_BCE),
                      dict(likelihood="bernoulli"), 1),
    }
    fw_cls, cfg, hp, n = cases[case]
    theirs, ours = _both(disent, fw_cls, fw_cls.cfg(**cfg), case, hp, n, seed % 1000)
    assert ours == pytest.approx(theirs, rel=1e-5)
    # (DIP-VAE II cannot be told apart this way: its bug adds E[var] ~ e^-40 here; the covariance test above
    # shows it)

