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


def _objective(w, b, x, ypm, cw):
    slack = (1.0 - ypm * (w[:, None] * x + b[:, None])).clamp_min(0.0)
    return 0.5 * (w * w + b * b) + (cw * slack * slack).sum(dim=1)


def solve_squared_hinge(x: torch.Tensor, ypm: torch.Tensor, cw: torch.Tensor, *, max_iter: int = 100,
                        rtol: float = 1e-10) -> tuple[torch.Tensor, torch.Tensor]:
    """Minimisers ``(w, b)`` (P,) of ``f`` for ``P`` problems: ``x`` (P, n) or (1, n) features, ``ypm`` (P, n)
    labels in {-1, +1}, ``cw`` (P, n) per-point costs ``C_i``. A problem stops when its gradient norm falls
    below ``rtol`` times its initial one (float64 round-off sits near 1e-11 relative)."""
    x = x.to(torch.float64)
    P = ypm.shape[0]
    w = torch.zeros(P, dtype=torch.float64, device=ypm.device)
    b = torch.zeros_like(w)
    g0 = None
    done = torch.zeros(P, dtype=torch.bool, device=ypm.device)
    for _ in range(max_iter):
        pred = w[:, None] * x + b[:, None]
        act = (ypm * pred < 1.0).to(torch.float64) * cw  # C_i on the active set
        r = pred - ypm  # (1 - y p)^2 = (p - y)^2 when y = +-1
        gw = w + 2.0 * (act * r * x).sum(dim=1)
        gb = b + 2.0 * (act * r).sum(dim=1)
        gnorm = torch.sqrt(gw * gw + gb * gb)
        if g0 is None:
            g0 = gnorm
        done = done | (gnorm <= rtol * g0)
        if bool(done.all()):
            break
        hww = 1.0 + 2.0 * (act * x * x).sum(dim=1)
        hwb = 2.0 * (act * x).sum(dim=1)
        hbb = 1.0 + 2.0 * act.sum(dim=1)
        det = hww * hbb - hwb * hwb
        keep = (~done).to(torch.float64)
        dw = -(hbb * gw - hwb * gb) / det * keep
        db = -(hww * gb - hwb * gw) / det * keep
        f0 = _objective(w, b, x, ypm, cw)
        slope = gw * dw + gb * db
        t = torch.ones_like(w)
        todo = ~done
        for _ in range(50):
            f1 = _objective(w + t * dw, b + t * db, x, ypm, cw)
            todo = todo & ~(f1 <= f0 + 1e-4 * t * slope)
            if not bool(todo.any()):
                break
            t = torch.where(todo, t * 0.5, t)
        # A step that cannot decrease f any further (round-off level) means the problem has converged.
        stalled = todo
        w = w + torch.where(stalled, 0.0, t) * dw
        b = b + torch.where(stalled, 0.0, t) * db
        done = done | stalled
    return w, b


def linear_svc_accuracy(x: torch.Tensor, y: torch.Tensor, xt: torch.Tensor, yt: torch.Tensor, *,
                        C: float = 0.01) -> torch.Tensor:
    """Test accuracy ``(Z, F)`` of ``LinearSVC(C, class_weight="balanced")`` fit on each single code column of
    ``x`` (n, Z) for each factor of ``y`` (n, F) (dense labels not required), evaluated on ``xt``/``yt``."""
    Z = x.shape[1]
    F = y.shape[1]
    out = torch.zeros(Z, F, dtype=torch.float64, device=x.device)
    n = x.shape[0]
    for j in range(F):
        classes, dense = torch.unique(y[:, j], return_inverse=True)
        K = classes.numel()
        if K < 2:
            raise ValueError(f"argument 'factors': factor {j} takes a single value in the training points; the "
                             f"classifier needs >= 2 classes")
        counts = torch.bincount(dense, minlength=K).to(torch.float64)
        weight = n / (K * counts)
        if K == 2:
            pos = (dense == 1)
            ypm = torch.where(pos, 1.0, -1.0).to(torch.float64)[None, :]
            cw = (C * weight[dense])[None, :]
        else:
            pos = dense[None, :] == torch.arange(K, device=x.device)[:, None]  # (K, n)
            ypm = torch.where(pos, 1.0, -1.0).to(torch.float64)
            cw = torch.where(pos, C * weight[:, None], torch.full_like(ypm, C))
        nprob = ypm.shape[0]
        # every code column against every one-vs-rest problem in one batch: (Z * nprob, n)
        xs = x.t().to(torch.float64)[:, None, :].expand(Z, nprob, n).reshape(Z * nprob, n)
        w, b = solve_squared_hinge(xs, ypm.repeat(Z, 1), cw.repeat(Z, 1))
        w, b = w.view(Z, nprob), b.view(Z, nprob)
        scores = w[:, :, None] * xt.t().to(torch.float64)[:, None, :] + b[:, :, None]  # (Z, nprob, nt)
        pred = (scores[:, 0] > 0).to(torch.int64) if nprob == 1 else scores.argmax(dim=1)  # (Z, nt)
        out[:, j] = (classes[pred] == yt[:, j][None, :]).to(torch.float64).mean(dim=1)
    return out
