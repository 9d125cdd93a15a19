"""Property tests of vietoris_rips (hypothesis; profiles in tests/conftest.py): permutation invariance,
equality with ripser on exact distance matrices, result or ValueError/TypeError."""

import numpy as np
import pytest

pytest.importorskip("hypothesis", reason="property tests need hypothesis (the `test` extra)")

from hypothesis import given  # noqa: E402

from pydisent.topology import vietoris_rips  # noqa: E402
from tests._strategies import examples, point_sets, st, view  # noqa: E402

ripser = pytest.importorskip("ripser", reason="the ripser comparison needs ripser (the `test` extra)")


def _sorted(d):
    d = np.asarray(d, dtype=np.float64).reshape(-1, 2)
    return d[np.lexsort((d[:, 1], d[:, 0]))]


@st.composite
def integer_matrices(draw):
    """Symmetric distance matrices with small integer entries (exact in float32), ties common."""
    n = draw(st.integers(0, 9))
    vals = draw(st.lists(st.integers(1, 6), min_size=n * (n - 1) // 2, max_size=n * (n - 1) // 2))
    m = np.zeros((n, n))
    m[np.triu_indices(n, 1)] = vals
    return m + m.T


@examples(40)
@given(d=integer_matrices(), perm_seed=st.integers(0, 2**31), maxdim=st.sampled_from([0, 1]),
       threshold=st.sampled_from([np.inf, 3.0, 10**400]))
def test_matrix_diagrams_equal_ripser_and_permutation_invariant(d, perm_seed, maxdim, threshold):
    got = vietoris_rips(d, maxdim=maxdim, distances=True, threshold=threshold)
    n = d.shape[0]
    if n:
        ref = ripser.ripser(d, maxdim=maxdim, distance_matrix=True,
                            thresh=np.inf if threshold == 10**400 else threshold)["dgms"]
        for k in range(maxdim + 1):
            np.testing.assert_array_equal(_sorted(got.dgms[k]), _sorted(ref[k]))
    p = np.random.default_rng(perm_seed).permutation(n)
    again = vietoris_rips(view(d[p][:, p], "fortran"), maxdim=maxdim, distances=True, threshold=threshold)
    for k in range(maxdim + 1):
        np.testing.assert_array_equal(_sorted(got.dgms[k]), _sorted(again.dgms[k]))


@examples(30)
@given(x=point_sets(max_n=10, max_d=3, extreme=False), metric=st.sampled_from(["euclidean", "manhattan",
                                                                                 "chebyshev"]))
def test_point_diagrams_permutation_invariant(x, metric):
    got = vietoris_rips(x, metric=metric)
    p = np.random.default_rng(0).permutation(x.shape[0])
    again = vietoris_rips(np.asarray(x)[p], metric=metric)
    for k in range(2):
        np.testing.assert_array_equal(_sorted(got.dgms[k]), _sorted(again.dgms[k]))


@examples(25)
@given(x=point_sets(max_n=6, max_d=3), bad=st.sampled_from([None, np.nan, np.inf, "str", -1.0, 5]),
       arg=st.sampled_from(["points", "threshold", "maxdim", "metric"]))
def test_result_or_value_type_error(x, bad, arg):
    kw = {}
    pts = np.asarray(x).copy()
    if arg == "points" and pts.size and bad is not None and not isinstance(bad, str):
        pts.flat[0] = bad
    else:
        kw = {"threshold": bad} if arg == "threshold" else {"maxdim": bad} if arg == "maxdim" else {"metric": bad}
    try:
        vietoris_rips(pts, **kw)
    except (ValueError, TypeError, NotImplementedError):
        pass
