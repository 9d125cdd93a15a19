"""Kernels with a Python face: pairwise distances and batched PCA."""

from pydisent.ops.distance import DISTANCE_METRICS, DISTANCE_MODES, cdist, pairwise_distance  # noqa: E402,F401
