"""Factor traversals for the distance-learning metrics (flatness, ground-truth correlation, linearity).

A traversal of factor ``f`` is a random base factor vector with factor ``f`` swept over all its values
``0..s_f-1`` in order (disent's ``sample_random_factor_traversal(f)``, interval mode). Every traversal
of every factor is sampled up front (so the RNG stream does not depend on chunk sizes), rendered and
encoded in large batches, and handed back as ``(repeats, s_f, Z)`` code tensors; no Python loop runs
per traversal.

Also here: the input checks of the array forms, the geometric mean across factors and the warnings
for undefined values, shared by the three metric modules.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import torch

from pydisent._rng import randint
from pydisent._validation import as_tensor, check_finite, check_float, check_positive_int
from pydisent._validation import check_backend as _check_backend
from pydisent.data.base import Scratch
from pydisent.metrics._encode import Encoder, encode_chunk, encode_factors

# Observations rendered per chunk (bytes).
_CHUNK_BYTES = 1 << 26


def active_factors(sizes) -> list[int]:
    """Factors with more than one value (the only ones the metrics score, as in disent)."""
    return [f for f, s in enumerate(np.asarray(sizes).tolist()) if s > 1]


def sample_traversal_factors(source, factor: int, repeats: int, rng) -> np.ndarray:
    """``(repeats, s_f, F)`` factor vectors: ``repeats`` random bases, factor ``factor`` swept in order."""
    base = source.sample_factors(repeats, rng)
    return source.factor_space.traversals(factor, base)


def sample_active_traversals(metric: str, source, repeats: int, rng) -> tuple[list[int], list[np.ndarray]]:
    """The factors with more than one value and, for each, its ``(repeats, s_f, F)`` traversal factor
    vectors (drawn factor by factor, in order); raises naming ``metric`` when no factor varies."""
    active = active_factors(source.factor_sizes)
    if not active:
        no_active_factors(metric, source.factor_sizes)
    return active, [sample_traversal_factors(source, f, repeats, rng) for f in active]


def encode_traversals(source, encoder: Encoder, traversals: list[np.ndarray], rng) -> list[torch.Tensor]:
    """Codes ``(R, s_f, Z)`` of each ``(R, s_f, F)`` traversal array, all rendered and encoded in one
    stream of chunks of about 64 MB of observations (the encoder splits them into its batch size)."""
    flat = np.concatenate([t.reshape(-1, t.shape[-1]) for t in traversals])
    if encoder.code_cache(source) is not None:
        codes = _float_codes(encode_factors(source, encoder, flat, rng))
        return _split_traversals(codes, traversals)
    parts = []
    start, step = 0, 64
    scratch = Scratch()
    while start < len(flat):
        stop = min(len(flat), start + step)
        obs, codes = encode_chunk(source, encoder, flat[start:stop], rng, scratch)
        parts.append(_float_codes(codes))
        if start == 0:
            step = _rows_per_chunk(obs, stop - start)
        start = stop
    codes = torch.cat(parts) if len(parts) > 1 else parts[0]
    return _split_traversals(codes, traversals)


def _split_traversals(codes: torch.Tensor, traversals: list[np.ndarray]) -> list[torch.Tensor]:
    out, start = [], 0
    for t in traversals:
        n = t.shape[0] * t.shape[1]
        out.append(codes[start:start + n].reshape(t.shape[0], t.shape[1], -1))
        start += n
    return out


def _rows_per_chunk(obs, rows: int) -> int:
    """Observations per chunk for about ``_CHUNK_BYTES`` of them (measured on a first chunk): large
    enough that the per-call overheads vanish, small enough for the chunk's buffer to stay modest."""
    nbytes = obs.numel() * obs.element_size() if isinstance(obs, torch.Tensor) else np.asarray(obs).nbytes
    return max(1, _CHUNK_BYTES // max(1, nbytes // max(1, rows)))


class ImageBatch(NamedTuple):
    """Observations given as the dataset's uint8 images ``(c, s, D)`` (channels interleaved) with the
    per-channel scale of the transform (:meth:`~pydisent.data.GroundTruthSource.observations_with_raw`):
    the data distances are measured on these, exactly, instead of on the float observations."""

    images: torch.Tensor
    channel_scale: tuple


def iter_observation_chunks(source, encoder: Encoder, factors: np.ndarray, rng):
    """For ``(R, s, F)`` factor vectors, yields ``(r0, r1, observations, codes (c, s, Z))`` chunk by chunk
    (about 64 MB of observations each, sized after the first traversal), so the images of all
    traversals never sit in memory at once. ``observations`` are the float observations ``(c, s, D)``
    or, for CPU codes of a dataset with uint8 images and an affine transform, an :class:`ImageBatch`.
    The observations of a chunk may live in a buffer that the next chunk overwrites: use them before
    asking for the next (the codes are kept apart)."""
    R, s, F = factors.shape
    r0, step = 0, 1
    scratch = Scratch()
    while r0 < R:
        r1 = min(R, r0 + step)
        obs, codes, raw, scale = encode_chunk(source, encoder, factors[r0:r1].reshape(-1, F), rng, scratch,
                                              with_raw=True)
        codes = _float_codes(codes)
        if raw is not None and codes.device.type == "cpu":
            x = obs
            data = ImageBatch(raw.reshape(r1 - r0, s, -1), scale)
        else:
            x = _as_float_tensor(obs, codes.device)
            data = x.reshape(r1 - r0, s, -1)
        yield r0, r1, data, codes.reshape(r1 - r0, s, -1)
        if r0 == 0:
            step = _rows_per_chunk(x, r1 - r0)
        r0 = r1


def _float_codes(codes: torch.Tensor) -> torch.Tensor:
    # half-precision codes (an encoder under autocast) are measured in float32
    return codes if codes.dtype in (torch.float32, torch.float64) else codes.to(torch.float32)


def check_backend(backend) -> str:
    from pydisent._dispatch import BACKENDS

    return _check_backend(backend, BACKENDS)


def _as_float_tensor(obs, device) -> torch.Tensor:
    """Observations as a float tensor (the distances use the transformed, float observations as disent
    does; integer observations are converted to float32)."""
    t = obs if isinstance(obs, torch.Tensor) else torch.as_tensor(np.asarray(obs))
    if device is not None:
        t = t.to(device)
    if not t.is_floating_point():
        t = t.to(torch.float32)
    elif t.dtype not in (torch.float32, torch.float64):
        t = t.to(torch.float32)
    return t


def sample_triplets(rng, repeats: int, size: int, num_samples: int) -> np.ndarray:
    """``(repeats, num_samples, 3)`` anchor/positive/negative indices in ``[0, size)``, with replacement
    (p and n need no ordering: the scores are symmetric in them)."""
    return randint(rng, size, size=(repeats, num_samples, 3))


# -- checks of the array forms ------------------------------------------------------------------

def check_traversals(traversals, name: str = "traversals") -> list[torch.Tensor]:
    """A sequence (one entry per factor) of ``(R, s_f, Z)`` float code arrays with one ``Z``."""
    if isinstance(traversals, (torch.Tensor, np.ndarray)):
        raise TypeError(f"argument '{name}' must be a sequence with one (repeats, factor_size, num_codes) array "
                        f"per factor, got a single {type(traversals).__name__}")
    if isinstance(traversals, (str, bytes, dict)) or not hasattr(traversals, "__iter__"):
        raise TypeError(f"argument '{name}' must be a sequence with one (repeats, factor_size, num_codes) array "
                        f"per factor, got {type(traversals).__name__}")
    out = []
    z = None
    for f, t in enumerate(traversals):
        nm = f"{name}[{f}]"
        t = as_tensor(t, nm)
        if not t.is_floating_point():
            t = t.to(torch.float32)
        check_float(t, nm)
        if t.dim() != 3:
            raise ValueError(f"argument '{nm}' must have shape (repeats, factor_size, num_codes), got {tuple(t.shape)}")
        if t.shape[0] < 1:
            raise ValueError(f"argument '{nm}' must hold at least one traversal, got shape {tuple(t.shape)}")
        if z is None:
            z = t.shape[2]
        elif t.shape[2] != z:
            raise ValueError(f"argument '{nm}' has {t.shape[2]} codes, earlier traversals have {z}")
        check_finite(t, nm)
        out.append(t)
    if not out:
        raise ValueError(f"argument '{name}' must hold at least one factor's traversals")
    if z < 1:
        raise ValueError(f"argument '{name}' must have at least one code (num_codes >= 1)")
    devices = {t.device for t in out}
    if len(devices) > 1:
        raise ValueError(f"argument '{name}': all traversals must be on one device, got {sorted(map(str, devices))}")
    return out


def check_repeats(repeats) -> int:
    return check_positive_int(repeats, "repeats")


# -- combining and undefined values --------------------------------------------------------------

def geometric_mean(values: np.ndarray, key: str, notes: list[str]) -> float:
    """Geometric mean (float64) of per-factor values, disent's combination across factors.

    It is defined for values >= 0; disent returns NaN when a value is negative (a negative
    correlation for some factor). Here negative values count as 0 (the mean is then 0) and a note is
    added for the caller's warning.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return float("nan")
    if (v < 0).any():
        notes.append(f"{key}: negative per-factor value(s) {np.round(v[v < 0], 4).tolist()} count as 0 in the "
                     f"geometric mean (disent returns NaN)")
        v = np.clip(v, 0.0, None)
    if (v == 0).any():
        return 0.0
    return float(np.exp(np.mean(np.log(v))))


def warn_notes(metric: str, notes: list[str]) -> None:
    if notes:
        warnings.warn(f"{metric}: " + "; ".join(notes), RuntimeWarning, stacklevel=3)


def no_active_factors(metric: str, sizes) -> None:
    raise ValueError(f"{metric}: the dataset has no factor with more than one value (factor sizes "
                     f"{list(np.asarray(sizes).tolist())}); there is nothing to traverse")


def factor_names_for(factor_names, count: int, name: str = "factor_names") -> list[str]:
    """``factor_names`` (one per factor of the traversals) as strings, or ``factor_0``, ... when None."""
    if factor_names is None:
        return [f"factor_{i}" for i in range(count)]
    if isinstance(factor_names, (str, bytes)) or not hasattr(factor_names, "__iter__"):
        raise TypeError(f"argument '{name}' must be a sequence of {count} names, got {type(factor_names).__name__}")
    names = [str(n) for n in factor_names]
    if len(names) != count:
        raise ValueError(f"argument '{name}' must have one name per factor of the traversals ({count}), "
                         f"got {len(names)}")
    return names
