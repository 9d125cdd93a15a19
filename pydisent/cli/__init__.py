"""Command line: ``python -m pydisent <command>`` (also installed as ``pydisent``).

Commands are modules of this package that define ``add_parser(subparsers)``; the list below is the
one place they are named. User errors (bad names, missing files, a run folder from another version) are
printed as one line and exit with status 2; Ctrl-C exits with 130 (files already written stay valid).
``PYDISENT_DEBUG=1`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

COMMANDS = ("info", "evaluate", "listing", "demo", "compare", "report", "bench")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pydisent", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"pydisent.cli.{name}").add_parser(sub)
    return parser


def _user_errors() -> tuple:
    from pydisent.data.files import MissingDataError

    return (ValueError, TypeError, FileNotFoundError, NotADirectoryError, PermissionError, MissingDataError)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if os.environ.get("PYDISENT_DEBUG"):
        return int(args.func(args) or 0)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("pydisent: interrupted (files already written are complete)", file=sys.stderr)
        return 130
    except _user_errors() as e:
        msg = " ".join(str(e).split()) or type(e).__name__
        print(f"pydisent {args.command}: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
