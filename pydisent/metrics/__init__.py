"""Disentanglement metrics.

Every metric has two call forms: a pure function on arrays the user already has
(``pydisent.metrics.mig(codes, factors)``), and a name in :data:`METRICS` used by
:func:`evaluate`, which samples from a ground-truth dataset and encodes with the user's
representation function.
"""

from __future__ import annotations

import time

from pydisent.data.source import as_source
from pydisent.metrics._encode import Encoder, encode_factors, sample_codes
from pydisent.metrics._registry import METRICS, Metric, register

# Metric modules register themselves on import; this list is the only place they are named.
_MODULES: tuple[str, ...] = (
    "_beta_vae", "_factor_vae", "_mig", "_dci", "_modularity", "_sap", "_irs", "_unsupervised", "_downstream",
    "_mathieu", "_flatness", "_distances", "_linearity", "_factored_components",
)

for _m in _MODULES:
    __import__(f"pydisent.metrics.{_m}")

# The array form of every registered metric is reachable as pydisent.metrics.<name>(...).
_ARRAY_FNS = {_name: _metric.array_fn for _name, _metric in METRICS.items() if _metric.array_fn is not None}
globals().update(_ARRAY_FNS)


def evaluate(representation_fn, dataset, metrics, *, seed=0, device=None, batch_size: int = 1024,
             options: dict | None = None, progress: bool = False, fast: bool = False,
             cache_codes: bool = True) -> dict:
    """Score a representation on a ground-truth dataset with the named metrics.

    Args:
        representation_fn: callable mapping an observation batch to codes ``(batch, num_codes)``.
        dataset: a :class:`pydisent.data.GroundTruthDataset` or a disentanglement_lib-style dataset.
        metrics: a metric name or a list of names from :data:`METRICS`.
        seed: each metric starts from a fresh RNG with this seed (``RandomState(seed)`` for
            disentanglement_lib datasets, as its ``evaluate`` does; ``default_rng(seed)`` otherwise).
        device: where observations are sent and codes computed (default: left as they are).
        batch_size: observations per encoder call.
        options: per-metric keyword overrides, e.g. ``{"mig": {"num_train": 2000}}``.
        progress: print one line per metric with its time.
        fast: passed as ``fast=True`` to every metric that has a faster variant (documented per metric,
            e.g. DCI with histogram gradient boosting); the others ignore it.
        cache_codes: encode each item of a (finite, pydisent) dataset at most once per call and reuse
            its code in every later request, across metrics (see :class:`pydisent.metrics._encode.CodeCache`).
            Exact for a deterministic representation function (a posterior mean); pass False for a
            stochastic one. disentanglement_lib-style datasets are never cached.

    Returns:
        ``{metric_name: {key: value}}`` with each reference's key names.
    """
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    unknown = [n for n in names if n not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; available: {sorted(METRICS)}")
    options = dict(options or {})
    stray = set(options) - set(names)
    if stray:
        raise ValueError(f"argument 'options' names metrics that were not requested: {sorted(stray)}")
    source = as_source(dataset)
    encoder = Encoder(representation_fn, device=device, batch_size=batch_size, cache_codes=cache_codes)
    results = {}
    for name in names:
        t0 = time.perf_counter()
        rng = source.make_rng(seed)
        kwargs = dict(options.get(name, {}))
        if fast and "fast" not in kwargs and _accepts(METRICS[name].evaluate, "fast"):
            kwargs["fast"] = True
        results[name] = METRICS[name].evaluate(source, encoder, rng, **kwargs)
        if progress:
            print(f"[pydisent] {name}: {time.perf_counter() - t0:.2f} s", flush=True)
    return results


def _accepts(fn, arg: str) -> bool:
    import inspect

    params = inspect.signature(fn).parameters
    return arg in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


__all__ = ["METRICS", "Metric", "Encoder", "evaluate", "register", "sample_codes", "encode_factors",
           *sorted(_ARRAY_FNS)]
