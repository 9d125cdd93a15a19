"""pydisent.models.baselines: the PCA and random-projection baselines."""

import torch

from pydisent.data import make_dataset
from pydisent.models import make_baseline


def test_pca_baseline_is_seeded_and_whitened():
    ds = make_dataset("xyobject")
    a, b = make_baseline("pca", ds, 6, rng=3), make_baseline("pca", ds, 6, rng=3)
    torch.testing.assert_close(a.components, b.components)
    x = ds.observations(ds.factor_space.sample_factors(3000, 11))
    std = a(x).std(0)
    assert torch.all((std > 0.8) & (std < 1.2)), std
