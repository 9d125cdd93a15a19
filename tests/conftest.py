import os
import secrets

import numpy as np
import pytest
import torch

from pydisent._dispatch import cuda_available

HAS_CUDA = cuda_available()

try:  # property tests (hypothesis, in the `test` extra): one profile for CI, one for hunting bugs
    from hypothesis import HealthCheck, settings

    # "ci" (default): derandomised (a fixed seed derived from each test), sized so that every property test
    # together takes well under 3 minutes on 2 cores; no example database, so runs never differ.
    settings.register_profile("ci", derandomize=True, max_examples=25, deadline=None, database=None,
                              print_blob=True, suppress_health_check=[HealthCheck.too_slow])
    # "thorough": fresh random seeds each run, many more examples (README, "Testing"):
    #   HYPOTHESIS_PROFILE=thorough python -m pytest -q tests -k properties
    settings.register_profile("thorough", derandomize=False, max_examples=400, deadline=None, print_blob=True,
                              suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
except ImportError:  # the property-test modules skip themselves with a message (importorskip)
    pass


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason="needs a CUDA GPU and a CUDA build of pydisent")
    for item in items:
        if "cuda" in item.keywords and not HAS_CUDA:
            item.add_marker(skip)


@pytest.fixture
def seed(request):
    """A fresh seed per test run (PYDISENT_TEST_SEED pins it); printed so a failure can be replayed."""
    s = int(os.environ.get("PYDISENT_TEST_SEED", secrets.randbits(32)))
    print(f"\n[seed] {request.node.nodeid}: PYDISENT_TEST_SEED={s}")
    return s


@pytest.fixture
def rng(seed):
    return np.random.default_rng(seed)


@pytest.fixture
def tgen(seed):
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def devices():
    return ["cpu"] + (["cuda"] if HAS_CUDA else [])
