"""Batched PCA: ``pydisent.ops.batched_pca`` against ``torch.linalg.eigh`` on the batched covariance
and a NumPy loop (``numpy.linalg.eigh`` per cloud).

The subject and the torch peers do the same job: per-cloud mean, unbiased covariance and its spectrum
(descending), from ``(B, m, k)`` points. ``torch eigh (cov given)`` times the eigensolver alone on a
precomputed covariance, for transparency. Target cases from the issue: CPU ``B = 2e4, m = 32, k = 10``
and GPU (``--device cuda``) ``B = 1e5, m = 32, k = 10``, both >= 3x ``torch.linalg.eigh``.
"""

from __future__ import annotations

import numpy as np
import torch

from benchmarks.harness import Case
from pydisent.ops import batched_pca


def _torch_cov(x):
    xc = x - x.mean(1, keepdim=True)
    return xc.transpose(1, 2) @ xc / (x.shape[1] - 1)


def _torch_eigh(x, vectors):
    cov = _torch_cov(x)
    if vectors:
        return torch.linalg.eigh(cov)
    return torch.linalg.eigvalsh(cov)


def _numpy_loop(xn):
    out = np.empty((len(xn), xn.shape[2]))
    for b, pts in enumerate(xn):
        out[b] = np.linalg.eigvalsh(np.cov(pts.T))[::-1]
    return out


def _check(outputs):
    ref = None
    for name, out in outputs.items():
        vals = out[1] if isinstance(out, tuple) and len(out) == 3 else out
        if isinstance(vals, tuple):  # torch.linalg.eigh's (values, vectors)
            vals = vals[0]
        if isinstance(vals, torch.Tensor) and name.startswith("torch"):
            vals = vals.flip(-1)
        vals = np.asarray(vals.cpu() if isinstance(vals, torch.Tensor) else vals, dtype=np.float64)
        if ref is None:
            ref = vals
            continue
        scale = np.abs(ref).max(axis=1, keepdims=True)
        err = np.max(np.abs(vals - ref) / (1e-5 * np.abs(ref) + 1e-4 * scale + 1e-30))
        if err > 1:
            raise AssertionError(f"{name} eigenvalues differ from pydisent's by {err:.2f}x the tolerance")


def cases(args):
    device = torch.device("cuda" if args.device.startswith("cuda") else "cpu")
    cuda = device.type == "cuda"
    sync = torch.cuda.synchronize if cuda else None
    if args.quick:
        sizes = [(2000, 32, 10)] if not cuda else [(10000, 32, 10)]
    elif cuda:
        sizes = [(100_000, 32, 10), (100_000, 64, 32), (10_000, 32, 64)]
    else:
        sizes = [(20_000, 32, 10), (1_000, 8, 6), (20_000, 64, 32), (2_000, 32, 64)]
    gen = torch.Generator().manual_seed(0)
    for B, m, k in sizes:
        scales = torch.exp(torch.empty(B, 1, k).uniform_(-2, 1, generator=gen))
        x = (torch.randn(B, m, k, generator=gen) * scales).to(device)
        for vectors in (False, True):
            impls = {
                "pydisent": (lambda x=x, v=vectors: batched_pca(x, eigenvectors=v)),
                "torch eigh": (lambda x=x, v=vectors: _torch_eigh(x, v)),
            }
            cov = _torch_cov(x)
            impls["torch eigh (cov given)"] = ((lambda c=cov: torch.linalg.eigh(c)) if vectors
                                               else (lambda c=cov: torch.linalg.eigvalsh(c)))
            if not vectors and not cuda and B * k <= 200_000:
                xn = x.double().numpy()
                impls["numpy loop"] = lambda xn=xn: _numpy_loop(xn)
            tag = "vals+vecs" if vectors else "vals"
            yield Case(name=f"pca B={B} m={m} k={k} f32 {tag}", impls=impls, sync=sync, check=_check,
                       extra={"B": B, "m": m, "k": k, "eigenvectors": vectors, "dtype": "float32"})
