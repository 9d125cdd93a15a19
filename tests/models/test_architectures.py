"""Architectures: disentanglement_lib's layer shapes and parameter counts, Burgess, fc, MLP, tied weights."""

import pytest
import torch

from pydisent.models import (
    ARCHITECTURES,
    LIKELIHOODS,
    PRIORS,
    build_model,
)

T = lambda a: torch.as_tensor(a, dtype=torch.float64)  # noqa: E731


def _count(mod):
    return sum(p.numel() for p in mod.parameters())


def test_conv64_is_disentanglement_lib(rng):
    m = build_model((3, 64, 64), 10, "conv64")
    x = torch.rand(2, 3, 64, 64)
    shapes = []
    h = x
    for layer in m.encoder.net:
        h = layer(h)
        if isinstance(layer, torch.nn.Conv2d):
            shapes.append(tuple(h.shape[1:]))
    assert shapes == [(32, 32, 32), (32, 16, 16), (64, 8, 8), (64, 4, 4)]
    assert [c.kernel_size for c in m.encoder.net if isinstance(c, torch.nn.Conv2d)] == [(4, 4), (4, 4), (2, 2), (2, 2)]
    # parameter counts of conv_encoder / deconv_decoder (TF layers: kernel + bias)
    enc = (3 * 32 * 16 + 32) + (32 * 32 * 16 + 32) + (32 * 64 * 4 + 64) + (64 * 64 * 4 + 64) + (1024 * 256 + 256) \
        + 2 * (256 * 10 + 10)
    dec = (10 * 256 + 256) + (256 * 1024 + 1024) + (64 * 64 * 16 + 64) + (64 * 32 * 16 + 32) + (32 * 32 * 16 + 32) \
        + (32 * 3 * 16 + 3)
    assert _count(m.encoder) == enc and _count(m.decoder) == dec
    q = m.encode(x)
    assert q.mean.shape == (2, 10) and m.decode(q.mean).shape == (2, 3, 64, 64)
    biases = [mod.bias for mod in m.modules() if isinstance(mod, (torch.nn.Conv2d, torch.nn.Linear))]
    assert all(float(b.detach().abs().sum()) == 0 for b in biases)  # TF's zero bias init


def test_fc_is_disentanglement_lib():
    m = build_model((1, 64, 64), 10, "fc")
    enc = (4096 * 1200 + 1200) + (1200 * 1200 + 1200) + 2 * (1200 * 10 + 10)
    dec = (10 * 1200 + 1200) + 2 * (1200 * 1200 + 1200) + (1200 * 4096 + 4096)
    assert _count(m.encoder) == enc and _count(m.decoder) == dec
    assert m.decode(m.encode(torch.rand(2, 1, 64, 64)).mean).shape == (2, 1, 64, 64)


@pytest.mark.parametrize("size", [32, 64])
def test_burgess_shapes(size):
    m = build_model((1, size, size), 6, "burgess")
    convs = [c for c in m.encoder.net if isinstance(c, torch.nn.Conv2d)]
    assert len(convs) == (3 if size == 32 else 4) and all(c.out_channels == 32 for c in convs)
    z = m.encode(torch.rand(3, 1, size, size)).mean
    assert m.decode(z).shape == (3, 1, size, size)


def test_mlp_and_tied_weights():
    m = build_model((2, 3), 4, "mlp", stochastic=False, hidden=[8, 5], tied=True)
    enc = m.encoder
    x = torch.rand(7, 2, 3)
    z = m.encode(x).mean
    out = m.decode(z)
    assert out.shape == (7, 2, 3)
    # tied: decoder layer i is W_{L-i}^T: same storage, no weights of its own
    assert all(not n.endswith("weight") for n, _ in m.decoder.named_parameters())
    h = z
    for i, layer in enumerate(reversed(enc.layers)):
        h = h @ layer.weight + m.decoder.biases[i]
        if i < len(enc.layers) - 1:
            h = torch.relu(h)
    assert torch.allclose(h.view(7, 2, 3), out)
    out.sum().backward()
    assert enc.layers[0].weight.grad is not None
    assert "decoder._encoder" not in dict(m.named_modules())  # weights saved once, with the encoder
    with pytest.raises(ValueError, match="tied"):
        build_model((6,), 4, "mlp", stochastic=True, tied=True)


def test_registries_are_complete():
    assert set(ARCHITECTURES) == {"conv64", "burgess", "fc", "mlp"}
    assert set(LIKELIHOODS) == {"bernoulli", "gaussian", "mse", "laplace", "continuous_bernoulli"}
    assert set(PRIORS) == {"gaussian", "anisotropic", "student_t", "spike_slab", "mixture"}
