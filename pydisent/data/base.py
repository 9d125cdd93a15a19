"""The ground-truth dataset base class.

A :class:`GroundTruthDataset` is a ``torch.utils.data.Dataset`` indexed by flat factor index, plus a
vectorised ``observations(factors)`` that renders or gathers a whole batch at once (metrics ask for
tens of thousands of images; no per-image Python loop).

Observation formats: ``raw_observations`` returns the dataset's native batch (``uint8``
``(n, H, W, C)`` for image datasets); ``observations`` applies ``self.transform`` to it (by default
:func:`to_float_chw`: ``float32`` ``(n, C, H, W)`` in ``[0, 1]``). What ``__getitem__`` and a
``DataLoader`` yield is what ``observations`` yields, so the tensors a model trains on are the
tensors metrics encode.
"""

from __future__ import annotations

import abc
from collections.abc import Callable

import numpy as np
import torch

from pydisent.data.factors import FactorSpace


class Scratch:
    """One block of memory that successive batches of observations are written into.

    Metrics render tens of thousands of observations in chunks and drop each chunk once it is encoded.
    A fresh tensor per chunk costs more than filling it: tens of MB of newly mapped pages per chunk,
    faulted in one by one (the CPU allocator hands large blocks back to the system), about 3.5x the cost
    of the conversion itself. A transform that accepts ``scratch=`` (see :func:`to_float_chw`) takes its
    output from here instead; the block grows when a batch needs more and is reused otherwise, so each
    batch overwrites the previous one: whoever keeps a batch (or a view of it) past the next must copy
    it (:meth:`holds` tells whether a tensor lives in the block).
    """

    def __init__(self):
        self._block: torch.Tensor | None = None

    def take(self, shape, dtype: torch.dtype, device=None) -> torch.Tensor:
        """A contiguous tensor of ``shape`` and ``dtype`` in the block (contents undefined)."""
        device = torch.device("cpu") if device is None else torch.device(device)
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        b = self._block
        if b is None or b.device != device or b.numel() < nbytes:
            self._block = b = torch.empty(max(nbytes, 1), dtype=torch.uint8, device=device)
        return b[:nbytes].view(dtype).view(tuple(int(v) for v in shape))

    def holds(self, t) -> bool:
        """Whether tensor ``t`` shares memory with the block."""
        b = self._block
        if b is None or not isinstance(t, torch.Tensor) or t.device != b.device or t.numel() == 0:
            return False
        s = t.untyped_storage()
        lo, hi = s.data_ptr(), s.data_ptr() + s.nbytes()
        return lo < b.data_ptr() + b.numel() and b.data_ptr() < hi


def to_float_chw(batch: torch.Tensor, mean=None, std=None, *, scratch: Scratch | None = None) -> torch.Tensor:
    """``uint8`` ``(n, H, W, C)`` -> ``float32`` ``(n, C, H, W)`` in [0, 1], optionally normalised
    per channel by ``(x - mean) / std``. Float input is only permuted (assumed already in [0, 1]).
    With ``scratch`` (a :class:`Scratch`) the result of a CPU ``uint8`` batch is written into it
    rather than into a new tensor."""
    if batch.dim() != 4:
        raise ValueError(f"argument 'batch' must have shape (n, H, W, C), got {tuple(batch.shape)}")
    if batch.dtype == torch.uint8 and not batch.is_cuda:
        # one fused C++ pass (same float32 operations, so the same values as the torch path below)
        from pydisent.data._render import hwc_to_chw_float

        return hwc_to_chw_float(batch, mean, std, scratch=scratch)
    x = batch.permute(0, 3, 1, 2)
    if x.dtype == torch.uint8:
        x = x.to(torch.float32).div_(255.0)
    elif x.dtype == torch.bool:
        x = x.to(torch.float32)
    else:
        x = x.to(torch.float32)
    if mean is not None or std is not None:
        m = torch.as_tensor(0.0 if mean is None else mean, dtype=x.dtype).reshape(1, -1, 1, 1)
        s = torch.as_tensor(1.0 if std is None else std, dtype=x.dtype).reshape(1, -1, 1, 1)
        x = (x - m) / s
    return x.contiguous()


to_float_chw.accepts_scratch = True  # the protocol GroundTruthDataset.observations looks for
# x = u / 255 per channel: differences of float images are differences of uint8 images / 255 (see
# GroundTruthSource.observations_with_raw; FloatCHW declares its own scales)
to_float_chw.difference_scale = lambda channels: (1.0 / 255.0,) * int(channels)


class GroundTruthDataset(torch.utils.data.Dataset, abc.ABC):
    """Base of every ground-truth dataset.

    Subclasses set ``self.factor_space`` and implement :meth:`raw_observations` (batched) and
    :attr:`raw_shape`. ``transform`` maps a raw batch to model input (default :func:`to_float_chw`;
    ``None`` keeps raw batches).
    """

    factor_space: FactorSpace

    def __init__(self, factor_space: FactorSpace, transform: Callable | None | str = "default"):
        self.factor_space = factor_space
        self.transform = to_float_chw if transform == "default" else transform

    # -- to implement ------------------------------------------------------------------------
    @property
    @abc.abstractmethod
    def raw_shape(self) -> tuple[int, ...]:
        """Shape of one raw observation, e.g. ``(64, 64, 3)``."""

    @abc.abstractmethod
    def _render(self, factors: np.ndarray) -> torch.Tensor:
        """Raw batch ``(n, *raw_shape)`` for checked int64 factors ``(n, F)``."""

    # -- public API --------------------------------------------------------------------------
    @property
    def observation_shape(self) -> tuple[int, ...]:
        """Shape of one transformed observation (what ``__getitem__`` returns)."""
        if self.transform is None:
            return tuple(self.raw_shape)
        probe = self.transform(self._render(np.zeros((1, self.factor_space.num_factors), dtype=np.int64)))
        return tuple(probe.shape[1:])

    @property
    def factor_names(self) -> tuple[str, ...]:
        return self.factor_space.names

    @property
    def factor_sizes(self) -> np.ndarray:
        return self.factor_space.sizes

    def raw_observations(self, factors) -> torch.Tensor:
        return self._render(self.factor_space.check_factors(factors))

    def observations(self, factors, scratch: Scratch | None = None) -> torch.Tensor:
        """Transformed observations of ``factors`` ``(n, F)``. With ``scratch``, a transform that
        declares ``accepts_scratch = True`` (:func:`to_float_chw`, :class:`~pydisent.data.FloatCHW`)
        writes into it: the result is then overwritten by the next call with the same scratch."""
        return self.apply_transform(self.raw_observations(factors), scratch)

    def apply_transform(self, raw, scratch: Scratch | None = None):
        """``self.transform`` applied to a raw batch (written into ``scratch`` where the transform
        accepts one, see :meth:`observations`); the raw batch itself without a transform."""
        if self.transform is None:
            return raw
        if scratch is not None and getattr(self.transform, "accepts_scratch", False):
            return self.transform(raw, scratch=scratch)
        return self.transform(raw)

    def observations_from_indices(self, indices) -> torch.Tensor:
        return self.observations(self.factor_space.idx_to_pos(indices))

    def sample(self, n: int, rng=None) -> tuple[np.ndarray, torch.Tensor]:
        """``n`` uniformly drawn factor vectors and their observations."""
        factors = self.factor_space.sample_factors(n, rng)
        return factors, self.observations(factors)

    def __len__(self) -> int:
        return self.factor_space.size

    def __getitem__(self, idx: int) -> torch.Tensor:
        if isinstance(idx, torch.Tensor):
            idx = int(idx)
        if idx < 0:
            idx += len(self)
        return self.observations_from_indices([idx])[0]

    def __getitems__(self, indices) -> list:
        # torch's DataLoader calls this with a whole batch of indices: render them in one call.
        batch = self.observations_from_indices(np.asarray(indices, dtype=np.int64))
        return list(batch)
