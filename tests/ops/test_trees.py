"""pydisent.ops.trees.gbt_replay on hand-made forests (raw scores written out by hand, importances from
the definition), and the kernel's checks. The replay of fitted scikit-learn models is tested in
tests/metrics/test_dci.py against the numpy reference walk."""

import numpy as np
import pytest

from pydisent.ops import gbt_replay

# Two stages of one stump each (K = 1, binary log-loss): stage 1 splits feature 0 at bin 3 (missing values
# go left), stage 2 splits feature 1 at bin 1 (missing values go right).
FOREST = {"feature": [0, 0, 0, 1, 0, 0], "threshold": [3, 0, 0, 1, 0, 0], "missing_left": [1, 0, 0, 0, 0, 0],
          "left": [1, 0, 0, 4, 0, 0], "right": [2, 0, 0, 5, 0, 0], "is_leaf": [0, 1, 1, 0, 1, 1],
          "value": [0.0, -0.5, 0.25, 0.0, 0.125, -1.0], "offsets": [0, 3, 6], "baseline": [0.1]}
MISSING = 255


def test_raw_scores_by_hand():
    binned = np.array([[0, 0], [4, 2], [3, 1], [MISSING, 5], [4, MISSING]], dtype=np.uint8)
    raw, imp = gbt_replay(binned, FOREST, MISSING)
    want = [0.1 - 0.5 + 0.125, 0.1 + 0.25 - 1.0, 0.1 - 0.5 + 0.125, 0.1 - 0.5 - 1.0, 0.1 + 0.25 - 1.0]
    np.testing.assert_allclose(raw[:, 0], want, rtol=0, atol=1e-15)
    assert imp is None


def _sse_decrease(r, go_left):
    def sse(v):
        return float(((v - v.mean()) ** 2).sum()) if len(v) else 0.0

    return max(sse(r) - sse(r[go_left]) - sse(r[~go_left]), 0.0)


def test_importance_is_the_gradient_sse_decrease(rng):
    binned = rng.integers(0, 6, (40, 2), dtype=np.uint8)
    y = rng.integers(0, 2, 40)
    raw, imp = gbt_replay(binned, FOREST, MISSING, y)
    # stage 1: residuals of the baseline; stage 2: of the baseline plus stage 1's leaf values
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    left1 = binned[:, 0] <= 3
    r1 = y - sig(np.full(40, 0.1))
    raw1 = 0.1 + np.where(left1, -0.5, 0.25)
    left2 = binned[:, 1] <= 1
    r2 = y - sig(raw1)
    # the SSE decrease is a difference of sums of squares: both sides lose ~n ulps of the totals to cancellation
    np.testing.assert_allclose(imp, [_sse_decrease(r1, left1), _sse_decrease(r2, left2)], rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(raw[:, 0], raw1 + np.where(left2, 0.125, -1.0), rtol=0, atol=1e-15)


def test_bad_tables_and_rows():
    with pytest.raises(ValueError, match="'tables' lacks"):
        gbt_replay(np.zeros((2, 2), np.uint8), {k: v for k, v in FOREST.items() if k != "value"}, MISSING)
    with pytest.raises(ValueError, match="'binned' must have shape"):
        gbt_replay(np.zeros(4, np.uint8), FOREST, MISSING)
    with pytest.raises(ValueError, match="feature"):
        gbt_replay(np.zeros((2, 1), np.uint8), FOREST, MISSING)  # stage 2 splits a feature the rows lack
    with pytest.raises(ValueError, match="targets"):
        gbt_replay(np.zeros((2, 2), np.uint8), FOREST, MISSING, [0, 3])
