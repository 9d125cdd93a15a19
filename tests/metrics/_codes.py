from __future__ import annotations

import numpy as np

SIZES = (4, 5, 3)


def make(rng, n, sizes=SIZES, kind="perfect", noise=0.05, extra=0, dtype=np.float64):
    """Factors (n, F) and codes (n, Z): perfect (factor + noise), rotated, noise, or missing half."""
    f = np.stack([rng.integers(0, s, n) for s in sizes], axis=1)
    base = f / np.asarray(sizes, dtype=np.float64) + noise * rng.standard_normal(f.shape)
    if kind == "perfect":
        z = base
    elif kind == "rotated":
        q, _ = np.linalg.qr(rng.standard_normal((len(sizes), len(sizes))))
        z = base @ q
    elif kind == "noise":
        z = rng.standard_normal(f.shape)
    elif kind == "half":
        keep = (len(sizes) + 1) // 2
        z = np.concatenate([base[:, :keep], rng.standard_normal((n, len(sizes) - keep))], axis=1)
    else:
        raise ValueError(kind)
    if extra:
        z = np.concatenate([z, rng.standard_normal((n, extra))], axis=1)
    return z.astype(dtype), f
