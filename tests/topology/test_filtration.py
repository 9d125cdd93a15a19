"""Persistence of explicit filtrations equals gudhi's SimplexTree.persistence (Z/2), ties included."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pydisent.topology import draw_landmarks, filtration_persistence, witness_filtration, witness_persistence

gudhi = pytest.importorskip("gudhi", reason="gudhi (test extra) is the reference")


def _random_filtration(rng, n, integer):
    """A random valid filtration: faces first, values non-decreasing along cofaces (integers: many ties)."""
    step = (lambda: float(rng.integers(0, 3))) if integer else (lambda: float(rng.random()))
    f = {(i,): step() for i in range(n)}
    for e in itertools.combinations(range(n), 2):
        if rng.random() < 0.6:
            f[e] = max(f[(e[0],)], f[(e[1],)]) + step()
    for t in itertools.combinations(range(n), 3):
        faces = list(itertools.combinations(t, 2))
        if all(x in f for x in faces) and rng.random() < 0.5:
            f[t] = max(f[x] for x in faces) + step()
    return f


def _gudhi(f, dim_max):
    st = gudhi.SimplexTree()
    for s, v in f.items():
        st.insert(list(s), v)
    st.persistence(homology_coeff_field=2, persistence_dim_max=dim_max)
    return [sorted(map(tuple, np.asarray(st.persistence_intervals_in_dimension(k)).reshape(-1, 2).tolist()))
            for k in (0, 1)]


@pytest.mark.parametrize("dim_max", [True, False])
def test_equals_gudhi(rng, dim_max):
    fs = [_random_filtration(rng, int(rng.integers(1, 12)), i % 2 == 0) for i in range(80)]
    got = filtration_persistence(fs, persistence_dim_max=dim_max)  # one call for all
    assert len(got) == len(fs)
    for f, d in zip(fs, got):
        assert [sorted(map(tuple, d[k].tolist())) for k in (0, 1)] == _gudhi(f, dim_max)
        one = filtration_persistence(f, persistence_dim_max=dim_max)
        for k in (0, 1):
            np.testing.assert_array_equal(one[k], d[k])


def test_witness_filtration_roundtrip(rng):
    x = rng.normal(size=(80, 3))
    idx = draw_landmarks(80, 12, 3, rng)
    for strong in (False, True):
        fs = witness_filtration(x, idx, strong=strong, relative_alpha=0.2)
        direct = witness_persistence(x, idx, strong=strong, relative_alpha=0.2)
        via = filtration_persistence(fs, persistence_dim_max=False)
        as_pairs = filtration_persistence([(f.simplices, f.values) for f in fs], persistence_dim_max=False)
        for a, b, c in zip(direct, via, as_pairs):
            for k in (0, 1):
                np.testing.assert_array_equal(a[k], b[k])
                np.testing.assert_array_equal(a[k], c[k])


def test_empty_and_maxdim():
    d = filtration_persistence({})
    assert d[0].shape == (0, 2) and d[1].shape == (0, 2)
    d = filtration_persistence({(0,): 0.0, (1,): 1.0, (0, 1): 2.0}, maxdim=0)
    assert len(d) == 1
    np.testing.assert_array_equal(d[0], [[1.0, 2.0], [0.0, np.inf]])


def test_bad_input():
    with pytest.raises(ValueError, match="face that is not in"):
        filtration_persistence({(0,): 0.0, (0, 1): 1.0})
    with pytest.raises(ValueError, match="larger value"):
        filtration_persistence({(0,): 0.0, (1,): 2.0, (0, 1): 1.0})
    with pytest.raises(ValueError, match="larger value"):
        filtration_persistence({(0,): 0, (1,): 0, (2,): 0, (0, 1): 1, (0, 2): 1, (1, 2): 3, (0, 1, 2): 2})
    with pytest.raises(ValueError, match="repeats a vertex"):
        filtration_persistence({(0,): 0.0, (0, 0): 1.0})
    with pytest.raises(ValueError, match="NaN"):
        filtration_persistence({(0,): float("nan")})
    with pytest.raises(ValueError, match="1 to 3 vertices"):
        filtration_persistence({(0, 1, 2, 3): 0.0})
    with pytest.raises(ValueError, match=r"filtrations'\[1\]"):
        filtration_persistence([{(0,): 0.0}, {(0, 1): 1.0}])
    with pytest.raises(ValueError, match="vertex ids"):
        filtration_persistence({(-1,): 0.0})
    with pytest.raises(ValueError, match="'maxdim'"):
        filtration_persistence({(0,): 0.0}, maxdim=2)
