"""pydisent.data.pinwheel: the pinwheel generator against R. Adams' reference."""

import numpy as np
import pytest
import torch

from pydisent.data import (
    PinwheelDataset,
    make_pinwheel,
)
from pydisent.data.pinwheel import PRESETS


# -- pinwheel ---------------------------------------------------------------------------------------
def _reference_pinwheel(radial_std, tangential_std, num_classes, num_per_class, rate, rs):
    # Johnson et al.'s make_pinwheel_data, written with its rotation-matrix einsum
    rads = np.linspace(0, 2 * np.pi, num_classes, endpoint=False)
    features = rs.randn(num_classes * num_per_class, 2) * np.array([radial_std, tangential_std])
    features[:, 0] += 1.0
    labels = np.repeat(np.arange(num_classes), num_per_class)
    angles = rads[labels] + rate * np.exp(features[:, 0])
    rotations = np.stack([np.cos(angles), -np.sin(angles), np.sin(angles), np.cos(angles)])
    rotations = np.reshape(rotations.T, (-1, 2, 2))
    return np.einsum("ti,tij->tj", features, rotations), labels


def test_pinwheel_matches_reference():
    x, y = make_pinwheel(4, 250, 0.3, 0.05, 0.25, rng=np.random.RandomState(7))
    rx, ry = _reference_pinwheel(0.3, 0.05, 4, 250, 0.25, np.random.RandomState(7))
    np.testing.assert_allclose(x, rx, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(y, ry)
    assert x.shape == (1000, 2) and y.dtype == np.int64


def test_pinwheel_geometry(rng):
    x, y = make_pinwheel(4, 3000, rng=rng)
    # each arm starts near its angle 2 pi c / K, twisted by rate * e at radius ~1
    for c in range(4):
        pts = x[y == c]
        r = np.hypot(pts[:, 0], pts[:, 1])
        near = pts[np.abs(r - 1) < 0.05]
        # point = (r cos a, -r sin a) for t = 0: angle -a with a = 2 pi c / 4 + 0.25 e
        ang = np.arctan2(-near[:, 1], near[:, 0])
        want = 2 * np.pi * c / 4 + 0.25 * np.e
        assert abs(np.angle(np.exp(1j * (ang - want)).mean())) < 0.05
    xs, ys = make_pinwheel(3, 10, rng=np.random.default_rng(1), scale=10.0, shuffle=True)
    x0, y0 = make_pinwheel(3, 10, rng=np.random.default_rng(1))
    assert sorted(map(tuple, np.round(xs / 10, 9))) == sorted(map(tuple, np.round(x0, 9)))
    assert sorted(ys) == sorted(y0)


def test_pinwheel_dataset(rng):
    ds = PinwheelDataset(rng=rng)
    assert len(ds) == 400 and ds.num_classes == 4 and ds.params == PRESETS["mathieu2019"]
    p, lab = ds[3]
    assert p.shape == (2,) and p.dtype == torch.float32 and lab.dtype == torch.int64
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=64, shuffle=True)))
    assert batch[0].shape == (64, 2) and batch[1].shape == (64,)
    assert len(PinwheelDataset("johnson2016", rng=1)) == 500
    assert len(PinwheelDataset(None, rng=1, num_classes=3, num_per_class=5)) == 15
    with pytest.raises(ValueError, match="'preset'"):
        PinwheelDataset("spiral")
    with pytest.raises(ValueError, match="'num_classes'"):
        make_pinwheel(0)
    with pytest.raises(ValueError, match="'radial_std'"):
        make_pinwheel(radial_std=float("nan"))
    with pytest.raises(TypeError, match="'rng'"):
        make_pinwheel(rng="seed")
