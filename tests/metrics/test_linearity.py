"""The linearity / axis-alignment ratios on embeddings with known answers."""

import numpy as np
import pytest
import torch

from pydisent.metrics._linearity import KEYS as LIN_KEYS
from pydisent.metrics._linearity import linearity
from tests.metrics._embeddings import SIZES, axis_embedding, run


def circle_embedding(sizes):
    """Each factor on an arc (3/4 of a circle) in its own 2 latent dims: curved traversals."""
    def fn(x):
        cols = []
        for f, s in enumerate(sizes):
            ang = x[:, f] / max(s - 1, 1) * 1.5 * np.pi
            cols += [torch.cos(ang), torch.sin(ang)]
        return torch.stack(cols, 1).to(torch.float32)
    return fn


# -- linearity ------------------------------------------------------------------------------------

def test_linear_embedding_is_linear(rng):
    W = torch.tensor(rng.normal(size=(4, 6)), dtype=torch.float32)
    r = run("linearity", lambda x: x @ W)
    assert set(r) == set(LIN_KEYS)
    assert r["linearity.linear_ratio.var"] == pytest.approx(1.0, abs=1e-5)
    assert r["linearity.axis_ratio.var"] < 0.95


def test_axis_aligned_embedding_scores_one():
    r = run("linearity", axis_embedding([1.0, 2.0, 5.0, 0.5]))
    for k in LIN_KEYS:
        assert r[k] == pytest.approx(1.0, abs=1e-6), k


def test_rotation_keeps_linearity_lowers_axis_alignment(rng):
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    Q = torch.tensor(q, dtype=torch.float32)
    axis = axis_embedding([1.0, 1.0, 1.0, 1.0])
    r = run("linearity", lambda x: axis(x) @ Q)
    assert r["linearity.linear_ratio.var"] == pytest.approx(1.0, abs=1e-5)
    assert r["linearity.axis_ratio.var"] < 0.9
    assert r["linearity.axis_alignment.var"] < 0.9


def test_nonlinear_warp_lowers_linearity():
    r = run("linearity", circle_embedding(SIZES))
    assert r["linearity.linear_ratio.var"] < 0.8
    assert 0 < r["linearity.axis_ratio.var"] <= r["linearity.linear_ratio.var"] + 1e-12


def test_linearity_hand_values():
    # a traversal along (1, 1): eigenvalues (2v, 0) -> linear 1; variances (v, v) -> axis (1/2-1/2)/(1/2) = 0
    t = np.arange(5.0)[None, :, None] * np.array([1.0, 1.0])
    r = linearity([t])
    assert r["linearity.linear_ratio.var"] == pytest.approx(1.0)
    assert r["linearity.axis_ratio.var"] == pytest.approx(0.0, abs=1e-12)
    # Z = 1: a single dimension is always a line along an axis
    assert linearity([np.arange(4.0)[None, :, None]])["linearity.axis_ratio.var"] == 1.0


# ---- issue 15 regressions -------------------------------------------------------------------------

def test_linearity_extreme_scales():
    """Defect 17: codes at 1e300 named an internal argument 'x' and claimed NaN/inf on finite input."""
    import numpy as np
    import pytest

    import pydisent.metrics as pm

    t = np.random.default_rng(0).random((4, 5, 3))
    want = pm.linearity([t])
    for s in (1e-300, 1e-160, 1e160, 1e300):
        got = pm.linearity([t * s])
        assert got.keys() == want.keys()
        for k in want:
            assert got[k] == pytest.approx(want[k], rel=1e-6), k
