"""Shared hypothesis strategies and settings helpers for the property tests (``test_*_properties.py``).

Magnitudes: one power-of-ten scale per drawn array (1e-300 .. 1e300 for float64, 1e-30 .. 1e30 for float32)
times small values on a grid (so ties and duplicates are common). Views: the same values as a contiguous
array, a Fortran-ordered one, a negative-stride view, a strided slice of a larger buffer and (for one row)
a broadcast view.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis", reason="property tests need hypothesis (the `test` extra)")
from hypothesis import settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
DTYPES = (np.float32, np.float64)
VIEWS = ("contiguous", "fortran", "reversed", "strided", "broadcast")


def examples(ci: int):
    """Per-test example count: ``ci`` in the CI profile, 16x (at least 100) with ``HYPOTHESIS_PROFILE=thorough``."""
    return settings(max_examples=ci if PROFILE == "ci" else max(100, 16 * ci))


@st.composite
def scales(draw, dtype=np.float64, extreme: bool = True):
    if not extreme:
        return 1.0
    top = 300 if dtype == np.float64 else 30
    return float(10.0 ** draw(st.integers(-top, top)))


@st.composite
def grid_arrays(draw, shape, dtype=np.float64, extreme: bool = True, levels: int = 7):
    """Values ``scale * k / levels`` with small integers ``k`` (ties and duplicates likely)."""
    n = int(np.prod(shape))
    k = draw(st.lists(st.integers(-levels, levels), min_size=n, max_size=n))
    s = draw(scales(dtype, extreme))
    return (np.asarray(k, dtype=np.float64).reshape(shape) * (s / levels)).astype(dtype)


def view(a: np.ndarray, kind: str) -> np.ndarray:
    """``a``'s values as a view of kind ``kind`` (equal to ``a`` element for element)."""
    if kind == "fortran":
        return np.asfortranarray(a)
    if kind == "reversed":
        return np.ascontiguousarray(a[::-1])[::-1]
    if kind == "strided":
        big = np.zeros((a.shape[0] * 2,) + a.shape[1:], dtype=a.dtype)
        big[::2] = a
        return big[::2]
    if kind == "broadcast" and a.shape[0] >= 1 and (a == a[:1]).all():
        return np.broadcast_to(a[:1], a.shape)
    return a


@st.composite
def point_sets(draw, max_n: int = 9, max_d: int = 4, min_n: int = 0, dtypes=DTYPES, extreme: bool = True):
    dtype = draw(st.sampled_from(dtypes))
    n = draw(st.integers(min_n, max_n))
    d = draw(st.integers(1, max_d))
    a = draw(grid_arrays((n, d), dtype, extreme))
    if n and draw(st.booleans()):  # duplicated rows
        a[draw(st.integers(0, n - 1))] = a[0]
    return view(a, draw(st.sampled_from(VIEWS)))
