"""Command line: ``python -m pydisent <command>`` (also installed as ``pydisent``).

Commands are modules of this package that define ``add_parser(subparsers)``; the list below is the
one place they are named.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ("info", "evaluate", "listing", "train")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pydisent", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"pydisent.cli.{name}").add_parser(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
