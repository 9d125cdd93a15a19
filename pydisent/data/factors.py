"""Ground-truth factor spaces: the index algebra shared by datasets, samplers and metrics.

A factor space with sizes ``(s_0, ..., s_{F-1})`` enumerates every combination of factor values;
index <-> position conversion is row-major (the last factor varies fastest), as in disent's
``StateSpace`` and disentanglement_lib's ``SplitDiscreteStateSpace``. Factor values are the integer
positions ``0..s_k-1``. All methods are vectorised over batches and take the RNG as an argument.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from pydisent._rng import as_rng, randint


class FactorSpace:
    """Discrete ground-truth factor space.

    Args:
        sizes: number of values of each factor (each >= 1).
        names: a name per factor (default ``factor_0``, ...).
    """

    def __init__(self, sizes: Sequence[int], names: Sequence[str] | None = None):
        sizes = [int(s) for s in sizes]
        if not sizes:
            raise ValueError("argument 'sizes' must name at least one factor")
        if any(s < 1 for s in sizes):
            raise ValueError(f"argument 'sizes' must be positive integers, got {sizes}")
        if names is None:
            names = [f"factor_{i}" for i in range(len(sizes))]
        names = [str(n) for n in names]
        if len(names) != len(sizes):
            raise ValueError(f"argument 'names' must have {len(sizes)} entries, got {len(names)}")
        if len(set(names)) != len(names):
            raise ValueError(f"argument 'names' must be unique, got {names}")
        self._sizes = np.asarray(sizes, dtype=np.int64)
        self._names = tuple(names)
        # multipliers[k] = prod(sizes[k+1:]): the index step of one unit of factor k.
        self._multipliers = np.concatenate([np.cumprod(self._sizes[::-1])[::-1][1:], [1]]).astype(np.int64)

    # -- description -------------------------------------------------------------------------
    @property
    def sizes(self) -> np.ndarray:
        return self._sizes.copy()

    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    @property
    def num_factors(self) -> int:
        return len(self._sizes)

    @property
    def size(self) -> int:
        return int(np.prod(self._sizes))

    @property
    def multipliers(self) -> np.ndarray:
        return self._multipliers.copy()

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={s}" for n, s in zip(self._names, self._sizes))
        return f"FactorSpace({inner})"

    def factor_index(self, f: int | str) -> int:
        """Index of factor ``f`` given by position or name."""
        if isinstance(f, str):
            try:
                return self._names.index(f)
            except ValueError:
                raise ValueError(f"unknown factor name {f!r}; factors are {self._names}") from None
        if isinstance(f, bool) or not isinstance(f, (int, np.integer)):
            raise TypeError(f"factor must be an int or a name, got {type(f).__name__}")
        if not 0 <= f < self.num_factors:
            raise ValueError(f"factor index must be in [0, {self.num_factors}), got {f}")
        return int(f)

    # -- conversion --------------------------------------------------------------------------
    def check_factors(self, factors, name: str = "factors") -> np.ndarray:
        """``factors`` as an int64 array ``(n, F)`` (a single vector becomes ``(1, F)``), range-checked."""
        arr = np.asarray(factors)
        if arr.dtype.kind not in "iu":
            if arr.dtype.kind == "f" and arr.size and np.all(np.equal(np.mod(arr, 1), 0)):
                arr = arr.astype(np.int64)
            elif arr.size == 0:
                arr = arr.astype(np.int64)
            else:
                raise TypeError(f"argument '{name}' must hold integer factor positions, got dtype {arr.dtype}")
        arr = arr.astype(np.int64, copy=False)
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != self.num_factors:
            raise ValueError(f"argument '{name}' must have shape (n, {self.num_factors}), got {arr.shape}")
        bad = (arr < 0) | (arr >= self._sizes[None, :])
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise ValueError(
                f"argument '{name}' is out of range: factor {col} ({self._names[col]}) has value "
                f"{arr[row, col]} at row {row}, expected 0..{self._sizes[col] - 1}"
            )
        return arr

    def pos_to_idx(self, factors) -> np.ndarray:
        """Flat indices ``(n,)`` of factor positions ``(n, F)`` (row-major, last factor fastest)."""
        return self.check_factors(factors) @ self._multipliers

    def idx_to_pos(self, indices) -> np.ndarray:
        """Factor positions ``(n, F)`` of flat indices ``(n,)``."""
        idx = np.asarray(indices)
        if idx.dtype.kind not in "iu" and idx.size:
            raise TypeError(f"argument 'indices' must be integers, got dtype {idx.dtype}")
        idx = np.atleast_1d(idx).astype(np.int64, copy=False)
        if idx.ndim != 1:
            raise ValueError(f"argument 'indices' must be one-dimensional, got shape {idx.shape}")
        if idx.size and (idx.min() < 0 or idx.max() >= self.size):
            raise ValueError(f"argument 'indices' must be in [0, {self.size}), got range [{idx.min()}, {idx.max()}]")
        return (idx[:, None] // self._multipliers[None, :]) % self._sizes[None, :]

    # -- sampling ----------------------------------------------------------------------------
    def sample_factors(self, n: int, rng=None) -> np.ndarray:
        """``n`` factor vectors drawn uniformly and independently per factor (with replacement).

        Columns are drawn one factor after another, as disentanglement_lib draws them, so a
        ``RandomState`` seeded the same way yields the same samples.
        """
        rng = as_rng(rng)
        n = int(n)
        if n < 0:
            raise ValueError(f"argument 'n' must be >= 0, got {n}")
        out = np.empty((n, self.num_factors), dtype=np.int64)
        for k, s in enumerate(self._sizes):
            out[:, k] = randint(rng, s, size=n)
        return out

    def sample_indices(self, n: int, rng=None) -> np.ndarray:
        return self.pos_to_idx(self.sample_factors(n, rng))

    def resample_factors(self, factors, resample, rng=None) -> np.ndarray:
        """Copy of ``factors`` with the factors listed in ``resample`` drawn anew (others kept)."""
        rng = as_rng(rng)
        out = self.check_factors(factors).copy()
        for f in np.atleast_1d(resample):
            k = self.factor_index(int(f) if not isinstance(f, str) else f)
            out[:, k] = randint(rng, self._sizes[k], size=len(out))
        return out

    def resample_other_factors(self, factors, keep, rng=None) -> np.ndarray:
        """Copy of ``factors`` keeping the factors in ``keep`` and redrawing every other one."""
        keep_idx = {self.factor_index(f) for f in np.atleast_1d(keep).tolist()}
        others = [k for k in range(self.num_factors) if k not in keep_idx]
        return self.resample_factors(factors, others, rng) if others else self.check_factors(factors).copy()

    # -- traversals --------------------------------------------------------------------------
    TRAVERSAL_MODES = ("interval", "cycle", "cycle_from_start", "cycle_from_start_ends")

    def traversal_values(self, factor, num: int | None = None, mode: str = "interval", start=None) -> np.ndarray:
        """Values of one factor along a traversal, as disent's ``sample_random_factor_traversal``.

        Modes (``s`` = factor size, ``num`` default ``s``):
          * ``interval``: ``round(linspace(0, s-1, num))``, all values in order when ``num == s``;
          * ``cycle``: ``0..s-1`` then back down ``s-2..1`` (a closed loop), resampled to ``num`` points;
          * ``cycle_from_start``: the cycle rotated to begin at ``start``;
          * ``cycle_from_start_ends``: ``start`` up to ``s-1``, down to ``0`` and back to ``start``.
        ``start`` is an int or an int array (one traversal per entry); the result is ``(num,)`` or
        ``(len(start), num)``.
        """
        k = self.factor_index(factor)
        s = int(self._sizes[k])
        num = s if num is None else int(num)
        if num < 1:
            raise ValueError(f"argument 'num' must be >= 1, got {num}")
        if mode not in self.TRAVERSAL_MODES:
            raise ValueError(f"argument 'mode' must be one of {self.TRAVERSAL_MODES}, got {mode!r}")
        if mode == "interval":
            return np.round(np.linspace(0, s - 1, num)).astype(np.int64)
        starts = np.zeros(1, dtype=np.int64) if start is None else np.atleast_1d(np.asarray(start, dtype=np.int64))
        if starts.size and (starts.min() < 0 or starts.max() >= s):
            raise ValueError(f"argument 'start' must be in [0, {s}), got {starts}")
        cycle = np.concatenate([np.arange(s), np.arange(s - 2, 0, -1)]).astype(np.int64) if s > 1 else np.zeros(1, np.int64)
        if mode == "cycle":
            rows = np.broadcast_to(cycle, (len(starts), len(cycle)))
        elif mode == "cycle_from_start":
            # rotate so each row begins at its start value (its first occurrence on the way up)
            rows = np.stack([np.roll(cycle, -int(st)) for st in starts])
        else:  # cycle_from_start_ends: start -> s-1 -> 0 -> start
            rows = [np.concatenate([np.arange(st, s), np.arange(s - 2, -1, -1), np.arange(1, st)]) if s > 1
                    else np.zeros(1, np.int64) for st in starts]
            rows = np.stack(rows).astype(np.int64)
        idx = np.round(np.linspace(0, rows.shape[1] - 1, num)).astype(np.int64)
        out = rows[:, idx]
        return out[0] if start is None or np.ndim(start) == 0 else out

    def traversals(self, factor, base_factors, num: int | None = None, mode: str = "interval") -> np.ndarray:
        """Factor traversals ``(R, num, F)``: row ``r`` holds ``base_factors[r]`` with ``factor`` swept
        over :meth:`traversal_values` (cyclic modes start from the base value). Every other factor is
        held fixed."""
        k = self.factor_index(factor)
        base = self.check_factors(base_factors, "base_factors")
        if mode == "interval":
            vals = np.broadcast_to(self.traversal_values(k, num, mode), (len(base), num or int(self._sizes[k])))
        else:
            vals = self.traversal_values(k, num, mode, start=base[:, k]) if len(base) else np.zeros((0, num or 1), np.int64)
            vals = np.asarray(vals).reshape(len(base), -1)
        out = np.repeat(base[:, None, :], vals.shape[1], axis=1)
        out[:, :, k] = vals
        return out

    def sample_traversals(self, factor, n: int, rng=None, num: int | None = None, mode: str = "interval") -> np.ndarray:
        """``n`` traversals ``(n, num, F)`` along ``factor`` from uniformly drawn base factors."""
        return self.traversals(factor, self.sample_factors(n, rng), num, mode)
