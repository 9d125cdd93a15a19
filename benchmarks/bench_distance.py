"""Pairwise distances: pydisent vs ``torch.cdist`` and ``scipy.spatial.distance.cdist``.

Rows (float32, self distances of ``x`` unless the name says ``cross``):

* every metric at n in {1000, 4000}, d in {10, 4096}: pydisent (exact mode), pydisent ``mode="gemm"``
  where it exists, ``torch.cdist(x, x, p)`` and scipy's ``cdist(x, x, name)`` where they have the
  metric (sqeuclidean = cdist**2, mse = cdist**2 / d for torch). Skipped where one call takes
  minutes: scipy at n = 4000, d = 4096, and torch's p=1 / p=inf CPU kernel there (about 128 s per
  call on 2 cores; the n = 1000 rows give its ratio); scipy on GPU runs;
* cross distances ``cdist(x, y)`` at n = m = 4000 for euclidean and manhattan (manhattan at
  n = 1000 for d = 4096);
* batched: B = 100 clouds of n = 500 (d = 10 and 128) vs a Python loop of ``torch.cdist`` and vs
  batched ``torch.cdist``;
* accuracy: near-duplicate points (1e-3 apart, 1e3 from the origin); ``extra.max_rel_err`` holds
  each implementation's largest relative error against a float64 reference.

``--quick`` runs small sizes only; ``--device cuda`` runs every implementation on GPU tensors.
"""

from __future__ import annotations

import numpy as np
import torch

from benchmarks.harness import Case
from pydisent.ops import DISTANCE_METRICS, cdist, pairwise_distance

TORCH_P = {"euclidean": 2.0, "sqeuclidean": 2.0, "mse": 2.0, "manhattan": 1.0, "chebyshev": float("inf")}
SCIPY_NAME = {"euclidean": "euclidean", "sqeuclidean": "sqeuclidean", "mse": "sqeuclidean",
              "manhattan": "cityblock", "chebyshev": "chebyshev", "cosine": "cosine"}
GEMM_METRICS = ("euclidean", "sqeuclidean", "mse", "cosine")


def _torch_peer(metric: str, d: int):
    """torch.cdist with the metric's post-processing, or None where torch has no such metric."""
    if metric not in TORCH_P:
        return None
    p = TORCH_P[metric]

    def run(a, b):
        D = torch.cdist(a, b, p=p)
        if metric == "sqeuclidean":
            D = D.square_()
        elif metric == "mse":
            D = D.square_().div_(d)
        return D

    return run


def _scipy_peer(metric: str, d: int):
    from scipy.spatial.distance import cdist as scipy_cdist

    name = SCIPY_NAME[metric]

    def run(a, b):
        D = scipy_cdist(a, b, name)
        return D / d if metric == "mse" else D

    return run


def _as_numpy(t):
    return t.detach().cpu().double().numpy() if isinstance(t, torch.Tensor) else np.asarray(t, dtype=np.float64)


def _agree(rtol: float = 2e-3):
    """Every output equals the first one up to ``rtol`` of the largest distance (GEMM-based peers
    lose absolute precision near zero, so the tolerance is scaled by the largest value)."""

    def check(outputs: dict):
        names = list(outputs)
        base = _as_numpy(outputs[names[0]])
        scale = max(float(np.abs(base).max(initial=0.0)), 1e-30)
        for name in names[1:]:
            other = outputs[name]
            if isinstance(other, (list, tuple)):
                other = torch.stack(list(other))
            o = _as_numpy(other)
            if o.shape != base.shape:
                raise AssertionError(f"{name}: shape {o.shape} != {base.shape}")
            err = float(np.abs(o - base).max(initial=0.0)) / scale
            if not err <= rtol:
                raise AssertionError(f"{name} differs from {names[0]} by {err:.3g} of the largest distance")

    return check


def cases(args):
    device = torch.device(args.device)
    on_gpu = device.type == "cuda"
    sync = torch.cuda.synchronize if on_gpu else None
    gen = torch.Generator().manual_seed(0)

    def points(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float32).to(device)

    sizes = [(500, 10), (500, 256)] if args.quick else [(1000, 10), (1000, 4096), (4000, 10), (4000, 4096)]
    metrics = ("euclidean", "manhattan", "cosine") if args.quick else DISTANCE_METRICS

    # ---- self distances, every metric ----
    for n, d in sizes:
        x = points(n, d)
        xn = x.cpu().numpy()
        for metric in metrics:
            impls = {"pydisent": (lambda x=x, metric=metric: pairwise_distance(x, metric=metric))}
            if metric in GEMM_METRICS:
                impls["pydisent[gemm]"] = lambda x=x, metric=metric: pairwise_distance(x, metric=metric, mode="gemm")
            tp = _torch_peer(metric, d)
            # torch.cdist's p=1 / p=inf CPU kernel takes minutes per call at n=4000, d=4096 (128 s
            # measured on 2 cores); its n=1000 row gives the same ratio in seconds.
            slow_torch = not on_gpu and metric in ("manhattan", "chebyshev") and n * n * d > 1e10
            if tp is not None and not slow_torch:
                impls["torch.cdist"] = lambda x=x, tp=tp: tp(x, x)
            if not on_gpu and n * n * d <= 1000 * 1000 * 4096:
                sp = _scipy_peer(metric, d)
                impls["scipy.cdist"] = lambda xn=xn, sp=sp: sp(xn, xn)
            yield Case(f"{metric} n={n} d={d}", impls, sync=sync, check=_agree(),
                       extra={"metric": metric, "n": n, "m": n, "d": d, "kind": "self", "dtype": "float32"},
                       repeats=3 if n * n * d > 1e9 else None)

    # ---- cross distances ----
    # (torch's p=1 CPU kernel needs minutes at n = 4000, d = 4096, so manhattan uses n = 1000 there)
    cross = ([(500, 10, "euclidean"), (500, 10, "manhattan")] if args.quick else
             [(4000, 10, "euclidean"), (4000, 10, "manhattan"), (4000, 4096, "euclidean"),
              (1000, 4096, "manhattan")])
    for n, d, metric in cross:
        x, y = points(n, d), points(n, d)
        impls = {"pydisent": (lambda x=x, y=y, metric=metric: cdist(x, y, metric))}
        if metric == "euclidean":
            impls["pydisent[gemm]"] = lambda x=x, y=y: cdist(x, y, mode="gemm")
        tp = _torch_peer(metric, d)
        impls["torch.cdist"] = lambda x=x, y=y, tp=tp: tp(x, y)
        yield Case(f"cross {metric} n=m={n} d={d}", impls, sync=sync, check=_agree(),
                   extra={"metric": metric, "n": n, "m": n, "d": d, "kind": "cross", "dtype": "float32"},
                   repeats=3 if n * n * d > 1e9 else None)

    # ---- batched point clouds ----
    B, n = (20, 200) if args.quick else (100, 500)
    for d in ([10] if args.quick else [10, 128]):
        X = points(B, n, d)
        for metric in ("euclidean", "manhattan"):
            p = TORCH_P[metric]
            impls = {
                "pydisent": (lambda X=X, metric=metric: pairwise_distance(X, metric=metric)),
                "torch.cdist loop": (lambda X=X, p=p: [torch.cdist(X[b], X[b], p=p) for b in range(X.shape[0])]),
                "torch.cdist batched": (lambda X=X, p=p: torch.cdist(X, X, p=p)),
            }
            yield Case(f"batched {metric} B={B} n={n} d={d}", impls, sync=sync, check=_agree(),
                       extra={"metric": metric, "B": B, "n": n, "d": d, "kind": "batched", "dtype": "float32"})

    # ---- accuracy on near-duplicates ----
    n, d = (300, 64) if args.quick else (1000, 64)
    center = torch.rand(d, generator=gen, dtype=torch.float64) * 2e3 - 1e3
    x64 = center + 1e-3 * torch.randn(n, d, generator=gen, dtype=torch.float64)
    x = x64.float().to(device)
    xn = x.cpu().double().numpy()
    ref = np.sqrt(((xn[:, None, :] - xn[None, :, :]) ** 2).sum(-1))  # float64 reference on the float32 values
    off = ~np.eye(n, dtype=bool)
    impls = {
        "pydisent": lambda: pairwise_distance(x),
        "pydisent[gemm]": lambda: pairwise_distance(x, mode="gemm"),
        "torch.cdist": lambda: torch.cdist(x, x),
        "torch.cdist[no mm]": lambda: torch.cdist(x, x, compute_mode="donot_use_mm_for_euclid_dist"),
    }
    if not on_gpu:
        sp = _scipy_peer("euclidean", d)
        impls["scipy.cdist"] = lambda: sp(xn, xn)
    errors = {}
    for name, fn in impls.items():
        got = _as_numpy(fn())
        errors[name] = float((np.abs(got - ref)[off] / ref[off]).max())
    print("# near-duplicate max relative error: " + ", ".join(f"{k} {v:.2e}" for k, v in errors.items()))
    yield Case(f"near-duplicates euclidean n={n} d={d}", impls, sync=sync,
               extra={"metric": "euclidean", "n": n, "d": d, "kind": "accuracy", "dtype": "float32",
                      "max_rel_err": errors})
