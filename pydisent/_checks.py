"""Argument checks at the Python boundary. Each error names the argument and what was expected."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

FLOAT_DTYPES = (torch.float32, torch.float64)


def as_tensor(x, name: str, *, dtype: torch.dtype | None = None, device=None) -> torch.Tensor:
    """``x`` (tensor, ndarray or nested sequence) as a torch tensor, without copying when possible."""
    if isinstance(x, torch.Tensor):
        t = x
    elif isinstance(x, np.ndarray):
        if x.dtype == object:
            raise TypeError(f"argument '{name}' must be a numeric array, got an object array")
        if x.dtype.kind not in "biufc":
            raise TypeError(f"argument '{name}' must be a numeric array, got dtype {x.dtype}")
        # torch needs a writable buffer and non-negative strides (x[::-1] is a valid view): copy those
        if not x.flags.writeable or any(s < 0 for s in x.strides):
            x = x.copy()
        t = torch.from_numpy(x)
    else:
        try:
            t = torch.as_tensor(np.asarray(x))
        except (TypeError, ValueError) as e:
            raise TypeError(f"argument '{name}' must be a tensor or array, got {type(x).__name__}") from e
    if dtype is not None or device is not None:
        t = t.to(dtype=dtype or t.dtype, device=device or t.device)
    return t


def check_float(t: torch.Tensor, name: str) -> None:
    if t.dtype not in FLOAT_DTYPES:
        raise TypeError(f"argument '{name}' must be float32 or float64, got {t.dtype}")


def check_rank(t: torch.Tensor, name: str, ranks: Sequence[int], what: str = "") -> None:
    if t.dim() not in ranks:
        expect = " or ".join(str(r) for r in ranks)
        extra = f" {what}" if what else ""
        raise ValueError(f"argument '{name}' must have {expect} dimensions{extra}, got shape {tuple(t.shape)}")


def check_finite(t: torch.Tensor, name: str) -> None:
    if t.numel() and not bool(torch.isfinite(t).all()):
        raise ValueError(f"argument '{name}' contains NaN or infinite values")


def check_same_device(*pairs: tuple[str, torch.Tensor]) -> None:
    devices = {t.device for _, t in pairs}
    if len(devices) > 1:
        desc = ", ".join(f"'{n}' on {t.device}" for n, t in pairs)
        raise ValueError(f"arguments must be on the same device: {desc}")


def check_positive_int(v, name: str, minimum: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"argument '{name}' must be an integer, got {type(v).__name__}")
    if v < minimum:
        raise ValueError(f"argument '{name}' must be >= {minimum}, got {v}")
    return int(v)


def check_device(device, name: str = "device") -> torch.device | None:
    """``device`` (None, a string or a ``torch.device``) as a ``torch.device`` this torch can use.

    ``ValueError`` naming ``name`` for a string torch does not parse, or a CUDA device on a torch without a
    usable GPU (torch itself would raise an ``AssertionError`` at the first allocation, minutes later).
    """
    if device is None:
        return None
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"argument '{name}' must be a device string such as 'cpu' or 'cuda', got {type(device).__name__}")
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError, TypeError):
        raise ValueError(f"argument '{name}': {device!r} is not a torch device (e.g. 'cpu', 'cuda', 'cuda:1')") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"argument '{name}': {str(device)!r} requested, but this torch has no usable CUDA GPU "
                             f"(torch.cuda.is_available() is False)")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"argument '{name}': {str(device)!r} requested, but only {torch.cuda.device_count()} "
                             f"CUDA device(s) are visible")
    return dev
