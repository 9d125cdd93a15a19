import numpy as np
import pytest

from pydisent.data import FactorSpace


def test_index_roundtrip_random(rng):
    sizes = rng.integers(1, 7, size=rng.integers(1, 6))
    fs = FactorSpace(sizes)
    idx = rng.integers(0, fs.size, size=500)
    pos = fs.idx_to_pos(idx)
    assert pos.shape == (500, len(sizes))
    np.testing.assert_array_equal(fs.pos_to_idx(pos), idx)
    # row-major, last factor fastest: the same as numpy's ravel_multi_index
    np.testing.assert_array_equal(np.ravel_multi_index(pos.T, sizes), idx)


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


def test_bad_input():
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


def test_traversals_hold_other_factors(rng):
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
