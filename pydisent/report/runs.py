"""What can be scored and reported: a run folder, a checkpoint, an exported program, a callable, a baseline.

:func:`open_subject` turns the command line's ``RUN_OR_MODEL`` into a :class:`Subject`: an encoder (the
representation the metrics read: a posterior mean), a decoder where there is one (for traversals,
reconstructions and the topological score), the training config and loss log where there are some, and
the folder results go to.

A run folder holds what training wrote (config, checkpoints, the JSON-lines loss log) and what scoring
adds: ``metrics.json`` (:mod:`pydisent.report.schema`), ``diagnostics.npz`` (the figures' data) and
``report.html``.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from pydisent.report.schema import RunFormatError

METRICS_FILE = "metrics.json"
DIAGNOSTICS_FILE = "diagnostics.npz"
REPORT_FILE = "report.html"
# Names training may use for its files; the first that exists wins.
CONFIG_FILES = ("config.json",)
LOG_FILES = ("log.jsonl", "train.jsonl", "losses.jsonl")
CHECKPOINT_FILES = ("model.pt", "checkpoint.pt", "last.pt", "checkpoints/last.pt")


@dataclass
class Subject:
    """A representation to score. ``encode(x) -> codes`` (a ``(mu, logvar)`` tuple is reduced to ``mu`` by
    the metrics); ``decode(z) -> observations`` in the dataset's observation space, or None."""

    label: str
    kind: str  # "run", "checkpoint", "export", "callable", "baseline"
    source: str
    encode: Callable
    decode: Callable | None = None
    latent_dim: int | None = None
    folder: Path | None = None  # where metrics.json / report.html go
    config: dict | None = None
    log_path: Path | None = None
    dataset: dict | None = None  # {"name": ..., "kwargs": {...}} from the run's config
    extra: dict = field(default_factory=dict)

    def describe(self) -> dict:
        return {"label": self.label, "kind": self.kind, "source": self.source, "latent_dim": self.latent_dim,
                "has_decoder": self.decode is not None}


def _first(folder: Path, names) -> Path | None:
    for n in names:
        if (folder / n).is_file():
            return folder / n
    return None


def read_config(folder) -> dict | None:
    path = _first(Path(folder), CONFIG_FILES)
    if path is None:
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise RunFormatError(f"{str(path)!r} is not valid JSON ({e})") from None


def read_log(folder_or_file) -> list[dict]:
    """The JSON-lines loss log as a list of records (a truncated last line, as Ctrl-C may leave, is skipped)."""
    p = Path(folder_or_file)
    path = _first(p, LOG_FILES) if p.is_dir() else (p if p.is_file() else None)
    if path is None:
        return []
    records = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict):
            records.append(rec)
    return records


def loss_terms(records: list[dict]) -> dict[str, tuple[list, list]]:
    """``{term: (steps, values)}`` for every numeric field of the log except the step counter."""
    terms: dict[str, tuple[list, list]] = {}
    for i, rec in enumerate(records):
        step = rec.get("step", i)
        for k, v in rec.items():
            if k in ("step", "epoch", "time", "wall", "elapsed") or isinstance(v, bool):
                continue
            if isinstance(v, (int, float)) and math.isfinite(v):
                s, vals = terms.setdefault(k, ([], []))
                s.append(step)
                vals.append(float(v))
    return terms


def _dataset_from_config(config: dict | None) -> dict | None:
    if not config:
        return None
    ds = config.get("dataset")
    if isinstance(ds, str):
        return {"name": ds, "kwargs": dict(config.get("dataset_kwargs") or {})}
    if isinstance(ds, dict) and "name" in ds:
        return {"name": ds["name"], "kwargs": dict(ds.get("kwargs") or {})}
    return None


def _load_trained(folder: Path, ckpt: Path | None):
    """A model trained by ``pydisent.train``, through the loader the training package provides."""
    try:
        from pydisent.train import load_run  # type: ignore[attr-defined]
    except ImportError:
        return None
    return load_run(folder if ckpt is None else ckpt)


def _from_model(model) -> tuple[Callable, Callable | None, int | None]:
    """(encode, decode, latent_dim) of a trained model following the models package's protocol."""
    encode = model.representation() if hasattr(model, "representation") else model
    decode = None
    if hasattr(model, "generator"):
        decode = model.generator()
    elif hasattr(model, "decode"):
        decode = model.decode
    latent = getattr(model, "latent_dim", None)
    return encode, decode, (int(latent) if latent is not None else None)


def _load_checkpoint(path: Path, label: str, kind: str, folder: Path | None) -> Subject:
    from pydisent.report import _standin

    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types for a foreign or truncated file
        raise RunFormatError(f"{str(path)!r} is not a readable checkpoint ({type(e).__name__}: {e})") from None
    if isinstance(ckpt, dict) and ckpt.get("format") == _standin.FORMAT:
        if ckpt.get("version") != _standin.VERSION:
            raise RunFormatError(f"{str(path)!r} was written by another version of pydisent (checkpoint "
                                 f"version {ckpt.get('version')!r}, this one reads {_standin.VERSION})")
        model = _standin.LinearAutoencoder.from_checkpoint(ckpt)
        return Subject(label, kind, str(path), model.encode, model.decode, model.latent_dim, folder)
    model = _load_trained(folder or path.parent, path)
    if model is None:
        raise RunFormatError(f"{str(path)!r} is a training checkpoint, but this pydisent has no "
                             f"`pydisent.train.load_run` to read it")
    encode, decode, latent = _from_model(model)
    return Subject(label, kind, str(path), encode, decode, latent, folder)


def open_run(folder) -> Subject:
    """A run folder written by ``pydisent.train`` (or ``pydisent demo``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RunFormatError(f"{str(folder)!r} is not a run folder")
    config = read_config(folder)
    ckpt = _first(folder, CHECKPOINT_FILES)
    if ckpt is None:
        trained = _load_trained(folder, None) if config is not None else None
        if trained is None:
            raise RunFormatError(f"{str(folder)!r} holds no model checkpoint (looked for "
                                 f"{', '.join(CHECKPOINT_FILES)})")
        encode, decode, latent = _from_model(trained)
        sub = Subject(folder.name, "run", str(folder), encode, decode, latent, folder)
    else:
        sub = _load_checkpoint(ckpt, folder.name, "run", folder)
    sub.config = config
    sub.dataset = _dataset_from_config(config)
    sub.log_path = _first(folder, LOG_FILES)
    return sub


def open_subject(spec: str, *, device=None, out=None) -> Subject:
    """``spec``: a run folder, a checkpoint (``.pt``/``.ckpt`` written by training), a ``torch.export``
    program (``.pt2``), a TorchScript file, or ``module:callable``; results go to the run folder, or to
    ``out`` (default ``./pydisent-eval-<name>``) for the others."""
    from pydisent.models import load_representation

    if not isinstance(spec, str) or not spec:
        raise ValueError(f"argument 'RUN_OR_MODEL' must be a run folder, a model file or 'module:callable', "
                         f"got {spec!r}")
    p = Path(spec)
    if p.is_dir():
        sub = open_run(p)
        if out is not None:
            sub.folder = Path(out)
        return sub
    name = p.stem if p.exists() else spec.replace(":", "_").replace(".", "_").replace(os.sep, "_")
    folder = Path(out) if out is not None else Path(f"pydisent-eval-{name}")
    if p.is_file() and p.suffix not in (".pt2",):
        try:  # a training or stand-in checkpoint (weights only); else a TorchScript file below
            ckpt = torch.load(p, map_location="cpu", weights_only=True)
        except Exception:
            ckpt = None
        if isinstance(ckpt, dict):
            return _load_checkpoint(p, name, "checkpoint", folder)
    fn = load_representation(spec, device=device)
    kind = "export" if spec.endswith(".pt2") else ("callable" if not p.exists() else "torchscript")
    return Subject(name, kind, spec, fn, None, None, folder)
