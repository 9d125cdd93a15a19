"""Relative living times (RLT) of H1 bars, for many barcodes at once.

Khrulkov & Oseledets, "Geometry Score: A Method For Comparing Generative Adversarial Networks",
ICML 2018, eqs. (2)-(3). For one barcode ``I_1`` (the H1 bars of one witness complex) and a scale
``alpha_max``::

    beta_1(alpha) = #{[b, d) in I_1 : b <= alpha < d}           (half-open bars)
    RLT(i)        = |{alpha in [0, alpha_max] : beta_1(alpha) = i}| / alpha_max,   i = 0 .. i_max - 1

Infinite deaths are replaced by ``alpha_max``; time spent with ``>= i_max`` holes alive is dropped
(so an RLT may sum to less than 1); a barcode without bars gives ``e_0`` (all mass on 0 holes).
MRLT is the mean RLT over landmark draws.

The reference (``gs.utils.relative``, also in ``piq``) sorts the unique endpoints together with
``{0, alpha_max}`` and, for each elementary segment, counts the bars that contain its midpoint. Here
every bar becomes a ``+1`` event at its birth and a ``-1`` event at its death; after one sort of all
events of all barcodes (barcode first, then position) the running sum of the events is the number of
bars alive on the segment up to the next event, and the segment lengths are scattered into the
histogram of their counts. This is the same number (up to the order of float additions), costs one
sort for the whole batch, and never loops over bars or barcodes in Python. Like the reference,
segments outside ``[0, alpha_max]`` (bars the caller did not clip) are counted too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from pydisent._validation import Interval, as_tensor, check, check_positive_int

__all__ = ["mean_rlt", "relative_living_times", "rlt_from_flat", "witness_rlts", "witness_rlts_clouds"]


def rlt_from_flat(births, deaths, owner, alpha_max, i_max: int = 100) -> torch.Tensor:
    """RLTs of ``B`` barcodes given as flat arrays of bars.

    Args:
        births, deaths: ``(M,)`` bar endpoints of all barcodes together (``inf`` deaths allowed:
            replaced by the barcode's ``alpha_max``), ``deaths >= births``.
        owner: ``(M,)`` integer barcode index of each bar, in ``[0, B)`` (any order).
        alpha_max: ``(B,)`` positive scale of each barcode (or a scalar for all).
        i_max: number of bins (counts ``0 .. i_max - 1``).

    Returns:
        ``(B, i_max)`` float64 tensor on the device of ``births``.
    """
    i_max = check_positive_int(i_max, "i_max")
    b = as_tensor(births, "births").to(torch.float64).reshape(-1)
    dev = b.device
    d = as_tensor(deaths, "deaths").to(device=dev, dtype=torch.float64).reshape(-1)
    o = as_tensor(owner, "owner").to(device=dev).reshape(-1)
    if o.is_floating_point() or o.dtype == torch.bool:
        raise TypeError(f"argument 'owner' must hold integer barcode indices, got dtype {o.dtype}")
    o = o.to(torch.int64)
    if not (b.shape == d.shape == o.shape):
        raise ValueError(f"arguments 'births', 'deaths' and 'owner' must have the same length, got "
                         f"{b.shape[0]}, {d.shape[0]}, {o.shape[0]}")
    am = as_tensor(alpha_max, "alpha_max").to(device=dev, dtype=torch.float64).reshape(-1)
    if am.dim() != 1 or am.numel() == 0:
        raise ValueError("argument 'alpha_max' must hold one positive value per barcode")
    if not bool((torch.isfinite(am) & (am > 0)).all()):
        bad = am[~(torch.isfinite(am) & (am > 0))][0].item()
        raise ValueError(f"argument 'alpha_max' must be finite and > 0, got {bad}"
                         " (all points of a cloud coincide?)")
    if dev.type == "cpu":  # numpy: one thread, no intra-op thread start-up for these small arrays
        return torch.from_numpy(_rlt_numpy(b.numpy(), d.numpy(), o.numpy(), am.numpy(), i_max))
    return _rlt_torch(b, d, o, am, i_max)


def _rlt_torch(b: torch.Tensor, d: torch.Tensor, o: torch.Tensor, am: torch.Tensor, i_max: int) -> torch.Tensor:
    """The event sweep of :func:`rlt_from_flat` in torch (any device; used for CUDA tensors)."""
    nb, dev = am.shape[0], b.device
    _check_bars(b, d, o, nb)
    d = torch.where(torch.isinf(d), am[o], d)
    # Events: +1 at births, -1 at deaths, and 0 at 0 and alpha_max of every barcode (so every barcode
    # spans [min(0, ...), max(alpha_max, ...)] exactly as the reference's switch points do).
    ar = torch.arange(nb, device=dev)
    pos = torch.cat([b, d, torch.zeros(nb, dtype=torch.float64, device=dev), am])
    own = torch.cat([o, o, ar, ar])
    delta = torch.cat([torch.ones_like(o), -torch.ones_like(o), torch.zeros_like(ar), torch.zeros_like(ar)])
    # Sort by (owner, position): a stable sort by position, then a stable sort by owner.
    i1 = torch.argsort(pos, stable=True)
    order = i1[torch.argsort(own[i1], stable=True)]
    pos, own, delta = pos[order], own[order], delta[order]
    # Each barcode's events sum to 0, so one global running sum restarts at 0 for every barcode.
    alive = torch.cumsum(delta, 0)
    length = torch.zeros_like(pos)
    same = own[1:] == own[:-1]
    length[:-1] = torch.where(same, pos[1:] - pos[:-1], torch.zeros((), dtype=torch.float64, device=dev))
    keep = (alive < i_max) & (length > 0)
    out = torch.zeros(nb * i_max, dtype=torch.float64, device=dev)
    out.index_add_(0, (own * i_max + alive)[keep], length[keep])
    return out.view(nb, i_max) / am[:, None]


def _check_bars(b, d, o, nb: int) -> None:
    if not len(b):
        return
    if bool(b.isnan().any() | d.isnan().any() | b.isinf().any()):
        raise ValueError("arguments 'births'/'deaths' must not hold NaN, and births must be finite")
    if bool((o < 0).any() | (o >= nb).any()):
        raise ValueError(f"argument 'owner' must index barcodes in [0, {nb}), got values in "
                         f"[{int(o.min())}, {int(o.max())}]")
    if bool((d < b).any()):
        raise ValueError("argument 'deaths': every death must be >= its birth")


def _rlt_numpy(b: np.ndarray, d: np.ndarray, o: np.ndarray, am: np.ndarray, i_max: int) -> np.ndarray:
    """The event sweep of :func:`rlt_from_flat` in numpy (CPU)."""
    nb = len(am)
    _check_bars(torch.from_numpy(b), torch.from_numpy(d), torch.from_numpy(o), nb)
    d = np.where(np.isinf(d), am[o], d)
    ar = np.arange(nb)
    pos = np.concatenate([b, d, np.zeros(nb), am])
    own = np.concatenate([o, o, ar, ar])
    delta = np.concatenate([np.ones(len(o), np.int64), -np.ones(len(o), np.int64), np.zeros(2 * nb, np.int64)])
    # One float sort on owner + position scaled into [0, 1] of the barcode's span: monotone in the position
    # within a barcode, so it orders events exactly unless two distinct positions round to one key; that is
    # detected (a decreasing step) and then the exact two-key sort is used.
    lo = np.zeros(nb)
    if len(b) and b.min() < 0:
        np.minimum.at(lo, o, b)
    hi = am.copy()
    if len(d) and (d > am[o]).any():
        np.maximum.at(hi, o, d)
    key = 2.0 * own + (pos - lo[own]) / (hi - lo)[own]
    order = np.argsort(key)
    p, w = pos[order], own[order]
    same = w[1:] == w[:-1]
    if bool((same & (p[1:] < p[:-1])).any()):
        order = np.lexsort((pos, own))
        p, w = pos[order], own[order]
        same = w[1:] == w[:-1]
    alive = np.cumsum(delta[order])
    length = np.zeros(len(p))
    length[:-1] = np.where(same, p[1:] - p[:-1], 0.0)
    keep = (alive < i_max) & (length > 0)
    out = np.bincount((w * i_max + alive)[keep], weights=length[keep], minlength=nb * i_max)
    return out.reshape(nb, i_max) / am[:, None]


def relative_living_times(bars, alpha_max, i_max: int = 100) -> torch.Tensor:
    """RLT of one barcode or of many (see the module docstring for the definition).

    Args:
        bars: one barcode, an array ``(k, 2)`` of (birth, death) rows (``inf`` deaths allowed), or a
            sequence of such arrays (numpy, torch or nested lists; ``k`` may be 0).
        alpha_max: the scale, a positive number (one barcode) or one per barcode.
        i_max: number of bins.

    Returns:
        float64 tensor ``(i_max,)`` for one barcode, ``(B, i_max)`` for a sequence of ``B``.

    Example: bars ``{[0.1, 0.5), [0.2, 0.3), [0.4, inf)}``, ``alpha_max = 1``, ``i_max = 4`` give
    ``[0.1, 0.7, 0.2, 0.0]``; no bars give ``[1, 0, 0, 0]``.
    """
    single = _is_single_barcode(bars)
    seq = [bars] if single else list(bars)
    arrs = []
    for k, x in enumerate(seq):
        t = as_tensor(x, "bars" if single else f"bars[{k}]").to(torch.float64)
        if t.numel() == 0:
            t = t.reshape(0, 2)
        if t.dim() != 2 or t.shape[1] != 2:
            raise ValueError(f"argument '{'bars' if single else f'bars[{k}]'}' must have shape (k, 2) of "
                             f"(birth, death) rows, got {tuple(t.shape)}")
        arrs.append(t)
    nb = len(arrs)
    am = torch.as_tensor(np.asarray(alpha_max, dtype=np.float64)).reshape(-1)
    if am.numel() == 1 and nb != 1:
        am = am.expand(nb).clone()
    if am.numel() != nb:
        raise ValueError(f"argument 'alpha_max' must be a scalar or hold one value per barcode ({nb}), "
                         f"got {am.numel()}")
    if nb == 0:
        return torch.zeros(0, check_positive_int(i_max, "i_max"), dtype=torch.float64)
    dev = arrs[0].device
    flat = torch.cat([a.to(dev) for a in arrs]) if nb else torch.zeros(0, 2, dtype=torch.float64)
    owner = torch.repeat_interleave(torch.arange(nb, device=dev),
                                    torch.tensor([a.shape[0] for a in arrs], device=dev))
    out = rlt_from_flat(flat[:, 0], flat[:, 1], owner, am.to(dev), i_max)
    return out[0] if single else out


def mean_rlt(rlts) -> torch.Tensor:
    """MRLT: the mean of RLTs over landmark draws (axis -2 of ``(..., n, i_max)``)."""
    t = as_tensor(rlts, "rlts").to(torch.float64)
    if t.dim() < 2:
        raise ValueError(f"argument 'rlts' must have shape (..., n, i_max), got {tuple(t.shape)}")
    return t.mean(dim=-2)


def witness_rlts(points, num_landmarks: int, gamma: float, *, i_max: int = 100, num_draws: int = 1, rng=None,
                 replace: bool = True, strong: bool = False, landmarks=None, backend: str = "auto") -> torch.Tensor:
    """RLTs of H1 of witness complexes on random landmarks: Algorithm 1 of the Geometry Score.

    For each of ``num_draws`` draws: ``num_landmarks`` landmark indices (with replacement by default, as
    ``np.random.choice(N, L0)`` in the reference), the witness-to-landmark table of plain Euclidean
    distances, ``alpha_max = gamma * max_{w, l} ||w - l||``, the weak relaxed witness complex of
    ``gudhi.WitnessComplex`` (dimension <= 2, truncated at ``alpha_max``; ``strong=True``: the strong
    one), its H1 over Z/2 (:func:`pydisent.topology.witness.witness_persistence_packed`), and the RLT of
    those bars (:func:`rlt_from_flat`). All draws go to the witness engine in one call.

    Args:
        points: the cloud ``(N, d)``.
        num_landmarks: ``L0``. gamma: the relative truncation (> 0). i_max: RLT bins.
        num_draws: ``n``. rng: seed or numpy Generator/RandomState the landmarks are drawn from.
        replace: draw landmarks with replacement (reference) or distinct ones (needs ``L0 <= N``).
        landmarks: ``(num_draws, L0)`` indices to use instead of drawing them (parity tests).
        backend: the witness engine's backend.

    Returns:
        float64 ``(num_draws, i_max)``.
    """
    from pydisent.topology.witness import draw_landmarks, witness_persistence_packed

    i_max = check_positive_int(i_max, "i_max")
    gamma = check(gamma, "gamma", Interval(float, 0, None, closed="neither"))
    if landmarks is None:
        n_pts = _num_points(points)
        num_landmarks = check_positive_int(num_landmarks, "num_landmarks")
        num_draws = check_positive_int(num_draws, "num_draws")
        if not replace and num_landmarks > n_pts:
            raise ValueError(f"argument 'num_landmarks' = {num_landmarks} exceeds the {n_pts} points: distinct "
                             f"landmarks (replace=False) need num_landmarks <= N; use replace=True (the reference)")
        landmarks = draw_landmarks(n_pts, num_landmarks, num_draws, rng, replace=replace)
    packed = witness_persistence_packed(points, landmarks, strong=strong, relative_alpha=gamma, squared=False,
                                        maxdim=1, backend=backend)
    am = torch.as_tensor(np.asarray(packed.max_alpha_square, dtype=np.float64))
    if not bool((am > 0).all()):
        raise ValueError("argument 'points': every landmark coincides with every witness (the largest "
                         "witness-landmark distance is 0), so alpha_max = 0 and the RLT is undefined")
    h1 = np.asarray(packed.h1, dtype=np.float64).reshape(-1, 2)
    owner = np.repeat(np.arange(len(am)), np.diff(np.asarray(packed.off1, dtype=np.int64)))
    return torch.from_numpy(_rlt_numpy(np.ascontiguousarray(h1[:, 0]), np.ascontiguousarray(h1[:, 1]), owner,
                                       am.numpy(), i_max))


def witness_rlts_clouds(clouds, num_landmarks: int, gamma: float, *, i_max: int = 100, num_draws: int = 1, rng=None,
                        replace: bool = True, strong: bool = False, backend: str = "auto") -> torch.Tensor:
    """:func:`witness_rlts` of several clouds (e.g. every conditional submanifold of a model) in ONE engine call
    (:func:`pydisent.topology.witness.witness_persistence_clouds`): ``clouds`` a list of ``(N_c, d)`` clouds
    or a ``(C, N, d)`` array; the landmarks of cloud ``c`` are drawn after those of cloud ``c - 1`` from ``rng``,
    so the result equals per-cloud :func:`witness_rlts` calls in order. Returns float64 ``(C, num_draws, i_max)``.
    """
    from pydisent.topology.witness import draw_landmarks, witness_persistence_clouds

    i_max = check_positive_int(i_max, "i_max")
    gamma = check(gamma, "gamma", Interval(float, 0, None, closed="neither"))
    num_landmarks = check_positive_int(num_landmarks, "num_landmarks")
    num_draws = check_positive_int(num_draws, "num_draws")
    clouds = list(clouds) if isinstance(clouds, (list, tuple)) else list(as_tensor(clouds, "clouds").unbind(0))
    lms = []
    for c in clouds:
        n_pts = _num_points(c)
        if not replace and num_landmarks > n_pts:
            raise ValueError(f"argument 'num_landmarks' = {num_landmarks} exceeds the {n_pts} points of a cloud: "
                             f"distinct landmarks (replace=False) need num_landmarks <= N; use replace=True")
        lms.append(draw_landmarks(n_pts, num_landmarks, num_draws, rng, replace=replace))
    if not clouds:
        return torch.zeros(0, num_draws, i_max, dtype=torch.float64)
    packed = witness_persistence_clouds(clouds, lms, strong=strong, relative_alpha=gamma, squared=False, maxdim=1,
                                        backend=backend)
    am = np.asarray(packed.max_alpha_square, dtype=np.float64)
    if not (am > 0).all():
        raise ValueError(f"argument 'clouds': in cloud {int(np.argmin(am > 0)) // num_draws} every landmark "
                         f"coincides with every witness (alpha_max = 0), so the RLT is undefined")
    h1 = np.asarray(packed.h1, dtype=np.float64).reshape(-1, 2)
    owner = np.repeat(np.arange(len(am)), np.diff(np.asarray(packed.off1, dtype=np.int64)))
    out = _rlt_numpy(np.ascontiguousarray(h1[:, 0]), np.ascontiguousarray(h1[:, 1]), owner, am, i_max)
    return torch.from_numpy(out).reshape(len(clouds), num_draws, i_max)


def _num_points(points) -> int:
    shape = getattr(points, "shape", None)
    if shape is None:
        shape = np.shape(points)
    if len(shape) != 2:
        raise ValueError(f"argument 'points' must have shape (N, d), got {tuple(shape)}")
    return int(shape[0])


def _is_single_barcode(bars) -> bool:
    if isinstance(bars, (torch.Tensor, np.ndarray)):
        return bars.ndim != 3 and not (bars.ndim == 1 and bars.dtype == object)
    if isinstance(bars, Sequence) and not isinstance(bars, (str, bytes)):
        if len(bars) == 0:
            return True  # an empty barcode, not an empty batch
        first = bars[0]
        if isinstance(first, (torch.Tensor, np.ndarray)):
            return first.ndim == 1
        if isinstance(first, Sequence):
            return len(first) != 0 and not isinstance(first[0], (Sequence, np.ndarray, torch.Tensor))
        return False
    raise TypeError(f"argument 'bars' must be an array of (birth, death) rows or a sequence of them, "
                    f"got {type(bars).__name__}")
