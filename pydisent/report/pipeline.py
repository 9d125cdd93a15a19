"""Score a subject and write its run folder's results: ``metrics.json``, ``diagnostics.npz``, ``report.html``.

The one code path behind ``pydisent evaluate`` and ``pydisent demo``. Every file is written atomically; on
Ctrl-C during scoring the metrics that finished are written with ``status: "interrupted"`` (a valid file
the report can be built from), then the interrupt is raised again.
"""

from __future__ import annotations

from pathlib import Path

from pydisent.report import scoring
from pydisent.report.page import render_run_report, write_diagnostics
from pydisent.report.runs import DIAGNOSTICS_FILE, METRICS_FILE, REPORT_FILE
from pydisent.report.schema import metrics_document, provenance, write_metrics

DEFAULT_DATASET = "xyobject"


def resolve_dataset(subject, name: str | None, kwargs: dict | None):
    """The dataset to score on: ``name`` if given, else the run's training dataset, else XYObject.
    Returns ``(dataset, {"name", "kwargs", "factor_names", "factor_sizes"})``."""
    from pydisent.data import make_dataset

    if name is None and subject.dataset is not None:
        name, base = subject.dataset["name"], dict(subject.dataset.get("kwargs") or {})
        kwargs = {**base, **(kwargs or {})}
    name = name or DEFAULT_DATASET
    kwargs = dict(kwargs or {})
    ds = make_dataset(name, **kwargs)
    info = {"name": name, "kwargs": kwargs, "factor_names": list(ds.factor_space.names),
            "factor_sizes": [int(s) for s in ds.factor_space.sizes]}
    return ds, info


def _jsonable(v):
    """Options as JSON can hold them: callables (an embedder) by their qualified name."""
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if callable(v):
        return getattr(v, "__qualname__", None) or repr(v)
    return v


def evaluate_subject(subject, dataset, dataset_info: dict, metrics: list[str], *, seed: int = 0, device=None,
                     fast: bool = False, options: dict | None = None, batch_size: int = 256, cache_codes: bool = True,
                     diagnostics: dict | None = None, quiet: bool = False,
                     write_report: bool = True, settings: dict | None = None) -> dict:
    """Score ``subject`` and write its results into ``subject.folder``; returns the metrics document
    (with ``"paths"`` of the files written added, not stored)."""
    folder = Path(subject.folder)
    folder.mkdir(parents=True, exist_ok=True)
    scored = scoring.score(subject, dataset, metrics, seed=seed, device=device, fast=fast, options=options,
                           batch_size=batch_size, cache_codes=cache_codes, quiet=quiet)
    status = scored["status"]
    paths = {}
    arrays = {}
    if status == "complete" and diagnostics is not False:
        try:
            arrays = scoring.diagnostics(subject, dataset, seed=seed, device=device, quiet=quiet,
                                         **(diagnostics or {}))
        except KeyboardInterrupt:
            status = "interrupted"
    for metric, keyed in scored["arrays"].items():
        arrays.update({f"{metric}/{k}": v for k, v in keyed.items()})
    if arrays:
        paths["diagnostics"] = write_diagnostics(folder / DIAGNOSTICS_FILE, arrays)
    prov = provenance(device=device, seeds={"evaluation": seed, **({"training": subject.config.get("seed")}
                                                                    if subject.config and "seed" in subject.config
                                                                    else {})},
                      settings={"metrics": list(metrics), "fast": fast, "options": _jsonable(options or {}),
                                "batch_size": batch_size, "cache_codes": cache_codes, **(settings or {})})
    doc = metrics_document(scored["results"], representation=subject.describe(), dataset=dataset_info,
                           seconds=scored["seconds"], arrays=scored["arrays"],
                           run={"config": subject.config} if subject.config is not None else None,
                           provenance_=prov, status=status)
    paths["metrics"] = write_metrics(folder / METRICS_FILE, doc)
    if write_report:
        paths["report"] = render_run_report(folder, out=folder / REPORT_FILE)
    if status == "interrupted":
        raise KeyboardInterrupt
    return {**doc, "paths": {k: str(v) for k, v in paths.items()}}
