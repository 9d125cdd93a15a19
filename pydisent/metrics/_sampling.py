"""Sampling for the evaluate forms of the metrics.

Two orders, chosen by the dataset:

* pydisent datasets: batched end to end. All factors of a metric stage are drawn in one call, then
  rendered and encoded in chunks of ``encoder.batch_size`` (one encoder call per chunk).
* disentanglement_lib-style datasets: the dataset is called exactly as disentanglement_lib calls it
  (``sample_factors`` / ``sample_observations_from_factors`` per reference batch of ``batch_size``, with the
  one ``RandomState``, in the reference's program order), so with the same seed the samples are the ones
  disentanglement_lib draws; the observations are buffered and encoded in large batches. (Such datasets
  may consume the random state while rendering, so their calls cannot be reordered or merged.)
"""

from __future__ import annotations

import numpy as np
import torch

from pydisent._rng import randint
from pydisent.metrics._encode import Encoder, encode_factors


def reference_order(source) -> bool:
    return getattr(source, "kind", None) == "disentanglement_lib"


def _concat(parts):
    if len(parts) == 1:
        return parts[0]
    if all(isinstance(p, np.ndarray) for p in parts):
        return np.concatenate(parts)
    if all(isinstance(p, torch.Tensor) for p in parts):
        return torch.cat(parts)
    return None


class EncodeBuffer:
    """Collects observation batches in order and encodes them in chunks of at least
    ``encoder.batch_size`` observations; :meth:`result` returns the codes in the order added."""

    def __init__(self, encoder: Encoder, posterior: bool = False):
        self.encoder = encoder
        self.posterior = posterior
        self.pending: list = []
        self.count = 0
        self.out: list = []

    def add(self, observations) -> None:
        self.pending.append(observations)
        self.count += len(observations)
        if self.count >= self.encoder.batch_size:
            self.flush()

    def _encode(self, obs):
        return self.encoder.posterior(obs) if self.posterior else self.encoder(obs)

    def flush(self) -> None:
        if not self.pending:
            return
        batch = _concat(self.pending)
        if batch is None:  # observations of a type we cannot concatenate: encode each batch as given
            self.out.extend(self._encode(p) for p in self.pending)
        else:
            self.out.append(self._encode(batch))
        self.pending, self.count = [], 0

    def result(self):
        self.flush()
        if not self.out:
            z = self.encoder.num_codes or 0
            empty = torch.empty((0, z), device=self.encoder.device)
            return (empty, empty) if self.posterior else empty
        if self.posterior:
            return tuple(torch.cat(p) for p in zip(*self.out))
        return torch.cat(self.out) if len(self.out) > 1 else self.out[0]


def _encode_batched(source, encoder: Encoder, factors: np.ndarray, rng, posterior: bool):
    if not posterior:
        return encode_factors(source, encoder, factors, rng)
    buf = EncodeBuffer(encoder, posterior=True)
    chunk = max(encoder.batch_size, 1)
    for i in range(0, len(factors), chunk):
        buf.add(source.observations(factors[i : i + chunk], rng))
    return buf.result()


def sample_codes_factors(source, encoder: Encoder, num_points: int, rng, batch_size: int = 16,
                         posterior: bool = False):
    """``num_points`` uniformly drawn factor vectors and their codes (disentanglement_lib's
    ``generate_batch_factor_code``): returns ``(codes (n, Z) tensor, factors (n, F) int64 array)``;
    with ``posterior=True`` the codes are the tuple of every encoder output."""
    n = int(num_points)
    if reference_order(source):
        buf = EncodeBuffer(encoder, posterior=posterior)
        facs = []
        for i in range(0, n, batch_size):
            f = source.sample_factors(min(batch_size, n - i), rng)
            buf.add(source.observations(f, rng))
            facs.append(f)
        factors = np.concatenate(facs) if facs else np.zeros((0, source.num_factors), np.int64)
        return buf.result(), factors
    factors = source.sample_factors(n, rng)
    return _encode_batched(source, encoder, factors, rng, posterior), factors


def sample_observation_codes(source, encoder: Encoder, num_points: int, rng):
    """Codes of ``num_points`` random observations (disentanglement_lib's ``sample_observations``: one
    ``sample_factors`` call, then the observations)."""
    factors = source.sample_factors(int(num_points), rng)
    if reference_order(source):
        buf = EncodeBuffer(encoder)
        buf.add(source.observations(factors, rng))
        return buf.result()
    return encode_factors(source, encoder, factors, rng)


def fixed_factor_batches(source, rng, num_groups: int, group_size: int) -> tuple[np.ndarray, np.ndarray]:
    """FactorVAE's vote batches, all at once: a factor index per group and ``group_size`` factor vectors
    per group sharing the first row's value of that factor. Returns ``(index (V,), factors (V, B, F))``."""
    k = randint(rng, source.num_factors, size=num_groups)
    f = source.sample_factors(num_groups * group_size, rng).reshape(num_groups, group_size, -1)
    rows = np.arange(num_groups)
    f[rows, :, k] = f[rows, 0, k][:, None]
    return k, f
