"""pydisent: fast learning and measuring of disentangled representations.

Layout: ``pydisent.ops`` (distance and PCA kernels), ``pydisent.topology`` (persistent homology),
``pydisent.data`` (ground-truth factor spaces and datasets), ``pydisent.metrics`` (every metric, as a
pure function on arrays plus ``evaluate`` for models and datasets), ``pydisent.cli``.
"""

__version__ = "0.1.0"

from pydisent import _C  # noqa: F401  (fail at import, not at the first kernel call)
from pydisent._dispatch import build_info
from pydisent._provenance import provenance

__all__ = ["build_info", "provenance", "__version__"]
