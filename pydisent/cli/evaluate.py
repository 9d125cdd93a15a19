"""``pydisent evaluate``: score run folders, checkpoints, exported programs or callables; write metrics and a report.

Examples::

    python -m pydisent evaluate runs/beta_vae                       # a run folder: metrics.json + report.html in it
    python -m pydisent evaluate model.pt2 --dataset xysquares --out eval/    # a torch.export program
    python -m pydisent evaluate pkg.module:encode --metrics mig dci --fast
    python -m pydisent evaluate --dataset xyobject --baseline pca --baseline random_projection   # a table only

Each RUN_OR_MODEL gets a folder with ``metrics.json`` (versioned, with provenance), ``diagnostics.npz`` and
``report.html``: the run folder itself, or ``--out DIR`` (one subfolder per model when several are given),
or ``./pydisent-eval-<name>``. ``--model`` / ``--baseline`` representations are scored side by side into the
table (and into ``--out DIR/<name>`` when ``--out`` is given). Several representations see the same samples.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from pydisent.cli._common import UserError, log, parse_assignments, positive_int, print_json, seed_int


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="score representations, write metrics.json and the report",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("targets", nargs="*", metavar="RUN_OR_MODEL",
                   help="a run folder, a checkpoint, a torch.export program (.pt2), a TorchScript file or "
                        "'module:callable'")
    p.add_argument("--dataset", default=None,
                   help="a name from `pydisent datasets` (default: the run's training dataset, else xyobject)")
    p.add_argument("--dataset-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="dataset constructor argument, e.g. grid_spacing=4 (repeatable)")
    p.add_argument("--model", action="append", default=[], metavar="SPEC",
                   help="a representation scored into the table only (repeatable; as RUN_OR_MODEL)")
    p.add_argument("--baseline", action="append", default=[], metavar="NAME",
                   help="a built-in baseline representation: pca, random_projection (repeatable)")
    p.add_argument("--num-codes", type=positive_int, default=10, help="code size of the baselines (default 10)")
    p.add_argument("--metrics", nargs="+", default=None, metavar="NAME",
                   help="metric names from `pydisent metrics`, or 'all' (default: the registry's default set for "
                        "what each model provides; 'all' adds the topological score and the Geometry Score where "
                        "there is a decoder, at their papers' sizes: minutes on a GPU, long on a CPU)")
    p.add_argument("--set", action="append", default=[], metavar="METRIC.KEY=VALUE",
                   help="metric option, e.g. mig.num_train=2000 or dci.fast=True (repeatable)")
    p.add_argument("--fast", action="store_true",
                   help="use the documented fast estimators where a metric has one (e.g. DCI with histogram boosting)")
    p.add_argument("--no-cache", action="store_true",
                   help="encode every sample anew (for a stochastic representation); by default each dataset "
                        "item is encoded once and its code reused")
    p.add_argument("--seed", type=seed_int, default=0)
    p.add_argument("--device", default=None, help="device for observations and codes, e.g. cuda")
    p.add_argument("--batch-size", type=positive_int, default=1024)
    p.add_argument("--out", default=None, metavar="DIR",
                   help="folder for the results (default: the run folder, else ./pydisent-eval-<name>)")
    p.add_argument("--no-report", action="store_true", help="write metrics.json only")
    p.add_argument("--all-keys", action="store_true",
                   help="print every key of every metric (default: each metric's headline numbers)")
    p.add_argument("--json", default=None, nargs="?", const="-", metavar="PATH", dest="json_path",
                   help="write the results as JSON to PATH (or to stdout, with no table, when PATH is - or absent)")
    p.add_argument("--quiet", action="store_true", help="no progress bars or progress lines")
    p.set_defaults(func=run)


def _check_device(device):
    from pydisent._validation import check_device

    check_device(device, "--device")


def _models(args) -> list:
    """The :class:`~pydisent.report.runs.Subject` of every RUN_OR_MODEL and --model."""
    from pydisent.report import open_subject

    subs = []
    many = len(args.targets) > 1
    for spec in args.targets:
        out = None
        if args.out is not None:
            out = Path(args.out) / Path(spec.rstrip("/")).name if many else Path(args.out)
        subs.append(open_subject(spec, device=args.device, out=out))
    for spec in args.model:
        sub = open_subject(spec, device=args.device)
        sub.folder = Path(args.out) / sub.label if args.out else None
        subs.append(sub)
    return subs


def _baselines(args, dataset) -> list:
    from pydisent.models import BASELINES
    from pydisent.report._standin import from_baseline
    from pydisent.report.runs import Subject

    subs = []
    for name in args.baseline:
        if name not in BASELINES:
            raise UserError(f"unknown baseline {name!r}; valid: {', '.join(sorted(BASELINES))}")
        model = from_baseline(name, dataset, args.num_codes, args.seed)
        if args.device:
            model = model.to(args.device)
        # a baseline is scored as an encoder only (as before): its linear inverse is no generative model
        subs.append(Subject(name, "baseline", name, model.encode, model.decode, model.latent_dim,
                            Path(args.out) / name if args.out else None, target=model.encode))
    return subs


def run(args) -> int:
    import pydisent.metrics as pm
    from pydisent import provenance
    from pydisent.report import resolve_dataset
    from pydisent.report.pipeline import evaluate_subject
    from pydisent.report.runs import Subject
    from pydisent.report.scoring import metric_subject, resolve_metrics

    _check_device(args.device)
    if args.batch_size < 1:
        raise UserError(f"argument '--batch-size' must be a positive integer, got {args.batch_size}")
    if args.json_path not in (None, "-"):
        from pydisent._io import check_output_path

        check_output_path(args.json_path, name="--json")
    dataset_kwargs = parse_assignments(args.dataset_arg, dotted=False, option="--dataset-arg")
    options = parse_assignments(args.set, dotted=True)
    try:  # the options are recorded in metrics.json: a value JSON cannot hold fails now, not after the work
        from pydisent._io import to_json

        to_json(options)
    except TypeError as e:
        raise UserError(f"argument '--set': {e}") from None
    if not args.targets and not args.model and not args.baseline:
        args.baseline = ["pca"]
    models = _models(args)
    # one dataset for every representation (the same samples): explicit, else the first run's, else xyobject
    probe = next((m for m in models if m.dataset is not None), Subject("probe", "probe", "", lambda x: x))
    dataset, info = resolve_dataset(probe, args.dataset, dataset_kwargs)
    subjects = models + _baselines(args, dataset)
    labels = [s.label for s in subjects]
    dup = sorted({lab for lab in labels if labels.count(lab) > 1})
    if dup:
        raise UserError(f"two representations are labelled {', '.join(dup)}: give them different names")
    if args.metrics is not None:
        names = resolve_metrics(args.metrics)
    else:  # the default set: what every representation provides (one table, one column each)
        per = [resolve_metrics(None, s) for s in subjects]
        names = [n for n in per[0] if all(n in p for p in per)]
    stray = sorted(set(options) - set(names))
    if stray:
        raise UserError(f"argument '--set' names metrics that are not scored: {', '.join(stray)} "
                        f"(scored: {', '.join(names)})")
    results, timings, folders = {}, {}, {}
    for sub in subjects:
        log(args, f"scoring {sub.label} on {info['name']} ({len(names)} metrics)")
        common = dict(seed=args.seed, device=args.device, fast=args.fast, options=options,
                      batch_size=args.batch_size, cache_codes=not args.no_cache, quiet=args.quiet)
        if sub.folder is not None:
            doc = evaluate_subject(sub, dataset, info, names, write_report=not args.no_report, **common)
            folders[sub.label] = doc["paths"]
            log(args, f"{sub.label}: wrote {', '.join(doc['paths'].values())}")
            results[sub.label], timings[sub.label] = doc["results"], sum(doc["seconds"].values())
        else:  # the table only: pydisent.metrics.evaluate itself, one progress line per metric
            t0 = time.perf_counter()
            results[sub.label] = pm.evaluate(metric_subject(sub), dataset, names, seed=args.seed, device=args.device,
                                             batch_size=args.batch_size, options=options, progress=not args.quiet,
                                             fast=args.fast, cache_codes=not args.no_cache)
            timings[sub.label] = time.perf_counter() - t0
    payload = {"dataset": info["name"], "dataset_kwargs": info["kwargs"], "seed": args.seed, "fast": args.fast,
               "metrics": names, "options": options, "results": results, "seconds": timings,
               "folders": folders, "provenance": provenance(args.device)}
    if args.json_path == "-":
        print_json(payload)
        return 0
    _print_table(results, timings, None if args.all_keys else "headline")
    if args.json_path:
        from pydisent._io import write_json

        write_json(args.json_path, payload, name="--json")
    for paths in folders.values():
        if "report" in paths:
            print(f"report: {paths['report']}")
    return 0


def _format(v) -> str:
    from pydisent.report.page import fmt

    return fmt(v)


def _print_table(results: dict, timings: dict, headline) -> None:
    from pydisent.report.metric_info import headline as head_keys

    labels = list(results)
    rows = []
    metrics: dict = {}
    for lab in labels:
        for metric, keys in results[lab].items():
            metrics.setdefault(metric, keys)
    for metric, keys in metrics.items():
        shown = head_keys(metric, keys) if headline else list(keys)
        for key in shown:
            if isinstance(keys.get(key), (list, dict)):
                continue
            rows.append((metric, key, [results[lab].get(metric, {}).get(key) for lab in labels]))
    w_metric = max([len("metric")] + [len(r[0]) for r in rows])
    w_key = max([len("key")] + [len(str(r[1])) for r in rows])
    w_col = [max(10, len(lab)) for lab in labels]
    out = sys.stdout
    print(f"{'metric':<{w_metric}}  {'key':<{w_key}}  " + "  ".join(f"{lab:>{w}}" for lab, w in zip(labels, w_col)),
          file=out)
    for metric, key, vals in rows:
        cells = "  ".join(f"{_format(v):>{w}}" for v, w in zip(vals, w_col))
        print(f"{metric:<{w_metric}}  {str(key):<{w_key}}  {cells}", file=out)
    seconds = "  ".join(f"{timings[lab]:>{w}.1f}" for lab, w in zip(labels, w_col))
    print(f"{'seconds':<{w_metric}}  {'':<{w_key}}  " + seconds,
          file=out)
