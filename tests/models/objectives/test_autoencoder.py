"""Autoencoders: the sparse penalty by hand, the denoising corruptions."""

import pytest
import torch

from pydisent.models import make_objective


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
