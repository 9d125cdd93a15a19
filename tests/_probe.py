"""The codes of issue 15's probe: ``F`` two 4-valued factors of 90 points, ``C`` two noisy copies of them
and one noise code. Every defect the probe found is a regression test on these arrays."""

import numpy as np


def probe():
    r = np.random.default_rng(0)
    F = r.integers(0, 4, (90, 2))
    C = np.c_[F + 0.1 * r.standard_normal((90, 2)), r.standard_normal(90)]
    return C, F, r
