"""Normalised sparsity (Mathieu et al. 2019), hand-checked."""

from __future__ import annotations

import numpy as np
import pytest

import pydisent.metrics as pm
from tests._references import disentanglement_lib as ref


# -- Mathieu et al. ----------------------------------------------------------------------------------------
def test_sparsity_hand_checked(rng):
    onehot = np.eye(6)[rng.integers(0, 6, 500)] * rng.uniform(0.5, 2, (500, 1))
    onehot[:6] = np.eye(6)  # every dimension used
    assert pm.sparsity(onehot)["normalised_sparsity"] == pytest.approx(1.0, abs=1e-12)
    flat = np.ones((10, 4)) + np.eye(10, 4) * 1e-9
    assert pm.sparsity(flat, normalise=False)["sparsity"] == pytest.approx(0.0, abs=1e-6)
    dense = rng.standard_normal((1000, 10))
    got = pm.sparsity(dense)["normalised_sparsity"]
    assert got == pytest.approx(ref.hoyer_sparsity(dense), abs=1e-12)
    assert 0.2 < got < 0.33  # ~0.267 for N(0, I_10) (spec)


# ---- issue 15 regressions -------------------------------------------------------------------------

def test_sparsity_extreme_scales():
    """Defect 7: 1e160 codes raised a false "row 0 is all zero" (the std overflowed)."""
    import pytest

    import pydisent.metrics as pm
    from tests._probe import probe

    C, F, _ = probe()
    for normalise in (True, False):
        want = pm.sparsity(C, normalise=normalise)
        for s in (1e-300, 1e-160, 1e160, 1e300):
            got = pm.sparsity(C * s, normalise=normalise)
            assert got.keys() == want.keys()
            assert list(got.values())[0] == pytest.approx(list(want.values())[0], rel=1e-9)
