"""Persistent homology (Vietoris-Rips, witness complexes) of many point clouds."""

from pydisent.topology.diagrams import Diagrams
from pydisent.topology.rips import vietoris_rips
from pydisent.topology.witness import (
    PackedDiagrams,
    WitnessDiagrams,
    WitnessFiltration,
    draw_landmarks,
    landmark_rips_persistence,
    lazy_witness_persistence,
    witness_filtration,
    witness_persistence,
    witness_persistence_packed,
)

__all__ = [
    "Diagrams",
    "PackedDiagrams",
    "WitnessDiagrams",
    "WitnessFiltration",
    "draw_landmarks",
    "landmark_rips_persistence",
    "lazy_witness_persistence",
    "vietoris_rips",
    "witness_filtration",
    "witness_persistence",
    "witness_persistence_packed",
]
