"""The unsupervised scores against the disentanglement_lib transcription."""

from __future__ import annotations

import pytest

import pydisent.metrics as pm
from tests._references import disentanglement_lib as ref
from tests.metrics._codes import make


@pytest.mark.parametrize("kind", ["perfect", "rotated", "noise"])
def test_unsupervised_parity(rng, kind):
    z, _ = make(rng, 2000, kind=kind, extra=2)
    got = pm.unsupervised(z)
    expect = ref.unsupervised(z.T)
    for k, v in expect.items():
        assert abs(got[k] - v) <= 1e-9 * max(1.0, abs(v)), k


# ---- issue 15 regressions -------------------------------------------------------------------------

def test_unsupervised_extreme_scales():
    """Defects 7 and 8: total correlation inf at 1e-155, Wasserstein norm 2.0 at 1e-100, torch's
    _LinAlgError at 1e160 and ZeroDivisionError at 1e-310. Total correlation and the normalised
    Wasserstein score are scale-free; the Wasserstein score scales with the square (inf beyond float64)."""
    import warnings

    import pytest

    import pydisent.metrics as pm
    from tests._probe import probe

    C, F, _ = probe()
    want = pm.unsupervised(C)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for s in (1e-310, 1e-155, 1e-100, 1e100, 1e160, 1e300):
            got = pm.unsupervised(C * s)
            assert got["gaussian_total_correlation"] == pytest.approx(want["gaussian_total_correlation"], rel=1e-6)
            assert got["gaussian_wasserstein_correlation_norm"] == pytest.approx(
                want["gaussian_wasserstein_correlation_norm"], rel=1e-6)
            assert got["mutual_info_score"] == want["mutual_info_score"]
            w = want["gaussian_wasserstein_correlation"] * s * s
            assert got["gaussian_wasserstein_correlation"] == pytest.approx(w, rel=1e-6, abs=1e-300)
    # one column tiny beside the others: the total correlation is invariant to scaling any code
    C2 = C * [1.0, 1e-200, 1.0]
    assert pm.unsupervised(C2)["gaussian_total_correlation"] == pytest.approx(
        want["gaussian_total_correlation"], rel=1e-6)


def test_unsupervised_fewer_points_than_codes_warns():
    """Defect 10: 3 points in 3 code dimensions: a singular covariance, said so."""
    import math

    import pytest

    import pydisent.metrics as pm
    from tests._probe import probe

    C, F, _ = probe()
    with pytest.warns(RuntimeWarning, match="singular"):
        got = pm.unsupervised(C[:3])
    assert math.isinf(got["gaussian_total_correlation"])
