"""Kernels with a Python face: pairwise distances and batched PCA."""
from pydisent.ops.pca import batched_pca  # noqa: E402,F401
