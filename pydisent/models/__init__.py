"""Representations to score: reference baselines and loaders for user models.

Baselines give every metric a meaningful floor without training anything: a random linear
projection of the pixels (a Johnson-Lindenstrauss embedding: informative, entangled) and the
principal components of the pixels (the best linear code in the L2 sense, usually entangled).
"""

from pydisent.models.baselines import BASELINES, PCACode, RandomProjection, make_baseline
from pydisent.models.loading import load_representation

__all__ = ["BASELINES", "PCACode", "RandomProjection", "make_baseline", "load_representation"]
