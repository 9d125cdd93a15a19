"""Divergences between the aggregate posterior and the prior (Mathieu, Rainforth, Siddharth & Teh, ICML 2019,
"Disentangling Disentanglement in VAEs"): the inclusive KL minibatch estimate and the per-dimension MMD."""

from __future__ import annotations

import math

import torch

from pydisent._rng import as_rng, torch_seed
from pydisent.metrics._arrays import as_codes, check_positive_int
from pydisent.metrics._registry import register
from pydisent.metrics._sampling import sample_codes_factors

MMD_SCALES = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
DIVERGENCES = ("kld_inc", "mmd_dim")


def _imq_mmd_dim(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-dimension IMQ MMD^2 summed over dims and scales, for batches ``x``, ``y`` (M, B, D) -> (M,).
    Within-sample terms are U-statistics (diagonal excluded), the cross term a V-statistic."""
    B = x.shape[1]
    xt, yt = x.transpose(1, 2), y.transpose(1, 2)  # (M, D, B)
    dxx = (xt[..., :, None] - xt[..., None, :]) ** 2
    dyy = (yt[..., :, None] - yt[..., None, :]) ** 2
    dxy = (xt[..., :, None] - yt[..., None, :]) ** 2
    eye = torch.eye(B, dtype=torch.bool, device=x.device)
    total = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
    for s in MMD_SCALES:
        c = 2.0 * s
        kxx = (c / (c + dxx)).masked_fill(eye, 0.0).sum(dim=(-1, -2))
        kyy = (c / (c + dyy)).masked_fill(eye, 0.0).sum(dim=(-1, -2))
        kxy = (c / (c + dxy)).sum(dim=(-1, -2))
        total = total + ((kxx + kyy) / (B * (B - 1)) - 2.0 * kxy / (B * B)).sum(dim=1)
    return total


def _prior_log_prob(prior, z: torch.Tensor) -> torch.Tensor:
    if prior is None:
        return (-0.5 * z * z - 0.5 * math.log(2 * math.pi)).sum(dim=-1)
    lp = prior.log_prob(z)
    return lp.sum(dim=-1) if lp.shape == z.shape else lp


def _prior_sample(prior, shape, gen: torch.Generator, device, dtype) -> torch.Tensor:
    if prior is None:
        return torch.randn(shape, generator=gen, dtype=dtype, device="cpu").to(device)
    # torch.distributions cannot take a generator: sample under a forked, locally seeded global RNG, so the
    # caller's RNG state is left untouched and the draw is reproducible.
    seed = int(torch.randint(0, 2**62, (1,), generator=gen))
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        z = prior.sample(shape[:-1])
    if z.shape != torch.Size(shape):
        raise ValueError(f"argument 'prior' samples have shape {tuple(z.shape)}, expected {tuple(shape)}")
    return z.to(device=device, dtype=dtype)


def prior_divergence(mu, logvar, *, batch_size: int = 64, prior=None, rng=0,
                     divergences=DIVERGENCES) -> dict:
    """Aggregate-posterior-to-prior divergences of Mathieu et al. 2019, averaged over minibatches.

    The points are split into consecutive minibatches of ``batch_size`` (a last partial batch is dropped);
    per minibatch of posteriors ``q(z|x_j) = N(mu_j, exp(logvar_j))``:

    * ``kld_inc``: inclusive KL(p(z) || q(z)) minibatch estimate: draw ``B`` samples ``z'_i ~ p``;
      ``log q(z'_i) ~= logsumexp_j log q(z'_i | x_j) - log B``; ``D = mean_i [log p(z'_i) - log q(z'_i)]``
      (~0 when the aggregate posterior is the prior; no data-set-size correction).
    * ``mmd_dim``: one sample ``z_j ~ q(z|x_j)`` per point and ``B`` prior samples; per latent dimension a 1-D
      MMD^2 with the inverse multiquadric kernel ``k(u, v) = C / (C + (u - v)^2)``, ``C = 2 s`` summed over
      ``s in (0.1, 0.2, 0.5, 1, 2, 5)`` (U-statistics within, V-statistic across), summed over dimensions.
      It matches marginals only; with the posterior equal to the prior it is slightly negative (>= -12 D / B).

    Args:
        mu, logvar: ``(n, D)`` posterior means and log-variances (``n >= batch_size``).
        batch_size: minibatch size ``B`` (reference training batch: 64).
        prior: ``None`` for ``N(0, I)``, or a ``torch.distributions`` distribution over ``D``-vectors
            (``log_prob`` per dimension or per vector); its samples are drawn under a locally seeded RNG.
        rng: seed / numpy generator for the prior and posterior samples.
        divergences: which of ``("kld_inc", "mmd_dim")`` to compute.

    Returns:
        ``{"kld_inc": float, "mmd_dim": float}`` (those requested).

    Reference: Mathieu et al., ICML 2019, Sec. 4 (code ``objectives.decomp_objective``, regularisers
    ``kld_inc`` and ``mmd_dim``).
    """
    batch_size = check_positive_int(batch_size, "batch_size", 2)
    divs = (divergences,) if isinstance(divergences, str) else tuple(divergences)
    bad = [d for d in divs if d not in DIVERGENCES]
    if bad or not divs:
        raise ValueError(f"argument 'divergences' must name some of {DIVERGENCES}, got {divergences!r}")
    m = as_codes(mu, "mu").to(torch.float64)
    lv = as_codes(logvar, "logvar").to(device=m.device, dtype=torch.float64)
    if lv.shape != m.shape:
        raise ValueError(f"arguments 'mu' and 'logvar' must have the same shape: {tuple(m.shape)} != {tuple(lv.shape)}")
    n, D = m.shape
    M = n // batch_size
    if M < 1:
        raise ValueError(f"argument 'mu' has {n} points, fewer than one minibatch of batch_size={batch_size}")
    m = m[: M * batch_size].view(M, batch_size, D)
    lv = lv[: M * batch_size].view(M, batch_size, D)
    std = torch.exp(0.5 * lv)
    gen = torch.Generator().manual_seed(int(rng) if isinstance(rng, int) else torch_seed(as_rng(rng)))
    # Pairwise (B x B x D) work per minibatch; process minibatches in chunks of bounded memory.
    per = max(1, (1 << 22) // (batch_size * batch_size * D))
    out = {}
    if "kld_inc" in divs:
        zp = _prior_sample(prior, (M, batch_size, D), gen, m.device, m.dtype)
        vals = []
        for i in range(0, M, per):
            zc, mc, sc, lc = zp[i : i + per], m[i : i + per], std[i : i + per], lv[i : i + per]
            # log q(z'_i | x_j) for all pairs of a minibatch: (m, B_i, B_j)
            diff = (zc[:, :, None, :] - mc[:, None, :, :]) / sc[:, None, :, :]
            logq_ij = (-0.5 * diff * diff - 0.5 * lc[:, None, :, :] - 0.5 * math.log(2 * math.pi)).sum(dim=-1)
            logq = torch.logsumexp(logq_ij, dim=2) - math.log(batch_size)
            vals.append((_prior_log_prob(prior, zc) - logq).mean(dim=1))
        out["kld_inc"] = float(torch.cat(vals).mean())
    if "mmd_dim" in divs:
        eps = torch.randn((M, batch_size, D), generator=gen, dtype=m.dtype).to(m.device)
        zq = m + std * eps
        zp = _prior_sample(prior, (M, batch_size, D), gen, m.device, m.dtype)
        vals = [_imq_mmd_dim(zq[i : i + per], zp[i : i + per]) for i in range(0, M, per)]
        out["mmd_dim"] = float(torch.cat(vals).mean())
    return out


@register("prior_divergence", prior_divergence, headline=('kld_inc', 'mmd_dim'), needs="posterior")
def evaluate_prior_divergence(source, encoder, rng, *, num_points: int = 10000, batch_size: int = 64, prior=None,
                              divergences=DIVERGENCES, fast: bool = False) -> dict:
    """Aggregate-posterior-to-prior divergences on ``num_points`` random observations, in minibatches of
    ``batch_size``. The representation function must return ``(mu, logvar)``."""
    num_points = check_positive_int(num_points, "num_points", 2)
    batch_size = check_positive_int(batch_size, "batch_size", 2)
    (mu, logvar, *_), _ = sample_codes_factors(source, encoder, num_points, rng, batch_size, posterior=True)
    return prior_divergence(mu, logvar, batch_size=batch_size, prior=prior, rng=rng, divergences=divergences)
