"""Unsupervised scores of disentanglement_lib (``unsupervised_metrics``): Gaussian total correlation,
Gaussian Wasserstein correlation and mean pairwise mutual information of the codes."""

from __future__ import annotations

import math
import warnings

import torch

from pydisent.metrics._arrays import as_codes, check_positive_int, constant_columns
from pydisent.metrics._discretize import histogram_discretize
from pydisent.metrics._mi import discrete_mutual_info
from pydisent.metrics._registry import register
from pydisent.metrics._sampling import sample_codes_factors
from pydisent.metrics._scaling import column_guard_torch, global_guard


def _covariance(z: torch.Tensor) -> torch.Tensor:
    zc = z - z.mean(dim=0)
    return zc.t() @ zc / (z.shape[0] - 1)


def gaussian_total_correlation(cov: torch.Tensor) -> float:
    """``0.5 (sum_d log C_dd - log det C)``: KL between N(0, C) and the product of its marginals.
    ``inf`` for a singular C with positive diagonal (perfectly correlated codes), with a warning."""
    sign, logdet = torch.linalg.slogdet(cov)
    if float(sign) <= 0:
        warnings.warn("unsupervised: the code covariance is singular (perfectly correlated codes): the Gaussian "
                      "total correlation is infinite", RuntimeWarning, stacklevel=3)
        return math.inf
    return float(0.5 * (torch.log(torch.diagonal(cov)).sum() - logdet))


def gaussian_wasserstein_correlation(cov: torch.Tensor) -> float:
    """``2 tr C - 2 tr sqrtm(C diag(C)[:, None])``: squared 2-Wasserstein distance between N(0, C) and the
    product of its marginals. ``C * diag(C)[:, None] = D C`` (D = diag C) has the eigenvalues of the symmetric
    PSD matrix ``D^1/2 C D^1/2``, so its trace square root is the sum of their square roots."""
    d = torch.sqrt(torch.diagonal(cov).clamp_min(0.0))
    sym = d[:, None] * cov * d[None, :]
    ev = torch.linalg.eigvalsh(0.5 * (sym + sym.t())).clamp_min(0.0)
    return float(2.0 * torch.trace(cov) - 2.0 * torch.sqrt(ev).sum())


def unsupervised(codes, *, num_bins: int = 20) -> dict:
    """Unsupervised scores of the code distribution (no factors needed).

    With ``C`` the code covariance (ddof=1):
    ``gaussian_total_correlation = 0.5 (sum_d log C_dd - log det C)`` (scale free, 0 for uncorrelated codes);
    ``gaussian_wasserstein_correlation = 2 tr C - 2 tr sqrtm(C * diag(C)[:, None])`` (scale dependent) and
    ``gaussian_wasserstein_correlation_norm`` = that / ``tr C``; ``mutual_info_score`` = mean over ordered
    pairs ``i != j`` of the plug-in MI (nats) of the 20-bin-discretised codes ``i`` and ``j`` (about
    ``(bins - 1)^2 / (2 n)`` even for independent codes: plug-in bias).

    Constant code dimensions (the reference takes log 0 and returns NaN) are left out of the covariance
    scores (they are independent of every other code and contribute 0 to the Wasserstein score); they still
    count in the mutual-information average (with MI 0), as in the reference. ``Z >= 2`` is required.
    Codes of any magnitude (1e-300..1e300) give the same scale-free scores; the Wasserstein score, which
    scales with the square of the codes, is ``inf`` where that square exceeds float64. Fewer points than
    non-constant codes (or perfectly correlated codes) give a singular covariance: the total correlation is
    ``inf``, with a ``RuntimeWarning``.

    Args:
        codes: ``(n, Z)`` codes; num_bins: discretiser bins (20).

    Returns:
        ``{"gaussian_total_correlation", "gaussian_wasserstein_correlation",
        "gaussian_wasserstein_correlation_norm", "mutual_info_score"}``.

    Reference: Locatello et al., "Challenging Common Assumptions in the Unsupervised Learning of Disentangled
    Representations", ICML 2019; disentanglement_lib ``evaluation/metrics/unsupervised_metrics.py``
    (10000 points, batch 16).
    """
    num_bins = check_positive_int(num_bins, "num_bins")
    c = as_codes(codes, "codes", min_dims=2, min_points=2)
    z = c.to(torch.float64)
    live = ~constant_columns(z)
    if not bool(live.any()):
        raise ValueError("argument 'codes': every code dimension is constant; the covariance scores are undefined")
    # Extreme codes are moved by powers of two (exact) before their squares can overflow or underflow: the
    # Wasserstein score by one factor for all codes (it scales with its square), the total correlation
    # column by column (it is invariant to scaling any code). Codes within 2**-100..2**100 are untouched.
    zg, unscale = global_guard(z)
    cov = _covariance(zg)[live][:, live]
    zt = column_guard_torch(zg)
    cov_tc = cov if zt is zg else _covariance(zt)[live][:, live]
    n, num_live = z.shape[0], int(live.sum())
    scores = {}
    if n - 1 < num_live:
        warnings.warn(f"unsupervised: {n} points give a code covariance of rank <= {n - 1} < {num_live} "
                      f"(non-constant code dimensions): it is singular and the Gaussian total correlation is "
                      f"infinite; use more points than code dimensions", RuntimeWarning, stacklevel=2)
        scores["gaussian_total_correlation"] = math.inf
    else:
        scores["gaussian_total_correlation"] = gaussian_total_correlation(cov_tc)
    w = gaussian_wasserstein_correlation(cov)
    scores["gaussian_wasserstein_correlation"] = w * unscale * unscale
    scores["gaussian_wasserstein_correlation_norm"] = w / float(torch.trace(cov))
    labels = histogram_discretize(c, num_bins)
    mi = discrete_mutual_info(labels, labels)
    mi.fill_diagonal_(0.0)
    Z = c.shape[1]
    scores["mutual_info_score"] = float(mi.sum() / (Z * Z - Z))
    return scores


@register("unsupervised", unsupervised, headline=('gaussian_total_correlation', 'mutual_info_score'))
def evaluate_unsupervised(source, encoder, rng, *, num_train: int = 10000, batch_size: int = 16, num_bins: int = 20,
                          fast: bool = False) -> dict:
    """Unsupervised scores on ``num_train`` random points (reference: 10000, batch 16)."""
    num_train = check_positive_int(num_train, "num_train", 2)
    c, _ = sample_codes_factors(source, encoder, num_train, rng, check_positive_int(batch_size, "batch_size"))
    return unsupervised(c, num_bins=num_bins)
