"""IRS against the disentanglement_lib transcription."""

from __future__ import annotations

import pytest

import pydisent.metrics as pm
from tests._references import disentanglement_lib as ref
from tests.metrics._codes import make


@pytest.mark.parametrize("kind", ["perfect", "rotated", "noise", "half"])
def test_irs_parity(rng, kind):
    z, f = make(rng, 1200, sizes=(4, 30, 3), kind=kind, extra=1)  # 30 values -> binned into 20
    z[:, -1] = 0.25  # a constant code is dropped
    got = pm.irs(z, f)
    score, active_sum = ref.irs(z.T, f.T)
    assert abs(got["IRS"] - score) < 1e-9
    assert abs(got["num_active_dims"] - active_sum) < 1e-9 * max(1.0, abs(active_sum))
    got1 = pm.irs(z, f, diff_quantile=1.0)
    assert abs(got1["IRS"] - ref.irs(z.T, f.T, diff_quantile=1.0)[0]) < 1e-9
