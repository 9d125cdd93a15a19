"""Ground-truth factor spaces: the index algebra shared by datasets, samplers and metrics.

A factor space with sizes ``(s_0, ..., s_{F-1})`` enumerates every combination of factor values;
index <-> position conversion is row-major (the last factor varies fastest), as in disent's
``StateSpace`` and disentanglement_lib's ``SplitDiscreteStateSpace``. Factor values are the integer
positions ``0..s_k-1``. All methods are vectorised over batches and take the RNG as an argument.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from pydisent._rng import as_rng, randint
from pydisent._validation import Interval, Options, check

#: Factor distances understood by :meth:`FactorSpace.distance` and :meth:`FactorSpace.sample_triplets`.
DISTANCES = ("factors", "manhattan", "manhattan_scaled", "euclidean", "euclidean_scaled")
#: Triplet orderings: a distance, ``"random"`` (no reordering) or ``"combined[_scaled]"``.
TRIPLET_MODES = ("random", "combined", "combined_scaled") + DISTANCES


def _uniform(rng, size) -> np.ndarray:
    """Floats in [0, 1) from a numpy Generator or RandomState."""
    if isinstance(rng, np.random.RandomState):
        return rng.random_sample(size)
    return rng.random(size)


_MAX_INDEX = np.iinfo(np.int64).max


def _integer(v, what: str) -> int:
    """``v`` as an int if it is an integer (or an integral float), else ``TypeError`` naming ``what``."""
    if isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{what} must be an integer, got a bool")
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)) and math.isfinite(v) and float(v).is_integer():
        return int(v)
    raise TypeError(f"{what} must be an integer, got {v!r} ({type(v).__name__})")


def _check_sizes(sizes) -> list[int]:
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise TypeError(f"argument 'sizes' must be a sequence of positive integers, got {type(sizes).__name__}")
    sizes = list(sizes)
    if any(np.ndim(s) != 0 for s in sizes):
        raise ValueError(f"argument 'sizes' must be a flat sequence of integers, got {sizes!r}")
    out = [_integer(s, f"argument 'sizes': entry {i}") for i, s in enumerate(sizes)]
    if not out:
        raise ValueError("argument 'sizes' must name at least one factor")
    if any(s < 1 for s in out):
        raise ValueError(f"argument 'sizes' must be positive integers, got {out}")
    return out


def _count(n, name: str) -> int:
    n = _integer(n, f"argument '{name}'")
    if n < 0:
        raise ValueError(f"argument '{name}' must be >= 0, got {n}")
    return n


class FactorSpace:
    """Discrete ground-truth factor space.

    Args:
        sizes: number of values of each factor (each >= 1).
        names: a name per factor (default ``factor_0``, ...).
    """

    def __init__(self, sizes: Sequence[int], names: Sequence[str] | None = None):
        sizes = _check_sizes(sizes)
        if names is None:
            names = [f"factor_{i}" for i in range(len(sizes))]
        names = [str(n) for n in names]
        if len(names) != len(sizes):
            raise ValueError(f"argument 'names' must have {len(sizes)} entries, got {len(names)}")
        if len(set(names)) != len(names):
            raise ValueError(f"argument 'names' must be unique, got {names}")
        self._sizes = np.asarray(sizes, dtype=np.int64)
        self._names = tuple(names)
        # multipliers[k] = prod(sizes[k+1:]): the index step of one unit of factor k. Products are taken in
        # Python integers: an int64 cumprod wraps silently (2**32 x 2**32 gave size 0).
        mult = [1] * len(sizes)
        for k in range(len(sizes) - 2, -1, -1):
            mult[k] = mult[k + 1] * sizes[k + 1]
        self._size = mult[0] * sizes[0]
        if self._size > _MAX_INDEX:
            raise ValueError(f"argument 'sizes': {sizes} spans {self._size} factor combinations, more than int64 "
                             f"flat indices can address ({_MAX_INDEX}); use fewer or smaller factors")
        self._multipliers = np.asarray(mult, dtype=np.int64)

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
        return self._size

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
                pass  # integral floats: range-checked below, before the cast (a cast of 1e30 is undefined)
            elif arr.size == 0 or arr.dtype.kind == "b":
                arr = arr.astype(np.int64)
            else:
                raise TypeError(f"argument '{name}' must hold integer factor positions, got dtype {arr.dtype}")
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != self.num_factors:
            raise ValueError(f"argument '{name}' must have shape (n, {self.num_factors}), got {arr.shape}")
        # the range check runs on the values as given: uint64 2**63 cast to int64 first would read as -2**63
        bad = (arr < 0) | (arr >= self._sizes[None, :])
        if bad.any():
            row, col = np.argwhere(bad)[0]
            value = arr[row, col].item()
            raise ValueError(
                f"argument '{name}' is out of range: factor {col} ({self._names[col]}) has value "
                f"{int(value) if float(value).is_integer() else value} at row {row}, expected 0..{self._sizes[col] - 1}"
            )
        return arr.astype(np.int64, copy=False)

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
        n = _count(n, "n")
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
        num = s if num is None else _integer(num, "argument 'num'")
        if num < 1:
            raise ValueError(f"argument 'num' must be >= 1, got {num}")
        check(mode, "mode", Options(self.TRAVERSAL_MODES))
        if mode == "interval":
            return np.round(np.linspace(0, s - 1, num)).astype(np.int64)
        starts = np.zeros(1, dtype=np.int64) if start is None else np.atleast_1d(np.asarray(start, dtype=np.int64))
        if starts.size and (starts.min() < 0 or starts.max() >= s):
            raise ValueError(f"argument 'start' must be in [0, {s}), got {starts}")
        cycle = (np.concatenate([np.arange(s), np.arange(s - 2, 0, -1)]).astype(np.int64) if s > 1
                 else np.zeros(1, np.int64))
        if mode == "cycle":
            rows = np.broadcast_to(cycle, (len(starts), len(cycle)))
        elif mode == "cycle_from_start":
            # rotate so each row begins at its start value (its first occurrence on the way up)
            rows = np.stack([np.roll(cycle, -int(st)) for st in starts])
        else:  # cycle_from_start_ends: start -> s-1 -> 0 -> start (exclusive), 2s-2 values for every start
            # (start 0 stops before returning to 0, so rows of different starts have the same length)
            rows = [np.concatenate([np.arange(st, s), np.arange(s - 2, 0 if st == 0 else -1, -1), np.arange(1, st)])
                    if s > 1 else np.zeros(1, np.int64) for st in starts]
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
            vals = (self.traversal_values(k, num, mode, start=base[:, k]) if len(base)
                    else np.zeros((0, num or 1), np.int64))
            vals = np.asarray(vals).reshape(len(base), -1)
        out = np.repeat(base[:, None, :], vals.shape[1], axis=1)
        out[:, :, k] = vals
        return out

    def sample_traversals(self, factor, n: int, rng=None, num: int | None = None, mode: str = "interval") -> np.ndarray:
        """``n`` traversals ``(n, num, F)`` along ``factor`` from uniformly drawn base factors."""
        return self.traversals(factor, self.sample_factors(n, rng), num, mode)

    # -- weak supervision: pairs ----------------------------------------------------------------
    def _pair_base(self, n, factors, rng) -> np.ndarray:
        if factors is not None:
            base = self.check_factors(factors)
            if n is not None and _count(n, "n") != len(base):
                raise ValueError(f"argument 'n' ({n}) does not match the {len(base)} rows of 'factors'")
            return base
        if n is None:
            raise ValueError("argument 'n' is required when 'factors' is not given")
        return self.sample_factors(_count(n, "n"), rng)

    def _k_rows(self, k, n: int, rng, name: str, high: int) -> np.ndarray:
        """``k`` as int64 ``(n,)`` in ``[0, high]``; ``-1`` or ``"random"`` draws ``k`` uniformly from
        ``{1, ..., F-1}`` per row (Locatello et al. 2020's ``k = Rnd``)."""
        F = self.num_factors
        if isinstance(k, str) and k != "random":
            raise ValueError(f"argument '{name}' must be an int, an int per row, -1 or 'random', got {k!r}")
        is_int = isinstance(k, (int, np.integer)) and not isinstance(k, bool)
        if isinstance(k, str) or (is_int and int(k) == -1):
            if F < 2:
                raise ValueError(f"argument '{name}'='random' draws k from 1..F-1 and needs at least 2 factors")
            return 1 + randint(rng, F - 1, size=n)
        arr = np.asarray(k)
        if isinstance(k, bool) or arr.dtype.kind not in "iu":
            raise TypeError(f"argument '{name}' must be an int (or one int per row), got {k!r}")
        arr = np.broadcast_to(arr.astype(np.int64), (n,)) if arr.ndim == 0 else arr.astype(np.int64)
        if arr.shape != (n,):
            raise ValueError(f"argument '{name}' must be a scalar or have shape ({n},), got {arr.shape}")
        if arr.size and (arr.min() < 0 or arr.max() > high):
            raise ValueError(f"argument '{name}' must be in [0, {high}], got range [{arr.min()}, {arr.max()}]")
        return arr

    def _resample_subset(self, base: np.ndarray, k_diff: np.ndarray, rng, force_different: bool):
        """Resample ``k_diff[i]`` randomly chosen factors of row ``i``; returns ``(second, changed)``.

        The subset is uniform among all ``k``-subsets (of the factors with more than one value when
        ``force_different``). Resampled values are uniform over the factor's values, so they may equal
        the old value; with ``force_different`` they are uniform over the *other* values."""
        n, F = base.shape
        eligible = self._sizes > 1 if force_different else np.ones(F, dtype=bool)
        n_eligible = int(eligible.sum())
        if k_diff.size and k_diff.max() > n_eligible:
            raise ValueError(
                f"cannot make {k_diff.max()} factors differ: only {n_eligible} factors have more than one value "
                f"(sizes {self._sizes.tolist()})"
            )
        # Uniform random k-subset per row: the k smallest of F uniform keys (ineligible factors last).
        keys = _uniform(rng, (n, F)) + (~eligible)[None, :] * 2.0
        ranks = np.argsort(np.argsort(keys, axis=1, kind="stable"), axis=1, kind="stable")
        changed = ranks < k_diff[:, None]
        sizes = np.broadcast_to(self._sizes, (n, F))
        if force_different:
            # a uniform draw from the s-1 other values: old + 1 + U{0..s-2} (mod s)
            step = 1 + randint(rng, np.maximum(sizes - 1, 1), size=(n, F))
            new = (base + step) % sizes
        else:
            new = randint(rng, sizes, size=(n, F))
        second = np.where(changed, new, base)
        return second, changed

    def sample_pairs_sharing(self, n: int | None, k, rng=None, *, factors=None, force_different: bool = False):
        """Weakly supervised pairs whose second element shares ``k`` randomly chosen factors with the first.

        The first factors are drawn uniformly (or given as ``factors``); the ``F - k`` other factors of
        the second are *resampled* uniformly, as in Locatello et al. 2020 ("Weakly-Supervised
        Disentanglement Without Compromises"), so a resampled factor can coincide with its old value
        (then the pair shares more than ``k`` factors). ``force_different=True`` draws each resampled
        factor from the other values instead, so the pair shares exactly the ``k`` chosen factors
        (factors with a single value are then always among the shared ones).

        Args:
            n: number of pairs (``None`` when ``factors`` is given).
            k: shared factors: an int in ``[0, F]``, one int per pair, or ``-1``/``"random"`` for
               ``k`` uniform in ``{1..F-1}`` per pair.
            rng: seed, ``numpy.random.Generator`` or ``RandomState``.
            factors: optional first elements ``(n, F)``.
            force_different: resampled factors must change.

        Returns:
            ``(first, second, shared)``: int64 ``(n, F)`` twice and the bool mask ``(n, F)`` of the
            factors chosen to be shared (the others were resampled).
        """
        rng = as_rng(rng)
        base = self._pair_base(n, factors, rng)
        k_shared = self._k_rows(k, len(base), rng, "k", self.num_factors)
        second, changed = self._resample_subset(base, self.num_factors - k_shared, rng, force_different)
        return base, second, ~changed

    def sample_pairs_differing(self, n: int | None, k, rng=None, *, factors=None, force_different: bool = False,
                               dlib_quirk: bool = False):
        """Weakly supervised pairs in which ``k`` randomly chosen factors are resampled (Locatello et al.
        2020, the data of Ada-GVAE / Ada-ML-VAE): ``x2`` keeps every factor of ``x1`` except ``k``
        uniformly chosen ones, which are drawn anew (uniformly, so they may coincide with the old value;
        ``force_different=True`` makes each of them change).

        Args:
            n: number of pairs (``None`` when ``factors`` is given).
            k: number of resampled factors: an int in ``[0, F]``, one int per pair, or ``-1``/``"random"``
               for ``k`` uniform in ``{1..F-1}`` per pair (the paper's ``k = Rnd``).
            dlib_quirk: reproduce disentanglement_lib's ``simple_dynamics``, which resamples
               ``choice([1, k])`` factors (so 1 factor half of the time; disentanglement_lib issue #31).
            factors, rng, force_different: as in :meth:`sample_pairs_sharing`.

        Returns:
            ``(first, second, changed)``: int64 ``(n, F)`` twice and the bool mask of resampled factors.
        """
        rng = as_rng(rng)
        base = self._pair_base(n, factors, rng)
        k_diff = self._k_rows(k, len(base), rng, "k", self.num_factors)
        if dlib_quirk:
            k_diff = np.where(_uniform(rng, len(base)) < 0.5, 1, k_diff).astype(np.int64)
            k_diff = np.minimum(k_diff, self.num_factors)
        second, changed = self._resample_subset(base, k_diff, rng, force_different)
        return base, second, changed

    # -- factor distances and triplets --------------------------------------------------------
    def _scale_denominators(self) -> np.ndarray:
        # values run 0..s-1; scaling by (s-1) maps them to [0, 1] (size-1 factors: divide by 1)
        return np.maximum(self._sizes - 1, 1)

    def distance(self, a, b, metric: str = "manhattan_scaled") -> np.ndarray:
        """Factor distance per row between factor batches ``a`` and ``b`` (float64 ``(n,)``).

        ``factors``: number of differing factors; ``manhattan``: ``sum |a-b|``; ``euclidean``:
        ``sqrt(sum (a-b)^2)``; ``*_scaled``: each factor first divided by ``max(s-1, 1)`` so it spans
        [0, 1] (msc-research's ``manhattan_scaled`` triplet ordering / disent's ``manhattan_norm``).
        """
        check(metric, "metric", Options(DISTANCES))
        a = self.check_factors(a, "a")
        b = self.check_factors(b, "b")
        if a.shape != b.shape:
            raise ValueError(f"arguments 'a' and 'b' must have the same shape, got {a.shape} and {b.shape}")
        d = np.abs(a - b).astype(np.float64)
        if metric == "factors":
            return (d > 0).sum(axis=1).astype(np.float64)
        if metric.endswith("_scaled"):
            d = d / self._scale_denominators()[None, :]
        if metric.startswith("manhattan"):
            return d.sum(axis=1)
        return np.sqrt((d * d).sum(axis=1))

    def _distance_key(self, a: np.ndarray, b: np.ndarray, metric: str) -> np.ndarray:
        """A per-row key ordered exactly like :meth:`distance` (integers where they fit in int64, so
        ties are ties and no rounding flips an ordering)."""
        d = np.abs(a - b)
        if metric == "factors":
            return (d > 0).sum(axis=1)
        power = 1 if metric.startswith("manhattan") else 2
        if not metric.endswith("_scaled"):
            return (d**power).sum(axis=1)
        den = self._scale_denominators()
        lcm = 1
        for s in den.tolist():
            lcm = math.lcm(lcm, int(s))
        bound = self.num_factors * lcm**power
        if bound < 2**62:
            weights = np.asarray([lcm // int(s) for s in den.tolist()], dtype=np.int64) ** power
            return ((d**power) * weights[None, :]).sum(axis=1)
        return ((d / den[None, :]) ** power).sum(axis=1)  # huge lcm: float64 fallback

    def sample_triplets(self, n: int | None, rng=None, *, mode: str = "manhattan_scaled", swap_chance: float = 0.0,
                        anchors=None):
        """Triplets ``(anchor, positive, negative)`` ordered by factor distance, as the TVAE/Ada-TVAE
        samplers of msc-research/disent (``GroundTruthDistSampler``): positive and negative are two
        independent uniform draws, swapped where ``d(a, p) > d(a, n)`` so that ``d(a, p) <= d(a, n)``
        (ties keep the drawn order).

        Args:
            n: number of triplets (``None`` when ``anchors`` is given).
            mode: ``"random"`` (no reordering), a distance of :meth:`distance`, or
                ``"combined"``/``"combined_scaled"`` (order by the number of differing factors, ties
                broken by the (scaled) Manhattan distance). Default ``"manhattan_scaled"`` (disent's
                default ``triplet_sample_mode``).
            swap_chance: probability of swapping positive and negative after ordering (disent's
                ``triplet_swap_chance``; default 0).
            anchors: optional anchor factors ``(n, F)``.

        Returns:
            ``(anchor, positive, negative)`` int64 ``(n, F)`` each.
        """
        check(mode, "mode", Options(TRIPLET_MODES))
        swap_chance = check(swap_chance, "swap_chance", Interval(float, 0, 1))
        rng = as_rng(rng)
        a = self._pair_base(n, anchors, rng)
        p = self.sample_factors(len(a), rng)
        q = self.sample_factors(len(a), rng)
        if mode == "random":
            swap = np.zeros(len(a), dtype=bool)
        elif mode.startswith("combined"):
            dist = "manhattan_scaled" if mode.endswith("_scaled") else "manhattan"
            kp, kq = self._distance_key(a, p, "factors"), self._distance_key(a, q, "factors")
            dp, dq = self._distance_key(a, p, dist), self._distance_key(a, q, dist)
            swap = (kp > kq) | ((kp == kq) & (dp > dq))
        else:
            swap = self._distance_key(a, p, mode) > self._distance_key(a, q, mode)
        if swap_chance > 0:
            swap ^= _uniform(rng, len(a)) < swap_chance
        pos = np.where(swap[:, None], q, p)
        neg = np.where(swap[:, None], p, q)
        return a, pos, neg
