"""FactorVAE votes and scores against the disentanglement_lib transcription."""

from __future__ import annotations

import numpy as np
import pytest

import pydisent.metrics as pm
from tests._references import disentanglement_lib as ref


@pytest.mark.parametrize("threshold", [0.05, 0.0])
def test_factor_vae_parity_on_fixed_votes(rng, threshold):
    sizes = (3, 4, 5)
    z = rng.standard_normal((500, 5))
    votes_k = rng.integers(0, 3, 80)
    vote_codes = rng.standard_normal((80, 16, 5)) * rng.uniform(0.1, 2, (80, 1, 5))
    ev_k = rng.integers(0, 3, 40)
    ev_codes = rng.standard_normal((40, 16, 5)) * rng.uniform(0.1, 2, (40, 1, 5))
    z[:, 3] *= 0.01  # pruned at 0.05
    got = pm.factor_vae(z, vote_codes, votes_k, ev_codes, ev_k, prune_threshold=threshold)
    tr, ev, nact = ref.factor_vae(z, vote_codes, votes_k, ev_codes, ev_k, len(sizes), threshold)
    assert abs(got["train_accuracy"] - tr) < 1e-12 and abs(got["eval_accuracy"] - ev) < 1e-12
    assert got["num_active_dims"] == nact == 5  # reference quirk: len(mask)


def test_factor_vae_dead_dimension_quirk(rng):
    z = rng.standard_normal((300, 4))
    z[:, 2] = 1.0
    votes = rng.standard_normal((50, 8, 4))
    votes[:, :, 2] = 1.0
    labels = rng.integers(0, 3, 50)
    # threshold 0 keeps the dead dim: 0/0 = NaN and np.argmin picks it for every vote (disent's setting)
    with pytest.warns(RuntimeWarning, match="zero variance"):
        got = pm.factor_vae(z, votes, labels, votes, labels, prune_threshold=0.0)
    tr, ev, _ = ref.factor_vae(z, votes, labels, votes, labels, 3, 0.0)
    assert got["train_accuracy"] == pytest.approx(tr, abs=1e-12)
    assert got["train_accuracy"] == pytest.approx(np.bincount(labels).max() / 50)
    none = pm.factor_vae(z * 1e-3, votes, labels, votes, labels)
    assert none == {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}


# ---- issue 15 regressions -------------------------------------------------------------------------

def test_factor_vae_large_factor_indices():
    """Defect 22: factor indices x 1e8 asked bincount for a 6.4 GB vote table; the table holds the
    indices present, with the same scores."""
    import numpy as np

    import pydisent.metrics as pm
    from tests._probe import probe

    C, F, _ = probe()
    groups = C.reshape(-1, 3, 3)[:, :2].repeat(2, 1)[:30]
    want = pm.factor_vae(C, groups, F[:30, 0], groups, F[:30, 0])
    assert pm.factor_vae(C, groups, F[:30, 0] * 10**8, groups, F[:30, 0] * 10**8) == want
    # index 0 absent: an unvoted column still maps to factor 0 (as the full table's argmax gives)
    assert pm.factor_vae(C, groups, F[:30, 0] + 5, groups, F[:30, 0] + 5)["num_active_dims"] == 3
    assert np.isfinite(pm.factor_vae(C, groups, F[:30, 0] + 5, groups, F[:30, 0] + 5)["eval_accuracy"])
