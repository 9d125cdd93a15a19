"""Hyperparameter schedules: a value as a pure function of the training step.

A schedule holds no state (the value at step ``s`` is ``schedule(s)``), so a resumed run recomputes
every scheduled value from its step alone and nothing about schedules needs checkpointing beyond the
step. Each schedule names absolute values (``start``/``end``, not disent's ratios of the configured
value) and serialises to a plain dict (``to_dict`` / :func:`make_schedule`) for the run's config.

* :class:`Constant` ``v``.
* :class:`Linear` ``start + (end - start) * clip((s - begin) / steps, 0, 1)``: Burgess et al.'s
  capacity ``C: 0 -> C_max`` and msc-research's share scale ``1.0 -> 0.5``.
* :class:`Cosine` ``start + (end - start) * (1 - cos(pi * t)) / 2`` with ``t`` as in Linear
  (half-cosine annealing, Loshchilov and Hutter 2017).
* :class:`Cyclic` the ramp ``low -> high`` repeated every ``period`` steps, the first
  ``ratio * period`` steps of each cycle rising (linearly or by a half cosine), then held at ``high``
  (Fu et al. 2019, "Cyclical Annealing Schedule", defaults ``ratio=0.5``); ``cycles`` bounds the number
  of cycles, after which the value stays ``high``.
* :class:`Step` piecewise constant: ``values[i]`` from ``milestones[i-1]`` (inclusive) on;
  ``len(values) == len(milestones) + 1``.

From a string (the command line's ``--schedule beta=linear(0, 4, 10000)``) with :func:`parse_schedule`:
positional or keyword arguments in the order of each class's signature, literals only.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Sequence

__all__ = ["Schedule", "Constant", "Linear", "Cosine", "Cyclic", "Step", "SCHEDULES", "make_schedule",
           "parse_schedule", "as_schedule"]


def _num(v, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        try:
            import numpy as np

            if isinstance(v, (np.integer, np.floating)):
                v = float(v)
            else:
                raise TypeError
        except TypeError:
            raise TypeError(f"argument '{name}' must be a number, got {type(v).__name__}") from None
    v = float(v)
    if not math.isfinite(v):
        raise ValueError(f"argument '{name}' must be finite, got {v}")
    return v


def _steps(v, name: str, minimum: int) -> int:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"argument '{name}' must be an integer number of steps, got {v!r}")
    if v < minimum:
        raise ValueError(f"argument '{name}' must be >= {minimum}, got {v}")
    return v


class Schedule:
    """Base class: ``schedule(step) -> float``; ``to_dict()`` gives ``{"kind": name, **arguments}``."""

    kind = "schedule"
    _fields: tuple[str, ...] = ()

    def __call__(self, step: int) -> float:
        if isinstance(step, bool) or not isinstance(step, int):
            raise TypeError(f"argument 'step' must be an int, got {type(step).__name__}")
        return float(self.value(step))

    def value(self, step: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_dict(self) -> dict:
        out = {"kind": self.kind}
        for f in self._fields:
            v = getattr(self, f)
            out[f] = list(v) if isinstance(v, tuple) else v
        return out

    def __repr__(self) -> str:
        args = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{self.kind}({args})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Schedule) and self.to_dict() == other.to_dict()

    def __hash__(self):
        return hash(repr(self))


class Constant(Schedule):
    kind = "constant"
    _fields = ("value_",)

    def __init__(self, value: float):
        self.value_ = _num(value, "value")

    def value(self, step: int) -> float:
        return self.value_

    def to_dict(self) -> dict:
        return {"kind": "constant", "value": self.value_}

    def __repr__(self) -> str:
        return f"constant({self.value_!r})"


def _progress(step: int, begin: int, steps: int) -> float:
    return min(max((step - begin) / steps, 0.0), 1.0)


class Linear(Schedule):
    """``start`` until step ``begin``, then linearly to ``end`` over ``steps`` steps, then ``end``."""

    kind = "linear"
    _fields = ("start", "end", "steps", "begin")

    def __init__(self, start: float, end: float, steps: int, begin: int = 0):
        self.start, self.end = _num(start, "start"), _num(end, "end")
        self.steps, self.begin = _steps(steps, "steps", 1), _steps(begin, "begin", 0)

    def value(self, step: int) -> float:
        return self.start + (self.end - self.start) * _progress(step, self.begin, self.steps)


class Cosine(Schedule):
    """``start`` until ``begin``, then a half cosine to ``end`` over ``steps`` steps, then ``end``."""

    kind = "cosine"
    _fields = ("start", "end", "steps", "begin")

    def __init__(self, start: float, end: float, steps: int, begin: int = 0):
        self.start, self.end = _num(start, "start"), _num(end, "end")
        self.steps, self.begin = _steps(steps, "steps", 1), _steps(begin, "begin", 0)

    def value(self, step: int) -> float:
        t = _progress(step, self.begin, self.steps)
        return self.start + (self.end - self.start) * 0.5 * (1.0 - math.cos(math.pi * t))


class Cyclic(Schedule):
    """Fu et al. 2019's cyclical annealing: each ``period`` steps (from ``begin``) rise from ``low`` to
    ``high`` over the first ``ratio * period`` steps (``mode`` ``"linear"`` or ``"cosine"``), then hold
    ``high``; after ``cycles`` cycles (None: forever) stay at ``high``. ``low`` before ``begin``."""

    kind = "cyclic"
    _fields = ("low", "high", "period", "ratio", "mode", "cycles", "begin")

    def __init__(self, low: float, high: float, period: int, ratio: float = 0.5, mode: str = "linear",
                 cycles: int | None = None, begin: int = 0):
        self.low, self.high = _num(low, "low"), _num(high, "high")
        self.period = _steps(period, "period", 1)
        self.ratio = _num(ratio, "ratio")
        if not 0.0 < self.ratio <= 1.0:
            raise ValueError(f"argument 'ratio' must be in (0, 1], got {self.ratio}")
        if mode not in ("linear", "cosine"):
            raise ValueError(f"argument 'mode' must be 'linear' or 'cosine', got {mode!r}")
        self.mode = mode
        self.cycles = None if cycles is None else _steps(cycles, "cycles", 1)
        self.begin = _steps(begin, "begin", 0)

    def value(self, step: int) -> float:
        s = step - self.begin
        if s < 0:
            return self.low
        if self.cycles is not None and s >= self.cycles * self.period:
            return self.high
        t = min((s % self.period) / (self.ratio * self.period), 1.0)
        if self.mode == "cosine":
            t = 0.5 * (1.0 - math.cos(math.pi * t))
        return self.low + (self.high - self.low) * t


class Step(Schedule):
    """Piecewise constant: ``values[0]`` before ``milestones[0]``, ``values[i]`` from ``milestones[i-1]``."""

    kind = "step"
    _fields = ("values", "milestones")

    def __init__(self, values: Sequence[float], milestones: Sequence[int]):
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
            raise TypeError(f"argument 'values' must be a sequence of numbers, got {type(values).__name__}")
        if isinstance(milestones, (str, bytes)) or not hasattr(milestones, "__len__"):
            raise TypeError(f"argument 'milestones' must be a sequence of steps, got {type(milestones).__name__}")
        self.values = tuple(_num(v, "values") for v in values)
        self.milestones = tuple(_steps(m, "milestones", 0) for m in milestones)
        if len(self.values) != len(self.milestones) + 1:
            raise ValueError(f"argument 'values' must have len(milestones) + 1 = {len(self.milestones) + 1} "
                             f"entries, got {len(self.values)}")
        if any(b <= a for a, b in zip(self.milestones, self.milestones[1:])):
            raise ValueError(f"argument 'milestones' must be strictly increasing, got {list(self.milestones)}")

    def value(self, step: int) -> float:
        i = 0
        while i < len(self.milestones) and step >= self.milestones[i]:
            i += 1
        return self.values[i]


SCHEDULES: dict[str, type] = {c.kind: c for c in (Constant, Linear, Cosine, Cyclic, Step)}


def make_schedule(spec: dict) -> Schedule:
    """The schedule of a ``to_dict()`` dict (``{"kind": "linear", "start": 0, ...}``)."""
    if isinstance(spec, Schedule):
        return spec
    if not isinstance(spec, dict) or "kind" not in spec:
        raise TypeError(f"a schedule must be a Schedule, a string or a dict with 'kind', got {spec!r}")
    kind = spec["kind"]
    if kind not in SCHEDULES:
        raise ValueError(f"unknown schedule {kind!r}; known: {sorted(SCHEDULES)}")
    kwargs = {k: v for k, v in spec.items() if k != "kind"}
    try:
        return SCHEDULES[kind](**kwargs)
    except TypeError as e:
        if "argument '" in str(e):
            raise
        raise TypeError(f"schedule {kind!r}: {e}") from None


def parse_schedule(text: str) -> Schedule:
    """``"linear(0, 4, 10000)"``, ``"cyclic(low=0, high=1, period=5000)"``, ``"step([1e-3, 1e-4], [5000])"``
    or a bare number (a constant)."""
    if not isinstance(text, str):
        raise TypeError(f"a schedule string is expected, got {type(text).__name__}")
    src = text.strip()
    try:
        node = ast.parse(src, mode="eval").body
    except SyntaxError:
        raise ValueError(f"cannot parse schedule {text!r}; expected e.g. 'linear(0, 4, 10000)'; "
                         f"kinds: {sorted(SCHEDULES)}") from None
    if isinstance(node, ast.Constant) or (isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant)):
        return Constant(ast.literal_eval(node))
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        raise ValueError(f"cannot parse schedule {text!r}; expected KIND(arguments), kinds: {sorted(SCHEDULES)}")
    kind = node.func.id.lower()
    if kind not in SCHEDULES:
        raise ValueError(f"unknown schedule {kind!r} in {text!r}; known: {sorted(SCHEDULES)}")
    try:
        args = [ast.literal_eval(a) for a in node.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
    except ValueError:
        raise ValueError(f"schedule {text!r}: arguments must be literals (numbers, lists, strings)") from None
    try:
        return SCHEDULES[kind](*args, **kwargs)
    except TypeError as e:
        if "argument '" in str(e):
            raise
        raise TypeError(f"schedule {text!r}: {e}") from None


def as_schedule(spec) -> Schedule:
    """A :class:`Schedule` from a Schedule, a dict, a string or a number (a constant)."""
    if isinstance(spec, Schedule):
        return spec
    if isinstance(spec, str):
        return parse_schedule(spec)
    if isinstance(spec, dict):
        return make_schedule(spec)
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return Constant(spec)
    raise TypeError(f"a schedule must be a Schedule, a string like 'linear(0, 4, 10000)', a dict or a number, "
                    f"got {type(spec).__name__}")
