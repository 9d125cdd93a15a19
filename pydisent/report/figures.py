"""The report's figures: one function per figure, arrays in, a matplotlib ``Figure`` out; :func:`png` renders it.

Figures are built on the object-oriented API with the Agg canvas (no pyplot state, no display, safe in
threads and on machines without a screen). Every function takes plain numpy arrays (the contents of
``diagnostics.npz`` or ``metrics.json``), so the report can be rebuilt without the model.
"""

from __future__ import annotations

import io
import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 100
_CMAP = "viridis"


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def montage(images: np.ndarray, gap: int = 2, fill: int = 255) -> np.ndarray:
    """``(rows, cols, H, W, C)`` uint8 images as one ``(rows*(H+gap)-gap, cols*(W+gap)-gap, C)`` image."""
    images = np.asarray(images)
    if images.ndim != 5:
        raise ValueError(f"argument 'images' must be (rows, cols, H, W, C), got shape {images.shape}")
    r, c, h, w, ch = images.shape
    out = np.full((r * (h + gap) - gap, c * (w + gap) - gap, ch), fill, dtype=images.dtype)
    for i in range(r):
        for j in range(c):
            out[i * (h + gap):i * (h + gap) + h, j * (w + gap):j * (w + gap) + w] = images[i, j]
    return out


def _show_montage(ax, images: np.ndarray, gap: int = 2):
    m = montage(images, gap)
    if m.shape[-1] == 1:
        ax.imshow(m[..., 0], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    else:
        ax.imshow(m, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_visible(False)
    return m


def traversals_figure(traversals: np.ndarray, values: np.ndarray | None = None) -> Figure:
    """Latent traversals: one row per latent dimension ``z_i``, its images as ``z_i`` sweeps ``values[i]``
    (the other dimensions held at one observation's code)."""
    t = np.asarray(traversals)
    Z, K, H, W = t.shape[:4]
    scale = min(1.0, 9.0 / max(K, 1))
    fig = _figure(1.0 + K * 0.75 * scale, 0.3 + Z * 0.75 * scale)
    ax = fig.add_subplot()
    _show_montage(ax, t)
    ax.set_yticks([i * (H + 2) + H / 2 for i in range(Z)])
    labels = [f"z{i}" for i in range(Z)]
    if values is not None:
        v = np.asarray(values)
        labels = [f"z{i} [{v[i, 0]:.1f}, {v[i, -1]:.1f}]" for i in range(Z)]
    ax.set_yticklabels(labels, fontsize=8)
    ax.tick_params(length=0)
    return fig


def reconstructions_figure(inputs: np.ndarray, outputs: np.ndarray) -> Figure:
    """Inputs (top row) next to their reconstructions ``decode(encode(x))`` (bottom row)."""
    a, b = np.asarray(inputs), np.asarray(outputs)
    n, H = a.shape[0], a.shape[1]
    fig = _figure(0.6 + n * 0.8, 1.9)
    ax = fig.add_subplot()
    _show_montage(ax, np.stack([a, b]))
    ax.set_yticks([H / 2, H + 2 + H / 2])
    ax.set_yticklabels(["input", "reconstruction"], fontsize=8)
    ax.tick_params(length=0)
    return fig


def training_curves_figure(terms: dict) -> Figure:
    """One panel per loss term of the training log: ``{term: (steps, values)}`` (log scale where a positive
    term spans more than two decades)."""
    names = list(terms)
    if not names:
        raise ValueError("argument 'terms' is empty: the run has no loss log")
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig = _figure(3.2 * cols, 2.2 * rows)
    for i, name in enumerate(names):
        steps, vals = (np.asarray(x, dtype=np.float64) for x in terms[name])
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.plot(steps, vals, lw=1.2, color="C0", marker="o" if len(vals) <= 12 else None, ms=3)
        if len(vals) > 20:  # a running mean makes the trend readable under minibatch noise
            k = max(2, len(vals) // 20)
            smooth = np.convolve(vals, np.ones(k) / k, mode="valid")
            ax.plot(steps[k - 1:], smooth, lw=1.5, color="C1")
        if len(vals) and vals.min() > 0 and vals.max() / vals.min() > 100:
            ax.set_yscale("log")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    return fig


def distance_matrices_figure(factor_names, ground: list, data: list, latent: list) -> Figure:
    """Per factor (rows): the ground-truth distance ``|i - j|`` between its values, the mean data distance
    (per-element MSE) and the mean latent distance (L1) between the observations / codes at values i and j
    over random traversals. A representation that learned the factor's distances shows the ground truth's
    banded pattern in the latent column."""
    names = list(factor_names)
    fig = _figure(7.2, 2.3 * len(names) + 0.3)
    cols = (("ground truth |i - j|", ground), ("data (MSE)", data), ("latent (L1)", latent))
    for r, name in enumerate(names):
        for c, (title, mats) in enumerate(cols):
            ax = fig.add_subplot(len(names), 3, 3 * r + c + 1)
            m = np.asarray(mats[r])
            im = ax.imshow(m, cmap=_CMAP, interpolation="nearest")
            fig.colorbar(im, ax=ax, shrink=0.8).ax.tick_params(labelsize=6)
            ticks = np.arange(len(m)) if len(m) <= 10 else np.unique(np.linspace(0, len(m) - 1, 6).round().astype(int))
            ax.set_xticks(ticks)
            ax.set_yticks(ticks)
            ax.tick_params(labelsize=6)
            if r == 0:
                ax.set_title(title, fontsize=9)
            if c == 0:
                ax.set_ylabel(name, fontsize=9)
    return fig


def linearity_bars_figure(factor_names, linear_ratio, axis_ratio, axis_alignment) -> Figure:
    """Per factor: the linear ratio (traversal variance on one principal direction), the axis ratio (on one
    code axis) and the axis alignment (their quotient); 1 is best for each."""
    names = list(factor_names)
    x = np.arange(len(names))
    w = 0.27
    fig = _figure(max(4.0, 1.1 * len(names) + 1.5), 2.8)
    ax = fig.add_subplot()
    for k, (label, v) in enumerate((("linear ratio", linear_ratio), ("axis ratio", axis_ratio),
                                    ("axis alignment", axis_alignment))):
        ax.bar(x + (k - 1) * w, np.asarray(v, dtype=np.float64), w, label=label)
    ax.set_xticks(x)
    ax.set_xticklabels(names, fontsize=8)
    ax.set_ylim(0, max(1.05, float(np.nanmax(np.asarray(axis_alignment, dtype=np.float64))) * 1.05
                if len(names) else 1.05))
    ax.axhline(1.0, color="k", lw=0.6, ls=":")
    ax.legend(fontsize=7, ncols=3, loc="upper center", bbox_to_anchor=(0.5, 1.18), frameon=False)
    ax.tick_params(labelsize=7)
    ax.grid(axis="y", alpha=0.3)
    return fig


def rlt_histograms_figure(histograms: np.ndarray, labels=None, max_bins: int | None = None) -> Figure:
    """W. RLT (mean relative-living-time) histograms, one panel per latent dimension: ``histograms`` is
    ``(D, V, i_max)`` (the barycenters of each of the ``V`` submanifolds of dimension ``d``, one line each)
    or ``(S, i_max)`` (one per submanifold). Bins beyond the last with mass above 1e-3 are cut."""
    h = np.asarray(histograms, dtype=np.float64)
    if h.ndim == 2:
        h = h[:, None, :]
    if h.ndim != 3:
        raise ValueError(f"argument 'histograms' must be (D, V, i_max) or (S, i_max), got shape {h.shape}")
    D, V, B = h.shape
    used = np.flatnonzero(h.max(axis=(0, 1)) > 1e-3)
    last = int(used[-1]) + 1 if len(used) else B
    last = min(B, max(4, last + 1) if max_bins is None else max_bins)
    cols = min(5, D)
    rows = math.ceil(D / cols)
    fig = _figure(2.3 * cols, 1.8 * rows + 0.2)
    labels = list(labels) if labels is not None else [f"z{d}" for d in range(D)]
    for d in range(D):
        ax = fig.add_subplot(rows, cols, d + 1)
        for v in range(V):
            ax.plot(np.arange(last), h[d, v, :last], lw=1, alpha=0.8, color=f"C{v % 10}")
        ax.set_title(labels[d], fontsize=8)
        ax.tick_params(labelsize=6)
        ax.set_xlabel("holes", fontsize=7)
        ax.grid(alpha=0.3)
    return fig


def coclustering_figure(matrix: np.ndarray, row_labels=None, col_labels=None, row_order=None, col_order=None,
                        title: str = "W. RLT distance") -> Figure:
    """The matrix the topological score co-clusters (Wasserstein distances between the submanifolds' W. RLTs),
    rows and columns reordered by their biclusters when orders are given."""
    m = np.asarray(matrix, dtype=np.float64)
    rl = list(row_labels) if row_labels is not None else [f"z{i}" for i in range(m.shape[0])]
    cl = list(col_labels) if col_labels is not None else [f"z{i}" for i in range(m.shape[1])]
    if row_order is not None:
        m, rl = m[np.asarray(row_order)], [rl[i] for i in row_order]
    if col_order is not None:
        m, cl = m[:, np.asarray(col_order)], [cl[i] for i in col_order]
    fig = _figure(1.5 + 0.35 * m.shape[1], 1.0 + 0.35 * m.shape[0])
    ax = fig.add_subplot()
    im = ax.imshow(m, cmap=_CMAP, interpolation="nearest")
    fig.colorbar(im, ax=ax, shrink=0.8).ax.tick_params(labelsize=6)
    ax.set_xticks(range(len(cl)))
    ax.set_xticklabels(cl, fontsize=7, rotation=90)
    ax.set_yticks(range(len(rl)))
    ax.set_yticklabels(rl, fontsize=7)
    ax.set_title(title, fontsize=9)
    return fig


def rank_correlation_figure(names, corr: np.ndarray) -> Figure:
    """Spearman rank correlation between metrics across runs (Locatello et al. 2019, figure 2)."""
    c = np.asarray(corr, dtype=np.float64)
    n = len(names)
    fig = _figure(2.0 + 0.45 * n, 1.5 + 0.45 * n)
    ax = fig.add_subplot()
    im = ax.imshow(c, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    fig.colorbar(im, ax=ax, shrink=0.8).ax.tick_params(labelsize=6)
    ax.set_xticks(range(n))
    ax.set_xticklabels(names, fontsize=7, rotation=90)
    ax.set_yticks(range(n))
    ax.set_yticklabels(names, fontsize=7)
    if n <= 16:
        for i in range(n):
            for j in range(n):
                if np.isfinite(c[i, j]):
                    ax.text(j, i, f"{c[i, j]:.0f}" if abs(c[i, j]) == 1 else f"{c[i, j]:.2f}".replace("0.", "."),
                            ha="center", va="center", fontsize=6, color="w" if abs(c[i, j]) > 0.6 else "k")
    return fig


def metric_vs_hparam_figure(hparam: str, x: list, series: dict) -> Figure:
    """One panel per metric: its value against a hyperparameter ``hparam`` across runs (log x when the values
    are positive and span more than a decade)."""
    names = list(series)
    cols = min(4, len(names))
    rows = math.ceil(len(names) / cols)
    fig = _figure(2.6 * cols, 2.1 * rows)
    xv = np.asarray(x, dtype=np.float64)
    logx = xv.min() > 0 and xv.max() / xv.min() > 10
    for i, name in enumerate(names):
        ax = fig.add_subplot(rows, cols, i + 1)
        y = np.asarray(series[name], dtype=np.float64)
        ax.scatter(xv, y, s=16)
        if logx:
            ax.set_xscale("log")
        ax.set_title(name, fontsize=7)
        ax.set_xlabel(hparam, fontsize=7)
        ax.tick_params(labelsize=6)
        ax.grid(alpha=0.3)
    return fig
