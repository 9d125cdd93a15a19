"""MIG against the disentanglement_lib transcription."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import pydisent.metrics as pm
from tests._references import disentanglement_lib as ref
from tests.metrics._codes import make


# -- parity with the reference transcriptions ------------------------------------------------------------
@pytest.mark.parametrize("kind", ["perfect", "rotated", "noise", "half"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mig_parity(rng, kind, dtype):
    z, f = make(rng, 1500, kind=kind, extra=2, dtype=dtype)
    got = pm.mig(z, f)["discrete_mig"]
    assert abs(got - ref.mig(z.T, f.T)) < 1e-9
    assert abs(pm.mig(torch.from_numpy(z), torch.from_numpy(f))["discrete_mig"] - got) < 1e-12
