"""Persistent homology (Vietoris-Rips, witness complexes) of many point clouds."""

from pydisent.topology.diagrams import Diagrams
from pydisent.topology.rips import vietoris_rips

__all__ = ["Diagrams", "vietoris_rips"]
