"""Progress bars for every long step (tqdm on stderr), silenced by ``--quiet``."""

from __future__ import annotations

import sys


def progress_bar(iterable=None, *, desc: str = "", unit: str = "it", total=None, quiet: bool = False):
    """A ``tqdm`` bar over ``iterable`` on stderr; a silent pass-through when ``quiet`` (or tqdm is absent)."""
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is a dependency; keep the package importable without it
        tqdm = None
    if tqdm is None or quiet:
        return _Silent(iterable, total)
    return tqdm(iterable, desc=desc, unit=unit, total=total, file=sys.stderr, leave=False, dynamic_ncols=True)


class _Silent:
    def __init__(self, iterable, total):
        self._it = iterable if iterable is not None else range(total or 0)

    def __iter__(self):
        return iter(self._it)

    def set_postfix_str(self, *a, **k):
        pass

    def set_description(self, *a, **k):
        pass

    def update(self, *a, **k):
        pass

    def close(self):
        pass
