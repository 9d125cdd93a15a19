"""A linear autoencoder made from a baseline representation: the stand-in "trained model" of a run folder.

Until ``pydisent.train`` exists on this branch, ``pydisent demo`` writes run folders holding a baseline
(PCA of the pixels, a random projection) through the same code path a trained VAE takes: encode for the
metrics, decode (the least-squares inverse ``x = mean + z W^+``) for traversals, reconstructions and the
topological score. The checkpoint is a plain dict of tensors and numbers (``torch.load(weights_only=True)``).
"""

from __future__ import annotations

import torch
from torch import nn

FORMAT = "pydisent.report.linear_autoencoder"
VERSION = 1


class LinearAutoencoder(nn.Module):
    """``z = (flatten(x) - mean) @ enc``, ``x = clamp(mean + z @ dec, 0, 1)`` reshaped to ``shape``."""

    def __init__(self, mean: torch.Tensor, enc: torch.Tensor, dec: torch.Tensor, shape):
        super().__init__()
        self.register_buffer("mean", mean.detach().to(torch.float32).reshape(-1))
        self.register_buffer("enc", enc.detach().to(torch.float32))
        self.register_buffer("dec", dec.detach().to(torch.float32))
        self.shape = tuple(int(s) for s in shape)

    @property
    def latent_dim(self) -> int:
        return int(self.enc.shape[1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.reshape(len(x), -1).to(self.mean) - self.mean) @ self.enc

    encode = forward

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        x = self.mean + z.to(self.dec) @ self.dec
        return x.clamp(0, 1).reshape(len(z), *self.shape)

    generate = decode  # the metrics' subject protocol (pydisent.metrics.as_subject)

    def checkpoint(self, **extra) -> dict:
        return {"format": FORMAT, "version": VERSION, "shape": list(self.shape), "mean": self.mean,
                "enc": self.enc, "dec": self.dec, **extra}

    @classmethod
    def from_checkpoint(cls, ckpt: dict) -> LinearAutoencoder:
        if ckpt.get("format") != FORMAT or ckpt.get("version") != VERSION:
            raise ValueError(f"not a {FORMAT} v{VERSION} checkpoint (format {ckpt.get('format')!r}, "
                             f"version {ckpt.get('version')!r})")
        return cls(ckpt["mean"], ckpt["enc"], ckpt["dec"], ckpt["shape"]).eval()


def from_baseline(name: str, dataset, num_codes: int, seed: int) -> LinearAutoencoder:
    """The baseline ``name`` of :mod:`pydisent.models.baselines` as an encoder with its linear inverse."""
    from pydisent.models import make_baseline

    module = make_baseline(name, dataset, num_codes, rng=seed)
    shape = tuple(dataset.observation_shape)
    if hasattr(module, "components"):
        mean, enc = module.mean, module.components
    else:
        enc = module.weight
        mean = torch.zeros(enc.shape[0])
    dec = torch.linalg.pinv(enc.to(torch.float64)).to(torch.float32)
    return LinearAutoencoder(mean, enc, dec, shape).eval()
