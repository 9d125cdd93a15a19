"""The encoder/decoder protocol: Model's boundary checks, Posterior sampling, user modules."""

import pytest
import torch

from pydisent.models import Model
from pydisent.models.base import Posterior


def test_posterior_sampling_is_seeded_and_reparameterised():
    mean = torch.zeros(3, 2, requires_grad=True)
    logvar = torch.full((3, 2), 2 * torch.log(torch.tensor(0.5)).item(), requires_grad=True)
    q = Posterior(mean, logvar)
    a = q.sample(torch.Generator().manual_seed(1))
    b = q.sample(torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    eps = torch.randn(3, 2, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(a, 0.5 * eps)
    a.sum().backward()
    assert mean.grad is not None and logvar.grad is not None
    assert q.sample(None, num_samples=4).shape == (4, 3, 2)
    point = Posterior(torch.ones(2, 3), None)
    assert torch.equal(point.sample(), torch.ones(2, 3)) and point.sample(num_samples=2).shape == (2, 2, 3)
    with pytest.raises(ValueError, match="no density"):
        point.log_prob(torch.zeros(2, 3))


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
