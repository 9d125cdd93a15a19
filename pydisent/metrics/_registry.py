"""The one registry of metric names. Metric modules register themselves at import; the CLI, the
benchmarks and :func:`pydisent.metrics.evaluate` read this dict, never a second list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Metric:
    """A registered metric.

    ``evaluate(source, encoder, rng, **options) -> dict`` samples what it needs from a
    :class:`pydisent.data.GroundTruthSource`, encodes with a :class:`pydisent.metrics.Encoder`, and
    returns the reference's keys. ``array_fn`` is the pure function on arrays, where one exists.
    """

    name: str
    evaluate: Callable
    array_fn: Callable | None
    summary: str
    headline: tuple[str, ...] = ()  # the keys a summary table shows (all keys when empty)


METRICS: dict[str, Metric] = {}


def register(name: str, array_fn: Callable | None = None, headline: tuple[str, ...] = ()):
    """Decorator registering the evaluate-form function of metric ``name``; ``headline`` names the
    keys a summary shows (the paper's headline numbers)."""

    def deco(fn: Callable) -> Callable:
        if name in METRICS:
            raise RuntimeError(f"metric {name!r} registered twice")
        doc = (fn.__doc__ or (array_fn.__doc__ if array_fn else "") or "").strip()
        METRICS[name] = Metric(name, fn, array_fn, doc.splitlines()[0] if doc else name, tuple(headline))
        return fn

    return deco
