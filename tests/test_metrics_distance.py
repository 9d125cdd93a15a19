"""Distance-learning metrics (flatness, ground-truth correlation, linearity): hand-checkable embeddings,
parity with a straightforward per-traversal loop on the same samples, and bad input."""

import warnings

import numpy as np
import pytest
import scipy.stats
import torch

from pydisent.data import FactorSpace, GroundTruthDataset
from pydisent.metrics import METRICS, evaluate
from pydisent.metrics._traversals import geometric_mean
from pydisent.metrics._distances import distance_keys, ground_truth_correlation
from pydisent.metrics._factored_components import factored_components
from pydisent.metrics._flatness import KEYS as FLAT_KEYS
from pydisent.metrics._flatness import flatness
from pydisent.metrics._linearity import KEYS as LIN_KEYS
from pydisent.metrics._linearity import linearity
from pydisent import _C
from pydisent._dispatch import ref
from pydisent.ops import paired_distance, pearson, rankdata, spearman

from conftest import HAS_CUDA


class Identity(GroundTruthDataset):
    """Observation = the factor vector itself (float32), so a representation is a map of the factors."""

    def __init__(self, sizes):
        super().__init__(FactorSpace(sizes), transform=lambda raw: raw.to(torch.float32))

    @property
    def raw_shape(self):
        return (self.factor_space.num_factors,)

    def _render(self, factors):
        return torch.as_tensor(factors, dtype=torch.float32)


SIZES = [6, 9, 1, 7]  # one single-valued factor: skipped, as in disent


def axis_embedding(scales, extra=2):
    """Factor i -> latent i, scaled; `extra` dead dims."""
    s = torch.tensor(scales, dtype=torch.float32)
    return lambda x: torch.cat([x * s, torch.zeros(len(x), extra)], 1)


def circle_embedding(sizes):
    """Each factor on an arc (3/4 of a circle) in its own 2 latent dims: curved traversals."""
    def fn(x):
        cols = []
        for f, s in enumerate(sizes):
            ang = x[:, f] / max(s - 1, 1) * 1.5 * np.pi
            cols += [torch.cos(ang), torch.sin(ang)]
        return torch.stack(cols, 1).to(torch.float32)
    return fn


def run(metric, fn, repeats=64, seed=0, sizes=SIZES, **opts):
    return evaluate(fn, Identity(sizes), metric, seed=seed, options={metric: dict(repeats=repeats, **opts)})[metric]


# -- ranking ops ----------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["cpu", "torch"])
def test_rankdata_matches_scipy_with_ties(rng, backend):
    x = rng.integers(0, 6, size=(4, 3, 40)).astype(np.float64)
    np.testing.assert_array_equal(rankdata(x, backend=backend).numpy(), scipy.stats.rankdata(x, axis=-1))
    np.testing.assert_array_equal(rankdata(x, dim=1, backend=backend).numpy(), scipy.stats.rankdata(x, axis=1))
    # continuous values of both signs and wide range, with ties, -0.0 == +0.0, huge and tiny magnitudes
    y = rng.normal(size=(7, 3001)) * np.exp(rng.uniform(-30, 30, size=(7, 3001)))
    y[:, 5::5] = y[:, :-5:5]  # ties
    y[0, :4] = [0.0, -0.0, 1e308, -1e308]
    y[1, :3] = [5e-324, -5e-324, 0.0]
    for arr in (y, np.clip(y, -1e30, 1e30).astype(np.float32), rng.integers(-10**12, 10**12, size=(3, 500)), y[:1, :1]):
        got = rankdata(arr, backend=backend)
        assert got.dtype == torch.float64
        np.testing.assert_array_equal(got.numpy(), scipy.stats.rankdata(arr, axis=-1))
    assert rankdata(np.zeros((2, 0)), backend=backend).shape == (2, 0)
    np.testing.assert_array_equal(rankdata([3.0], backend=backend).numpy(), [1.0])
    with pytest.raises(ValueError, match="'x'.*NaN"):
        rankdata([1.0, float("nan")], backend=backend)
    with pytest.raises(ValueError, match="'x'.*NaN"):
        rankdata([1.0, float("-inf")], backend=backend)


def test_rankdata_bad_arguments():
    with pytest.raises(ValueError, match="'backend'"):
        rankdata([1.0], backend="gpu")
    with pytest.raises(ValueError, match="backend='cpu'"):
        rankdata(torch.tensor([1, 2], dtype=torch.int16), backend="cpu")
    x, out = torch.zeros(2, 3, dtype=torch.float64), torch.empty(2, 3, dtype=torch.float64)
    with pytest.raises(TypeError, match="'x' must have dtype float64"):
        _C.rank_average_cpu(ref(x.float()), ref(out))
    with pytest.raises(ValueError, match="'out' must have the shape"):
        _C.rank_average_cpu(ref(x), ref(out[:1]))
    with pytest.raises(ValueError, match="NaN"):
        _C.rank_average_cpu(ref(torch.full((1, 2), float("nan"), dtype=torch.float64)), ref(out[:1, :2]))


def test_spearman_pearson_match_scipy(rng):
    x = rng.integers(0, 5, size=(5, 60)).astype(np.float64)
    y = rng.normal(size=(5, 60)) + x
    for i in range(5):
        assert spearman(x, y)[i].item() == pytest.approx(scipy.stats.spearmanr(x[i], y[i])[0], abs=1e-12)
        assert pearson(x, y)[i].item() == pytest.approx(scipy.stats.pearsonr(x[i], y[i])[0], abs=1e-12)
    assert torch.isnan(spearman(np.ones(5), np.arange(5.0)))
    with pytest.raises(ValueError, match="same shape"):
        pearson(np.ones(3), np.ones(4))


# -- paired distances ---------------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["cpu", "torch"] + (["cuda"] if HAS_CUDA else []))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_paired_distance_matches_numpy(rng, backend, dtype):
    x = rng.normal(size=(30, 4, 37)) * 10 + 100  # trailing dims are flattened; large offset
    ia, ib = rng.integers(0, 30, size=(2, 7, 11))
    xt = torch.tensor(x, dtype=dtype)
    if backend == "cuda":
        xt = xt.cuda()
    xc = xt.cpu().reshape(30, -1)
    diff = (xc[torch.as_tensor(ia)] - xc[torch.as_tensor(ib)]).double().numpy()  # differences rounded in dtype
    want = {"manhattan": np.abs(diff).sum(-1), "euclidean": np.sqrt((diff ** 2).sum(-1)),
            "sqeuclidean": (diff ** 2).sum(-1), "mse": (diff ** 2).mean(-1)}
    for metric, w in want.items():
        got = paired_distance(xt, ia, ib, metric, backend=backend)
        assert got.dtype == torch.float64 and got.shape == (7, 11)
        np.testing.assert_allclose(got.cpu().numpy(), w, rtol=1e-12)


@pytest.mark.parametrize("backend", ["cpu"] + (["cuda"] if HAS_CUDA else []))
def test_paired_distance_keeps_ties_exact(rng, backend):
    # swapped pairs and copies of a row at other positions give bit-identical distances
    x = torch.tensor(rng.normal(size=(9, 1000)), dtype=torch.float32)
    x[5] = x[1]
    if backend == "cuda":
        x = x.cuda()
    a = torch.tensor([0, 2, 0, 2, 3])
    b = torch.tensor([2, 0, 1, 5, 8])
    for metric in ("manhattan", "euclidean", "mse"):
        d = paired_distance(x, a, b, metric, backend=backend).cpu()
        assert d[0] == d[1] and d[2] == paired_distance(x, [0], [5], metric, backend=backend).cpu()[0]
        assert d[3] == paired_distance(x, [2], [1], metric, backend=backend).cpu()[0]


@pytest.mark.parametrize("C", [1, 3, 4])
def test_paired_image_mse_is_the_float_images_mse_exactly(rng, C):
    from pydisent.data import to_float_chw
    from pydisent.ops import paired_image_mse

    n, H, W = 12, 9, 700  # D = 6300 C: more than one 4096-element block per row
    u = torch.tensor(rng.integers(0, 256, size=(n, H, W, C)), dtype=torch.uint8)
    u[3] = u[7]  # a duplicate image
    u[0, :, :, 0] = 255  # extreme differences
    u[1, :, :, 0] = 0
    ia, ib = rng.integers(0, n, size=(2, 40))
    ia[:3], ib[:3] = [0, 3, 2], [1, 7, 3]
    std = rng.uniform(0.2, 2.0, size=C)
    for scale, mean, sd in [(np.full(C, 1 / 255), None, None), (1 / (255 * std), rng.uniform(size=C), std)]:
        exact = (u[ia].double() - u[ib].double()).numpy().reshape(40, -1, C) ** 2 * np.asarray(scale) ** 2
        want = exact.sum((1, 2)) / (H * W * C)  # integer squares: exact in float64
        for backend in ("cpu", "torch"):
            got = paired_image_mse(u, ia, ib, scale, backend=backend)
            assert got.dtype == torch.float64 and got.shape == (40,)
            np.testing.assert_allclose(got.numpy(), want, rtol=1e-13)
            assert got[1] == 0.0 and got[2] == paired_image_mse(u, [7], [2], scale, backend=backend)[0]
        assert torch.equal(paired_image_mse(u, ia, ib, scale, backend="cpu"),
                           paired_image_mse(u, ia, ib, scale, backend="torch"))  # same arithmetic, same bits
        # what paired_distance measures on the float images, up to their float32 rounding
        x = to_float_chw(u, mean, sd)
        np.testing.assert_allclose(paired_distance(x, ia, ib, "mse").numpy(), want, rtol=1e-5, atol=1e-12)
    assert paired_image_mse(u, [[0, 1]], [[2, 3]], 1 / 255).shape == (1, 2)
    # long rows of extreme differences: the kernel's 32-bit lanes are flushed before they could overflow
    big = torch.zeros(2, 1_200_007, dtype=torch.uint8)
    big[0] = 255
    big[0, 1::7] = 0
    s_exact = (1_200_007 - len(range(1, 1_200_007, 7))) * 255**2
    for backend in ("cpu", "torch"):
        assert paired_image_mse(big, [0, 1], [1, 0], 1.0, backend=backend).tolist() == [s_exact * (1.0 / 1_200_007)] * 2
    assert paired_image_mse(u, torch.empty(0, dtype=torch.long), torch.empty(0, dtype=torch.long), 1.0).shape == (0,)


def test_paired_image_mse_bad_input():
    from pydisent.ops import paired_image_mse

    u = torch.zeros(4, 2, 2, 3, dtype=torch.uint8)
    with pytest.raises(TypeError, match="'images' must be a uint8"):
        paired_image_mse(u.float(), [0], [1], 1.0)
    with pytest.raises(ValueError, match="'channel_scale' must hold 3 positive"):
        paired_image_mse(u, [0], [1], [1.0, 2.0])
    with pytest.raises(ValueError, match="'channel_scale'"):
        paired_image_mse(u, [0], [1], [1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match=r"in \[0, 4\)"):
        paired_image_mse(u, [0], [4], 1.0)
    with pytest.raises(TypeError, match="'index_b' must be an integer"):
        paired_image_mse(u, [0], [0.5], 1.0)
    with pytest.raises(ValueError, match="'backend'"):
        paired_image_mse(u, [0], [1], 1.0, backend="cuda")
    x, i0, i9 = u.reshape(4, -1), torch.tensor([0]), torch.tensor([9])
    w, out = torch.ones(3, dtype=torch.float64), torch.empty(1, dtype=torch.float64)
    with pytest.raises(ValueError, match="out of range"):
        _C.paired_image_mse_cpu(ref(x), ref(i0), ref(i9), ref(w), ref(out))
    with pytest.raises(TypeError, match="'x' must have dtype uint8"):
        _C.paired_image_mse_cpu(ref(x.float()), ref(i0), ref(i0), ref(w), ref(out))
    with pytest.raises(ValueError, match="'weights' must have one entry per channel"):
        _C.paired_image_mse_cpu(ref(x), ref(i0), ref(i0), ref(torch.ones(5, dtype=torch.float64)), ref(out))
    with pytest.raises(ValueError, match="'out' must have 1 entries"):
        _C.paired_image_mse_cpu(ref(x), ref(i0), ref(i0), ref(w), ref(torch.empty(2, dtype=torch.float64)))


def test_paired_distance_bad_input():
    x = torch.randn(5, 3)
    with pytest.raises(ValueError, match="'metric'"):
        paired_distance(x, [0], [1], "cosine")
    with pytest.raises(TypeError, match="'index_a' must be an integer"):
        paired_distance(x, [0.5], [1])
    with pytest.raises(ValueError, match="same shape"):
        paired_distance(x, [0, 1], [1])
    with pytest.raises(ValueError, match=r"in \[0, 5\)"):
        paired_distance(x, [0], [5])
    with pytest.raises(ValueError, match="'x' contains NaN"):
        paired_distance(torch.tensor([[0.0], [float("nan")]]), [0], [1])
    with pytest.raises(TypeError, match="'x' must be float"):
        paired_distance(torch.ones(3, 2, dtype=torch.int32), [0], [1])
    out = torch.empty(1, dtype=torch.float64)
    i0, i9 = torch.tensor([0]), torch.tensor([9])
    with pytest.raises(ValueError, match="out of range"):
        _C.paired_distance_cpu(ref(x), ref(i0), ref(i9), ref(out), _C.DistanceMetric.mse)
    with pytest.raises(TypeError, match="'index_a' must have dtype int64"):
        _C.paired_distance_cpu(ref(x), ref(i0.int()), ref(i0), ref(out), _C.DistanceMetric.mse)
    with pytest.raises(TypeError, match="'out' must have dtype float64"):
        _C.paired_distance_cpu(ref(x), ref(i0), ref(i0), ref(out.float()), _C.DistanceMetric.mse)
    with pytest.raises(ValueError, match="'metric' of paired_distance must be one of manhattan"):
        _C.paired_distance_cpu(ref(x), ref(i0), ref(i0), ref(out), _C.DistanceMetric.cosine)
    with pytest.raises(ValueError, match="'x' must have 2 dimensions"):
        _C.paired_distance_cpu(ref(x[0]), ref(i0), ref(i0), ref(out), _C.DistanceMetric.mse)


# -- linearity ------------------------------------------------------------------------------------

def test_linear_embedding_is_linear(rng):
    W = torch.tensor(rng.normal(size=(4, 6)), dtype=torch.float32)
    r = run("linearity", lambda x: x @ W)
    assert set(r) == set(LIN_KEYS)
    assert r["linearity.linear_ratio.var"] == pytest.approx(1.0, abs=1e-5)
    assert r["linearity.axis_ratio.var"] < 0.95


def test_axis_aligned_embedding_scores_one():
    r = run("linearity", axis_embedding([1.0, 2.0, 5.0, 0.5]))
    for k in LIN_KEYS:
        assert r[k] == pytest.approx(1.0, abs=1e-6), k


def test_rotation_keeps_linearity_lowers_axis_alignment(rng):
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    Q = torch.tensor(q, dtype=torch.float32)
    axis = axis_embedding([1.0, 1.0, 1.0, 1.0])
    r = run("linearity", lambda x: axis(x) @ Q)
    assert r["linearity.linear_ratio.var"] == pytest.approx(1.0, abs=1e-5)
    assert r["linearity.axis_ratio.var"] < 0.9
    assert r["linearity.axis_alignment.var"] < 0.9


def test_nonlinear_warp_lowers_linearity():
    r = run("linearity", circle_embedding(SIZES))
    assert r["linearity.linear_ratio.var"] < 0.8
    assert 0 < r["linearity.axis_ratio.var"] <= r["linearity.linear_ratio.var"] + 1e-12


def test_linearity_hand_values():
    # a traversal along (1, 1): eigenvalues (2v, 0) -> linear 1; variances (v, v) -> axis (1/2-1/2)/(1/2) = 0
    t = np.arange(5.0)[None, :, None] * np.array([1.0, 1.0])
    r = linearity([t])
    assert r["linearity.linear_ratio.var"] == pytest.approx(1.0)
    assert r["linearity.axis_ratio.var"] == pytest.approx(0.0, abs=1e-12)
    # Z = 1: a single dimension is always a line along an axis
    assert linearity([np.arange(4.0)[None, :, None]])["linearity.axis_ratio.var"] == 1.0


def test_constant_codes_give_zero_with_warning():
    with pytest.warns(RuntimeWarning, match="constant codes"):
        r = run("linearity", lambda x: torch.zeros(len(x), 3))
    assert all(v == 0.0 for v in r.values())
    with pytest.warns(RuntimeWarning, match="constant"):
        r = run("distances", lambda x: torch.ones(len(x), 3), repeats=16)
    assert all(np.isfinite(v) for v in r.values())
    assert r["distances.rcorr_ground_latent.l1.factor"] == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = run("flatness", lambda x: torch.zeros(len(x), 3), repeats=8)
    assert r["flatness.ave_flatness"] == 0.0 and r["flatness.ave_width_l2"] == 0.0


# -- flatness -------------------------------------------------------------------------------------

def test_flatness_of_lines(rng):
    W = torch.tensor(rng.normal(size=(4, 5)), dtype=torch.float32)
    r = run("flatness", lambda x: x @ W, repeats=16)
    assert set(r) == set(FLAT_KEYS)
    assert r["flatness.ave_flatness_l1"] == pytest.approx(1.0, abs=1e-5)
    assert r["flatness.ave_flatness_l2"] == pytest.approx(1.0, abs=1e-5)
    assert r["flatness.ave_flatness"] < 1.0  # L2 width over L1 length: < 1 off the axes
    r = run("flatness", axis_embedding([1.0, 3.0, 1.0, 0.5]), repeats=16)
    assert r["flatness.ave_flatness"] == pytest.approx(1.0, abs=1e-6)
    # widths/lengths: factor sizes 6, 9, 7 with scales 1, 3, 0.5 -> (5 + 24 + 3) / 3
    assert r["flatness.ave_width_l1"] == pytest.approx(32 / 3, rel=1e-6)
    assert r["flatness.ave_length_l2"] == pytest.approx(32 / 3, rel=1e-6)


def test_flatness_cyclic_factor():
    # s points evenly around a full circle (a cyclic factor): steps are all the chord c, one is dropped;
    # width = the diameter 2 (s even); flatness = 2 / ((s-1) c)
    s = 8
    ang = 2 * np.pi * np.arange(s) / s
    t = np.stack([np.cos(ang), np.sin(ang)], 1)[None]
    chord = 2 * np.sin(np.pi / s)
    r = flatness([t])
    assert r["flatness.ave_flatness_l2"] == pytest.approx(2 / ((s - 1) * chord), rel=1e-6)
    assert r["flatness.ave_length_l2"] == pytest.approx((s - 1) * chord, rel=1e-6)


# -- ground-truth correlation ---------------------------------------------------------------------

def test_integer_linear_embedding_correlates_perfectly(rng):
    # integer weights: distances are exact, so ties in the ground distances stay ties in the latent ones
    W = torch.tensor(rng.integers(-3, 4, size=(4, 5)), dtype=torch.float32)
    W[torch.arange(4), torch.arange(4)] = 5.0  # no factor maps to zero
    r = run("distances", lambda x: x @ W, repeats=32)
    assert set(r) == set(distance_keys("factor") + distance_keys("global"))
    for lp in ("l1", "l2"):
        assert r[f"distances.rcorr_ground_latent.{lp}.factor"] == pytest.approx(1.0, abs=1e-12)
        assert r[f"distances.rsame_ground_latent.{lp}.factor"] == 1.0
        assert r[f"distances.lcorr_ground_latent.{lp}.factor"] == pytest.approx(1.0, abs=1e-12)
    # the identity embedding reproduces the global ground distance (L1 between factor vectors) too
    r = run("distances", lambda x: x.clone(), repeats=32)
    assert r["distances.rcorr_ground_latent.l1.global"] == pytest.approx(1.0, abs=1e-12)
    assert r["distances.rsame_ground_latent.l1.global"] == 1.0
    # data distance (MSE of the observations = squared factor difference / F): monotone in the ground distance
    assert r["distances.rcorr_ground_data.factor"] == pytest.approx(1.0, abs=1e-12)
    assert r["distances.lcorr_ground_data.factor"] < 1.0


@pytest.mark.filterwarnings("ignore:distances:RuntimeWarning")
def test_noise_codes_correlate_about_zero():
    # (large factors: a triplet with a == p has distance 0 in every space, which correlates by itself)
    gen = torch.Generator().manual_seed(0)
    r = run("distances", lambda x: torch.randn(len(x), 6, generator=gen), repeats=48, sizes=[150, 200])
    for lp in ("l1", "l2"):
        for scope in ("factor", "global"):
            assert abs(r[f"distances.rcorr_ground_latent.{lp}.{scope}"]) < 0.1


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
            score = lambda v: (v.max() / v.sum() - 1 / Z) / (1 - 1 / Z)
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
    ds = Identity([5, 1, 6])
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
                               global_codes=gcodes, global_observations=ds.observations(glob.reshape(-1, 3)).reshape(R, G, -1),
                               global_factors=glob, num_samples=N, rng=rng,
                               factor_names=fs.names)
    assert got["factored_components"] == pytest.approx(want, abs=1e-12)
    rng = np.random.default_rng(seed)
    trav = [fs.traversals(f, fs.sample_factors(R, rng)) for f in (0, 2)]
    codes = [fn(ds.observations(t.reshape(-1, 3))).reshape(R, t.shape[1], -1) for t in trav]
    assert got["flatness"] == pytest.approx(flatness(codes), abs=1e-12)


def test_registered_names_and_key_sets():
    for name in ("flatness", "distances", "linearity", "factored_components"):
        assert name in METRICS and METRICS[name].array_fn is not None
    r = run("factored_components", axis_embedding([1.0, 2.0, 1.0, 1.0]), repeats=8)
    assert set(r) == set(distance_keys("factor") + distance_keys("global") + list(LIN_KEYS))
    assert len(r) == 34


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
        run("distances", lambda x: x, repeats=2, sizes=[1, 1])
    with pytest.raises(ValueError, match="'backend'"):
        run("flatness", lambda x: x, repeats=2, backend="gpu")


def test_half_precision_codes_are_measured_in_float32():
    r16 = run("factored_components", lambda x: x.to(torch.float16) * 2, repeats=4)
    r32 = run("factored_components", lambda x: x * 2, repeats=4)
    assert r16 == pytest.approx(r32, abs=1e-12)


@pytest.mark.cuda
def test_cuda_metrics_match_cpu(rng):
    W = torch.tensor(rng.integers(-3, 4, size=(4, 5)), dtype=torch.float32)  # exact distances on both devices
    ds = Identity(SIZES)
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


def test_data_distances_on_uint8_images_match_the_float_observations(seed, monkeypatch):
    """The evaluate form measures data distances on a dataset's uint8 images (exact integer sums, with
    the transform's per-channel scale); a transform that does not declare its scale takes the float
    path. Pearson correlations agree to rounding; the rank statistics differ only where the float path
    broke exact ties by rounding; keys without data distances are identical."""
    import pydisent.metrics._distances as dist
    from pydisent.data import FloatCHW, XYObject, to_float_chw

    calls = []
    real = dist._paired_image
    monkeypatch.setattr(dist, "_paired_image", lambda *a: calls.append(1) or real(*a))
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(6, 3 * 16 * 16, generator=g)
    rep = lambda x: torch.tanh(x[:, :, ::4, ::4].reshape(len(x), -1) @ W.T / 10)
    opts = {"distances": {"repeats": 32}}
    for image_tf, float_tf in [("default", lambda x: to_float_chw(x)),
                               (FloatCHW(0.2, [0.5, 0.3, 0.9]), lambda x: FloatCHW(0.2, [0.5, 0.3, 0.9])(x))]:
        calls.clear()
        exact = evaluate(rep, XYObject(transform=image_tf), "distances", seed=seed, options=opts)["distances"]
        assert calls  # the uint8 path ran
        calls.clear()
        approx = evaluate(rep, XYObject(transform=float_tf), "distances", seed=seed, options=opts)["distances"]
        assert not calls
        assert set(exact) == set(approx)
        for k in exact:  # ties move the rank statistics (rsame, Spearman) a little, not Pearson
            kind = k.split(".")[1].split("_")[0]
            tol = ({"rsame": 0.03, "rcorr": 2e-3, "lcorr": 1e-6}[kind]) if "data" in k else 1e-12
            assert exact[k] == pytest.approx(approx[k], abs=tol), k
