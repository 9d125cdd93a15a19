"""pydisent.data.source: the metrics' view of a dataset."""

import torch

from pydisent.data import DSprites, XYSquares, as_source


def test_metric_source_view(rng):
    src = as_source(DSprites(source="procedural"))
    assert src.kind == "pydisent" and src.num_factors == 5
    f = src.sample_factors(7, rng)
    assert src.observations(f, rng).shape == (7, 1, 64, 64)


def test_source_does_not_pass_scratch_to_an_overridden_observations(rng):
    from pydisent.data.base import Scratch

    class Mine(XYSquares):
        def observations(self, factors):  # an older signature: no scratch
            return super().observations(factors) * 2

    src, s = as_source(Mine()), Scratch()
    f = src.sample_factors(3, rng)
    x = src.observations(f, rng, s)
    assert not s.holds(x) and torch.equal(x, XYSquares().observations(f) * 2)
