"""Deterministic autoencoders (the VAE lecture's "ways to prevent the identity"; Goodfellow,
Bengio & Courville 2016, ch. 14). The code ``z = f(x)`` is a point; the representation is ``z``.

* ``ae``: ``L = E_x[-log p(x | g(f(x)))]`` (``likelihood="auto"``: Bernoulli cross-entropy on
  logits for images, the l2 error ``1/2 ||x - g(f(x))||^2`` for vectors).
* ``denoising_ae`` (Vincent et al. 2008): ``L = E_x E_{x~|x}[-log p(x | g(f(x~)))]``: reconstruct
  the clean ``x`` from a corrupted ``x~``: ``corruption="gaussian"`` adds ``N(0, noise_std^2)``
  (default 0.1), ``"mask"`` zeroes each element with probability ``mask_prob`` (default 0.25,
  Vincent et al.'s masking noise; their sweep spans 0.1-0.5).
* ``sparse_ae``: ``L = rec + l1 E_x ||f(x)||_1`` (an L1 sparsity penalty on the code; the lecture's
  sparse coding analogy; ``l1 = 0.1``, no canonical value exists: tune it to the data scale).
* ``tied_ae``: the ``ae`` loss on an MLP whose decoder uses the encoder's weight matrices
  transposed (weight tying, ``build_model(..., architecture="mlp", tied=True)``).

The training defaults are disentanglement_lib's (Adam 1e-4, batch 64, code size 10).
"""

from __future__ import annotations

import torch

from pydisent.models.objectives.base import LossOutput, Objective, register_objective

CORRUPTIONS = ("gaussian", "mask")


@register_objective
class AE(Objective):
    """Autoencoder: ``L = E_x[-log p(x | g(f(x)))]`` (deterministic code ``z = f(x)``)."""

    name = "ae"
    stochastic = False
    defaults = {}


@register_objective
class DenoisingAE(AE):
    """Denoising autoencoder (Vincent et al. 2008): reconstruct ``x`` from a corrupted ``x~``."""

    name = "denoising_ae"
    defaults = {"corruption": "gaussian", "noise_std": 0.1, "mask_prob": 0.25}

    def validate(self):
        if self.hparams["corruption"] not in CORRUPTIONS:
            raise ValueError(f"hyperparameter 'corruption' must be one of {CORRUPTIONS}, "
                             f"got {self.hparams['corruption']!r}")
        if self.noise_std < 0 or not 0 <= self.mask_prob < 1:
            raise ValueError("hyperparameters: 'noise_std' must be >= 0 and 'mask_prob' in [0, 1)")

    def corrupt(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        if self.hparams["corruption"] == "gaussian":
            return x + self.noise_std * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        keep = torch.rand(x.shape, generator=generator, device=x.device) >= self.mask_prob
        return x * keep

    def loss(self, batch, step: int = 0, generator=None):
        (x,) = self.split_batch(batch, 1)
        g = self.step_generator(generator, x.device)
        z = self.encode_posterior(self.corrupt(x, g)).mean
        rec = self.reconstruction(self.decode_params(z), x)
        return LossOutput(rec, {"loss": rec.detach(), "recon": rec.detach()})


@register_objective
class SparseAE(AE):
    """Sparse autoencoder: ``L = rec + l1 E_x ||f(x)||_1``."""

    name = "sparse_ae"
    defaults = {"l1": 0.1}

    def validate(self):
        if self.l1 < 0:
            raise ValueError(f"hyperparameter 'l1' must be >= 0, got {self.l1}")

    def regularizer(self, *, z, **_):
        l1 = self.scale_reg(z.abs().sum(1).mean())
        return self.l1 * l1, {"l1_code": l1}


@register_objective
class TiedAE(AE):
    """Tied-weight autoencoder: the MLP decoder applies the encoder's weights transposed."""

    name = "tied_ae"

    @classmethod
    def architecture_options(cls, architecture, options):
        if architecture not in (None, "mlp"):
            raise ValueError(f"objective 'tied_ae' ties the weights of an MLP; got architecture {architecture!r}")
        return "mlp", {**options, "tied": True}

    def __init__(self, model, **hparams):
        from pydisent.models.architectures import TiedMLPDecoder

        if not isinstance(getattr(model, "decoder", None), TiedMLPDecoder):
            raise ValueError("objective 'tied_ae' needs an MLP with tied weights: build_model(shape, "
                             "architecture='mlp', stochastic=False, tied=True) (make_objective does this)")
        super().__init__(model, **hparams)
