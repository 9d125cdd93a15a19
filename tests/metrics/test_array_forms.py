"""Every array form together: invariances, bad input naming the argument, documented values on constant codes."""

from __future__ import annotations

import numpy as np
import pytest

import pydisent.metrics as pm
from tests.metrics._codes import make


# -- invariances -------------------------------------------------------------------------------------------
def test_permuting_and_rescaling_codes(rng):
    z, f = make(rng, 2000, kind="rotated", extra=1)
    perm = rng.permutation(z.shape[1])
    scale = 2.0 ** rng.integers(-3, 4, z.shape[1])  # powers of two: rescaling is exact in floating point
    z2 = z[:, perm] * scale[perm] + 0.0
    assert pm.mig(z2, f) == pm.mig(z, f)
    assert pm.modularity_explicitness(z2, f, n_jobs=1)["modularity_score"] == pytest.approx(
        pm.modularity_explicitness(z, f, n_jobs=1)["modularity_score"], abs=1e-12)
    # IRS scores each code scale-free but averages them weighted by their (scale-dependent) max deviation
    assert pm.irs(z[:, perm], f)["IRS"] == pytest.approx(pm.irs(z, f)["IRS"], abs=1e-12)
    assert pm.irs(z * 8.0, f)["IRS"] == pytest.approx(pm.irs(z, f)["IRS"], abs=1e-12)
    u1, u2 = pm.unsupervised(z), pm.unsupervised(z2)
    assert u1["gaussian_total_correlation"] == pytest.approx(u2["gaussian_total_correlation"], rel=1e-9)
    assert u1["mutual_info_score"] == pytest.approx(u2["mutual_info_score"], abs=1e-12)
    votes = rng.standard_normal((60, 10, z.shape[1]))
    k = rng.integers(0, 3, 60)
    a = pm.factor_vae(z, votes, k, votes, k)
    b = pm.factor_vae(z2 * 16, votes[:, :, perm] * scale[perm] * 16, k, votes[:, :, perm] * scale[perm] * 16, k)
    assert a["train_accuracy"] == pytest.approx(b["train_accuracy"])
    assert a["eval_accuracy"] == pytest.approx(b["eval_accuracy"])


# -- bad input ---------------------------------------------------------------------------------------------
def test_bad_inputs_name_the_argument(rng):
    z, f = make(rng, 100)
    bad = z.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="'codes' contains NaN"):
        pm.mig(bad, f)
    with pytest.raises(ValueError, match="same number of points"):
        pm.mig(z[:50], f)
    with pytest.raises(ValueError, match="transposed|same number"):
        pm.mig(z.T, f)
    with pytest.raises(ValueError, match="factor 1 takes a single value"):
        f1 = f.copy()
        f1[:, 1] = 2
        pm.mig(z, f1)
    with pytest.raises(ValueError, match="at least 2 code dimensions"):
        pm.mig(z[:, :1], f)
    with pytest.raises(TypeError, match="integer factor positions"):
        pm.mig(z, f + 0.5)
    with pytest.raises(ValueError, match="shape"):
        pm.mig(z, f[:, 0])
    with pytest.raises(ValueError, match="too few for train_fraction"):
        pm.dci(z[:2], f[:2])
    with pytest.raises(ValueError, match="'codes_test' and 'factors_test'"):
        pm.sap(z, f, z)
    with pytest.raises(ValueError, match="factor 0 takes a single value"):
        f0 = f.copy()
        f0[:, 0] = 1
        pm.dci(z, f0)
    with pytest.raises(ValueError, match="num_bins"):
        pm.mig(z, f, num_bins=0)
    with pytest.raises(ValueError, match="every code dimension is constant"):
        pm.unsupervised(np.ones((10, 3)))
    with pytest.raises(ValueError, match="constant"):
        pm.sparsity(np.concatenate([z, np.ones((100, 1))], axis=1))
    with pytest.raises(ValueError, match="fewer than the largest training size"):
        pm.downstream(z, f, z, f, num_train=(1000,))
    with pytest.raises(ValueError, match="solver"):
        pm.beta_vae(z, f[:, 0], z, f[:, 0], solver="saga")
    with pytest.raises(ValueError, match="prune_threshold"):
        pm.factor_vae(z, z[:10].reshape(2, 5, 3), [0, 1], z[:10].reshape(2, 5, 3), [0, 1], prune_threshold=-1)
    with pytest.raises(ValueError, match="group_size|>= 2 points"):
        pm.factor_vae(z, z[:10].reshape(10, 1, 3), np.zeros(10, int), z[:10].reshape(10, 1, 3), np.zeros(10, int))
    with pytest.raises(ValueError, match="'mu' and 'logvar'"):
        pm.prior_divergence(z, z[:, :2])


def test_constant_code_dims_documented_values(rng):
    z, f = make(rng, 600, kind="perfect", extra=1)
    z[:, -1] = 3.0
    # modularity: a code without information scores 0; explicitness: constant code left unscaled
    me = pm.modularity_explicitness(z, f, n_jobs=1)
    assert np.isfinite(list(me.values())).all()
    u = pm.unsupervised(z)
    assert np.isfinite(list(u.values())).all()
    u_live = pm.unsupervised(z[:, :-1])
    assert u["gaussian_total_correlation"] == pytest.approx(u_live["gaussian_total_correlation"], rel=1e-12)
    assert u["gaussian_wasserstein_correlation"] == pytest.approx(u_live["gaussian_wasserstein_correlation"], rel=1e-12)
    assert np.isfinite(pm.mig(z, f)["discrete_mig"]) and np.isfinite(pm.irs(z, f)["IRS"])
    assert np.isfinite(pm.sap(z, f, fast=True)["SAP_score"])
