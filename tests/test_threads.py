"""Determinism and thread safety of the CPU kernels (issue 15).

Promise (every kernel below): the same input gives bit-identical output on every run and for any
OpenMP thread count, because each output element (a distance, a cloud's spectrum, a slice's ranks, a
pair, an image, a Rips diagram) is computed by one thread in a fixed order; threads split the outputs,
never a sum. Random inputs come from seeded generators, never global state. Four Python threads calling
the kernels at once get the serial results, and 2,000 repeated calls leave the resident memory flat.
"""

import threading

import numpy as np
import pytest
import torch

from pydisent import _C
from pydisent.data import make_dataset
from pydisent.ops import batched_pca, paired_distance, paired_image_mse, pairwise_distance, rankdata
from pydisent.topology import vietoris_rips


def _inputs():
    r = np.random.default_rng(1234)
    return {"x": torch.from_numpy(r.standard_normal((3, 40, 5)).astype(np.float32)),
            "p": torch.from_numpy(r.standard_normal((16, 9, 4))),
            "v": torch.from_numpy(r.integers(0, 6, (5, 300)).astype(np.float64)),
            "ia": torch.from_numpy(r.integers(0, 40, 200)), "ib": torch.from_numpy(r.integers(0, 40, 200)),
            "u": torch.from_numpy(r.integers(0, 256, (40, 8, 8, 3), dtype=np.uint8)),
            "cloud": torch.from_numpy(r.random((60, 2))),
            "factors": np.stack([r.integers(0, 8, 64) for _ in range(6)], 1)}


_DS = make_dataset("xysquares")
KERNELS = {
    "distance": lambda d: pairwise_distance(d["x"], backend="cpu"),
    "distance_cross": lambda d: pairwise_distance(d["x"][0], d["x"][1], metric="manhattan", backend="cpu"),
    "pca": lambda d: torch.cat([t.reshape(len(d["p"]), -1) for t in batched_pca(d["p"], eigenvectors=True,
                                                                                   backend="cpu")], 1),
    "rank": lambda d: rankdata(d["v"], backend="cpu"),
    "paired": lambda d: paired_distance(d["x"][0], d["ia"], d["ib"], "mse", backend="cpu"),
    "paired_image": lambda d: paired_image_mse(d["u"], d["ia"], d["ib"], [0.5, 1.0, 2.0], backend="cpu"),
    "rips": lambda d: torch.from_numpy(np.concatenate([np.sort(g, axis=0).ravel()
                                                       for g in vietoris_rips(d["cloud"], backend="cpu").dgms])),
    "render": lambda d: _DS.raw_observations(d["factors"]).reshape(64, -1).to(torch.float64),
}


def _run_all(d):
    return {name: fn(d).clone() for name, fn in KERNELS.items()}


@pytest.fixture(scope="module")
def serial():
    before = _C.omp_max_threads()
    _C.set_omp_threads(1)
    try:
        return _run_all(_inputs())
    finally:
        _C.set_omp_threads(before)


@pytest.mark.parametrize("threads", [1, 2])
def test_bit_identical_across_runs_and_thread_counts(serial, threads):
    before = _C.omp_max_threads()
    _C.set_omp_threads(threads)
    try:
        for _ in range(2):
            got = _run_all(_inputs())
            for name, want in serial.items():
                assert torch.equal(got[name], want), f"{name} differs with {threads} OpenMP thread(s)"
    finally:
        _C.set_omp_threads(before)


def test_four_python_threads_get_the_serial_results(serial):
    d = _inputs()
    errors, results = [], [None] * 4

    def work(i):
        try:
            results[i] = [_run_all(d) for _ in range(3)]
        except Exception as e:  # noqa: BLE001 - reported below with the thread's index
            errors.append((i, e))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    for per_thread in results:
        for got in per_thread:
            for name, want in serial.items():
                assert torch.equal(got[name], want), name


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_repeated_calls_leave_memory_flat(name):
    if not __import__("os").path.exists("/proc/self/statm"):
        pytest.skip("needs /proc (Linux) to read the resident memory")
    d = _inputs()
    small = {k: (v[:2] if k in ("x", "p") else v[:8] if k == "factors" else v) for k, v in d.items()}
    fn = KERNELS[name] if name != "render" else (lambda d: _DS.raw_observations(d["factors"]))
    before = _C.omp_max_threads()
    _C.set_omp_threads(1)  # (on a loaded machine OpenMP's wake-ups, not the kernels, would dominate)
    try:
        for _ in range(200):  # warm-up: allocator pools, lazily built tables
            fn(small)
        start = _rss()
        for _ in range(2000):
            fn(small)
        grown = _rss() - start
    finally:
        _C.set_omp_threads(before)
    assert grown < 8 << 20, f"{name}: resident memory grew by {grown / 2**20:.1f} MB over 2,000 calls"
