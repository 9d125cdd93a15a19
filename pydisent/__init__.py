"""pydisent: fast learning and measuring of disentangled representations.

Layout: ``pydisent.ops`` (distance and PCA kernels), ``pydisent.topology`` (persistent homology),
``pydisent.data`` (ground-truth factor spaces and datasets), ``pydisent.metrics`` (every metric, as a
pure function on arrays plus ``evaluate`` for models and datasets), ``pydisent.cli``.
"""

__version__ = "0.1.0"

from pydisent import _C  # noqa: F401  (fail at import, not at the first kernel call)
from pydisent._dispatch import build_info
from pydisent._provenance import provenance

__all__ = ["build_info", "provenance", "__version__", "train"]


def __getattr__(name):
    # ``pydisent.train`` (callable: ``pydisent.train(objective, dataset, ...)``) is imported on first use,
    # so ``import pydisent`` does not load the models and the trainer.
    if name == "train":
        import importlib

        return importlib.import_module("pydisent.train")
    raise AttributeError(f"module 'pydisent' has no attribute {name!r}")
