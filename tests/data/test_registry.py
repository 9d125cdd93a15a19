"""pydisent.data.registry: names built from the dataset classes."""

import pytest

import pydisent.data as pdata
from pydisent.data import (
    DATASETS,
    GroundTruthDataset,
    XYObject,
    XYSquares,
    make_dataset,
)


def test_registry_built_from_classes():
    assert set(DATASETS) == {"xysquares", "xyobject", "xyobject_shaded", "dsprites", "shapes3d", "mpi3d", "cars3d",
                             "smallnorb"}
    for name, cls in DATASETS.items():
        assert issubclass(cls, GroundTruthDataset) and cls.name == name
    ds = make_dataset("XYSquares", grid_spacing=4, grid_size=8)
    assert isinstance(ds, XYSquares) and ds.grid_spacing == 4
    assert isinstance(make_dataset("xy-object"), XYObject)
    assert make_dataset("dsprites", source="procedural").source == "procedural"
    with pytest.raises(ValueError, match="unknown dataset 'mnist'.*xysquares"):
        make_dataset("mnist")
    with pytest.raises(TypeError, match="'name'"):
        make_dataset(3)
    with pytest.raises(TypeError):
        make_dataset("xysquares", no_such_argument=1)
    assert pdata.registry.ALIASES["mpi3d_toy"] == ("mpi3d", {"variant": "toy"})
