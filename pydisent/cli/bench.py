"""``pydisent bench [--only SUITE ...]``: the benchmark suites, pydisent and the installed peers side by side.

Runs ``python -m benchmarks SUITE ...`` from the source tree (the suites live in ``benchmarks/`` beside the
package, not in the wheel): each prints its table (median seconds, peer / pydisent ratio, device) and writes
JSON with the machine, versions and date to ``benchmarks/results/``. Peers that are not installed are
reported as skipped by the suites (``pip install -e ".[bench]"`` installs them).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pydisent.cli._common import UserError, print_json

KNOWN = ("distance", "rips", "pca", "data", "metrics", "linearity", "topology", "witness", "train")


def benchmarks_dir() -> Path | None:
    root = Path(__file__).resolve().parents[2]
    d = root / "benchmarks"
    return d if (d / "__main__.py").is_file() else None


def available() -> list[str]:
    d = benchmarks_dir()
    return sorted(p.stem[len("bench_"):] for p in d.glob("bench_*.py")) if d else []


def add_parser(sub) -> None:
    p = sub.add_parser("bench", help="run the benchmark suites side by side with the installed peers",
                       description=__doc__)
    p.add_argument("--only", nargs="+", default=None, metavar="SUITE",
                   help=f"suites to run (default: all there are; known: {', '.join(KNOWN)})")
    p.add_argument("--list", action="store_true", help="list the suites of this source tree and exit")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--quick", action="store_true", help="small sizes only (a smoke run)")
    p.add_argument("--no-save", action="store_true", help="do not write JSON to benchmarks/results/")
    p.add_argument("--json", action="store_true", dest="json_out", help="print the suites and exit codes as JSON")
    p.add_argument("--quiet", action="store_true", help="accepted for symmetry; the suites print their tables")
    p.set_defaults(func=run)


def run(args) -> int:
    d = benchmarks_dir()
    if d is None:
        raise UserError("the benchmark suites live in the source tree (benchmarks/ beside pydisent/); run "
                        "`pydisent bench` from a checkout installed with `pip install -e .`")
    have = available()
    if args.list:
        if args.json_out:
            print_json({"suites": have})
        else:
            print("\n".join(have))
        return 0
    suites = args.only or have
    unknown = [s for s in suites if s not in have]
    if unknown:
        missing = [s for s in unknown if s in KNOWN]
        detail = f" ({', '.join(missing)} not in this source tree yet)" if missing else ""
        raise UserError(f"unknown benchmark suite(s) {', '.join(unknown)}{detail}; valid: {', '.join(have)}")
    cmd = [sys.executable, "-m", "benchmarks", *suites, "--device", args.device]
    if args.quick:
        cmd.append("--quick")
    if args.no_save:
        cmd.append("--no-save")
    rc = subprocess.call(cmd, cwd=str(d.parent))
    if args.json_out:
        print_json({"suites": suites, "command": cmd, "returncode": rc})
    return rc
