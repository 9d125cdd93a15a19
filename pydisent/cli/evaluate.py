"""``pydisent evaluate``: score one or more representations on a ground-truth dataset.

Examples::

    python -m pydisent evaluate --dataset xyobject --baseline pca --baseline random_projection
    python -m pydisent evaluate --dataset dsprites --model my_encoder.pt --metrics mig dci --device cuda
    python -m pydisent evaluate --dataset xysquares --baseline pca --set mig.num_train=2000 --json out.json

Several representations are scored side by side (one column each) on the same samples (the same seed).
"""

from __future__ import annotations

import argparse
import ast
import sys
import time


def _count(text: str, minimum: int, what: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if v < minimum:
        raise argparse.ArgumentTypeError(f"expected {what}, got {v}")
    return v


def _positive(text: str) -> int:
    return _count(text, 1, "a positive integer")


def _seed(text: str) -> int:
    v = _count(text, 0, "an integer in 0..2**32-1")
    if v >= 2**32:  # numpy's RandomState (used for disentanglement_lib datasets) takes 32-bit seeds
        raise argparse.ArgumentTypeError(f"expected an integer in 0..2**32-1, got {v}")
    return v


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="score representations with disentanglement metrics",
                       description=__doc__, formatter_class=__import__("argparse").RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="xyobject", help="a name from `pydisent datasets` (default xyobject)")
    p.add_argument("--dataset-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="dataset constructor argument, e.g. grid_spacing=4 (repeatable)")
    p.add_argument("--model", action="append", default=[], metavar="SPEC",
                   help="a TorchScript file or 'module:callable' mapping observations to codes (repeatable)")
    p.add_argument("--baseline", action="append", default=[], metavar="NAME",
                   help="a built-in baseline representation: pca, random_projection (repeatable)")
    p.add_argument("--num-codes", type=_positive, default=10, help="code size of the baselines (default 10)")
    p.add_argument("--metrics", nargs="+", default=None, metavar="NAME",
                   help="metric names from `pydisent metrics` (default: every metric registered as a default "
                        "whose needs each scored representation declares; `pydisent metrics` lists them)")
    p.add_argument("--set", action="append", default=[], metavar="METRIC.KEY=VALUE",
                   help="metric option, e.g. mig.num_train=2000 or dci.fast=True (repeatable)")
    p.add_argument("--fast", action="store_true",
                   help="use the documented fast estimators where a metric has one (e.g. DCI with histogram boosting)")
    p.add_argument("--no-cache", action="store_true",
                   help="encode every sample anew (for a stochastic representation); by default each dataset "
                        "item is encoded once and its code reused")
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--device", default=None, help="device for observations and codes, e.g. cuda")
    p.add_argument("--batch-size", type=_positive, default=1024)
    p.add_argument("--all-keys", action="store_true",
                   help="print every key of every metric (default: each metric's headline numbers)")
    p.add_argument("--json", default=None, metavar="PATH",
                   help="also write the results as JSON (strict: NaN and infinities as null); the path "
                        "is checked before any work and written atomically")
    p.add_argument("--quiet", action="store_true", help="no per-metric progress lines")
    p.set_defaults(func=run)


def _literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_assignments(items, *, dotted: bool) -> dict:
    out: dict = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"pydisent: error: expected KEY=VALUE, got {item!r}")
        if dotted:
            metric, dot, opt = key.partition(".")
            if not dot or not opt:
                raise SystemExit(f"pydisent: error: --set expects METRIC.KEY=VALUE, got {item!r}")
            out.setdefault(metric, {})[opt] = _literal(value)
        else:
            out[key] = _literal(value)
    return out


def _format(v) -> str:
    if isinstance(v, float):
        return f"{v:.4f}"
    return str(v)


def run(args) -> int:
    from pydisent import provenance
    from pydisent._io import check_output_path, to_json, write_json
    from pydisent._validation import check_device
    from pydisent.data import make_dataset
    from pydisent.metrics import METRICS, default_metrics, evaluate
    from pydisent.metrics._registry import resolve
    from pydisent.models import load_representation, make_baseline

    # Everything a user can get wrong is checked before the first image is rendered: a typo must not
    # cost a whole run.
    if args.json is not None:
        check_output_path(args.json, "--json")
    check_device(args.device, "--device")
    requested = [resolve(n) for n in args.metrics] if args.metrics else None
    unknown = [n for n in requested or () if n not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; available: {sorted(METRICS)}")
    options = parse_assignments(args.set, dotted=True)
    try:
        to_json(options)  # the options are echoed in the JSON: a value JSON cannot hold fails now, not at the end
    except TypeError as e:
        raise ValueError(f"argument --set: {e}") from None
    if requested:
        _check_stray(options, requested)
    dataset = make_dataset(args.dataset, **parse_assignments(args.dataset_arg, dotted=False))
    reps = {}
    for spec in args.model:
        reps[spec] = load_representation(spec, device=args.device)
    for name in args.baseline:
        module = make_baseline(name, dataset, args.num_codes, rng=args.seed)
        reps[name] = module.to(args.device) if args.device else module
    if not reps:
        reps["pca"] = make_baseline("pca", dataset, args.num_codes, rng=args.seed)
        if args.device:
            reps["pca"] = reps["pca"].to(args.device)
    # the default set: what every representation provides (one table, one column each)
    names = requested or [n for n in METRICS if all(n in default_metrics(r) for r in reps.values())]
    _check_stray(options, names)
    results, timings = {}, {}
    for label, fn in reps.items():
        if not args.quiet:
            print(f"[pydisent] scoring {label} on {args.dataset} ({len(names)} metrics)", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        results[label] = evaluate(fn, dataset, names, seed=args.seed, device=args.device,
                                  batch_size=args.batch_size, options=options, progress=not args.quiet,
                                  fast=args.fast, cache_codes=not args.no_cache)
        timings[label] = time.perf_counter() - t0
    _print_table(results, timings, None if args.all_keys else {n: METRICS[n].headline for n in names})
    if args.json:
        payload = {"dataset": args.dataset, "seed": args.seed, "fast": args.fast, "metrics": names, "options": options,
                   "results": results, "seconds": timings, "provenance": provenance(args.device)}
        write_json(args.json, payload, name="--json")
    return 0


def _check_stray(options: dict, names) -> None:
    stray = sorted(set(options) - set(names))
    if stray:
        raise ValueError(f"argument --set names metrics that are not scored: {stray} (scored: {list(names)})")


def _print_table(results: dict, timings: dict, headline: dict | None) -> None:
    labels = list(results)
    rows = []
    first = results[labels[0]]
    for metric, keys in first.items():
        shown = [k for k in (headline or {}).get(metric, ()) if k in keys] or list(keys)
        for key in shown:
            rows.append((metric, key, [results[lab][metric].get(key) for lab in labels]))
    w_metric = max([len("metric")] + [len(r[0]) for r in rows])
    w_key = max([len("key")] + [len(str(r[1])) for r in rows])
    w_col = [max(10, len(lab)) for lab in labels]
    print(f"{'metric':<{w_metric}}  {'key':<{w_key}}  " + "  ".join(f"{lab:>{w}}" for lab, w in zip(labels, w_col)))
    for metric, key, vals in rows:
        cells = "  ".join(f"{_format(v):>{w}}" for v, w in zip(vals, w_col))
        print(f"{metric:<{w_metric}}  {str(key):<{w_key}}  {cells}")
    seconds = "  ".join(f"{timings[lab]:>{w}.1f}" for lab, w in zip(labels, w_col))
    print(f"{'seconds':<{w_metric}}  {'':<{w_key}}  " + seconds)
