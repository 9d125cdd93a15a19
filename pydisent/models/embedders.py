"""Embedding networks that map generated images to low-dimensional points for topological metrics.

:func:`random_vgg16_embedder` is the network of Zhou et al. (ICLR 2021, ``barcode_gen.py``): a VGG16
(Simonyan & Zisserman 2015) whose first convolution is replaced by ``Conv2d(channels, 64, 3, padding=1,
bias=False)`` and whose classifier ends early, so images become 64-d points::

    features (13 conv3x3 + ReLU, 5 max-pools) -> AdaptiveAvgPool2d(7, 7) -> flatten (25088)
    -> Linear(25088, 4096) -> ReLU -> Dropout -> Linear(4096, 64)

Defined here (module names as in ``torchvision.models.vgg16``, so a torchvision state dict loads into
it) because torchvision is not installed everywhere. The reference uses it *untrained* for dSprites
(random weights) and loads ImageNet weights for CelebA; it sets no seed, so its random layers differ
between every run, including between the real-data run and each model run. Here the weights are drawn
from a ``torch.Generator`` seeded by the caller: the same seed gives the same network.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from pydisent._rng import as_rng, torch_seed
from pydisent._validation import check_positive_int

__all__ = ["VGG16_CONFIG", "RandomVGG16Embedder", "random_vgg16_embedder"]

#: Convolution widths of VGG16 ("M" = 2x2 max-pool), as torchvision's configuration "D".
VGG16_CONFIG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")


class RandomVGG16Embedder(nn.Module):
    """The VGG16-shaped embedder of Zhou et al. (see the module docstring); always in eval mode
    (dropout off), no gradients needed. Input ``(n, channels, H, W)`` float images (H, W >= 32),
    output ``(n, out_dim)``."""

    def __init__(self, in_channels: int = 1, out_dim: int = 64, *, generator: torch.Generator | None = None):
        super().__init__()
        in_channels = check_positive_int(in_channels, "in_channels")
        out_dim = check_positive_int(out_dim, "out_dim")
        layers: list[nn.Module] = []
        c = in_channels
        for i, v in enumerate(VGG16_CONFIG):
            if v == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                layers += [nn.Conv2d(c, v, kernel_size=3, padding=1, bias=i != 0), nn.ReLU(inplace=True)]
                c = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        # classifier[3] is the replaced Linear(4096, out_dim); [4..6] (ReLU, Dropout, Linear) are Identity
        self.classifier = nn.Sequential(nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(0.5),
                                        nn.Linear(4096, out_dim), nn.Identity(), nn.Identity(), nn.Identity())
        self.in_channels, self.out_dim = in_channels, out_dim
        self._init(generator)
        self.eval()
        for p in self.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def _init(self, g: torch.Generator | None) -> None:
        # torchvision's VGG initialisation for the layers it keeps; PyTorch's default initialisation for
        # the two fresh layers the reference puts in (features[0], classifier[3]).
        for name, m in self.named_modules():
            fresh = name in ("features.0", "classifier.3")
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                if fresh:
                    nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=g)
                    if m.bias is not None:
                        bound = 1.0 / math.sqrt(m.weight[0].numel())
                        nn.init.uniform_(m.bias, -bound, bound, generator=g)
                elif isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu", generator=g)
                    nn.init.zeros_(m.bias)
                else:
                    nn.init.normal_(m.weight, 0.0, 0.01, generator=g)
                    nn.init.zeros_(m.bias)

    def train(self, mode: bool = True):  # an embedder for metrics: dropout stays off
        return super().train(False)

    def load_pretrained(self, state_dict: dict) -> RandomVGG16Embedder:
        """Load torchvision ``vgg16`` weights (e.g. ImageNet's, as the reference does for CelebA) into
        every layer whose shape matches; the two replaced layers keep their random weights."""
        own = self.state_dict()
        keep = {k: v for k, v in state_dict.items() if k in own and own[k].shape == v.shape}
        self.load_state_dict(keep, strict=False)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"argument 'x' must have shape (n, {self.in_channels}, H, W), got {tuple(x.shape)}")
        if x.shape[-1] < 32 or x.shape[-2] < 32:
            raise ValueError(f"argument 'x': images must be at least 32 x 32 for VGG16's five pools, got "
                             f"{tuple(x.shape[-2:])}")
        w = self.features[0].weight
        x = self.features(x.to(device=w.device, dtype=w.dtype))
        return self.classifier(torch.flatten(self.avgpool(x), 1))


def random_vgg16_embedder(in_channels: int = 1, out_dim: int = 64, *, seed=0, device=None,
                          state_dict: dict | None = None) -> RandomVGG16Embedder:
    """A :class:`RandomVGG16Embedder` with weights drawn from ``seed`` (an int, numpy Generator or
    RandomState); ``state_dict``: torchvision ``vgg16`` weights to load where shapes match (ImageNet for
    CelebA in the reference; ``None``: fully random, as the reference for dSprites)."""
    g = torch.Generator().manual_seed(torch_seed(as_rng(seed)))
    net = RandomVGG16Embedder(in_channels, out_dim, generator=g)
    if state_dict is not None:
        net.load_pretrained(state_dict)
    return net.to(device) if device is not None else net
