"""Normalised sparsity of the posterior means (Mathieu, Rainforth, Siddharth & Teh, ICML 2019,
"Disentangling Disentanglement in VAEs")."""

from __future__ import annotations

import math

import torch

from pydisent.metrics._arrays import as_codes, check_positive_int
from pydisent.metrics._registry import register
from pydisent.metrics._sampling import sample_codes_factors
from pydisent.metrics._scaling import column_guard_torch


def hoyer(x: torch.Tensor) -> torch.Tensor:
    """Hoyer sparsity of every row of ``x`` (n, D): ``(sqrt(D) - |x|_1 / |x|_2) / (sqrt(D) - 1)`` in [0, 1]."""
    d = x.shape[1]
    l1 = x.abs().sum(dim=1)
    l2 = torch.linalg.vector_norm(x, dim=1)
    return (math.sqrt(d) - l1 / l2) / (math.sqrt(d) - 1.0)


def sparsity(mu, *, normalise: bool = True) -> dict:
    """Normalised sparsity (Mathieu et al. 2019): mean Hoyer measure of the std-normalised posterior means.

    Each latent dimension is divided by its standard deviation over the data (unbiased, as ``torch.std``;
    the data are *not* centred first), then ``H(z) = (sqrt(D) - |z|_1/|z|_2) / (sqrt(D) - 1)`` per point
    (1 for a one-hot row, 0 for a constant row) and the mean over points is reported. ``normalise=False``
    skips the division (raw Hoyer sparsity).

    Args:
        mu: ``(n, D)`` posterior means, ``D >= 2``, ``n >= 2``.

    Returns:
        ``{"normalised_sparsity": float}`` (key ``"sparsity"`` when ``normalise=False``).

    Raises:
        ValueError: a dimension with zero std (normalisation divides by 0), a row that is all zero (Hoyer
        0/0), NaN input.

    Reference: Mathieu et al., ICML 2019, Sec. 5 (code ``compute_sparsity(zs, norm=True)``, Fashion-MNIST
    experiments on the test set).
    """
    z = as_codes(mu, "mu", min_dims=2, min_points=2).to(torch.float64)
    # The std normalisation is scale-free per dimension and the Hoyer measure per row: extreme magnitudes
    # are moved by powers of two (exact) before squares in the std and the norms can overflow or underflow.
    if normalise:
        z = column_guard_torch(z)
        std = z.std(dim=0, unbiased=True)
        if bool((std == 0).any()):
            d = int(torch.nonzero(std == 0)[0])
            raise ValueError(f"argument 'mu': latent dimension {d} is constant (std 0); normalised sparsity "
                             f"divides by it")
        z = z / std
    z = column_guard_torch(z.t()).t()
    zero = torch.linalg.vector_norm(z, dim=1) == 0
    if bool(zero.any()):
        raise ValueError(f"argument 'mu': row {int(torch.nonzero(zero)[0])} is all zero; its Hoyer measure is 0/0")
    return {"normalised_sparsity" if normalise else "sparsity": float(hoyer(z).mean())}


@register("sparsity", sparsity, headline=('normalised_sparsity',))
def evaluate_sparsity(source, encoder, rng, *, num_points: int = 10000, batch_size: int = 16, normalise: bool = True,
                      fast: bool = False) -> dict:
    """Normalised sparsity of the posterior means of ``num_points`` random observations (the representation
    function's output, or the first element of a ``(mu, logvar)`` tuple)."""
    num_points = check_positive_int(num_points, "num_points", 2)
    c, _ = sample_codes_factors(source, encoder, num_points, rng, check_positive_int(batch_size, "batch_size"))
    return sparsity(c, normalise=normalise)
