"""Kernels with a Python face: pairwise distances and batched PCA."""

from pydisent.ops.distance import DISTANCE_METRICS, DISTANCE_MODES, cdist, pairwise_distance  # noqa: E402,F401
from pydisent.ops.paired import PAIR_METRICS, paired_distance, paired_image_mse  # noqa: E402,F401
from pydisent.ops.pca import batched_pca  # noqa: E402,F401
from pydisent.ops.rank import pearson, rankdata, spearman  # noqa: E402,F401
