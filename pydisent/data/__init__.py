"""Ground-truth factor spaces and datasets."""

from pydisent.data.base import GroundTruthDataset, to_float_chw
from pydisent.data.factors import FactorSpace
from pydisent.data.source import GroundTruthSource, as_source

__all__ = ["FactorSpace", "GroundTruthDataset", "GroundTruthSource", "as_source", "to_float_chw"]
