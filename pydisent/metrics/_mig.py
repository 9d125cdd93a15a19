"""Mutual Information Gap (Chen et al. 2018), as disentanglement_lib computes it."""

from __future__ import annotations

import torch

from pydisent.metrics._arrays import check_positive_int, codes_and_factors
from pydisent.metrics._discretize import histogram_discretize
from pydisent.metrics._mi import discrete_entropy, discrete_mutual_info
from pydisent.metrics._registry import register
from pydisent.metrics._sampling import sample_codes_factors


def mig(codes, factors, *, num_bins: int = 20) -> dict:
    """Mutual Information Gap.

    ``MIG = mean_k (I(z_a; y_k) - I(z_b; y_k)) / H(y_k)`` where ``z_a``, ``z_b`` are the codes with the
    largest and second largest mutual information with factor ``k``. Codes are discretised with the
    20-bin equal-width histogram discretiser (bins over each code's own min..max in this sample,
    ``np.digitize`` labels); factors are used as they are; MI and entropy are plug-in estimates in nats
    (``sklearn.metrics.mutual_info_score``). Plug-in bias makes a perfect code score slightly below 1.

    Args:
        codes: ``(n, Z)`` representation, ``Z >= 2`` (numpy or torch; on the GPU the histograms run there).
        factors: ``(n, F)`` integer factor positions.
        num_bins: histogram bins per code (disentanglement_lib gin default 20).

    Returns:
        ``{"discrete_mig": float}``.

    Raises:
        ValueError: a factor takes a single value in the sample (``H(y_k) = 0``: the reference divides by
        zero), fewer than 2 code dimensions, NaN codes, mismatched lengths.

    Reference: Chen, Li, Grosse, Duvenaud, "Isolating Sources of Disentanglement in VAEs", NeurIPS 2018;
    disentanglement_lib ``evaluation/metrics/mig.py`` (defaults ``num_train=10000``, ``batch_size=16``).
    """
    num_bins = check_positive_int(num_bins, "num_bins")
    c, f = codes_and_factors(codes, factors, min_dims=2)
    m = discrete_mutual_info(histogram_discretize(c, num_bins), f)
    h = discrete_entropy(f)
    if bool((h <= 0).any()):
        k = int(torch.nonzero(h <= 0)[0])
        raise ValueError(f"argument 'factors': factor {k} takes a single value in these {f.shape[0]} points, so "
                         f"its entropy is 0 and MIG (which divides by it) is undefined")
    top = torch.topk(m, 2, dim=0).values
    return {"discrete_mig": float(((top[0] - top[1]) / h).mean())}


@register("mig", mig, headline=('discrete_mig',))
def evaluate_mig(source, encoder, rng, *, num_train: int = 10000, batch_size: int = 16, num_bins: int = 20,
                 fast: bool = False) -> dict:
    """MIG on ``num_train`` random points (disentanglement_lib defaults: 10000, batch 16, 20 bins)."""
    num_train = check_positive_int(num_train, "num_train", 2)
    codes, factors = sample_codes_factors(source, encoder, num_train, rng, check_positive_int(batch_size, "batch_size"))
    return mig(codes, factors, num_bins=num_bins)
