"""Property tests of the metrics' array forms (hypothesis; profiles in tests/conftest.py).

Scale: every metric that is invariant to scaling the codes by definition is tested for it: by powers of
two (exact: the same numbers) and by arbitrary positive factors (to rounding) where the metric is not a
histogram or tree of the codes. Not scale-invariant by definition (their docstrings say so): discrete SAP,
BetaVAE and downstream (a regularised classifier on the raw codes), FactorVAE (an absolute pruning
threshold), the Wasserstein correlation (scales with the square) and the flatness widths and lengths.
Relabelling: metrics that treat factor values as labels are invariant to any injective relabelling (IRS
bins the factor values and continuous SAP correlates them: not by definition). Anything: a result or a
ValueError/TypeError.
"""

import math

import numpy as np
import pytest

pytest.importorskip("hypothesis", reason="property tests need hypothesis (the `test` extra)")

from hypothesis import given  # noqa: E402

import pydisent.metrics as pm  # noqa: E402
from tests._strategies import examples, st  # noqa: E402


@st.composite
def supervised(draw, n_min=40, n_max=80):
    """Codes (n, Z) that carry the factors (n, F) with noise, from a drawn seed."""
    seed = draw(st.integers(0, 2**32 - 1))
    r = np.random.default_rng(seed)
    n, z, f = draw(st.integers(n_min, n_max)), draw(st.integers(2, 4)), draw(st.integers(1, 2))
    sizes = [draw(st.integers(2, 4)) for _ in range(f)]
    factors = np.stack([r.integers(0, s, n) for s in sizes], 1)
    factors[: max(sizes)] = np.arange(max(sizes))[:, None] % np.asarray(sizes)[None]  # every value present
    mix = r.standard_normal((f, z)) * (r.random((f, z)) < 0.7)
    codes = factors @ mix + draw(st.sampled_from([0.05, 0.5])) * r.standard_normal((n, z))
    return codes, factors


POW2 = {  # metric: call on (codes, factors)
    "mig": lambda c, f: pm.mig(c, f),
    "modularity_explicitness": lambda c, f: pm.modularity_explicitness(c, f, n_jobs=1),
    "dci": lambda c, f: pm.dci(c, f, fast=True, n_jobs=1),
    "irs": lambda c, f: pm.irs(c, f),
    "sap_continuous": lambda c, f: pm.sap(c, f, continuous_factors=True),
    "sparsity": lambda c, f: pm.sparsity(c),
    "unsupervised": lambda c, f: {k: v for k, v in pm.unsupervised(c).items()
                                  if k != "gaussian_wasserstein_correlation"},
}
EXACT = ("mig", "modularity_explicitness", "dci", "irs")  # histograms, z-scores and trees: the same bits


@examples(6)
@given(data=supervised(), k=st.integers(-900, 900), name=st.sampled_from(sorted(POW2)))
def test_power_of_two_scale_invariance(data, k, name):
    codes, factors = data
    fn = POW2[name]
    try:
        want = fn(codes, factors)
    except ValueError:
        return  # a degenerate draw (e.g. a factor the explicitness split leaves single-valued)
    got = fn(np.ldexp(codes, k), factors)
    if name == "sap_continuous" and k < -20:
        return  # the reference's absolute variance threshold (1e-12) applies to the raw codes
    if name == "irs":  # IRS's num_active_dims is the sum of the codes (a reference quirk): it scales
        want, got = {"IRS": want["IRS"]}, {"IRS": got["IRS"]}
    if name in EXACT:
        assert got == want
    else:
        assert got == pytest.approx(want, rel=1e-9, abs=1e-12)


@examples(8)
@given(data=supervised(), e=st.integers(-250, 250), m=st.floats(1.01, 9.99))
def test_any_positive_scale(data, e, m):
    codes, factors = data
    s = m * 10.0**e
    want = pm.unsupervised(codes)
    got = pm.unsupervised(codes * s)
    for key in ("gaussian_total_correlation", "gaussian_wasserstein_correlation_norm"):
        assert got[key] == pytest.approx(want[key], rel=1e-6, abs=1e-9)
    w = want["gaussian_wasserstein_correlation"] * s * s
    if math.isfinite(w) and w > 1e-290:
        assert got["gaussian_wasserstein_correlation"] == pytest.approx(w, rel=1e-6)
    assert pm.sparsity(codes * s) == pytest.approx(pm.sparsity(codes), rel=1e-9)
    if e > -5:
        assert pm.sap(codes * s, factors, continuous_factors=True) == pytest.approx(
            pm.sap(codes, factors, continuous_factors=True), rel=1e-6, abs=1e-9)
    trav = [codes[: (len(codes) // 4) * 4].reshape(-1, 4, codes.shape[1])]
    assert pm.linearity([t * s for t in trav]) == pytest.approx(pm.linearity(trav), rel=1e-6, abs=1e-9)
    fl0, fl1 = pm.flatness(trav), pm.flatness([t * s for t in trav])
    for key in ("flatness.ave_flatness", "flatness.ave_flatness_l1", "flatness.ave_flatness_l2"):
        assert fl1[key] == pytest.approx(fl0[key], rel=1e-6, abs=1e-9)
    gtc0 = pm.ground_truth_correlation(trav, num_samples=8)
    gtc1 = pm.ground_truth_correlation([t * s for t in trav], num_samples=8)
    assert gtc1 == pytest.approx(gtc0, rel=1e-6, abs=1e-9)


@examples(6)
@given(data=supervised(), seed=st.integers(0, 2**32 - 1), big=st.booleans())
def test_relabelling_invariance(data, seed, big):
    codes, factors = data
    r = np.random.default_rng(seed)
    relabelled = np.empty_like(factors)
    for j in range(factors.shape[1]):
        values = np.unique(factors[:, j])
        ids = r.choice(2**62, size=len(values), replace=False) - (2**61 if big else 0)
        relabelled[:, j] = ids[np.searchsorted(values, factors[:, j])]
    # (a permuted joint table sums in another order: equal to rounding)
    assert pm.mig(codes, relabelled) == pytest.approx(pm.mig(codes, factors), rel=1e-12)
    a, b = pm.modularity_explicitness(codes, relabelled, n_jobs=1), pm.modularity_explicitness(codes, factors,
                                                                                               n_jobs=1)
    assert a["modularity_score"] == pytest.approx(b["modularity_score"], rel=1e-12)
    assert a == pytest.approx(b, abs=1e-6)
    assert pm.sap(codes, relabelled, fast=True) == pytest.approx(pm.sap(codes, factors, fast=True), abs=1e-9)


_BAD = ["nan", "inf", "constant_code", "constant_factor", "two_points", "one_code", "float_factors",
        "mismatched", "transposed", "string", "none", "3d", "bool_codes", "huge", "tiny"]
_FAST = {
    "mig": lambda c, f: pm.mig(c, f),
    "irs": lambda c, f: pm.irs(c, f),
    "sap_fast": lambda c, f: pm.sap(c, f, fast=True),
    "sap_continuous": lambda c, f: pm.sap(c, f, continuous_factors=True),
    "unsupervised": lambda c, f: pm.unsupervised(c),
    "sparsity": lambda c, f: pm.sparsity(c),
    "modularity_explicitness": lambda c, f: pm.modularity_explicitness(c, f, n_jobs=1),
    "dci_fast": lambda c, f: pm.dci(c, f, fast=True, n_jobs=1),
    "beta_vae": lambda c, f: pm.beta_vae(np.abs(c), f[:, 0], np.abs(c), f[:, 0]),
    "linearity": lambda c, f: pm.linearity(_traversals(c)),
    "flatness": lambda c, f: pm.flatness(_traversals(c)),
}


def _traversals(c):
    """Three-step traversals from codes (n, Z); anything else passed on as the metric's input."""
    if isinstance(c, np.ndarray) and c.ndim == 2:
        return [c[:, None, :].repeat(3, 1) + np.arange(3)[None, :, None]]
    return c if c is None else [c]


@examples(30)
@given(data=supervised(20, 30), how=st.sampled_from(_BAD), name=st.sampled_from(sorted(_FAST)))
def test_result_or_value_type_error(data, how, name):
    codes, factors = data
    c, f = codes.copy(), factors.copy()
    if how == "nan":
        c[0, 0] = np.nan
    elif how == "inf":
        c[-1, -1] = -np.inf
    elif how == "constant_code":
        c[:, 0] = 3.0
    elif how == "constant_factor":
        f[:, 0] = 7
    elif how == "two_points":
        c, f = c[:2], f[:2]
    elif how == "one_code":
        c = c[:, :1]
    elif how == "float_factors":
        f = f + 0.5
    elif how == "mismatched":
        f = f[:-1]
    elif how == "transposed":
        c = c.T
    elif how == "string":
        c = c.astype(str)
    elif how == "none":
        c = None
    elif how == "3d":
        c = c[None]
    elif how == "bool_codes":
        c = c > 0
    elif how == "huge":
        c = c * 1e300
    elif how == "tiny":
        c = c * 1e-300
    try:
        out = _FAST[name](c, f)
    except (ValueError, TypeError):
        return
    assert isinstance(out, dict) and out
    for k, v in out.items():
        assert isinstance(v, (int, float)), (k, v)
        assert not math.isnan(v), (name, how, k)
