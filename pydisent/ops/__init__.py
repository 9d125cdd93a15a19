"""The compiled kernels' Python faces, one module per csrc/ family: pairwise distances (distance),
paired row distances (paired), batched PCA (pca), ranking (rank) and boosted-tree replay (trees)."""

from pydisent.ops.distance import DISTANCE_METRICS, DISTANCE_MODES, cdist, pairwise_distance  # noqa: E402,F401
from pydisent.ops.paired import PAIR_METRICS, paired_distance, paired_image_mse  # noqa: E402,F401
from pydisent.ops.pca import batched_pca  # noqa: E402,F401
from pydisent.ops.rank import pearson, rankdata, spearman  # noqa: E402,F401
from pydisent.ops.trees import gbt_replay  # noqa: E402,F401
