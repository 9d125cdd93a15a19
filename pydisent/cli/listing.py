"""``pydisent metrics`` and ``pydisent datasets``: what can be named on the command line."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("metrics", help="list the metric names, what each needs and its summary")
    p.set_defaults(func=run_metrics)
    p = sub.add_parser("datasets", help="list the dataset names")
    p.set_defaults(func=run_datasets)


def run_metrics(args) -> int:
    from pydisent.metrics import METRICS

    width = max((len(n) for n in METRICS), default=0)
    needs = max((len(m.needs) for m in METRICS.values()), default=0)
    for name, m in METRICS.items():
        flags = "" if m.default else "  (not by default)"
        print(f"{name:<{width}}  {m.needs:<{needs}}  {m.summary}{flags}")
    return 0


def run_datasets(args) -> int:
    from pydisent.data import DATASETS

    width = max(len(n) for n in DATASETS)
    for name, cls in sorted(DATASETS.items()):
        doc = (cls.__doc__ or "").strip().splitlines()
        print(f"{name:<{width}}  {doc[0] if doc else cls.__name__}")
    return 0
