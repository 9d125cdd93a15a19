"""Datasets for the metric tests."""

from __future__ import annotations

import torch

from pydisent.data import FactorSpace, GroundTruthDataset

SIZES = (4, 5, 3, 6)


class FactorVectors(GroundTruthDataset):
    """Observation = the factor vector itself (float32), so a representation is an explicit map of the factors."""

    def __init__(self, sizes=SIZES):
        super().__init__(FactorSpace(sizes), transform=None)

    @property
    def raw_shape(self):
        return (self.factor_space.num_factors,)

    def _render(self, factors):
        return torch.as_tensor(factors, dtype=torch.float32)
