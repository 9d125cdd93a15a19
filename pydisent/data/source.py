"""One view of a ground-truth dataset for the metrics, whatever library the dataset comes from.

:func:`as_source` accepts a :class:`pydisent.data.GroundTruthDataset` or any object with the
disentanglement_lib ``GroundTruthData`` methods (``num_factors``, ``factors_num_values``,
``observation_shape``, ``sample_factors(num, random_state)``,
``sample_observations_from_factors(factors, random_state)``). The latter are called exactly as
disentanglement_lib calls them (with a ``numpy.random.RandomState``), and the observations are handed
to the representation function as the dataset returns them (numpy arrays included).
"""

from __future__ import annotations

import numpy as np
import torch

from pydisent._rng import as_rng
from pydisent.data.base import GroundTruthDataset
from pydisent.data.factors import FactorSpace

_DLIB_METHODS = ("num_factors", "factors_num_values", "sample_factors", "sample_observations_from_factors")


class GroundTruthSource:
    """Uniform interface used by every metric.

    Attributes:
        factor_space: the dataset's :class:`FactorSpace`.
        dataset: the wrapped dataset.
    """

    def __init__(self, dataset):
        self.dataset = dataset
        if isinstance(dataset, GroundTruthDataset) or (
            hasattr(dataset, "factor_space") and hasattr(dataset, "observations")
        ):
            self.kind = "pydisent"
            self.factor_space = dataset.factor_space
        elif all(hasattr(dataset, m) for m in _DLIB_METHODS):
            self.kind = "disentanglement_lib"
            sizes = list(dataset.factors_num_values)
            if len(sizes) != int(dataset.num_factors):
                raise ValueError(
                    f"argument 'dataset' reports num_factors={dataset.num_factors} but "
                    f"factors_num_values has {len(sizes)} entries"
                )
            names = getattr(dataset, "factor_names", None)
            self.factor_space = FactorSpace(sizes, names if names is not None and len(names) == len(sizes) else None)
        else:
            raise TypeError(
                "argument 'dataset' must be a pydisent.data.GroundTruthDataset or provide the "
                f"disentanglement_lib GroundTruthData methods {_DLIB_METHODS}; got {type(dataset).__name__}"
            )

    def make_rng(self, seed):
        """The RNG a metric draws from: ``RandomState(seed)`` for disentanglement_lib datasets (as
        ``evaluate()`` there does), ``default_rng(seed)`` otherwise. Passing a generator keeps it."""
        if isinstance(seed, (np.random.Generator, np.random.RandomState)):
            return seed
        if self.kind == "disentanglement_lib":
            return np.random.RandomState(seed)
        return as_rng(seed)

    @property
    def num_factors(self) -> int:
        return self.factor_space.num_factors

    @property
    def factor_sizes(self) -> np.ndarray:
        return self.factor_space.sizes

    def sample_factors(self, n: int, rng) -> np.ndarray:
        if self.kind == "disentanglement_lib":
            out = np.asarray(self.dataset.sample_factors(int(n), rng))
            return out.astype(np.int64, copy=False).reshape(int(n), self.num_factors)
        return self.factor_space.sample_factors(n, rng)

    def observations(self, factors: np.ndarray, rng, scratch=None):
        """Observations of a batch of factors, in the dataset's own output type; with ``scratch`` (a
        :class:`pydisent.data.base.Scratch`) a pydisent dataset may write them into it, overwriting
        the previous batch."""
        if self.kind == "disentanglement_lib":
            return self.dataset.sample_observations_from_factors(factors, rng)
        if scratch is not None and self._standard_observations:
            return self.dataset.observations(factors, scratch=scratch)
        return self.dataset.observations(factors)

    @property
    def _standard_observations(self) -> bool:
        # a subclass that overrides observations() may not take scratch= nor be raw + transform
        return type(self.dataset).observations is GroundTruthDataset.observations

    def observations_with_raw(self, factors: np.ndarray, rng, scratch=None):
        """``(observations, images, channel_scale)``: the observations as :meth:`observations` gives
        them and, where the dataset renders ``uint8`` images ``(n, H, W, C)`` and its transform is a
        per-channel affine map that says so (``transform.difference_scale(C)``: :func:`to_float_chw`,
        :class:`~pydisent.data.FloatCHW`), those images and the per-channel scale ``k`` with
        ``x_a - x_b = k (u_a - u_b)``; otherwise ``None, None``. Data distances computed on the uint8
        images read a quarter of the bytes and need no rounding of the images
        (:func:`pydisent.ops.paired_image_mse`)."""
        ds = self.dataset
        scale_of = getattr(getattr(ds, "transform", None), "difference_scale", None)
        if self.kind == "pydisent" and scale_of is not None and self._standard_observations:
            raw = ds.raw_observations(factors)
            obs = ds.apply_transform(raw, scratch)
            if isinstance(raw, torch.Tensor) and raw.dtype == torch.uint8 and raw.dim() == 4:
                return obs, raw, tuple(float(v) for v in scale_of(raw.shape[-1]))
            return obs, None, None
        return self.observations(factors, rng, scratch), None, None


def as_source(dataset) -> GroundTruthSource:
    return dataset if isinstance(dataset, GroundTruthSource) else GroundTruthSource(dataset)
