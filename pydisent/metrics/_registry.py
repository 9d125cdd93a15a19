"""The one registry of metric names, and the contract a metric and the thing it scores keep.

Metric modules register themselves at import; the CLI, the benchmarks and :func:`pydisent.metrics.evaluate`
read :data:`METRICS`, never a second list.

Registering::

    @register("mig", mig, needs="encoder", headline=("discrete_mig",))
    def evaluate_mig(source, encoder, rng, *, num_train=10000, ...) -> dict: ...

``register(name, array_fn, *, needs="encoder", headline=(), fast=False, default=True)`` decorates the
*evaluate form*; ``array_fn`` is the pure function on arrays (``None`` where there is none, reachable as
``pydisent.metrics.<name>``); ``headline`` names the keys a summary table shows; ``fast=True`` when the
evaluate form takes ``fast: bool`` (a documented faster estimator: ``evaluate(..., fast=True)`` passes it);
``default=False`` keeps an expensive or redundant metric out of the CLI's default set.

What ``needs`` promises, and the evaluate form's signature for each. Every form returns ``{key: value}``,
takes its options as keywords and draws only from ``rng``: ``source.make_rng(seed)``, a fresh one per metric
(a ``numpy.random.Generator``; ``RandomState`` for disentanglement_lib datasets; ``default_rng(seed)``
without a dataset).

- ``"encoder"``: ``fn(source, encoder, rng, **options)``. ``source`` is a
  :class:`pydisent.data.GroundTruthSource` (never ``None``); ``encoder`` a
  :class:`pydisent.metrics.Encoder`: ``encoder(observations) -> codes (n, Z)`` float tensor.
- ``"posterior"``: same signature; ``encoder.posterior(observations) -> (mu, logvar, ...)``, each ``(n, Z)``.
- ``"generator"``: ``fn(source, generator, rng, **options)``. ``source`` is the GroundTruthSource or
  ``None`` when no dataset was given (a metric that needs one raises ``ValueError`` naming 'dataset');
  ``generator`` a :class:`pydisent.metrics.Generator`: ``generator.latent_dim``,
  ``generator.sample_latents(n, rng) -> z (n, latent_dim)``, ``generator.generate(z) -> observations``,
  ``generator.sample(n, rng) -> observations`` (batched, under ``no_grad``).
- ``"samples"``: ``fn(source, sampler, rng, **options)``. ``source`` is the GroundTruthSource (the real
  observations: ``source.sample_factors(n, rng)`` then ``source.observations(factors, rng)``; never ``None``);
  ``sampler`` a :class:`pydisent.metrics.Sampler`: ``sampler.sample(n, rng) -> observations (n, ...)``, the
  model's samples.

The thing being scored (the *subject*, :func:`pydisent.metrics.as_subject`) is a plain callable
``x -> codes`` (an encoder; returning ``(mu, logvar)`` it also serves ``"posterior"``), or an object
with any of ``encode(x)``, ``posterior(x) -> (mu, logvar)``, ``generate(z)`` + ``latent_dim`` (+ optional
``sample_prior(n, rng)``, standard normal by default; gives ``"generator"`` and ``"samples"``) and
``sample(n, rng)`` (gives ``"samples"``), or a :class:`pydisent.metrics.Subject`. ``evaluate`` runs each
requested metric whose needs the subject meets and raises ``ValueError`` naming what is missing otherwise.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

from pydisent._validation import Options, check
from pydisent.metrics._subject import NEEDS


@dataclass(frozen=True)
class Metric:
    """A registered metric (see the module docstring for the contract of ``evaluate`` per ``needs``).

    Attributes:
        name: the registry name (= module name = array function name).
        evaluate: the evaluate form, ``evaluate(source, view, rng, **options) -> dict``.
        array_fn: the pure function on arrays, where one exists.
        summary: the first line of the docstring.
        needs: what it needs from the subject: "encoder", "posterior", "generator" or "samples".
        headline: the keys a summary table shows (all keys when empty).
        fast: whether ``evaluate`` takes ``fast: bool``.
        default: whether the CLI runs it when no metric is named.
    """

    name: str
    evaluate: Callable
    array_fn: Callable | None
    summary: str
    needs: str = "encoder"
    headline: tuple[str, ...] = ()
    fast: bool = False
    default: bool = True


METRICS: dict[str, Metric] = {}

# deprecated registry names users may have used -> their current name
ALIASES: dict[str, str] = {}


def register(name: str, array_fn: Callable | None = None, *, needs: str = "encoder", headline: tuple[str, ...] = (),
             fast: bool = False, default: bool = True):
    """Decorator registering the evaluate-form function of metric ``name`` (see the module docstring)."""
    check(needs, "needs", Options(NEEDS))

    def deco(fn: Callable) -> Callable:
        if name in METRICS:
            raise RuntimeError(f"metric {name!r} registered twice")
        doc = (fn.__doc__ or (array_fn.__doc__ if array_fn else "") or "").strip()
        METRICS[name] = Metric(name, fn, array_fn, doc.splitlines()[0] if doc else name, needs, tuple(headline),
                               bool(fast), bool(default))
        return fn

    return deco


def resolve(name: str) -> str:
    """The current registry name of ``name`` (a deprecated alias warns)."""
    if name in ALIASES and name not in METRICS:
        new = ALIASES[name]
        warnings.warn(f"metric name {name!r} is deprecated; use {new!r}", DeprecationWarning, stacklevel=3)
        return new
    return name
