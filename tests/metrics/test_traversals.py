"""The four traversal metrics (flatness, linearity, ground_truth_correlation, factored_components) together:
parity with a loop reference, evaluate vs array forms, bad input, devices, dataset kinds."""

import warnings

import numpy as np
import pytest
import scipy.stats
import torch

from pydisent.data import FactorSpace
from pydisent.metrics import evaluate
from pydisent.metrics._factored_components import factored_components
from pydisent.metrics._flatness import flatness
from pydisent.metrics._ground_truth_correlation import (
    ground_truth_correlation,
)
from pydisent.metrics._linearity import linearity
from pydisent.metrics._traversals import geometric_mean
from tests.metrics._data import FactorVectors
from tests.metrics._embeddings import SIZES, run


def test_constant_codes_give_zero_with_warning():
    with pytest.warns(RuntimeWarning, match="constant codes"):
        r = run("linearity", lambda x: torch.zeros(len(x), 3))
    assert all(v == 0.0 for v in r.values())
    with pytest.warns(RuntimeWarning, match="constant"):
        r = run("ground_truth_correlation", lambda x: torch.ones(len(x), 3), repeats=16)
    assert all(np.isfinite(v) for v in r.values())
    assert r["distances.rcorr_ground_latent.l1.factor"] == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = run("flatness", lambda x: torch.zeros(len(x), 3), repeats=8)
    assert r["flatness.ave_flatness"] == 0.0 and r["flatness.ave_width_l2"] == 0.0


def test_geometric_mean_definition():
    notes = []
    assert geometric_mean(np.array([0.25, 1.0, 4.0]), "k", notes) == pytest.approx(1.0)
    assert geometric_mean(np.array([0.5, 0.0]), "k", notes) == 0.0
    assert not notes
    assert geometric_mean(np.array([0.5, -0.2]), "k", notes) == 0.0
    assert notes and "negative" in notes[0]


# -- parity with a straightforward per-traversal loop ---------------------------------------------

def _loop_reference(codes, obs, gcodes, gobs, gfactors, num_samples, seed):
    """disent's algorithm written as a plain loop over traversals (numpy/scipy, float64), drawing the
    triplets in the same order as the array forms."""
    rng = np.random.default_rng(seed)
    keys = {}

    def dists(z, x, trip, gf):
        a, p, n = trip.T
        out = {}
        if gf is None:
            out["ground"] = (np.abs(a - p).astype(float), np.abs(a - n).astype(float))
        else:
            out["ground"] = (np.abs(gf[a] - gf[p]).sum(1), np.abs(gf[a] - gf[n]).sum(1))
        out["l1"] = (np.abs(z[a] - z[p]).sum(1), np.abs(z[a] - z[n]).sum(1))
        out["l2"] = (np.linalg.norm(z[a] - z[p], axis=1), np.linalg.norm(z[a] - z[n], axis=1))
        out["data"] = (((x[a] - x[p]) ** 2).mean(1), ((x[a] - x[n]) ** 2).mean(1))
        return {k: (u.astype(np.float64), v.astype(np.float64)) for k, (u, v) in out.items()}

    def scores(parts):
        d = {k: (np.concatenate([q[k][0] for q in parts]), np.concatenate([q[k][1] for q in parts])) for k in parts[0]}
        out = {}
        for frag, sa, sb in [("ground_data", "ground", "data"), ("ground_latent.l1", "ground", "l1"),
                             ("latent_data.l1", "l1", "data"), ("ground_latent.l2", "ground", "l2"),
                             ("latent_data.l2", "l2", "data")]:
            (ap0, an0), (ap1, an1) = d[sa], d[sb]
            same = ((ap0 < an0) & (ap1 < an1)) | ((ap0 == an0) & (ap1 == an1)) | ((ap0 > an0) & (ap1 > an1))
            out[f"rsame_{frag}"] = same.mean()
            u, v = np.concatenate([ap0, an0]), np.concatenate([ap1, an1])
            out[f"rcorr_{frag}"] = scipy.stats.spearmanr(u, v)[0]
            out[f"lcorr_{frag}"] = scipy.stats.pearsonr(u, v)[0]
        return out

    per_factor = []
    lin = {k: [] for k in ("axis", "linear", "align", "axis_ave")}
    for z_all, x_all in zip(codes, obs):
        R, s, Z = z_all.shape
        trips = rng.integers(0, s, size=(R, num_samples, 3))
        parts = [dists(z_all[r], x_all[r].reshape(s, -1), trips[r], None) for r in range(R)]
        per_factor.append(scores(parts))
        ax, li, al, vs = [], [], [], []
        for r in range(R):
            z = z_all[r].astype(np.float64)
            var = z.var(0, ddof=1)
            ev = np.abs(np.linalg.eigvalsh(np.cov(z.T)))
            score = lambda v, Z=Z: (v.max() / v.sum() - 1 / Z) / (1 - 1 / Z)
            ax.append(score(var))
            li.append(score(ev))
            al.append(ax[-1] / (li[-1] + 1e-20))
            vs.append(var)
        lin["axis"].append(np.mean(ax))
        lin["linear"].append(np.mean(li))
        lin["align"].append(np.mean(al))
        v = np.mean(vs, 0)
        lin["axis_ave"].append((v.max() / v.sum() - 1 / Z) / (1 - 1 / Z))
    gmean = lambda v: float(np.exp(np.mean(np.log(np.asarray(v)))))
    for frag in per_factor[0]:
        keys[f"distances.{frag}.factor"] = gmean([pf[frag] for pf in per_factor])
    R, G, _ = gcodes.shape
    gtrips = rng.integers(0, G, size=(R, num_samples, 3))
    parts = [dists(gcodes[r], gobs[r].reshape(G, -1), gtrips[r], gfactors[r]) for r in range(R)]
    for frag, v in scores(parts).items():
        keys[f"distances.{frag}.global"] = float(v)
    keys["linearity.axis_ratio.var"] = gmean(lin["axis"])
    keys["linearity.linear_ratio.var"] = gmean(lin["linear"])
    keys["linearity.axis_alignment.var"] = gmean(lin["align"])
    keys["linearity.axis_ratio_ave.var"] = gmean(lin["axis_ave"])
    # flatness
    wl = {1: [], 2: []}
    for z_all in codes:
        R, s, _ = z_all.shape
        for p in (1, 2):
            widths, steps = [], []
            for r in range(R):
                z = z_all[r].astype(np.float64)
                st = np.linalg.norm(np.roll(z, -1, axis=0) - z, ord=p, axis=1)
                steps.append(np.sort(st)[: s - 1])
                widths.append(np.max(np.linalg.norm(z[:, None] - z[None], ord=p, axis=-1)))
            wl[p].append((np.mean(widths), (s - 1) * np.mean(steps)))
    w1, l1 = np.array(wl[1]).T
    w2, l2 = np.array(wl[2]).T
    keys.update({"flatness.ave_flatness": np.mean(w2 / l1), "flatness.ave_flatness_l1": np.mean(w1 / l1),
                 "flatness.ave_flatness_l2": np.mean(w2 / l2), "flatness.ave_width_l1": np.mean(w1),
                 "flatness.ave_width_l2": np.mean(w2), "flatness.ave_length_l1": np.mean(l1),
                 "flatness.ave_length_l2": np.mean(l2)})
    return keys


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_parity_with_loop_reference(seed, dtype):
    rng = np.random.default_rng(seed)
    fs = FactorSpace([5, 7, 4])
    R, N, G, Z = 12, 16, 10, 5
    W = rng.normal(size=(3, Z))
    # smooth nonlinear codes and "images" with generic mixing: two different pairs never have equal
    # distances in theory, so only exact duplicates tie (which every implementation keeps exact)
    A = rng.normal(size=(3, 6))
    enc = lambda f: np.tanh(f @ W * 0.4) + 0.1 * (f @ W) ** 2
    render = lambda f: np.sin(f @ A) + 0.3 * (f @ A)
    codes, obs = [], []
    for f in range(3):
        t = fs.sample_traversals(f, R, rng).astype(np.float64)
        codes.append(torch.tensor(enc(t), dtype=dtype))
        obs.append(torch.tensor(render(t), dtype=dtype))
    gf = fs.sample_factors(R * G, rng).reshape(R, G, 3).astype(np.float64)
    gcodes, gobs = torch.tensor(enc(gf), dtype=dtype), torch.tensor(render(gf), dtype=dtype)
    got = factored_components(codes, obs, global_codes=gcodes, global_observations=gobs, global_factors=gf,
                              num_samples=N, rng=np.random.default_rng(seed + 1))
    got.update(flatness(codes))
    # distances in the input precision, as disent measures them (float32 codes: float32 norms)
    want = _loop_reference([c.numpy() for c in codes], [o.numpy() for o in obs], gcodes.numpy(), gobs.numpy(),
                           gf, N, seed + 1)
    assert set(got) == set(want)
    tol = 1e-9 if dtype == torch.float64 else 2e-5
    for k in sorted(want):
        assert got[k] == pytest.approx(want[k], abs=tol, rel=tol), k


def test_evaluate_form_equals_array_form(seed):
    ds = FactorVectors([5, 1, 6])
    W = torch.tensor(np.random.default_rng(seed).normal(size=(3, 4)), dtype=torch.float32)
    fn = lambda x: torch.tanh(x @ W)
    R, N, G = 10, 8, 6
    got = evaluate(fn, ds, ["factored_components", "flatness"], seed=seed,
                   options={"factored_components": dict(repeats=R, num_samples=N, global_subset_size=G),
                            "flatness": dict(repeats=R)})
    # the same draws by hand: traversal bases per active factor, global factors, then the triplets
    rng = np.random.default_rng(seed)
    fs = ds.factor_space
    trav = [fs.traversals(f, fs.sample_factors(R, rng)) for f in (0, 2)]
    glob = fs.sample_factors(R * G, rng).reshape(R, G, 3)
    codes = [fn(ds.observations(t.reshape(-1, 3))).reshape(R, t.shape[1], -1) for t in trav]
    obs = [ds.observations(t.reshape(-1, 3)).reshape(R, t.shape[1], -1) for t in trav]
    gcodes = fn(ds.observations(glob.reshape(-1, 3))).reshape(R, G, -1)
    want = factored_components([codes[0], codes[0][:, :1], codes[1]], [obs[0], obs[0][:, :1], obs[1]],
                               global_codes=gcodes,
                               global_observations=ds.observations(glob.reshape(-1, 3)).reshape(R, G, -1),
                               global_factors=glob, num_samples=N, rng=rng,
                               factor_names=fs.names)
    assert got["factored_components"] == pytest.approx(want, abs=1e-12)
    rng = np.random.default_rng(seed)
    trav = [fs.traversals(f, fs.sample_factors(R, rng)) for f in (0, 2)]
    codes = [fn(ds.observations(t.reshape(-1, 3))).reshape(R, t.shape[1], -1) for t in trav]
    assert got["flatness"] == pytest.approx(flatness(codes), abs=1e-12)


# -- bad input ------------------------------------------------------------------------------------

def test_bad_input_names_the_argument():
    good = np.zeros((3, 4, 2))
    bad = good.copy()
    bad[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match=r"'traversals\[1\]' contains NaN"):
        linearity([good, bad])
    with pytest.raises(ValueError, match=r"'traversals\[0\]' must have shape"):
        flatness([np.zeros((4, 2))])
    with pytest.raises(ValueError, match=r"'traversals\[1\]' has 3 codes"):
        linearity([good, np.zeros((3, 4, 3))])
    with pytest.raises(TypeError, match="'traversals' must be a sequence"):
        flatness(good)
    with pytest.raises(ValueError, match="no factor with more than one value"):
        linearity([np.zeros((3, 1, 2))])
    with pytest.raises(ValueError, match="'num_samples' must be >= 1"):
        ground_truth_correlation([good], num_samples=0)
    with pytest.raises(ValueError, match=r"'traversal_observations\[0\]' must have shape \(3, 4, ...\)"):
        ground_truth_correlation([good], [np.zeros((3, 5, 7))])
    with pytest.raises(ValueError, match="'global_factors' is required"):
        ground_truth_correlation([good], global_codes=np.zeros((2, 5, 2)))
    with pytest.raises(ValueError, match="'repeats' must be >= 1"):
        run("flatness", lambda x: x, repeats=0)
    with pytest.raises(TypeError, match="'repeats' must be an integer"):
        run("linearity", lambda x: x, repeats=2.5)
    with pytest.raises(ValueError, match="NaN or infinite codes"):
        run("linearity", lambda x: torch.full((len(x), 2), float("nan")), repeats=2)
    with pytest.raises(ValueError, match="no factor with more than one value"):
        run("ground_truth_correlation", lambda x: x, repeats=2, sizes=[1, 1])
    with pytest.raises(ValueError, match="'backend'"):
        run("flatness", lambda x: x, repeats=2, backend="gpu")


def test_half_precision_codes_are_measured_in_float32():
    r16 = run("factored_components", lambda x: x.to(torch.float16) * 2, repeats=4)
    r32 = run("factored_components", lambda x: x * 2, repeats=4)
    assert r16 == pytest.approx(r32, abs=1e-12)


@pytest.mark.cuda
def test_cuda_metrics_match_cpu(rng):
    W = torch.tensor(rng.integers(-3, 4, size=(4, 5)), dtype=torch.float32)  # exact distances on both devices
    ds = FactorVectors(SIZES)
    opts = {"factored_components": dict(repeats=32), "flatness": dict(repeats=32)}
    cpu = evaluate(lambda x: x @ W.to(x.device), ds, list(opts), seed=3, options=opts)
    gpu = evaluate(lambda x: x @ W.to(x.device), ds, list(opts), seed=3, options=opts, device="cuda")
    for name in opts:
        assert gpu[name] == pytest.approx(cpu[name], rel=1e-5, abs=1e-6), name


class DlibStyle:
    """A disentanglement_lib-style dataset: numpy observations, RandomState sampling."""

    def __init__(self, sizes):
        self.factors_num_values = list(sizes)
        self.num_factors = len(sizes)
        self.observation_shape = (len(sizes),)

    def sample_factors(self, num, random_state):
        return np.stack([random_state.randint(s, size=num) for s in self.factors_num_values], axis=1)

    def sample_observations_from_factors(self, factors, random_state):
        return np.asarray(factors, dtype=np.float64) * 0.5


def test_disentanglement_lib_style_dataset():
    opts = {m: dict(repeats=8) for m in ("flatness", "factored_components")}
    r = evaluate(lambda x: np.asarray(x)[:, ::-1] * 2.0, DlibStyle([4, 1, 6]), list(opts), seed=1, options=opts)
    assert r["flatness"]["flatness.ave_flatness"] == pytest.approx(1.0)
    assert r["factored_components"]["linearity.axis_ratio.var"] == pytest.approx(1.0)
    assert r["factored_components"]["distances.rcorr_ground_latent.l1.factor"] == pytest.approx(1.0)
    # latent L2 = 2 |df| and data MSE = |df|^2 / 12 are monotone in each other (exact in floats here)
    assert r["factored_components"]["distances.rcorr_latent_data.l2.global"] == pytest.approx(1.0, abs=1e-12)


def test_encoder_returning_a_view_of_its_input_is_not_overwritten(seed):
    """Observations are rendered into one reused buffer; an encoder whose codes are a view of its input
    (a reshape or a slice) must still see every chunk's codes kept apart: same numbers as a copying one."""
    from pydisent.data import XYObject

    ds = XYObject()
    view = lambda x: x.reshape(len(x), -1)[:, ::97]  # a view: no copy
    copy = lambda x: x.reshape(len(x), -1)[:, ::97].clone()
    opts = {"flatness": {"repeats": 40}, "factored_components": {"repeats": 24, "global_subset_size": 64},
            "mig": {"num_train": 1500}}
    for cache in (True, False):
        # batch_size above the chunk: the encoder's output for a chunk is not concatenated (copied) anew
        got = evaluate(view, ds, list(opts), seed=seed, options=opts, cache_codes=cache, batch_size=8192)
        want = evaluate(copy, ds, list(opts), seed=seed, options=opts, cache_codes=cache, batch_size=8192)
        np.testing.assert_equal(got, want)
