"""Command line: ``python -m pydisent <command>`` (also installed as ``pydisent``).

Commands are modules of this package that define ``add_parser(subparsers)``; the list below is the
one place they are named.

Errors: a bad argument, file or input ends the process with one line on stderr,
``pydisent: error: <what was wrong and what was expected>``, and exit status 2 (as argparse's own
usage errors); any other failure prints one line naming the exception type, exit status 1; Ctrl-C
exits with 130. ``--debug`` (anywhere on the command line) or ``PYDISENT_DEBUG=1`` shows the full
traceback instead. :func:`main` is the programmatic form: it raises the exceptions.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

COMMANDS = ("info", "evaluate", "listing", "train")

# What a user can cause (a wrong name, value, path or file): reported as a usage error, no traceback.
USER_ERRORS = (ValueError, TypeError, LookupError, OSError, MemoryError, ImportError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pydisent", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error (also PYDISENT_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"pydisent.cli.{name}").add_parser(sub)
    for p in sub.choices.values():  # `pydisent evaluate ... --debug` works as well as `pydisent --debug evaluate`
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def main(argv=None) -> int:
    """Run a command; exceptions propagate (see :func:`entry` for the process entry point)."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


def _debug_env() -> bool:
    return os.environ.get("PYDISENT_DEBUG", "").strip().lower() not in ("", "0", "false", "no")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def entry(argv=None) -> int:
    """The process entry point (``pydisent``, ``python -m pydisent``): :func:`main` with errors as one line."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = _debug_env() or "--debug" in argv
    try:
        return main(argv)
    except KeyboardInterrupt:
        if debug:
            raise
        print("pydisent: interrupted", file=sys.stderr)
        return 130
    except SystemExit as e:
        if isinstance(e.code, str):  # a usage error raised as SystemExit("...")
            msg = e.code.removeprefix("pydisent: ").removeprefix("error: ")
            print(f"pydisent: error: {_one_line(msg)}", file=sys.stderr)
            return 2
        raise
    except Exception as e:  # the one place every failure becomes a message
        if debug:
            raise
        msg = _one_line(str(e)) or type(e).__name__
        if isinstance(e, USER_ERRORS):
            print(f"pydisent: error: {msg}", file=sys.stderr)
            return 2
        print(f"pydisent: error: {msg} ({type(e).__name__}; run with --debug or PYDISENT_DEBUG=1 for the "
              f"traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(entry())
