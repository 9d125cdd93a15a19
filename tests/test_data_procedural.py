"""Procedural datasets: pixel-exact hand-computed cases, disent's per-image definitions, C++ == torch."""

import numpy as np
import pytest
import torch

from pydisent import _C
from pydisent._dispatch import ref
from pydisent.data import DSprites, XYObject, XYObjectShaded, XYSquares
from pydisent.data._render import render_rects, render_sprites
from pydisent.data.dsprites import sprite_geometry
from pydisent.data.procedural import palette


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


# -- renderer parity (C++ == torch) ---------------------------------------------------------------
def test_render_rects_cpp_matches_torch(rng):
    for C, R in [(3, 3), (1, 2), (4, 1), (2, 5)]:
        n = 300
        rects = np.stack([rng.integers(-20, 70, (n, R)), rng.integers(-20, 70, (n, R)),
                          rng.integers(0, 40, (n, R)), rng.integers(0, 40, (n, R))], axis=-1)
        colors = rng.integers(-1, 256, (n, R, C))
        a = render_rects(rects, colors, (37, 53, C))
        b = render_rects(rects, colors, (37, 53, C), backend="torch")
        assert a.shape == (n, 37, 53, C) and torch.equal(a, b)
    # wide rows: spans on both sides of the C++ masked-row buffer (1024 bytes), C = 3 and 5
    for C in (3, 5):
        n, R = 40, 3
        rects = np.stack([rng.integers(-5, 9, (n, R)), rng.integers(-50, 400, (n, R)),
                          rng.integers(0, 9, (n, R)), rng.integers(0, 450, (n, R))], axis=-1)
        colors = rng.integers(-1, 256, (n, R, C))
        assert torch.equal(render_rects(rects, colors, (9, 400, C)),
                           render_rects(rects, colors, (9, 400, C), backend="torch"))
    # later rectangles overwrite earlier ones; -1 keeps the channel
    out = render_rects([[[0, 0, 4, 4], [2, 2, 4, 4]]], [[[10, 20], [30, -1]]], (6, 6, 2))[0].numpy()
    assert (out[0, 0] == [10, 20]).all() and (out[3, 3] == [30, 20]).all() and (out[5, 5] == [30, 0]).all()
    assert render_rects(np.zeros((0, 2, 4)), np.zeros((0, 2, 3)), (8, 8, 3)).shape == (0, 8, 8, 3)


def test_render_sprites_cpp_matches_torch(rng):
    n = 400
    theta = rng.uniform(0, 2 * np.pi, n)
    for ratio in (0.5, 0.8):
        params = np.column_stack([rng.uniform(-5, 70, n), rng.uniform(-5, 70, n), np.cos(theta), np.sin(theta),
                                  1 / rng.uniform(2, 40, n)])
        # pixel-centre-aligned squares put centres exactly on edges: the tie-breaking must agree too
        params[:50, :2] = rng.integers(10, 50, (50, 2))
        params[:50, 2:4] = [1.0, 0.0]
        params[:50, 4] = 1 / rng.integers(2, 20, 50)
        shapes = rng.integers(0, 3, n)
        geo = sprite_geometry(ratio)
        a = render_sprites(shapes, params, geo, (64, 48))
        b = render_sprites(shapes, params, geo, (64, 48), backend="torch")
        assert a.shape == (n, 64, 48, 1) and torch.equal(a, b)


@pytest.mark.parametrize("cls,kw", [(XYSquares, {}), (XYSquares, {"grid_spacing": 2, "grid_size": 8}),
                                    (XYObject, {}), (XYObjectShaded, {}), (DSprites, {"source": "procedural"})])
def test_datasets_cpp_matches_torch(rng, cls, kw):
    a = cls(transform=None, **kw)
    b = cls(transform=None, backend="torch", **kw)
    f = a.factor_space.sample_factors(1000, rng)
    assert torch.equal(a.raw_observations(f), b.raw_observations(f))


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


def test_render_bad_input():
    with pytest.raises(ValueError, match="'colors'"):
        render_rects([[[0, 0, 2, 2]]], [[[-2, 0, 0]]], (4, 4, 3))
    with pytest.raises(ValueError, match="'rects'"):
        render_rects([[[0, 0, 2]]], [[[1, 0, 0]]], (4, 4, 3))
    with pytest.raises(ValueError, match="'colors'"):
        render_rects([[[0, 0, 2, 2]]], [[[1, 0]]], (4, 4, 3))
    with pytest.raises(TypeError, match="'rects'"):
        render_rects([[[0.0, 0, 2, 2]]], [[[1, 0, 0]]], (4, 4, 3))
    with pytest.raises(ValueError, match="'image_shape'"):
        render_rects([[[0, 0, 2, 2]]], [[[1, 0, 0]]], (0, 4, 3))
    with pytest.raises(ValueError, match="'shapes'"):
        render_sprites([3], [[1, 1, 1, 0, 1]], sprite_geometry(), (8, 8))
    with pytest.raises(ValueError, match="'params'"):
        render_sprites([0], [[1, 1, 1, 0, 0]], sprite_geometry(), (8, 8))
    with pytest.raises(ValueError, match="'params'"):
        render_sprites([0], [[1, 1, 1, 0]], sprite_geometry(), (8, 8))
    with pytest.raises(ValueError, match="'params'"):
        render_sprites([0], [[np.nan, 1, 1, 0, 1]], sprite_geometry(), (8, 8))
    with pytest.raises(RuntimeError, match="without CUDA|CUDA"):
        if not _C.has_cuda():
            render_rects([[[0, 0, 2, 2]]], [[[1, 0, 0]]], (4, 4, 3), backend="cuda")
        else:
            raise RuntimeError("CUDA")


def test_cpp_boundary_checks():
    # (every tensor is bound to a name: a TensorRef does not keep its tensor alive)
    out = torch.empty((2, 4, 4, 3), dtype=torch.uint8)
    rects = torch.zeros((2, 1, 4), dtype=torch.int32)
    colors = torch.zeros((2, 1, 3), dtype=torch.int32)
    _C.render_rects_cpu(ref(out), ref(rects), ref(colors))
    rects64 = rects.to(torch.int64)
    with pytest.raises(TypeError, match="'rects'"):
        _C.render_rects_cpu(ref(out), ref(rects64), ref(colors))
    colors2 = torch.zeros((2, 1, 2), dtype=torch.int32)
    with pytest.raises(ValueError, match="'colors'"):
        _C.render_rects_cpu(ref(out), ref(rects), ref(colors2))
    colors300 = torch.full((2, 1, 3), 300, dtype=torch.int32)
    with pytest.raises(ValueError, match="'colors'"):
        _C.render_rects_cpu(ref(out), ref(rects), ref(colors300))
    strided = out[:, :, ::2]
    with pytest.raises(ValueError, match="'out'"):
        _C.render_rects_cpu(ref(strided), ref(rects), ref(colors))
    sp = torch.zeros((2,), dtype=torch.int32)
    pr = torch.ones((2, 5), dtype=torch.float64)
    geo = torch.as_tensor(sprite_geometry())
    out1 = torch.empty((2, 4, 4, 1), dtype=torch.uint8)
    _C.render_sprites_cpu(ref(out1), ref(sp), ref(pr), ref(geo))
    sp5 = sp + 5
    with pytest.raises(ValueError, match="'shapes'"):
        _C.render_sprites_cpu(ref(out1), ref(sp5), ref(pr), ref(geo))
    with pytest.raises(ValueError, match="'out'"):
        _C.render_sprites_cpu(ref(out), ref(sp), ref(pr), ref(geo))
    pr0 = pr * 0
    with pytest.raises(ValueError, match="'params'"):
        _C.render_sprites_cpu(ref(out1), ref(sp), ref(pr0), ref(geo))


@pytest.mark.cuda
def test_cuda_renderers_match_cpu(rng):
    for cls, kw in [(XYSquares, {}), (XYSquares, {"grid_spacing": 3, "grid_size": 8}), (XYObject, {}),
                    (XYObjectShaded, {}), (DSprites, {"source": "procedural"})]:
        cpu = cls(transform=None, **kw)
        gpu = cls(transform=None, device="cuda", **kw)
        f = cpu.factor_space.sample_factors(2000, rng)
        g = gpu.raw_observations(f)
        assert g.is_cuda and torch.equal(g.cpu(), cpu.raw_observations(f))


# -- against the real disent, when installed ----------------------------------------------------------
def _disent_data():
    """disent.dataset.data, importable without torchvision (disent imports it only for ImageFolder)."""
    import sys
    import types
    import warnings

    stubbed = []
    try:
        import torchvision  # noqa: F401
    except ImportError:
        tv, tvd = types.ModuleType("torchvision"), types.ModuleType("torchvision.datasets")
        tvd.ImageFolder = object
        tv.datasets = tvd
        for name, mod in (("torchvision", tv), ("torchvision.datasets", tvd)):
            if name not in sys.modules:
                sys.modules[name] = mod
                stubbed.append(name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import disent.dataset.data as data
    except Exception as e:  # not installed, or an incompatible version
        pytest.skip(f"disent is not importable: {type(e).__name__}: {e}")
    finally:
        for name in stubbed:  # never leave a fake torchvision behind for other tests
            sys.modules.pop(name, None)
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
