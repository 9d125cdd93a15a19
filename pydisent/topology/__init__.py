"""Persistent homology (Vietoris-Rips, witness complexes) of many point clouds, relative living times of
their H1 bars and optimal transport between the resulting histograms."""

from pydisent.topology.diagrams import Diagrams
from pydisent.topology.filtration import filtration_persistence
from pydisent.topology.rips import vietoris_rips
from pydisent.topology.rlt import (
    mean_rlt,
    relative_living_times,
    rlt_from_flat,
    witness_rlts,
    witness_rlts_clouds,
)
from pydisent.topology.transport import (
    bin_cost,
    distance_matrix,
    entropic_barycenter,
    histogram_w1,
    values_w1,
)
from pydisent.topology.witness import (
    PackedDiagrams,
    WitnessDiagrams,
    WitnessFiltration,
    draw_landmarks,
    landmark_rips_persistence,
    lazy_witness_persistence,
    witness_filtration,
    witness_persistence,
    witness_persistence_clouds,
    witness_persistence_packed,
)

__all__ = [
    "Diagrams",
    "PackedDiagrams",
    "WitnessDiagrams",
    "WitnessFiltration",
    "bin_cost",
    "distance_matrix",
    "draw_landmarks",
    "entropic_barycenter",
    "histogram_w1",
    "landmark_rips_persistence",
    "filtration_persistence",
    "lazy_witness_persistence",
    "mean_rlt",
    "relative_living_times",
    "rlt_from_flat",
    "values_w1",
    "vietoris_rips",
    "witness_filtration",
    "witness_persistence",
    "witness_persistence_clouds",
    "witness_persistence_packed",
    "witness_rlts",
    "witness_rlts_clouds",
]
