"""Run by tests/test_cpu_variants.py in a subprocess (the CPU variant is chosen once per process):
every CPU kernel family on fixed small inputs, outputs saved to the .npz named on the command line."""

import sys

import numpy as np
import torch

from pydisent import _C
from pydisent.data import _render
from pydisent.data.dsprites import sprite_geometry
from pydisent.ops import batched_pca, cdist, gbt_replay, paired_distance, paired_image_mse, pairwise_distance, rankdata
from pydisent.topology import vietoris_rips


def probe() -> dict:
    r = np.random.default_rng(0)
    out = {"variants": np.array([_C.cpu_variants()["selected"], _C.cpu_variants()["rips"]])}
    for dt in (torch.float32, torch.float64):
        for d in (3, 40, 300):
            X = torch.from_numpy(r.standard_normal((70, d))).to(dt)
            Y = torch.from_numpy(r.standard_normal((33, d))).to(dt)
            for m in ("euclidean", "sqeuclidean", "manhattan", "chebyshev", "cosine", "mse"):
                out[f"distance/{m}/{dt}/{d}/self"] = pairwise_distance(X, metric=m, backend="cpu").numpy()
                out[f"distance/{m}/{dt}/{d}/condensed"] = pairwise_distance(X, metric=m, backend="cpu",
                                                                            condensed=True).numpy()
                out[f"distance/{m}/{dt}/{d}/cross"] = cdist(X, Y, metric=m, backend="cpu").numpy()
        X = torch.from_numpy(r.standard_normal((40, 300))).to(dt)
        ia, ib = torch.from_numpy(r.integers(0, 40, 200)), torch.from_numpy(r.integers(0, 40, 200))
        for m in ("manhattan", "euclidean", "sqeuclidean", "mse"):
            out[f"paired/{m}/{dt}"] = paired_distance(X, ia, ib, m, backend="cpu").numpy()
        for k in (3, 10, 20, 64):
            P = torch.from_numpy(r.standard_normal((12, 80, k)) * r.random(k)).to(dt)
            mean, ev, V = batched_pca(P, eigenvectors=True, backend="cpu")
            out[f"pca/{dt}/{k}"] = np.concatenate([mean.numpy().ravel(), ev.numpy().ravel(), V.numpy().ravel()])
        out[f"rank/{dt}"] = rankdata(torch.from_numpy(r.integers(0, 20, (5, 200))).to(dt), backend="cpu").numpy()
    U = torch.from_numpy(r.integers(0, 256, (30, 8, 8, 3), dtype=np.uint8))
    for sc in ([0.1], [0.1, 0.2, 0.3]):
        out[f"paired_image/{len(sc)}"] = paired_image_mse(U, ia[:100] % 30, ib[:100] % 30, sc, backend="cpu").numpy()
    for metric in ("euclidean", "manhattan", "chebyshev"):
        for dt in (np.float32, np.float64):
            dg = vietoris_rips(r.standard_normal((90, 4)).astype(dt), maxdim=1, metric=metric, backend="cpu",
                               return_generators=True)
            for k in range(2):
                out[f"rips/{metric}/{dt.__name__}/{k}"] = dg[k]
                out[f"rips/{metric}/{dt.__name__}/gen{k}"] = dg.generators[k]
    dg = vietoris_rips(np.round(r.random((70, 2)) * 4) / 4, maxdim=1, backend="cpu")  # ties
    out["rips/ties/0"], out["rips/ties/1"] = dg[0], dg[1]
    out["render/rects"] = _render.render_rects(r.integers(0, 30, (10, 3, 4)), r.integers(-1, 256, (10, 3, 3)),
                                               (32, 32, 3), backend="cpu").numpy()
    n = 10
    theta = r.random(n) * 2 * np.pi
    params = np.c_[r.random((n, 2)) * 64, np.cos(theta), np.sin(theta), 1 / (5 + 10 * r.random(n))]
    out["render/sprites"] = _render.render_sprites(r.integers(0, 3, n), params, sprite_geometry(0.5), (64, 64),
                                                   backend="cpu").numpy()
    B = torch.from_numpy(r.integers(0, 256, (4, 33, 17, 3), dtype=np.uint8))
    out["render/chw"] = _render.hwc_to_chw_float(B, mean=[0.1, 0.2, 0.3], std=[0.5, 0.6, 0.7]).numpy()
    out["render/chw1"] = _render.hwc_to_chw_float(B[..., :1]).numpy()
    # a hand-made forest: two stages of one stump each (feature 0 at bin 3, feature 1 at bin 1)
    tables = {"feature": [0, 0, 0, 1, 0, 0], "threshold": [3, 0, 0, 1, 0, 0], "missing_left": [1, 0, 0, 0, 0, 0],
              "left": [1, 0, 0, 4, 0, 0], "right": [2, 0, 0, 5, 0, 0], "is_leaf": [0, 1, 1, 0, 1, 1],
              "value": [0, -0.5, 0.25, 0, 0.125, -1.0], "offsets": [0, 3, 6], "baseline": [0.1]}
    binned = r.integers(0, 6, (50, 2), dtype=np.uint8)
    raw, imp = gbt_replay(binned, tables, 255, r.integers(0, 2, 50))
    out["trees/raw"], out["trees/importance"] = raw, imp
    return out


if __name__ == "__main__":
    np.savez(sys.argv[1], **probe())
