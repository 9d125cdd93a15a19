"""pydisent.data.dsprites: the procedural dSprites against the official definition."""

import numpy as np
import pytest
import torch

from pydisent.data import DSprites


# -- dSprites (procedural) --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dsprites():
    return DSprites(source="procedural", root="/nonexistent", transform=None)


def test_dsprites_factor_space(dsprites):
    assert dsprites.source == "procedural"
    assert dsprites.factor_space.names == ("shape", "scale", "orientation", "position_x", "position_y")
    assert list(dsprites.factor_sizes) == [3, 6, 40, 32, 32] and len(dsprites) == 737280
    assert dsprites.raw_shape == (64, 64, 1)
    assert DSprites(source="procedural").observation_shape == (1, 64, 64)


def test_dsprites_binary_and_inside_canvas(dsprites):
    # every shape at the largest scale, all orientations, at the four extreme positions
    f = np.array([[s, 5, o, x, y] for s in range(3) for o in range(40) for x in (0, 31) for y in (0, 31)])
    imgs = dsprites.raw_observations(f).numpy()[..., 0]
    assert set(np.unique(imgs)) == {0, 255}
    assert imgs[:, 0, :].max() == 0 and imgs[:, -1, :].max() == 0 and imgs[:, :, 0].max() == 0
    assert imgs[:, :, -1].max() == 0  # sprites never touch the border (no clipping)
    assert (imgs.reshape(len(f), -1).max(1) == 255).all()


def test_dsprites_shape_masks(dsprites):
    size = dsprites.sprite_size
    imgs = dsprites.raw_observations([[0, 5, 0, 16, 16], [1, 5, 0, 16, 16], [2, 5, 0, 16, 16]]).numpy()[..., 0] > 0
    area = imgs.reshape(3, -1).sum(1)
    assert abs(area[0] - size**2) <= 4 * size  # square of side `size` (pixel-centre sampling: +-1 px per edge)
    ellipse = np.pi * 0.5 * 0.25 * size**2
    assert abs(area[1] - ellipse) <= 0.15 * ellipse
    assert area[2] < area[0] and area[1] < area[2]
    # square at orientation 0 is axis aligned: its mask is a solid block
    ys, xs = np.nonzero(imgs[0])
    assert imgs[0][ys.min():ys.max() + 1, xs.min():xs.max() + 1].all()
    # ellipse is wider than tall at orientation 0; the heart's lobes are at the top
    ys, xs = np.nonzero(imgs[1])
    assert np.ptp(xs) > 1.6 * np.ptp(ys)
    ys, xs = np.nonzero(imgs[2])
    top, bottom = imgs[2][ys.min() + 1], imgs[2][ys.max() - 1]
    assert top.sum() > bottom.sum()
    assert np.count_nonzero(np.diff(top.astype(int))) == 4  # two separate lobes near the top


def test_dsprites_factor_effects(dsprites):
    fs = dsprites.factor_space
    # scale: area grows with scale for every shape
    for s in range(3):
        imgs = dsprites.raw_observations([[s, k, 7, 16, 16] for k in range(6)]).numpy()
        area = (imgs > 0).reshape(6, -1).sum(1)
        assert (np.diff(area) > 0).all()
    # orientation: the first and last angle are both 0 mod 2 pi (as in the official data)
    a = dsprites.raw_observations([[2, 3, 0, 10, 20], [2, 3, 39, 10, 20], [2, 3, 20, 10, 20]]).numpy()
    assert np.array_equal(a[0], a[1]) and not np.array_equal(a[0], a[2])
    # position: the centroid moves by 32/31 px per step, x with position_x and y with position_y
    t = fs.traversals("position_x", [[0, 5, 0, 0, 9]])[0]
    imgs = dsprites.raw_observations(t).numpy()[..., 0] > 0
    cx = np.array([np.nonzero(im)[1].mean() + 0.5 for im in imgs])
    np.testing.assert_allclose(cx, 16 + 32 * np.arange(32) / 31, atol=0.5)
    cy = np.array([np.nonzero(im)[0].mean() + 0.5 for im in imgs])
    np.testing.assert_allclose(cy, 16 + 32 * 9 / 31, atol=0.5)
    # all 32 x positions give different images (the official values were chosen for that)
    assert len({im.tobytes() for im in imgs}) == 32


def test_dsprites_mean_intensity_matches_official(dsprites, rng):
    f = dsprites.factor_space.sample_factors(20000, rng)
    mean = (dsprites.raw_observations(f).numpy() > 0).mean()
    assert abs(mean - 0.0424944) < 0.0015  # the official dataset's mean pixel value


def test_compare_with_official_logic(rng):
    from pydisent.data.dsprites import compare_with_official

    with pytest.raises(ValueError, match="'official'"):
        compare_with_official(DSprites(source="procedural"))
    fake = DSprites(source="procedural", transform=None)
    fake.source = "file"  # stands in for a loaded official file: its "file" images are the procedural ones
    fake.raw_observations = lambda f: fake.render_procedural(f)
    res = compare_with_official(fake, n=300, rng=rng)
    assert res["pixel_accuracy"] == 1.0 and res["iou"] == {"square": 1.0, "ellipse": 1.0, "heart": 1.0}
    fake.raw_observations = lambda f: torch.roll(fake.render_procedural(f), 1, dims=2)  # one pixel off
    res = compare_with_official(fake, n=300, rng=rng)
    assert 0.9 < res["pixel_accuracy"] < 1.0 and all(0.5 < v < 1.0 for v in res["iou"].values())


def test_dsprites_position_offset(rng):
    base = DSprites(source="procedural", transform=None)
    moved = DSprites(source="procedural", position_offset=(1, -2), transform=None)
    f = base.factor_space.sample_factors(200, rng)
    f[:, 3:] = np.clip(f[:, 3:], 3, 28)  # away from the border, so shifted sprites stay inside
    a = base.raw_observations(f).numpy()
    b = moved.raw_observations(f).numpy()
    # an integer offset moves every sprite by whole pixels
    np.testing.assert_array_equal(b, np.roll(a, (-2, 1), axis=(1, 2)))
    with pytest.raises(ValueError, match="'position_offset'"):
        DSprites(source="procedural", position_offset=(1, 2, 3))
    with pytest.raises(ValueError, match="'position_offset'"):
        DSprites(source="procedural", position_offset=(np.nan, 0))
