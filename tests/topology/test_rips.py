"""Vietoris-Rips H0/H1 (pydisent.topology.vietoris_rips) against ripser, gudhi and the pure-Python
reference. Distance-matrix comparisons are exact (same float32 filtration values => same pairs);
point-input comparisons against ripser allow float32 rounding (ripser.py computes euclidean
distances with the dot-product formula)."""

import numpy as np
import pytest
import torch

from pydisent import _C
from pydisent.topology import Diagrams, vietoris_rips
from pydisent.topology._reference import distance_matrix

ripser = pytest.importorskip("ripser").ripser
gudhi = pytest.importorskip("gudhi")

EUCLIDEAN = _C.DistanceMetric.euclidean

# ---- data -----------------------------------------------------------------------------------------

def cube(rng, n, d=3):
    return rng.random((n, d))


def noisy_circle(rng, n, noise=0.05):
    t = rng.random(n) * 2 * np.pi
    return np.c_[np.cos(t), np.sin(t)] + noise * rng.standard_normal((n, 2))


def figure_eight(rng, n, noise=0.03):
    t = rng.random(n) * 2 * np.pi
    side = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    return np.c_[side + np.cos(t), np.sin(t)] + noise * rng.standard_normal((n, 2))


def torus(rng, nu=16, nv=9, R=2.0, r=1.0):
    # jittered grid of angles: dense enough that both generating circles show as long H1 bars
    u = (np.arange(nu)[:, None] + 0.3 * rng.random((nu, nv))) / nu * 2 * np.pi
    v = (np.arange(nv)[None, :] + 0.3 * rng.random((nu, nv))) / nv * 2 * np.pi
    u, v = u.ravel(), v.ravel()
    return np.c_[(R + r * np.cos(v)) * np.cos(u), (R + r * np.cos(v)) * np.sin(u), r * np.sin(v)]


def blobs(rng, n, d=3):
    centers = 10.0 * np.eye(4, d, k=-1)  # four well separated clusters
    return centers[np.arange(n) % 4] + 0.3 * rng.standard_normal((n, d))


def grid(rng, shape):
    pts = np.stack(np.meshgrid(*[np.arange(s) for s in shape], indexing="ij"), -1).reshape(-1, len(shape))
    return pts[rng.permutation(len(pts))].astype(np.float64)


# ---- comparisons ----------------------------------------------------------------------------------

def canon(d):
    d = np.asarray(d, dtype=np.float64).reshape(-1, 2)
    return d[np.lexsort((d[:, 1], d[:, 0]))]


def assert_same(ours, theirs, maxdim=1):
    assert len(ours) == maxdim + 1
    for k in range(maxdim + 1):
        a, b = canon(ours[k]), canon(theirs[k])
        assert a.shape == b.shape, f"H{k}: {a.shape[0]} pairs vs {b.shape[0]}"
        np.testing.assert_array_equal(a, b, err_msg=f"H{k}")


def assert_identical(a, b):
    """Two Diagrams equal array for array (in pydisent's order), generators included where present."""
    assert len(a) == len(b)
    for k in range(len(a)):
        np.testing.assert_array_equal(a[k], b[k])
        if a.generators is not None:
            np.testing.assert_array_equal(a.generators[k], b.generators[k])


def assert_close(ours, theirs, maxdim=1, tol=1e-5):
    """Same diagrams up to float32 rounding of the distances: identical essential bars, bottleneck
    distance of the finite parts <= tol (bars shorter than 2 tol may appear on one side only)."""
    for k in range(maxdim + 1):
        a, b = canon(ours[k]), canon(theirs[k])
        ia, ib = np.isinf(a[:, 1]), np.isinf(b[:, 1])
        np.testing.assert_allclose(np.sort(a[ia, 0]), np.sort(b[ib, 0]), rtol=1e-6, atol=tol)
        assert gudhi.bottleneck_distance(a[~ia], b[~ib]) <= tol, f"H{k}"


def ripser_dm(D, maxdim=1, thresh=np.inf):
    return ripser(np.asarray(D, dtype=np.float32), distance_matrix=True, maxdim=maxdim, thresh=thresh)["dgms"]


def check_generators(D, dg: Diagrams):
    """The creating / destroying simplices have the bar's birth / death as diameter."""
    D = np.asarray(D, dtype=np.float32).astype(np.float64)
    h0, g0 = dg.dgms[0], dg.generators[0]
    assert g0.shape == (len(h0), 3) and g0.dtype == np.int64
    fin = np.isfinite(h0[:, 1])
    assert np.all(g0[~fin, 1:] == -1)
    assert np.all(g0[fin, 1] > g0[fin, 2])
    np.testing.assert_array_equal(D[g0[fin, 1], g0[fin, 2]], h0[fin, 1])
    if len(dg.dgms) > 1:
        h1, g1 = dg.dgms[1], dg.generators[1]
        assert g1.shape == (len(h1), 5)
        np.testing.assert_array_equal(D[g1[:, 0], g1[:, 1]], h1[:, 0])
        assert np.all(g1[:, 0] > g1[:, 1])
        fin = np.isfinite(h1[:, 1])
        a, b, c = g1[fin, 2], g1[fin, 3], g1[fin, 4]
        assert np.all((a > b) & (b > c))
        diam = np.maximum(np.maximum(D[a, b], D[a, c]), D[b, c])
        np.testing.assert_array_equal(diam, h1[fin, 1])
        assert np.all(g1[~fin, 2:] == -1)


def long_bars(dgm, min_len):
    d = np.asarray(dgm)
    return int(np.sum((d[:, 1] - d[:, 0]) > min_len))


# ---- parity with ripser -----------------------------------------------------------------------------

SHAPES = ["cube", "circle", "figure8", "torus", "blobs", "grid2", "grid3", "duplicates", "line"]


def make(shape, rng):
    if shape == "cube":
        return cube(rng, int(rng.integers(60, 150)))
    if shape == "circle":
        return noisy_circle(rng, 100)
    if shape == "figure8":
        return figure_eight(rng, 140)
    if shape == "torus":
        return torus(rng)
    if shape == "blobs":
        return blobs(rng, 120)
    if shape == "grid2":
        return grid(rng, (10, 10))
    if shape == "grid3":
        return grid(rng, (5, 5, 4))
    if shape == "duplicates":
        x = cube(rng, 40, 2)
        return np.concatenate([x, x[:25], x[:7]])[rng.permutation(72)]
    if shape == "line":
        return rng.random((60, 1))
    raise ValueError(shape)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("thresholded", [False, True])
def test_matches_ripser(shape, thresholded, rng):
    X = make(shape, rng)
    D = distance_matrix(X, 0)
    thresh = float(np.quantile(D[np.triu_indices(len(D), 1)], 0.3)) if thresholded else np.inf
    expect = ripser_dm(D, thresh=thresh)
    got_d = vietoris_rips(D, distances=True, threshold=thresh, return_generators=True)
    assert_same(got_d, expect)
    check_generators(D, got_d)
    # From points: the engine's own distances are the reference's, bit for bit ...
    got_x = vietoris_rips(X, threshold=thresh)
    assert_same(got_x, got_d)
    # ... and ripser's own distance computation agrees up to float32 rounding (exactly on grids).
    theirs = ripser(X, maxdim=1, thresh=thresh)["dgms"]
    if shape.startswith("grid"):
        assert_same(got_x, theirs)
    else:
        assert_close(got_x, theirs)


def test_known_topology(rng):
    c = vietoris_rips(noisy_circle(rng, 100))
    assert long_bars(c[1], 0.8) == 1
    e = vietoris_rips(figure_eight(rng, 200))
    assert long_bars(e[1], 0.6) == 2
    t = vietoris_rips(torus(rng))
    assert long_bars(t[1], 0.9) == 2
    b = vietoris_rips(blobs(rng, 120))
    assert long_bars(b[0], 5.0) == 4  # three finite merges of clusters and the infinite bar
    # every diagram has exactly one infinite H0 bar and no infinite H1 bar without a threshold
    for dg in (c, e, t, b):
        assert np.isinf(dg[0][:, 1]).sum() == 1 and not np.isinf(dg[1][:, 1]).any()


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4])
def test_tiny_clouds(n, rng):
    X = rng.random((n, 2))
    got = vietoris_rips(X, return_generators=True)
    assert isinstance(got, Diagrams) and len(got) == 2
    assert all(d.dtype == np.float64 and d.ndim == 2 and d.shape[1] == 2 for d in got)
    if n == 0:
        assert got[0].shape == (0, 2) and got[1].shape == (0, 2)
        assert got.generators[0].shape == (0, 3) and got.generators[1].shape == (0, 5)
        return
    assert_same(got, ripser(X, maxdim=1)["dgms"])
    D = distance_matrix(X, 0)
    assert_same(vietoris_rips(D, distances=True), ripser_dm(D))


def test_duplicate_points_drop_zero_bars(rng):
    x = rng.random((10, 3))
    X = np.concatenate([x, x, x])
    got = vietoris_rips(X, return_generators=True)
    assert len(got[0]) == 10  # 9 finite bars + one infinite; the 20 zero-length merges are dropped
    assert np.all(got[0][:, 1] > 0)
    assert_same(got, ripser_dm(distance_matrix(X, 0)))
    same = vietoris_rips(np.zeros((5, 2)), return_generators=True)
    np.testing.assert_array_equal(same[0], [[0.0, np.inf]])
    assert same[1].shape == (0, 2)


@pytest.mark.parametrize("metric", ["manhattan", "chebyshev"])
def test_metrics_match_ripser(metric, rng):
    X = cube(rng, 90, 3)
    got = vietoris_rips(X, metric=metric)
    assert_close(got, ripser(X, maxdim=1, metric=metric)["dgms"])
    D = distance_matrix(X, metric)
    assert_same(got, ripser_dm(D))
    G = grid(rng, (6, 6))
    assert_same(vietoris_rips(G, metric=metric), ripser(G, maxdim=1, metric=metric)["dgms"])


def test_maxdim_zero_and_threshold(rng):
    X = blobs(rng, 150)
    full = vietoris_rips(X, maxdim=0, return_generators=True)
    assert len(full) == 1 and full.generators[0].shape == (len(full[0]), 3)
    assert_close(full, ripser(X, maxdim=0)["dgms"], maxdim=0)
    np.testing.assert_array_equal(full[0], vietoris_rips(X, maxdim=1)[0])
    # a small threshold leaves several components: one infinite bar each, like ripser
    D = distance_matrix(X, 0)
    t = float(np.quantile(D, 0.02))
    cut = vietoris_rips(X, maxdim=0, threshold=t)
    assert np.isinf(cut[0][:, 1]).sum() > 1
    assert_same(vietoris_rips(D, distances=True, maxdim=0, threshold=t), ripser_dm(D, maxdim=0, thresh=t), maxdim=0)
    # a threshold is inclusive and rounded to float32 like ripser's
    e = float(np.float32(D[0, 1]))
    assert_same(vietoris_rips(D, distances=True, threshold=e), ripser_dm(D, thresh=e))


def test_large_coordinates_do_not_lose_precision(rng):
    # far from the origin the dot-product formula cancels; the engine subtracts coordinates first
    X = 1e4 + rng.random((80, 3))
    D = distance_matrix(X, 0)
    assert_same(vietoris_rips(X), ripser_dm(D))
    big = rng.random((80, 2)) * 1e6
    assert_same(vietoris_rips(big), ripser_dm(distance_matrix(big, 0)))


def test_matches_gudhi(rng):
    for X in (noisy_circle(rng, 60), cube(rng, 50)):
        D = distance_matrix(X, 0).astype(np.float64)
        st = gudhi.RipsComplex(distance_matrix=D).create_simplex_tree(max_dimension=2)
        st.compute_persistence(homology_coeff_field=2)
        theirs = [st.persistence_intervals_in_dimension(k) for k in range(2)]
        assert_same(vietoris_rips(X), theirs)


def test_reference_backend_and_generators(rng):
    """The pure-Python homology reduction gives the same pairs AND the same simplex pairs."""
    for X in (cube(rng, 35), grid(rng, (4, 4, 2)), noisy_circle(rng, 30)):
        for thresh in (np.inf, 0.5):
            ours = vietoris_rips(X, threshold=thresh, return_generators=True)
            ref = vietoris_rips(X, threshold=thresh, return_generators=True, backend="reference")
            assert_same(ours, ref)
            for k in range(2):
                assert sorted(map(tuple, ours.generators[k].tolist())) == sorted(
                    map(tuple, ref.generators[k].tolist()))


# ---- batches -------------------------------------------------------------------------------------------

def test_batch_equals_single(rng):
    B = np.stack([noisy_circle(rng, 50) for _ in range(6)] + [grid(rng, (5, 10))[:, :2] * 0.1])
    batch = vietoris_rips(B, return_generators=True)
    assert isinstance(batch, list) and len(batch) == len(B)
    for x, got in zip(B, batch):
        one = vietoris_rips(x, return_generators=True)
        assert_same(got, one)
        for k in range(2):
            np.testing.assert_array_equal(got.generators[k], one.generators[k])
    # torch input, float32, distance matrices
    T = torch.from_numpy(B.astype(np.float32))
    for x, got in zip(T, vietoris_rips(T)):
        assert_same(got, vietoris_rips(x.numpy()))
    Ds = np.stack([distance_matrix(x, 0) for x in B])
    for D, got in zip(Ds, vietoris_rips(torch.from_numpy(Ds), distances=True)):
        assert_same(got, ripser_dm(D))


def test_list_of_clouds_of_different_sizes(rng):
    clouds = [cube(rng, int(n), 2) for n in rng.integers(0, 60, 9)] + [cube(rng, 1, 2)]
    got = vietoris_rips(clouds, maxdim=1)
    assert len(got) == len(clouds)
    for x, dg in zip(clouds, got):
        if len(x) == 0:
            assert dg[0].shape == (0, 2) and dg[1].shape == (0, 2)
        else:
            assert_same(dg, ripser_dm(distance_matrix(x, 0)))
    mats = [distance_matrix(x, 0) for x in clouds]
    for D, dg in zip(mats, vietoris_rips(mats, distances=True)):
        assert_same(dg, ripser_dm(D) if len(D) else [np.zeros((0, 2))] * 2)
    assert vietoris_rips([]) == []
    assert len(vietoris_rips(np.zeros((3, 0, 2)))) == 3


def test_thread_count_does_not_change_results(rng):
    batch = [cube(rng, 120) for _ in range(4)]
    big = cube(rng, 800, 32)  # parallel distance matrix and column collection
    wide = cube(rng, 1100, 1000)  # parallel Prim (H0 from points)
    prev = _C.omp_max_threads()
    runs = []
    try:
        for threads in (1, 3):
            _C.set_omp_threads(threads)
            runs.append(vietoris_rips(batch, return_generators=True)
                        + [vietoris_rips(big, return_generators=True),
                           vietoris_rips(wide, maxdim=0, return_generators=True)])
    finally:
        _C.set_omp_threads(prev)
    assert_close(runs[0][-1], ripser(wide, maxdim=0)["dgms"], maxdim=0)
    for a, b in zip(*runs):
        assert_identical(a, b)


def test_portable_kernels_match_avx2(seed, tmp_path):
    """PYDISENT_RIPS_GENERIC=1 selects the portable scan kernels instead of the AVX2 ones (chosen at
    load time); both must give identical diagrams and generators."""
    import os
    import subprocess
    import sys

    code = f"""
import numpy as np
from pydisent.topology import vietoris_rips
rng = np.random.default_rng({seed})
clouds = [rng.random((150, 3)), rng.integers(0, 5, (100, 2)).astype(float), rng.random((40, 1)), rng.random((300, 8))]
out = {{}}
for c, x in enumerate(clouds):
    dg = vietoris_rips(x, return_generators=True)
    for k in range(2):
        out[f"d{{c}}_{{k}}"] = dg[k]
        out[f"g{{c}}_{{k}}"] = dg.generators[k]
np.savez(r"{tmp_path}/" + __import__("os").environ.get("TAG", "x"), **out)
"""
    runs = {}
    for tag, generic in (("avx2", "0"), ("generic", "1")):
        env = dict(os.environ, PYDISENT_RIPS_GENERIC=generic, TAG=tag, OMP_NUM_THREADS="1")
        subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=os.getcwd(), timeout=120)
        runs[tag] = np.load(tmp_path / f"{tag}.npz")
    assert set(runs["avx2"].files) == set(runs["generic"].files)
    for key in runs["avx2"].files:
        np.testing.assert_array_equal(runs["avx2"][key], runs["generic"][key], err_msg=key)


def test_diagrams_container(rng):
    dg = vietoris_rips(noisy_circle(rng, 40))
    assert dg["dgms"] is dg.dgms and dg[0] is dg.dgms[0] and len(dg) == 2 and dg.maxdim == 1
    assert dg["generators"] is None
    assert [d.shape for d in dg] == [d.shape for d in dg.dgms]
    assert "H1" in repr(dg)
    with pytest.raises(KeyError):
        dg["cocycles"]


# ---- bad input -----------------------------------------------------------------------------------------

def test_bad_points():
    X = np.random.default_rng(0).random((10, 2))
    for bad in (np.nan, np.inf, -np.inf):
        Y = X.copy()
        Y[3, 1] = bad
        with pytest.raises(ValueError, match="points_or_distances.*NaN or infinite"):
            vietoris_rips(Y)
        with pytest.raises(ValueError, match=r"points_or_distances.*NaN or infinite"):
            vietoris_rips([X, Y])
    with pytest.raises(ValueError, match="points_or_distances.*dimensions"):
        vietoris_rips(X[0])
    with pytest.raises(ValueError, match="points_or_distances.*dimensions"):
        vietoris_rips(X.reshape(1, 1, 10, 2))
    with pytest.raises(ValueError, match=r"points_or_distances\[1\].*dimensions"):
        vietoris_rips([X, X[0]])
    with pytest.raises(TypeError, match="points_or_distances.*real"):
        vietoris_rips(X > 0.5)
    with pytest.raises(TypeError, match="points_or_distances.*real"):
        vietoris_rips(X.astype(np.complex64))
    with pytest.raises(TypeError, match="points_or_distances"):
        vietoris_rips("not a cloud")
    with pytest.raises(ValueError, match="points_or_distances.*same number of coordinates"):
        vietoris_rips([X, np.zeros((4, 3))])
    # integer coordinates are fine (converted to float64)
    G = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    assert_same(vietoris_rips(G), ripser(G.astype(float))["dgms"])


def test_bad_distance_matrices():
    D = distance_matrix(np.random.default_rng(0).random((8, 2)), 0).astype(np.float64)
    with pytest.raises(ValueError, match="points_or_distances.*square"):
        vietoris_rips(D[:, :5], distances=True)
    A = D.copy()
    A[1, 4] += 0.5
    with pytest.raises(ValueError, match="points_or_distances.*symmetric"):
        vietoris_rips(A, distances=True)
    N = D.copy()
    N[2, 5] = N[5, 2] = -1.0
    with pytest.raises(ValueError, match="points_or_distances.*negative"):
        vietoris_rips(N, distances=True)
    Q = D.copy()
    Q[2, 5] = Q[5, 2] = np.nan
    with pytest.raises(ValueError, match="points_or_distances.*NaN"):
        vietoris_rips(Q, distances=True)
    Z = D.copy()
    Z[3, 3] = 0.1
    with pytest.raises(ValueError, match="points_or_distances.*zero diagonal"):
        vietoris_rips(Z, distances=True)
    with pytest.raises(ValueError, match="points_or_distances.*cloud 1.*symmetric"):
        vietoris_rips([D, A], distances=True)
    with pytest.raises(ValueError, match="metric"):
        vietoris_rips(D, distances=True, metric="manhattan")
    # tiny asymmetry (e.g. torch.cdist) is accepted; the upper triangle is used like ripser.py
    T = D.copy()
    T[np.tril_indices(8, -1)] *= 1 + 1e-7
    assert_same(vietoris_rips(T, distances=True), ripser_dm(D))
    # infinite distances are missing edges
    I = D.copy()
    I[0, 1:] = I[1:, 0] = np.inf
    got = vietoris_rips(I, distances=True)
    assert np.isinf(got[0][:, 1]).sum() == 2


def test_bad_arguments():
    X = np.random.default_rng(0).random((10, 2))
    with pytest.raises(NotImplementedError, match=r"maxdim.*0 or 1"):
        vietoris_rips(X, maxdim=2)
    with pytest.raises(ValueError, match="maxdim"):
        vietoris_rips(X, maxdim=-1)
    with pytest.raises(TypeError, match="maxdim"):
        vietoris_rips(X, maxdim=1.0)
    with pytest.raises(ValueError, match="threshold"):
        vietoris_rips(X, threshold=-0.1)
    with pytest.raises(ValueError, match="threshold"):
        vietoris_rips(X, threshold=float("nan"))
    with pytest.raises(TypeError, match="threshold"):
        vietoris_rips(X, threshold="1")
    with pytest.raises(ValueError, match="metric"):
        vietoris_rips(X, metric="cosine")
    with pytest.raises(TypeError, match="distances"):
        vietoris_rips(X, distances="yes")
    with pytest.raises(TypeError, match="return_generators"):
        vietoris_rips(X, return_generators=1)
    with pytest.raises(ValueError, match="backend"):
        vietoris_rips(X, backend="gpu")


def test_torch_backend_name_is_a_deprecated_alias_of_reference():
    X = np.random.default_rng(0).random((12, 2))
    with pytest.warns(DeprecationWarning, match="backend='reference'"):
        old = vietoris_rips(X, backend="torch")
    assert_identical(old, vietoris_rips(X, backend="reference"))


def test_cpp_boundary_checks():
    """The compiled entry point re-checks what Python checked (second line of defence)."""
    from pydisent._dispatch import ref

    bad = torch.tensor([[0.0, 1.0], [float("nan"), 0.0]])
    with pytest.raises(ValueError, match="points_or_distances"):
        _C.rips_cpu(ref(bad.reshape(-1)), [0, 2], 2, False, EUCLIDEAN, 1, float("inf"), False, 1)
    asym = torch.tensor([[0.0, 1.0], [2.0, 0.0]])
    with pytest.raises(ValueError, match="symmetric"):
        _C.rips_cpu(ref(asym.reshape(-1)), [0, 2], 0, True, EUCLIDEAN, 1, float("inf"), False, 1)
    with pytest.raises(NotImplementedError, match="maxdim"):
        _C.rips_cpu(ref(asym.reshape(-1)), [0, 2], 0, True, EUCLIDEAN, 3, float("inf"), False, 1)
    with pytest.raises(ValueError, match="internal"):
        _C.rips_cpu(ref(asym.reshape(-1)), [0, 3], 0, True, EUCLIDEAN, 1, float("inf"), False, 1)


# ---- CUDA -------------------------------------------------------------------------------------------

def _packed_call(fn, clouds, distances, maxdim, threshold, metric=None):
    from pydisent._dispatch import ref

    flat = torch.cat([torch.as_tensor(c, dtype=torch.float64).reshape(-1) for c in clouds])
    offsets = np.concatenate([[0], np.cumsum([len(c) for c in clouds])]).tolist()
    dim = 0 if distances else clouds[0].shape[1]
    metric = _C.DistanceMetric.euclidean if metric is None else metric
    return fn(ref(flat), offsets, dim, distances, metric, maxdim, threshold, True, 2)


@pytest.mark.parametrize("distances", [False, True])
def test_gpu_data_flow_emulation(distances, rng):
    """The CUDA path's data flow (shared per-edge column test and key encoding, compaction, per-cloud
    key sort, host reduction of the copied-back filtration) gives the CPU engine's results; only the
    kernels themselves need a GPU to test."""
    clouds = [cube(rng, 70), grid(rng, (5, 5, 3)), noisy_circle(rng, 60)[:, :2] @ np.ones((2, 3)) * 0.5,
              cube(rng, 2), cube(rng, 0), cube(rng, 1), cube(rng, 3)]
    if distances:
        clouds = [distance_matrix(c, 0) for c in clouds]
    for maxdim in (0, 1):
        for thresh in (np.inf, 0.45):
            a = _packed_call(_C.rips_cpu, clouds, distances, maxdim, thresh)
            b = _packed_call(_C._rips_emulated_gpu_flow, clouds, distances, maxdim, thresh)
            for key in a:
                np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.mark.cuda
def test_cuda_matches_cpu(rng):
    """Same float32 distances (no FMA, same summation order) and the same reduction in the same
    order: the CUDA results equal the CPU results array for array, generators included."""
    batch = np.stack([cube(rng, 100) for _ in range(64)])
    for thresh in (np.inf, 0.4):
        got = vietoris_rips(torch.from_numpy(batch).cuda(), threshold=thresh, return_generators=True)
        for x, g in zip(batch, got):
            assert_identical(g, vietoris_rips(x, threshold=thresh, return_generators=True))
    for x in (noisy_circle(rng, 80), cube(rng, 150), grid(rng, (6, 6, 3)), cube(rng, 1), cube(rng, 2), cube(rng, 0)):
        assert_identical(vietoris_rips(torch.from_numpy(x).cuda(), return_generators=True),
                         vietoris_rips(x, return_generators=True))
        assert_identical(vietoris_rips(torch.from_numpy(x).float().cuda(), maxdim=0),
                         vietoris_rips(x.astype(np.float32), maxdim=0))
    D = np.stack([distance_matrix(x, 0) for x in batch[:8]])
    for d, g in zip(D, vietoris_rips(torch.from_numpy(D).cuda(), distances=True)):
        assert_same(g, ripser_dm(d))
    ragged = [cube(rng, int(n)) for n in (5, 40, 0, 90)]
    got = vietoris_rips([torch.from_numpy(x).cuda() for x in ragged], metric="manhattan", maxdim=1)
    for x, g in zip(ragged, got):
        assert_identical(g, vietoris_rips(x, metric="manhattan"))
    with pytest.raises(ValueError, match="points_or_distances.*NaN or infinite"):
        vietoris_rips(torch.full((5, 2), float("nan"), device="cuda"))


# ---- issue 15 regressions -------------------------------------------------------------------------

def test_rips_views_grad_and_huge_thresholds():
    """Defects 13, 14, 18: negative-stride views, requires_grad tensors, integer thresholds beyond float."""
    a = np.random.default_rng(0).random((10, 3))
    want = vietoris_rips(a[::-1].copy())
    got = vietoris_rips(a[::-1])
    for d0, d1 in zip(want.dgms, got.dgms):
        np.testing.assert_array_equal(d0, d1)
    t = torch.tensor(a, dtype=torch.float32, requires_grad=True)
    for d0, d1 in zip(vietoris_rips(t).dgms, vietoris_rips(t.detach()).dgms):
        np.testing.assert_array_equal(d0, d1)
    for d0, d1 in zip(vietoris_rips(a, threshold=10**400).dgms, vietoris_rips(a).dgms):
        np.testing.assert_array_equal(d0, d1)


def test_rips_infinite_distances_validated():
    """Defect 19: [[0, inf], [5, 0]] passed the symmetry check (tolerance relative to inf) and an
    all-inf off-diagonal matrix warned "invalid value in subtract"."""
    import warnings

    with pytest.raises(ValueError, match="symmetric"):
        vietoris_rips(np.array([[0, np.inf], [5.0, 0]]), distances=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = vietoris_rips(np.where(np.eye(3) > 0, 0.0, np.inf), distances=True)
    assert len(got.dgms[0]) == 3 and np.isinf(got.dgms[0][:, 1]).all()
