"""Vietoris-Rips persistent homology (H0, H1) of one cloud or of many clouds at once.

The engine is pydisent's own (``csrc/persistence``): H0 is the minimum spanning tree by dense Prim
(O(n^2) time, O(n) memory), H1 is persistent cohomology over Z/2 with ripser's accelerations
(implicit coboundaries, clearing with the H0 pivots, apparent and emergent pairs). Results equal
``ripser.ripser`` (Bauer, "Ripser: efficient computation of Vietoris-Rips persistence barcodes",
J. Appl. Comput. Topol. 2021) pair for pair: the filtration values are the same float32 numbers
and the simplexwise refinement is the same (diameter, then combinatorial index).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch

from pydisent import _C, _distance_metric
from pydisent._dispatch import ref, resolve_backend, stream_of
from pydisent._memory import check_memory, resolve_budget
from pydisent._validation import Interval, as_tensor, check, check_backend, check_bool, check_finite, check_same_device
from pydisent.topology.diagrams import Diagrams, empty_diagrams

# accepted names -> the kernels' metric code (pydisent/_distance_metric.py, csrc/common/metric.h)
METRICS = {name: _distance_metric.code(name)
           for name in ("euclidean", "l2", "manhattan", "cityblock", "l1", "chebyshev")}
SUPPORTED_MAXDIM = (0, 1)
_ARG = "points_or_distances"
RIPS_BACKENDS = ("auto", "cpu", "cuda", "reference")


def vietoris_rips(points_or_distances, maxdim: int = 1, threshold: float = float("inf"),
                  metric: str = "euclidean", distances: bool = False, return_generators: bool = False,
                  backend: str = "auto", memory_budget=None):
    """Persistence diagrams of the Vietoris-Rips filtration, H0 and H1, like ``ripser.ripser``.

    The Rips complex at scale ``t`` holds every simplex whose diameter (largest pairwise distance)
    is ``<= t``; H_k is computed with Z/2 coefficients.

    Args:
        points_or_distances: one cloud ``(n, d)``; a batch ``(B, n, d)`` (tensor or array); or a
            list/tuple of clouds ``(n_i, d)`` of different sizes. With ``distances=True``: one
            ``(n, n)`` distance matrix, a batch ``(B, n, n)`` or a list of them. float32/float64 or
            integer values (integers are converted to float64); CPU tensors run on the C++ engine,
            CUDA tensors on the CUDA engine. An empty cloud (``n = 0``) gives empty diagrams.
        maxdim: largest homology dimension, 0 or 1 (``NotImplementedError`` above 1).
        threshold: largest diameter of the complex (inclusive), rounded to float32 as ripser does.
            With ``inf`` (default) H1 is computed up to the enclosing radius
            ``min_i max_j d(i, j)``, past which the complex is a cone; the diagrams are the same.
        metric: ``"euclidean"`` (default), ``"manhattan"`` or ``"chebyshev"`` (also ``"l2"``,
            ``"l1"``, ``"cityblock"``) for point input.
        distances: the input is a distance matrix (or batch/list of them). It must be symmetric (up
            to 1e-5 relative; the upper triangle is used, as in ripser.py), non-negative, with a zero
            diagonal and no NaN; ``inf`` entries mean "no edge".
        return_generators: also return, per pair, the simplex that creates and the one that
            destroys the class (see :class:`Diagrams`).
        backend: ``"auto"`` (device of the input), ``"cpu"``, ``"cuda"``, or ``"reference"`` (the pure
            NumPy/Python reference of ``pydisent.topology._reference``; a few dozen points at most;
            ``"torch"``, its former name, still selects it with a ``DeprecationWarning``).
        memory_budget: working memory the CPU engine may use (bytes or e.g. ``"8G"``; default: 90% of
            the memory available, see :mod:`pydisent._memory`). H1 of ``n`` points holds the ``n x n``
            float32 distances and up to one 16-byte column per edge (about ``12 n^2`` bytes; ``maxdim=0``
            on points needs ``O(n)``): above the budget a ``MemoryError`` states the estimate and the way
            out (a finite ``threshold``, fewer points, ``maxdim=0``) before anything is allocated.

    Returns:
        A :class:`Diagrams` for one cloud; a plain ``list`` of :class:`Diagrams` for a batch or a
        list of clouds (same order).

    Values: distances are accumulated in float64 in coordinate order and rounded to float32, as
    ripser.py does (which uses float64 distances cast to float32); birth/death values are those
    float32 numbers, returned as float64. Zero-length bars are dropped, every component gives one
    H0 bar (one infinite bar per component within the threshold).

    CPU threads: ``OMP_NUM_THREADS`` (``pydisent._C.set_omp_threads``); a batch runs one cloud per
    thread, a single large cloud uses the threads inside (distances, columns, sort).
    """
    maxdim = _check_maxdim(maxdim)
    threshold = _check_threshold(threshold)
    distances = check_bool(distances, "distances")
    return_generators = check_bool(return_generators, "return_generators")
    metric_code = _check_metric(metric, distances)

    clouds, single, whole = _as_clouds(points_or_distances, distances)
    if not clouds:
        return []
    if backend == "torch":
        warnings.warn("vietoris_rips(backend='torch') is deprecated: that backend is the pure NumPy reference; "
                      "use backend='reference'", DeprecationWarning, stacklevel=2)
        backend = "reference"
    check_backend(backend, RIPS_BACKENDS)
    if backend != "reference":
        backend = resolve_backend(backend, *clouds)
    packed, offsets, dim = _pack(clouds, whole, distances)
    if distances:
        _check_matrices(clouds)
    elif packed.is_cuda:
        check_finite(packed, _ARG)
    elif not np.isfinite(packed.numpy()).all():
        # numpy, not torch, on the CPU: a torch reduction would wake torch's OpenMP pool, which then
        # competes with the engine's threads (and costs more than the check itself).
        raise ValueError(f"argument '{_ARG}' contains NaN or infinite values")

    if backend == "cpu":
        _check_workspace(clouds, distances, metric_code, maxdim, threshold, memory_budget)
    elif memory_budget is not None:
        resolve_budget(memory_budget)  # validated on every backend
    if backend == "reference":
        results = _run_reference(clouds, distances, metric_code, maxdim, threshold, return_generators)
    else:
        if backend == "cpu":
            raw = _C.rips_cpu(ref(packed), offsets, dim, distances, metric_code, maxdim, threshold,
                              return_generators, _C.omp_max_threads())
        else:
            nbytes = _C.rips_cuda_workspace(ref(packed), offsets, dim, distances, maxdim)
            workspace = torch.empty(max(int(nbytes), 1), dtype=torch.uint8, device=packed.device)
            raw = _C.rips_cuda(ref(packed), offsets, dim, distances, metric_code, maxdim, threshold,
                               return_generators, ref(workspace), stream_of(packed), _C.omp_max_threads())
        results = _unpack(raw, len(offsets) - 1, maxdim, return_generators)
    return results[0] if single else results


# ---- argument checks -------------------------------------------------------------------------------

def _edge_fraction(cloud: torch.Tensor, distances: bool, metric: int, threshold: float) -> float:
    """Fraction of a cloud's edges of length <= ``threshold``: exact for a matrix, estimated from 4096
    random pairs (fixed seed) for points, with a margin; 1 for an infinite threshold."""
    n = cloud.shape[0]
    if math.isinf(threshold) or n < 2:
        return 1.0
    if distances:
        a = cloud.detach().cpu().numpy()
        return float(np.count_nonzero(np.triu(a <= threshold, 1))) / (n * (n - 1) / 2)
    g = np.random.default_rng(0)
    i, j = g.integers(0, n, 4096), g.integers(0, n, 4096)
    keep = i != j
    p = cloud.detach().cpu().to(torch.float64).numpy()
    diff = np.abs(p[i[keep]] - p[j[keep]])
    d = diff.sum(1) if metric == 1 else diff.max(1) if metric == 2 else np.sqrt((diff * diff).sum(1))
    return min(1.0, float(np.mean(d <= threshold)) * 1.5 + 0.01)


def _check_workspace(clouds, distances: bool, metric: int, maxdim: int, threshold: float, memory_budget) -> None:
    """MemoryError before the CPU engine allocates more than the budget (see ``memory_budget``)."""
    sizes = [int(c.shape[0]) for c in clouds]
    per_cloud = []
    for c, n in zip(clouds, sizes):
        if maxdim == 0 or n < 3:
            per_cloud.append(n * n * 4 if distances else 64 * n)  # a float32 copy of the matrix / Prim's forest
        else:
            edges = n * (n - 1) // 2
            if 16 * edges > (32 << 20):  # only large clouds are worth estimating the columns of
                edges = int(edges * _edge_fraction(c, distances, metric, threshold))
            per_cloud.append(4 * n * n + 16 * edges)  # float32 distances + (up to) one column per edge
    concurrent = max(1, min(len(sizes), int(_C.omp_max_threads())))
    estimate = sum(sorted(per_cloud, reverse=True)[:concurrent])
    largest = max(sizes, default=0)
    ways = [f"use fewer points (the largest cloud has {largest})"]
    if maxdim >= 1:
        ways.append("pass maxdim=0 (H0 needs O(n) memory on point clouds)" if not distances else "pass maxdim=0")
        ways.append("pass a smaller threshold (fewer edges; the n x n distances remain)")
    if concurrent > 1:
        ways.append(f"use fewer OpenMP threads ({concurrent} clouds are held at once)")
    check_memory(estimate, f"vietoris_rips (maxdim={maxdim}, {len(sizes)} cloud(s), up to {largest} points)",
                 "; ".join(ways), memory_budget)


def _check_maxdim(maxdim) -> int:
    maxdim = check(maxdim, "maxdim", Interval(int, 0, None))
    if maxdim not in SUPPORTED_MAXDIM:
        raise NotImplementedError(
            f"argument 'maxdim' = {maxdim}: only H0 and H1 are implemented (maxdim 0 or 1)")
    return maxdim


def _check_threshold(threshold) -> float:
    return check(threshold, "threshold", Interval(float, 0, None, inf=True))


def _check_metric(metric, distances: bool) -> _C.DistanceMetric:
    if not isinstance(metric, str):
        raise TypeError(f"argument 'metric' must be a string, got {type(metric).__name__}")
    key = metric.lower()
    if key not in METRICS:
        raise ValueError(f"argument 'metric' must be one of {sorted(METRICS)}, got {metric!r}")
    if distances and METRICS[key] != _C.DistanceMetric.euclidean:
        raise ValueError("argument 'metric' applies to point input only; with distances=True the "
                         "matrix already holds the distances (leave metric='euclidean')")
    return METRICS[key]


def _as_real(t: torch.Tensor, name: str) -> torch.Tensor:
    if t.dtype in (torch.float32, torch.float64):
        return t
    if t.dtype in (torch.bool, torch.complex64, torch.complex128) or t.is_complex():
        raise TypeError(f"argument '{name}' must hold real numbers (float or integer), got {t.dtype}")
    if t.dtype.is_floating_point:  # float16 / bfloat16
        return t.to(torch.float32)
    return t.to(torch.float64)  # integer coordinates or distances


def _as_clouds(x, distances: bool) -> tuple[list[torch.Tensor], bool, torch.Tensor | None]:
    """The clouds as 2-D tensors, whether the input was a single cloud, and the (B, n, .) tensor
    when the input was one (packed without a per-cloud copy)."""
    what = "(n, n) distance matrices" if distances else "(n, d) point clouds"
    if isinstance(x, (list, tuple)):
        clouds = []
        for i, item in enumerate(x):
            name = f"{_ARG}[{i}]"
            t = _as_real(as_tensor(item, name).detach(), name)  # persistence is not differentiable
            if t.dim() != 2:
                raise ValueError(f"argument '{name}' must have 2 dimensions ({what}), got shape {tuple(t.shape)}")
            clouds.append(t)
        single, whole = False, None
    else:
        t = _as_real(as_tensor(x, _ARG).detach(), _ARG)
        whole = None
        if t.dim() == 2:
            clouds, single = [t], True
        elif t.dim() == 3:
            clouds, single, whole = list(t.unbind(0)), False, t
        else:
            raise ValueError(f"argument '{_ARG}' must have 2 dimensions (one cloud) or 3 (a batch of "
                             f"{what}), got shape {tuple(t.shape)}")
    if clouds:
        check_same_device(*[(f"{_ARG}[{i}]", c) for i, c in enumerate(clouds)])
    for i, c in enumerate(clouds):
        if distances and c.shape[0] != c.shape[1]:
            raise ValueError(f"argument '{_ARG}' must hold square distance matrices with distances=True, "
                             f"got shape {tuple(c.shape)}" + (f" for cloud {i}" if not single else ""))
    if not distances and clouds:
        dims = {c.shape[1] for c in clouds}
        if len(dims) > 1:
            raise ValueError(f"argument '{_ARG}': all clouds must have the same number of coordinates, "
                             f"got {sorted(dims)}")
    return clouds, single, whole


def _pack(clouds: list[torch.Tensor], whole: torch.Tensor | None, distances: bool):
    """One flat buffer of all clouds (float32, or float64 if any cloud is) and the vertex offsets."""
    dtype = torch.float64 if any(c.dtype == torch.float64 for c in clouds) else torch.float32
    offsets = [0]
    for c in clouds:
        offsets.append(offsets[-1] + int(c.shape[0]))
    dim = 0 if distances else int(clouds[0].shape[1])
    if whole is not None:
        packed = whole.to(dtype).reshape(-1).contiguous()
    elif len(clouds) == 1:
        packed = clouds[0].to(dtype).reshape(-1).contiguous()
    else:
        packed = torch.cat([c.to(dtype).reshape(-1) for c in clouds])
    return packed, offsets, dim


def _check_matrices(clouds: list[torch.Tensor]) -> None:
    """Square matrices were checked already; here NaN, negative entries, the diagonal, symmetry
    (numpy on the CPU, see the note in vietoris_rips; torch on CUDA)."""
    for i, m in enumerate(clouds):
        where = f" (cloud {i})" if len(clouds) > 1 else ""
        if m.numel() == 0:
            continue
        xp = torch if m.is_cuda else np
        a = m if m.is_cuda else m.numpy()
        if bool(xp.isnan(a).any()):
            raise ValueError(f"argument '{_ARG}'{where} contains NaN distances")
        if bool((a < 0).any()):
            raise ValueError(f"argument '{_ARG}'{where} contains negative distances")
        if bool((xp.diagonal(a) != 0).any()):
            raise ValueError(f"argument '{_ARG}'{where} must be a distance matrix with a zero diagonal")
        b = a.T
        # equal entries (inf == inf included) are symmetric; unequal ones must be finite and within the
        # tolerance (relative to an inf entry, every difference once passed: [[0, inf], [5, 0]])
        finite = xp.isfinite(a) & xp.isfinite(b)
        fa, fb = xp.where(finite, a, 0), xp.where(finite, b, 0)  # no inf - inf on the way
        tol = 1e-5 * xp.maximum(xp.abs(fa), xp.abs(fb))
        bad = (a != b) & ~(finite & (xp.abs(fa - fb) <= tol))
        if bool(bad.any()):
            i0, j0 = (int(v) for v in xp.argwhere(bad)[0])
            raise ValueError(f"argument '{_ARG}'{where} must be a symmetric distance matrix: "
                             f"D[{i0}, {j0}] = {float(a[i0, j0])} but D[{j0}, {i0}] = {float(a[j0, i0])}")


# ---- backends -------------------------------------------------------------------------------------

def _unpack(raw: dict, count: int, maxdim: int, generators: bool) -> list[Diagrams]:
    off0, off1 = raw["off0"].tolist(), raw["off1"].tolist()
    d0, d1 = raw["dgm0"], raw["dgm1"]
    g0, g1 = raw.get("gen0"), raw.get("gen1")
    out = []
    for b in range(count):
        dgms = [d0[off0[b]:off0[b + 1]]]
        gens = [g0[off0[b]:off0[b + 1]]] if generators else None
        if maxdim >= 1:
            dgms.append(d1[off1[b]:off1[b + 1]])
            if generators:
                gens.append(g1[off1[b]:off1[b + 1]])
        out.append(Diagrams(dgms, gens))
    return out


def _run_reference(clouds, distances: bool, metric, maxdim: int, threshold: float,
                   generators: bool) -> list[Diagrams]:
    from pydisent.topology._reference import distance_matrix, rips_reference

    out = []
    for c in clouds:
        if c.shape[0] == 0:
            out.append(empty_diagrams(maxdim, generators))
            continue
        a = c.detach().cpu().numpy()
        if distances:
            iu = np.triu_indices(a.shape[0], 1)
            D = np.zeros(a.shape, dtype=np.float32)
            D[iu] = a[iu].astype(np.float32)
            D = D + D.T
        else:
            D = distance_matrix(a, metric)
        dgms, gens = rips_reference(D, maxdim, threshold)
        out.append(Diagrams(dgms, gens if generators else None))
    return out
