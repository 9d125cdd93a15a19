"""FactorVAE: the permutation, the TC and discriminator terms, no discriminator gradient to the encoder."""

import pytest
import torch

from pydisent.models import make_objective
from pydisent.models.objectives.factor import permute_dims


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
