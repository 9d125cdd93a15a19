"""Batched encoding shared by every metric: observations in large batches, one encoder call each."""

from __future__ import annotations

import numpy as np
import torch

from pydisent._validation import check_device
from pydisent.data.base import Scratch


class Encoder:
    """Wraps a representation function ``observations -> codes``.

    The function receives observations as the dataset returns them (torch tensors for pydisent
    datasets, numpy arrays for disentanglement_lib ones); torch observations are first moved to
    ``device`` when one is given. Codes come back as a float torch tensor ``(n, Z)`` on ``device``
    (or where the function put them). Calls run under ``torch.no_grad()``.

    Args:
        fn: the representation function (e.g. an encoder's posterior mean), returning one array.
        device: where observations go and codes are kept; ``None`` leaves them where they are.
        batch_size: largest batch handed to ``fn`` at once.
        cache_codes: remember the code of every dataset item encoded through :func:`encode_factors`
            and reuse it (see :class:`CodeCache`); only valid for a deterministic ``fn``.
        posterior_fn: ``observations -> (mu, logvar, ...)`` for :meth:`posterior` (default ``fn``).
    """

    def __init__(self, fn, device=None, batch_size: int = 1024, cache_codes: bool = False, posterior_fn=None):
        if not callable(fn):
            raise TypeError(f"argument 'representation_fn' must be callable, got {type(fn).__name__}")
        self.posterior_fn = posterior_fn if posterior_fn is not None else fn
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"argument 'batch_size' must be a positive integer, got {batch_size!r}")
        self.fn = fn
        self.device = check_device(device)
        self.batch_size = int(batch_size)
        self.num_codes: int | None = None
        self.cache_codes = bool(cache_codes)
        self._caches: dict[int, CodeCache] = {}

    def code_cache(self, source) -> CodeCache | None:
        """The code cache for ``source``, or None where caching does not apply: caching is off, the
        dataset is disentanglement_lib-style (its rendering may draw from the RNG, so an item's
        observation is not a function of its factors), or the factor space is too large for a dense
        table (> 2^25 items)."""
        if not self.cache_codes or getattr(source, "kind", None) != "pydisent":
            return None
        size = source.factor_space.size
        if size > CodeCache.MAX_ITEMS:
            return None
        key = id(source.factor_space)
        if key not in self._caches:
            self._caches[key] = CodeCache(size)
        return self._caches[key]

    def __call__(self, observations) -> torch.Tensor:
        return self._encode_all(observations, keep_all=False)[0]

    def posterior(self, observations) -> tuple[torch.Tensor, ...]:
        """Every output of a ``(mu, logvar, ...)`` representation function, each ``(n, Z)``.

        Used by the metrics that need the posterior and not only its mean (Mathieu et al.'s
        aggregate-posterior divergences); ``posterior_fn`` must return a tuple or list of at least two arrays.
        """
        return self._encode_all(observations, keep_all=True)

    def _encode_all(self, observations, keep_all: bool) -> tuple[torch.Tensor, ...]:
        """The outputs (the codes alone unless ``keep_all``) of all observations, batch by batch."""
        n = len(observations)
        parts = [self._encode_batch(observations[i : i + self.batch_size], keep_all)
                 for i in range(0, n, self.batch_size)]
        if not parts:
            z = self.num_codes or 0
            return tuple(torch.empty((0, z), device=self.device) for _ in range(2 if keep_all else 1))
        return tuple(torch.cat(p) if len(parts) > 1 else p[0] for p in zip(*parts))

    def _encode_batch(self, obs, keep_all: bool = False):
        if isinstance(obs, torch.Tensor) and self.device is not None:
            obs = obs.to(self.device, non_blocking=True)
        with torch.no_grad():
            out = (self.posterior_fn if keep_all else self.fn)(obs)
        if keep_all:
            if not isinstance(out, (tuple, list)) or len(out) < 2:
                raise ValueError(
                    "this metric needs the posterior: representation_fn must return a tuple (mu, logvar) "
                    f"of arrays (batch, num_codes); it returned {type(out).__name__}")
            return tuple(self._as_codes(o, len(obs)) for o in out)
        if isinstance(out, (tuple, list)):
            raise ValueError(f"representation_fn must return one array of codes (batch, num_codes), it returned a "
                             f"{type(out).__name__}; pass a (mu, logvar) function through "
                             "pydisent.metrics.as_subject (its first output is the code)")
        return (self._as_codes(out, len(obs)),)

    def _as_codes(self, out, n: int) -> torch.Tensor:
        codes = torch.as_tensor(np.asarray(out) if not isinstance(out, torch.Tensor) else out)
        if self.device is not None:
            codes = codes.to(self.device)
        if codes.dim() == 1:
            codes = codes[:, None]
        if codes.dim() != 2 or codes.shape[0] != n:
            raise ValueError(
                f"representation_fn must return codes of shape (batch, num_codes); for a batch of "
                f"{n} it returned shape {tuple(codes.shape)}"
            )
        if not codes.is_floating_point():
            codes = codes.to(torch.float32)
        if self.num_codes is None:
            self.num_codes = int(codes.shape[1])
        elif codes.shape[1] != self.num_codes:
            raise ValueError(f"representation_fn returned {codes.shape[1]} codes, earlier {self.num_codes}")
        if not bool(torch.isfinite(codes).all()):
            raise ValueError("representation_fn returned NaN or infinite codes")
        return codes


class CodeCache:
    """Codes of a finite dataset's items, filled on demand and reused.

    Metrics ask for far more samples than a dataset has items (BetaVAE's defaults encode 1.92 million
    observations, FactorVAE's 960,000; XYObject has 75,000 images), so most requests repeat an item.
    With a deterministic representation (a posterior mean, as every reference metric uses) an item's
    code never changes: each item is rendered and encoded once per :func:`pydisent.metrics.evaluate`
    call, across all its metrics, and the metrics receive exactly the codes they would have computed.
    """

    MAX_ITEMS = 1 << 25

    def __init__(self, size: int):
        self.size = int(size)
        self.seen = np.zeros(self.size, dtype=bool)
        self.codes: torch.Tensor | None = None
        self.encoded = 0  # items rendered and encoded so far (for reports and tests)

    def lookup(self, indices: np.ndarray, encode_missing) -> torch.Tensor:
        """Codes of flat item ``indices``; ``encode_missing(unique_missing_indices) -> (m, Z)`` fills gaps."""
        uniq = np.unique(indices)
        missing = uniq[~self.seen[uniq]]
        if len(missing):
            z = encode_missing(missing)
            if self.codes is None:
                # torch.empty does not touch the pages of rows never filled
                self.codes = torch.empty((self.size, z.shape[1]), dtype=z.dtype, device=z.device)
            self.codes[torch.as_tensor(missing, device=self.codes.device)] = z
            self.seen[missing] = True
            self.encoded += len(missing)
        if self.codes is None:  # nothing requested at all
            return torch.empty((0, 0))
        return self.codes[torch.as_tensor(np.asarray(indices, dtype=np.int64), device=self.codes.device)]


def encode_chunk(source, encoder: Encoder, factors: np.ndarray, rng, scratch: Scratch, with_raw: bool = False):
    """``(observations, codes)`` of one chunk of ``factors``, the observations written into ``scratch``
    where the dataset allows (so they are valid until the next chunk); codes that the representation
    function returned as a view of them (an identity or reshaping encoder) are copied out.
    ``with_raw=True`` returns ``(observations, codes, images, channel_scale)`` with the dataset's uint8
    images where :meth:`~pydisent.data.GroundTruthSource.observations_with_raw` has them (else None)."""
    if with_raw:
        obs, raw, scale = source.observations_with_raw(factors, rng, scratch)
    else:
        obs = source.observations(factors, rng, scratch)
    codes = encoder(obs)
    codes = codes.clone() if scratch.holds(codes) else codes
    return (obs, codes, raw, scale) if with_raw else (obs, codes)


def encode_factors(source, encoder: Encoder, factors: np.ndarray, rng, chunk: int | None = None) -> torch.Tensor:
    """Codes ``(n, Z)`` of the observations of ``factors`` ``(n, F)``, rendered in large chunks into
    one reused buffer (through the encoder's :class:`CodeCache` when it has one for ``source``)."""
    chunk = chunk or max(encoder.batch_size, 1)
    cache = encoder.code_cache(source) if len(factors) else None
    scratch = Scratch()

    def encode_rows(rows):
        parts = [encode_chunk(source, encoder, rows[i : i + chunk], rng, scratch)[1]
                 for i in range(0, len(rows), chunk)]
        if not parts:
            return torch.empty((0, encoder.num_codes or 0), device=encoder.device)
        return parts[0] if len(parts) == 1 else torch.cat(parts)

    if cache is not None:
        space = source.factor_space
        return cache.lookup(space.pos_to_idx(factors), lambda idx: encode_rows(space.idx_to_pos(idx)))
    return encode_rows(factors)


def sample_codes(source, encoder: Encoder, num_points: int, rng) -> tuple[torch.Tensor, np.ndarray]:
    """``num_points`` uniformly drawn factor vectors and their codes: ``(codes (n, Z), factors (n, F))``.

    All factors are drawn first in one call, then rendered and encoded in batches (disentanglement_lib's
    ``generate_batch_factor_code`` interleaves per batch of 16; the distribution is the same).
    """
    factors = source.sample_factors(num_points, rng)
    return encode_factors(source, encoder, factors, rng), factors
