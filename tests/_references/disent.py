"""The installed disent (0.8.0), importable without torchvision and lightning.

disent's package ``__init__`` files import torchvision (for ``ImageFolder`` and ``to_tensor``) and
lightning (for its frameworks); the data and metric code used as a peer never touch them. Where they are
not installed, :func:`stub_torchvision_and_lightning` puts inert stand-ins in ``sys.modules`` (every
attribute is a dummy class, except ``to_tensor``, which is implemented).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
import warnings

import numpy as np
import torch

_TORCHVISION = ("torchvision", "torchvision.datasets", "torchvision.transforms", "torchvision.transforms.functional")


class _Inert(types.ModuleType):
    def __getattr__(self, key):
        if key.startswith("__"):
            raise AttributeError(key)
        return type(key, (), {})


def _to_tensor(obs):
    a = np.asarray(obs)
    a = a[:, :, None] if a.ndim == 2 else a
    t = torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))
    return t.float().div(255) if t.dtype == torch.uint8 else t.float()


def _importable(name: str) -> bool:
    if name in sys.modules:
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def stub_torchvision_and_lightning(lightning: bool = True) -> list[str]:
    """Install stand-ins for whichever of torchvision (and lightning) is missing; returns the names
    stubbed, so a caller can remove them again (``remove_stubs``)."""
    stubbed = []
    if not _importable("torchvision"):
        for name in _TORCHVISION:
            mod = _Inert(name)
            mod.__path__ = []
            sys.modules[name] = mod
            stubbed.append(name)
            if "." in name:
                parent, child = name.rsplit(".", 1)
                setattr(sys.modules[parent], child, mod)
        sys.modules["torchvision.datasets"].ImageFolder = object
        sys.modules["torchvision.transforms.functional"].to_tensor = _to_tensor
    if lightning and not _importable("lightning"):
        mod = _Inert("lightning")
        mod.__path__ = []
        mod.LightningModule = torch.nn.Module
        sys.modules["lightning"] = mod
        stubbed.append("lightning")
    return stubbed


def remove_stubs(stubbed: list[str]) -> None:
    """Take the stand-ins out of ``sys.modules`` again (never leave a fake torchvision behind)."""
    for name in stubbed:
        sys.modules.pop(name, None)


# why the last import_disent_data() returned None (for skip messages)
import_error = ""


def import_disent_data():
    """``disent.dataset.data``, or None when disent is not importable (the reason in ``import_error``;
    the stubs are removed after the import)."""
    global import_error
    if not _importable("disent"):
        import_error = "disent is not installed"
        return None
    stubbed = stub_torchvision_and_lightning(lightning=False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import disent.dataset.data as data
        return data
    except Exception as e:  # a missing dependency, or an incompatible version
        import_error = f"disent is not importable: {type(e).__name__}: {e}"
        return None
    finally:
        remove_stubs(stubbed)
