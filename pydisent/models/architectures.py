"""Encoder/decoder architectures, by name (``ARCHITECTURES``), each following :mod:`pydisent.models.base`'s protocol.

* ``"conv64"``: disentanglement_lib's ``conv_encoder`` / ``deconv_decoder``
  (methods/shared/architectures.py) for ``C x 64 x 64`` images: convs 32, 32, 64, 64 with kernels
  4, 4, 2, 2, stride 2, TensorFlow "same" padding (64 -> 32 -> 16 -> 8 -> 4), ReLU, dense 256 ReLU,
  then the mean and log-variance heads; decoder dense 256 ReLU -> 1024 ReLU -> 64 x 4 x 4 ->
  transposed convs 64, 32, 32, C (kernel 4, stride 2, "same": 4 -> 8 -> 16 -> 32 -> 64), no output
  activation (Bernoulli logits). Weights Glorot-uniform, biases zero (TensorFlow's defaults).
  (Tensors are channel-first here; TensorFlow's HWC flatten/reshape order differs only by a fixed
  permutation of the dense weights, the same function class.)
* ``"burgess"``: Burgess et al. 2018 ("Understanding disentangling in beta-VAE") as
  disentangling-vae implements it: convs of 32 channels, kernel 4, stride 2, padding 1 (three for
  32 x 32, four for 64 x 64), dense 256 -> 256, heads; decoder mirrored with transposed convs.
  disentangling-vae ends the decoder in a sigmoid; here it gives logits (the Bernoulli likelihood
  applies the sigmoid), the same model.
* ``"fc"``: disentanglement_lib's ``fc_encoder`` / ``fc_decoder`` (the beta-VAE paper's dSprites net):
  dense 1200, 1200 ReLU then the heads; decoder dense 1200, 1200, 1200 tanh then the pixels.
* ``"mlp"``: an MLP for vector data (pinwheel, toy data) or small images, ``hidden`` widths
  (default ``(256, 256)``), ReLU; the decoder mirrors the widths. ``tied=True`` (deterministic
  only) makes the decoder use the encoder's weight matrices transposed (weight tying).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from pydisent._validation import check_positive_int
from pydisent.models.base import Model, _shape


def _glorot_zero(module: nn.Module) -> nn.Module:
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return module


def _check_image(observation_shape, size: int, name: str) -> tuple[int, int, int]:
    shape = _shape(observation_shape, "observation_shape")
    if len(shape) != 3 or shape[1:] != (size, size):
        raise ValueError(f"architecture {name!r} needs observation_shape (C, {size}, {size}), got {shape}")
    return shape


class Conv64Encoder(nn.Module):
    """disentanglement_lib ``conv_encoder``; output ``(B, out_dim)``."""

    def __init__(self, channels: int, out_dim: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, 32, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(32, 32, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(32, 64, 2, 2, 0), nn.ReLU(),
            nn.Conv2d(64, 64, 2, 2, 0), nn.ReLU(),
            nn.Flatten(), nn.Linear(64 * 4 * 4, 256), nn.ReLU(),
            nn.Linear(256, out_dim),  # the mean and log-variance heads, concatenated
        )
        _glorot_zero(self)

    def forward(self, x):
        return self.net(x)


class Conv64Decoder(nn.Module):
    """disentanglement_lib ``deconv_decoder``; logits ``(B, C, 64, 64)``."""

    def __init__(self, latent_dim: int, channels: int):
        super().__init__()
        self.dense = nn.Sequential(nn.Linear(latent_dim, 256), nn.ReLU(), nn.Linear(256, 1024), nn.ReLU())
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(64, 64, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(32, 32, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(32, channels, 4, 2, 1),
        )
        _glorot_zero(self)

    def forward(self, z):
        return self.deconv(self.dense(z).view(len(z), 64, 4, 4))


class BurgessEncoder(nn.Module):
    def __init__(self, channels: int, size: int, out_dim: int):
        super().__init__()
        n_conv = int(math.log2(size)) - 2  # down to 4 x 4
        layers, c = [], channels
        for _ in range(n_conv):
            layers += [nn.Conv2d(c, 32, 4, 2, 1), nn.ReLU()]
            c = 32
        self.net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(32 * 16, 256), nn.ReLU(),
                                 nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, out_dim))

    def forward(self, x):
        return self.net(x)


class BurgessDecoder(nn.Module):
    def __init__(self, latent_dim: int, channels: int, size: int):
        super().__init__()
        n_conv = int(math.log2(size)) - 2
        self.dense = nn.Sequential(nn.Linear(latent_dim, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                                   nn.Linear(256, 32 * 16), nn.ReLU())
        layers = []
        for i in range(n_conv):
            last = i == n_conv - 1
            layers += [nn.ConvTranspose2d(32, channels if last else 32, 4, 2, 1)]
            if not last:
                layers.append(nn.ReLU())
        self.deconv = nn.Sequential(*layers)

    def forward(self, z):
        return self.deconv(self.dense(z).view(len(z), 32, 4, 4))


class MLPEncoder(nn.Module):
    def __init__(self, in_dim: int, hidden: Sequence[int], out_dim: int):
        super().__init__()
        dims = [in_dim, *hidden, out_dim]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, x):
        h = x.reshape(len(x), -1)
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i < len(self.layers) - 1:
                h = F.relu(h)
        return h


class MLPDecoder(nn.Module):
    def __init__(self, latent_dim: int, hidden: Sequence[int], observation_shape: Sequence[int]):
        super().__init__()
        self.observation_shape = tuple(observation_shape)
        dims = [latent_dim, *reversed(tuple(hidden)), math.prod(self.observation_shape)]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, z):
        h = z
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i < len(self.layers) - 1:
                h = F.relu(h)
        return h.view(len(z), *self.observation_shape)


class TiedMLPDecoder(nn.Module):
    """The decoder of a tied-weight autoencoder: layer ``i`` applies ``W_{L-i}^T`` of the encoder
    (its own biases), so ``x_hat = W_1^T relu(... relu(W_L^T z + c_L) ...) + c_1``."""

    def __init__(self, encoder: MLPEncoder, observation_shape: Sequence[int]):
        super().__init__()
        self.observation_shape = tuple(observation_shape)
        # a plain attribute list, not a submodule: the weights belong to (and are saved with) the encoder
        self._encoder = [encoder]
        self.biases = nn.ParameterList(nn.Parameter(torch.zeros(layer.in_features))
                                       for layer in reversed(encoder.layers))

    def forward(self, z):
        h = z
        layers = list(reversed(self._encoder[0].layers))
        for i, (layer, b) in enumerate(zip(layers, self.biases)):
            h = F.linear(h, layer.weight.t(), b)
            if i < len(layers) - 1:
                h = F.relu(h)
        return h.view(len(z), *self.observation_shape)


class FCDecoder(nn.Module):
    """disentanglement_lib ``fc_decoder``: 3 x 1200 tanh, then the pixels (logits)."""

    def __init__(self, latent_dim: int, observation_shape: Sequence[int]):
        super().__init__()
        self.observation_shape = tuple(observation_shape)
        self.net = nn.Sequential(nn.Linear(latent_dim, 1200), nn.Tanh(), nn.Linear(1200, 1200), nn.Tanh(),
                                 nn.Linear(1200, 1200), nn.Tanh(), nn.Linear(1200, math.prod(self.observation_shape)))
        _glorot_zero(self)

    def forward(self, z):
        return self.net(z).view(len(z), *self.observation_shape)


def _fc(observation_shape, latent_dim, stochastic):
    shape = _shape(observation_shape, "observation_shape")
    enc = _glorot_zero(MLPEncoder(math.prod(shape), (1200, 1200), latent_dim * (2 if stochastic else 1)))
    return enc, FCDecoder(latent_dim, shape)


def _conv64(observation_shape, latent_dim, stochastic):
    c, _, _ = _check_image(observation_shape, 64, "conv64")
    out = latent_dim * (2 if stochastic else 1)
    return Conv64Encoder(c, out), Conv64Decoder(latent_dim, c)


def _burgess(observation_shape, latent_dim, stochastic):
    shape = _shape(observation_shape, "observation_shape")
    if len(shape) != 3 or shape[1] != shape[2] or shape[1] not in (32, 64):
        raise ValueError(f"architecture 'burgess' needs observation_shape (C, 32, 32) or (C, 64, 64), got {shape}")
    out = latent_dim * (2 if stochastic else 1)
    return BurgessEncoder(shape[0], shape[1], out), BurgessDecoder(latent_dim, shape[0], shape[1])


def _mlp(observation_shape, latent_dim, stochastic, hidden=(256, 256), tied=False):
    shape = _shape(observation_shape, "observation_shape")
    hidden = tuple(check_positive_int(h, "hidden") for h in hidden)
    enc = MLPEncoder(math.prod(shape), hidden, latent_dim * (2 if stochastic else 1))
    if tied:
        if stochastic:
            raise ValueError("argument 'tied': weight tying needs a deterministic encoder (an autoencoder), "
                             "the stochastic encoder's last layer has 2 x latent_dim outputs")
        return enc, TiedMLPDecoder(enc, shape)
    return enc, MLPDecoder(latent_dim, hidden, shape)


ARCHITECTURES = {"conv64": _conv64, "burgess": _burgess, "fc": _fc, "mlp": _mlp}


def default_architecture(observation_shape) -> str:
    """``"conv64"`` for ``C x 64 x 64`` images, ``"burgess"`` for ``C x 32 x 32``, ``"mlp"`` otherwise."""
    shape = _shape(observation_shape, "observation_shape")
    if len(shape) == 3 and shape[1:] == (64, 64):
        return "conv64"
    if len(shape) == 3 and shape[1:] == (32, 32):
        return "burgess"
    return "mlp"


def build_model(observation_shape, latent_dim: int = 10, architecture: str | None = None,
                stochastic: bool = True, **options) -> Model:
    """A :class:`~pydisent.models.base.Model` from an architecture name.

    Args:
        observation_shape: one observation's shape, ``(C, H, W)`` or ``(D,)``.
        latent_dim: code size (default 10, disentanglement_lib's study).
        architecture: a name of ``ARCHITECTURES`` or None for :func:`default_architecture`.
        stochastic: Gaussian posterior (VAEs) or deterministic code (AEs).
        options: architecture options (``mlp``: ``hidden``, ``tied``).
    """
    shape = _shape(observation_shape, "observation_shape")
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    name = default_architecture(shape) if architecture is None else architecture
    if name not in ARCHITECTURES:
        raise ValueError(f"argument 'architecture': unknown {name!r}; known: {sorted(ARCHITECTURES)}")
    if name != "mlp" and options:
        raise ValueError(f"architecture {name!r} takes no options, got {sorted(options)}")
    if "hidden" in options:
        options["hidden"] = list(options["hidden"])
    enc, dec = ARCHITECTURES[name](shape, latent_dim, stochastic, **options)
    return Model(enc, dec, latent_dim, shape, stochastic, config={"name": name, **options})
