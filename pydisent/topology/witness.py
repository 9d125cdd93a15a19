"""Witness complexes (weak relaxed and strong, as gudhi builds them) and their persistence, batched.

A witness complex is built on a small set of *landmarks* ``L`` (here: indices into the cloud)
and *witnessed* by all points ``W`` of the cloud, through the nearest-landmark table
``t(w, l)`` (a distance from witness ``w`` to landmark ``l``). Up to dimension 2 (vertices, edges,
triangles: enough for H0 and H1), truncated at ``max_alpha_square``:

* **weak relaxed** (``gudhi.WitnessComplex``; de Silva 2008, Boissonnat-Guibas-Oudot's
  relaxation): ``sigma`` is alpha-witnessed by ``w`` when
  ``max_{l in sigma} t(w, l) <= min_{l' not in sigma} t(w, l') + alpha``. A simplex enters when
  all its facets are in and some witness alpha-witnesses it with ``alpha <= max_alpha_square``;
  its filtration value is ``max(max over facets, min_w max(0, max_sigma t(w, .) - min_{not sigma} t(w, .)))``
  (vertices included: a vertex that is nobody's nearest landmark enters late).
* **strong** (``gudhi.StrongWitnessComplex``): ``sigma`` enters at
  ``min_w (max_{l in sigma} t(w, l) - min_l t(w, l))`` over the witnesses whose whole ``sigma`` lies
  strictly inside ``t(w, l) < min_l t(w, l) + max_alpha_square`` (gudhi rounds that bound to
  float32; so does pydisent).

Both are NOT flag complexes: triangles carry their own values. gudhi's documentation expects
*squared* distances in the table (``squared=True``, ``max_alpha_square`` then squared too); the
Geometry Score (Khrulkov & Oseledets, ICML 2018) and Zhou et al. (ICLR 2021) code pass *plain*
Euclidean distances and a plain ``alpha_max`` (``squared=False``, the default here, what their
metrics use). Persistence is over Z/2; zero-length bars are dropped, as gudhi does.

Landmarks are drawn by the caller or with :func:`draw_landmarks` (with replacement by default, the
reference behaviour: duplicated landmarks are distinct vertices at the same place). All draws of a cloud go
to the engine in one call (:func:`witness_persistence`, :func:`witness_persistence_packed`), several clouds
too (:func:`witness_persistence_clouds`); :func:`witness_filtration` returns the explicit filtrations and
:func:`pydisent.topology.filtration_persistence` computes the diagrams of any such filtration.

Two faster variants that are *different methods* (not equal to the reference) sit on the
Vietoris-Rips engine: :func:`lazy_witness_persistence` (the flag complex of the lazy witness
edges, de Silva & Carlsson 2004) and :func:`landmark_rips_persistence` (Vietoris-Rips of the
landmark points alone).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

import numpy as np
import torch

from pydisent._rng import as_rng
from pydisent._validation import as_tensor, check_backend
from pydisent.topology.diagrams import Diagrams

BACKENDS = ("auto", "cpu", "cuda", "reference", "gudhi")
_LIMIT_DIMENSION = 2
#: Landmarks per draw the engine takes (edge tables are dense per draw).
MAX_LANDMARKS = 8192


class WitnessDiagrams(Diagrams):
    """:class:`Diagrams` ``[H0, H1]`` of one witness complex, plus the truncation it was built with.

    ``max_alpha_square`` is the relaxation bound actually used (in table units: plain distances
    with ``squared=False``, squared distances with ``squared=True``); RLT-style summaries cut
    infinite bars there.
    """

    __slots__ = ("max_alpha_square",)

    def __init__(self, dgms, max_alpha_square: float):
        super().__init__(dgms, None)
        self.max_alpha_square = float(max_alpha_square)

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f"; max_alpha_square={self.max_alpha_square:g})"


@dataclass(frozen=True)
class PackedDiagrams:
    """All diagrams of a batch in flat arrays (what batched summaries such as RLT consume).

    Complex ``c`` (draws in order; for several clouds cloud-major, ``c = cloud * B + draw``) owns rows
    ``h0[off0[c]:off0[c + 1]]`` and ``h1[off1[c]:off1[c + 1]]`` (float64 ``(K, 2)`` birth/death pairs,
    ``inf`` deaths for essential classes); ``max_alpha_square[c]`` is its truncation.
    """

    h0: np.ndarray
    off0: np.ndarray
    h1: np.ndarray
    off1: np.ndarray
    max_alpha_square: np.ndarray

    @property
    def count(self) -> int:
        return len(self.off0) - 1

    def diagrams(self) -> list[WitnessDiagrams]:
        o0, o1 = self.off0.tolist(), self.off1.tolist()
        return [WitnessDiagrams([self.h0[o0[c]:o0[c + 1]], self.h1[o1[c]:o1[c + 1]]], self.max_alpha_square[c])
                for c in range(self.count)]


@dataclass(frozen=True)
class WitnessFiltration:
    """The explicit filtration of one witness complex (dimension <= 2).

    ``simplices[k]`` is an int64 ``(n_k, k + 1)`` array of landmark positions (increasing within a
    row, rows in lexicographic order) and ``values[k]`` the float64 filtration values, row for row.
    Vertex ``i`` is the ``i``-th landmark of the draw (duplicated landmarks are distinct vertices).
    """

    simplices: tuple[np.ndarray, np.ndarray, np.ndarray]
    values: tuple[np.ndarray, np.ndarray, np.ndarray]
    max_alpha_square: float

    def as_dict(self) -> dict[tuple[int, ...], float]:
        """``{simplex tuple: value}``, e.g. to compare with ``gudhi.SimplexTree.get_filtration()``."""
        out = {}
        for s, v in zip(self.simplices, self.values):
            for row, val in zip(s.tolist(), v.tolist()):
                out[tuple(row)] = val
        return out


# ---- landmarks ------------------------------------------------------------------------------------

def draw_landmarks(n_points: int, num_landmarks: int, num_draws: int | None = None, rng=None,
                   replace: bool = True) -> np.ndarray:
    """Landmark indices into a cloud of ``n_points``: ``(num_landmarks,)`` or ``(num_draws, num_landmarks)``.

    ``replace=True`` (default) is the reference behaviour (``np.random.choice(N, L0)`` in the
    Geometry Score and Zhou et al. code): independent uniform indices, so duplicates occur and a
    draw has fewer than ``num_landmarks`` distinct landmarks. ``replace=False`` draws distinct
    indices per draw (needs ``num_landmarks <= n_points``). ``rng``: a seed, ``numpy.random.Generator``
    or ``RandomState``; draws are taken in order from it.
    """
    n = _check_int(n_points, "n_points", 1)
    m = _check_int(num_landmarks, "num_landmarks", 1)
    b = None if num_draws is None else _check_int(num_draws, "num_draws", 0)
    if not isinstance(replace, (bool, np.bool_)):
        raise TypeError(f"argument 'replace' must be a bool, got {type(replace).__name__}")
    if not replace and m > n:
        raise ValueError(f"argument 'num_landmarks' = {m} exceeds 'n_points' = {n}: cannot draw that many "
                         "distinct landmarks without replacement (use replace=True)")
    g = as_rng(rng)
    rows = 1 if b is None else b
    if replace:
        if isinstance(g, np.random.RandomState):
            out = g.randint(0, n, size=(rows, m))
        else:
            out = g.integers(0, n, size=(rows, m))
    else:
        out = np.stack([g.choice(n, size=m, replace=False) for _ in range(rows)]) if rows else np.zeros((0, m))
    out = np.asarray(out, dtype=np.int64).reshape(rows, m)
    return out[0] if b is None else out


# ---- the table ------------------------------------------------------------------------------------

def landmark_distances(points, landmarks, *, squared: bool = False) -> np.ndarray:
    """The witness-to-landmark table ``t[w, l]`` of one draw as float64 ``(N, L)`` (unsorted).

    ``t = sqrt(sum_q (x_wq - x_lq)^2)`` accumulated in float64 in coordinate order (``squared=True``:
    without the square root); the C++ engine computes the very same numbers.
    """
    x = _host(_points(points))
    idx = _landmarks(landmarks, x.shape[0])
    if idx.ndim != 1:
        raise ValueError(f"argument 'landmarks' must have shape (L,) here, got {idx.shape}")
    _check_bool(squared, "squared")
    from pydisent import _C
    from pydisent._dispatch import ref

    pts = torch.from_numpy(np.ascontiguousarray(x))
    lm = torch.from_numpy(np.ascontiguousarray(idx[None]))
    return _C.witness_table(ref(pts), ref(lm), bool(squared))


def nearest_landmark_table(points, landmarks, *, squared: bool = False):
    """gudhi's ``nearest_landmark_table`` of one draw: for every witness the list of
    ``(landmark position, distance)`` pairs sorted by distance (ties by position).

    Pass it to ``gudhi.WitnessComplex(nearest_landmark_table=...)`` to build the reference complex
    from exactly the numbers pydisent uses.
    """
    t = landmark_distances(points, landmarks, squared=squared)
    order = np.argsort(t, axis=1, kind="stable")
    dist = np.take_along_axis(t, order, axis=1)
    return [list(zip(o.tolist(), d.tolist())) for o, d in zip(order, dist)]


# ---- the complexes --------------------------------------------------------------------------------

def witness_persistence(points, landmarks, *, strong: bool = False, max_alpha_square=math.inf,
                        relative_alpha: float | None = None, squared: bool = False, maxdim: int = 1,
                        persistence_dim_max: bool = False, backend: str = "auto"):
    """Persistence diagrams (H0, H1 over Z/2) of witness complexes of one cloud, one call for all draws.

    Args:
        points: the witnesses, ``(N, d)`` (tensor or array; float or integer).
        landmarks: landmark indices into ``points``: ``(L,)`` for one complex or ``(B, L)`` for ``B``
            draws (see :func:`draw_landmarks`); duplicates allowed.
        strong: ``False`` (default): gudhi's weak relaxed ``WitnessComplex``; ``True``: its
            ``StrongWitnessComplex``.
        max_alpha_square: the truncation, in table units (a float, or one per draw ``(B,)``).
        relative_alpha: if given, the truncation of each draw is ``relative_alpha * max_{w, l} t(w, l)``
            of that draw's table (the Geometry Score's ``alpha_max = gamma * max``); then
            ``max_alpha_square`` must be left at ``inf``.
        squared: table convention: ``False`` plain distances (GS / Zhou et al., default), ``True``
            squared distances (gudhi's documentation).
        maxdim: 0 or 1.
        persistence_dim_max: gudhi's flag of the same name. ``False`` (default; what the reference code
            runs, gudhi's default) leaves out the homology of the complex's top dimension: a complex
            without triangles reports no H1 bar at all (even when its edges close cycles) and one
            without edges no H0 bar. ``True`` reports every H0/H1 bar (the complete diagrams).
        backend: ``"auto"`` (the C++ engine on the device of ``points``), ``"cpu"``, ``"cuda"``, or
            ``"reference"`` (alias ``"gudhi"``: gudhi called once per draw, the reference;
            needs the test extra).

    Returns:
        :class:`WitnessDiagrams` for ``(L,)`` landmarks, a list of them for ``(B, L)``. Bars are
        (birth, death) with ``inf`` for essential classes; H0 births are the vertices' values.
        Rows are in a canonical order: H0 by (death, birth), H1 by (birth, death).
    """
    packed, single = _run(points, landmarks, strong, max_alpha_square, relative_alpha, squared, maxdim,
                          persistence_dim_max, backend)
    out = packed.diagrams()
    if maxdim == 0:
        for d in out:
            d.dgms = d.dgms[:1]
    return out[0] if single else out


def witness_persistence_packed(points, landmarks, *, strong: bool = False, max_alpha_square=math.inf,
                               relative_alpha: float | None = None, squared: bool = False, maxdim: int = 1,
                               persistence_dim_max: bool = False, backend: str = "auto") -> PackedDiagrams:
    """:func:`witness_persistence` with the diagrams of all draws in flat arrays (:class:`PackedDiagrams`)."""
    return _run(points, landmarks, strong, max_alpha_square, relative_alpha, squared, maxdim,
                persistence_dim_max, backend)[0]


def witness_persistence_clouds(clouds, landmarks, *, strong: bool = False, max_alpha_square: float = math.inf,
                               relative_alpha: float | None = None, squared: bool = False, maxdim: int = 1,
                               persistence_dim_max: bool = False, backend: str = "auto") -> PackedDiagrams:
    """:func:`witness_persistence_packed` for several clouds in ONE engine call (e.g. all conditional
    submanifolds of a model): ``clouds`` is ``(C, N, d)`` or a list of ``(N_c, d)`` clouds, ``landmarks`` a
    ``(C, B, L)`` array or a list of ``(B_c, L)`` index arrays (same ``L``; indices into their own cloud).
    Complexes are numbered cloud-major (``c = sum_{c' < cloud} B_c' + draw``); ``max_alpha_square`` is one
    number here (or use ``relative_alpha``). Results equal per-cloud calls.
    """
    if isinstance(clouds, (list, tuple)):
        xs = [_points(c) for c in clouds]
    else:
        t = as_tensor(clouds, "clouds")
        if t.dim() != 3:
            raise ValueError(f"argument 'clouds' must have 3 dimensions (C, N, d) or be a list of (N, d) clouds, "
                             f"got shape {tuple(t.shape)}")
        xs = [_points(c) for c in t.unbind(0)]
    if isinstance(landmarks, (list, tuple)):
        lms = list(landmarks)
    else:
        t = as_tensor(landmarks, "landmarks")
        if t.dim() != 3:
            raise ValueError(f"argument 'landmarks' must have shape (C, B, L) or be a list of (B, L) arrays, "
                             f"got shape {tuple(t.shape)}")
        lms = list(t.unbind(0))
    if len(lms) != len(xs):
        raise ValueError(f"argument 'landmarks' must hold one (B, L) array per cloud: {len(xs)} clouds, "
                         f"{len(lms)} landmark arrays")
    if not xs:
        return PackedDiagrams(np.zeros((0, 2)), np.zeros(1, np.int64), np.zeros((0, 2)), np.zeros(1, np.int64),
                              np.zeros(0))
    dims = {x.shape[1] for x in xs}
    if len(dims) > 1:
        raise ValueError(f"argument 'clouds': all clouds must have the same number of coordinates, got {sorted(dims)}")
    idxs = []
    for x, lm in zip(xs, lms):
        i = _landmarks(lm, x.shape[0])
        idxs.append(i[None] if i.ndim == 1 else i)
    Ls = {i.shape[1] for i in idxs}
    if len(Ls) > 1:
        raise ValueError(f"argument 'landmarks': every draw needs the same number of landmarks, got {sorted(Ls)}")
    backend = _check_backend(backend, xs[0])
    if backend in ("reference", "_emulated_gpu") or not np.isscalar(max_alpha_square):
        parts = [_run(x, i, strong, max_alpha_square, relative_alpha, squared, maxdim, persistence_dim_max,
                      backend)[0] for x, i in zip(xs, idxs)]
        return _concat_packed(parts)
    # validate the scalar options once, on the first cloud
    _run(xs[0], idxs[0][:0], strong, max_alpha_square, relative_alpha, squared, maxdim, persistence_dim_max, backend)
    B = sum(i.shape[0] for i in idxs)
    alpha, relative = _engine_alpha(B, max_alpha_square, relative_alpha)
    offsets = np.cumsum([0] + [x.shape[0] for x in xs]).tolist()
    cloud_of = np.repeat(np.arange(len(xs)), [i.shape[0] for i in idxs])
    if backend == "cuda":
        x = torch.cat([c.to(torch.float64) for c in xs]).contiguous()
    else:
        x = np.concatenate([_host(c) for c in xs])
    raw = _engine(x, np.concatenate(idxs), alpha, relative, strong, squared, maxdim, False, backend,
                  persistence_dim_max, offsets=offsets, cloud_of=cloud_of)
    return PackedDiagrams(raw["dgm0"], raw["off0"], raw["dgm1"], raw["off1"], raw["alpha"])


def _concat_packed(parts: list[PackedDiagrams]) -> PackedDiagrams:
    h0 = np.concatenate([p.h0 for p in parts])
    h1 = np.concatenate([p.h1 for p in parts])
    o0, o1 = [np.zeros(1, np.int64)], [np.zeros(1, np.int64)]
    b0 = b1 = 0
    for p in parts:
        o0.append(p.off0[1:] + b0)
        o1.append(p.off1[1:] + b1)
        b0 += int(p.off0[-1])
        b1 += int(p.off1[-1])
    return PackedDiagrams(h0, np.concatenate(o0), h1, np.concatenate(o1),
                          np.concatenate([p.max_alpha_square for p in parts]))


def witness_filtration(points, landmarks, *, strong: bool = False, max_alpha_square=math.inf,
                       relative_alpha: float | None = None, squared: bool = False, backend: str = "auto"):
    """The explicit filtration (:class:`WitnessFiltration`) of the witness complex of each draw.

    Same arguments as :func:`witness_persistence`; a list for ``(B, L)`` landmarks.
    """
    x = _points(points)
    idx = _landmarks(landmarks, x.shape[0])
    single = idx.ndim == 1
    idx2 = idx.reshape(-1, idx.shape[-1]) if not single else idx[None]
    _check_bool(strong, "strong")
    _check_bool(squared, "squared")
    backend = _check_backend(backend, x)
    if backend != "cuda":
        x = _host(x)
    if backend == "reference":
        alphas = _alphas(x, idx2, max_alpha_square, relative_alpha, squared)
        out = []
        for b in range(idx2.shape[0]):
            st = _gudhi_tree(x, idx2[b], strong, float(alphas[b]), squared)
            out.append(_filtration_of_tree(st, float(alphas[b])))
        return out[0] if single else out
    alpha, relative = _engine_alpha(idx2.shape[0], max_alpha_square, relative_alpha)
    raw = _engine(x, idx2, alpha, relative, strong, squared, 1, True, backend)
    out = []
    for b in range(idx2.shape[0]):
        simplices, values = [], []
        for k in range(3):
            o = raw[f"off{k}"]
            s_ = raw[f"simplices{k}"][o[b]:o[b + 1]]
            v_ = raw[f"values{k}"][o[b]:o[b + 1]]
            order = np.lexsort(s_.T[::-1]) if len(s_) else np.zeros(0, np.int64)
            simplices.append(s_[order])
            values.append(v_[order])
        out.append(WitnessFiltration(tuple(simplices), tuple(values), float(raw["alpha"][b])))
    return out[0] if single else out


# ---- variants on the Vietoris-Rips engine (different methods, faster) ------------------------------

def lazy_witness_persistence(points, landmarks, *, nu: int = 2, squared: bool = False, maxdim: int = 1,
                             backend: str = "auto"):
    """Persistence of the lazy witness complex (de Silva & Carlsson, 2004): NOT the reference complex.

    The flag complex of the landmarks with edge values
    ``e(a, b) = max(0, min_w (max(t(w, a), t(w, b)) - m_nu(w)))``, ``m_nu(w)`` the ``nu``-th smallest
    entry of ``w``'s row (``m_0 = 0``), vertices at 0; computed with
    :func:`pydisent.topology.vietoris_rips` on that matrix (float32 values). Faster than the
    witness complex and often close in H1, but a different filtration.
    """
    from pydisent.topology.rips import vietoris_rips

    x = _host(_points(points))
    idx = _landmarks(landmarks, x.shape[0])
    nu = _check_int(nu, "nu", 0)
    _check_bool(squared, "squared")
    single = idx.ndim == 1
    idx2 = idx[None] if single else idx
    mats = []
    for b in range(idx2.shape[0]):
        t = torch.from_numpy(_table(x, idx2[b], squared))
        L = t.shape[1]
        if nu > L:
            raise ValueError(f"argument 'nu' = {nu} exceeds the number of landmarks {L}")
        m = torch.zeros(t.shape[0], dtype=t.dtype) if nu == 0 else torch.kthvalue(t, nu, dim=1).values
        e = torch.full((L, L), math.inf, dtype=t.dtype)
        for a in range(L):  # L passes of (N, L): fine for the landmark counts this is meant for
            e[a] = (torch.maximum(t[:, a:a + 1], t) - m[:, None]).min(dim=0).values
        e = e.clamp_min(0)
        e.fill_diagonal_(0)
        mats.append(e)
    res = vietoris_rips(torch.stack(mats) if mats else torch.zeros(0, 0, 0), maxdim=maxdim, distances=True,
                        backend="cpu" if backend in ("auto", "cpu") else backend)
    return res[0] if single else res


def landmark_rips_persistence(points, landmarks, *, maxdim: int = 1, backend: str = "auto"):
    """Vietoris-Rips persistence of the landmark points alone: NOT the reference complex.

    The cheapest stand-in (no witnesses at all): :func:`pydisent.topology.vietoris_rips` of
    ``points[landmarks]`` (duplicated landmarks give zero-length edges). Values are Euclidean
    distances (float32), not relaxation values, so RLTs built from it differ from the reference.
    """
    from pydisent.topology.rips import vietoris_rips

    x = _points(points)
    idx = _landmarks(landmarks, x.shape[0])
    single = idx.ndim == 1
    idx2 = idx[None] if single else idx
    clouds = x[torch.from_numpy(idx2).to(x.device)] if isinstance(x, torch.Tensor) else torch.from_numpy(x[idx2])
    res = vietoris_rips(clouds, maxdim=maxdim, backend=backend)
    return res[0] if single else res


# ---- internals ------------------------------------------------------------------------------------

def _check_int(v, name: str, minimum: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"argument '{name}' must be an integer, got {type(v).__name__}")
    if v < minimum:
        raise ValueError(f"argument '{name}' must be >= {minimum}, got {v}")
    return int(v)


def _check_bool(v, name: str) -> bool:
    if not isinstance(v, (bool, np.bool_)):
        raise TypeError(f"argument '{name}' must be a bool, got {type(v).__name__}")
    return bool(v)


def _check_backend(backend, x) -> str:
    """The backend for points ``x`` (ndarray on the host, or a CUDA tensor). ``"gudhi"`` is an alias of
    ``"reference"`` (the reference *is* gudhi); ``"_emulated_gpu"`` (tests) runs the CUDA data flow on the CPU."""
    if backend == "_emulated_gpu":
        return backend
    backend = check_backend(backend, BACKENDS)
    if backend == "gudhi":
        backend = "reference"
    if backend in ("auto", "cpu", "cuda"):
        from pydisent._dispatch import resolve_backend

        backend = resolve_backend(backend, x if isinstance(x, torch.Tensor) else torch.empty(0))
    return backend


def _host(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else x


def _points(points):
    """float64 points: an ndarray on the host, or a CUDA tensor (kept on its device)."""
    t = as_tensor(points, "points")
    if t.dtype in (torch.bool, torch.complex64, torch.complex128):
        raise TypeError(f"argument 'points' must hold real numbers (float or integer), got {t.dtype}")
    if t.dim() != 2:
        raise ValueError(f"argument 'points' must have 2 dimensions (N witnesses, d coordinates), "
                         f"got shape {tuple(t.shape)}")
    if t.shape[0] == 0:
        raise ValueError("argument 'points' must hold at least one point, got 0")
    if t.is_cuda:
        x = t.detach().to(torch.float64).contiguous()
        if not bool(torch.isfinite(x).all()):
            raise ValueError("argument 'points' contains NaN or infinite values")
        return x
    x = t.detach().to(torch.float64).numpy()
    if not np.isfinite(x).all():
        raise ValueError("argument 'points' contains NaN or infinite values")
    return x


def _landmarks(landmarks, n: int) -> np.ndarray:
    t = as_tensor(landmarks, "landmarks")
    if t.dtype.is_floating_point or t.dtype in (torch.bool, torch.complex64, torch.complex128):
        raise TypeError(f"argument 'landmarks' must hold integer indices into 'points', got {t.dtype}")
    if t.dim() not in (1, 2):
        raise ValueError(f"argument 'landmarks' must have shape (L,) or (B, L) (indices into 'points'), "
                         f"got shape {tuple(t.shape)}")
    idx = t.detach().cpu().to(torch.int64).numpy()
    if idx.shape[-1] == 0:
        raise ValueError("argument 'landmarks' must hold at least one landmark per draw, got L = 0")
    if idx.shape[-1] > MAX_LANDMARKS:
        raise ValueError(f"argument 'landmarks': at most {MAX_LANDMARKS} landmarks per draw, got {idx.shape[-1]}")
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = int(idx[(idx < 0) | (idx >= n)].flat[0])
        raise ValueError(f"argument 'landmarks' holds index {bad}, out of range for {n} points")
    return idx


def _table(x: np.ndarray, idx: np.ndarray, squared: bool) -> np.ndarray:
    lm = x[idx]
    acc = np.zeros((x.shape[0], lm.shape[0]), dtype=np.float64)
    for q in range(x.shape[1]):  # coordinate order, as the engine accumulates
        diff = x[:, q, None] - lm[None, :, q]
        acc += diff * diff
    return acc if squared else np.sqrt(acc)


def _alphas(x, idx2, max_alpha_square, relative_alpha, squared) -> np.ndarray:
    B = idx2.shape[0]
    if relative_alpha is not None:
        if isinstance(relative_alpha, bool) or not isinstance(relative_alpha, Real):
            raise TypeError(f"argument 'relative_alpha' must be a real number, got {type(relative_alpha).__name__}")
        r = float(relative_alpha)
        if not (r > 0) or math.isinf(r):
            raise ValueError(f"argument 'relative_alpha' must be > 0 and finite, got {relative_alpha}")
        if not (np.isscalar(max_alpha_square) and math.isinf(float(max_alpha_square))):
            raise ValueError("give either 'max_alpha_square' or 'relative_alpha', not both")
        return np.array([r * _table(x, idx2[b], squared).max() for b in range(B)], dtype=np.float64)
    if isinstance(max_alpha_square, bool):
        raise TypeError("argument 'max_alpha_square' must be a real number or an array of them, got bool")
    a = np.asarray(max_alpha_square)
    if a.dtype.kind not in "fiu" or a.dtype == np.bool_:
        raise TypeError(f"argument 'max_alpha_square' must be a real number or an array of them, got {a.dtype}")
    a = a.astype(np.float64)
    if a.ndim == 0:
        a = np.full(B, float(a))
    elif a.shape != (B,):
        raise ValueError(f"argument 'max_alpha_square' must be a number or have shape ({B},) (one per draw), "
                         f"got shape {a.shape}")
    if np.isnan(a).any() or (a < 0).any():
        raise ValueError(f"argument 'max_alpha_square' must be >= 0 (or inf), got {a[np.isnan(a) | (a < 0)][0]}")
    return a


def _import_gudhi():
    try:
        import gudhi
    except ImportError as e:  # pragma: no cover - gudhi is in the test extra
        raise ImportError("backend='reference' needs the gudhi package (pip install gudhi; it is in "
                          "pydisent's 'test' extra)") from e
    return gudhi


def _gudhi_tree(x, idx, strong: bool, alpha: float, squared: bool):
    gudhi = _import_gudhi()
    t = _table(x, idx, squared)
    order = np.argsort(t, axis=1, kind="stable")
    dist = np.take_along_axis(t, order, axis=1)
    table = [list(zip(o.tolist(), d.tolist())) for o, d in zip(order, dist)]
    cls = gudhi.StrongWitnessComplex if strong else gudhi.WitnessComplex
    return cls(nearest_landmark_table=table).create_simplex_tree(max_alpha_square=alpha,
                                                                 limit_dimension=_LIMIT_DIMENSION)


def _filtration_of_tree(st, alpha: float) -> WitnessFiltration:
    by_dim = {0: [], 1: [], 2: []}
    for s, f in st.get_filtration():
        by_dim[len(s) - 1].append((tuple(sorted(s)), f))
    simplices, values = [], []
    for k in range(3):
        rows = sorted(by_dim[k])
        simplices.append(np.array([r for r, _ in rows], dtype=np.int64).reshape(-1, k + 1))
        values.append(np.array([v for _, v in rows], dtype=np.float64))
    return WitnessFiltration(tuple(simplices), tuple(values), alpha)


def _gudhi_diagrams(st, maxdim: int, dim_max: bool):
    st.persistence(homology_coeff_field=2, min_persistence=0, persistence_dim_max=dim_max)
    out = []
    for k in range(maxdim + 1):
        d = np.asarray(st.persistence_intervals_in_dimension(k), dtype=np.float64).reshape(-1, 2)
        out.append(d)
    if maxdim == 0:
        out.append(np.zeros((0, 2)))
    return out


def _run(points, landmarks, strong, max_alpha_square, relative_alpha, squared, maxdim, dim_max, backend):
    x = _points(points)
    idx = _landmarks(landmarks, x.shape[0])
    _check_bool(strong, "strong")
    _check_bool(squared, "squared")
    dim_max = _check_bool(dim_max, "persistence_dim_max")
    if isinstance(maxdim, bool) or not isinstance(maxdim, (int, np.integer)):
        raise TypeError(f"argument 'maxdim' must be an integer, got {type(maxdim).__name__}")
    if maxdim not in (0, 1):
        if maxdim < 0:
            raise ValueError(f"argument 'maxdim' must be >= 0, got {maxdim}")
        raise NotImplementedError(f"argument 'maxdim' = {maxdim}: only H0 and H1 are implemented (maxdim 0 or 1)")
    backend = _check_backend(backend, x)
    if backend != "cuda":
        x = _host(x)
    single = idx.ndim == 1
    idx2 = idx[None] if single else idx
    if backend == "reference":
        alphas = _alphas(x, idx2, max_alpha_square, relative_alpha, squared)
        return _run_gudhi(x, idx2, strong, alphas, squared, maxdim, dim_max), single
    alpha, relative = _engine_alpha(idx2.shape[0], max_alpha_square, relative_alpha)
    raw = _engine(x, idx2, alpha, relative, strong, squared, maxdim, False, backend, dim_max)
    packed = PackedDiagrams(raw["dgm0"], raw["off0"], raw["dgm1"], raw["off1"], raw["alpha"])
    return packed, single


def _engine_alpha(B, max_alpha_square, relative_alpha):
    """(alpha array or None, relative factor) as the engine takes them (checked like _alphas)."""
    if relative_alpha is not None:
        _alphas(np.zeros((1, 1)), np.zeros((0, 1), np.int64), max_alpha_square, relative_alpha, False)
        return None, float(relative_alpha)
    return _alphas(None, np.zeros((B, 1), np.int64), max_alpha_square, None, False), 0.0


def _engine(x, idx2, alpha, relative, strong, squared, maxdim, filtration, backend, dim_max=True, offsets=None,
            cloud_of=None):
    from pydisent import _C
    from pydisent._dispatch import ref, stream_of

    lm = torch.from_numpy(np.ascontiguousarray(idx2, dtype=np.int64))
    if cloud_of is None:
        cloud = torch.zeros(idx2.shape[0], dtype=torch.int64)
        offsets = [0, int(x.shape[0])]
    else:
        cloud = torch.from_numpy(np.ascontiguousarray(cloud_of, dtype=np.int64))
    a = None if alpha is None else ref(torch.from_numpy(np.ascontiguousarray(alpha, dtype=np.float64)))
    args = (bool(strong), bool(squared), bool(dim_max), int(maxdim), bool(filtration))
    if backend == "cuda":
        pts = x if isinstance(x, torch.Tensor) else torch.from_numpy(x)
        pts = pts.to(torch.float64).contiguous()
        return _C.witness_cuda(ref(pts), offsets, ref(lm), ref(cloud), a, relative, *args,
                               stream_of(pts), _C.omp_max_threads())
    pts = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))
    fn = _C._witness_emulated_gpu_flow if backend == "_emulated_gpu" else _C.witness_cpu
    return fn(ref(pts), offsets, ref(lm), ref(cloud), a, relative, *args, _C.omp_max_threads())


def _run_gudhi(x, idx2, strong, alphas, squared, maxdim, dim_max) -> PackedDiagrams:
    h0, h1, off0, off1 = [], [], [0], [0]
    for b in range(idx2.shape[0]):
        st = _gudhi_tree(x, idx2[b], strong, float(alphas[b]), squared)
        d0, d1 = _gudhi_diagrams(st, maxdim, dim_max)
        h0.append(_sort_h0(d0))
        h1.append(_sort_h1(d1))
        off0.append(off0[-1] + len(d0))
        off1.append(off1[-1] + len(d1))
    cat = lambda parts: np.concatenate(parts) if parts else np.zeros((0, 2))  # noqa: E731
    return PackedDiagrams(cat(h0), np.asarray(off0, np.int64), cat(h1), np.asarray(off1, np.int64), alphas)


def _sort_h1(d: np.ndarray) -> np.ndarray:
    """H1 rows by (birth, death): a canonical order independent of the engine."""
    if len(d) == 0:
        return d.reshape(0, 2)
    return d[np.lexsort((d[:, 1], d[:, 0]))]


def _sort_h0(d: np.ndarray) -> np.ndarray:
    """H0 rows by (death, birth), infinite bars last: a canonical order independent of the engine."""
    if len(d) == 0:
        return d.reshape(0, 2)
    order = np.lexsort((d[:, 0], d[:, 1]))
    return d[order]
