"""Flatness on embeddings with known answers."""

import numpy as np
import pytest
import torch

from pydisent.metrics._flatness import KEYS as FLAT_KEYS
from pydisent.metrics._flatness import flatness
from tests.metrics._embeddings import axis_embedding, run

# -- flatness -------------------------------------------------------------------------------------

def test_flatness_of_lines(rng):
    W = torch.tensor(rng.normal(size=(4, 5)), dtype=torch.float32)
    r = run("flatness", lambda x: x @ W, repeats=16)
    assert set(r) == set(FLAT_KEYS)
    assert r["flatness.ave_flatness_l1"] == pytest.approx(1.0, abs=1e-5)
    assert r["flatness.ave_flatness_l2"] == pytest.approx(1.0, abs=1e-5)
    assert r["flatness.ave_flatness"] < 1.0  # L2 width over L1 length: < 1 off the axes
    r = run("flatness", axis_embedding([1.0, 3.0, 1.0, 0.5]), repeats=16)
    assert r["flatness.ave_flatness"] == pytest.approx(1.0, abs=1e-6)
    # widths/lengths: factor sizes 6, 9, 7 with scales 1, 3, 0.5 -> (5 + 24 + 3) / 3
    assert r["flatness.ave_width_l1"] == pytest.approx(32 / 3, rel=1e-6)
    assert r["flatness.ave_length_l2"] == pytest.approx(32 / 3, rel=1e-6)


def test_flatness_cyclic_factor():
    # s points evenly around a full circle (a cyclic factor): steps are all the chord c, one is dropped;
    # width = the diameter 2 (s even); flatness = 2 / ((s-1) c)
    s = 8
    ang = 2 * np.pi * np.arange(s) / s
    t = np.stack([np.cos(ang), np.sin(ang)], 1)[None]
    chord = 2 * np.sin(np.pi / s)
    r = flatness([t])
    assert r["flatness.ave_flatness_l2"] == pytest.approx(2 / ((s - 1) * chord), rel=1e-6)
    assert r["flatness.ave_length_l2"] == pytest.approx((s - 1) * chord, rel=1e-6)


# ---- issue 15 regressions -------------------------------------------------------------------------

def test_flatness_extreme_scales_and_bad_input():
    """Defects 7 and 17: flatness is scale-free (ave_flatness_l2 was 0.0 at 1e160); None named the argument."""
    import numpy as np
    import pytest

    import pydisent.metrics as pm

    t = np.random.default_rng(0).random((4, 5, 3))
    want = pm.flatness([t])
    for s in (1e-160, 1e160):
        got = pm.flatness([t * s])
        for k, v in want.items():
            scale = s if ("width" in k or "length" in k) else 1.0
            assert got[k] == pytest.approx(v * scale, rel=1e-9), k
    with pytest.raises(TypeError, match="'traversals'"):
        pm.flatness(None)
