"""Checkpoints that resume a run exactly, written atomically, loadable with ``weights_only=True``.

A checkpoint is one ``torch.save`` file holding only tensors and plain Python values (so
``torch.load(path, weights_only=True)`` reads it and no pickled code runs):

``format``, ``format_version``, ``pydisent_version``, ``provenance``, ``objective`` (registry name),
``step`` (optimisation steps done), ``config`` (the run's JSON config), ``model`` (the objective's
``state_dict``: model, discriminator, learnable prior, ...), ``optimizers`` (name -> ``state_dict``),
``scaler`` (the fp16 ``GradScaler`` or None), ``rng`` (``torch``: the training generator's state,
``data``: the sampler's bit-generator states and position) and ``loop`` (the loop's counters).

Files are written through :func:`pydisent._io.atomic_open` (temp file in the same folder, fsync,
``os.replace``): a crash or a Ctrl-C mid-write leaves the previous checkpoint intact. A checkpoint
written by another pydisent version, or for another objective, is refused with a message saying which.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import torch

from pydisent._io import atomic_open

FORMAT = "pydisent-train-checkpoint"
FORMAT_VERSION = 1
CHECKPOINT_DIR = "checkpoints"
_NAME = re.compile(r"^step-(\d+)\.pt$")


class CheckpointError(ValueError):
    """A checkpoint that cannot be used for this run (foreign version, objective or format)."""


def _version() -> str:
    from pydisent import __version__

    return __version__


def provenance() -> dict:
    """``pydisent.provenance()`` where it exists (main), else the version and torch's."""
    import json

    import pydisent
    from pydisent._io import to_json

    fn = getattr(pydisent, "provenance", None)
    if callable(fn):
        try:
            # through JSON: plain str/int/float values only, as torch.load(weights_only=True) requires
            return json.loads(to_json(fn()))
        except Exception:  # provenance is informative; never block a checkpoint on it
            pass
    return {"pydisent": _version(), "torch": str(torch.__version__)}


def checkpoint_path(run_dir, step: int) -> Path:
    return Path(run_dir) / CHECKPOINT_DIR / f"step-{int(step):08d}.pt"


def list_checkpoints(run_dir) -> list[tuple[int, Path]]:
    """``(step, path)`` of the run's checkpoints, by step."""
    d = Path(run_dir) / CHECKPOINT_DIR
    if not d.is_dir():
        return []
    out = []
    for p in d.iterdir():
        m = _NAME.match(p.name)
        if m:
            out.append((int(m.group(1)), p))
    return sorted(out)


def latest_checkpoint(run_dir) -> Path | None:
    ck = list_checkpoints(run_dir)
    return ck[-1][1] if ck else None


def save_checkpoint(path, state: dict) -> Path:
    """Write ``state`` (see the module docstring) atomically to ``path``; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    full = {"format": FORMAT, "format_version": FORMAT_VERSION, "pydisent_version": _version(),
            "provenance": provenance(), **state}
    with atomic_open(path, "wb", name="checkpoint") as f:
        torch.save(full, f)
    return path


def prune_checkpoints(run_dir, keep: int | None) -> None:
    """Delete all but the ``keep`` newest ``step-*.pt`` files (``None``: keep all)."""
    if keep is None:
        return
    for _, p in list_checkpoints(run_dir)[:-keep] if keep > 0 else list_checkpoints(run_dir):
        try:
            os.remove(p)
        except FileNotFoundError:
            pass


def load_checkpoint(path, *, objective: str | None = None, map_location="cpu", check_version: bool = True) -> dict:
    """Read a checkpoint with ``torch.load(weights_only=True)`` and check that it is this package's.

    Args:
        path: a ``step-*.pt`` file, or a run folder (its newest checkpoint).
        objective: if given, the registry name the checkpoint must have been written for.
        check_version: refuse a checkpoint written by another pydisent version (default True: an exact
            resume needs the same code).

    Raises:
        FileNotFoundError: no such file, or a run folder without checkpoints.
        CheckpointError: not a pydisent training checkpoint, another version, another objective.
    """
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"argument 'path' must be a path, got {type(path).__name__}")
    p = Path(path)
    if p.is_dir():
        found = latest_checkpoint(p)
        if found is None:
            raise FileNotFoundError(f"argument 'path': run folder {str(p)!r} has no checkpoints in "
                                    f"{CHECKPOINT_DIR}/")
        p = found
    if not p.is_file():
        raise FileNotFoundError(f"argument 'path': no checkpoint file {str(p)!r}")
    try:
        state = torch.load(p, map_location=map_location, weights_only=True)
    except Exception as e:
        raise CheckpointError(f"{str(p)!r} is not a readable pydisent checkpoint ({type(e).__name__}: {e})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{str(p)!r} is not a pydisent training checkpoint (no format tag {FORMAT!r})")
    if state.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{str(p)!r} has checkpoint format {state.get('format_version')}, this pydisent "
                              f"reads format {FORMAT_VERSION}")
    if check_version and state.get("pydisent_version") != _version():
        raise CheckpointError(f"{str(p)!r} was written by pydisent {state.get('pydisent_version')}, this is "
                              f"pydisent {_version()}: resume it with the version that wrote it")
    if objective is not None and state.get("objective") != objective:
        raise CheckpointError(f"{str(p)!r} is a checkpoint of objective {state.get('objective')!r}, "
                              f"not {objective!r}")
    state["path"] = str(p)
    return state
