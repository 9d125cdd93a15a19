"""One `pydisent demo --quick` per test session, shared by the report, browser and CLI tests."""

from __future__ import annotations

import json
from pathlib import Path

_CACHE: dict = {}


def quick_demo(tmp_path_factory) -> tuple[Path, dict]:
    """The output folder of ``pydisent demo --quick --json`` and its JSON summary (run once per session)."""
    if "out" not in _CACHE:
        import contextlib
        import io

        from pydisent.cli import main

        out = tmp_path_factory.mktemp("demo") / "out"
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            rc = main(["demo", "--quick", "--out", str(out), "--quiet", "--json"])
        assert rc == 0
        _CACHE["out"], _CACHE["summary"] = out, json.loads(buf.getvalue())
    return _CACHE["out"], _CACHE["summary"]
