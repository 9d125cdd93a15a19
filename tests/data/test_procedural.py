"""Procedural datasets: pixel-exact hand-computed cases, disent's per-image definitions, C++ == torch."""

import numpy as np
import pytest
import torch

from pydisent.data import DSprites, XYObject, XYObjectShaded, XYSquares
from pydisent.data.procedural import palette
from tests._references import disent as disent_ref


# -- disent's per-image definitions, written out independently -----------------------------------
def disent_xysquares(f, square_size=8, image_size=64, grid_size=None, grid_spacing=None, num_squares=3, rgb=True,
                     fill=255):
    spacing = square_size if grid_spacing is None else grid_spacing
    placements = (image_size - square_size) // spacing + 1
    if grid_size is not None:
        placements = min(placements, grid_size)
    offset = (image_size - (square_size + (placements - 1) * spacing)) // 2
    obs = np.zeros((image_size, image_size, 3 if rgb else 1), dtype=np.uint8)
    for i in range(num_squares):
        x, y = offset + spacing * f[2 * i], offset + spacing * f[2 * i + 1]
        if rgb:
            obs[y:y + square_size, x:x + square_size, i] = fill
        else:
            obs[y:y + square_size, x:x + square_size, :] = fill
    return obs


def disent_xyobject(f, colors, spacing=2, scales=(7, 9, 11, 13, 15), max_size=15):
    x, y, s, c = f
    s = scales[s]
    r = (max_size - s) // 2
    x, y = spacing * x + r, spacing * y + r
    obs = np.zeros((64, 64, colors.shape[1]), dtype=np.uint8)
    obs[y:y + s, x:x + s] = colors[c]
    return obs


# -- XYSquares -------------------------------------------------------------------------------------
def test_xysquares_default_hand_case():
    ds = XYSquares(transform=None)
    assert ds.factor_space.names == ("x_R", "y_R", "x_G", "y_G", "x_B", "y_B")
    assert len(ds) == 8**6 == 262144 and ds.raw_shape == (64, 64, 3) and ds.offset == 0
    img = ds.raw_observations([[1, 2, 3, 4, 5, 6]])[0].numpy()
    want = np.zeros((64, 64, 3), np.uint8)
    want[16:24, 8:16, 0] = 255  # R: x = 8*1, y = 8*2
    want[32:40, 24:32, 1] = 255  # G: x = 24, y = 32
    want[48:56, 40:48, 2] = 255  # B: x = 40, y = 48
    np.testing.assert_array_equal(img, want)
    # float observations in [0, 1], CHW
    obs = XYSquares().observations([[0, 0, 7, 7, 0, 7]])
    assert obs.shape == (1, 3, 64, 64) and obs.dtype == torch.float32
    assert obs[0, 0, 0, 0] == 1.0 and obs[0, 1, 63, 63] == 1.0 and obs[0, 2, 63, 0] == 1.0 and obs[0, 2, 0, 63] == 0


def test_xysquares_overlap_hand_case():
    ds = XYSquares(grid_spacing=4, grid_size=8, transform=None)
    assert ds.placements == 8 and ds.offset == 14 and ds.overlapping  # (64 - (8 + 7*4)) // 2 = 14
    a = ds.raw_observations([[0, 0, 0, 0, 0, 0]])[0].numpy()
    b = ds.raw_observations([[1, 0, 0, 0, 0, 0]])[0].numpy()
    assert (a[14:22, 14:22, 0] == 255).all() and a[..., 0].sum() == 64 * 255
    assert (b[14:22, 18:26, 0] == 255).all()
    # neighbouring positions share half the square: 8 rows x 4 columns
    assert ((a[..., 0] > 0) & (b[..., 0] > 0)).sum() == 32
    # spacing 1: the square moves by one pixel per step
    ds1 = XYSquares(grid_spacing=1, grid_size=8, num_squares=1, rgb=False, transform=None)
    assert ds1.offset == (64 - (8 + 7)) // 2 and ds1.raw_shape == (64, 64, 1)
    c = ds1.raw_observations([[3, 5]])[0, ..., 0].numpy()
    y0, x0 = ds1.offset + 5, ds1.offset + 3
    assert c[y0:y0 + 8, x0:x0 + 8].all() and c.sum() == 64 * 255


@pytest.mark.parametrize("kw", [
    {}, {"grid_spacing": 4, "grid_size": 8}, {"grid_spacing": 1, "grid_size": 8}, {"grid_spacing": 3},
    {"num_squares": 1, "rgb": False}, {"num_squares": 2, "fill_value": 77}, {"square_size": 5, "image_size": 32},
    {"grid_spacing": 2, "grid_size": 8, "num_squares": 3, "rgb": False},
])
def test_xysquares_matches_disent_definition(rng, kw):
    ds = XYSquares(transform=None, **kw)
    f = ds.factor_space.sample_factors(60, rng)
    imgs = ds.raw_observations(f).numpy()
    ref_kw = dict(kw)
    ref_kw["fill"] = ref_kw.pop("fill_value", 255)
    for i in range(len(f)):
        np.testing.assert_array_equal(imgs[i], disent_xysquares(f[i], **ref_kw))
    torch_imgs = XYSquares(transform=None, backend="torch", **kw).raw_observations(f).numpy()
    np.testing.assert_array_equal(imgs, torch_imgs)


def test_xysquares_grid_size_capped_with_warning():
    with pytest.warns(UserWarning, match="grid_size"):
        ds = XYSquares(grid_size=20)
    assert ds.placements == 8


# -- XYObject --------------------------------------------------------------------------------------
def test_xyobject_palette_and_hand_case():
    ds = XYObject(transform=None)
    assert ds.factor_space.names == ("x", "y", "scale", "color")
    assert list(ds.factor_sizes) == [25, 25, 5, 24] and len(ds) == 75000 and ds.raw_shape == (64, 64, 3)
    pal = palette("rainbow_4")
    np.testing.assert_array_equal(pal[:6], [[63, 0, 0], [63, 63, 0], [0, 63, 0], [0, 63, 63], [0, 0, 63], [63, 0, 63]])
    np.testing.assert_array_equal(pal[6], [127, 0, 0])
    np.testing.assert_array_equal(pal[12:14], [[191, 0, 0], [191, 191, 0]])
    np.testing.assert_array_equal(pal[18:], [[255, 0, 0], [255, 255, 0], [0, 255, 0], [0, 255, 255], [0, 0, 255],
                                              [255, 0, 255]])
    # x=3, y=5, scale 9 px, colour 7 = brightness level 2 (127) of hue 1 (yellow)
    img = ds.raw_observations([[3, 5, 1, 7]])[0].numpy()
    want = np.zeros((64, 64, 3), np.uint8)
    want[13:22, 9:18] = [127, 127, 0]  # r = (15 - 9) // 2 = 3: x = 2*3 + 3, y = 2*5 + 3
    np.testing.assert_array_equal(img, want)
    # the largest square in the last cell touches the far corner
    img = ds.raw_observations([[24, 24, 4, 23]])[0].numpy()
    assert (img[48:63, 48:63] == [255, 0, 255]).all() and img[63].sum() == 0 and img[:, 63].sum() == 0


@pytest.mark.parametrize("kw", [{}, {"palette": "colors_2"}, {"rgb": False, "palette": "greys_4"},
                                {"grid_spacing": 1, "min_square_size": 3, "max_square_size": 9},
                                {"palette": "rgb_1", "square_size_spacing": 4}])
def test_xyobject_matches_disent_definition(rng, kw):
    ds = XYObject(transform=None, **kw)
    f = ds.factor_space.sample_factors(60, rng)
    imgs = ds.raw_observations(f).numpy()
    for i in range(len(f)):
        want = disent_xyobject(f[i], ds.colors, ds.grid_spacing, ds.scales, ds.max_square_size)
        np.testing.assert_array_equal(imgs[i], want)
    np.testing.assert_array_equal(imgs, XYObject(transform=None, backend="torch", **kw).raw_observations(f).numpy())


def test_xyobject_shaded_is_xyobject_reindexed(rng):
    shaded = XYObjectShaded(transform=None)
    plain = XYObject(transform=None)
    assert shaded.factor_space.names == ("x", "y", "scale", "intensity", "color")
    assert list(shaded.factor_sizes) == [25, 25, 5, 4, 6] and len(shaded) == len(plain) == 75000
    fs = shaded.factor_space
    f = fs.idx_to_pos(np.arange(fs.size))
    g = np.column_stack([f[:, :3], f[:, 3] * 6 + f[:, 4]])  # colour = (level - 1) * 6 + hue
    # every one of the 75,000 images is drawn from the same rectangle and colour ...
    for u, v in zip(shaded.rects(f), plain.rects(g)):
        np.testing.assert_array_equal(u, v)
    # ... and the pixels agree (a random subset, rendered)
    sub = rng.choice(fs.size, 3000, replace=False)
    assert torch.equal(shaded.raw_observations(f[sub]), plain.raw_observations(g[sub]))
    assert torch.equal(shaded.raw_observations(f[sub[:200]]),
                       XYObjectShaded(transform=None, backend="torch").raw_observations(f[sub[:200]]))


@pytest.mark.parametrize("cls,kw", [(XYSquares, {}), (XYSquares, {"grid_spacing": 2, "grid_size": 8}),
                                    (XYObject, {}), (XYObjectShaded, {}), (DSprites, {"source": "procedural"})])
def test_datasets_cpp_matches_torch(rng, cls, kw):
    a = cls(transform=None, **kw)
    b = cls(transform=None, backend="torch", **kw)
    f = a.factor_space.sample_factors(1000, rng)
    assert torch.equal(a.raw_observations(f), b.raw_observations(f))


# -- bad input -------------------------------------------------------------------------------------
def test_bad_constructor_args():
    for kw, match in [({"square_size": 0}, "'square_size'"), ({"num_squares": 4}, "'num_squares'"),
                      ({"fill_value": 300}, "'fill_value'"), ({"grid_spacing": 0}, "'grid_spacing'"),
                      ({"square_size": 80}, "'square_size'"), ({"grid_size": 0}, "'grid_size'"),
                      ({"backend": "gpu"}, "'backend'")]:
        with pytest.raises(ValueError, match=match):
            XYSquares(**kw)
    with pytest.raises(TypeError, match="'rgb'"):
        XYSquares(rgb="yes")
    with pytest.raises(TypeError, match="'square_size'"):
        XYSquares(square_size=2.5)
    with pytest.raises(ValueError, match="'palette'"):
        XYObject(palette="plaid_4")
    with pytest.raises(ValueError, match="'palette'"):
        XYObject(rgb=False, palette="rgb_4")
    with pytest.raises(ValueError, match="'min_square_size'"):
        XYObject(min_square_size=9, max_square_size=7)
    with pytest.raises(ValueError, match="'palette'"):
        XYObjectShaded(palette="rainbow")
    with pytest.raises(ValueError, match="'source'"):
        DSprites(source="web")
    with pytest.raises(ValueError, match="'sprite_size'"):
        DSprites(source="procedural", sprite_size=-1)


def test_bad_factors():
    ds = XYSquares()
    with pytest.raises(ValueError, match=r"'factors' is out of range: factor 3 \(y_G\)"):
        ds.observations([[0, 0, 0, 8, 0, 0]])
    with pytest.raises(ValueError, match=r"shape \(n, 6\)"):
        ds.observations([[0, 0, 0]])
    with pytest.raises(TypeError, match="'factors'"):
        ds.observations([[0.5, 0, 0, 0, 0, 0]])
    with pytest.raises(ValueError, match="'indices'"):
        ds.observations_from_indices([len(ds)])


# -- against the real disent, when installed ----------------------------------------------------------
def _disent_data():
    data = disent_ref.import_disent_data()
    if data is None:
        pytest.skip(disent_ref.import_error)
    return data


@pytest.mark.parametrize("ours,theirs,kw", [
    (XYSquares, "XYSquaresData", {}),
    (XYSquares, "XYSquaresMinimalData", {}),
    (XYSquares, "XYSquaresData", {"grid_spacing": 4, "grid_size": 8}),
    (XYSquares, "XYSquaresData", {"grid_spacing": 1, "grid_size": 8, "num_squares": 2, "rgb": False}),
    (XYObject, "XYObjectData", {}),
    (XYObject, "XYObjectData", {"palette": "colors_2", "grid_spacing": 3}),
    (XYObjectShaded, "XYObjectShadedData", {}),
])
def test_matches_disent_package(rng, ours, theirs, kw):
    import warnings

    data = _disent_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = getattr(data, theirs)(**({} if theirs == "XYSquaresMinimalData" else kw))
    ds = ours(transform=None, **kw)
    assert tuple(peer.factor_names) == ds.factor_space.names
    assert tuple(peer.factor_sizes) == tuple(ds.factor_sizes)
    idx = rng.integers(0, len(ds), 300)
    want = np.stack([np.asarray(peer[int(i)]) for i in idx])
    np.testing.assert_array_equal(ds.observations_from_indices(idx).numpy(), want)


# ---- issue 15 regressions -------------------------------------------------------------------------

def test_cuda_device_on_a_cpu_only_torch():
    """Defect 23: make_dataset('xysquares', device='cuda') on a CPU-only torch failed later with an
    AssertionError from torch; now a ValueError naming 'device' at construction."""
    import pytest
    import torch

    from pydisent.data import make_dataset

    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is present: the device is valid here")
    with pytest.raises(ValueError, match="argument 'device'.*CUDA"):
        make_dataset("xysquares", device="cuda")
    with pytest.raises(ValueError, match="argument 'device'"):
        make_dataset("xysquares", device="bogus")
