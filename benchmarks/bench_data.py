"""Dataset generation speed: images per second for each procedural dataset, the DataLoader path and
array-backed gathers.

Implementations per case:

* ``pydisent``: the dataset's default renderer (C++/OpenMP on CPU; CUDA with ``--device cuda``);
* ``torch-ref``: the same dataset with ``backend="torch"`` (the vectorised reference the tests use);
* ``disent``: the installed disent package, one ``dataset[i]`` per image then ``np.stack`` (its
  metrics and samplers build batches this way); when disent is not importable, ``loop`` runs the
  same per-image definition written out in numpy;
* ``per-item``: a ``DataLoader`` over a dataset without ``__getitems__`` (one render + conversion per
  item, then ``default_collate``), the path disent's ``DisentDataset`` takes.

Each case name carries the image count ``n``; images/s = n / median seconds (also in the JSON rows
as ``images``).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from benchmarks.harness import Case
from pydisent.data import DSprites, XYObject, XYObjectShaded, XYSquares
from pydisent.data.dsprites import ORIENTATIONS, POSITIONS, SCALES
from pydisent.data.factors import FactorSpace
from pydisent.data.public import ArrayDataset
from tests._references.disent import import_disent_data


def _disent_data():
    """disent.dataset.data if installed, else None."""
    return import_disent_data()


# -- per-image loops (disent's _get_observation, written out) -------------------------------------
def _loop_xysquares(ds: XYSquares, factors):
    out = []
    for f in factors:
        obs = np.zeros(ds.raw_shape, dtype=np.uint8)
        for i in range(ds.num_squares):
            x, y = ds.offset + ds.grid_spacing * f[2 * i], ds.offset + ds.grid_spacing * f[2 * i + 1]
            s = ds.square_size
            if ds.rgb:
                obs[y:y + s, x:x + s, i] = ds.fill_value
            else:
                obs[y:y + s, x:x + s, :] = ds.fill_value
        out.append(obs)
    return np.stack(out)


def _loop_xyobject(ds: XYObject, factors):
    out = []
    for f in factors:
        rects, colors = ds.rects(f[None])
        y, x, h, w = rects[0, 0]
        obs = np.zeros(ds.raw_shape, dtype=np.uint8)
        obs[y:y + h, x:x + w] = colors[0, 0]
        out.append(obs)
    return np.stack(out)


def _loop_dsprites(ds: DSprites, factors):
    # the same pixel-centre test as the renderer, one image at a time
    g = ds.geometry
    px = np.arange(64) + 0.5
    out = []
    for shape, sc, o, x, y in factors:
        m = ds.position_margin
        cx, cy = 64 * m + 64 * (1 - 2 * m) * POSITIONS[x], 64 * m + 64 * (1 - 2 * m) * POSITIONS[y]
        c, s, inv = np.cos(ORIENTATIONS[o]), np.sin(ORIENTATIONS[o]), 1 / (ds.sprite_size * SCALES[sc])
        dx, dy = px[None, :] - cx, px[:, None] - cy
        u, v = (c * dx + s * dy) * inv, (c * dy - s * dx) * inv
        if shape == 0:
            inside = (np.abs(u) <= 0.5) & (np.abs(v) <= 0.5)
        elif shape == 1:
            inside = u * u * g[0] + v * v * g[1] <= 1
        else:
            hx, hy = u * g[2], g[3] - v * g[2]
            t = hx * hx + hy * hy - 1
            inside = t * t * t - hx * hx * hy * hy * hy <= 0
        out.append((inside * np.uint8(255))[..., None])
    return np.stack(out)


class _PerItem(torch.utils.data.Dataset):
    """A dataset with only __getitem__: the DataLoader renders and converts one image per item."""

    def __init__(self, ds):
        self.ds = ds

    def __len__(self):
        return len(self.ds)

    def __getitem__(self, i):
        return self.ds.observations_from_indices([i])[0]


def _equal(outputs):
    ref = None
    for name, out in outputs.items():
        t = torch.as_tensor(np.asarray(out)) if not isinstance(out, torch.Tensor) else out.cpu()
        if ref is None:
            ref = t
        elif not torch.equal(ref, t):
            raise AssertionError(f"{name} differs from the first implementation")


def cases(args):
    quick = getattr(args, "quick", False)
    device = getattr(args, "device", "cpu")
    on_cuda = str(device).startswith("cuda")
    sync = torch.cuda.synchronize if on_cuda else None
    n = 2000 if quick else 10000
    n_loop = 1000 if quick else 5000  # per-image loops are slow: fewer images, same images/s
    rng = np.random.default_rng(0)
    disent = _disent_data()

    specs = [
        ("xysquares", XYSquares, {}, "XYSquaresMinimalData", _loop_xysquares),
        ("xysquares spacing=4", XYSquares, {"grid_spacing": 4, "grid_size": 8}, "XYSquaresData", _loop_xysquares),
        ("xyobject", XYObject, {}, "XYObjectData", _loop_xyobject),
        ("xyobject_shaded", XYObjectShaded, {}, "XYObjectShadedData", _loop_xyobject),
        ("dsprites (procedural)", DSprites, {"source": "procedural"}, None, _loop_dsprites),
    ]
    if quick:
        specs = [specs[0], specs[2], specs[4]]
    for label, cls, kw, peer_name, loop in specs:
        ds = cls(transform=None, device=device, **kw)
        ref = cls(transform=None, backend="torch", device=device, **kw)
        f = ds.factor_space.sample_factors(n, rng)
        impls = {"pydisent": lambda ds=ds, f=f: ds.raw_observations(f),
                 "torch-ref": lambda ref=ref, f=f: ref.raw_observations(f)}
        yield Case(f"{label} raw uint8 n={n}", impls, sync=sync, check=_equal, extra={"images": n})
        fl = f[:n_loop]
        loops = {"pydisent": lambda ds=ds, fl=fl: ds.raw_observations(fl)}
        if disent is not None and peer_name is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                peer = getattr(disent, peer_name)(**({} if peer_name == "XYSquaresMinimalData" else kw))
            idx = ds.factor_space.pos_to_idx(fl)
            loops["disent"] = lambda peer=peer, idx=idx: np.stack([peer[int(i)] for i in idx])
        else:
            loops["loop"] = lambda ds=ds, fl=fl, loop=loop: loop(ds, fl)
        yield Case(f"{label} vs per-image n={n_loop}", loops, sync=sync, check=_equal, extra={"images": n_loop})

    # training path: shuffled DataLoader batches of float CHW images
    n_batches = 8 if quick else 40
    ds = XYSquares()

    def run_loader(dataset, batches=n_batches):
        g = torch.Generator().manual_seed(0)
        loader = torch.utils.data.DataLoader(dataset, batch_size=256, shuffle=True, generator=g)
        total = 0
        for i, b in enumerate(loader):
            total += b.shape[0]
            if i + 1 == batches:
                break
        return total

    yield Case(f"xysquares DataLoader float n={256 * n_batches}",
               {"pydisent": lambda: run_loader(ds), "per-item": lambda: run_loader(_PerItem(ds))},
               extra={"images": 256 * n_batches})

    # array-backed datasets (the public loaders): one gather per batch vs an index-at-a-time loop
    N = 4000 if quick else 20000
    images = rng.integers(0, 256, (N, 64, 64, 3), dtype=np.uint8)
    arr = ArrayDataset(images, FactorSpace([N]), transform=None)
    idx = rng.integers(0, N, n)
    yield Case(f"array gather 64x64x3 n={n}",
               {"pydisent": lambda: arr.observations_from_indices(idx),
                "per-index": lambda: np.stack([images[int(i)] for i in idx])},
               check=_equal, extra={"images": n})
