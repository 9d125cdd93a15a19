"""``python -m benchmarks SUITE [SUITE ...] [--device cpu|cuda] [--quick] [--repeats N] [--no-save] [--results-dir D]``

Suites are the modules ``benchmarks/bench_<suite>.py``; ``python -m benchmarks --list`` names them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from benchmarks.harness import RESULTS_DIR, run_cases

HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    return sorted(p.stem[len("bench_"):] for p in HERE.glob("bench_*.py"))


def _subject_only(case):
    """The case with its pydisent implementations only (names starting with "pydisent")."""
    import dataclasses

    return dataclasses.replace(case, impls={k: v for k, v in case.impls.items() if k.startswith("pydisent")})


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("suites", nargs="*", help="suites to run (default: all)")
    p.add_argument("--list", action="store_true", help="list the suites and exit")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--quick", action="store_true", help="small sizes only (a smoke run)")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--budget", type=float, default=20.0, help="seconds of repeats per implementation")
    p.add_argument("--no-save", action="store_true", help="do not write JSON to benchmarks/results/")
    p.add_argument("--results-dir", default=None, help="write the JSON there instead of benchmarks/results/")
    p.add_argument("--tag", default="", help="suffix for the result file name")
    p.add_argument("--no-peers", action="store_true",
                   help="time the pydisent rows only (a smoke run: benchmarks/gpu_check.sh --device cpu)")
    args = p.parse_args(argv)
    if args.list:
        print("\n".join(available()))
        return 0
    suites = args.suites or available()
    unknown = sorted(set(suites) - set(available()))
    if unknown:
        p.error(f"unknown suite(s) {unknown}; available: {available()}")
    out_dir = None if args.no_save else (Path(args.results_dir) if args.results_dir else RESULTS_DIR)
    for name in suites:
        mod = importlib.import_module(f"benchmarks.bench_{name}")
        cases = mod.cases(args)
        if args.no_peers:
            cases = (_subject_only(c) for c in cases)
        run_cases(cases, suite=name, device=args.device, warmup=args.warmup, repeats=args.repeats,
                  budget_s=args.budget, out_dir=out_dir, tag=args.tag)
    return 0


if __name__ == "__main__":
    sys.exit(main())
