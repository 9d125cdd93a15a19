"""The versioned ``metrics.json`` of a run folder, and the provenance it carries.

One document per scored representation::

    {
      "schema": "pydisent.metrics",          # identifies the file
      "schema_version": 1,                    # bumped on any incompatible change
      "status": "complete" | "interrupted",   # interrupted: Ctrl-C during scoring, results hold what finished
      "representation": {"label": ..., "kind": "run" | "checkpoint" | "export" | "callable" | "baseline",
                         "source": path or spec, "latent_dim": Z},
      "dataset": {"name": ..., "kwargs": {...}, "factor_names": [...], "factor_sizes": [...]},
      "results": {metric: {key: value}},      # each metric's reference key names (NaN/inf as null)
      "seconds": {metric: seconds},
      "arrays": {metric: [key, ...]},         # array-valued keys (e.g. the topological score's matrices), kept
                                              # in diagnostics.npz as "<metric>/<key>"
      "run": {"config": {...}} | null,        # the training config, when the representation is a run
      "provenance": {...}                     # see provenance()
    }

Readers call :func:`read_metrics`, which refuses a file of another schema or version with a message saying
which version wrote it and which this pydisent reads. Writers call :func:`write_metrics` (atomic: a
temporary file, then a rename; a reader never sees half a file).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pydisent._io import to_json, write_json

SCHEMA = "pydisent.metrics"
SCHEMA_VERSION = 1
STATUSES = ("complete", "interrupted")


class RunFormatError(ValueError):
    """A run folder or result file this version of pydisent cannot read (other version, corrupt, missing)."""


def provenance(*, device=None, seeds: dict | None = None, settings: dict | None = None) -> dict:
    """Where a result comes from: :func:`pydisent.provenance` (version, commit, build, package versions,
    machine, CPU, device, date) plus the seeds, the settings and the command line."""
    import pydisent

    info = dict(pydisent.provenance(device, packages=("matplotlib", "jinja2")))
    info["seeds"] = dict(seeds or {})
    info["settings"] = dict(settings or {})
    prog = os.path.basename(sys.argv[0] or "python")
    if prog == "__main__.py":  # python -m pydisent ...
        prog = "python -m pydisent"
    info["command"] = " ".join([prog] + sys.argv[1:])
    return info


def metrics_document(results: dict, *, representation: dict, dataset: dict, seconds: dict | None = None,
                     arrays: dict | None = None, run: dict | None = None, provenance_: dict | None = None,
                     status: str = "complete") -> dict:
    """Assemble a ``metrics.json`` document (see the module docstring); validated before it is returned."""
    doc = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "status": status,
        "representation": dict(representation),
        "dataset": dict(dataset),
        "results": dict(results),
        "seconds": dict(seconds or {}),
        "arrays": {m: sorted(keys) for m, keys in (arrays or {}).items()},
        "run": run,
        "provenance": dict(provenance_ or provenance()),
    }
    validate(doc)
    return doc


def validate(doc, source: str = "metrics.json") -> dict:
    """Check the shape of a document; :class:`RunFormatError` naming ``source`` and what is wrong."""
    if not isinstance(doc, dict):
        raise RunFormatError(f"{source}: expected a JSON object, got {type(doc).__name__}")
    if doc.get("schema") != SCHEMA:
        raise RunFormatError(f"{source} is not a pydisent metrics file (schema {doc.get('schema')!r}, "
                             f"expected {SCHEMA!r})")
    version = doc.get("schema_version")
    if version != SCHEMA_VERSION:
        wrote = (doc.get("provenance") or {}).get("pydisent", "an unknown version")
        raise RunFormatError(f"{source} has schema version {version!r} (written by pydisent {wrote}); this "
                             f"pydisent reads version {SCHEMA_VERSION}: re-run `pydisent evaluate` on the run")
    if doc.get("status") not in STATUSES:
        raise RunFormatError(f"{source}: status must be one of {STATUSES}, got {doc.get('status')!r}")
    for key in ("representation", "dataset", "results", "seconds", "arrays", "provenance"):
        if not isinstance(doc.get(key), dict):
            raise RunFormatError(f"{source}: field {key!r} must be an object")
    for metric, keys in doc["results"].items():
        if not isinstance(keys, dict):
            raise RunFormatError(f"{source}: results[{metric!r}] must be an object of key -> value")
    return doc


def write_metrics(path, doc: dict) -> Path:
    """Validate and write ``doc`` atomically (strict JSON: NaN/inf as null)."""
    validate(doc, str(path))
    return write_json(path, doc)


def read_metrics(path) -> dict:
    """Read and validate a ``metrics.json``; :class:`RunFormatError` for a missing, corrupt or foreign file."""
    import json

    p = Path(path)
    if not p.is_file():
        raise RunFormatError(f"{str(p)!r} does not exist: run `pydisent evaluate` on the run first")
    try:
        doc = json.loads(p.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RunFormatError(f"{str(p)!r} is not valid JSON ({e})") from None
    return validate(doc, str(p))


__all__ = ["SCHEMA", "SCHEMA_VERSION", "RunFormatError", "provenance", "metrics_document", "validate",
           "write_metrics", "read_metrics", "to_json"]
