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
    * ``package.module:attr``: an importable callable ``observations -> codes``. **This imports and runs
      the user's Python code** (as ``python -c "import package.module"`` would): name only modules you trust.

    Files are never unpickled: TorchScript and ``torch.export`` archives hold no pickled Python objects,
    and a file that is neither is only opened with ``torch.load(weights_only=True)`` (tensors and plain
    containers, no code) to say what it is instead (e.g. a ``state_dict``, which cannot be scored without
    the code of its network).
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
            what = _describe_checkpoint(spec)
            if what:
                raise ValueError(f"argument 'model': {spec!r} is {what}, not a model; pydisent cannot rebuild a "
                                 f"network from weights: save it with torch.jit.save or torch.export.save, or "
                                 f"pass 'module:callable'") from None
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


def _describe_checkpoint(path: str) -> str | None:
    """What a ``torch.save`` file holds, read safely (``weights_only=True``: no code runs), or None."""
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - any failure means "not a plain checkpoint"; the caller reports it
        return None
    if isinstance(obj, dict) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return f"a state_dict of {len(obj)} tensors"
    if isinstance(obj, dict):
        return f"a checkpoint dict (keys {sorted(map(str, obj))[:5]})"
    return f"a saved {type(obj).__name__}"
