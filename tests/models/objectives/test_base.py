"""The contract the trainer and the metrics read: registry, config round trip, views, bad input."""

import numpy as np
import pytest
import torch

import pydisent.metrics as pm
from pydisent.models import OBJECTIVES, Model, build_model, make_objective, make_objective_from_config, objective_class
from pydisent.models.objectives.base import BATCH_KINDS, LossOutput

KW = dict(latent_dim=3, architecture="mlp", arch_options={"hidden": [8]})


def _batch(obj, B=4, shape=(5,)):
    n = {"single": 1, "pairs": 2, "triplets": 3}[obj.batch_kind]
    xs = tuple(torch.rand(B, *shape) for _ in range(n))
    return xs[0] if n == 1 else xs


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
def test_every_objective_meets_the_contract(name):
    cls = OBJECTIVES[name]
    assert cls.name == name and cls.batch_kind in BATCH_KINDS
    assert isinstance(cls.defaults, dict) and isinstance(cls.training_defaults, dict)
    assert {"lr", "batch_size", "latent_dim", "steps"} <= set(cls.training_defaults)
    assert cls.__doc__ or __import__(cls.__module__, fromlist=["x"]).__doc__  # formula/paper/defaults documented
    hp = {"dataset_size": 100} if name == "beta_tcvae" else {}
    obj = make_objective(name, (5,), **KW, **hp)
    x = _batch(obj)
    out = obj.loss(x, 3, torch.Generator().manual_seed(0))
    assert isinstance(out, LossOutput) and out.total.ndim == 0 and out.total.requires_grad
    assert {"loss", "recon"} <= set(out.terms) and all(not v.requires_grad for v in out.terms.values())
    for k in obj.schedulable:  # schedulable by setattr
        setattr(obj, k, float(getattr(obj, k)))
    # config round trip: same weights, same hyperparameter values (schedules included), same loss
    for k in obj.schedulable[:1]:
        setattr(obj, k, getattr(obj, k) + 0.5)
    cfg = obj.config()
    import json
    cfg = json.loads(json.dumps(cfg))
    obj2 = make_objective_from_config(cfg)
    obj2.load_state_dict(obj.state_dict())
    assert all(getattr(obj2, k) == getattr(obj, k) for k in obj.schedulable)
    torch.testing.assert_close(obj2.loss(x, 3, torch.Generator().manual_seed(0)).total,
                               obj.loss(x, 3, torch.Generator().manual_seed(0)).total)
    # checkpoints load with weights_only
    import io
    buf = io.BytesIO()
    torch.save(obj.state_dict(), buf)
    buf.seek(0)
    obj2.load_state_dict(torch.load(buf, weights_only=True))
    # views
    first = x if isinstance(x, torch.Tensor) else x[0]
    rep = obj.representation()
    assert torch.equal(rep(first), rep(first)) and rep(first).shape == (4, 3)  # deterministic posterior mean
    assert not rep(first).requires_grad
    gen = obj.generator()
    assert gen.latent_dim == 3 and gen.sample(2, torch.Generator().manual_seed(1)).shape == (2, 5)


def test_objectives_are_subjects_for_the_metrics():
    from pydisent.data import XYSquares

    ds = XYSquares(square_size=4, image_size=16, grid_spacing=4, num_squares=2, rgb=False)
    obj = make_objective("beta_vae", ds.observation_shape, **KW)
    subj = pm.as_subject(obj)
    assert {"encoder", "posterior", "generator", "samples"} <= subj.provides
    res = pm.evaluate(obj, ds, ["mig"], seed=0)
    assert 0.0 <= res["mig"]["discrete_mig"] <= 1.0
    res = pm.evaluate(obj.representation(), ds, ["mig"], seed=0)
    assert 0.0 <= res["mig"]["discrete_mig"] <= 1.0
    mu, logvar = obj.representation().posterior(ds.observations(np.zeros((2, 4), dtype=np.int64)))
    assert mu.shape == logvar.shape == (2, 3)
    g = pm.Generator(pm.as_subject(obj.generator()))
    assert g.sample(3, np.random.default_rng(0)).shape == (3, *ds.observation_shape)


def test_deterministic_codes_have_no_variance():
    obj = make_objective("ae", (5,), **KW)
    mu, logvar = obj.posterior(torch.rand(2, 5))
    assert torch.isinf(logvar).all() and (logvar < 0).all()


def test_user_model_plugs_in():
    enc = torch.nn.Linear(5, 6)
    dec = torch.nn.Linear(3, 5)
    obj = make_objective("beta_vae", model=Model(enc, dec, 3, (5,)), likelihood="gaussian")
    obj.loss(torch.rand(4, 5)).total.backward()
    assert enc.weight.grad is not None
    assert obj.config()["model"]["architecture"] is None
    with pytest.raises(ValueError, match="user modules"):
        make_objective_from_config(obj.config())


# -- bad input ------------------------------------------------------------------------------------
def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match=r"argument 'objective'.*beta_vae"):
        make_objective("betavae", (5,))
    with pytest.raises(ValueError, match=r"argument 'objective'"):
        objective_class(3)
    with pytest.raises(ValueError, match=r"unknown hyperparameter\(s\) \['betta'\].*beta"):
        make_objective("beta_vae", (5,), betta=2.0)
    with pytest.raises(ValueError, match=r"argument 'architecture'.*conv64"):
        make_objective("vae", (5,), architecture="resnet")
    with pytest.raises(ValueError, match=r"argument 'likelihood'.*bernoulli"):
        make_objective("vae", (5,), likelihood="poisson")
    with pytest.raises(ValueError, match=r"argument 'prior'.*student_t"):
        make_objective("vae", (5,), prior="cauchy")
    with pytest.raises(ValueError, match="'estimator'"):
        make_objective("beta_tcvae", (5,), estimator="exact", dataset_size=10)
    with pytest.raises(ValueError, match="'divergence'"):
        make_objective("decomposition_vae", (5,), divergence="wasserstein")
    with pytest.raises(ValueError, match="'reduction'"):
        make_objective("vae", (5,), reduction="none")


def test_bad_hyperparameter_values_and_types():
    with pytest.raises(TypeError, match="'beta'"):
        make_objective("beta_vae", (5,), beta="4")
    with pytest.raises(ValueError, match="'beta'"):
        make_objective("beta_vae", (5,), beta=float("nan"))
    with pytest.raises(ValueError, match="'beta'"):
        make_objective("beta_vae", (5,), beta=-1.0)
    with pytest.raises(TypeError, match="'num_samples'"):
        make_objective("decomposition_vae", (5,), num_samples=2.5)
    with pytest.raises(ValueError, match="'thresh_ratio'"):
        make_objective("ada_gvae", (5,), thresh_ratio=1.5)
    with pytest.raises(ValueError, match="'corruption'"):
        make_objective("denoising_ae", (5,), corruption="salt")
    with pytest.raises(ValueError, match="observation_shape"):
        make_objective("vae", None)
    with pytest.raises(ValueError, match="observation_shape"):
        build_model((3, 0, 4), 3)
    with pytest.raises(ValueError, match="'latent_dim'"):
        build_model((5,), 0)
    with pytest.raises(ValueError, match="conv64"):
        build_model((3, 32, 32), 4, "conv64")
    with pytest.raises(ValueError, match="tied_ae"):
        make_objective("tied_ae", (3, 64, 64), architecture="conv64")
    with pytest.raises(ValueError, match="stochastic"):
        make_objective("vae", model=build_model((5,), 3, stochastic=False))
    with pytest.raises(TypeError, match="'model'"):
        objective_class("vae")(torch.nn.Linear(2, 2))


def test_bad_batches_name_the_argument():
    obj = make_objective("beta_vae", (5,), **KW)
    with pytest.raises(ValueError, match=r"argument 'batch'.*\(B, 5\)"):
        obj.loss(torch.rand(4, 6))
    with pytest.raises(TypeError, match="'batch'.*floating"):
        obj.loss(torch.zeros(4, 5, dtype=torch.uint8))
    with pytest.raises(TypeError, match="'batch'"):
        obj.loss(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="'batch'.*single"):
        obj.loss((torch.rand(4, 5), torch.rand(4, 5)))
    pairs = make_objective("ada_gvae", (5,), **KW)
    with pytest.raises(ValueError, match="'batch'.*pairs"):
        pairs.loss(torch.rand(4, 5))
    with pytest.raises(ValueError, match="same batch size"):
        pairs.loss((torch.rand(4, 5), torch.rand(3, 5)))
    assert torch.isfinite(pairs.loss(torch.rand(4, 2, 5)).total)  # one (B, 2, ...) tensor works too
    trip = make_objective("tvae", (5,), **KW)
    with pytest.raises(ValueError, match="'batch'.*triplets"):
        trip.loss((torch.rand(4, 5), torch.rand(4, 5)))
    with pytest.raises(ValueError, match="'z'"):
        obj.model.decode(torch.rand(2, 4))
    with pytest.raises(ValueError, match="dataset_size"):
        make_objective("beta_tcvae", (5,), dataset_size=3, **KW).loss(torch.rand(4, 5))


@pytest.mark.parametrize("name", ["beta_tcvae", "factor_vae", "annealed_vae", "decomposition_vae", "ada_gvae"])
def test_losses_are_float32_under_bf16_autocast(name):
    hp = {"dataset_size": 100} if name == "beta_tcvae" else {}
    if name == "decomposition_vae":
        hp = {"alpha": 1.0, "divergence": "mmd"}
    obj = make_objective(name, (5,), **KW, **hp)
    x = _batch(obj, B=16)
    ref = obj.loss(x, 0, torch.Generator().manual_seed(0))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = obj.loss(x, 0, torch.Generator().manual_seed(0))
    assert out.total.dtype == torch.float32 and torch.isfinite(out.total)
    assert out.total.item() == pytest.approx(ref.total.item(), rel=0.05)


def test_bad_generator_is_named():
    obj = make_objective("beta_vae", (5,), **KW)
    with pytest.raises(TypeError, match="'generator'"):
        obj.loss(torch.rand(4, 5), 0, np.random.default_rng(0))
    if torch.cuda.is_available():
        with pytest.raises(ValueError, match="'generator'"):
            obj.cuda().loss(torch.rand(4, 5).cuda(), 0, torch.Generator())


def test_foreign_weights_are_refused_not_ignored():
    # disentangling-vae loads with strict=False and silently ignores keys (its #11 in the spec): here a
    # state dict of another objective or architecture raises
    fvae = make_objective("factor_vae", (5,), **KW, disc_width=8)
    bvae = make_objective("beta_vae", (5,), **KW)
    with pytest.raises(RuntimeError, match="Unexpected key"):
        bvae.load_state_dict(fvae.state_dict())
    with pytest.raises(RuntimeError, match="Missing key"):
        fvae.load_state_dict(bvae.state_dict())
    wide = make_objective("beta_vae", (5,), latent_dim=3, architecture="mlp", arch_options={"hidden": [16]})
    with pytest.raises(RuntimeError, match="size mismatch"):
        wide.load_state_dict(bvae.state_dict())


def test_evaluate_loss_averages_every_batch():
    from pydisent.models import evaluate_loss

    obj = make_objective("ae", (5,), **KW)
    batches = [torch.rand(4, 5), torch.rand(2, 5) * 10, torch.rand(6, 5)]
    got = evaluate_loss(obj, batches)
    per = [obj.loss(b).terms["loss"].item() for b in batches]
    assert got["loss"] == pytest.approx((4 * per[0] + 2 * per[1] + 6 * per[2]) / 12, rel=1e-6)
    assert got["loss"] != pytest.approx(per[0])  # not the first batch's (disentangling-vae #70)
    assert obj.training
    with pytest.raises(ValueError, match="'batches'"):
        evaluate_loss(obj, [])


def test_config_of_instances_round_trips():
    import json

    from pydisent.models import make_likelihood, make_prior

    prior = make_prior({"name": "anisotropic", "scales": [0.5, 1.0, 2.0]}, 3)
    obj = make_objective("decomposition_vae", (5,), **KW, prior=prior,
                         likelihood=make_likelihood({"name": "laplace", "scale": 0.5}))
    cfg = json.loads(json.dumps(obj.config()))
    assert cfg["hparams"]["prior"]["name"] == "anisotropic" and cfg["hparams"]["likelihood"]["scale"] == 0.5
    back = make_objective_from_config(cfg)
    back.load_state_dict(obj.state_dict())
    torch.testing.assert_close(back.prior.log_scale, obj.prior.log_scale)
    x = torch.rand(4, 5)
    torch.testing.assert_close(back.loss(x, 0, torch.Generator().manual_seed(0)).total,
                               obj.loss(x, 0, torch.Generator().manual_seed(0)).total)


@pytest.mark.parametrize("name", sorted(set(OBJECTIVES) - {"tied_ae"}))
def test_every_objective_runs_on_the_dlib_conv_net(name):
    hp = {"dataset_size": 100} if name == "beta_tcvae" else {}
    if name == "factor_vae":
        hp = {"disc_width": 16}
    obj = make_objective(name, (1, 64, 64), latent_dim=4, **hp)
    assert obj.model.arch_config["name"] == "conv64"
    out = obj.loss(_batch(obj, B=3, shape=(1, 64, 64)), 0, torch.Generator().manual_seed(0))
    out.total.backward()
    assert torch.isfinite(out.total)
    assert all(p.grad is not None for p in obj.model.encoder.parameters())
