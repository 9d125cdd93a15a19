"""Geometry Score: the reference behaviour of spec B.5 (noisy circle vs filled disc), parity with the reference
pipeline on the same landmark draws, the gamma convention, piq's scaling, seeded reproducibility, the evaluate
form (needs "samples") and bad input."""

import numpy as np
import pytest
import torch

import pydisent.metrics as pm
from pydisent.metrics import METRICS, Subject, geometry_score, mrlt, rlts
from pydisent.metrics._geometry_score import default_gamma
from tests._references import topology as ref

pytest.importorskip("gudhi", reason="gudhi (test extra) is the witness-complex reference")


def circle(rng, n=5000, noise=0.05):
    t = rng.uniform(0, 2 * np.pi, n)
    return np.c_[np.cos(t), np.sin(t)] + noise * rng.standard_normal((n, 2))


def filled_circle(rng, n=5000, noise=0.05):
    t, r = rng.uniform(0, 2 * np.pi, n), np.sqrt(rng.uniform(0, 1, n))
    return np.c_[r * np.cos(t), r * np.sin(t)] + noise * rng.standard_normal((n, 2))


def test_circle_vs_filled_circle_reference_numbers(rng):
    # spec B.5: the original code, 5 seeds: GS 1.850-1.863; circle MRLT ~ [0, 0.995, 0.005], disc ~ [0.951, ...]
    out = geometry_score(circle(rng), filled_circle(rng), L0=32, gamma=1 / 8, i_max=10, n=100, seed=rng,
                         return_mrlt=True)
    assert 1.75 <= out["geometry_score"] <= 1.95
    assert int(np.argmax(out["mrlt1"])) == 1 and int(np.argmax(out["mrlt2"])) == 0
    assert out["mrlt1"].shape == (10,) and abs(out["mrlt1"].sum() - 1) < 1e-9


def test_equals_the_reference_pipeline_on_the_same_draws(rng):
    x1, x2 = circle(rng, 300), filled_circle(rng, 200)
    seed = int(rng.integers(1 << 31))
    got = geometry_score(x1, x2, L0=16, gamma=None, i_max=12, n=8, seed=seed)["geometry_score"]
    want = ref.geometry_score(x1, x2, L0=16, gamma=None, i_max=12, n=8, rng=np.random.default_rng(seed))
    assert abs(got - want) < 1e-12
    r = rlts(x1, L0=16, gamma=0.1, i_max=12, n=8, seed=seed)
    np.testing.assert_allclose(r, ref.rlts(x1, 16, 0.1, 12, 8, rng=np.random.default_rng(seed)), rtol=0, atol=1e-12)
    np.testing.assert_allclose(mrlt(x1, L0=16, gamma=0.1, i_max=12, n=8, seed=seed), r.mean(0), rtol=0, atol=1e-15)


def test_gamma_convention_scale_and_sizes(rng):
    x1, x2 = circle(rng, 400), circle(rng, 250)
    assert default_gamma(5000) == 1 / 128 and default_gamma(2500) == 1 / 256
    # gamma=None gives each set its own (1/128) N / 5000 (the code multiplies by N / 5000)
    a = geometry_score(x1, x2, L0=20, i_max=10, n=5, seed=3, return_mrlt=True)
    m1 = mrlt(x1, L0=20, gamma=default_gamma(400), i_max=10, n=5, seed=3)
    np.testing.assert_array_equal(a["mrlt1"], m1)
    b = geometry_score(x1, x2, L0=20, i_max=10, n=5, seed=3, scale=1000)  # piq.GS returns 1000 * GS
    assert abs(b["geometry_score"] - 1000 * a["geometry_score"]) <= 1e-9 * max(1.0, b["geometry_score"])


def test_seeded_runs_are_bit_identical(rng):
    x1, x2 = circle(rng, 300), filled_circle(rng, 300)
    kw = dict(L0=16, gamma=1 / 8, i_max=10, n=6, return_mrlt=True)
    a, b = geometry_score(x1, x2, seed=11, **kw), geometry_score(x1, x2, seed=11, **kw)
    assert a["geometry_score"] == b["geometry_score"]
    np.testing.assert_array_equal(a["mrlt2"], b["mrlt2"])
    np.testing.assert_array_equal(rlts(torch.as_tensor(x1), L0=16, gamma=0.1, n=3, seed=2),
                                  rlts(x1.astype(np.float64), L0=16, gamma=0.1, n=3, seed=2))
    distinct = rlts(x1, L0=300, gamma=0.1, i_max=10, n=2, seed=2, replace=False)  # every point a landmark
    np.testing.assert_allclose(distinct[0], distinct[1], atol=1e-12)


def test_bad_input(rng):
    x = circle(rng, 50)
    with pytest.raises(ValueError, match="'x'"):
        rlts(x[:, 0])
    with pytest.raises(ValueError, match="'x'"):
        rlts(x[None])
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="'x1'.*NaN"):
        geometry_score(bad, x)
    with pytest.raises(ValueError, match="'x2'.*NaN"):
        geometry_score(x, np.where(np.isnan(bad), np.inf, bad))
    with pytest.raises(ValueError, match="'gamma'"):
        rlts(x, gamma=0.0)
    with pytest.raises(ValueError, match="'gamma'"):
        rlts(x, gamma=-1.0)
    with pytest.raises(ValueError, match="'L0'"):
        rlts(x, L0=64, replace=False)
    with pytest.raises(ValueError, match="features"):
        geometry_score(x, np.c_[x, x])
    with pytest.raises(ValueError, match="'n'"):
        rlts(x, n=0)
    with pytest.raises(ValueError, match="'scale'"):
        geometry_score(x, x, scale=0)


class _Dataset:
    """A disentanglement_lib-style dataset whose observations are points on a noisy circle (2 factors)."""

    num_factors = 2
    factors_num_values = [36, 3]
    observation_shape = [2]

    def sample_factors(self, num, random_state):
        return np.stack([random_state.randint(0, s, num) for s in self.factors_num_values], 1)

    def sample_observations_from_factors(self, factors, random_state):
        t = 2 * np.pi * factors[:, 0] / 36 + random_state.uniform(0, 2 * np.pi / 36, len(factors))
        return (np.c_[np.cos(t), np.sin(t)] * (1 + 0.02 * factors[:, 1:2])).astype(np.float32)


def test_evaluate_form_needs_samples():
    assert METRICS["geometry_score"].needs == "samples" and not METRICS["geometry_score"].default

    def sample(n, rng):
        return filled_circle(rng, n).astype(np.float32)

    opts = {"geometry_score": dict(num_real=400, num_fake=300, L0=16, gamma=1 / 8, i_max=10, n=20)}
    out = pm.evaluate(Subject(sample=sample), _Dataset(), ["geometry_score"], seed=0, options=opts)
    again = pm.evaluate(Subject(sample=sample), _Dataset(), ["geometry_score"], seed=0, options=opts)
    assert out == again and out["geometry_score"]["geometry_score"] > 0.5  # circle vs disc: far apart
    with pytest.raises(ValueError, match="sampler|samples"):
        pm.evaluate(lambda x: x, _Dataset(), ["geometry_score"], options=opts)
