"""Ground-truth correlation on embeddings with known answers, and the uint8 data-distance path."""

import pytest
import torch

from pydisent.metrics import evaluate
from pydisent.metrics._ground_truth_correlation import distance_keys
from tests.metrics._embeddings import run

# -- ground-truth correlation ---------------------------------------------------------------------

def test_integer_linear_embedding_correlates_perfectly(rng):
    # integer weights: distances are exact, so ties in the ground distances stay ties in the latent ones
    W = torch.tensor(rng.integers(-3, 4, size=(4, 5)), dtype=torch.float32)
    W[torch.arange(4), torch.arange(4)] = 5.0  # no factor maps to zero
    r = run("ground_truth_correlation", lambda x: x @ W, repeats=32)
    assert set(r) == set(distance_keys("factor") + distance_keys("global"))
    for lp in ("l1", "l2"):
        assert r[f"distances.rcorr_ground_latent.{lp}.factor"] == pytest.approx(1.0, abs=1e-12)
        assert r[f"distances.rsame_ground_latent.{lp}.factor"] == 1.0
        assert r[f"distances.lcorr_ground_latent.{lp}.factor"] == pytest.approx(1.0, abs=1e-12)
    # the identity embedding reproduces the global ground distance (L1 between factor vectors) too
    r = run("ground_truth_correlation", lambda x: x.clone(), repeats=32)
    assert r["distances.rcorr_ground_latent.l1.global"] == pytest.approx(1.0, abs=1e-12)
    assert r["distances.rsame_ground_latent.l1.global"] == 1.0
    # data distance (MSE of the observations = squared factor difference / F): monotone in the ground distance
    assert r["distances.rcorr_ground_data.factor"] == pytest.approx(1.0, abs=1e-12)
    assert r["distances.lcorr_ground_data.factor"] < 1.0


@pytest.mark.filterwarnings("ignore:ground_truth_correlation:RuntimeWarning")
def test_noise_codes_correlate_about_zero():
    # (large factors: a triplet with a == p has distance 0 in every space, which correlates by itself)
    gen = torch.Generator().manual_seed(0)
    r = run("ground_truth_correlation", lambda x: torch.randn(len(x), 6, generator=gen), repeats=48, sizes=[150, 200])
    for lp in ("l1", "l2"):
        for scope in ("factor", "global"):
            assert abs(r[f"distances.rcorr_ground_latent.{lp}.{scope}"]) < 0.1


def test_data_distances_on_uint8_images_match_the_float_observations(seed, monkeypatch):
    """The evaluate form measures data distances on a dataset's uint8 images (exact integer sums, with
    the transform's per-channel scale); a transform that does not declare its scale takes the float
    path. Pearson correlations agree to rounding; the rank statistics differ only where the float path
    broke exact ties by rounding; keys without data distances are identical."""
    import pydisent.metrics._ground_truth_correlation as dist
    from pydisent.data import FloatCHW, XYObject, to_float_chw

    calls = []
    real = dist._paired_image
    monkeypatch.setattr(dist, "_paired_image", lambda *a: calls.append(1) or real(*a))
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(6, 3 * 16 * 16, generator=g)
    rep = lambda x: torch.tanh(x[:, :, ::4, ::4].reshape(len(x), -1) @ W.T / 10)
    opts = {"ground_truth_correlation": {"repeats": 32}}
    for image_tf, float_tf in [("default", lambda x: to_float_chw(x)),
                               (FloatCHW(0.2, [0.5, 0.3, 0.9]), lambda x: FloatCHW(0.2, [0.5, 0.3, 0.9])(x))]:
        calls.clear()
        name = "ground_truth_correlation"
        exact = evaluate(rep, XYObject(transform=image_tf), name, seed=seed, options=opts)[name]
        assert calls  # the uint8 path ran
        calls.clear()
        approx = evaluate(rep, XYObject(transform=float_tf), name, seed=seed, options=opts)[name]
        assert not calls
        assert set(exact) == set(approx)
        for k in exact:  # ties move the rank statistics (rsame, Spearman) a little, not Pearson
            kind = k.split(".")[1].split("_")[0]
            tol = ({"rsame": 0.03, "rcorr": 2e-3, "lcorr": 1e-6}[kind]) if "data" in k else 1e-12
            assert exact[k] == pytest.approx(approx[k], abs=tol), k


# ---- issue 15 regressions -------------------------------------------------------------------------

def test_factor_names_of_the_wrong_length():
    """Defect 17: one name for two factors raised IndexError."""
    import numpy as np
    import pytest

    import pydisent.metrics as pm

    r = np.random.default_rng(0)
    with pytest.raises(ValueError, match="argument 'factor_names'"):
        pm.ground_truth_correlation([r.random((6, 5, 3)), r.random((6, 4, 3))], factor_names=["a"])
    with pytest.raises(ValueError, match="argument 'factor_names'"):
        pm.linearity([r.random((6, 5, 3)), r.random((6, 4, 3))], factor_names=["a", "b", "c"])
