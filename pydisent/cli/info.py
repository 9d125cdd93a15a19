"""``pydisent info``: the provenance of this installation (:func:`pydisent.provenance`: version, commit,
build with CUDA / OpenMP threads / devices, package versions, machine, CPU)."""

from __future__ import annotations

import json


def add_parser(sub) -> None:
    p = sub.add_parser("info", help="print version, build, package, machine and device information")
    p.add_argument("--device", default=None, help="the device to describe, e.g. cuda (default cpu)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def run(args) -> int:
    from pydisent import provenance

    info = provenance(args.device)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    flat = {}
    for k, v in info.items():
        flat.update({f"{k}.{kk}": vv for kk, vv in v.items()} if isinstance(v, dict) else {k: v})
    width = max(len(k) for k in flat)
    for k, v in flat.items():
        print(f"{k:<{width}}  {v}")
    return 0
