"""Zhou et al. (ICLR 2021) topological disentanglement: the toy generator of spec A.6 ({circle dim} | {plane
dims}, n* = 2) over seeds, parity of every stage after the RLT draws with the reference composition (POT, scipy,
scikit-learn), the empty-block rules, the supervised variant on a toy dataset, the registered evaluate form
(needs "generator"), the random VGG16 embedder, bit-identical seeded runs and bad input."""

import math

import numpy as np
import pytest
import torch
from scipy.special import ndtri
from sklearn.cluster import SpectralCoclustering

import pydisent.metrics as pm
from pydisent.metrics import METRICS, Subject, topological_disentanglement
from pydisent.metrics._topological_disentanglement import (
    block_mean_distances,
    cocluster_scores,
)
from pydisent.models.embedders import random_vgg16_embedder
from tests._references import topology as ref

pytest.importorskip("gudhi", reason="gudhi (test extra) is the witness-complex reference")
pytest.importorskip("ot", reason="POT (test extra) is the barycenter reference")


def toy_generator(dim: int = 16, seed: int = 1234):
    """Spec A.6: z ~ N(0, I_3), x = Q [cos 2 pi Phi(z0), sin 2 pi Phi(z0), z1, z2] with a fixed 16 x 4 isometry
    Q: fixing z0 gives a plane, fixing z1 or z2 a cylinder."""
    q = np.linalg.qr(np.random.default_rng(seed).standard_normal((dim, 4)))[0]
    qt = torch.as_tensor(q.T, dtype=torch.float64)

    def generate(z):
        z = torch.as_tensor(z, dtype=torch.float64)
        phi = 2 * math.pi * torch.special.ndtr(z[:, 0])
        x = torch.stack([torch.cos(phi), torch.sin(phi), z[:, 1], z[:, 2]], 1)
        return (x @ qt).to(torch.float32)

    return generate


SMALL = dict(num_points=300, num_values=4, L0=30, n=6, i_max=40)


def _groups(res):
    return sorted(tuple(r.tolist()) for r, _ in res.biclusters[res.n_clusters])


def test_toy_generator_at_the_paper_settings():
    res = topological_disentanglement(toy_generator(), 3, seed=0)  # N=1000, 10 values, L0=100, n=100, i_max=100
    assert res.n_clusters == 2 and _groups(res) == [(0,), (1, 2)]
    assert 10 <= res.score <= 17  # spec A.6: 12.4-14.4 over 3 seeds with the original code
    A = res.distances
    assert A.shape == (3, 3) and np.allclose(A, A.T)
    assert A[0, 1] > 2 * A[1, 2] and A[0, 2] > 2 * A[1, 2] and max(np.diag(A)) < A[1, 2]
    assert res.wrlt.shape == (3, 10, 100) and res.latent_values.shape == (3, 10)
    assert 20 <= int(np.median(res.wrlt.argmax(-1))) <= 45  # noise cycles: modes of a few tens of holes
    assert res.as_dict() == {"score": res.score, "n_clusters": 2, "variance": res.variance}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_toy_grouping_is_robust_over_seeds(seed):
    res = topological_disentanglement(toy_generator(seed=seed), 3, n=25, seed=seed)
    assert res.n_clusters == 2 and _groups(res) == [(0,), (1, 2)]
    assert res.score > 0


def test_stages_after_the_draws_equal_the_reference_composition(rng):
    # With n == i_max the reference's cost sized by draws fits, so every stage can be compared.
    res = topological_disentanglement(toy_generator(), 3, num_points=300, num_values=3, L0=30, n=20, i_max=20,
                                      seed=int(rng.integers(1 << 31)), keep_rlts=True, barycenter_stop="pot")
    from scipy.stats import wasserstein_distance

    w = np.stack([[ref.barymean(res.rlts[i, j]) for j in range(3)] for i in range(3)])
    np.testing.assert_allclose(res.wrlt, w, rtol=0, atol=1e-10)
    A = np.array([[np.mean([wasserstein_distance(w[i, a], w[t, b]) for a in range(3) for b in range(3)])
                   for t in range(3)] for i in range(3)])
    np.testing.assert_allclose(res.distances, A, rtol=1e-9, atol=1e-15)
    score, best, var, table = ref.cocluster_score(res.distances)
    assert res.n_clusters == best and abs(res.score - score) < 1e-9 * abs(score) and abs(res.variance - var) < 1e-12
    assert set(res.scores) == set(table)


def test_seeded_runs_are_bit_identical_and_seeds_matter():
    a = topological_disentanglement(toy_generator(), 3, seed=5, **SMALL)
    b = topological_disentanglement(toy_generator(), 3, seed=np.random.default_rng(5), **SMALL)
    c = topological_disentanglement(toy_generator(), 3, seed=6, **SMALL)
    assert a.score == b.score and a.variance == b.variance
    np.testing.assert_array_equal(a.wrlt, b.wrlt)
    np.testing.assert_array_equal(a.distances, b.distances)
    assert not np.array_equal(a.wrlt, c.wrlt)


def _matrix_with_empty_blocks():
    """A 6 x 6 distance matrix for which some, not all, cluster counts give a bicluster with an empty block
    (found by fitting scikit-learn itself, so the test follows its version)."""
    for seed in range(200):
        A = np.random.default_rng(seed).random((6, 6)) * 1e-3
        A = (A + A.T) / 2
        empty = {}
        for k in range(2, 7):
            m = SpectralCoclustering(k, random_state=0).fit(1 - A)
            empty[k] = any(m.rows_[b].sum() * m.columns_[b].sum() == 0 or m.rows_[b].sum() * (~m.columns_[b]).sum() == 0
                           for b in range(k))
        if any(empty.values()) and not all(empty.values()):
            return A, empty
    pytest.skip("no matrix with some empty blocks found")


def test_empty_block_rules():
    A, empty = _matrix_with_empty_blocks()
    skip = cocluster_scores(A, empty_blocks="skip")
    for k, e in empty.items():
        assert math.isnan(skip["variances"][k]) == e and math.isnan(skip["scores"][k]) == e
    assert not empty[skip["n_clusters"]]
    assert skip["variance"] == min(v for v in skip["variances"].values() if not math.isnan(v))
    zero = cocluster_scores(A, empty_blocks="zero")  # the reference's supervised rule
    score, best, var, table = ref.cocluster_score(A, supervised=True)
    assert zero["n_clusters"] == best and abs(zero["score"] - score) < 1e-9 * abs(score)
    for k in table:
        assert abs(zero["variances"][k] - table[k][1]) < 1e-12
    with pytest.raises(RuntimeError):  # the reference stops (in pdb) in the unsupervised case
        ref.cocluster_score(A)
    with pytest.raises(ValueError, match="empty block"):
        cocluster_scores(A, empty_blocks="raise")
    with pytest.raises(ValueError, match="empty block"):
        cocluster_scores(A, [k for k, e in empty.items() if e], empty_blocks="skip")
    only = cocluster_scores(A, 2)
    assert only["n_clusters"] == 2 and list(only["scores"]) == [2]


def test_block_means():
    d = np.arange(20.0).reshape(4, 5)
    a = block_mean_distances(d, [1, 3], [2, 3])
    np.testing.assert_allclose(a, [[0.5, 3.0], [10.5, 13.0]])
    with pytest.raises(ValueError, match="groups"):
        block_mean_distances(d, [2, 3], [5])


class ToyDataset:
    """A disentanglement_lib-style dataset mirroring the toy generator: factor 0 an angle on a circle (36
    values), factors 1 and 2 positions (8 values each), a constant factor 3; observations in R^16, jittered
    within each value's bin so that submanifolds are continuous (positions through the normal quantile, so that
fixing a factor gives the same distribution as fixing the matching latent)."""

    factors_num_values = [36, 8, 8, 1]
    num_factors = 4
    observation_shape = [16]
    factor_names = ("angle", "p1", "p2", "color")

    def __init__(self):
        self.q = np.linalg.qr(np.random.default_rng(1234).standard_normal((16, 4)))[0]

    def sample_factors(self, num, random_state):
        return np.stack([random_state.randint(0, s, num) for s in self.factors_num_values], 1)

    def sample_observations_from_factors(self, factors, random_state):
        u = random_state.uniform(0, 1, (len(factors), 3))
        phi = 2 * np.pi * (factors[:, 0] + u[:, 0]) / 36
        p = ndtri((factors[:, 1:3] + u[:, 1:3]) / 8)  # distributed like the N(0, 1) latents
        return (np.c_[np.cos(phi), np.sin(phi), p] @ self.q.T).astype(np.float32)


def test_supervised_variant_on_a_toy_dataset():
    res = topological_disentanglement(toy_generator(), 3, dataset=ToyDataset(), num_points=500, num_values=5,
                                      L0=50, n=10, num_factor_samples=500, seed=0)
    assert res.supervised and res.factors == (0, 1, 2) and res.factor_names == ("angle", "p1", "p2")
    assert res.distances.shape == (3, 3) and [w.shape for w in res.real_wrlt] == [(36, 100), (8, 100), (8, 100)]
    assert res.submanifold_distances.shape == (15, 52)
    A = res.distances
    # the circle latent matches the angle factor (both fixings leave a plane), the plane latents the positions
    assert int(np.argmin(A[0])) == 0 and int(np.argmin(A[1])) in (1, 2) and int(np.argmin(A[2])) in (1, 2)
    blocks = sorted((tuple(r.tolist()), tuple(c.tolist())) for r, c in res.biclusters[res.n_clusters])
    assert res.n_clusters == 2 and blocks == [((0,), (0,)), ((1, 2), (1, 2))]  # held for seeds 0-4
    assert res.settings["empty_blocks"] == "zero" and res.score > 0


def test_evaluate_form_needs_a_generator():
    m = METRICS["topological_disentanglement"]
    assert m.needs == "generator" and not m.default and m.array_fn is topological_disentanglement
    subject = Subject(generate=toy_generator(), latent_dim=3)
    opts = {"topological_disentanglement": dict(SMALL)}
    out = pm.evaluate(subject, None, ["topological_disentanglement"], seed=0, options=opts)
    out = out["topological_disentanglement"]
    assert set(out) == {"unsupervised_score", "unsupervised_n_clusters", "unsupervised_variance"}
    both = pm.evaluate(subject, ToyDataset(), ["topological_disentanglement"], seed=0,
                       options={"topological_disentanglement": dict(SMALL, num_factor_samples=300)})
    both = both["topological_disentanglement"]
    unsup = pm.evaluate(subject, ToyDataset(), ["topological_disentanglement"], seed=0,
                        options={"topological_disentanglement": dict(SMALL, supervised=False)})
    assert set(unsup["topological_disentanglement"]) == set(out)
    assert both["unsupervised_score"] == unsup["topological_disentanglement"]["unsupervised_score"]  # one model side
    assert np.isfinite(both["supervised_score"]) and both["supervised_n_clusters"] >= 2
    with pytest.raises(ValueError, match="'dataset'"):
        pm.evaluate(subject, None, ["topological_disentanglement"],
                    options={"topological_disentanglement": dict(SMALL, supervised=True)})
    with pytest.raises(TypeError):
        pm.evaluate(subject, None, ["topological_disentanglement"], options={"topological_disentanglement": {"L_0": 5}})


def test_generator_calls_are_batched_and_any_callable_works():
    calls = []
    gen = toy_generator()

    def counted(z):
        calls.append(len(z))
        return gen(z).numpy()  # numpy output is fine too

    res = topological_disentanglement(counted, 3, batch_size=128, seed=0, **SMALL)
    assert calls[:3] == [128, 128, 44] and len(calls) == 3 * 3 * 4
    prior = lambda n, rng: rng.uniform(0, 1, (n, 3))
    assert np.isfinite(topological_disentanglement(gen, 3, prior=prior, seed=0, **SMALL).score)
    u = topological_disentanglement(gen, 3, prior="uniform", seed=0, **SMALL)
    assert (u.latent_values >= 0).all() and (u.latent_values < 1).all() and np.isfinite(res.score)


def test_options_with_reference_behaviour():
    gen = toy_generator()
    base = topological_disentanglement(gen, 3, seed=0, **SMALL)
    for kw in (dict(replace=False), dict(mean="arithmetic"), dict(distance="histogram"),
               dict(barycenter_stop="pot"), dict(cost_matrix="draws", n=40)):
        res = topological_disentanglement(gen, 3, seed=0, **{**SMALL, **kw})
        assert np.isfinite(res.score) and res.settings[next(iter(kw))] == next(iter(kw.values()))
    same = topological_disentanglement(gen, 3, seed=0, **{**SMALL, "n": 40})
    draws = topological_disentanglement(gen, 3, seed=0, **{**SMALL, "n": 40, "cost_matrix": "draws"})
    np.testing.assert_array_equal(same.wrlt, draws.wrlt)  # n == i_max: the two costs coincide
    with pytest.raises(ValueError, match="'i_max'"):  # every draw keeps >= 2 holes alive: all-zero RLTs
        topological_disentanglement(gen, 3, seed=0, **{**SMALL, "i_max": 2})
    with pytest.raises(ValueError, match="negative"):
        cocluster_scores(np.array([[0.5, 1.5], [1.5, 0.2]]))
    assert base.settings["distance"] == "zhou_code" and base.settings["barycenter_stop"] == "zhou"


def test_random_vgg16_embedder():
    net = random_vgg16_embedder(1, seed=3)
    sd = net.state_dict()
    assert sd["features.0.weight"].shape == (64, 1, 3, 3) and "features.0.bias" not in sd
    assert sd["classifier.0.weight"].shape == (4096, 25088) and sd["classifier.3.weight"].shape == (64, 4096)
    x = torch.rand(3, 1, 32, 32)
    y = net(x)
    assert y.shape == (3, 64) and torch.isfinite(y).all()
    torch.testing.assert_close(random_vgg16_embedder(1, seed=3)(x), y, rtol=0, atol=0)
    assert not torch.equal(random_vgg16_embedder(1, seed=4)(x), y)
    net.train()
    assert not net.training  # dropout stays off
    with pytest.raises(ValueError, match="'x'"):
        net(torch.rand(3, 2, 32, 32))


def test_embedders_in_the_metric():
    def images(z):  # a tiny image generator: a blob whose position follows z
        g = torch.linspace(-2, 2, 32)
        d2 = (g[None, :, None] - z[:, :1, None]) ** 2 + (g[None, None, :] - z[:, 1:2, None]) ** 2
        return torch.exp(-d2)[:, None]

    kw = dict(num_points=20, num_values=2, L0=8, n=3, i_max=20, seed=0)
    vgg = topological_disentanglement(images, 2, embedder="random_vgg16", **kw)
    again = topological_disentanglement(images, 2, embedder="random_vgg16", **kw)
    assert vgg.score == again.score and vgg.settings["embedder"] == "random_vgg16"
    flat = topological_disentanglement(images, 2, embedder=lambda x: x.reshape(len(x), -1)[:, ::7], **kw)
    assert np.isfinite(flat.score)
    with pytest.raises(ValueError, match="'embedder'"):
        topological_disentanglement(images, 2, embedder=lambda x: x[:1].reshape(1, -1), **kw)
    with pytest.raises(ValueError, match="'separate_real_embedder'"):
        topological_disentanglement(images, 2, separate_real_embedder=True, **kw)


def test_bad_input():
    gen = toy_generator()
    with pytest.raises(ValueError, match="'generator'.*batch"):
        topological_disentanglement(lambda z: gen(z)[1:], 3, **SMALL)
    with pytest.raises(ValueError, match="'generator'.*NaN"):
        topological_disentanglement(lambda z: gen(z) * float("nan"), 3, **SMALL)
    with pytest.raises(TypeError, match="'generator'"):
        topological_disentanglement("decoder", 3)
    with pytest.raises(ValueError, match="'latent_dim'"):
        topological_disentanglement(gen, 1)
    with pytest.raises(ValueError, match="'L0'"):
        topological_disentanglement(gen, 3, replace=False, **{**SMALL, "L0": 400})
    with pytest.raises(ValueError, match="'gamma'"):
        topological_disentanglement(gen, 3, gamma=0.0)
    with pytest.raises(ValueError, match="'gamma'"):
        topological_disentanglement(gen, 3, gamma=-1 / 128)
    with pytest.raises(ValueError, match="'cost_matrix'"):
        topological_disentanglement(gen, 3, cost_matrix="draws", n=50)
    with pytest.raises(ValueError, match="'distance'"):
        topological_disentanglement(gen, 3, distance="wasserstein")
    with pytest.raises(ValueError, match="'prior'"):
        topological_disentanglement(gen, 3, prior=lambda n, rng: rng.standard_normal((n, 2)), **SMALL)
    with pytest.raises(ValueError, match="'prior'"):
        topological_disentanglement(gen, 3, prior="laplace")
    with pytest.raises(ValueError, match="'embedder'"):
        topological_disentanglement(gen, 3, embedder="vgg19")
