"""Load a user's representation function for the CLI."""

from __future__ import annotations

import importlib
import os
import warnings

import torch


def load_representation(spec: str, device=None):
    """A representation function from ``spec``:

    * ``path/to/model.pt2``: a ``torch.export.save``d program, run through ``.module()``;
    * ``path/to/model.pt``: a TorchScript module (``torch.jit.save``) mapping observations to codes
      (or to a tuple whose first element is the codes, e.g. ``(mu, logvar)``);
    * ``package.module:attr``: an importable callable ``observations -> codes``.
    """
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"argument 'model' must be a path to a TorchScript file or 'module:attr', got {spec!r}")
    if os.path.exists(spec):
        if spec.endswith(".pt2"):
            try:
                return torch.export.load(spec).module()
            except Exception as e:  # torch raises several types for a foreign file
                raise ValueError(f"argument 'model': {spec!r} is not a torch.export program ({e})") from None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # torch >= 2.10 deprecates jit.load
                module = torch.jit.load(spec, map_location=device or "cpu")
        except RuntimeError as e:
            raise ValueError(f"argument 'model': {spec!r} is not a TorchScript file ({e})") from None
        return module.eval()
    if ":" in spec:
        mod_name, _, attr = spec.partition(":")
        try:
            obj = importlib.import_module(mod_name)
        except ImportError as e:
            raise ValueError(f"argument 'model': cannot import module {mod_name!r} ({e})") from None
        for part in attr.split("."):
            if not hasattr(obj, part):
                raise ValueError(f"argument 'model': {mod_name!r} has no attribute {attr!r}")
            obj = getattr(obj, part)
        if not callable(obj):
            raise TypeError(f"argument 'model': {spec!r} is not callable")
        return obj
    raise ValueError(f"argument 'model': {spec!r} is neither an existing file nor 'module:attr'")
