"""TVAE, Ada-TVAE, Ada-TVAE-D: triplet terms, the share-scale ramp and the mining by hand."""

import numpy as np
import pytest
import torch

from pydisent.models import make_objective
from pydisent.models.objectives.triplet import ada_triplet_loss, dist_triplet_loss, mine_triplets
from tests.models._fixed import eps_like, fixed_model


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
