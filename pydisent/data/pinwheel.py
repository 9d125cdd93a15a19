"""The synthetic pinwheel data of Adams / Johnson et al. 2016, used by Mathieu et al. 2019
("Disentangling Disentanglement in VAEs") for the clustering-prior experiments.

Each arm (class) is a Gaussian blob stretched radially, centred at radius 1, then rotated by its
arm angle ``2 pi c / K`` plus a twist ``rate * exp(r)`` that grows with the radial coordinate ``r``:

    f = (r, t) ~ N((1, 0), diag(radial_std^2, tangential_std^2))
    a = 2 pi c / K + rate * exp(r)
    x = scale * (r cos a + t sin a, -r sin a + t cos a)

(Johnson et al.'s ``make_pinwheel_data``, the row-vector-times-rotation form of Adams' MATLAB
``pinwheel.m``.) Mathieu et al. generated theirs with ``pinwheel(0.1, 0.3, 4, 100, 0.25)`` of the
MATLAB file, whose first two arguments are applied swapped (its radial column is scaled by the
``tangential_std`` argument): effectively radial std 0.3 and tangential std 0.1, preset
``"mathieu2019"``. 2-D points, not images, so this is a plain ``torch`` dataset of (point, label).
"""

from __future__ import annotations

import numpy as np
import torch

from pydisent._rng import as_rng
from pydisent._validation import Options, check, check_positive_int

PRESETS = {
    # Mathieu et al. 2019 (scripts/gen_pinwheel_small.sh): 4 arms, 100 points each (train and test)
    "mathieu2019": dict(num_classes=4, num_per_class=100, radial_std=0.3, tangential_std=0.1, rate=0.25),
    # Johnson et al. 2016 SVAE synthetic experiment: 5 arms, scaled by 10 and shuffled
    "johnson2016": dict(num_classes=5, num_per_class=100, radial_std=0.3, tangential_std=0.05, rate=0.25,
                        scale=10.0, shuffle=True),
}


def make_pinwheel(num_classes: int = 4, num_per_class: int = 100, radial_std: float = 0.3,
                  tangential_std: float = 0.05, rate: float = 0.25, rng=None, *, scale: float = 1.0,
                  shuffle: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Pinwheel points and labels (see the module docstring for the formula).

    Args:
        num_classes: arms (4).
        num_per_class: points per arm (100).
        radial_std, tangential_std: standard deviations along and across an arm (0.3, 0.05).
        rate: twist in radians per unit of ``exp(radius)`` (0.25).
        rng: seed, ``numpy.random.Generator`` or ``RandomState`` (a ``RandomState`` gives the same
            points as the reference code seeded the same way).
        scale: multiplies the points (Johnson et al. used 10).
        shuffle: permute the points (and labels) instead of keeping them grouped by arm.

    Returns:
        ``(points float64 (N, 2), labels int64 (N,))`` with ``N = num_classes * num_per_class``.
    """
    K = check_positive_int(num_classes, "num_classes")
    m = check_positive_int(num_per_class, "num_per_class", 0)
    for name, v in (("radial_std", radial_std), ("tangential_std", tangential_std), ("rate", rate), ("scale", scale)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v):
            raise ValueError(f"argument '{name}' must be a finite number, got {v!r}")
    if radial_std < 0 or tangential_std < 0:
        raise ValueError("arguments 'radial_std' and 'tangential_std' must be >= 0")
    rng = as_rng(rng)
    arms = np.linspace(0, 2 * np.pi, K, endpoint=False)
    features = rng.standard_normal((K * m, 2)) * np.array([radial_std, tangential_std])
    features[:, 0] += 1.0
    labels = np.repeat(np.arange(K, dtype=np.int64), m)
    angles = arms[labels] + rate * np.exp(features[:, 0])
    c, s = np.cos(angles), np.sin(angles)
    points = np.stack([features[:, 0] * c + features[:, 1] * s, -features[:, 0] * s + features[:, 1] * c], axis=1)
    points *= float(scale)
    if shuffle:
        perm = rng.permutation(len(points))
        points, labels = points[perm], labels[perm]
    return points, labels


class PinwheelDataset(torch.utils.data.Dataset):
    """Pinwheel points as a dataset of ``(point float32 (2,), label int64)``.

    Args:
        preset: ``"mathieu2019"`` or ``"johnson2016"`` (see :data:`PRESETS`); explicit keyword
            arguments override it.
        rng: seed or generator (required for reproducibility; ``None`` draws fresh entropy).
        **kwargs: arguments of :func:`make_pinwheel`.
    """

    def __init__(self, preset: str | None = "mathieu2019", rng=None, **kwargs):
        check(preset, "preset", Options(sorted(PRESETS), none=True))
        params = {**(PRESETS[preset] if preset else {}), **kwargs}
        points, labels = make_pinwheel(rng=rng, **params)
        self.params = params
        self.num_classes = int(params.get("num_classes", 4))
        self.points = torch.from_numpy(points.astype(np.float32))
        self.labels = torch.from_numpy(labels)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, idx):
        return self.points[idx], self.labels[idx]
