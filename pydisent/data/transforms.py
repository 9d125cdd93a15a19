"""Observation transforms: uint8 HWC batches to model input."""

from __future__ import annotations

import numpy as np
import torch

from pydisent._rng import as_rng
from pydisent.data.base import to_float_chw


class FloatCHW:
    """``uint8 (n, H, W, C)`` -> ``float32 (n, C, H, W)`` in [0, 1], then ``(x - mean) / std`` per
    channel when given (disent's ``ToImgTensorF32(mean, std)``). Pass as ``transform=`` to a dataset."""

    def __init__(self, mean=None, std=None):
        self.mean = None if mean is None else tuple(float(v) for v in np.atleast_1d(mean))
        self.std = None if std is None else tuple(float(v) for v in np.atleast_1d(std))
        if self.std is not None and any(not s > 0 for s in self.std):
            raise ValueError(f"argument 'std' must be positive, got {self.std}")

    accepts_scratch = True  # see GroundTruthDataset.observations

    def difference_scale(self, channels: int) -> tuple[float, ...]:
        """Per-channel ``k`` with ``x_a - x_b = k (u_a - u_b)`` for uint8 images ``u``: ``1 / (255 std)``
        (the mean cancels); what data distances computed on the uint8 images use."""
        std = (1.0,) if self.std is None else self.std
        if len(std) == 1:
            std = std * int(channels)
        if len(std) != int(channels):
            raise ValueError(f"FloatCHW has {len(std)} std values for {channels} channels")
        return tuple(1.0 / (255.0 * v) for v in std)

    def __call__(self, batch: torch.Tensor, scratch=None) -> torch.Tensor:
        return to_float_chw(batch, self.mean, self.std, scratch=scratch)

    def __repr__(self) -> str:
        return f"FloatCHW(mean={self.mean}, std={self.std})"


def dataset_stats(dataset, n: int = 10000, rng=None, batch_size: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of ``n`` uniformly drawn raw observations scaled to
    [0, 1] (``n=None``: the whole dataset), e.g. for ``FloatCHW(*dataset_stats(ds))``."""
    fs = dataset.factor_space
    rng = as_rng(rng)
    idx = np.arange(fs.size) if n is None else fs.sample_indices(int(n), rng)
    s1 = s2 = None
    count = 0
    for start in range(0, len(idx), batch_size):
        x = dataset.raw_observations(fs.idx_to_pos(idx[start:start + batch_size])).to(torch.float64) / 255.0
        x = x.reshape(-1, x.shape[-1])
        a, b = x.sum(0), (x * x).sum(0)
        s1 = a if s1 is None else s1 + a
        s2 = b if s2 is None else s2 + b
        count += x.shape[0]
    if count == 0:
        raise ValueError("argument 'n' must be >= 1")
    mean = (s1 / count).numpy()
    std = np.sqrt(np.maximum((s2 / count).numpy() - mean**2, 0.0))
    return mean, std
