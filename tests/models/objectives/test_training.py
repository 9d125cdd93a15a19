"""Every objective trains 200 steps on a procedural dataset on the CPU: no NaN, a falling loss.

A minimal loop of its own (Adam, the documented update order for the auxiliary network), with
pairs and triplets from the FactorSpace samplers, on 16 x 16 XYSquares (two squares, 256 images)
and a small MLP; one run through ``pydisent.train`` checks the objectives plug into the trainer.
"""

import numpy as np
import pytest
import torch

from pydisent.data import XYSquares
from pydisent.models import OBJECTIVES, make_objective

STEPS = 200
SMALL = {"factor_vae": {"disc_width": 64, "disc_layers": 3}, "beta_tcvae": {"dataset_size": 256},
         "annealed_vae": {"c_steps": 100, "c_max": 5.0, "gamma": 100.0},
         "ada_tvae": {"share_scale_steps": STEPS}, "ada_tvae_d": {"share_scale_steps": STEPS, "num_triplets": 128},
         "decomposition_vae": {"alpha": 1.0, "divergence": "mmd", "prior": "student_t"}}


@pytest.fixture(scope="module")
def dataset():
    return XYSquares(square_size=4, image_size=16, grid_spacing=4, num_squares=2, rgb=False)


def _batch(obj, ds, n, rng):
    fs = ds.factor_space
    if obj.batch_kind == "single":
        return ds.observations(fs.sample_factors(n, rng))
    if obj.batch_kind == "pairs":
        a, b, _ = fs.sample_pairs_differing(n, rng=rng, **obj.sampler_defaults)
        return ds.observations(a), ds.observations(b)
    return tuple(ds.observations(f) for f in fs.sample_triplets(n, rng, **obj.sampler_defaults))


def train_losses(obj, ds, steps=STEPS, batch=32, lr=1e-3, seed=0):
    rng = np.random.default_rng(seed)
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(obj.main_parameters(), lr=lr)
    aux = obj.aux_parameters()
    aux_opt = torch.optim.Adam(aux, lr=1e-3, betas=(0.5, 0.9)) if aux else None
    losses = []
    for step in range(steps):
        x = _batch(obj, ds, batch, rng)
        out = obj.loss(x, step, g)
        assert torch.isfinite(out.total), (step, out.terms)
        opt.zero_grad()
        out.total.backward()
        opt.step()
        if aux_opt is not None:
            a = obj.aux_loss(x, step, g)
            aux_opt.zero_grad()
            a.total.backward()
            aux_opt.step()
        assert all(torch.isfinite(v) for v in out.terms.values()), (step, out.terms)
        losses.append(out.total.item())
    return np.array(losses)


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
def test_objective_trains(name, dataset):
    torch.manual_seed(0)  # weight init only
    obj = make_objective(name, dataset.observation_shape, latent_dim=4, architecture="mlp",
                         arch_options={"hidden": [64]}, **SMALL.get(name, {}))
    losses = train_losses(obj, dataset)
    first, last = losses[:20].mean(), losses[-20:].mean()
    assert last < first, f"{name}: loss {first:.3f} -> {last:.3f}"
    assert np.isfinite(losses).all()


def test_conv64_beta_vae_steps(dataset):
    ds = XYSquares(square_size=8, image_size=64, grid_size=4, num_squares=1, rgb=False)
    torch.manual_seed(0)
    obj = make_objective("beta_vae", ds.observation_shape, latent_dim=4)
    assert type(obj.model.encoder).__name__ == "Conv64Encoder"
    losses = train_losses(obj, ds, steps=30, batch=8)
    assert losses[-5:].mean() < losses[:5].mean()


@pytest.mark.parametrize("name", ["factor_vae", "ada_gvae", "tvae", "beta_tcvae"])
def test_objectives_run_in_the_trainer(name, tmp_path):
    import pydisent.train as T

    run = T.train(name, "xysquares", steps=6, batch_size=8, out=tmp_path / name, quiet=True, latent_dim=4,
                  dataset_options={"square_size": 2, "image_size": 8}, arch_options={"hidden": [16]},
                  hparams=SMALL.get(name, {}) if name != "beta_tcvae" else {}, log_every=2, checkpoint_every=None)
    assert run is not None
