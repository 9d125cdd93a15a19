"""SAP's ``LinearSVC(C, class_weight="balanced")`` on a single feature, solved for many problems at once.

scikit-learn's ``LinearSVC`` (liblinear, default squared hinge loss, L2 penalty, intercept as an extra
regularised feature of value 1) minimises, per binary problem,

    f(w, b) = (w^2 + b^2) / 2 + sum_i C_i max(0, 1 - y_i (w x_i + b))^2,

with liblinear's class weighting: for two classes, the positive class is ``classes_[1]`` and every point gets
``C * weight(class)``; for ``K >= 3`` classes (one-vs-rest), problem ``c`` gives the positives ``C *
weight(c)`` and the negatives plain ``C``. ``"balanced"`` weights are ``n / (K * n_class)``.

The objective is strictly convex and piecewise quadratic in two unknowns; a generalised Newton method with
Armijo backtracking reaches its unique minimiser in a handful of iterations, for every (code, class) problem
in one batch of torch operations. liblinear stops at a relative gradient tolerance of 1e-4, so the two
solutions differ by that tolerance and predictions can differ only for points within it of a boundary.
"""

from __future__ import annotations

import torch


class _SortedSums:
    """Range sums of ``1, x, x^2`` over the points of each code with ``x < t`` (and hence ``x >= t``), overall
    and per class, in O(log n) per query: every code's values sorted once; per class, points ordered by
    (class, rank of x); prefix sums of both orders.

    Batched over code rows ``(Z, n)``; queries are ``(Z, P)``. All rows are searched with one 1-D
    ``searchsorted``: rows are laid end to end with offsets (torch's batched search is slow on CPU). A point
    within round-off of a margin may land on either side; it contributes ~0 there (the loss is C^1)."""

    def __init__(self, x: torch.Tensor, labels: torch.Tensor, num_classes: int, presorted=None):
        Z, n = x.shape
        self.n, self.K = n, num_classes
        dev = x.device
        self.xs, order = presorted if presorted is not None else torch.sort(x, dim=1)
        pw = torch.stack([torch.ones_like(self.xs), self.xs, self.xs * self.xs])  # (3, Z, n)
        zero = torch.zeros(3, Z, 1, dtype=x.dtype, device=dev)
        self.cum_all = torch.cat([zero, torch.cumsum(pw, dim=2)], dim=2)  # (3, Z, n+1)
        cls = labels[order]  # (Z, n): class of each sorted position
        keys = cls * n + torch.arange(n, device=dev)[None, :]
        keys, perm = torch.sort(keys, dim=1)
        xc = torch.gather(self.xs, 1, perm)
        pwc = torch.stack([torch.ones_like(xc), xc, xc * xc])
        self.cum_cls = torch.cat([zero, torch.cumsum(pwc, dim=2)], dim=2)
        counts = torch.bincount(labels, minlength=num_classes)
        self.start = torch.cumsum(counts, 0) - counts  # (K,)
        self.end = torch.cumsum(counts, 0)
        rows = torch.arange(Z, device=dev)
        # Row r is searched as the values fl(x - m_r) + r * span (m_r its minimum): every row occupies its
        # own interval whatever the codes' offsets and magnitudes (a code above a later one once crossed into
        # its range, and a pad of 1 vanished below the ulp of codes near 1e38). The map is monotone and the
        # same for the points and the queries, so it can only merge values within round-off.
        self.m = self.xs[:, 0]
        width = self.xs[:, -1] - self.m
        pad = float(width.max()) + 1.0  # in the shifted domain, where values are O(width)
        self.lo = torch.full_like(self.m, -0.5 * pad)
        self.hi = width + 0.5 * pad
        span = float(width.max()) + 2.0 * pad
        self.x_off = rows.to(x.dtype) * span
        self.flat_x = ((self.xs - self.m[:, None]) + self.x_off[:, None]).reshape(-1)
        self.k_off = rows * (num_classes * n)
        self.flat_keys = (keys + self.k_off[:, None]).reshape(-1)
        self.row_n = rows * n

    @staticmethod
    def _take(cum, idx):  # cum (3, Z, n+1), idx (Z, P) -> (3, Z, P)
        return torch.gather(cum, 2, idx[None].expand(3, -1, -1))

    def below(self, t: torch.Tensor, cls: torch.Tensor):
        """Sums over x < t (all points, points of class ``cls``) and over x >= t, each (3, Z, P); ``cls`` (P,)
        is the class of each query column."""
        t0 = t - self.m[:, None]
        tc = torch.minimum(torch.maximum(t0, self.lo[:, None]), self.hi[:, None]) + self.x_off[:, None]
        q = torch.searchsorted(self.flat_x, tc.contiguous()) - self.row_n[:, None]  # number of x < t per row
        all_below = self._take(self.cum_all, q)
        all_above = self.cum_all[:, :, -1:] - all_below
        k = torch.searchsorted(self.flat_keys, (cls[None, :] * self.n + q + self.k_off[:, None]).contiguous())
        k = k - self.row_n[:, None]
        st = self._take(self.cum_cls, self.start[cls][None, :].expand_as(k))
        en = self._take(self.cum_cls, self.end[cls][None, :].expand_as(k))
        at = self._take(self.cum_cls, k)
        return all_below, at - st, all_above, en - at


def _side_sums(S: _SortedSums, thr, prefix, cls):
    """Sums over {x < thr} where ``prefix`` else {x >= thr}: (all, class) each (3, Z, P)."""
    ba, bc, aa, ac = S.below(thr, cls)
    m = prefix[None]
    return torch.where(m, ba, aa), torch.where(m, bc, ac)


def _terms(S, w, b, cls, cp, cn):
    """Objective, gradient and Hessian of f at (w, b) (each (Z, P)) from range sums."""
    inf = torch.full_like(w, float("inf"))
    pos_w = w > 0
    # positives (y=+1) active iff w x + b < 1; negatives (y=-1) active iff w x + b > -1
    tp = torch.where(w != 0, (1.0 - b) / w, torch.where(b < 1.0, inf, -inf))
    tn = torch.where(w != 0, (-1.0 - b) / w, torch.where(b > -1.0, inf, -inf))
    _, sp = _side_sums(S, tp, pos_w | (w == 0), cls)  # positives: class cls only
    na, nc = _side_sums(S, tn, (w < 0) | (w == 0), cls)
    sn = na - nc  # negatives: every point not of class cls
    out = []
    for s, y, c in ((sp, 1.0, cp), (sn, -1.0, cn)):
        s0, s1, s2 = s[0], s[1], s[2]
        loss = c * (w * w * s2 + 2 * w * b * s1 + b * b * s0 - 2 * y * (w * s1 + b * s0) + s0)
        gw = 2 * c * (w * s2 + b * s1 - y * s1)
        gb = 2 * c * (w * s1 + b * s0 - y * s0)
        out.append((loss, gw, gb, 2 * c * s2, 2 * c * s1, 2 * c * s0))
    (lp, gwp, gbp, h1p, h2p, h3p), (ln, gwn, gbn, h1n, h2n, h3n) = out
    f = 0.5 * (w * w + b * b) + lp + ln
    return f, w + gwp + gwn, b + gbp + gbn, 1.0 + h1p + h1n, h2p + h2n, 1.0 + h3p + h3n


def _solve_sorted(S, cls, cp, cn, max_iter=100, rtol=1e-9):
    """Newton minimisation of f for every (code row, problem column). A problem stops when its gradient
    norm is below ``rtol`` times the initial one (liblinear: 1e-4), or when the line search can only take
    steps below 1e-6 (the objective is flat to round-off: range sums carry ~1e-10 relative noise)."""
    Z, P = S.xs.shape[0], cls.numel()
    w = torch.zeros(Z, P, dtype=torch.float64, device=S.xs.device)
    b = torch.zeros_like(w)
    done = torch.zeros_like(w, dtype=torch.bool)
    g0 = None
    for _ in range(max_iter):
        f0, gw, gb, hww, hwb, hbb = _terms(S, w, b, cls, cp, cn)
        gnorm = torch.sqrt(gw * gw + gb * gb)
        g0 = gnorm if g0 is None else g0
        done = done | (gnorm <= rtol * g0)
        if bool(done.all()):
            break
        det = hww * hbb - hwb * hwb
        keep = (~done).to(torch.float64)
        dw = -(hbb * gw - hwb * gb) / det * keep
        db = -(hww * gb - hwb * gw) / det * keep
        slope = gw * dw + gb * db
        t = torch.ones_like(w)
        todo = ~done
        for _ in range(50):
            f1 = _terms(S, w + t * dw, b + t * db, cls, cp, cn)[0]
            todo = todo & ~(f1 <= f0 + 1e-4 * t * slope)
            if not bool(todo.any()):
                break
            t = torch.where(todo, t * 0.5, t)
        stalled = todo | (t < 1e-6)
        w = w + torch.where(todo, 0.0, t) * dw
        b = b + torch.where(todo, 0.0, t) * db
        done = done | stalled  # no real decrease possible any more: converged to round-off
    return w, b


def linear_svc_accuracy(x: torch.Tensor, y: torch.Tensor, xt: torch.Tensor, yt: torch.Tensor, *,
                        C: float = 0.01) -> torch.Tensor:
    """Test accuracy ``(Z, F)`` of ``LinearSVC(C, class_weight="balanced")`` fit on each single code column of
    ``x`` (n, Z) for each factor of ``y`` (n, F), evaluated on ``xt``/``yt``."""
    Z, F = x.shape[1], y.shape[1]
    n = x.shape[0]
    dev = x.device
    xr = x.t().to(torch.float64).contiguous()
    xtr = xt.t().to(torch.float64)
    out = torch.zeros(Z, F, dtype=torch.float64, device=dev)
    presorted = torch.sort(xr, dim=1)  # shared by every factor
    for j in range(F):
        classes, dense = torch.unique(y[:, j], return_inverse=True)
        K = classes.numel()
        if K < 2:
            raise ValueError(f"argument 'factors': factor {j} takes a single value in the training points; the "
                             f"classifier needs >= 2 classes")
        counts = torch.bincount(dense, minlength=K).to(torch.float64)
        weight = n / (K * counts)
        S = _SortedSums(xr, dense, K, presorted)
        if K == 2:  # positives = classes_[1]; both classes weighted
            cls = torch.ones(1, dtype=torch.int64, device=dev)
            cp, cn = C * weight[1], C * weight[0]
        else:  # one-vs-rest: positives weighted, negatives plain C
            cls = torch.arange(K, device=dev)
            cp, cn = (C * weight)[None, :], C
        w, b = _solve_sorted(S, cls, cp, cn)
        if K == 2:
            pred = ((w[:, :1] * xtr + b[:, :1]) > 0).to(torch.int64)
        else:  # one-vs-rest: the class with the largest decision value (first on ties), kept as a running max
            best = w[:, :1] * xtr + b[:, :1]
            pred = torch.zeros_like(xtr, dtype=torch.int64)
            for c in range(1, K):
                sc = w[:, c : c + 1] * xtr + b[:, c : c + 1]
                better = sc > best
                best = torch.where(better, sc, best)
                pred = torch.where(better, c, pred)
        out[:, j] = (classes[pred] == yt[:, j][None, :]).to(torch.float64).mean(dim=1)
    return out
