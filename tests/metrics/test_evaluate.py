"""Evaluate forms of the metric suite: hand-checkable scores on a small synthetic ground-truth dataset,
disentanglement_lib-style datasets (same samples as the reference, numpy observations), defaults end to end."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import pydisent.metrics as pm
from tests._references import disentanglement_lib as ref
from tests.metrics._data import SIZES, FactorVectors


def representation(kind: str, seed: int, sizes=SIZES, noise=0.01):
    """A representation function of the factor vector (torch or numpy observations). It draws fresh noise
    on every call (stochastic), so the tests score it with ``cache_codes=False``."""
    gen = torch.Generator().manual_seed(seed)
    scale = torch.tensor(sizes, dtype=torch.float32)
    # A fixed maximally mixing rotation (normalised Hadamard for 4 factors): a random one is sometimes
    # nearly a signed permutation, which keeps modularity high and makes the comparison flaky.
    if len(sizes) == 4:
        q = torch.tensor([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]], dtype=torch.float32) / 2
    else:
        q, _ = torch.linalg.qr(torch.randn(len(sizes), len(sizes), generator=gen))
    half = (len(sizes) + 1) // 2

    def fn(x):
        x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x, dtype=torch.float32)
        eps = noise * torch.randn(x.shape, generator=gen)
        base = x / scale + eps
        if kind == "perfect":
            return base
        if kind == "rotated":
            return base @ q
        if kind == "noise":
            return torch.randn(x.shape, generator=gen)
        if kind == "half":
            return torch.cat([base[:, :half], torch.randn(x.shape[0], len(sizes) - half, generator=gen)], dim=1)
        raise ValueError(kind)

    return fn


SMALL = {
    "beta_vae": {"num_train": 300, "num_eval": 300, "batch_size": 16},
    "factor_vae": {"num_train": 300, "num_eval": 300, "num_variance_estimate": 1000, "batch_size": 16},
    "mig": {"num_train": 3000},
    "dci": {"num_train": 400, "num_test": 200},
    "modularity_explicitness": {"num_train": 1000, "num_test": 500},
}


def run(kind, seed, names=tuple(SMALL), fast=True):
    return pm.evaluate(representation(kind, seed), FactorVectors(), list(names), seed=seed,
                       options={n: SMALL[n] for n in names}, fast=fast, cache_codes=False)


def test_perfect_representation_scores_near_one(seed):
    r = run("perfect", seed)
    assert r["beta_vae"]["eval_accuracy"] >= 0.95
    assert r["factor_vae"]["eval_accuracy"] >= 0.95 and r["factor_vae"]["num_active_dims"] == 4
    assert r["mig"]["discrete_mig"] >= 0.9
    assert r["dci"]["disentanglement"] >= 0.85 and r["dci"]["informativeness_test"] >= 0.95
    assert r["modularity_explicitness"]["modularity_score"] >= 0.95
    assert r["modularity_explicitness"]["explicitness_score_test"] >= 0.9


def test_rotation_scores_clearly_lower(seed):
    p = run("perfect", seed, names=("mig", "dci", "modularity_explicitness"))
    r = run("rotated", seed, names=("mig", "dci", "modularity_explicitness"))
    assert r["mig"]["discrete_mig"] < p["mig"]["discrete_mig"] - 0.3
    assert r["dci"]["disentanglement"] < p["dci"]["disentanglement"] - 0.2
    assert r["modularity_explicitness"]["modularity_score"] < p["modularity_explicitness"]["modularity_score"] - 0.1


def test_noise_scores_near_chance(seed):
    r = run("noise", seed)
    chance = 1 / len(SIZES)
    assert abs(r["beta_vae"]["eval_accuracy"] - chance) < 0.12
    assert r["factor_vae"]["eval_accuracy"] < 0.5
    assert r["mig"]["discrete_mig"] < 0.03
    assert r["dci"]["disentanglement"] < 0.25 and r["dci"]["completeness"] < 0.25


def test_missing_half_the_factors_scores_about_half(seed):
    r = run("half", seed, names=("mig", "dci"), fast=False)
    assert 0.35 < r["mig"]["discrete_mig"] < 0.55
    assert 0.35 < r["dci"]["completeness"] < 0.7


def test_evaluate_sap_irs_unsupervised_downstream_sparsity(seed):
    opts = {"sap": {"num_train": 1000, "num_test": 500}, "irs": {"num_train": 1000},
            "unsupervised": {"num_train": 1000}, "sparsity": {"num_points": 1000}}
    p = pm.evaluate(representation("perfect", seed), FactorVectors(), list(opts), seed=seed, options=opts,
                    cache_codes=False)
    n = pm.evaluate(representation("noise", seed), FactorVectors(), list(opts), seed=seed, options=opts,
                    cache_codes=False)
    assert p["sap"]["SAP_score"] > n["sap"]["SAP_score"] + 0.1
    assert p["irs"]["IRS"] > n["irs"]["IRS"] + 0.3 and p["irs"]["IRS"] > 0.8
    assert abs(n["unsupervised"]["gaussian_total_correlation"]) < 0.05
    # downstream: two factors only (every fit of a boosted-tree classifier costs ~0.1 s even on tiny data)
    sizes = (4, 3)
    ds_opts = {"downstream": {"num_train": (10, 60), "num_test": 200, "predictor": "gradient_boosting"}}
    pd = pm.evaluate(representation("perfect", seed, sizes), FactorVectors(sizes), ["downstream"], seed=seed,
                     options=ds_opts,
                     cache_codes=False)
    nd = pm.evaluate(representation("noise", seed, sizes), FactorVectors(sizes), ["downstream"], seed=seed,
                     options=ds_opts,
                     cache_codes=False)
    assert pd["downstream"]["60:mean_test_accuracy"] > nd["downstream"]["60:mean_test_accuracy"] + 0.3
    assert set(pd["downstream"]) >= {"10:mean_train_accuracy", "60:test_accuracy_factor_1", "10:min_test_accuracy"}
    assert 0 < p["sparsity"]["normalised_sparsity"] < 1


def test_evaluate_is_deterministic_and_fast_flag(seed):
    a = run("rotated", seed, names=("mig", "factor_vae"))
    b = run("rotated", seed, names=("mig", "factor_vae"))
    assert a == b
    # fast=True reaches only metrics that take it; an explicit option wins
    r = pm.evaluate(representation("perfect", seed), FactorVectors(), ["sap"], seed=seed, fast=True,
                    options={"sap": {"num_train": 500, "num_test": 200, "fast": False}})
    assert 0 <= r["sap"]["SAP_score"] <= 1


def test_prior_divergence_needs_the_posterior(seed):
    def posterior(x):
        mu = torch.as_tensor(x, dtype=torch.float32) / torch.tensor(SIZES) - 0.4
        return mu, torch.full_like(mu, -2.0)

    r = pm.evaluate(posterior, FactorVectors(), ["prior_divergence", "sparsity"], seed=seed,
                    options={"prior_divergence": {"num_points": 640}, "sparsity": {"num_points": 640}})
    assert set(r["prior_divergence"]) == {"kld_inc", "mmd_dim"}
    assert np.isfinite(r["sparsity"]["normalised_sparsity"])
    with pytest.raises(ValueError, match="tuple \\(mu, logvar\\)"):
        pm.evaluate(representation("perfect", seed), FactorVectors(), ["prior_divergence"],
                    options={"prior_divergence": {"num_points": 128}})


def test_defaults_end_to_end(seed):
    # paper-default sample sizes on a cheap dataset: 10000 points, 15000 FactorVAE votes of 64 observations
    names = ["mig", "unsupervised", "irs", "factor_vae"]
    r = pm.evaluate(representation("perfect", seed), FactorVectors(), names, seed=seed)
    assert r["mig"]["discrete_mig"] > 0.9 and r["factor_vae"]["eval_accuracy"] > 0.99 and r["irs"]["IRS"] > 0.8


# -- disentanglement_lib-style datasets --------------------------------------------------------------------
class FakeDlibData:
    """The disentanglement_lib ``GroundTruthData`` protocol; rendering consumes the random state, as
    disentanglement_lib's datasets may (so any reordering of the calls changes the samples)."""

    def __init__(self, sizes=SIZES):
        self.factors_num_values = list(sizes)
        self.calls = 0

    @property
    def num_factors(self):
        return len(self.factors_num_values)

    @property
    def observation_shape(self):
        return [len(self.factors_num_values)]

    def sample_factors(self, num, random_state):
        return np.stack([random_state.randint(s, size=num) for s in self.factors_num_values], axis=1)

    def sample_observations_from_factors(self, factors, random_state):
        self.calls += 1
        return factors.astype(np.float32) + 0.05 * random_state.randn(*factors.shape).astype(np.float32)

    def sample(self, num, random_state):
        f = self.sample_factors(num, random_state)
        return f, self.sample_observations_from_factors(f, random_state)


def numpy_rep(seed):
    w = np.random.default_rng(seed).standard_normal((len(SIZES), 5)).astype(np.float32)

    def fn(obs):
        assert isinstance(obs, np.ndarray), "observations must reach representation_fn as the dataset returns them"
        return obs @ w

    return fn


def test_dlib_dataset_same_samples_as_reference(seed):
    """disentanglement_lib-style datasets are called in the reference's order and batch sizes: the scores equal
    the transcription's on the same RandomState (the benchmark's dlib-port peer)."""
    data, rep = FakeDlibData(), numpy_rep(seed)
    opts = {"mig": {"num_train": 500}, "unsupervised": {"num_train": 300}, "irs": {"num_train": 400},
            "factor_vae": {"num_train": 40, "num_eval": 20, "num_variance_estimate": 200, "batch_size": 8},
            "beta_vae": {"num_train": 60, "num_eval": 30, "batch_size": 8}}
    got = pm.evaluate(rep, data, list(opts), seed=seed, options=opts)

    def rs():
        return np.random.RandomState(seed)

    assert got["mig"]["discrete_mig"] == pytest.approx(ref.mig_pipeline(data, rep, rs(), 500)["discrete_mig"],
                                                       abs=1e-12)
    want = ref.unsupervised_pipeline(data, rep, rs(), 300)["mutual_info_score"]
    assert got["unsupervised"]["mutual_info_score"] == pytest.approx(want, abs=1e-12)
    # (the transcription takes IRS's deviations in the codes' float32, pydisent in float64)
    assert got["irs"]["IRS"] == pytest.approx(ref.irs_pipeline(data, rep, rs(), 400)["IRS"], abs=1e-6)
    fv = ref.factor_vae_pipeline(data, rep, rs(), bs=8, num_train=40, num_eval=20, num_variance_estimate=200)
    assert got["factor_vae"] == pytest.approx(fv)
    bv = ref.beta_vae_pipeline(data, rep, rs(), bs=8, num_train=60, num_eval=30)
    assert got["beta_vae"] == pytest.approx(bv, abs=1e-12)


def test_dlib_dataset_every_metric_runs(seed):
    data = FakeDlibData()
    opts = {"beta_vae": {"num_train": 50, "num_eval": 20, "batch_size": 8},
            "factor_vae": {"num_train": 50, "num_eval": 20, "num_variance_estimate": 100, "batch_size": 8},
            "mig": {"num_train": 200}, "dci": {"num_train": 100, "num_test": 50},
            "modularity_explicitness": {"num_train": 200, "num_test": 200}, "sap": {"num_train": 100, "num_test": 50},
            "irs": {"num_train": 100}, "unsupervised": {"num_train": 100},
            "downstream": {"num_train": (10, 50), "num_test": 50, "predictor": "gradient_boosting"},
            "sparsity": {"num_points": 100}}
    r = pm.evaluate(numpy_rep(seed), data, list(opts), seed=seed, options=opts)
    assert set(r) == set(opts)
    for name, scores in r.items():
        assert all(np.isfinite(v) for v in scores.values()), name


def test_evaluate_rejects_bad_dataset_and_options():
    with pytest.raises(TypeError, match="dataset"):
        pm.evaluate(lambda x: x, object(), ["mig"])
    with pytest.raises(ValueError, match="unknown metric"):
        pm.evaluate(lambda x: x, FactorVectors(), ["nope"])
    with pytest.raises(TypeError, match="num_train"):
        pm.evaluate(lambda x: x, FactorVectors(), ["mig"], options={"mig": {"num_train": 1.5}})
    with pytest.raises(ValueError, match="num_train"):
        pm.evaluate(lambda x: x, FactorVectors(), ["mig"], options={"mig": {"num_train": 1}})
