"""Random number generators passed in, never global.

Functions take ``rng`` as an ``int`` seed, a ``numpy.random.Generator``, or a
``numpy.random.RandomState`` (what disentanglement_lib passes); :func:`randint` draws integers from
either kind with the same call.
"""

from __future__ import annotations

import numpy as np

RNGLike = "int | np.random.Generator | np.random.RandomState | None"


def as_rng(rng=None) -> np.random.Generator | np.random.RandomState:
    """``rng`` unchanged if it is a Generator/RandomState; a new ``default_rng(rng)`` for a seed or None."""
    if isinstance(rng, (np.random.Generator, np.random.RandomState)):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise TypeError(
        f"argument 'rng' must be an int seed, numpy.random.Generator or numpy.random.RandomState, "
        f"got {type(rng).__name__}"
    )


def randint(rng, high, size=None) -> np.ndarray:
    """Integers in ``[0, high)`` (``high`` may be an array broadcast against ``size``), int64."""
    if isinstance(rng, np.random.RandomState):
        return np.asarray(rng.randint(high, size=size), dtype=np.int64)
    return np.asarray(rng.integers(0, high, size=size), dtype=np.int64)


def torch_seed(rng) -> int:
    """A 63-bit seed drawn from ``rng``, for building a ``torch.Generator`` deterministically."""
    return int(randint(rng, 2**63 - 1))
