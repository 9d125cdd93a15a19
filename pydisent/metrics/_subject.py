"""The thing being scored: one object that says what it can give a metric.

A metric declares what it needs (``Metric.needs``, see :mod:`pydisent.metrics._registry`); the
subject declares what it provides. :func:`as_subject` turns what a user passes into a :class:`Subject`:

- a plain callable ``x -> codes`` (a representation function): provides ``"encoder"``; if it returns
  a tuple ``(mu, logvar, ...)`` its first element is the code, and it may then also serve the
  ``"posterior"`` metrics (the tuple is checked when they call it);
- an object with any of ``encode(x) -> codes``, ``posterior(x) -> (mu, logvar)``,
  ``generate(z) -> x`` (with ``latent_dim`` and optionally ``sample_prior(n, rng) -> z``) and
  ``sample(n, rng) -> x``: provides what it has (``posterior`` alone also gives ``"encoder"``, through
  its mean; ``generate`` also gives ``"samples"``, from the prior);
- a :class:`Subject` built directly, e.g. ``Subject(encode=f, generate=g, latent_dim=10)``.
"""

from __future__ import annotations

import numpy as np
import torch

NEEDS = ("encoder", "posterior", "generator", "samples")

_PROTOCOL = ("encode", "posterior", "generate", "sample")


def _first(fn):
    """The code of a representation function that may return ``(mu, logvar, ...)``: its first output."""

    def mean(x):
        out = fn(x)
        return out[0] if isinstance(out, (tuple, list)) else out

    return mean


def _standard_normal(latent_dim: int):
    def sample_prior(n, rng):
        return rng.standard_normal((int(n), latent_dim)).astype(np.float32)

    return sample_prior


class Subject:
    """What a metric may ask of the thing being scored; ``None`` where it does not provide it.

    Args:
        encode: ``x -> codes (n, Z)`` (batches of observations as the dataset returns them).
        posterior: ``x -> (mu, logvar, ...)``, each ``(n, Z)``.
        generate: ``z (n, latent_dim) -> observations (n, ...)``.
        latent_dim: the generator's latent dimension (required with ``generate``).
        sample_prior: ``(n, rng) -> z (n, latent_dim)`` with ``rng`` a ``numpy.random.Generator``
            (default: standard normal drawn from ``rng``).
        sample: ``(n, rng) -> observations (n, ...)``, model samples (default: ``generate`` of prior draws).
        name: a label for error messages.
    """

    def __init__(self, encode=None, posterior=None, generate=None, latent_dim=None, sample_prior=None,
                 sample=None, name: str = "subject"):
        for arg, fn in (("encode", encode), ("posterior", posterior), ("generate", generate),
                        ("sample_prior", sample_prior), ("sample", sample)):
            if fn is not None and not callable(fn):
                raise TypeError(f"argument '{arg}' must be callable, got {type(fn).__name__}")
        if generate is not None:
            if isinstance(latent_dim, bool) or not isinstance(latent_dim, (int, np.integer)) or latent_dim < 1:
                raise ValueError(f"argument 'latent_dim' must be a positive integer with 'generate', "
                                 f"got {latent_dim!r}")
            latent_dim = int(latent_dim)
        self.encode = encode if encode is not None else (_first(posterior) if posterior is not None else None)
        self.posterior = posterior
        self.generate = generate
        self.latent_dim = latent_dim
        if sample_prior is None and generate is not None:
            sample_prior = _standard_normal(latent_dim)
        self.sample_prior = sample_prior
        self.sample = sample
        self.name = name
        # a plain callable may serve the posterior metrics without saying so (its output is checked then)
        self._posterior_on_trust = False

    @property
    def provides(self) -> frozenset:
        """The needs this subject declares it meets (what ``evaluate`` runs by default)."""
        out = set()
        if self.encode is not None:
            out.add("encoder")
        if self.posterior is not None and not self._posterior_on_trust:
            out.add("posterior")
        if self.generate is not None:
            out.update(("generator", "samples"))
        if self.sample is not None:
            out.add("samples")
        return frozenset(out)

    def meets(self, need: str) -> bool:
        """Whether a metric with ``needs=need`` can be run on this subject."""
        return need in self.provides or (need == "posterior" and self.posterior is not None)

    def missing(self, need: str) -> str:
        """What the subject lacks for ``need``, in words for an error message."""
        return {
            "encoder": "an encoder (a callable x -> codes, or an object with encode(x) or posterior(x))",
            "posterior": "a posterior (a callable or posterior(x) returning (mu, logvar))",
            "generator": "a generator (an object with generate(z), latent_dim and optionally sample_prior(n, rng))",
            "samples": "a sampler (an object with sample(n, rng), or generate(z) with latent_dim)",
        }[need]


def as_subject(obj) -> Subject:
    """The :class:`Subject` view of ``obj`` (see the module docstring)."""
    if isinstance(obj, Subject):
        return obj
    name = type(obj).__name__
    if any(callable(getattr(obj, a, None)) for a in _PROTOCOL):
        get = lambda a: getattr(obj, a, None) if callable(getattr(obj, a, None)) else None  # noqa: E731
        return Subject(encode=get("encode"), posterior=get("posterior"), generate=get("generate"),
                       latent_dim=getattr(obj, "latent_dim", None), sample_prior=get("sample_prior"),
                       sample=get("sample"), name=name)
    if not callable(obj):
        raise TypeError(f"argument 'subject' must be a callable x -> codes or have encode, posterior, generate or "
                        f"sample methods, got {name}")
    subject = Subject(encode=_first(obj), posterior=obj, name=name)
    subject._posterior_on_trust = True
    return subject


class Generator:
    """A subject's generator, batched and without gradients, for the ``needs="generator"`` metrics.

    Attributes:
        latent_dim: the latent dimension.
    """

    def __init__(self, subject: Subject, device=None, batch_size: int = 1024):
        self.subject = subject
        self.latent_dim = subject.latent_dim
        self.device = torch.device(device) if device is not None else None
        self.batch_size = int(batch_size)

    def sample_latents(self, n: int, rng) -> torch.Tensor:
        """``n`` prior draws ``(n, latent_dim)`` (float tensor on ``device``) from ``rng``."""
        z = self.subject.sample_prior(int(n), rng)
        z = z if isinstance(z, torch.Tensor) else torch.as_tensor(np.asarray(z))
        if z.dim() != 2 or z.shape != (int(n), self.latent_dim):
            raise ValueError(f"sample_prior must return latents of shape ({int(n)}, {self.latent_dim}), "
                             f"it returned shape {tuple(z.shape)}")
        z = z if z.is_floating_point() else z.to(torch.float32)
        return z.to(self.device) if self.device is not None else z

    def generate(self, z) -> torch.Tensor:
        """Observations of latents ``z`` ``(n, latent_dim)``, ``batch_size`` at a time."""
        z = z if isinstance(z, torch.Tensor) else torch.as_tensor(np.asarray(z), dtype=torch.float32)
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"argument 'z' must have shape (n, {self.latent_dim}), got {tuple(z.shape)}")
        if self.device is not None:
            z = z.to(self.device)
        with torch.no_grad():
            parts = [_as_tensor(self.subject.generate(z[i : i + self.batch_size]), self.device)
                     for i in range(0, len(z), self.batch_size)]
        return parts[0] if len(parts) == 1 else torch.cat(parts) if parts else torch.empty((0,))

    def sample(self, n: int, rng) -> torch.Tensor:
        """``n`` model samples: observations of ``n`` prior draws."""
        return self.generate(self.sample_latents(n, rng))


class Sampler:
    """A subject's model samples, for the ``needs="samples"`` metrics: ``sample(n, rng)``."""

    def __init__(self, subject: Subject, device=None, batch_size: int = 1024):
        self.subject = subject
        self.device = torch.device(device) if device is not None else None
        self._generator = Generator(subject, device, batch_size) if subject.sample is None else None

    def sample(self, n: int, rng) -> torch.Tensor:
        """``n`` samples of the model, a float tensor ``(n, ...)`` (on ``device`` when one is given)."""
        if self._generator is not None:
            return self._generator.sample(n, rng)
        with torch.no_grad():
            x = _as_tensor(self.subject.sample(int(n), rng), self.device)
        if x.dim() < 1 or x.shape[0] != int(n):
            raise ValueError(f"sample must return {int(n)} samples (n, ...), it returned shape {tuple(x.shape)}")
        return x


def _as_tensor(x, device) -> torch.Tensor:
    x = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    return x.to(device) if device is not None else x
