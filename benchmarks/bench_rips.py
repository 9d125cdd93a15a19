"""Vietoris-Rips persistence: pydisent vs ripser, giotto-ph and gudhi, one run, side by side.

Cases (uniform points in the unit cube, float64):
* H0 only and H0+H1 for n in {200, 500, 1000, 2000}, d in {3, 64};
* a batch of 1000 clouds of 100 points (d = 3), H0+H1, vs a loop of ripser / giotto-ph calls;
* peak memory (resident set growth, measured in a fresh subprocess) of H0 and H0+H1 at n = 2000.

pydisent and giotto-ph use the same thread count (OMP_NUM_THREADS, default all cores); "pydisent-1t"
is pydisent on one thread, to compare with ripser, which is single-threaded. gudhi builds the full
simplex tree, so it runs only where that fits (H0 up to n = 1000, H1 at n = 200).
``--quick``: n in {200, 500}, d = 3, a batch of 100 clouds, no memory probe.
``--device cuda``: the pydisent rows take CUDA tensors (filtration on the GPU).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np

from benchmarks.harness import Case


def _optional(name):
    try:
        return __import__(name)
    except ImportError:
        return None


def _threads() -> int:
    from pydisent import _C

    return int(_C.omp_max_threads())


def _one_thread(fn):
    from pydisent import _C

    def run():
        prev = _C.omp_max_threads()
        _C.set_omp_threads(1)
        try:
            return fn()
        finally:
            _C.set_omp_threads(prev)

    return run


def _as_dgms(out, maxdim):
    """Diagrams of any implementation as a list of (k, 2) float arrays."""
    if isinstance(out, dict):
        return [np.asarray(d, dtype=np.float64).reshape(-1, 2) for d in out["dgms"][: maxdim + 1]]
    if hasattr(out, "dgms"):
        return [np.asarray(d, dtype=np.float64) for d in out.dgms]
    return [np.asarray(d, dtype=np.float64).reshape(-1, 2) for d in out]


def _agree(maxdim, tol=1e-4):
    gudhi = _optional("gudhi")

    def check(outputs):
        ref_name = "ripser" if "ripser" in outputs else next(iter(outputs))
        ref = outputs[ref_name]
        for name, out in outputs.items():
            if name == ref_name:
                continue
            pairs = zip(out, ref) if isinstance(out, list) and not hasattr(out[0], "shape") else [(out, ref)]
            for a, b in pairs:
                da, db = _as_dgms(a, maxdim), _as_dgms(b, maxdim)
                for k in range(maxdim + 1):
                    fa, fb = da[k][np.isfinite(da[k][:, 1])], db[k][np.isfinite(db[k][:, 1])]
                    ea, eb = np.isinf(da[k][:, 1]).sum(), np.isinf(db[k][:, 1]).sum()
                    if ea != eb:
                        raise AssertionError(f"{name} vs {ref_name}: H{k} essential {ea} vs {eb}")
                    if gudhi is not None:
                        dist = gudhi.bottleneck_distance(fa, fb)
                    else:
                        dist = 0.0 if len(fa) == len(fb) and np.allclose(np.sort(fa, 0), np.sort(fb, 0), atol=tol) \
                            else np.inf
                    if dist > tol:
                        raise AssertionError(f"{name} vs {ref_name}: H{k} differ (bottleneck {dist:.2e})")

    return check


def _pydisent_impls(data, maxdim, device, T):
    """pydisent's rows, first (the harness compares every row with the first): the CUDA and CPU paths
    on a GPU run, else the CPU path with all threads and with one."""
    from pydisent.topology import vietoris_rips

    if device.startswith("cuda"):
        import torch

        on_gpu = torch.from_numpy(data).to(device)
        return {"pydisent-cuda": lambda: vietoris_rips(on_gpu, maxdim=maxdim),
                "pydisent-cpu": lambda: vietoris_rips(data, maxdim=maxdim)}
    impls = {"pydisent": lambda: vietoris_rips(data, maxdim=maxdim)}
    if T > 1:
        impls["pydisent-1t"] = _one_thread(lambda: vietoris_rips(data, maxdim=maxdim))
    return impls


def _impls(X, maxdim, device, T, with_gudhi):
    ripser = _optional("ripser")
    gph = _optional("gph")
    gudhi = _optional("gudhi")
    impls = _pydisent_impls(X, maxdim, device, T)
    if ripser is not None:
        impls["ripser"] = lambda: ripser.ripser(X, maxdim=maxdim)
    if gph is not None:
        impls[f"giotto-ph-{T}t"] = lambda: gph.ripser_parallel(X, maxdim=maxdim, n_threads=T)
    if gudhi is not None and with_gudhi:
        def run_gudhi():
            st = gudhi.RipsComplex(points=X).create_simplex_tree(max_dimension=maxdim + 1)
            st.compute_persistence(homology_coeff_field=2)
            return [st.persistence_intervals_in_dimension(k) for k in range(maxdim + 1)]

        impls["gudhi"] = run_gudhi
    return impls


def _batch_impls(batch, device, T):
    ripser = _optional("ripser")
    gph = _optional("gph")
    impls = _pydisent_impls(batch, 1, device, T)
    if ripser is not None:
        impls["ripser-loop"] = lambda: [ripser.ripser(x, maxdim=1) for x in batch]
    if gph is not None:
        impls["giotto-ph-loop-1t"] = lambda: [gph.ripser_parallel(x, maxdim=1, n_threads=1) for x in batch]
    return impls


# ---- peak memory in a fresh process ---------------------------------------------------------------

_MEM_CODE = {
    "pydisent": "from pydisent.topology import vietoris_rips as f\nrun = lambda: f(X, maxdim=MAXDIM)",
    "ripser": "from ripser import ripser as f\nrun = lambda: f(X, maxdim=MAXDIM)",
    "giotto-ph": "from gph import ripser_parallel as f\nrun = lambda: f(X, maxdim=MAXDIM, n_threads=THREADS)",
}


def peak_memory_mb(impl: str, n: int, d: int, maxdim: int, threads: int) -> float | None:
    """Growth of the peak resident set (MiB) of a fresh interpreter during one call."""
    code = textwrap.dedent("""
        import resource, json
        import numpy as np
        {setup}
        X = np.random.default_rng(0).random(({n}, {d}))
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        run()
        print(json.dumps((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024.0))
    """).format(setup=_MEM_CODE[impl].replace("MAXDIM", str(maxdim)).replace("THREADS", str(threads)), n=n, d=d)
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                             env=dict(os.environ), cwd=os.getcwd())
        return float(json.loads(out.stdout.strip().splitlines()[-1]))
    except Exception:
        return None


def _memory_report(T):
    report = {}
    for maxdim in (0, 1):
        for impl in _MEM_CODE:
            mb = peak_memory_mb(impl, 2000, 3, maxdim, T)
            report[f"H0{'+H1' if maxdim else ''}/{impl}"] = mb
    line = ", ".join(f"{k} {v:.1f} MiB" if v is not None else f"{k} n/a" for k, v in report.items())
    print(f"# peak RSS growth, n=2000 d=3: {line}")
    return report


def cases(args):
    device = getattr(args, "device", "cpu")
    quick = getattr(args, "quick", False)
    T = _threads()
    rng = np.random.default_rng(0)
    sizes = (200, 500) if quick else (200, 500, 1000, 2000)
    dims = (3,) if quick else (3, 64)
    memory = None if quick else _memory_report(T)
    for d in dims:
        for n in sizes:
            X = rng.random((n, d))
            for maxdim in (0, 1):
                label = "H0" if maxdim == 0 else "H0+H1"
                extra = {"n": n, "d": d, "maxdim": maxdim, "threads": T}
                if memory is not None and n == 2000 and d == 3:
                    extra["peak_rss_mib"] = {k: v for k, v in memory.items() if k.startswith(label + "/")}
                with_gudhi = (maxdim == 0 and n <= 1000) or (maxdim == 1 and n <= 200)
                yield Case(name=f"rips {label} n={n} d={d}", impls=_impls(X, maxdim, device, T, with_gudhi),
                           sync=_sync(device), check=_agree(maxdim), extra=extra,
                           repeats=3 if n >= 1000 else None)
    B = 100 if quick else 1000
    batch = rng.random((B, 100, 3))
    yield Case(name=f"rips H0+H1 batch {B}x100 d=3", impls=_batch_impls(batch, device, T), sync=_sync(device),
               check=_agree(1), extra={"B": B, "n": 100, "d": 3, "maxdim": 1, "threads": T}, repeats=3)


def _sync(device):
    if device.startswith("cuda"):
        import torch

        return torch.cuda.synchronize
    return None
