"""Boundary checks and conversions shared by the array forms of the metrics.

Public layout: codes are ``(num_points, num_codes)`` and factors ``(num_points, num_factors)`` integer
positions, numpy or torch. disentanglement_lib's metric internals use the transposed layout
(``(num_codes, num_points)``); pass ``codes.T`` when porting code written against it.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from pydisent._rng import randint
from pydisent._validation import as_tensor, check_finite, check_positive_int  # noqa: F401  (re-exported for the metric modules)

_LAYOUT_HINT = (
    " (pydisent's layout is (num_points, num_codes) / (num_points, num_factors); "
    "disentanglement_lib's internals are transposed: pass .T)"
)


def as_codes(codes, name: str = "codes", *, min_dims: int = 1, min_points: int = 1) -> torch.Tensor:
    """``codes`` as a finite float32/float64 tensor ``(n, Z)`` (integer codes become float64).

    The dtype is kept (float32 stays float32) because the histogram discretiser computes its bin edges
    in the codes' own precision, exactly as ``np.histogram`` does; statistics are taken in float64.
    """
    t = as_tensor(codes, name).detach()  # metrics are not differentiable: never build autograd graphs
    if t.dtype == torch.bool or not (t.is_floating_point() or t.dtype in (torch.int8, torch.int16, torch.int32,
                                                                           torch.int64, torch.uint8)):
        raise TypeError(f"argument '{name}' must hold real numbers, got dtype {t.dtype}")
    if t.dtype in (torch.float16, torch.bfloat16):
        t = t.to(torch.float32)
    elif not t.is_floating_point():
        t = t.to(torch.float64)
    if t.dim() != 2:
        raise ValueError(f"argument '{name}' must have shape (num_points, num_codes), got {tuple(t.shape)}")
    n, z = t.shape
    if n < min_points:
        raise ValueError(f"argument '{name}' needs at least {min_points} points (rows), got {n}")
    if z < min_dims:
        raise ValueError(f"argument '{name}' needs at least {min_dims} code dimensions (columns), got {z}")
    if t.numel() and not bool(torch.isfinite(t).all()):
        bad = torch.nonzero(~torch.isfinite(t))[0].tolist()
        raise ValueError(f"argument '{name}' contains NaN or infinite values (first at row {bad[0]}, column {bad[1]})")
    return t


def as_factors(factors, name: str = "factors", *, num_points: int | None = None, device=None,
               codes_name: str = "codes", num_codes: int | None = None) -> torch.Tensor:
    """``factors`` as an int64 tensor ``(n, F)`` (float input must be integral)."""
    t = as_tensor(factors, name)
    if t.dim() == 1:
        raise ValueError(f"argument '{name}' must have shape (num_points, num_factors), got {tuple(t.shape)}; "
                         f"use factors[:, None] for a single factor")
    if t.dim() != 2:
        raise ValueError(f"argument '{name}' must have shape (num_points, num_factors), got {tuple(t.shape)}")
    if t.dtype == torch.bool:
        t = t.to(torch.int64)
    elif t.is_floating_point():
        check_finite(t, name)
        if t.numel() and not bool((t == torch.round(t)).all()):
            raise TypeError(f"argument '{name}' must hold integer factor positions, got non-integral {t.dtype} values")
        t = t.to(torch.int64)
    elif t.dtype not in (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8):
        raise TypeError(f"argument '{name}' must hold integer factor positions, got dtype {t.dtype}")
    else:
        t = t.to(torch.int64)
    if t.shape[1] < 1:
        raise ValueError(f"argument '{name}' needs at least one factor (column), got shape {tuple(t.shape)}")
    if num_points is not None and t.shape[0] != num_points:
        hint = _LAYOUT_HINT if num_codes is not None and t.shape[1] == num_points else ""
        raise ValueError(f"arguments '{codes_name}' and '{name}' must have the same number of points (rows): "
                         f"{num_points} != {t.shape[0]}{hint}")
    if device is not None:
        t = t.to(device)
    return t


def codes_and_factors(codes, factors, codes_name="codes", factors_name="factors", *, min_dims: int = 1,
                      min_points: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    c = as_codes(codes, codes_name, min_dims=min_dims, min_points=min_points)
    f = as_factors(factors, factors_name, num_points=c.shape[0], device=c.device, codes_name=codes_name,
                   num_codes=c.shape[1])
    return c, f


def train_test(codes, factors, codes_test, factors_test, train_fraction: float, *, min_train: int = 2,
               min_test: int = 1, min_dims: int = 1):
    """Train and test arrays: given explicitly, or the first ``ceil(n * train_fraction)`` rows for training
    and the rest for testing (no shuffling, as disentanglement_lib's ``split_train_test``)."""
    c, f = codes_and_factors(codes, factors, min_dims=min_dims)
    if (codes_test is None) != (factors_test is None):
        raise ValueError("arguments 'codes_test' and 'factors_test' must be given together (or neither)")
    if codes_test is None:
        if not (isinstance(train_fraction, (float, int)) and 0.0 < float(train_fraction) < 1.0):
            raise ValueError(f"argument 'train_fraction' must be in (0, 1), got {train_fraction!r}")
        n = c.shape[0]
        n_train = int(math.ceil(n * float(train_fraction)))
        if n_train < min_train or n - n_train < min_test:
            raise ValueError(
                f"argument 'codes' has {n} points: too few for train_fraction={train_fraction} "
                f"(needs >= {min_train} train and >= {min_test} test points); pass more points or "
                f"'codes_test'/'factors_test'")
        return c[:n_train], f[:n_train], c[n_train:], f[n_train:]
    ct, ft = codes_and_factors(codes_test, factors_test, "codes_test", "factors_test", min_dims=min_dims)
    if c.shape[0] < min_train:
        raise ValueError(f"argument 'codes' needs at least {min_train} training points, got {c.shape[0]}")
    if ct.shape[0] < min_test:
        raise ValueError(f"argument 'codes_test' needs at least {min_test} points, got {ct.shape[0]}")
    if ct.shape[1] != c.shape[1]:
        raise ValueError(f"arguments 'codes' and 'codes_test' must have the same number of code dimensions: "
                         f"{c.shape[1]} != {ct.shape[1]}")
    if ft.shape[1] != f.shape[1]:
        raise ValueError(f"arguments 'factors' and 'factors_test' must have the same number of factors: "
                         f"{f.shape[1]} != {ft.shape[1]}")
    return c, f, ct.to(c.device), ft.to(c.device)


def to_numpy(t: torch.Tensor, dtype=None) -> np.ndarray:
    a = t.detach().cpu().numpy()
    return a if dtype is None else a.astype(dtype, copy=False)


def constant_columns(x: torch.Tensor) -> torch.Tensor:
    """Boolean mask of the columns of ``x`` (n, d) whose values are all equal."""
    if x.shape[0] == 0:
        return torch.ones(x.shape[1], dtype=torch.bool, device=x.device)
    return (x == x[:1]).all(dim=0)


def check_two_classes(factors, what: str = "the classifier") -> None:
    """Raises naming the first factor (column of ``factors`` (n, F), numpy or torch) that takes a single
    value: a classifier fitted to predict it would need >= 2 classes."""
    single = constant_columns(torch.as_tensor(factors))
    if bool(single.any()):
        k = int(torch.nonzero(single)[0])
        raise ValueError(f"argument 'factors': factor {k} takes a single value in the training points; "
                         f"{what} needs >= 2 classes")


def check_fraction(v, name: str, *, lo_open=True, hi_open=False) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)):
        raise TypeError(f"argument '{name}' must be a number, got {type(v).__name__}")
    v = float(v)
    lo_ok = v > 0.0 if lo_open else v >= 0.0
    hi_ok = v < 1.0 if hi_open else v <= 1.0
    if not (lo_ok and hi_ok):
        lo = "(" if lo_open else "["
        hi = ")" if hi_open else "]"
        raise ValueError(f"argument '{name}' must be in {lo}0, 1{hi}, got {v}")
    return v


def seed_from(rng_or_seed, name: str = "random_state") -> int | None:
    """An int seed for a scikit-learn estimator from an int, a numpy Generator/RandomState or None.

    A RandomState/Generator is advanced by one draw (this is how disentanglement_lib's estimators consume
    the random state they are given); ``None`` gives ``None`` (scikit-learn's own default)."""
    if rng_or_seed is None:
        return None
    if isinstance(rng_or_seed, (bool,)):
        raise TypeError(f"argument '{name}' must be an int, a numpy Generator/RandomState or None")
    if isinstance(rng_or_seed, (int, np.integer)):
        return int(rng_or_seed)
    if isinstance(rng_or_seed, (np.random.RandomState, np.random.Generator)):
        return int(randint(rng_or_seed, np.iinfo(np.int32).max))
    raise TypeError(f"argument '{name}' must be an int, a numpy Generator/RandomState or None, "
                    f"got {type(rng_or_seed).__name__}")
