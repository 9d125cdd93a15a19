"""The HTML pages: one self-contained report per run folder and one comparison page across runs.

Pages are rendered from jinja2 templates (``templates/*.html.j2``, autoescaped) with every figure embedded
as a PNG data URI, so one file opens anywhere with no network and no folder beside it. Files are written
atomically (temp name, then rename).
"""

from __future__ import annotations

import base64
import datetime as _dt
import math
from pathlib import Path

import numpy as np

from pydisent._io import atomic_path, atomic_write
from pydisent.report import figures as F
from pydisent.report.metric_info import describe, headline
from pydisent.report.runs import DIAGNOSTICS_FILE, METRICS_FILE, REPORT_FILE, loss_terms, read_log
from pydisent.report.schema import read_metrics
from pydisent.report.scoring import TOPOLOGICAL

_TEMPLATES = Path(__file__).with_name("templates")
# metrics whose every key is better when lower (the comparison marks no "best" run for them)
LOWER_IS_BETTER = ("unsupervised", "prior_divergence", "geometry_score")


def _env():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(loader=FileSystemLoader(str(_TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True)


def data_uri(fig) -> str:
    """A matplotlib figure as a ``data:image/png;base64,...`` URI."""
    return "data:image/png;base64," + base64.b64encode(F.png(fig)).decode("ascii")


def fmt(v) -> str:
    """A number for a table: 4 decimals (scientific beyond 1e5 or below 1e-3), ``n/a`` for None/NaN."""
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            return "n/a"
        if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
            return f"{v:.3e}"
        return f"{v:.4f}"
    return str(v)


def write_diagnostics(path, arrays: dict) -> Path:
    """``diagnostics.npz`` (compressed, no pickles), written atomically."""
    with atomic_path(path) as tmp:
        np.savez_compressed(tmp, **{k: np.asarray(v) for k, v in arrays.items()})
    return Path(path)


def read_diagnostics(path) -> dict:
    p = Path(path)
    if not p.is_file():
        return {}
    with np.load(p, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


class _Fig(dict):
    """A figure slot of the template: ``uri`` or the sentence saying why it is missing."""

    def __init__(self, title, caption="", uri=None, missing=""):
        super().__init__(title=title, caption=caption, uri=uri, missing=missing)


def _safe(title, caption, missing, build):
    """Build one figure; a figure that cannot be drawn from what the run holds says so instead."""
    if missing:
        return _Fig(title, missing=missing)
    return _Fig(title, caption, uri=data_uri(build()))


def _figures(doc: dict, diag: dict, terms: dict) -> dict:
    factors = [str(x) for x in diag.get("factor_names", [])]
    has = lambda *keys: all(k in diag for k in keys)  # noqa: E731
    lin = "linearity/linearity.{}.var"
    topo = diag_topology(diag)
    figs = {
        "traversals": _safe(
            "Latent traversals", "One row per latent dimension: decoded images as it sweeps from its 2nd to its 98th "
            "percentile over encoded samples (range in brackets), the other dimensions held at one sample's code.",
            "" if has("traversals") else "no decoder, so no traversals (a run folder or checkpoint has one)",
            lambda: F.traversals_figure(diag["traversals"], diag.get("traversal_values"))),
        "reconstructions": _safe(
            "Reconstructions", "Inputs (top) and their reconstructions decode(encode(x)) (bottom).",
            "" if has("recon_inputs", "recon_outputs") else "no decoder, so no reconstructions",
            lambda: F.reconstructions_figure(diag["recon_inputs"], diag["recon_outputs"])),
        "training": _safe(
            "Training curves", "Every loss term of the training log against the step (orange: running mean).",
            "" if terms else "this run has no training log (a baseline, or a model trained elsewhere)",
            lambda: F.training_curves_figure(terms)),
        "distances": _safe(
            "Distance matrices", "Per factor: ground-truth distance |i - j| between its values, mean data distance "
            "(MSE) and mean latent distance (L1) between the observations and codes at values i and j, over random "
            "traversals (as msc-research draws them).",
            "" if factors and all(f"dist_latent/{f}" in diag for f in factors) else "not computed",
            lambda: F.distance_matrices_figure(factors, [diag[f"dist_ground/{f}"] for f in factors],
                                               [diag[f"dist_data/{f}"] for f in factors],
                                               [diag[f"dist_latent/{f}"] for f in factors])),
        "linearity": _safe(
            "Linearity per factor", "Per factor, averaged over traversals: linear ratio (variance on one principal "
            "direction), axis ratio (on one code axis), axis alignment (axis ratio / linear ratio).",
            "" if factors and has(lin.format("linear_ratio")) else "not computed",
            lambda: F.linearity_bars_figure(factors, diag[lin.format("linear_ratio")], diag[lin.format("axis_ratio")],
                                            diag[lin.format("axis_alignment")])),
        "rlt": _safe(
            "W. RLT histograms", "Wasserstein barycenters of the relative-living-time histograms of each conditional "
            "submanifold (one panel per latent dimension, one line per fixed value).",
            topo["rlt_missing"], lambda: F.rlt_histograms_figure(topo["rlt"])),
        "cocluster": _safe(
            "Co-clustering matrix", "The distance matrix the topological score co-clusters, rows and columns ordered "
            "by bicluster.", topo["matrix_missing"],
            lambda: F.coclustering_figure(topo["matrix"], row_order=topo.get("row_order"),
                                          col_order=topo.get("col_order"))),
    }
    return figs


def diag_topology(diag: dict) -> dict:
    """The topological score's arrays from ``diagnostics.npz`` (``topological_disentanglement/<name>``, as
    :func:`pydisent.report.scoring.topological` names them)."""
    prefix = TOPOLOGICAL + "/"
    t = {k[len(prefix):]: v for k, v in diag.items() if k.startswith(prefix)}
    out = {"rlt_missing": "", "matrix_missing": ""}
    if "wrlt" in t and t["wrlt"].ndim in (2, 3):
        out["rlt"] = t["wrlt"]
    else:
        out["rlt_missing"] = ("the topological score was not computed for this run (it needs a decoder; "
                              "`--metrics all` or `topological_disentanglement` runs it)")
    if "distances" in t and t["distances"].ndim == 2:
        out["matrix"] = t["distances"]
        out["row_order"] = t.get("row_order")
        out["col_order"] = t.get("col_order")
    else:
        out["matrix_missing"] = "no co-clustering matrix (the topological score was not computed)"
    return out


def _metric_rows(results: dict) -> tuple[list, list]:
    rows, all_rows = [], []
    for metric, keys in results.items():
        meaning, paper = describe(metric)
        shown = headline(metric, keys)
        for i, key in enumerate(shown):
            rows.append({"metric": metric, "key": key, "value": fmt(keys[key]), "first": i == 0, "span": len(shown),
                         "meaning": meaning, "paper": paper})
        for key, v in keys.items():
            if not isinstance(v, (list, dict)):
                all_rows.append((metric, key, fmt(v)))
    return rows, all_rows


def _flat(d: dict, prefix: str = "") -> list[tuple[str, object]]:
    out = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.extend(_flat(v, key + "."))
        else:
            out.append((key, v))
    return out


# config keys that are bookkeeping, not hyperparameters
_NOT_HPARAMS = ("format_version", "world_size", "data_shards", "global_batch_size", "log_every", "checkpoint_every",
                "keep_checkpoints")


def hyperparameters(config: dict | None) -> dict:
    """Numeric hyperparameters of a training config: the objective's (``beta``, ...), then ``latent_dim``,
    ``steps``, ``batch_size`` and the optimiser's; seeds and bookkeeping left out. A config without an
    ``hparams`` section (a stand-in, a foreign run) gives its numeric leaves."""
    if not config:
        return {}
    if isinstance(config.get("hparams"), dict):
        model = config.get("model") if isinstance(config.get("model"), dict) else {}
        src = {**config["hparams"], "latent_dim": config.get("latent_dim", model.get("latent_dim")),
               "steps": config.get("steps"), "batch_size": config.get("batch_size")}
        opt = config.get("optimizer") if isinstance(config.get("optimizer"), dict) else {}
        src.update({f"optimizer.{k}": v for k, v in opt.items()})
        items = list(src.items())
    else:
        items = _flat(config)
    out = {}
    for k, v in items:
        if "seed" in k.lower() or isinstance(v, bool) or k.split(".")[-1] in _NOT_HPARAMS:
            continue
        if isinstance(v, (int, float)) and math.isfinite(v):
            out[k] = v
    return out


def render_run_report(folder, *, out=None) -> Path:
    """(Re)build ``report.html`` of a run folder from its ``metrics.json``, ``diagnostics.npz`` and loss log."""
    folder = Path(folder)
    doc = read_metrics(folder / METRICS_FILE)
    diag = read_diagnostics(folder / DIAGNOSTICS_FILE)
    terms = loss_terms(read_log(folder))
    rows, all_rows = _metric_rows(doc["results"])
    prov = doc["provenance"]
    prov_rows = [(k, fmt(v) if not isinstance(v, dict) else ", ".join(f"{a}={b}" for a, b in v.items()))
                 for k, v in prov.items() if k != "build"]
    prov_rows += [(f"build.{k}", fmt(v)) for k, v in (prov.get("build") or {}).items()]
    config = (doc.get("run") or {}).get("config")
    topo_rows = [(k, fmt(v)) for k, v in (doc["results"].get(TOPOLOGICAL) or {}).items()]
    sections = [("metrics", "metrics"), ("traversals", "traversals"), ("reconstructions", "reconstructions"),
                ("training", "training"), ("distances", "distances"), ("linearity", "linearity"),
                ("topology", "topology"), ("provenance", "provenance")]
    html = _env().get_template("report.html.j2").render(
        version=prov.get("pydisent", "?"),
        rep={"label": "?", "kind": "?", "source": "", "latent_dim": None, **doc["representation"]},
        dataset={"name": "?", "kwargs": {}, **doc["dataset"]},
        prov={"pydisent": "?", "commit": None, "date": "", **prov},
        run_config={"objective": None, **(config or {})}, hparams=list(hyperparameters(config).items())[:12],
        sections=sections,
        status=doc["status"], metric_rows=rows, all_rows=all_rows, figs=_figures(doc, diag, terms),
        topo_rows=topo_rows, prov_rows=prov_rows)
    path = Path(out) if out is not None else folder / REPORT_FILE
    atomic_write(path, html)
    return path


def _numeric(v) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else math.nan


def comparison(entries: list[dict]) -> dict:
    """The table of headline numbers across runs: ``entries`` are ``{"label", "doc", "link"}``; returns
    ``{"labels", "rows": [(metric, key, [values])], "hparams": {name: [values]}}`` (hyperparameters that
    differ between runs)."""
    labels = [e["label"] for e in entries]
    metrics: dict[str, list[str]] = {}
    for e in entries:
        for metric, keys in e["doc"]["results"].items():
            known = metrics.setdefault(metric, [])
            for k in headline(metric, keys):
                if k not in known and not isinstance(keys[k], (list, dict)):
                    known.append(k)
    rows = []
    for metric, keys in metrics.items():
        for k in keys:
            rows.append((metric, k, [_numeric((e["doc"]["results"].get(metric) or {}).get(k)) for e in entries]))
    hp_all = [hyperparameters((e["doc"].get("run") or {}).get("config")) for e in entries]
    names = sorted({k for h in hp_all for k in h})
    hparams = {}
    for n in names:
        vals = [h.get(n, math.nan) for h in hp_all]
        finite = [v for v in vals if math.isfinite(v)]
        if len(set(finite)) > 1 or len(finite) < len(vals):  # differs, or set in some runs only
            hparams[n] = vals
    return {"labels": labels, "rows": rows, "hparams": hparams}


def rank_correlations(rows: list) -> tuple[list[str], np.ndarray]:
    """Spearman correlation between every pair of table rows finite and non-constant across the runs."""
    from scipy.stats import spearmanr

    keys = [k for _, k, _ in rows]
    keep = [(k if keys.count(k) == 1 else f"{m}:{k}", np.asarray(v)) for m, k, v in rows
            if np.all(np.isfinite(v)) and np.ptp(np.asarray(v)) > 0]
    if len(keep) < 2:
        return [k for k, _ in keep], np.zeros((len(keep), len(keep)))
    corr = np.asarray(spearmanr(np.stack([v for _, v in keep]), axis=1).statistic, dtype=np.float64)
    if corr.ndim == 0:  # scipy returns the one coefficient of two variables as a scalar
        corr = np.array([[1.0, float(corr)], [float(corr), 1.0]])
    return [k for k, _ in keep], corr


MIN_RUNS_FOR_CORRELATION = 3


def render_compare(entries: list[dict], out) -> Path:
    """The comparison page of ``entries`` (see :func:`comparison`), written atomically to ``out``."""
    table = comparison(entries)
    n = len(entries)
    rows = []
    for metric, key, vals in table["rows"]:
        finite = [v for v in vals if math.isfinite(v)]
        higher = metric not in LOWER_IS_BETTER and "num_active_dims" not in key
        best = max(finite) if finite and higher and n > 1 and len(set(finite)) > 1 else None
        rows.append({"metric": metric, "key": key, "meaning": describe(metric)[0],
                     "cells": [{"text": fmt(v), "best": best is not None and v == best} for v in vals]})
    corr_uri, corr_missing = None, ""
    if n >= MIN_RUNS_FOR_CORRELATION:
        names, corr = rank_correlations(table["rows"])
        if len(names) >= 2:
            corr_uri = data_uri(F.rank_correlation_figure(names, corr))
        else:
            corr_missing = "fewer than two metrics vary across the runs"
    else:
        corr_missing = (f"rank correlations need at least {MIN_RUNS_FOR_CORRELATION} runs ({n} given): "
                        "compare a sweep of runs")
    hparam_figs = []
    for name, xs in table["hparams"].items():
        series = {f"{m}:{k}": v for m, k, v in table["rows"] if any(math.isfinite(x) for x in v)}
        pts = [i for i, x in enumerate(xs) if math.isfinite(x)]
        if len(pts) >= 2 and series:
            hparam_figs.append({"name": name, "uri": data_uri(F.metric_vs_hparam_figure(
                name, [xs[i] for i in pts], {k: [v[i] for i in pts] for k, v in series.items()}))})
    datasets = sorted({e["doc"]["dataset"].get("name", "?") for e in entries})
    import pydisent

    html = _env().get_template("compare.html.j2").render(
        version=pydisent.__version__, runs=entries, rows=rows, datasets=datasets,
        date=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        hparam_rows=[(k, [fmt(x) for x in v]) for k, v in table["hparams"].items()],
        corr_uri=corr_uri, corr_missing=corr_missing, hparam_figs=hparam_figs,
        hparam_missing="no hyperparameter takes two values or more across these runs")
    atomic_write(out, html)
    return Path(out)


def compare_text(entries: list[dict]) -> str:
    """The comparison table for a terminal."""
    table = comparison(entries)
    labels = table["labels"]
    rows = [(m, k, [fmt(v) for v in vals]) for m, k, vals in table["rows"]]
    rows += [("hparam", k, [fmt(v) for v in vals]) for k, vals in table["hparams"].items()]
    wm = max([6] + [len(r[0]) for r in rows])
    wk = max([3] + [len(r[1]) for r in rows])
    wc = [max(10, len(lab)) for lab in labels]
    lines = [f"{'metric':<{wm}}  {'key':<{wk}}  " + "  ".join(f"{lab:>{w}}" for lab, w in zip(labels, wc))]
    for m, k, vals in rows:
        lines.append(f"{m:<{wm}}  {k:<{wk}}  " + "  ".join(f"{v:>{w}}" for v, w in zip(vals, wc)))
    return "\n".join(lines)
