"""Every file pydisent writes goes through here: checked before work starts, written atomically.

A reader (or a second run, or a Ctrl-C) never sees a half-written file: the bytes go to a temporary
file in the destination's folder (same file system, so the rename is atomic), are flushed and
``fsync``ed, and only then ``os.replace`` the destination. On any error the temporary file is removed
and the old destination, if any, is left untouched.

* ``check_output_path(path)``: fail early, before minutes of work, when ``path`` cannot be written
  (missing folder, a folder where a file is expected, no write permission).
* ``atomic_write(path, data)``: write ``bytes`` or ``str`` in one call.
* ``atomic_open(path, mode)``: the context-manager form, a file object (``"w"`` or ``"wb"``).
* ``atomic_path(path)``: for writers that insist on a file name (``np.lib.format.open_memmap``,
  ``matplotlib``'s ``savefig``): a temporary path with the same suffix, moved into place on success.
* ``to_json`` / ``write_json``: strict JSON (RFC 8259): NaN and infinities become ``null``, NumPy and
  torch scalars and arrays become numbers and lists; anything else is a ``TypeError``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = ["atomic_open", "atomic_path", "atomic_write", "check_output_path", "json_safe", "to_json", "write_json"]


def _umask() -> int:
    # os.umask can only be read by setting it; done once at import, before any thread writes files.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()


def check_output_path(path, name: str = "path") -> Path:
    """``path`` as a ``Path`` if a file can be written there, else a ``ValueError`` naming ``name``.

    Checks that the folder exists and is writable and that ``path`` is not itself a folder. Nothing
    is created. Call it when arguments are parsed, before any work whose result would be lost.
    """
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"argument '{name}' must be a path (str or os.PathLike), got {type(path).__name__}")
    p = Path(path)
    if not str(path):
        raise ValueError(f"argument '{name}' must be a file path, got an empty string")
    if p.is_dir():
        raise ValueError(f"argument '{name}': {str(p)!r} is a folder, expected a file path")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.exists():
        raise ValueError(f"argument '{name}': the folder {str(folder)!r} does not exist (create it first)")
    if not folder.is_dir():
        raise ValueError(f"argument '{name}': {str(folder)!r} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"argument '{name}': the folder {str(folder)!r} is not writable")
    if p.exists() and not os.access(p, os.W_OK):
        raise ValueError(f"argument '{name}': {str(p)!r} exists and is not writable")
    return p


def _final_mode(p: Path) -> int:
    try:
        return os.stat(p).st_mode & 0o7777  # keep an existing file's permissions
    except FileNotFoundError:
        return 0o666 & ~_UMASK  # what open() would have given a new file


@contextlib.contextmanager
def atomic_path(path, name: str = "path") -> Iterator[Path]:
    """A temporary path beside ``path`` (same suffix); on a clean exit it replaces ``path``.

    ``with atomic_path("fig.png") as tmp: fig.savefig(tmp)``. On an exception the temporary file is
    deleted and ``path`` keeps its old content. The writer must have closed the file on exit.
    """
    p = check_output_path(path, name)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=f".tmp{p.suffix}", dir=p.parent if str(p.parent) else ".")
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        with open(tmp, "rb+") as f:  # the writer closed it; make its bytes durable before the rename
            os.fsync(f.fileno())
        os.chmod(tmp, _final_mode(p))
        os.replace(tmp, p)
    except BaseException:  # KeyboardInterrupt included: never leave the temporary file behind
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_open(path, mode: str = "w", *, encoding: str | None = "utf-8", newline: str | None = None,
                name: str = "path") -> Iterator[IO]:
    """``open(path, mode)`` for writing, atomically: ``with atomic_open(p, "wb") as f: torch.save(obj, f)``.

    ``mode`` is ``"w"`` (text, ``encoding`` utf-8 by default) or ``"wb"``.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"argument 'mode' must be 'w' or 'wb', got {mode!r}")
    with atomic_path(path, name) as tmp:
        kw = {} if mode == "wb" else {"encoding": encoding, "newline": newline}
        with open(tmp, mode, **kw) as f:
            yield f
            f.flush()


def atomic_write(path, data: bytes | str, *, encoding: str = "utf-8", name: str = "path") -> Path:
    """Write ``data`` (``bytes``, or ``str`` encoded with ``encoding``) to ``path`` atomically; returns the path."""
    if isinstance(data, str):
        data = data.encode(encoding)
    elif isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    elif not isinstance(data, bytes):
        raise TypeError(f"argument 'data' must be bytes or str, got {type(data).__name__}")
    with atomic_open(path, "wb", name=name) as f:
        f.write(data)
    return Path(path)


# -- strict JSON ---------------------------------------------------------------------------------
def json_safe(obj):
    """``obj`` with every value JSON can hold: non-finite floats -> ``None``, NumPy/torch -> Python.

    Dict keys become strings (as ``json`` does for numbers); tuples become lists. Raises ``TypeError``
    naming the type of anything else.
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {(k if isinstance(k, str) else str(json_safe(k))): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    tolist = getattr(obj, "tolist", None)  # numpy scalars/arrays, torch tensors
    if callable(tolist) and type(obj).__module__.split(".")[0] in ("numpy", "torch"):
        if hasattr(obj, "detach"):
            obj = obj.detach().cpu()
        return json_safe(obj.tolist())
    raise TypeError(f"cannot write a {type(obj).__module__}.{type(obj).__name__} as JSON")


def to_json(obj, *, indent: int | None = 1) -> str:
    """Strict JSON text of ``obj`` (see ``json_safe``): no ``NaN``/``Infinity`` tokens, ever."""
    return json.dumps(json_safe(obj), indent=indent, allow_nan=False) + "\n"


def write_json(path, obj, *, indent: int | None = 1, name: str = "path") -> Path:
    """``to_json(obj)`` written atomically to ``path``."""
    return atomic_write(path, to_json(obj, indent=indent), name=name)
