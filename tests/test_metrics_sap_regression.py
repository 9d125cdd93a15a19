"""SAP fast=True with code dimensions at different locations (found by `pydisent demo --quick`: the
rows of the sorted range sums overlapped on the shared search axis, IndexError or wrong sums)."""

import numpy as np

import pydisent.metrics as pm


def test_sap_fast_codes_at_different_offsets_match_reference():
    rng = np.random.default_rng(0)
    n = 300
    f = rng.integers(0, 3, size=(n, 1))
    c = np.stack([10 + f[:, 0] + rng.random(n), -10 + f[:, 0] + 0.5 * rng.random(n)], 1)
    fast = pm.sap(c, f, fast=True)["SAP_score"]
    ref = pm.sap(c, f)["SAP_score"]
    assert abs(fast - ref) < 1e-9, (fast, ref)
