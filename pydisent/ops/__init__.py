"""Kernels with a Python face: pairwise distances and batched PCA."""
