"""Specs of registered model parts (likelihoods, priors): a name, or a dict ``{"name": ..., **options}``."""

from __future__ import annotations


def split_spec(spec) -> tuple:
    """``(name, options)`` of a spec given as a name or as a dict ``{"name": ..., **options}`` (not modified)."""
    if isinstance(spec, dict):
        options = dict(spec)
        return options.pop("name", None), options
    return spec, {}
