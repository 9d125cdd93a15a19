"""pydisent.data._render: the C++/CUDA renderers against the torch reference, and their boundary checks."""

import numpy as np
import pytest
import torch

from pydisent import _C
from pydisent._dispatch import ref
from pydisent.data import DSprites, XYObject, XYObjectShaded, XYSquares
from pydisent.data._render import render_rects, render_sprites
from pydisent.data.dsprites import sprite_geometry


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
