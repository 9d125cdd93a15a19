"""The needs contract: one tiny metric per kind (registered only for the test) proves the plumbing of
evaluate(), the subject protocol and the CLI's default set."""

import numpy as np
import pytest
import torch

import pydisent.metrics as pm
from pydisent.data import make_dataset
from pydisent.metrics import (
    METRICS,
    Subject,
    as_subject,
    default_metrics,
    evaluate,
    register,
)


@pytest.fixture
def toy_metrics():
    """Four test metrics, one per need, removed from the registry afterwards."""
    seen = {}

    @register("_t_encoder", needs="encoder")
    def t_encoder(source, encoder, rng, *, n=5):
        f = source.sample_factors(n, rng)
        seen["encoder"] = encoder(source.observations(f, rng))
        return {"num_codes": int(seen["encoder"].shape[1])}

    @register("_t_posterior", needs="posterior")
    def t_posterior(source, encoder, rng, *, n=5):
        mu, logvar, *_ = encoder.posterior(source.observations(source.sample_factors(n, rng), rng))
        return {"mean_logvar": float(logvar.mean())}

    @register("_t_generator", needs="generator", fast=True)
    def t_generator(source, generator, rng, *, n=7, fast=False):
        z = generator.sample_latents(n, rng)
        x = generator.generate(z)
        return {"latent_dim": generator.latent_dim, "n": int(x.shape[0]), "fast": fast,
                "has_dataset": source is not None}

    @register("_t_samples", needs="samples")
    def t_samples(source, sampler, rng, *, n=6):
        real = source.observations(source.sample_factors(n, rng), rng)
        fake = sampler.sample(n, rng)
        return {"shapes_match": tuple(real.shape[1:]) == tuple(fake.shape[1:]), "n": int(fake.shape[0])}

    names = ["_t_encoder", "_t_posterior", "_t_generator", "_t_samples"]
    yield names
    for n in names:
        METRICS.pop(n)


class Model:
    """A toy VAE-like model over xysquares observations (3, 64, 64), latent dim 4."""

    latent_dim = 4

    def __init__(self):
        self.calls = {"encode": 0, "posterior": 0, "generate": 0}

    def posterior(self, x):
        self.calls["posterior"] += 1
        flat = x.reshape(len(x), -1)[:, :4].float()
        return flat, torch.full_like(flat, -1.0)

    def generate(self, z):
        self.calls["generate"] += 1
        return torch.zeros((len(z), 3, 64, 64)) + z[:, :1, None, None]


@pytest.fixture(scope="module")
def ds():
    return make_dataset("xysquares")


def test_registry_records_needs_and_rejects_unknown():
    assert METRICS["mig"].needs == "encoder" and METRICS["prior_divergence"].needs == "posterior"
    assert METRICS["dci"].fast and not METRICS["mig"].fast
    assert not METRICS["downstream"].default
    with pytest.raises(ValueError, match="'needs'"):
        register("_t_bad", needs="codes")


def test_each_kind_runs_on_a_subject_that_meets_it(toy_metrics, ds):
    m = Model()
    r = evaluate(m, ds, toy_metrics, seed=1, fast=True, cache_codes=False)
    assert r["_t_encoder"] == {"num_codes": 4}  # the posterior mean serves as the code
    assert r["_t_posterior"] == {"mean_logvar": -1.0}
    assert r["_t_generator"] == {"latent_dim": 4, "n": 7, "fast": True, "has_dataset": True}
    assert r["_t_samples"] == {"shapes_match": True, "n": 6}
    assert m.calls["generate"] == 2 and m.calls["posterior"] >= 2


def test_plain_callable_is_an_encoder_and_a_trusted_posterior(toy_metrics, ds):
    def codes(x):
        return x.reshape(len(x), -1)[:, :3].float()

    assert evaluate(codes, ds, "_t_encoder", seed=0)["_t_encoder"] == {"num_codes": 3}
    with pytest.raises(ValueError, match="needs the posterior"):
        evaluate(codes, ds, "_t_posterior", seed=0)
    with pytest.raises(ValueError, match="'_t_generator' needs a generator"):
        evaluate(codes, ds, ["_t_encoder", "_t_generator"], seed=0)
    with pytest.raises(ValueError, match="needs a sampler"):
        evaluate(codes, ds, "_t_samples", seed=0)
    assert as_subject(codes).provides == {"encoder"}
    assert as_subject(Model()).provides == {"encoder", "posterior", "generator", "samples"}


def test_generator_metric_runs_without_a_dataset(toy_metrics, ds):
    r = evaluate(Subject(generate=Model().generate, latent_dim=4), None, ["_t_generator"], seed=3)
    assert r["_t_generator"]["has_dataset"] is False and r["_t_generator"]["fast"] is False
    with pytest.raises(ValueError, match="argument 'dataset' is required"):
        evaluate(Model(), None, ["_t_generator", "_t_samples"])


def test_generator_view_is_seeded_and_checks_shapes(toy_metrics):
    g = pm.Generator(Subject(generate=lambda z: z * 2, latent_dim=3), batch_size=4)
    a = g.sample(10, np.random.default_rng(5))
    b = g.sample(10, np.random.default_rng(5))
    torch.testing.assert_close(a, b)
    assert a.shape == (10, 3)
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        g.generate(torch.zeros(2, 4))
    bad = pm.Generator(Subject(generate=lambda z: z, latent_dim=3, sample_prior=lambda n, rng: np.zeros((n, 2))))
    with pytest.raises(ValueError, match="sample_prior must return"):
        bad.sample(4, np.random.default_rng(0))
    with pytest.raises(ValueError, match="'latent_dim'"):
        Subject(generate=lambda z: z)
    with pytest.raises(TypeError, match="'encode' must be callable"):
        Subject(encode=3)
    with pytest.raises(TypeError, match="argument 'subject' must be a callable"):
        evaluate(42, None, [])


def test_default_set_follows_what_the_subject_declares():
    plain = default_metrics(lambda x: x)
    assert "mig" in plain and "prior_divergence" not in plain and "downstream" not in plain
    assert "prior_divergence" in default_metrics(Model())


def test_deprecated_registry_name_still_works(ds):
    enc = lambda x: x.reshape(len(x), -1)[:, :3].float()  # noqa: E731
    with pytest.warns(DeprecationWarning, match="'ground_truth_correlation'"):
        old = evaluate(enc, ds, ["distances"], seed=2, options={"distances": {"repeats": 2}})
    new = evaluate(enc, ds, ["ground_truth_correlation"], seed=2, options={"ground_truth_correlation": {"repeats": 2}})
    assert old["distances"] == new["ground_truth_correlation"]
    with pytest.warns(DeprecationWarning, match="ground_truth_correlation"):
        assert pm.distances is pm.ground_truth_correlation
    with pytest.raises(AttributeError):
        pm.no_such_metric  # noqa: B018
