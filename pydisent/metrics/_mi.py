"""Plug-in mutual information between discrete label columns, vectorised in torch.

``discrete_mutual_info(a, b)[i, j]`` equals ``sklearn.metrics.mutual_info_score(b[:, j], a[:, i])``
(natural log, empirical joint distribution, 0 when either column takes a single value, clipped at 0),
which is what disentanglement_lib's ``utils.discrete_mutual_info`` computes with a double Python loop.
Here all joint histograms of a block of column pairs come from one ``torch.bincount`` (on the GPU when the
labels are there), then ``MI = sum_xy c_xy / n * log(n c_xy / (c_x c_y))``.
"""

from __future__ import annotations

import math

import torch

# Largest index tensor built at once (elements): bounds the memory of one bincount.
_CHUNK_ELEMS = 1 << 23
# Largest joint table of one pair handled densely; bigger pairs (labels with thousands of values on both
# sides) fall back to a sparse per-pair count.
_DENSE_CELLS = 1 << 22


def dense_labels(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Relabel every column of integer ``labels`` (n, d) to ``0..k_j-1`` (order kept); returns the dense
    labels and the number of distinct values ``k`` (d,) of each column."""
    if labels.dim() != 2:
        raise ValueError(f"labels must be 2-D, got shape {tuple(labels.shape)}")
    x = labels.to(torch.int64)
    n, d = x.shape
    dev = x.device
    if n == 0:
        return x.clone(), torch.zeros(d, dtype=torch.int64, device=dev)
    lo = x.amin(dim=0)
    # Spans in Python integers: hi - lo in int64 wraps for labels such as +-2**62 (ids, hashes), and a
    # wrapped span once sent them into the presence table with negative positions.
    max_span = max(int(h) - int(l) + 1 for h, l in zip(x.amax(dim=0).tolist(), lo.tolist()))
    cols = torch.arange(d, device=dev)
    if max_span <= max(1 << 16, 4 * n):  # then every x - lo below is exact
        x0 = x - lo
        # Presence table: the rank of each present value within its column.
        present = torch.zeros(d, max_span, dtype=torch.bool, device=dev)
        present[cols[None, :].expand(n, d), x0] = True
        rank = torch.cumsum(present, dim=1) - 1
        dense = rank[cols[None, :].expand(n, d), x0]
        return dense, present.sum(dim=1)
    dense = torch.empty_like(x)
    card = torch.empty(d, dtype=torch.int64, device=dev)
    for j in range(d):  # labels far apart: sorted distinct values, no arithmetic on the labels
        u, inv = torch.unique(x[:, j], return_inverse=True)
        dense[:, j] = inv
        card[j] = u.numel()
    return dense, card


def _mi_from_counts(counts: torch.Tensor, n: int) -> torch.Tensor:
    """MI (nats) of joint count tables ``counts`` (..., Ka, Kb) of ``n`` points each."""
    c = counts.to(torch.float64)
    pa = c.sum(dim=-1, keepdim=True).clamp_min(1.0)
    pb = c.sum(dim=-2, keepdim=True).clamp_min(1.0)
    # c * log(n c / (pa pb)); zero cells contribute 0 (log(max(c, 1)) = 0 keeps the product finite).
    term = c * (torch.log(c.clamp_min(1.0)) - torch.log(pa) - torch.log(pb) + math.log(n))
    return (term.sum(dim=(-1, -2)) / n).clamp_min(0.0)


def discrete_mutual_info(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mutual information matrix ``(A, B)`` float64 between the columns of integer labels ``a`` (n, A) and
    ``b`` (n, B). Equal to ``mutual_info_score(b[:, j], a[:, i])`` (sklearn) for every pair."""
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"label arrays must have the same number of rows: {a.shape[0]} != {b.shape[0]}")
    n = a.shape[0]
    A, B = a.shape[1], b.shape[1]
    out = torch.zeros(A, B, dtype=torch.float64, device=a.device)
    if n == 0 or A == 0 or B == 0:
        return out
    ad, ka = dense_labels(a)
    bd, kb = dense_labels(b.to(a.device))
    Ka, Kb = int(ka.max()), int(kb.max())
    cells = Ka * Kb
    if cells > _DENSE_CELLS:
        for i in range(A):
            for j in range(B):
                out[i, j] = _mi_sparse(ad[:, i], bd[:, j], int(kb[j]), n)
    else:
        rows = max(1, min(A, _CHUNK_ELEMS // max(1, n * B), _CHUNK_ELEMS // max(1, B * cells)))
        pair_base = torch.arange(B, device=a.device)[None, :] * cells  # (1, B)
        bpart = bd[:, None, :]  # (n, 1, B)
        for i0 in range(0, A, rows):
            i1 = min(A, i0 + rows)
            r = i1 - i0
            base = (torch.arange(r, device=a.device)[:, None] * (B * cells) + pair_base)[None]  # (1, r, B)
            idx = base + ad[:, i0:i1, None] * Kb + bpart  # (n, r, B)
            counts = torch.bincount(idx.reshape(-1), minlength=r * B * cells).view(r, B, Ka, Kb)
            out[i0:i1] = _mi_from_counts(counts, n)
    single = (ka[:, None] <= 1) | (kb[None, :] <= 1)
    return out.masked_fill(single, 0.0)


def _mi_sparse(x: torch.Tensor, y: torch.Tensor, ky: int, n: int) -> torch.Tensor:
    key = x * ky + y
    uk, joint = torch.unique(key, return_counts=True)
    cx = torch.bincount(x)[uk // ky].to(torch.float64)
    cy = torch.bincount(y)[uk % ky].to(torch.float64)
    c = joint.to(torch.float64)
    mi = (c * (torch.log(c) - torch.log(cx) - torch.log(cy) + math.log(n))).sum() / n
    return mi.clamp_min(0.0)


def discrete_entropy(labels: torch.Tensor) -> torch.Tensor:
    """Plug-in entropy (nats) of every column of integer ``labels`` (n, d): ``mutual_info_score(y, y)``."""
    n, d = labels.shape
    if n == 0:
        return torch.zeros(d, dtype=torch.float64, device=labels.device)
    dl, k = dense_labels(labels)
    K = int(k.max())
    idx = dl + torch.arange(d, device=labels.device)[None, :] * K
    c = torch.bincount(idx.reshape(-1), minlength=d * K).view(d, K).to(torch.float64)
    h = math.log(n) - (c * torch.log(c.clamp_min(1.0))).sum(dim=1) / n
    return h.clamp_min(0.0).masked_fill(k <= 1, 0.0)
