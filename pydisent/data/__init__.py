"""Ground-truth factor spaces and datasets.

``make_dataset(name, **kwargs)`` builds any registered dataset (``DATASETS`` lists them); the
procedural ones (XYSquares, XYObject, XYObjectShaded, dSprites) need no files, the public ones
(Shapes3D, MPI3D, Cars3D, SmallNORB, and dSprites' official file) read files from the data folder
(``PYDISENT_DATA``, default ``~/.cache/pydisent``).
"""

from pydisent.data.base import GroundTruthDataset, to_float_chw
from pydisent.data.dsprites import DSprites
from pydisent.data.factors import FactorSpace
from pydisent.data.files import MissingDataError, data_root
from pydisent.data.pinwheel import PinwheelDataset, make_pinwheel
from pydisent.data.procedural import ProceduralDataset, XYObject, XYObjectShaded, XYSquares
from pydisent.data.public import MPI3D, ArrayDataset, Cars3D, Shapes3D, SmallNORB
from pydisent.data.registry import DATASETS, dataset_names, make_dataset, register_dataset
from pydisent.data.source import GroundTruthSource, as_source
from pydisent.data.transforms import FloatCHW, dataset_stats

__all__ = [
    "FactorSpace", "GroundTruthDataset", "GroundTruthSource", "as_source", "to_float_chw",
    "DATASETS", "dataset_names", "make_dataset", "register_dataset", "MissingDataError", "data_root",
    "ProceduralDataset", "XYSquares", "XYObject", "XYObjectShaded", "DSprites",
    "ArrayDataset", "Shapes3D", "MPI3D", "Cars3D", "SmallNORB",
    "PinwheelDataset", "make_pinwheel", "FloatCHW", "dataset_stats",
]
