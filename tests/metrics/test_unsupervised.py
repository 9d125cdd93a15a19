"""The unsupervised scores against the disentanglement_lib transcription."""

from __future__ import annotations

import pytest

import pydisent.metrics as pm
from tests._references import disentanglement_lib as ref
from tests.metrics._codes import make


@pytest.mark.parametrize("kind", ["perfect", "rotated", "noise"])
def test_unsupervised_parity(rng, kind):
    z, _ = make(rng, 2000, kind=kind, extra=2)
    got = pm.unsupervised(z)
    expect = ref.unsupervised(z.T)
    for k, v in expect.items():
        assert abs(got[k] - v) <= 1e-9 * max(1.0, abs(v)), k
