"""Disentanglement metrics.

Every metric has two call forms: a pure function on arrays the user already has
(``pydisent.metrics.mig(codes, factors)``), and a name in :data:`METRICS` used by
:func:`evaluate`, which samples from a ground-truth dataset and asks the thing being scored for what
the metric declares it needs (codes, the posterior, a generator or model samples; the contract is in
:mod:`pydisent.metrics._registry`).
"""

from __future__ import annotations

import time

from pydisent._rng import as_rng
from pydisent.data.source import as_source
from pydisent.metrics._encode import CodeCache, Encoder, encode_factors, sample_codes
from pydisent.metrics._registry import ALIASES, METRICS, Metric, register, resolve
from pydisent.metrics._subject import Generator, Sampler, Subject, as_subject

# Metric modules register themselves on import; this list is the only place they are named.
_MODULES: tuple[str, ...] = (
    "_beta_vae", "_factor_vae", "_mig", "_dci", "_modularity_explicitness", "_sap", "_irs", "_unsupervised",
    "_downstream", "_sparsity", "_prior_divergence", "_flatness", "_ground_truth_correlation", "_linearity",
    "_factored_components",
)

for _m in _MODULES:
    __import__(f"pydisent.metrics.{_m}")

# The array form of every registered metric is reachable as pydisent.metrics.<name>(...).
_ARRAY_FNS = {_name: _metric.array_fn for _name, _metric in METRICS.items() if _metric.array_fn is not None}
globals().update(_ARRAY_FNS)


def evaluate(subject, dataset, metrics, *, seed=0, device=None, batch_size: int = 1024,
             options: dict | None = None, progress: bool = False, fast: bool = False,
             cache_codes: bool = True) -> dict:
    """Score a representation (or a generative model) on a ground-truth dataset with the named metrics.

    Args:
        subject: what is scored (see :func:`as_subject`): a callable mapping an observation batch to codes
            ``(batch, num_codes)``, or an object with any of ``encode``, ``posterior``, ``generate``
            (+ ``latent_dim``, ``sample_prior``) and ``sample``. Each metric declares what it needs
            (:attr:`Metric.needs`); a metric whose needs the subject does not meet raises ``ValueError``.
        dataset: a :class:`pydisent.data.GroundTruthDataset` or a disentanglement_lib-style dataset;
            ``None`` is allowed when every metric needs only a generator.
        metrics: a metric name or a list of names from :data:`METRICS`.
        seed: each metric starts from a fresh RNG with this seed (``RandomState(seed)`` for
            disentanglement_lib datasets, as its ``evaluate`` does; ``default_rng(seed)`` otherwise).
        device: where observations are sent and codes computed (default: left as they are).
        batch_size: observations (or latents) per subject call.
        options: per-metric keyword overrides, e.g. ``{"mig": {"num_train": 2000}}``.
        progress: print one line per metric with its time.
        fast: passed as ``fast=True`` to every metric registered with a faster variant (``Metric.fast``,
            documented per metric, e.g. DCI with histogram gradient boosting); the others ignore it.
        cache_codes: encode each item of a (finite, pydisent) dataset at most once per call and reuse
            its code in every later request, across metrics (see :class:`CodeCache`).
            Exact for a deterministic representation function (a posterior mean); pass False for a
            stochastic one. disentanglement_lib-style datasets are never cached.

    Returns:
        ``{metric_name: {key: value}}`` with each reference's key names.
    """
    requested = [metrics] if isinstance(metrics, str) else list(metrics)
    names = [resolve(n) for n in requested]
    unknown = [n for n in names if n not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; available: {sorted(METRICS)}")
    options = {resolve(k): v for k, v in dict(options or {}).items()}
    stray = set(options) - set(names)
    if stray:
        raise ValueError(f"argument 'options' names metrics that were not requested: {sorted(stray)}")
    subj = as_subject(subject)
    for name in names:
        need = METRICS[name].needs
        if not subj.meets(need):
            raise ValueError(f"metric {name!r} needs {subj.missing(need)}; the {subj.name} being scored "
                             f"provides {sorted(subj.provides) or 'nothing'}")
    if dataset is None:
        needing = [n for n in names if METRICS[n].needs != "generator"]
        if needing:
            raise ValueError(f"argument 'dataset' is required by metric(s) {needing}")
        source = None
    else:
        source = as_source(dataset)
    views = {}

    def view(need):
        if need not in views:
            if need in ("encoder", "posterior"):
                enc = views.get("encoder") or views.get("posterior") or Encoder(
                    subj.encode, device=device, batch_size=batch_size, cache_codes=cache_codes,
                    posterior_fn=subj.posterior)
                views[need] = enc
            elif need == "generator":
                views[need] = Generator(subj, device=device, batch_size=batch_size)
            else:
                views[need] = Sampler(subj, device=device, batch_size=batch_size)
        return views[need]

    results = {}
    for label, name in zip(requested, names):  # keyed as requested (a deprecated alias keeps its key)
        metric = METRICS[name]
        t0 = time.perf_counter()
        rng = source.make_rng(seed) if source is not None else as_rng(seed)
        kwargs = dict(options.get(name, {}))
        if fast and metric.fast and "fast" not in kwargs:
            kwargs["fast"] = True
        results[label] = metric.evaluate(source, view(metric.needs), rng, **kwargs)
        if progress:
            print(f"[pydisent] {name}: {time.perf_counter() - t0:.2f} s", flush=True)
    return results


def __getattr__(name):
    # the array form under a deprecated registry name (pm.distances -> pm.ground_truth_correlation)
    if name in ALIASES and ALIASES[name] in _ARRAY_FNS:
        import warnings

        warnings.warn(f"pydisent.metrics.{name} is deprecated; use pydisent.metrics.{ALIASES[name]}",
                      DeprecationWarning, stacklevel=2)
        return _ARRAY_FNS[ALIASES[name]]
    raise AttributeError(f"module 'pydisent.metrics' has no attribute {name!r}")


def default_metrics(subject=None) -> list[str]:
    """The metrics run when none are named (the CLI's default): those registered with ``default=True``
    whose needs ``subject`` declares (:attr:`Subject.provides`; an encoder when ``subject`` is None)."""
    provides = as_subject(subject).provides if subject is not None else frozenset({"encoder"})
    return [n for n, m in METRICS.items() if m.default and m.needs in provides]


__all__ = ["METRICS", "ALIASES", "Metric", "Encoder", "CodeCache", "Subject", "Generator", "Sampler", "as_subject",
           "evaluate", "default_metrics", "register", "sample_codes", "encode_factors", *sorted(_ARRAY_FNS)]
