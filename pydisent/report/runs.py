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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from pydisent.report.schema import RunFormatError

METRICS_FILE = "metrics.json"
DIAGNOSTICS_FILE = "diagnostics.npz"
REPORT_FILE = "report.html"
# Names training may use for its files; the first that exists wins.
# (CONTRACT-train.md: config.json, log.jsonl, checkpoints/step-NNNNNNNN.pt; model.pt is the stand-in's)
CONFIG_FILES = ("config.json",)
LOG_FILES = ("log.jsonl",)
STANDIN_FILE = "model.pt"
RUN_FORMAT = "pydisent-run"
RUN_FORMAT_VERSION = 1


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
    target: object = None  # what pydisent.metrics.as_subject scores (a trained objective), if not encode/decode
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


# log fields that are bookkeeping, not loss terms (CONTRACT-train.md); lr and param/<name> are drawn too
_NOT_TERMS = ("step", "epoch", "time", "wall", "elapsed", "steps_per_s", "data_wait", "lr")


def loss_terms(records: list[dict]) -> dict[str, tuple[list, list]]:
    """``{term: (steps, values)}`` for every numeric field of the log except the step counter."""
    terms: dict[str, tuple[list, list]] = {}
    for i, rec in enumerate(records):
        step = rec.get("step", i)
        for k, v in rec.items():
            if k in _NOT_TERMS or isinstance(v, bool):
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
        return {"name": ds, "kwargs": dict(config.get("dataset_options") or config.get("dataset_kwargs") or {})}
    if isinstance(ds, dict) and "name" in ds:
        return {"name": ds["name"], "kwargs": dict(ds.get("kwargs") or {})}
    return None


def _check_run_config(config: dict, folder: Path) -> None:
    fmt, version = config.get("format"), config.get("format_version")
    if fmt is not None and fmt != RUN_FORMAT:
        raise RunFormatError(f"{str(folder)!r} is not a pydisent run folder (config format {fmt!r})")
    if fmt == RUN_FORMAT and version != RUN_FORMAT_VERSION:
        raise RunFormatError(f"{str(folder)!r} was written by pydisent {config.get('pydisent_version', '?')} "
                             f"(run format version {version!r}); this pydisent reads version {RUN_FORMAT_VERSION}")


def _from_run(run, label: str, kind: str, source: str, folder: Path | None) -> Subject:
    """A :class:`Subject` of a trained run (``pydisent.train.load_run``): the objective is the metrics' subject."""
    rep, gen = run.representation(), run.generator()
    sub = Subject(label, kind, source, rep, gen, int(getattr(gen, "latent_dim", 0)) or None, folder,
                  target=run.objective)
    sub.config = dict(run.config)
    sub.dataset = _dataset_from_config(run.config)
    return sub


def _load_run(folder: Path, checkpoint, device):
    try:
        from pydisent.train import load_run
    except ImportError:
        raise RunFormatError(f"{str(folder)!r} is a training run, but this pydisent has no pydisent.train "
                             f"to read it") from None
    try:
        return load_run(folder, checkpoint=checkpoint, device=device or "cpu")
    except (FileNotFoundError, ValueError) as e:  # CheckpointError is a ValueError: version / objective / format
        raise RunFormatError(f"{str(folder)!r}: {e}") from None


def _load_standin(path: Path, label: str, kind: str, folder: Path | None) -> Subject:
    from pydisent.report import _standin

    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types for a foreign or truncated file
        raise RunFormatError(f"{str(path)!r} is not a readable checkpoint ({type(e).__name__}: {e})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != _standin.FORMAT:
        raise RunFormatError(f"{str(path)!r} is not a pydisent stand-in model")
    if ckpt.get("version") != _standin.VERSION:
        raise RunFormatError(f"{str(path)!r} was written by another version of pydisent (stand-in format "
                             f"version {ckpt.get('version')!r}, this one reads {_standin.VERSION})")
    model = _standin.LinearAutoencoder.from_checkpoint(ckpt)
    return Subject(label, kind, str(path), model.encode, model.decode, model.latent_dim, folder, target=model)


def open_run(folder, *, device=None) -> Subject:
    """A run folder written by ``pydisent.train`` (or the stand-in of ``pydisent demo``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RunFormatError(f"{str(folder)!r} is not a run folder")
    config = read_config(folder)
    if config is None:
        raise RunFormatError(f"{str(folder)!r} is not a run folder (no config.json)")
    _check_run_config(config, folder)
    if (folder / STANDIN_FILE).is_file() and config.get("format") != RUN_FORMAT:
        sub = _load_standin(folder / STANDIN_FILE, folder.name, "run", folder)
        sub.config = config
        sub.dataset = _dataset_from_config(config)
    else:
        sub = _from_run(_load_run(folder, None, device), folder.name, "run", str(folder), folder)
    sub.log_path = _first(folder, LOG_FILES)
    return sub


def _training_checkpoint(ckpt) -> bool:
    return isinstance(ckpt, dict) and ckpt.get("format") == "pydisent-train-checkpoint"


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
        sub = open_run(p, device=device)
        if out is not None:
            sub.folder = Path(out)
        return sub
    name = p.stem if p.exists() else spec.replace(":", "_").replace(".", "_").replace(os.sep, "_")
    folder = Path(out) if out is not None else Path(f"pydisent-eval-{name}")
    if p.is_file() and p.suffix != ".pt2":
        try:  # a training or stand-in checkpoint (weights only); else a TorchScript file below
            ckpt = torch.load(p, map_location="cpu", weights_only=True)
        except Exception:
            ckpt = None
        if _training_checkpoint(ckpt):
            run_dir = p.parent.parent if p.parent.name == "checkpoints" else p.parent
            sub = _from_run(_load_run(run_dir, p, device), name, "checkpoint", spec, folder)
            sub.log_path = _first(run_dir, LOG_FILES)
            return sub
        if isinstance(ckpt, dict) and "format" in ckpt:
            return _load_standin(p, name, "checkpoint", folder)
    fn = load_representation(spec, device=device)
    kind = "export" if spec.endswith(".pt2") else ("callable" if not p.exists() else "torchscript")
    return Subject(name, kind, spec, fn, None, None, folder)
