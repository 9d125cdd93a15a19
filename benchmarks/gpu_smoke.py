"""Every compiled kernel on small inputs, checked against its reference: the short script that
``benchmarks/gpu_check.sh`` runs first (with ``CUDA_LAUNCH_BLOCKING=1``) and under ``compute-sanitizer``.

``python benchmarks/gpu_smoke.py --device cuda``: every CUDA kernel (distances, paired distances, PCA,
Rips, both renderers) on small inputs, compared with the CPU kernel: bit-identical for the Rips engine
and the renderers (they promise it), within each kernel's documented tolerance otherwise.
``--device cpu``: the CPU kernels against the torch/numpy references (bit-identical for Rips and the
renderers). Needs only numpy and torch. Prints one line per check; exit status 1 if any fails.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch

FAILED: list[str] = []


def check(name: str, ok: bool, detail: str = "") -> None:
    print(f"{'ok  ' if ok else 'FAIL'} {name}{(': ' + detail) if detail else ''}", flush=True)
    if not ok:
        FAILED.append(name)


def close(a: torch.Tensor, b: torch.Tensor, rtol: float, atol: float) -> tuple[bool, str]:
    a, b = a.detach().double().cpu(), b.detach().double().cpu()
    if a.shape != b.shape:
        return False, f"shapes {tuple(a.shape)} vs {tuple(b.shape)}"
    err = (a - b).abs()
    bound = rtol * b.abs() + atol * max(float(b.abs().max()) if b.numel() else 0.0, 1e-300)
    return bool((err <= bound).all()), f"max abs err {float(err.max()) if err.numel() else 0.0:.2e}"


def same_diagrams(a, b, ordered: bool = True) -> tuple[bool, str]:
    """Equal diagrams; `ordered`: array for array, generators included (the CUDA path against the CPU
    engine, which share the reduction), else as sorted multisets of pairs (against the reference)."""
    def canon(d):
        d = np.asarray(d, dtype=np.float64).reshape(-1, 2)
        return d[np.lexsort((d[:, 1], d[:, 0]))]

    for k in range(len(a.dgms)):
        x, y = (np.asarray(a[k]), np.asarray(b[k])) if ordered else (canon(a[k]), canon(b[k]))
        if not np.array_equal(x, y):
            return False, f"H{k} differs ({len(a[k])} vs {len(b[k])} pairs)"
        if ordered and a.generators is not None and not np.array_equal(a.generators[k], b.generators[k]):
            return False, f"H{k} generators differ"
    return True, ""


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    args = p.parse_args(argv)

    from pydisent import _C
    from pydisent.data import _render
    from pydisent.data.dsprites import sprite_geometry
    from pydisent.ops import batched_pca, cdist, paired_distance, pairwise_distance
    from pydisent.topology import vietoris_rips

    cuda = args.device == "cuda"
    if cuda and not (_C.has_cuda() and torch.cuda.is_available()):
        print("FAIL --device cuda: this build or torch has no CUDA device "
              f"(_C.has_cuda()={_C.has_cuda()}, torch.cuda.is_available()={torch.cuda.is_available()})")
        return 1
    dev = torch.device("cuda" if cuda else "cpu")
    fast, ref = ("cuda", "cpu") if cuda else ("cpu", "torch")
    t0 = time.perf_counter()
    r = np.random.default_rng(0)
    if cuda:
        print(f"device: {torch.cuda.get_device_name(0)} (sm_{''.join(map(str, torch.cuda.get_device_capability(0)))})")

    # -- renderers: bit-identical -------------------------------------------------------------
    rects, colors = r.integers(-3, 30, (16, 3, 4)), r.integers(-1, 256, (16, 3, 3))
    a = _render.render_rects(rects, colors, (32, 32, 3), backend=fast, device=dev)
    b = _render.render_rects(rects, colors, (32, 32, 3), backend=ref)
    check("render_rects (bit-identical)", torch.equal(a.cpu(), b.cpu()))
    n = 16
    theta = r.random(n) * 2 * np.pi
    params = np.c_[r.random((n, 2)) * 64, np.cos(theta), np.sin(theta), 1 / (4 + 10 * r.random(n))]
    geom = sprite_geometry(0.5)
    shapes = r.integers(0, 3, n)
    a = _render.render_sprites(shapes, params, geom, (64, 64), backend=fast, device=dev)
    b = _render.render_sprites(shapes, params, geom, (64, 64), backend=ref)
    check("render_sprites (bit-identical)", torch.equal(a.cpu(), b.cpu()))

    # -- Rips: bit-identical diagrams -----------------------------------------------------------
    rips_ref = "cpu" if cuda else "reference"
    for metric in ("euclidean", "manhattan", "chebyshev"):
        for dt in (torch.float32, torch.float64):
            x = torch.from_numpy(r.standard_normal((60, 3))).to(dt)
            got = vietoris_rips(x.to(dev), metric=metric, backend=fast, return_generators=cuda)
            want = vietoris_rips(x, metric=metric, backend=rips_ref, return_generators=cuda)
            check(f"rips {metric} {str(dt)[6:]} (bit-identical)", *same_diagrams(got, want, cuda))
    ties = torch.from_numpy(np.round(r.random((50, 2)) * 4) / 4)
    check("rips ties (bit-identical)", *same_diagrams(vietoris_rips(ties.to(dev), backend=fast),
                                                     vietoris_rips(ties, backend=rips_ref), cuda))
    batch = torch.from_numpy(r.standard_normal((6, 30, 2)))
    got, want = vietoris_rips(batch.to(dev), backend=fast), vietoris_rips(batch, backend=rips_ref)
    check("rips batch of 6 (bit-identical)", all(same_diagrams(g, w, cuda)[0] for g, w in zip(got, want)))
    D = torch.cdist(batch[0], batch[0])
    D = (D + D.T) / 2
    D.fill_diagonal_(0)
    check("rips distance matrix (bit-identical)",
          *same_diagrams(vietoris_rips(D.to(dev), distances=True, backend=fast),
                         vietoris_rips(D, distances=True, backend=rips_ref), cuda))

    # -- distances, paired distances, PCA: documented tolerances ----------------------------------
    for dt, rtol in ((torch.float32, 1e-5), (torch.float64, 1e-12)):
        x = torch.from_numpy(r.standard_normal((2, 37, 5))).to(dt)
        y = torch.from_numpy(r.standard_normal((2, 29, 5))).to(dt)
        for metric in ("euclidean", "sqeuclidean", "manhattan", "chebyshev", "cosine", "mse"):
            atol = 1e-6 if metric == "cosine" and dt == torch.float32 else 0.0
            ok, why = close(pairwise_distance(x.to(dev), metric=metric, backend=fast),
                            pairwise_distance(x, metric=metric, backend=ref), rtol, atol)
            check(f"distance self {metric} {str(dt)[6:]}", ok, why)
            ok, why = close(pairwise_distance(x.to(dev), metric=metric, backend=fast, condensed=True),
                            pairwise_distance(x, metric=metric, backend=ref, condensed=True), rtol, atol)
            check(f"distance condensed {metric} {str(dt)[6:]}", ok, why)
            ok, why = close(cdist(x.to(dev), y.to(dev), metric, backend=fast), cdist(x, y, metric, backend=ref),
                            rtol, atol)
            check(f"distance cross {metric} {str(dt)[6:]}", ok, why)
        rows = torch.from_numpy(r.standard_normal((20, 70))).to(dt)
        ia, ib = torch.from_numpy(r.integers(0, 20, 64)), torch.from_numpy(r.integers(0, 20, 64))
        for metric in ("manhattan", "euclidean", "sqeuclidean", "mse"):
            ok, why = close(paired_distance(rows.to(dev), ia.to(dev), ib.to(dev), metric, backend=fast),
                            paired_distance(rows, ia, ib, metric, backend=ref), 1e-12, 0.0)
            check(f"paired {metric} {str(dt)[6:]}", ok, why)
        for k in (3, 12, 33):
            c = torch.from_numpy(r.standard_normal((9, 25, k)) * r.uniform(0.2, 3, k)).to(dt)
            mask = torch.from_numpy(r.random((9, 25)) < 0.8)
            for msk in (None, mask):
                on_dev = None if msk is None else msk.to(dev)
                m1, w1, _ = batched_pca(c.to(dev), on_dev, eigenvectors=True, backend=fast)
                m2, w2, _ = batched_pca(c, msk, eigenvectors=True, backend=ref)
                tol = (1e-5, 1e-4) if (cuda and dt == torch.float32) else (1e-6, 1e-7)
                ok, why = close(w1, w2, *tol)
                ok2, why2 = close(m1, m2, 1e-6, 1e-6)
                check(f"pca k={k} {'mask ' if msk is not None else ''}{str(dt)[6:]}", ok and ok2, why + "; " + why2)
    if cuda:
        check("cuda device count", _C.cuda_device_count() >= 1, f"{_C.cuda_device_count()} ({_C.cuda_device_name(0)})")
        torch.cuda.synchronize()
    print(f"{len(FAILED)} failed; {time.perf_counter() - t0:.1f} s")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
