"""Persistent homology (Vietoris-Rips, witness complexes) of many point clouds."""
