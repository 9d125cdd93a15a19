"""Property tests of FactorSpace (hypothesis; profiles in tests/conftest.py)."""

import numpy as np
import pytest

pytest.importorskip("hypothesis", reason="property tests need hypothesis (the `test` extra)")

from hypothesis import given  # noqa: E402

from pydisent.data.factors import FactorSpace  # noqa: E402
from tests._strategies import examples, st  # noqa: E402


@examples(50)
@given(sizes=st.lists(st.integers(1, 2**40), min_size=1, max_size=4), seed=st.integers(0, 2**32 - 1),
       dtype=st.sampled_from([np.int64, np.uint64, np.int32, np.float64]))
def test_index_round_trip_or_clear_error(sizes, seed, dtype):
    total = int(np.prod([int(s) for s in sizes], dtype=object))
    if total > np.iinfo(np.int64).max:
        with pytest.raises(ValueError, match="'sizes'"):
            FactorSpace(sizes)
        return
    fs = FactorSpace(sizes)
    assert fs.size == total
    f = fs.sample_factors(5, seed)
    assert ((f >= 0) & (f < np.asarray(sizes)[None])).all()
    if dtype == np.int32 and f.max(initial=0) > np.iinfo(np.int32).max:
        return
    if dtype == np.float64 and f.max(initial=0) > 2**53:
        return
    idx = fs.pos_to_idx(f.astype(dtype))
    np.testing.assert_array_equal(fs.idx_to_pos(idx), f)
    last = np.asarray(sizes) - 1
    assert int(fs.pos_to_idx(last)[0]) == total - 1


@examples(30)
@given(bad=st.one_of(st.floats(allow_nan=True).filter(lambda v: not float(v).is_integer() or v <= 0),
                     st.text(max_size=2), st.none(), st.booleans(), st.integers(-5, 0)))
def test_bad_sizes_are_value_or_type_errors(bad):
    with pytest.raises((ValueError, TypeError), match="'sizes'"):
        FactorSpace([3, bad])
