"""Pieces shared by the command modules: output flags, KEY=VALUE parsing, JSON on stdout."""

from __future__ import annotations

import argparse
import ast
import json
import sys


class UserError(ValueError):
    """A mistake on the command line: printed as one line, exit status 2, no traceback."""


def _count(text: str, minimum: int, what: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if v < minimum:
        raise argparse.ArgumentTypeError(f"expected {what}, got {v}")
    return v


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return _count(text, 1, "a positive integer")


def seed_int(text: str) -> int:
    """argparse type: a seed in 0..2**32-1 (numpy's RandomState, used for disentanglement_lib datasets)."""
    v = _count(text, 0, "an integer in 0..2**32-1")
    if v >= 2**32:
        raise argparse.ArgumentTypeError(f"expected an integer in 0..2**32-1, got {v}")
    return v


def add_output_flags(p, *, json_help: str = "print the result as JSON on stdout (no table)") -> None:
    p.add_argument("--quiet", action="store_true", help="no progress bars or progress lines")
    p.add_argument("--json", action="store_true", dest="json_out", help=json_help)


def literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_assignments(items, *, dotted: bool, option: str = "--set") -> dict:
    """``["a.b=1", ...]`` -> ``{"a": {"b": 1}}`` (``dotted``) or ``["k=v"]`` -> ``{"k": v}``; values are Python
    literals where they parse as one, strings otherwise."""
    out: dict = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"error: {option} expects KEY=VALUE, got {item!r}")
        if dotted:
            metric, dot, opt = key.partition(".")
            if not dot or not opt:
                raise SystemExit(f"error: {option} expects METRIC.KEY=VALUE, got {item!r}")
            out.setdefault(metric, {})[opt] = literal(value)
        else:
            out[key] = literal(value)
    return out


def print_json(obj) -> None:
    from pydisent._io import to_json

    sys.stdout.write(to_json(obj))
    sys.stdout.flush()


def log(args, message: str) -> None:
    """A progress line on stderr, unless ``--quiet``."""
    if not getattr(args, "quiet", False):
        print(f"[pydisent] {message}", file=sys.stderr, flush=True)


__all__ = ["UserError", "add_output_flags", "literal", "parse_assignments", "print_json", "log", "json"]
