"""Batched rasterisers behind the procedural datasets, with a plain-torch reference for each.

Two primitives cover every procedural dataset:

* :func:`render_rects`: axis-aligned filled rectangles on a zero background, drawn in order, each
  with a colour per channel (``-1`` leaves a channel unchanged). XYSquares (one rectangle per
  square, each writing its own channel) and XYObject / XYObjectShaded (one coloured rectangle).
* :func:`render_sprites`: binary sprites (square, ellipse, heart) rotated, scaled and placed with
  sub-pixel precision, sampled at pixel centres (dSprites).

``backend`` follows :func:`pydisent._dispatch.resolve_backend`: ``"auto"`` runs the C++/OpenMP
kernel on CPU and the CUDA kernel on GPU; ``"torch"`` runs the vectorised torch reference, which
the tests compare against pixel for pixel.
"""

from __future__ import annotations

import numpy as np
import torch

from pydisent import _C
from pydisent._dispatch import ref, resolve_backend, stream_of

SPRITE_PARAMS = 5  # cx, cy, cos, sin, 1/size
SPRITE_GEOMETRY = 5  # ellipse 1/rx^2, ellipse 1/ry^2, heart scale, heart y offset, bounding radius


def _device(device) -> torch.device:
    return torch.device("cpu") if device is None else torch.device(device)


def _as_int32(x, name: str, shape_tail: tuple, device) -> torch.Tensor:
    t = torch.as_tensor(np.ascontiguousarray(x) if isinstance(x, np.ndarray) else x)
    if t.numel() and (t.dtype.is_floating_point or t.dtype == torch.bool or t.is_complex()):
        raise TypeError(f"argument '{name}' must hold integers, got {t.dtype}")
    if t.dim() != 1 + len(shape_tail) or any(a is not None and a != b for a, b in zip(shape_tail, t.shape[1:])):
        want = ", ".join(["n"] + ["?" if a is None else str(a) for a in shape_tail])
        raise ValueError(f"argument '{name}' must have shape ({want}), got {tuple(t.shape)}")
    return t.to(device=device, dtype=torch.int32).contiguous()


# -- rectangles ------------------------------------------------------------------------------
def render_rects(rects, colors, image_shape, *, backend: str = "auto", device=None) -> torch.Tensor:
    """Batch of images with filled axis-aligned rectangles.

    Args:
        rects: int ``(n, R, 4)`` rows ``[y0, x0, h, w]`` (pixels; clipped to the image).
        colors: int ``(n, R, C)`` in ``[-1, 255]``: the value written in each channel; ``-1`` keeps it.
        image_shape: ``(H, W, C)``.
        backend: ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"torch"``.
        device: where the output lives (default CPU).

    Returns:
        uint8 ``(n, H, W, C)``: zero background, rectangles drawn in order ``r = 0..R-1``.
    """
    H, W, C = (int(v) for v in image_shape)
    if min(H, W, C) < 1:
        raise ValueError(f"argument 'image_shape' must be three positive sizes, got {tuple(image_shape)}")
    dev = _device(device)
    rects_t = _as_int32(rects, "rects", (None, 4), dev)
    colors_t = _as_int32(colors, "colors", (rects_t.shape[1], C), dev)
    if colors_t.shape[0] != rects_t.shape[0]:
        raise ValueError(f"arguments 'rects' and 'colors' must have the same n, got {rects_t.shape[0]} and "
                         f"{colors_t.shape[0]}")
    if colors_t.numel() and (int(colors_t.min()) < -1 or int(colors_t.max()) > 255):
        raise ValueError("argument 'colors' must hold values in [-1, 255] (-1 keeps the channel)")
    n = rects_t.shape[0]
    which = resolve_backend(backend, rects_t)
    if which == "torch":
        return _rects_torch(rects_t, colors_t, H, W, C)
    out = torch.empty((n, H, W, C), dtype=torch.uint8, device=dev)
    if n == 0:
        return out
    if which == "cpu":
        _C.render_rects_cpu(ref(out), ref(rects_t), ref(colors_t))
    else:
        _C.render_rects_cuda(ref(out), ref(rects_t), ref(colors_t), stream_of(out))
    return out


def _rects_torch(rects: torch.Tensor, colors: torch.Tensor, H: int, W: int, C: int) -> torch.Tensor:
    n, R = rects.shape[:2]
    out = torch.zeros((n, H, W, C), dtype=torch.uint8, device=rects.device)
    ys = torch.arange(H, device=rects.device)
    xs = torch.arange(W, device=rects.device)
    r64 = rects.to(torch.int64)
    for r in range(R):  # a loop over the few rectangles of an image, never over images
        y0, x0, h, w = (r64[:, r, j] for j in range(4))
        in_y = (ys[None, :] >= y0[:, None]) & (ys[None, :] < (y0 + h)[:, None])  # (n, H)
        in_x = (xs[None, :] >= x0[:, None]) & (xs[None, :] < (x0 + w)[:, None])  # (n, W)
        col = colors[:, r, :]  # (n, C)
        write = in_y[:, :, None, None] & in_x[:, None, :, None] & (col >= 0)[:, None, None, :]
        out = torch.where(write, col.clamp(0, 255).to(torch.uint8)[:, None, None, :], out)
    return out


# -- uint8 HWC -> float CHW -----------------------------------------------------------------------
def hwc_to_chw_float(batch: torch.Tensor, mean=None, std=None, scratch=None) -> torch.Tensor:
    """CPU uint8 ``(n, H, W, C)`` -> float32 ``(n, C, H, W)`` ``x / 255``, then ``(x - mean) / std`` per
    channel: the C++ version of :func:`pydisent.data.base.to_float_chw` (identical values), written
    into ``scratch`` (a :class:`pydisent.data.base.Scratch`) when given."""
    C = batch.shape[3]
    src = batch.contiguous()
    shape = (batch.shape[0], C, batch.shape[1], batch.shape[2])
    out = torch.empty(shape, dtype=torch.float32) if scratch is None else scratch.take(shape, torch.float32)
    normalize = mean is not None or std is not None
    m = torch.as_tensor(0.0 if mean is None else mean, dtype=torch.float32).reshape(-1).expand(C).contiguous()
    s = torch.as_tensor(1.0 if std is None else std, dtype=torch.float32).reshape(-1).expand(C).contiguous()
    if out.numel():
        _C.hwc_to_chw_float_cpu(ref(out), ref(src), ref(m), ref(s), normalize)
    return out


# -- sprites ---------------------------------------------------------------------------------
def render_sprites(shapes, params, geometry, image_size, *, backend: str = "auto", device=None) -> torch.Tensor:
    """Batch of binary sprites (dSprites style), sampled at pixel centres.

    A pixel ``(row, col)`` has centre ``(col + 0.5, row + 0.5)``; its sprite-local coordinates are
    ``u = (cos*dx + sin*dy) / size``, ``v = (cos*dy - sin*dx) / size`` with ``(dx, dy)`` the offset
    from the sprite centre (screen y points down, so a positive angle turns the sprite clockwise).
    Inside tests in sprite units: square ``|u|, |v| <= 1/2``; ellipse ``u^2/rx^2 + v^2/ry^2 <= 1``;
    heart ``(x^2 + y^2 - 1)^3 - x^2 y^3 <= 0`` with ``x = k u``, ``y = c - k v``.

    Args:
        shapes: int ``(n,)`` in ``{0: square, 1: ellipse, 2: heart}``.
        params: float64 ``(n, 5)`` rows ``[cx, cy, cos, sin, 1/size]`` (pixels).
        geometry: float64 ``(5,)``: ``[1/rx^2, 1/ry^2, k, c, r]`` with ``r`` a bound on the distance
            of any inside point from the centre (sprite units; the CPU kernel only visits that disc).
        image_size: ``(H, W)``.

    Returns:
        uint8 ``(n, H, W, 1)`` with 255 inside and 0 outside.
    """
    H, W = (int(v) for v in image_size)
    if min(H, W) < 1:
        raise ValueError(f"argument 'image_size' must be two positive sizes, got {tuple(image_size)}")
    dev = _device(device)
    shapes_t = _as_int32(shapes, "shapes", (), dev)
    params_t = torch.as_tensor(params, dtype=torch.float64).to(dev).contiguous()
    geometry_t = torch.as_tensor(geometry, dtype=torch.float64).to(dev).contiguous()
    n = shapes_t.shape[0]
    if params_t.shape != (n, SPRITE_PARAMS):
        raise ValueError(f"argument 'params' must have shape ({n}, {SPRITE_PARAMS}), got {tuple(params_t.shape)}")
    if geometry_t.shape != (SPRITE_GEOMETRY,):
        raise ValueError(f"argument 'geometry' must have shape ({SPRITE_GEOMETRY},), got {tuple(geometry_t.shape)}")
    if n and (int(shapes_t.min()) < 0 or int(shapes_t.max()) > 2):
        raise ValueError("argument 'shapes' must hold 0 (square), 1 (ellipse) or 2 (heart)")
    if n and (not bool(torch.isfinite(params_t).all()) or bool((params_t[:, 4] <= 0).any())):
        raise ValueError("argument 'params' must be finite with a positive 1/size column")
    which = resolve_backend(backend, shapes_t)
    if which == "torch":
        return _sprites_torch(shapes_t, params_t, geometry_t, H, W)
    out = torch.empty((n, H, W, 1), dtype=torch.uint8, device=dev)
    if n == 0:
        return out
    if which == "cpu":
        _C.render_sprites_cpu(ref(out), ref(shapes_t), ref(params_t), ref(geometry_t))
    else:
        _C.render_sprites_cuda(ref(out), ref(shapes_t), ref(params_t), ref(geometry_t), stream_of(out))
    return out


def _sprites_torch(shapes, params, geometry, H: int, W: int) -> torch.Tensor:
    # Same float64 operations in the same order as csrc/render/render.h (bit-exact parity).
    dev = params.device
    g = [geometry[j] for j in range(SPRITE_GEOMETRY)]
    cx, cy, c, s, inv = (params[:, j, None, None] for j in range(SPRITE_PARAMS))
    px = torch.arange(W, dtype=torch.float64, device=dev)[None, None, :] + 0.5
    py = torch.arange(H, dtype=torch.float64, device=dev)[None, :, None] + 0.5
    dx = px - cx
    dy = py - cy
    u = (c * dx + s * dy) * inv
    v = (c * dy - s * dx) * inv
    square = (u.abs() <= 0.5) & (v.abs() <= 0.5)
    ellipse = (u * u) * g[0] + (v * v) * g[1] <= 1.0
    x = u * g[2]
    y = g[3] - v * g[2]
    xx = x * x
    t = (xx + y * y) - 1.0
    heart = (t * t) * t - ((xx * y) * y) * y <= 0.0
    sh = shapes.to(torch.int64)[:, None, None]
    inside = torch.where(sh == 0, square, torch.where(sh == 1, ellipse, heart))
    return (inside.to(torch.uint8) * 255)[..., None]
