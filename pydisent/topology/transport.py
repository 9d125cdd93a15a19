"""Optimal-transport tools on histograms (RLTs), batched in torch, float64.

* :func:`entropic_barycenter`: the entropic Wasserstein barycenter by iterative Bregman projections
  (Benamou, Carlier, Cuturi, Nenna, Peyre, "Iterative Bregman projections for regularized
  transportation problems", SIAM J. Sci. Comput. 2015), the "W. RLT" of Zhou et al. (ICLR 2021),
  equal to ``ot.bregman.barycenter`` (POT) for many barycenters in one call (or, with ``stop="zhou"``,
  to the loop of the released Zhou et al. code, which stops earlier).
* :func:`bin_cost`: the ground cost ``C_ij = (i - j)^2 / (m - 1)^2`` between the ``m`` bins.
* :func:`values_w1`: what the Zhou et al. code computes between two W. RLTs,
  ``scipy.stats.wasserstein_distance(a, b)``: the 1-D W1 between the bin *values* taken as samples,
  ``mean_k |sort(a)_k - sort(b)_k|`` (invariant to permuting the bins).
* :func:`histogram_w1`: the W1 between the histograms over their bin support,
  ``sum_k |A_k - B_k| (s_{k+1} - s_k)`` with ``A``, ``B`` the cumulative sums of the normalised
  histograms (``scipy.stats.wasserstein_distance(s, s, a, b)``).
* :func:`distance_matrix`: every pairwise distance between two sets of histograms, with either W1 or
  the Geometry Score's sum of squares.
"""

from __future__ import annotations

import torch

from pydisent._validation import Interval, Options, as_tensor, check, check_positive_int

__all__ = ["DISTANCES", "bin_cost", "distance_matrix", "entropic_barycenter", "histogram_w1", "values_w1"]

#: Names accepted by :func:`distance_matrix`.
DISTANCES = ("zhou_code", "histogram", "euclidean")
#: Stopping rules of :func:`entropic_barycenter`.
BARYCENTER_STOPS = ("zhou", "pot")


def bin_cost(num_bins: int, *, dtype=torch.float64, device=None) -> torch.Tensor:
    """Ground cost between bins ``0 .. num_bins - 1``: ``(i - j)^2`` divided by its maximum
    ``(num_bins - 1)^2`` (all zeros for one bin). The Zhou et al. code builds this matrix from the
    number of landmark draws instead of the number of bins; the two agree only when they are equal."""
    m = check_positive_int(num_bins, "num_bins")
    i = torch.arange(m, dtype=dtype, device=device)
    c = (i[:, None] - i[None, :]) ** 2
    return c / (m - 1) ** 2 if m > 1 else c


def _as_hists(h, name: str, min_dim: int = 2) -> torch.Tensor:
    t = as_tensor(h, name)
    if t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"argument '{name}' must hold real numbers, got dtype {t.dtype}")
    t = t.to(torch.float64)
    if t.dim() < min_dim:
        raise ValueError(f"argument '{name}' must have shape {'(..., n, bins)' if min_dim == 2 else '(..., bins)'}, "
                         f"got {tuple(t.shape)}")
    if t.numel() and not bool(torch.isfinite(t).all()):
        raise ValueError(f"argument '{name}' contains NaN or infinite values")
    return t


def entropic_barycenter(hists, cost=None, *, reg: float = 1e-2, weights=None, max_iter: int = 100,
                        tol: float = 1e-4, stop: str = "pot", return_iterations: bool = False):
    """Entropic Wasserstein barycenters of many sets of histograms, by iterative Bregman projections.

    For histograms ``a_1 .. a_n`` (rows of ``hists``), weights ``w`` and Gibbs kernel
    ``K = exp(-C / reg)``, the scalings start at ``u_k = g / (K (a_k / K^T 1))`` (``g`` their geometric
    mean over ``k``) and iterate::

        m_k = u_k * K^T (a_k / (K u_k)),   q = prod_k m_k^{w_k},   u_k <- u_k * q / m_k

    and ``q`` is the barycenter: the same algebra as ``ot.bregman.barycenter(A, C, reg)``
    (``method="sinkhorn"``) and as the "original" stabilisation of ``gs/barycenter.py`` of Zhou et al.,
    without epsilon annealing or acceleration. Every barycenter of the batch iterates (and stops) on its
    own, so the result of a batch equals the results of separate calls.

    Args:
        hists: ``(n, bins)`` histograms (one barycenter) or ``(B, n, bins)`` (``B`` barycenters); rows
            need not sum to 1 (RLTs that drop counts >= i_max do not), but each must have positive mass.
        cost: ``(bins, bins)`` ground cost; default :func:`bin_cost` ``(i - j)^2 / (bins - 1)^2``.
        reg: entropic regularisation ``eps`` (Zhou et al.: 1e-2; on the [0, 1] cost this blurs over
            about ``sqrt(eps) * (bins - 1)`` bins, so the barycenter is a smoothed histogram: that is the
            reference behaviour).
        weights: ``(n,)`` barycentric weights (default uniform ``1/n``).
        max_iter: at most this many iterations (Zhou et al.: 100).
        tol: stopping threshold (Zhou et al. and POT: 1e-4).
        stop: ``"pot"`` (default): POT's rule, stop when ``sum_bins std_k(m_k) < tol`` (the marginals agree),
            checked at iterations 1, 11, 21, ... (0-based): the result equals ``ot.bregman.barycenter`` to
            rounding. ``"zhou"``: the rule of the released ``gs/barycenter.py`` loop, stop after the first
            iteration ``t`` with ``||q_t - q_{t-1}||_2 <= tol`` and ``|1 - sum q_t| <= tol`` (``q_0 = 0``).
            The same iterations, stopped at different points: on RLTs of the Zhou et al. settings "zhou"
            stops after 5-6 iterations and "pot" after 22, and the two barycenters differ by about 2e-5 per
            bin (bins of about 3e-2 at the mode).
        return_iterations: also return the number of iterations each barycenter ran.

    Returns:
        float64 ``(bins,)`` or ``(B, bins)`` (and an int64 tensor of iteration counts).

    Raises:
        ValueError: negative or non-finite entries, a histogram with zero mass (the reference returns
        NaN/zeros there), a cost of the wrong shape, bad ``reg``/``weights``/``stop``.
    """
    p = _as_hists(hists, "hists")
    if p.dim() > 3:
        raise ValueError(f"argument 'hists' must have shape (n, bins) or (B, n, bins), got {tuple(p.shape)}")
    single = p.dim() == 2
    if single:
        p = p[None]
    nb, n, m = p.shape
    if n < 1 or m < 1:
        raise ValueError(f"argument 'hists' needs at least one histogram and one bin, got {tuple(p.shape)}")
    if bool((p < 0).any()):
        raise ValueError("argument 'hists' must be non-negative")
    mass = p.sum(-1)
    if bool((mass <= 0).any()):
        b, k = (int(v) for v in torch.nonzero(mass <= 0)[0])
        raise ValueError(f"argument 'hists': histogram {k} of barycenter {b} has zero mass (every bin is 0); "
                         f"a barycenter needs positive mass in every histogram")
    reg = check(reg, "reg", Interval(float, 0, None, closed="neither"))
    tol = check(tol, "tol", Interval(float, 0, None))
    max_iter = check_positive_int(max_iter, "max_iter")
    stop = check(stop, "stop", Options(BARYCENTER_STOPS))
    dev = p.device
    c = bin_cost(m, device=dev) if cost is None else _as_hists(cost, "cost").to(dev)
    if c.shape != (m, m):
        raise ValueError(f"argument 'cost' must have shape (bins, bins) = ({m}, {m}), got {tuple(c.shape)}")
    if weights is None:
        w = torch.full((n,), 1.0 / n, dtype=torch.float64, device=dev)
    else:
        w = _as_hists(weights, "weights", min_dim=1).to(dev).reshape(-1)
        if w.shape[0] != n or bool((w < 0).any()):
            raise ValueError(f"argument 'weights' must hold {n} non-negative values, got shape {tuple(w.shape)}")

    # POT's algebra with histograms as rows (a: (B, n, bins)): K x_col == x_row K^T, so every product is one
    # (B * n, bins) x (bins, bins) GEMM instead of B small ones.
    a = p
    k = torch.exp(-c / reg)
    kt = k.t()
    ukv = (a / k.sum(0)) @ kt
    u = torch.exp(torch.log(ukv).mean(1, keepdim=True)) / ukv
    q_out = torch.zeros(nb, m, dtype=torch.float64, device=dev)
    last_q = torch.zeros(nb, m, dtype=torch.float64, device=dev)
    iters = torch.zeros(nb, dtype=torch.int64, device=dev)
    active = torch.ones(nb, dtype=torch.bool, device=dev)
    sel = None  # None: every barycenter still runs (no gathers)
    for it in range(max_iter):
        # Only the barycenters still running are computed (each follows its own serial run).
        ua, aa = (u, a) if sel is None else (u[sel], a[sel])
        ukv_a = ua * ((aa / (ua @ kt)) @ k)
        q = torch.exp(torch.einsum("bnm,n->bm", torch.log(ukv_a), w))
        if sel is None:
            u, q_out = ua * q[:, None, :] / ukv_a, q
            iters += 1
        else:
            u[sel] = ua * q[:, None, :] / ukv_a
            q_out[sel] = q
            iters[sel] += 1
        if stop == "pot":
            if it % 10 != 1:
                continue
            done = ukv_a.std(1, correction=0).sum(-1) < tol
        else:
            prev = last_q if sel is None else last_q[sel]
            done = ((q - prev).norm(dim=-1) <= tol) & ((1.0 - q.sum(-1)).abs() <= tol)
            if sel is None:
                last_q = q
            else:
                last_q[sel] = q
        if bool(done.any()):
            if sel is None:  # from now on written row by row: give q_out and last_q their own memory
                sel = torch.arange(nb, device=dev)
                q_out, last_q = q_out.clone(), last_q.clone()
            active[sel[done]] = False
            if not bool(active.any()):
                break
            sel = torch.nonzero(active).reshape(-1)
    out = q_out[0] if single else q_out
    if return_iterations:
        return out, (iters[0] if single else iters)
    return out


def _pair_broadcast(a, b, name_a: str, name_b: str) -> tuple[torch.Tensor, torch.Tensor]:
    x = _as_hists(a, name_a, min_dim=1)
    y = _as_hists(b, name_b, min_dim=1).to(x.device)
    if x.shape[-1] != y.shape[-1]:
        raise ValueError(f"arguments '{name_a}' and '{name_b}' must have the same number of bins, got "
                         f"{x.shape[-1]} and {y.shape[-1]}")
    if x.shape[-1] < 1:
        raise ValueError(f"argument '{name_a}' needs at least one bin")
    return x, y


def values_w1(a, b) -> torch.Tensor:
    """``scipy.stats.wasserstein_distance(a, b)`` (no weights) along the last axis: the W1 between the
    *values* of ``a`` and ``b`` taken as equally weighted 1-D samples, ``mean_k |sort(a)_k - sort(b)_k|``.

    This is the distance between W. RLTs that the Zhou et al. code computes (``gs.geom_score``); it
    ignores which bin holds which value. Broadcasts over leading axes; equal lengths only.
    """
    x, y = _pair_broadcast(a, b, "a", "b")
    return (torch.sort(x, dim=-1).values - torch.sort(y, dim=-1).values).abs().mean(-1)


def _cdf(x: torch.Tensor, name: str) -> torch.Tensor:
    if bool((x < 0).any()):
        raise ValueError(f"argument '{name}' must be non-negative (a histogram)")
    s = x.sum(-1, keepdim=True)
    if bool((s <= 0).any()):
        raise ValueError(f"argument '{name}' holds a histogram with zero mass")
    return torch.cumsum(x / s, -1)


def _support_steps(support, m: int, device) -> torch.Tensor:
    if support is None:
        return torch.ones(max(m - 1, 0), dtype=torch.float64, device=device)
    s = _as_hists(support, "support", min_dim=1).to(device).reshape(-1)
    if s.shape[0] != m:
        raise ValueError(f"argument 'support' must hold one position per bin ({m}), got {s.shape[0]}")
    steps = s[1:] - s[:-1]
    if bool((steps < 0).any()):
        raise ValueError("argument 'support' must be non-decreasing")
    return steps


def histogram_w1(a, b, support=None) -> torch.Tensor:
    """W1 between histograms ``a`` and ``b`` over their bins (last axis), each normalised to mass 1:
    ``sum_k |A_k - B_k| (s_{k+1} - s_k)`` with ``A``, ``B`` the cumulative sums and ``s`` the bin
    positions (``support``, default ``0, 1, ..., bins - 1``: the number of holes). Equals
    ``scipy.stats.wasserstein_distance(s, s, a, b)``. Broadcasts over leading axes."""
    x, y = _pair_broadcast(a, b, "a", "b")
    steps = _support_steps(support, x.shape[-1], x.device)
    d = (_cdf(x, "a") - _cdf(y, "b"))[..., :-1].abs()
    return (d * steps).sum(-1)


def distance_matrix(a, b=None, *, distance: str = "zhou_code", support=None, chunk: int = 1 << 24) -> torch.Tensor:
    """All pairwise distances between histograms ``a`` ``(m, bins)`` and ``b`` ``(k, bins)`` (default
    ``b = a``) as an ``(m, k)`` float64 matrix.

    ``distance``: ``"zhou_code"`` (:func:`values_w1`, what the Zhou et al. code computes; the default for
    parity), ``"histogram"`` (:func:`histogram_w1` over ``support``) or ``"euclidean"`` (the Geometry
    Score's ``sum_i (a_i - b_i)^2``). ``chunk`` bounds the elements of one broadcast block.
    """
    distance = check(distance, "distance", Options(DISTANCES))
    x = _as_hists(a, "a")
    y = x if b is None else _as_hists(b, "b").to(x.device)
    if x.dim() != 2 or y.dim() != 2:
        raise ValueError(f"arguments 'a' and 'b' must have shape (num_histograms, bins), got {tuple(x.shape)} "
                         f"and {tuple(y.shape)}")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"arguments 'a' and 'b' must have the same number of bins, got {x.shape[1]} and {y.shape[1]}")
    m, bins = x.shape
    if distance == "zhou_code":
        x, y = torch.sort(x, -1).values, torch.sort(y, -1).values
    elif distance == "histogram":
        steps = _support_steps(support, bins, x.device)
        x, y = _cdf(x, "a")[:, :-1] * steps, _cdf(y, "b")[:, :-1] * steps  # steps >= 0: |dA| s = |A s - B s|
    out = torch.empty(m, y.shape[0], dtype=torch.float64, device=x.device)
    rows = max(1, chunk // max(1, y.shape[0] * bins))
    for s in range(0, m, rows):
        diff = x[s:s + rows, None, :] - y[None, :, :]
        if distance == "zhou_code":
            out[s:s + rows] = diff.abs().mean(-1)
        elif distance == "histogram":
            out[s:s + rows] = diff.abs().sum(-1)
        else:
            out[s:s + rows] = (diff * diff).sum(-1)
    return out
