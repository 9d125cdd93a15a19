"""factored_components: the union of ground_truth_correlation and linearity keys."""

from pydisent.metrics import METRICS
from pydisent.metrics._ground_truth_correlation import distance_keys
from pydisent.metrics._linearity import KEYS as LIN_KEYS
from tests.metrics._embeddings import axis_embedding, run


def test_registered_names_and_key_sets():
    for name in ("flatness", "ground_truth_correlation", "linearity", "factored_components"):
        assert name in METRICS and METRICS[name].array_fn is not None
    r = run("factored_components", axis_embedding([1.0, 2.0, 1.0, 1.0]), repeats=8)
    assert set(r) == set(distance_keys("factor") + distance_keys("global") + list(LIN_KEYS))
    assert len(r) == 34
