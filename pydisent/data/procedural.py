"""Procedural ground-truth datasets of msc-research / disent, rendered in whole batches.

* :class:`XYSquares` (Michlo et al., "Data Overlap: A Prerequisite For Disentanglement"): up to three
  squares (R, G, B channels) on a grid; spacing below the square size makes them overlap.
* :class:`XYObject` / :class:`XYObjectShaded`: one square with position, scale and colour; the same
  75,000 images under two factor representations (colour as 24 values, or intensity x hue).

Every image is bit-exact with disent's per-image ``_get_observation`` for the same parameters (the
tests check hand-computed cases and disent's formulas); batches are drawn by the C++ rectangle
kernel (``backend="auto"``), the CUDA kernel for ``device="cuda"``, or the torch reference
(``backend="torch"``).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from pydisent._dispatch import BACKENDS
from pydisent._validation import Options, check_backend, check_bool, check_device, check_positive_int
from pydisent.data._render import render_rects
from pydisent.data.base import GroundTruthDataset
from pydisent.data.factors import FactorSpace
from pydisent.data.registry import register_dataset


class ProceduralDataset(GroundTruthDataset):
    """Base of the rendered datasets: ``backend`` and ``device`` select the renderer.

    Args:
        backend: ``"auto"`` (C++ on CPU, CUDA on GPU), ``"cpu"``, ``"cuda"`` or ``"torch"`` (reference).
        device: where rendered batches live (default CPU; ``"cuda"`` renders on the GPU).
    """

    def __init__(self, factor_space: FactorSpace, transform="default", backend: str = "auto", device=None):
        check_backend(backend, BACKENDS)
        super().__init__(factor_space, transform)
        self.backend = backend
        self.device = check_device(device) or torch.device("cpu")


def _int_arg(v, name: str, minimum: int = 1) -> int:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        v = int(v)
    return check_positive_int(v, name, minimum)


# -- XYSquares ---------------------------------------------------------------------------------
@register_dataset("xysquares", aliases=("xy_squares", "xysquares_minimal", "xy_squares_minimal"))
class XYSquares(ProceduralDataset):
    """Up to three squares on a grid, one per colour channel (disent's ``XYSquaresData``).

    Square ``i`` (R, G, B) is drawn at ``x = offset + spacing * x_i``, ``y = offset + spacing * y_i``
    as ``image[y:y+size, x:x+size, i] = fill``. ``placements = (image_size - square_size) //
    grid_spacing + 1`` (capped at ``grid_size``), and ``offset = (image_size - (square_size +
    (placements - 1) * grid_spacing)) // 2`` centres the grid. With ``grid_spacing < square_size`` a
    square overlaps its shifted copies (the overlap study of Michlo et al.: ``grid_size=8``,
    ``grid_spacing`` 8..1). Defaults: 8 px squares on an 8 x 8 grid of a 64 x 64 RGB image, 8^6 =
    262,144 images (disent's ``XYSquaresMinimalData``).

    Args:
        square_size: side of a square in pixels (8).
        image_size: image width and height (64).
        grid_size: cap on the placements per axis (None: as many as fit).
        grid_spacing: step between placements (None: ``square_size``, no overlap).
        num_squares: 1, 2 or 3 (factors ``x_R, y_R, x_G, y_G, x_B, y_B``, the first ``2 * num_squares``).
        rgb: three channels, one per square; False: one channel holding every square.
        fill_value: square value in 1..255 (255).
    """

    def __init__(self, square_size: int = 8, image_size: int = 64, grid_size: int | None = None,
                 grid_spacing: int | None = None, num_squares: int = 3, rgb: bool = True, fill_value: int = 255,
                 transform="default", backend: str = "auto", device=None):
        self.square_size = _int_arg(square_size, "square_size")
        self.image_size = _int_arg(image_size, "image_size")
        if self.square_size > self.image_size:
            raise ValueError(f"argument 'square_size' ({self.square_size}) must not exceed "
                             f"'image_size' ({self.image_size})")
        self.grid_spacing = self.square_size if grid_spacing is None else _int_arg(grid_spacing, "grid_spacing")
        self.num_squares = _int_arg(num_squares, "num_squares")
        if self.num_squares > 3:
            raise ValueError(f"argument 'num_squares' must be 1, 2 or 3, got {self.num_squares}")
        self.rgb = check_bool(rgb, "rgb")
        self.fill_value = _int_arg(fill_value, "fill_value")
        if self.fill_value > 255:
            raise ValueError(f"argument 'fill_value' must be in 1..255, got {self.fill_value}")
        placements = (self.image_size - self.square_size) // self.grid_spacing + 1
        if grid_size is not None:
            grid_size = _int_arg(grid_size, "grid_size")
            if grid_size > placements:
                warnings.warn(f"XYSquares: grid_size={grid_size} exceeds the {placements} placements that fit; "
                              f"using {placements}", stacklevel=2)
            placements = min(placements, grid_size)
        self.placements = placements
        self.offset = (self.image_size - (self.square_size + (placements - 1) * self.grid_spacing)) // 2
        names = ("x_R", "y_R", "x_G", "y_G", "x_B", "y_B")[: 2 * self.num_squares]
        super().__init__(FactorSpace([placements] * len(names), names), transform, backend, device)

    @property
    def overlapping(self) -> bool:
        """Whether a square overlaps its neighbouring placements (``grid_spacing < square_size``)."""
        return self.grid_spacing < self.square_size

    @property
    def raw_shape(self) -> tuple[int, int, int]:
        return (self.image_size, self.image_size, 3 if self.rgb else 1)

    def rects(self, factors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rectangle table ``(n, num_squares, 4)`` and colours ``(n, num_squares, C)`` of checked factors."""
        n = len(factors)
        xy = self.offset + self.grid_spacing * factors.reshape(n, self.num_squares, 2)
        size = np.full((n, self.num_squares), self.square_size)
        rects = np.stack([xy[..., 1], xy[..., 0], size, size], axis=-1)
        if self.rgb:
            colors = np.full((n, self.num_squares, 3), -1, dtype=np.int32)
            for i in range(self.num_squares):
                colors[:, i, i] = self.fill_value
        else:
            colors = np.full((n, self.num_squares, 1), self.fill_value, dtype=np.int32)
        return rects, colors

    def _render(self, factors: np.ndarray) -> torch.Tensor:
        rects, colors = self.rects(factors)
        return render_rects(rects, colors, self.raw_shape, backend=self.backend, device=self.device)


# -- XYObject ------------------------------------------------------------------------------------
_R, _G, _B, _Y, _C, _M, _W = ([255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [0, 255, 255], [255, 0, 255],
                              [255, 255, 255])
_HUES = {
    "greys": [_W],
    "colors": [_R, _G, _B, _Y, _C, _M, _W],
    "rgb": [_R, _G, _B],
    "rainbow": [_R, _Y, _G, _C, _B, _M],
}


def shades(levels: int, base) -> np.ndarray:
    """``base * level // levels`` for ``level = 1..levels``, brightness-major (disent's ``_shades``):
    row ``(level - 1) * len(base) + hue``."""
    base = np.asarray(base, dtype=np.int64)
    return np.concatenate([base * lv // levels for lv in range(1, levels + 1)], axis=0)


def palette(name: str, rgb: bool = True) -> np.ndarray:
    """A colour palette ``<hues>_<levels>`` of disent's XYObject: int64 ``(num_colours, 3 or 1)``.

    RGB palettes: ``greys``, ``colors`` (R, G, B, Y, C, M, W), ``rgb`` (R, G, B), ``rainbow`` (R, Y, G,
    C, B, M), each with 1, 2 or 4 brightness levels. Single-channel palettes: ``greys_{1,2,4}`` and
    ``rainbow_4`` (an alias of ``greys_4``, as in disent).
    """
    parts = str(name).split("_")
    if len(parts) != 2 or not parts[1].isdigit():
        raise ValueError(f"argument 'palette' must look like '<hues>_<levels>' (e.g. 'rainbow_4'), got {name!r}")
    hues, levels = parts[0], int(parts[1])
    allowed = ({"greys_1", "greys_2", "greys_4", "rainbow_4"} if not rgb else
               {f"{h}_{lv}" for h in _HUES for lv in (1, 2, 4)})
    if name not in allowed:  # (the message says which palettes go with this rgb)
        expected = Options(sorted(allowed)).describe()
        raise ValueError(f"argument 'palette' must be {expected} for rgb={rgb}, got {name!r}")
    if not rgb:
        return shades(levels, [[255]])
    return shades(levels, _HUES[hues])


@register_dataset("xyobject", aliases=("xy_object",))
class XYObject(ProceduralDataset):
    """One coloured square with position, scale and colour (disent's ``XYObjectData``).

    Scales ``arange(min_square_size, max_square_size + 1, square_size_spacing)`` (7, 9, 11, 13, 15);
    ``placements = (grid_size - max_square_size) // grid_spacing + 1`` (25); the square of side ``s``
    is drawn at ``(spacing * x + r, spacing * y + r)`` with ``r = (max - s) // 2`` (centred in a
    ``max``-pixel cell) in colour ``palette[color]``. Default palette ``rainbow_4``: hues R, Y, G, C,
    B, M at brightness ``255 * level // 4`` (63, 127, 191, 255), index ``(level - 1) * 6 + hue``.
    Factors ``x 25, y 25, scale 5, color 24``: 75,000 64 x 64 x 3 images.
    """

    def __init__(self, grid_size: int = 64, grid_spacing: int = 2, min_square_size: int = 7, max_square_size: int = 15,
                 square_size_spacing: int = 2, rgb: bool = True, palette: str = "rainbow_4", transform="default",
                 backend: str = "auto", device=None):
        colors = self._init_geometry(grid_size, grid_spacing, min_square_size, max_square_size, square_size_spacing,
                                     rgb, palette)
        self.colors = colors
        space = FactorSpace([self.placements, self.placements, len(self.scales), len(colors)],
                            ["x", "y", "scale", "color"])
        super().__init__(space, transform, backend, device)

    def _init_geometry(self, grid_size, grid_spacing, min_square_size, max_square_size, square_size_spacing, rgb,
                       palette_name):
        self.grid_size = _int_arg(grid_size, "grid_size")
        self.grid_spacing = _int_arg(grid_spacing, "grid_spacing")
        self.min_square_size = _int_arg(min_square_size, "min_square_size")
        self.max_square_size = _int_arg(max_square_size, "max_square_size")
        self.square_size_spacing = _int_arg(square_size_spacing, "square_size_spacing")
        if self.min_square_size > self.max_square_size:
            raise ValueError(f"argument 'min_square_size' ({self.min_square_size}) must not exceed "
                             f"'max_square_size' ({self.max_square_size})")
        if self.max_square_size > self.grid_size:
            raise ValueError(f"argument 'max_square_size' ({self.max_square_size}) must not exceed "
                             f"'grid_size' ({self.grid_size})")
        self.rgb = check_bool(rgb, "rgb")
        self.scales = np.arange(self.min_square_size, self.max_square_size + 1, self.square_size_spacing)
        self.placements = (self.grid_size - self.max_square_size) // self.grid_spacing + 1
        return palette(palette_name, self.rgb)

    @property
    def raw_shape(self) -> tuple[int, int, int]:
        return (self.grid_size, self.grid_size, 3 if self.rgb else 1)

    def _square(self, x, y, s_idx):
        s = self.scales[s_idx]
        r = (self.max_square_size - s) // 2
        return np.stack([self.grid_spacing * y + r, self.grid_spacing * x + r, s, s], axis=-1)[:, None, :]

    def rects(self, factors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rectangle table ``(n, 1, 4)`` and colours ``(n, 1, C)`` of checked factors."""
        x, y, s, c = factors.T
        return self._square(x, y, s), self.colors[c][:, None, :]

    def _render(self, factors: np.ndarray) -> torch.Tensor:
        rects, colors = self.rects(factors)
        return render_rects(rects, colors, self.raw_shape, backend=self.backend, device=self.device)


@register_dataset("xyobject_shaded", aliases=("xy_object_shaded", "xyobjectshaded"))
class XYObjectShaded(XYObject):
    """:class:`XYObject`'s images with colour split into intensity x hue (disent's
    ``XYObjectShadedData``): factors ``x 25, y 25, scale 5, intensity 4, color 6``; pixel value
    ``hue * (intensity + 1) // levels``. The same 75,000 images as ``XYObject(palette="rainbow_4")``:
    XYObject colour ``(level - 1) * 6 + hue`` is XYObjectShaded ``(intensity = level - 1, color = hue)``.

    Args:
        palette: ``<hues>_<levels>``; the levels give the intensity factor unless
            ``brightness_levels`` is set.
    """

    def __init__(self, grid_size: int = 64, grid_spacing: int = 2, min_square_size: int = 7, max_square_size: int = 15,
                 square_size_spacing: int = 2, rgb: bool = True, palette: str = "rainbow_4",
                 brightness_levels: int | None = None, transform="default", backend: str = "auto", device=None):
        parts = str(palette).split("_")
        if len(parts) != 2 or not parts[1].isdigit():
            raise ValueError(f"argument 'palette' must look like '<hues>_<levels>' (e.g. 'rainbow_4'), got {palette!r}")
        levels = int(parts[1]) if brightness_levels is None else _int_arg(brightness_levels, "brightness_levels")
        self.brightness_levels = levels
        hues = self._init_geometry(grid_size, grid_spacing, min_square_size, max_square_size, square_size_spacing,
                                   rgb, f"{parts[0]}_1")
        self.colors = hues
        space = FactorSpace([self.placements, self.placements, len(self.scales), levels, len(hues)],
                            ["x", "y", "scale", "intensity", "color"])
        ProceduralDataset.__init__(self, space, transform, backend, device)

    def rects(self, factors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y, s, b, c = factors.T
        return self._square(x, y, s), (self.colors[c] * (b[:, None] + 1) // self.brightness_levels)[:, None, :]
