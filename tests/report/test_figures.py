"""Figures: arrays in, a Figure out, PNG bytes of the expected size; montage laid out exactly."""

from __future__ import annotations

import io

import matplotlib.image
import numpy as np
import pytest

from pydisent.report import figures as F


def _png_shape(fig):
    data = F.png(fig)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return matplotlib.image.imread(io.BytesIO(data)).shape


def test_montage_places_each_image_with_gaps():
    imgs = np.zeros((2, 3, 4, 5, 1), dtype=np.uint8)
    for r in range(2):
        for c in range(3):
            imgs[r, c] = 10 * r + c + 1
    m = F.montage(imgs, gap=2, fill=255)
    assert m.shape == (2 * 4 + 2, 3 * 5 + 2 * 2, 1)
    assert m[0, 0, 0] == 1 and m[0, 7, 0] == 2 and m[6, 14, 0] == 13
    assert np.all(m[4:6] == 255) and np.all(m[:, 5:7] == 255)
    with pytest.raises(ValueError, match="'images'"):
        F.montage(np.zeros((3, 4, 4, 1)))


def test_every_figure_renders():
    rng = np.random.default_rng(0)
    trav = rng.integers(0, 255, (3, 5, 16, 16, 3), dtype=np.uint8)
    assert len(_png_shape(F.traversals_figure(trav, np.linspace(-1, 1, 15).reshape(3, 5)))) == 3
    _png_shape(F.reconstructions_figure(trav[0], trav[1]))
    _png_shape(F.training_curves_figure({"loss": ([1, 2, 3], [3.0, 2.0, 1.0]),
                                         "kl": (list(range(50)), list(np.linspace(1, 1e-3, 50)))}))
    eye = [np.abs(np.subtract.outer(np.arange(4), np.arange(4))).astype(float)] * 2
    _png_shape(F.distance_matrices_figure(["x", "y"], eye, eye, eye))
    _png_shape(F.linearity_bars_figure(["x", "y"], [0.9, 0.5], [0.8, 0.1], [0.89, 0.2]))
    _png_shape(F.rlt_histograms_figure(rng.random((4, 3, 20))))
    _png_shape(F.rlt_histograms_figure(rng.random((4, 20))))
    _png_shape(F.coclustering_figure(rng.random((4, 4)), row_order=[3, 2, 1, 0]))
    _png_shape(F.rank_correlation_figure(["a", "b"], np.array([[1.0, -0.5], [-0.5, 1.0]])))
    _png_shape(F.metric_vs_hparam_figure("beta", [1, 4, 16], {"mig": [0.1, 0.2, 0.3]}))


def test_figure_size_follows_the_content():
    small = _png_shape(F.traversals_figure(np.zeros((2, 4, 8, 8, 1), np.uint8)))
    tall = _png_shape(F.traversals_figure(np.zeros((8, 4, 8, 8, 1), np.uint8)))
    assert tall[0] > 2 * small[0] and tall[1] == small[1]


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="'terms'"):
        F.training_curves_figure({})
    with pytest.raises(ValueError, match="'histograms'"):
        F.rlt_histograms_figure(np.zeros(5))
