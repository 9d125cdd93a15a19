"""Argument checks at the Python boundary, declared once (in the spirit of scikit-learn's
``utils/_param_validation``).

A constraint says what an argument must be; :func:`check` (or the constraint's own ``check``) raises with
the one message format of the package::

    argument '<name>' must be <what the constraint describes>, got <the value>

``TypeError`` when the value has the wrong kind (a string for a number, a float for an integer),
``ValueError`` when it has the right kind but is outside the allowed set or range. Examples::

    metric = check(metric, "metric", Options(("euclidean", "sqeuclidean", "cityblock")))
    k = check(k, "k", Interval(int, 1, None))              # an integer >= 1
    p = check(p, "swap_chance", Interval(float, 0, 1))     # a real number in [0, 1]
    backend = check_backend(backend, ("auto", "cpu", "cuda", "torch"))
    condensed = check_bool(condensed, "condensed")         # True/False (numpy bools too), no truthiness

Tensor checks (:func:`as_tensor`, :func:`check_float`, :func:`check_rank`, :func:`check_finite`,
:func:`check_same_device`) use the same format. The C++ kernels keep their own ``PYDISENT_CHECK`` at the
extension boundary.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence

import numpy as np
import torch

FLOAT_DTYPES = (torch.float32, torch.float64)


# ---- constraints --------------------------------------------------------------------------------

class Options:
    """One of a finite set of values (names of metrics, modes, backends...).

    Args:
        choices: the allowed values, in the order the message lists them.
        type: when given, a value not of this type raises ``TypeError`` (else every miss is a ``ValueError``).
        none: also allow ``None`` (the message says "or None").
    """

    def __init__(self, choices: Iterable, *, type: type | None = None, none: bool = False):
        self.choices = tuple(choices)
        self.type = type
        self.none = none

    def describe(self) -> str:
        return f"one of {list(self.choices)}" + (" or None" if self.none else "")

    def check(self, value, name: str):
        if value is None and self.none:
            return None
        if self.type is not None and not isinstance(value, self.type):
            raise TypeError(f"argument '{name}' must be a {self.type.__name__}, {self.describe()}; "
                            f"got {type(value).__name__}")
        try:
            ok = value in self.choices
        except TypeError:  # unhashable / incomparable values are simply not among the choices
            ok = False
        if not ok:
            raise ValueError(f"argument '{name}' must be {self.describe()}, got {value!r}")
        return value


class Interval:
    """A number of kind ``kind`` (``int`` or ``float``; ``bool`` is never a number here) in a range.

    Args:
        kind: ``int`` (Python or numpy integers) or ``float`` (any real number, integers included).
        low, high: the bounds (``None``: unbounded).
        closed: which bounds belong to the interval: "both", "left", "right" or "neither".
        inf: for ``float``, also allow ``+inf`` past an upper-unbounded range (e.g. a Rips threshold).
    """

    def __init__(self, kind, low=None, high=None, *, closed: str = "both", inf: bool = False):
        if kind not in (int, float):
            raise ValueError(f"argument 'kind' must be int or float, got {kind!r}")
        if closed not in ("both", "left", "right", "neither"):
            raise ValueError(f"argument 'closed' must be one of ['both', 'left', 'right', 'neither'], got {closed!r}")
        self.kind, self.low, self.high, self.closed, self.inf = kind, low, high, closed, inf

    def describe(self) -> str:
        lo_in = self.closed in ("both", "left")
        hi_in = self.closed in ("both", "right")
        if self.low is not None and self.high is None:
            what = f">= {self.low}" if lo_in else f"> {self.low}"
        elif self.low is None and self.high is not None:
            what = f"<= {self.high}" if hi_in else f"< {self.high}"
        elif self.low is None:
            return "an integer" if self.kind is int else "a real number"
        else:
            what = f"in {'[' if lo_in else '('}{self.low}, {self.high}{']' if hi_in else ')'}"
        return what + (" (or inf)" if self.inf else "")

    def check(self, value, name: str):
        if isinstance(value, (bool, np.bool_)):
            kind = "an integer" if self.kind is int else "a real number"
            raise TypeError(f"argument '{name}' must be {kind}, got bool")
        if self.kind is int:
            if not isinstance(value, (numbers.Integral, np.integer)):
                raise TypeError(f"argument '{name}' must be an integer, got {type(value).__name__}")
            value = int(value)
        else:
            if not isinstance(value, (numbers.Real, np.floating, np.integer)):
                raise TypeError(f"argument '{name}' must be a real number, got {type(value).__name__}")
            try:
                value = float(value)
            except OverflowError:  # an integer beyond float range (10**400) is beyond every bound
                value = math.inf if value > 0 else -math.inf
            if math.isnan(value) or (math.isinf(value) and not (self.inf and value > 0)):
                raise ValueError(f"argument '{name}' must be {self.describe()}, got {value}")
            if math.isinf(value):
                return value
        lo_in = self.closed in ("both", "left")
        hi_in = self.closed in ("both", "right")
        if self.low is not None and (value < self.low or (value == self.low and not lo_in)):
            raise ValueError(f"argument '{name}' must be {self.describe()}, got {value}")
        if self.high is not None and (value > self.high or (value == self.high and not hi_in)):
            raise ValueError(f"argument '{name}' must be {self.describe()}, got {value}")
        return value


def check(value, name: str, constraint):
    """``value`` (converted: ``int``/``float`` for an :class:`Interval`) if it meets ``constraint``."""
    return constraint.check(value, name)


def check_positive_int(v, name: str, minimum: int = 1) -> int:
    """An integer ``>= minimum`` (``Interval(int, minimum, None)``)."""
    return Interval(int, minimum, None).check(v, name)


def check_bool(value, name: str) -> bool:
    """``value`` as a ``bool`` if it is one (Python or numpy); ``TypeError`` otherwise (no truthiness)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"argument '{name}' must be a bool, got {type(value).__name__}")
    return bool(value)


def check_backend(backend, choices: Sequence[str]) -> str:
    """``backend`` if it names one of ``choices`` (the argument is always called 'backend')."""
    return Options(choices).check(backend, "backend")


# ---- tensors ------------------------------------------------------------------------------------

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
    """float32 or float64."""
    if t.dtype not in FLOAT_DTYPES:
        raise TypeError(f"argument '{name}' must be float32 or float64, got {t.dtype}")


def check_rank(t: torch.Tensor, name: str, ranks: Sequence[int], what: str = "") -> None:
    """``t.dim()`` among ``ranks``; ``what`` describes the expected layout."""
    if t.dim() not in ranks:
        expect = " or ".join(str(r) for r in ranks)
        extra = f" {what}" if what else ""
        raise ValueError(f"argument '{name}' must have {expect} dimensions{extra}, got shape {tuple(t.shape)}")


def check_finite(t: torch.Tensor, name: str) -> None:
    """No NaN or infinite entry."""
    if t.numel() and not bool(torch.isfinite(t).all()):
        raise ValueError(f"argument '{name}' contains NaN or infinite values")


def max_abs(t: torch.Tensor, name: str) -> float:
    """Largest magnitude of the float tensor ``t`` (0.0 when empty); ``ValueError`` naming ``name`` on NaN/inf.

    One ``torch.aminmax`` pass (NaN propagates to both ends): a tenth of the time of an infinity-norm
    reduction, which matters because the kernels call it on every input."""
    if t.numel() == 0:
        return 0.0
    lo, hi = torch.aminmax(t)
    a = max(-float(lo), float(hi))
    if not math.isfinite(a):
        raise ValueError(f"argument '{name}' contains NaN or infinite values")
    return a


def check_same_device(*pairs: tuple[str, torch.Tensor]) -> None:
    """All tensors on one device."""
    devices = {t.device for _, t in pairs}
    if len(devices) > 1:
        desc = ", ".join(f"'{n}' on {t.device}" for n, t in pairs)
        raise ValueError(f"arguments must be on the same device: {desc}")


def check_device(device, name: str = "device") -> torch.device | None:
    """``device`` (None, a string or a ``torch.device``) as a ``torch.device`` this torch can use.

    ``ValueError`` naming ``name`` for a string torch does not parse, or a CUDA device on a torch without a
    usable GPU (torch itself would raise an ``AssertionError`` at the first allocation, minutes later).
    """
    if device is None:
        return None
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"argument '{name}' must be a device string such as 'cpu' or 'cuda', "
                        f"got {type(device).__name__}")
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError, TypeError):
        raise ValueError(f"argument '{name}' must be a torch device such as 'cpu', 'cuda' or 'cuda:1', "
                         f"got {device!r}") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"argument '{name}' must be a usable device, got {str(device)!r}: this torch has no "
                             f"usable CUDA GPU (torch.cuda.is_available() is False)")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"argument '{name}' must be a usable device, got {str(device)!r}: only "
                             f"{torch.cuda.device_count()} CUDA device(s) are visible")
    return dev
