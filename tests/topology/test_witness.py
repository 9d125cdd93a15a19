"""Witness complexes: filtrations and diagrams equal gudhi's (WitnessComplex, StrongWitnessComplex) on the
same nearest-landmark table, hand-checked values, batching, the variants, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pydisent.topology import vietoris_rips
from pydisent.topology.witness import (
    _table,
    draw_landmarks,
    landmark_distances,
    landmark_rips_persistence,
    lazy_witness_persistence,
    nearest_landmark_table,
    witness_filtration,
    witness_persistence,
    witness_persistence_packed,
)

gudhi = pytest.importorskip("gudhi", reason="gudhi (test extra) is the reference for witness complexes")


def _cloud(rng, n, d, kind):
    if kind == "grid":  # integer coordinates: massive ties in the table
        return rng.integers(-2, 3, size=(n, d)).astype(np.float64)
    if kind == "dup":  # repeated points
        base = rng.normal(size=(max(1, n // 3), d))
        return base[rng.integers(0, len(base), n)]
    return rng.normal(size=(n, d))


def _gudhi_filtration(x, idx, strong, alpha, squared):
    """gudhi's complex built from exactly the engine's table."""
    table = nearest_landmark_table(x, idx, squared=squared)
    cls = gudhi.StrongWitnessComplex if strong else gudhi.WitnessComplex
    st = cls(nearest_landmark_table=table).create_simplex_tree(max_alpha_square=alpha, limit_dimension=2)
    return st, {tuple(sorted(s)): f for s, f in st.get_filtration()}


def _gudhi_diagrams(st, dim_max):
    st.persistence(homology_coeff_field=2, min_persistence=0, persistence_dim_max=dim_max)
    out = []
    for k in (0, 1):
        d = np.asarray(st.persistence_intervals_in_dimension(k), dtype=np.float64).reshape(-1, 2)
        out.append(sorted(map(tuple, d.tolist())))
    return out


def _cases(rng, count):
    for i in range(count):
        kind = ("normal", "grid", "dup")[i % 3]
        n = int(rng.integers(1, 30))
        L = int(rng.integers(1, 9))
        x = _cloud(rng, n, int(rng.integers(1, 4)), kind)
        idx = draw_landmarks(n, L, 2, rng)  # with replacement: duplicated landmarks
        squared = bool(i % 2)
        yield x, idx, squared


@pytest.mark.parametrize("strong", [False, True])
def test_filtration_equals_gudhi(rng, strong):
    for x, idx, squared in _cases(rng, 45):
        tmax = max(float(landmark_distances(x, i, squared=squared).max()) for i in idx)
        for alpha in (math.inf, 0.0, 0.3 * tmax, 0.05 * tmax):
            ours = witness_filtration(x, idx, strong=strong, max_alpha_square=alpha, squared=squared)
            for b, f in enumerate(ours):
                _, ref = _gudhi_filtration(x, idx[b], strong, alpha, squared)
                assert f.as_dict() == ref, (x.tolist(), idx[b].tolist(), alpha, squared)
                for s, v in zip(f.simplices, f.values):  # rows sorted, increasing vertices
                    assert (np.diff(s, axis=1) > 0).all()
                    assert len(v) == len(s)


@pytest.mark.parametrize("strong", [False, True])
@pytest.mark.parametrize("dim_max", [False, True])
def test_diagrams_equal_gudhi(rng, strong, dim_max):
    for x, idx, squared in _cases(rng, 30):
        tmax = max(float(landmark_distances(x, i, squared=squared).max()) for i in idx)
        for alpha in (math.inf, 0.2 * tmax, 0.05 * tmax):
            ours = witness_persistence(x, idx, strong=strong, max_alpha_square=alpha, squared=squared,
                                       persistence_dim_max=dim_max)
            for b, d in enumerate(ours):
                st, _ = _gudhi_filtration(x, idx[b], strong, alpha, squared)
                ref = _gudhi_diagrams(st, dim_max)
                assert sorted(map(tuple, d[0].tolist())) == ref[0]
                assert sorted(map(tuple, d[1].tolist())) == ref[1]
                assert d.max_alpha_square == alpha


def test_larger_cloud_and_reference_backend(rng):
    """A noisy circle in 16-d at the Geometry Score's truncation: many H1 bars, exact agreement."""
    n = 300
    t = rng.uniform(0, 2 * np.pi, n)
    q = np.linalg.qr(rng.normal(size=(16, 16)))[0]
    x = np.column_stack([np.cos(t), np.sin(t), 0.05 * rng.normal(size=(n, 14))]) @ q
    idx = draw_landmarks(n, 40, 3, rng)
    for strong in (False, True):
        ours = witness_persistence(x, idx, strong=strong, relative_alpha=1 / 16)
        ref = witness_persistence(x, idx, strong=strong, relative_alpha=1 / 16, backend="reference")
        assert sum(len(d[1]) for d in ours) > 0
        for a, b in zip(ours, ref):
            assert a.max_alpha_square == b.max_alpha_square
            for k in (0, 1):
                np.testing.assert_array_equal(a[k], b[k])


def test_hand_case():
    """Three points on a line, every point a landmark (plain distances), checked by hand."""
    x = np.array([[0.0], [1.0], [3.0]])
    idx = np.array([0, 1, 2])
    weak = witness_filtration(x, idx).as_dict()
    assert weak == {(0,): 0.0, (1,): 0.0, (2,): 0.0, (0, 1): 0.0, (1, 2): 0.0, (0, 2): 1.0, (0, 1, 2): 1.0}
    strong = witness_filtration(x, idx, strong=True).as_dict()
    assert strong == {(0,): 0.0, (1,): 0.0, (2,): 0.0, (0, 1): 1.0, (1, 2): 2.0, (0, 2): 2.0, (0, 1, 2): 2.0}
    # truncation: the weak edge (0, 2) needs alpha >= 1 (its best witness is point 3)
    assert (0, 2) not in witness_filtration(x, idx, max_alpha_square=0.99).as_dict()
    d = witness_persistence(x, idx)
    np.testing.assert_array_equal(d[0], [[0.0, math.inf]])
    assert d[1].shape == (0, 2)  # the cycle 0-1-2 is filled at the moment it closes


def test_strong_bound_is_a_float_and_strict():
    """gudhi keeps t0 + alpha in a float and needs t < bound: alpha = 0 gives an empty strong complex."""
    x = np.array([[0.0], [1.0], [3.0]])
    f = witness_filtration(x, np.array([0, 1, 2]), strong=True, max_alpha_square=0.0)
    assert all(len(s) == 0 for s in f.simplices)
    d = witness_persistence(x, np.array([0, 1, 2]), strong=True, max_alpha_square=0.0)
    assert d[0].shape == (0, 2) and d[1].shape == (0, 2)
    # 1 + 1e-9 rounds to 1.0f: the landmark at distance 1 + 1e-9 is not in the window of alpha 1
    x = np.array([[0.0], [1.0 + 1e-9]])
    _, ref = _gudhi_filtration(x, np.array([0, 1]), True, 1.0, False)
    assert witness_filtration(x, np.array([0, 1]), strong=True, max_alpha_square=1.0).as_dict() == ref
    assert (0, 1) not in ref


def test_one_landmark_and_tiny_clouds(rng):
    x = rng.normal(size=(5, 2))
    d = witness_persistence(x, np.array([3]), persistence_dim_max=True)
    np.testing.assert_array_equal(d[0], [[0.0, math.inf]])
    assert witness_persistence(x, np.array([3]))[0].shape == (0, 2)  # gudhi: top dimension (0) left out
    d = witness_persistence(rng.normal(size=(1, 3)), np.array([0, 0, 0]), persistence_dim_max=True)
    np.testing.assert_array_equal(d[0], [[0.0, math.inf]])  # three copies of one point: one component
    assert d[1].shape == (0, 2)


def test_table_is_the_reference_arithmetic(rng):
    x = rng.normal(size=(50, 7)) * 1e3
    idx = rng.integers(0, 50, 13)
    for squared in (False, True):
        np.testing.assert_array_equal(landmark_distances(x, idx, squared=squared), _table(x, idx, squared))
    t = nearest_landmark_table(x, idx)
    assert len(t) == 50 and len(t[0]) == 13
    assert all(a[1] <= b[1] for row in t for a, b in zip(row, row[1:]))


def test_relative_alpha_and_float32_input(rng):
    x = rng.normal(size=(80, 3))
    idx = draw_landmarks(80, 10, 4, rng)
    p = witness_persistence_packed(x, idx, relative_alpha=0.1)
    expect = [0.1 * landmark_distances(x, i).max() for i in idx]
    np.testing.assert_array_equal(p.max_alpha_square, expect)
    q = witness_persistence_packed(x, idx, max_alpha_square=np.array(expect))
    for a, b in zip(p.diagrams(), q.diagrams()):
        for k in (0, 1):
            np.testing.assert_array_equal(a[k], b[k])
    x32 = x.astype(np.float32)
    a = witness_persistence(torch.from_numpy(x32), torch.from_numpy(idx[0]), relative_alpha=0.1)
    b = witness_persistence(x32.astype(np.float64), idx[0], relative_alpha=0.1)
    np.testing.assert_array_equal(a[1], b[1])


def test_batched_equals_one_by_one(rng):
    x = rng.normal(size=(120, 4))
    idx = draw_landmarks(120, 15, 7, rng)
    for strong in (False, True):
        batch = witness_persistence(x, idx, strong=strong, relative_alpha=0.15)
        packed = witness_persistence_packed(x, idx, strong=strong, relative_alpha=0.15)
        assert packed.count == 7 and len(packed.off1) == 8
        for b in range(7):
            one = witness_persistence(x, idx[b], strong=strong, relative_alpha=0.15)
            for k in (0, 1):
                np.testing.assert_array_equal(batch[b][k], one[k])
                np.testing.assert_array_equal(packed.diagrams()[b][k], one[k])
        fb = witness_filtration(x, idx, strong=strong, relative_alpha=0.15)
        assert fb[3].as_dict() == witness_filtration(x, idx[3], strong=strong, relative_alpha=0.15).as_dict()


def test_threads_do_not_change_results(rng):
    from pydisent import _C

    x = rng.normal(size=(200, 5))
    idx = draw_landmarks(200, 20, 12, rng)
    before = _C.omp_max_threads()
    try:
        _C.set_omp_threads(1)
        one = witness_persistence_packed(x, idx, relative_alpha=0.1)
        _C.set_omp_threads(2)
        two = witness_persistence_packed(x, idx, relative_alpha=0.1)
    finally:
        _C.set_omp_threads(before)
    for a, b in ((one.h0, two.h0), (one.h1, two.h1), (one.off1, two.off1)):
        np.testing.assert_array_equal(a, b)


def test_empty_batch(rng):
    x = rng.normal(size=(10, 2))
    assert witness_persistence(x, np.zeros((0, 4), dtype=np.int64)) == []
    p = witness_persistence_packed(x, np.zeros((0, 4), dtype=np.int64))
    assert p.count == 0 and p.h1.shape == (0, 2)
    assert witness_filtration(x, np.zeros((0, 4), dtype=np.int64)) == []


def test_draw_landmarks(rng):
    a = draw_landmarks(10, 20, 3, np.random.default_rng(5))
    assert a.shape == (3, 20) and a.dtype == np.int64 and a.min() >= 0 and a.max() < 10
    np.testing.assert_array_equal(a, draw_landmarks(10, 20, 3, np.random.default_rng(5)))
    np.testing.assert_array_equal(a[0], np.random.default_rng(5).integers(0, 10, 20))  # the reference's draw
    b = draw_landmarks(10, 10, 4, rng, replace=False)
    assert all(len(set(r.tolist())) == 10 for r in b)
    assert draw_landmarks(10, 3, rng=rng).shape == (3,)
    with pytest.raises(ValueError, match="num_landmarks"):
        draw_landmarks(5, 6, 2, rng, replace=False)
    with pytest.raises(ValueError, match="n_points"):
        draw_landmarks(0, 3, 1, rng)
    with pytest.raises(TypeError, match="replace"):
        draw_landmarks(5, 3, 1, rng, replace="no")


def test_bad_input(rng):
    x = rng.normal(size=(10, 2))
    idx = np.array([0, 3, 5])
    with pytest.raises(ValueError, match="'points'"):
        witness_persistence(x[0], idx)
    with pytest.raises(ValueError, match="'points'"):
        witness_persistence(x[None], idx)
    with pytest.raises(ValueError, match="'points'"):
        witness_persistence(np.zeros((0, 2)), idx)
    xn = x.copy()
    xn[2, 1] = np.nan
    with pytest.raises(ValueError, match="'points'.*NaN"):
        witness_persistence(xn, idx)
    with pytest.raises(TypeError, match="'landmarks'"):
        witness_persistence(x, idx.astype(np.float64))
    with pytest.raises(ValueError, match="'landmarks'.*out of range"):
        witness_persistence(x, np.array([0, 10]))
    with pytest.raises(ValueError, match="'landmarks'.*out of range"):
        witness_persistence(x, np.array([[0, -1]]))
    with pytest.raises(ValueError, match="'landmarks'"):
        witness_persistence(x, np.zeros((2, 2, 2), dtype=np.int64))
    with pytest.raises(ValueError, match="'landmarks'"):
        witness_persistence(x, np.zeros((3, 0), dtype=np.int64))
    with pytest.raises(ValueError, match="'max_alpha_square'"):
        witness_persistence(x, idx, max_alpha_square=-0.1)
    with pytest.raises(ValueError, match="'max_alpha_square'"):
        witness_persistence(x, idx, max_alpha_square=float("nan"))
    with pytest.raises(ValueError, match="'max_alpha_square'"):
        witness_persistence(x, np.stack([idx, idx]), max_alpha_square=np.array([1.0, 2.0, 3.0]))
    with pytest.raises(TypeError, match="'max_alpha_square'"):
        witness_persistence(x, idx, max_alpha_square="big")
    with pytest.raises(ValueError, match="'relative_alpha'"):
        witness_persistence(x, idx, relative_alpha=0.0)
    with pytest.raises(ValueError, match="either"):
        witness_persistence(x, idx, relative_alpha=0.1, max_alpha_square=1.0)
    with pytest.raises(NotImplementedError, match="'maxdim'"):
        witness_persistence(x, idx, maxdim=2)
    with pytest.raises(ValueError, match="'backend'"):
        witness_persistence(x, idx, backend="gpu")
    with pytest.raises(TypeError, match="'strong'"):
        witness_persistence(x, idx, strong=1)
    with pytest.raises(TypeError, match="'points'"):
        witness_persistence(x.astype(np.complex128), idx)


def test_maxdim_zero(rng):
    x = rng.normal(size=(40, 2))
    idx = draw_landmarks(40, 8, rng=rng)
    d0 = witness_persistence(x, idx, relative_alpha=0.2, maxdim=0)
    d1 = witness_persistence(x, idx, relative_alpha=0.2)
    assert len(d0) == 1
    np.testing.assert_array_equal(d0[0], d1[0])


def test_variants(rng):
    """The Rips-engine variants are different methods: checked against their own definitions."""
    x = rng.normal(size=(60, 3))
    idx = draw_landmarks(60, 12, 2, rng)
    got = landmark_rips_persistence(x, idx)
    for b in range(2):
        ref = vietoris_rips(x[idx[b]])
        for k in (0, 1):
            np.testing.assert_array_equal(got[b][k], ref[k])
    t = landmark_distances(x, idx[0])
    m = np.sort(t, axis=1)[:, 1]  # nu = 2: the second smallest entry
    e = np.maximum((np.maximum(t[:, :, None], t[:, None, :]) - m[:, None, None]).min(axis=0), 0)
    np.fill_diagonal(e, 0)
    ref = vietoris_rips(e, distances=True)
    got = lazy_witness_persistence(x, idx[0], nu=2)
    for k in (0, 1):
        np.testing.assert_array_equal(got[k], ref[k])
    with pytest.raises(ValueError, match="'nu'"):
        lazy_witness_persistence(x, idx[0], nu=13)


@pytest.mark.cuda
@pytest.mark.parametrize("strong", [False, True])
def test_cuda_equals_cpu(rng, strong):
    x = rng.normal(size=(500, 8))
    idx = draw_landmarks(500, 30, 16, rng)
    cpu = witness_persistence_packed(x, idx, strong=strong, relative_alpha=0.05)
    gpu = witness_persistence_packed(torch.from_numpy(x).cuda(), idx, strong=strong, relative_alpha=0.05)
    pairs = ((cpu.h0, gpu.h0), (cpu.h1, gpu.h1), (cpu.off1, gpu.off1), (cpu.max_alpha_square, gpu.max_alpha_square))
    for a, b in pairs:
        np.testing.assert_array_equal(a, b)
    fc = witness_filtration(x, idx[:3], strong=strong, relative_alpha=0.05)
    fg = witness_filtration(torch.from_numpy(x).cuda(), idx[:3], strong=strong, relative_alpha=0.05)
    for a, b in zip(fc, fg):
        assert a.as_dict() == b.as_dict()


@pytest.mark.parametrize("strong", [False, True])
def test_gpu_data_flow_emulated_equals_cpu(rng, strong):
    """The CUDA pipeline's stages (per-witness emission, per-draw sort, run minima, host faces and
    reduction, CPU fallback for windows too large for a GPU thread) run on the CPU: same results."""
    for x, idx, squared in _cases(rng, 20):
        for kw in ({"relative_alpha": 0.2}, {"max_alpha_square": math.inf}, {"max_alpha_square": 0.0}):
            a = witness_persistence_packed(x, idx, strong=strong, squared=squared, **kw)
            b = witness_persistence_packed(x, idx, strong=strong, squared=squared, backend="_emulated_gpu", **kw)
            for u, v in ((a.h0, b.h0), (a.h1, b.h1), (a.off0, b.off0), (a.off1, b.off1),
                         (a.max_alpha_square, b.max_alpha_square)):
                np.testing.assert_array_equal(u, v)
            fa = witness_filtration(x, idx, strong=strong, squared=squared, **kw)
            fb = witness_filtration(x, idx, strong=strong, squared=squared, backend="_emulated_gpu", **kw)
            assert [f.as_dict() for f in fa] == [f.as_dict() for f in fb]
    # windows over the per-thread capacity (every landmark in every window) go to the CPU engine
    x = rng.normal(size=(12, 2))
    idx = draw_landmarks(12, 60, 2, rng)
    a = witness_persistence_packed(x, idx, strong=strong, persistence_dim_max=True)
    b = witness_persistence_packed(x, idx, strong=strong, persistence_dim_max=True, backend="_emulated_gpu")
    np.testing.assert_array_equal(a.h1, b.h1)
    np.testing.assert_array_equal(a.h0, b.h0)


def test_clouds_in_one_call_equal_per_cloud_calls(rng):
    from pydisent.topology import witness_persistence_clouds

    clouds = [rng.normal(size=(n, 3)) for n in (30, 45, 12)]
    lms = [draw_landmarks(len(c), 8, b, rng) for c, b in zip(clouds, (3, 1, 4))]
    for strong in (False, True):
        got = witness_persistence_clouds(clouds, lms, strong=strong, relative_alpha=0.2)
        ref = [witness_persistence_packed(c, i, strong=strong, relative_alpha=0.2) for c, i in zip(clouds, lms)]
        want = [d for r in ref for d in r.diagrams()]
        assert got.count == len(want) == 8
        for a, b in zip(got.diagrams(), want):
            assert a.max_alpha_square == b.max_alpha_square
            for k in (0, 1):
                np.testing.assert_array_equal(a[k], b[k])
    same = np.stack([rng.normal(size=(20, 2)) for _ in range(2)])
    got = witness_persistence_clouds(same, np.stack([draw_landmarks(20, 5, 2, rng) for _ in range(2)]),
                                     max_alpha_square=0.5)
    assert got.count == 4
    with pytest.raises(ValueError, match="'landmarks'"):
        witness_persistence_clouds(clouds, lms[:2])
    with pytest.raises(ValueError, match="'landmarks'.*out of range"):
        witness_persistence_clouds(clouds, [lms[0], lms[1], np.array([[40] * 8])])


def test_alternating_landmark_counts_reuse_buffers(rng):
    """Per-thread buffers sized for one L must not leak into a call with another L."""
    x = rng.normal(size=(60, 2))
    for L in (12, 3, 12, 1, 7):
        idx = draw_landmarks(60, L, 2, rng)
        a = witness_persistence_packed(x, idx, relative_alpha=0.3, persistence_dim_max=True)
        b = witness_persistence_packed(x, idx, relative_alpha=0.3, persistence_dim_max=True, backend="reference")
        np.testing.assert_array_equal(a.h0, b.h0)
        np.testing.assert_array_equal(a.h1, b.h1)
