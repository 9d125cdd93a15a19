"""pydisent.data.factors: FactorSpace index algebra, sampling, traversals, weak-supervision pairs and
distance-ordered triplets."""

from fractions import Fraction

import numpy as np
import pytest

from pydisent.data import FactorSpace


def _space(rng, min_size=1, max_size=7, max_factors=6):
    sizes = rng.integers(min_size, max_size + 1, size=rng.integers(2, max_factors + 1))
    return FactorSpace(sizes)


def test_roundtrip_random_spaces(rng):
    for _ in range(20):
        fs = _space(rng)
        idx = rng.integers(0, fs.size, size=300)
        pos = fs.idx_to_pos(idx)
        assert (pos >= 0).all() and (pos < fs.sizes).all()
        np.testing.assert_array_equal(fs.pos_to_idx(pos), idx)
        f = fs.sample_factors(200, rng)
        np.testing.assert_array_equal(fs.idx_to_pos(fs.pos_to_idx(f)), f)
    # the whole space enumerates each factor vector once, last factor fastest
    fs = FactorSpace([2, 3, 4])
    allpos = fs.idx_to_pos(np.arange(fs.size))
    np.testing.assert_array_equal(allpos[:5], [[0, 0, 0], [0, 0, 1], [0, 0, 2], [0, 0, 3], [0, 1, 0]])
    assert len({tuple(p) for p in allpos}) == fs.size
    np.testing.assert_array_equal(np.ravel_multi_index(allpos.T, fs.sizes), np.arange(fs.size))


def test_traversals_all_modes_hold_others(rng):
    fs = FactorSpace([5, 4, 6])
    base = fs.sample_factors(9, rng)
    for mode in FactorSpace.TRAVERSAL_MODES:
        for k in range(3):
            t = fs.traversals(k, base, num=7, mode=mode)
            others = [j for j in range(3) if j != k]
            np.testing.assert_array_equal(t[:, :, others], np.repeat(base[:, None, others], 7, axis=1))
            assert (t[:, :, k] >= 0).all() and (t[:, :, k] < fs.sizes[k]).all()


def test_sampling_matches_dlib_column_order():
    fs = FactorSpace([3, 5, 7])
    a = fs.sample_factors(100, np.random.RandomState(0))
    rs = np.random.RandomState(0)
    b = np.stack([rs.randint(s, size=100) for s in (3, 5, 7)], axis=1)
    np.testing.assert_array_equal(a, b)


def test_resample_other_factors_keeps(rng):
    fs = FactorSpace([4, 4, 4], ["a", "b", "c"])
    f = fs.sample_factors(200, rng)
    g = fs.resample_other_factors(f, ["b"], rng)
    np.testing.assert_array_equal(f[:, 1], g[:, 1])
    assert (f[:, [0, 2]] != g[:, [0, 2]]).any()


def test_index_bad_input():
    fs = FactorSpace([2, 3], ["x", "y"])
    with pytest.raises(ValueError, match="'factors' is out of range.*y"):
        fs.pos_to_idx([[0, 3]])
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        fs.pos_to_idx([[0, 1, 2]])
    with pytest.raises(ValueError, match="'indices'"):
        fs.idx_to_pos([6])
    with pytest.raises(ValueError, match="'sizes'"):
        FactorSpace([2, 0])
    with pytest.raises(ValueError, match="unknown factor name"):
        fs.factor_index("z")


def test_sample_traversals_vary_one_factor(rng):
    fs = FactorSpace([5, 3, 4])
    t = fs.sample_traversals(2, 7, rng)
    assert t.shape == (7, 4, 3)
    np.testing.assert_array_equal(t[:, :, 2], np.broadcast_to(np.arange(4), (7, 4)))
    assert (t[:, :, :2] == t[:, :1, :2]).all()
    t = fs.sample_traversals(0, 3, rng, num=3)
    np.testing.assert_array_equal(t[0, :, 0], [0, 2, 4])


def test_cyclic_traversal_starts_at_base(rng):
    fs = FactorSpace([6, 2])
    base = fs.sample_factors(10, rng)
    t = fs.traversals(0, base, num=10, mode="cycle_from_start")
    np.testing.assert_array_equal(t[:, 0, 0], base[:, 0])
    np.testing.assert_array_equal(t[:, :, 1], np.repeat(base[:, 1:2], 10, axis=1))
    np.testing.assert_array_equal(fs.traversal_values(0, mode="cycle", num=10), [0, 1, 2, 3, 4, 5, 4, 3, 2, 1])


# -- pairs ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("k", [0, 1, 2, 4, 5])
def test_pairs_sharing_force_different_share_exactly_k(rng, k):
    fs = FactorSpace([3, 4, 2, 5, 6])
    a, b, shared = fs.sample_pairs_sharing(2000, k, rng, force_different=True)
    assert a.shape == b.shape == shared.shape == (2000, 5)
    np.testing.assert_array_equal(shared.sum(1), k)
    np.testing.assert_array_equal(a == b, shared)  # exactly the chosen factors are equal
    fs.check_factors(b)


@pytest.mark.parametrize("k", [0, 2, 3])
def test_pairs_sharing_resampled_keep_chosen(rng, k):
    fs = FactorSpace([2, 3, 4])
    a, b, shared = fs.sample_pairs_sharing(5000, k, rng)
    np.testing.assert_array_equal(shared.sum(1), k)
    assert ((a == b) | ~shared).all()  # shared factors are kept
    if k < 3:
        # resampled factors may coincide with the old value: about 1/size of the time
        coincide = ((a == b) & ~shared)[:, 0].sum() / max(1, (~shared[:, 0]).sum())
        assert 0.4 < coincide < 0.6  # size 2: probability 1/2


def test_pairs_sharing_subset_uniform(rng):
    fs = FactorSpace([4] * 5)
    _, _, shared = fs.sample_pairs_sharing(20000, 2, rng)
    freq = shared.mean(0)
    np.testing.assert_allclose(freq, 2 / 5, atol=0.02)
    # every one of the C(5,2) = 10 subsets appears about equally often
    codes = (shared * (1 << np.arange(5))).sum(1)
    counts = np.unique(codes, return_counts=True)[1]
    assert len(counts) == 10 and counts.min() > 0.08 * 20000


@pytest.mark.parametrize("k", [1, 3, 5])
def test_pairs_differing(rng, k):
    fs = FactorSpace([3, 4, 2, 5, 6])
    a, b, changed = fs.sample_pairs_differing(3000, k, rng, force_different=True)
    np.testing.assert_array_equal(changed.sum(1), k)
    np.testing.assert_array_equal(a != b, changed)
    a, b, changed = fs.sample_pairs_differing(3000, k, rng)
    np.testing.assert_array_equal(changed.sum(1), k)
    assert ((a == b) | changed).all()


def test_pairs_random_k_and_dlib_quirk(rng):
    fs = FactorSpace([5, 5, 5, 5])
    _, _, changed = fs.sample_pairs_differing(4000, "random", rng, force_different=True)
    ks = changed.sum(1)
    assert set(np.unique(ks)) == {1, 2, 3}  # k uniform in 1..F-1
    _, _, shared = fs.sample_pairs_sharing(4000, -1, rng)
    assert set(np.unique(shared.sum(1))) == {1, 2, 3}
    # disentanglement_lib's simple_dynamics: choice([1, k]) factors change
    _, _, changed = fs.sample_pairs_differing(4000, 3, rng, dlib_quirk=True)
    ks, counts = np.unique(changed.sum(1), return_counts=True)
    assert list(ks) == [1, 3] and abs(counts[0] / 4000 - 0.5) < 0.05
    # per-row k and given first elements
    base = fs.sample_factors(6, rng)
    kk = np.array([0, 1, 2, 3, 4, 2])
    a, b, changed = fs.sample_pairs_differing(None, kk, rng, factors=base, force_different=True)
    np.testing.assert_array_equal(a, base)
    np.testing.assert_array_equal(changed.sum(1), kk)


def test_pairs_reproducible_with_randomstate():
    fs = FactorSpace([3, 6, 40, 32, 32])
    x = fs.sample_pairs_sharing(50, 2, np.random.RandomState(3))
    y = fs.sample_pairs_sharing(50, 2, np.random.RandomState(3))
    for u, v in zip(x, y):
        np.testing.assert_array_equal(u, v)


def test_pairs_bad_input(rng):
    fs = FactorSpace([1, 4, 4], ["const", "a", "b"])
    with pytest.raises(ValueError, match="'k'"):
        fs.sample_pairs_sharing(5, 4, rng)
    with pytest.raises(ValueError, match="'k'"):
        fs.sample_pairs_differing(5, -2, rng)
    with pytest.raises(TypeError, match="'k'"):
        fs.sample_pairs_differing(5, 1.5, rng)
    with pytest.raises(ValueError, match="'k'"):
        fs.sample_pairs_differing(5, "some", rng)
    with pytest.raises(ValueError, match="'k'"):
        fs.sample_pairs_differing(5, [1, 2], rng)
    # a factor with one value cannot differ
    with pytest.raises(ValueError, match="more than one value"):
        fs.sample_pairs_differing(5, 3, rng, force_different=True)
    a, b, shared = fs.sample_pairs_sharing(50, 1, rng, force_different=True)
    assert shared[:, 0].all() and (a != b)[:, 1:].all()
    with pytest.raises(ValueError, match="'n'"):
        fs.sample_pairs_sharing(3, 1, rng, factors=[[0, 0, 0]])
    with pytest.raises(ValueError, match="'factors' is out of range"):
        fs.sample_pairs_sharing(None, 1, rng, factors=[[0, 4, 0]])


# -- distances and triplets ------------------------------------------------------------------------
def _exact(a, b, sizes, metric):
    d = [abs(int(x) - int(y)) for x, y in zip(a, b)]
    if metric == "factors":
        return sum(v > 0 for v in d)
    if metric.endswith("_scaled"):
        d = [Fraction(v, max(int(s) - 1, 1)) for v, s in zip(d, sizes)]
    return sum(d) if metric.startswith("manhattan") else sum(v * v for v in d)


@pytest.mark.parametrize("mode", ["factors", "manhattan", "manhattan_scaled", "euclidean", "euclidean_scaled"])
def test_triplets_ordered(rng, mode):
    fs = FactorSpace([3, 6, 40, 32, 32])
    a, p, n = fs.sample_triplets(3000, rng, mode=mode)
    for x in (a, p, n):
        fs.check_factors(x)
    # exact comparison (Fractions), row by row on a subset
    for i in range(0, 3000, 7):
        assert _exact(a[i], p[i], fs.sizes, mode) <= _exact(a[i], n[i], fs.sizes, mode)
    assert (fs.distance(a, p, mode) <= fs.distance(a, n, mode) + 1e-12).all()
    # swap_chance=1 reverses every ordering
    a, p, n = fs.sample_triplets(500, rng, mode=mode, swap_chance=1.0)
    assert (fs.distance(a, p, mode) >= fs.distance(a, n, mode) - 1e-12).all()


def test_triplets_combined_and_random(rng):
    fs = FactorSpace([4, 4, 4, 4])
    a, p, n = fs.sample_triplets(3000, rng, mode="combined_scaled")
    kp, kn = fs.distance(a, p, "factors"), fs.distance(a, n, "factors")
    dp, dn = fs.distance(a, p, "manhattan_scaled"), fs.distance(a, n, "manhattan_scaled")
    assert ((kp < kn) | ((kp == kn) & (dp <= dn + 1e-12))).all()
    a, p, n = fs.sample_triplets(3000, rng, mode="random")
    assert (fs.distance(a, p) > fs.distance(a, n)).any()  # no reordering
    base = fs.sample_factors(10, rng)
    a, _, _ = fs.sample_triplets(None, rng, anchors=base)
    np.testing.assert_array_equal(a, base)


def test_distance_values_and_exact_ties():
    fs = FactorSpace([11, 11, 11, 11])
    a = np.array([[0, 0, 0, 0]])
    p = np.array([[1, 1, 1, 0]])
    n = np.array([[0, 0, 0, 3]])
    # 0.1 + 0.1 + 0.1 != 0.3 in floating point, but the scaled distances tie exactly
    assert fs._distance_key(a, p, "manhattan_scaled")[0] == fs._distance_key(a, n, "manhattan_scaled")[0]
    np.testing.assert_allclose(fs.distance(a, p, "manhattan_scaled"), [0.3])
    np.testing.assert_allclose(fs.distance(a, n, "euclidean"), [3.0])
    np.testing.assert_allclose(fs.distance(a, p, "factors"), [3.0])
    fs1 = FactorSpace([1, 5])  # a single-valued factor scales by 1, not 0
    np.testing.assert_allclose(fs1.distance([[0, 0]], [[0, 4]], "manhattan_scaled"), [1.0])


def test_triplets_bad_input(rng):
    fs = FactorSpace([3, 3])
    with pytest.raises(ValueError, match="'mode'"):
        fs.sample_triplets(5, rng, mode="cosine")
    with pytest.raises(ValueError, match="'swap_chance'"):
        fs.sample_triplets(5, rng, swap_chance=1.5)
    with pytest.raises(ValueError, match="'metric'"):
        fs.distance([[0, 0]], [[1, 1]], "chebyshev")
    with pytest.raises(ValueError, match="same shape"):
        fs.distance([[0, 0]], [[1, 1], [0, 0]])


# ---- issue 15 regressions -------------------------------------------------------------------------

def test_factor_space_sizes_beyond_int64():
    """Defect 11: FactorSpace([2**32, 2**32]).size was 0 (int64 cumprod wrapped) and pos_to_idx -1."""
    import numpy as np
    import pytest

    from pydisent.data.factors import FactorSpace

    with pytest.raises(ValueError, match="argument 'sizes'.*int64"):
        FactorSpace([2**32, 2**32])
    fs = FactorSpace([2**31, 2**31])
    assert fs.size == 2**62
    last = np.array([[2**31 - 1, 2**31 - 1]])
    assert int(fs.pos_to_idx(last)[0]) == 2**62 - 1
    np.testing.assert_array_equal(fs.idx_to_pos([2**62 - 1]), last)


def test_factor_space_rejects_non_integers():
    """Defect 12: sizes [2.7, 3] were truncated, ['a'] leaked int()'s message, n=2.5 drew 2 rows."""
    import numpy as np
    import pytest

    from pydisent.data.factors import FactorSpace

    for bad in ([2.7, 3], ["a"], [True, 2], [None]):
        with pytest.raises(TypeError, match="argument 'sizes'"):
            FactorSpace(bad)
    with pytest.raises(TypeError, match="argument 'sizes'"):
        FactorSpace(5)
    assert FactorSpace([2.0, np.int64(3)]).sizes.tolist() == [2, 3]  # integral values stay accepted
    fs = FactorSpace([2, 3])
    with pytest.raises(TypeError, match="argument 'n'"):
        fs.sample_factors(2.5, 0)
    with pytest.raises(ValueError, match="argument 'n'"):
        fs.sample_factors(-1, 0)
    assert fs.sample_factors(np.int64(4), 0).shape == (4, 2)


def test_factor_values_reported_as_given():
    """Defect 23: a uint64 2**63 factor was reported as -9223372036854775808."""
    import numpy as np
    import pytest

    from pydisent.data.factors import FactorSpace

    fs = FactorSpace([2, 2])
    with pytest.raises(ValueError, match="value 9223372036854775808 at row 0"):
        fs.pos_to_idx(np.array([[2**63, 0]], dtype=np.uint64))
    with pytest.raises(ValueError, match="value 100000000000000000000 at row 0"):
        fs.pos_to_idx(np.array([[1e20, 0.0]]))
