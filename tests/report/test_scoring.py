"""Scoring and the figures' data, checked by hand on a representation whose codes are known exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pydisent.data import make_dataset
from pydisent.report import scoring
from pydisent.report.runs import Subject

# one square on a 4 x 4 grid, one channel: the code (x, y) of the square's top-left corner is exact
DS = dict(grid_size=4, num_squares=1, rgb=False)


def _corner(x):
    img = x[:, 0] if x.ndim == 4 else x
    rows = img.amax(2) > 0.5  # (n, H)
    cols = img.amax(1) > 0.5
    first = lambda m: m.float().argmax(1).to(torch.float32)  # noqa: E731
    return torch.stack([first(cols), first(rows)], 1)


def test_split_result_keeps_numbers_and_moves_arrays():
    s, a = scoring.split_result({"score": np.float64(0.5), "n": 3, "m": np.eye(2), "t": torch.tensor(2.0),
                                 "lab": [1, 2], "sub": {"x": 1.0, "h": np.ones(3)}})
    assert s == {"score": 0.5, "n": 3, "t": 2.0, "sub.x": 1.0}
    assert set(a) == {"m", "lab", "sub.h"}


def test_diagnostics_of_an_exact_code():
    ds = make_dataset("xysquares", **DS)
    sub = Subject("corner", "callable", "", _corner)
    d = scoring.diagnostics(sub, ds, seed=0, repeats=3)
    assert list(d["factor_names"]) == ["x_R", "y_R"]
    for f in ("x_R", "y_R"):
        ground = d[f"dist_ground/{f}"]
        np.testing.assert_array_equal(ground, np.abs(np.subtract.outer(np.arange(4), np.arange(4))))
        # moving the square by one grid step moves one code by the grid spacing (8 px) and nothing else
        np.testing.assert_allclose(d[f"dist_latent/{f}"], 8 * ground)
        # two placements of an 8 x 8 square share no pixel: the MSE is 2 * 64 / 4096 off the diagonal
        np.testing.assert_allclose(d[f"dist_data/{f}"], np.where(ground > 0, 2 * 64 / 4096, 0))
    np.testing.assert_allclose(d["linearity/linearity.linear_ratio.var"], 1.0)
    np.testing.assert_allclose(d["linearity/linearity.axis_ratio.var"], 1.0)
    assert "traversals" not in d  # no decoder
    assert sub.latent_dim == 2


def test_diagnostics_with_a_decoder_draw_traversals_and_reconstructions():
    ds = make_dataset("xysquares", **DS)

    def decode(z):  # an 8 x 8 square at the decoded corner
        img = torch.zeros(len(z), 1, 64, 64)
        for i, (x, y) in enumerate(z.round().long().clamp(0, 56).tolist()):
            img[i, 0, y:y + 8, x:x + 8] = 1
        return img

    sub = Subject("corner", "callable", "", _corner, decode, 2)
    d = scoring.diagnostics(sub, ds, seed=0, repeats=2, steps=5, num_recon=4)
    assert d["traversals"].shape == (2, 5, 64, 64, 1) and d["traversals"].dtype == np.uint8
    assert d["traversal_values"].shape == (2, 5)
    np.testing.assert_array_equal(d["recon_inputs"], d["recon_outputs"])  # an exact autoencoder
    # sweeping code 0 moves the square horizontally: its column changes, its row does not
    cols = [np.flatnonzero(img[..., 0].max(0))[0] for img in d["traversals"][0]]
    rows = [np.flatnonzero(img[..., 0].max(1))[0] for img in d["traversals"][0]]
    assert cols == sorted(cols) and cols[0] < cols[-1] and len(set(rows)) == 1


def test_score_runs_the_metrics_and_reports_interrupts():
    ds = make_dataset("xysquares", **DS)
    sub = Subject("corner", "callable", "", _corner)
    out = scoring.score(sub, ds, ["mig", "linearity"], options={"mig": {"num_train": 500},
                                                               "linearity": {"repeats": 8}}, quiet=True)
    assert out["status"] == "complete" and set(out["results"]) == {"mig", "linearity"}
    assert out["results"]["mig"]["discrete_mig"] > 0.9  # each code is one factor
    calls = {"n": 0}

    def interrupted(x):  # Ctrl-C once MIG's 200 points are encoded, during linearity
        calls["n"] += len(x)
        if calls["n"] > 200:
            raise KeyboardInterrupt
        return _corner(x)

    out = scoring.score(Subject("i", "callable", "", interrupted), ds, ["mig", "linearity"],
                        options={"mig": {"num_train": 200}, "linearity": {"repeats": 64}}, quiet=True,
                        batch_size=64, cache_codes=False)
    assert out["status"] == "interrupted" and list(out["results"]) == ["mig"]


def test_metric_names_are_checked_and_listed():
    with pytest.raises(ValueError, match=r"unknown metric\(s\) nope; valid: all, .*mig"):
        scoring.resolve_metrics(["nope"])
    assert scoring.resolve_metrics("mig,dci") == ["mig", "dci"]
    sub = Subject("corner", "callable", "", _corner)
    assert "mig" in scoring.resolve_metrics("all", sub)
    # a decoder makes the generative-model scores possible: "all" adds them, the default set does not
    gen = Subject("g", "run", "", _corner, lambda z: torch.zeros(len(z), 1, 64, 64), 2)
    assert "topological_disentanglement" not in scoring.resolve_metrics(None, gen)
    assert {"topological_disentanglement", "geometry_score"} <= set(scoring.resolve_metrics("all", gen))
    assert "topological_disentanglement" not in scoring.resolve_metrics("all", sub)
    with pytest.raises(ValueError, match="needs the posterior"):
        scoring.score(Subject("c", "callable", "", lambda x: _corner(x)), make_dataset("xysquares", **DS),
                      ["prior_divergence"], quiet=True)
