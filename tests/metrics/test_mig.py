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


# ---- issue 15 regressions -------------------------------------------------------------------------

def test_mig_labels_are_labels():
    """Defect 3: int64 ids such as +-2**62 (or the int64 extremes) densified without arithmetic."""
    import numpy as np

    import pydisent.metrics as pm
    from tests._probe import probe

    C, F, _ = probe()
    want = pm.mig(C, (F > 0).astype(np.int64))["discrete_mig"]
    lo, hi = np.iinfo(np.int64).min, np.iinfo(np.int64).max
    assert pm.mig(C, np.where(F > 0, 2**62, -(2**62)))["discrete_mig"] == want
    assert pm.mig(C, np.where(F > 0, hi, lo))["discrete_mig"] == want
    assert pm.mig(C, F * 10**15 - 7)["discrete_mig"] == pm.mig(C, F)["discrete_mig"]
