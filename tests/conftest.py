import os
import secrets

import numpy as np
import pytest
import torch

from pydisent._dispatch import cuda_available

HAS_CUDA = cuda_available()


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
