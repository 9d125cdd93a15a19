"""Where dataset files live and how large arrays are read from them (no network access, ever).

The data folder is, in order: the ``root=`` argument of a loader, the ``PYDISENT_DATA`` environment
variable, or ``$XDG_CACHE_HOME/pydisent`` (default ``~/.cache/pydisent``). Each public dataset
looks for its files in ``<root>/<subfolder>/`` (and, for convenience, in ``<root>/`` itself); when a
file is missing, :class:`MissingDataError` says which file, where it is published and where to put it.

Large arrays are not copied into memory when that can be avoided: an uncompressed ``.npz`` member or
a raw SmallNORB matrix is memory-mapped, an HDF5 dataset is read lazily (see :func:`gather`).
"""

from __future__ import annotations

import gzip
import io
import logging
import os
import struct
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from pydisent._io import atomic_path

log = logging.getLogger(__name__)

ENV_VAR = "PYDISENT_DATA"


class MissingDataError(FileNotFoundError):
    """A dataset file the user has to provide is not in the data folder."""


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data folder: ``root`` if given, else ``$PYDISENT_DATA``, else ``$XDG_CACHE_HOME/pydisent``
    (``~/.cache/pydisent``)."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "pydisent"


def find_data(dataset: str, names: Sequence[str], *, subdir: str, root=None, path=None, url: str,
              note: str = "", kind: str = "file") -> Path:
    """The first existing ``<root>/<subdir>/<name>`` or ``<root>/<name>`` (or ``path`` itself).

    Raises:
        MissingDataError: naming the expected file, the folder it belongs in, and where it is published.
    """
    if path is not None:
        p = Path(path).expanduser()
        if p.exists():
            return p
        raise MissingDataError(f"{dataset}: the {kind} given as path={str(p)!r} does not exist. {_publish(url, note)}")
    base = data_root(root)
    for name in names:
        for cand in (base / subdir / name, base / name):
            if cand.exists():
                return cand
    want = " or ".join(repr(n) for n in names)
    where = base / subdir
    raise MissingDataError(
        f"{dataset}: {kind} {want} not found in {str(where)!r}. {_publish(url, note)} Put it in that folder "
        f"(the data folder is set by root=..., or the {ENV_VAR} environment variable, default "
        f"~/.cache/pydisent), or pass path=... . pydisent never downloads data."
    )


def _publish(url: str, note: str) -> str:
    return f"It is published at {url}{(' (' + note + ')') if note else ''}; download it yourself."


# -- .npz members ---------------------------------------------------------------------------
class NpzMember:
    """One array of an ``.npz`` archive, read without loading the whole archive.

    An uncompressed (``np.savez``) member is memory-mapped in place; a compressed
    (``np.savez_compressed``) one is streamed in chunks of rows.
    """

    def __init__(self, path: str | os.PathLike, key: str):
        self.path = Path(path)
        self.key = key
        try:
            zf = zipfile.ZipFile(self.path)
        except zipfile.BadZipFile as e:
            raise ValueError(f"{str(self.path)!r} is not an .npz (zip) archive: {e}") from None
        with zf:
            names = zf.namelist()
            member = key + ".npy"
            if member not in names:
                keys = sorted(n[:-4] for n in names if n.endswith(".npy"))
                raise ValueError(f"{str(self.path)!r} has no array {key!r}; it holds {keys}")
            self._info = zf.getinfo(member)
            with zf.open(member) as f:
                self.shape, self.fortran, self.dtype, self.header_len = _read_npy_header(f)
        self.stored = self._info.compress_type == zipfile.ZIP_STORED

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize

    def _data_offset(self) -> int:
        # the member's data start = local header (30 bytes + name + extra field) + the .npy header
        with open(self.path, "rb") as f:
            f.seek(self._info.header_offset)
            local = f.read(30)
            if local[:4] != b"PK\x03\x04":
                raise ValueError(f"{str(self.path)!r}: corrupt zip local header for {self.key!r}")
            name_len, extra_len = struct.unpack("<HH", local[26:30])
        return self._info.header_offset + 30 + name_len + extra_len + self.header_len

    def memmap(self) -> np.ndarray:
        if not self.stored:
            raise ValueError(f"{self.key!r} in {str(self.path)!r} is compressed and cannot be memory-mapped")
        return np.memmap(self.path, dtype=self.dtype, mode="r", offset=self._data_offset(), shape=tuple(self.shape),
                         order="F" if self.fortran else "C")

    def iter_rows(self, rows: int) -> Iterator[tuple[int, np.ndarray]]:
        """``(start, block)`` pairs covering the array in blocks of ``rows`` leading-axis rows."""
        if self.fortran and len(self.shape) > 1:
            raise ValueError(f"{self.key!r} in {str(self.path)!r} is Fortran-ordered; row streaming needs C order")
        n = int(self.shape[0]) if self.shape else 1
        row_shape = tuple(self.shape[1:])
        if self.stored:
            mm = self.memmap()
            for start in range(0, n, rows):
                yield start, np.asarray(mm[start:start + rows])
            return
        with zipfile.ZipFile(self.path) as zf, zf.open(self.key + ".npy") as f:
            f.read(self.header_len)
            for start in range(0, n, rows):
                block = np.empty((min(rows, n - start),) + row_shape, dtype=self.dtype)
                _readinto(f, block, self.path)
                yield start, block

    def read(self) -> np.ndarray:
        """The whole array in memory."""
        if self.stored:
            return np.array(self.memmap())
        out = np.empty(tuple(self.shape), dtype=self.dtype, order="F" if self.fortran else "C")
        with zipfile.ZipFile(self.path) as zf, zf.open(self.key + ".npy") as f:
            f.read(self.header_len)
            _readinto(f, out, self.path)
        return out


def _read_npy_header(f):
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
    else:
        raise ValueError(f"unsupported .npy format version {version}")
    if dtype.hasobject:
        raise ValueError("object arrays are not supported (they need pickle)")
    return tuple(int(s) for s in shape), bool(fortran), np.dtype(dtype), f.tell()


def _readinto(f, arr: np.ndarray, path) -> None:
    view = memoryview(arr.reshape(-1).view(np.uint8)) if arr.size else memoryview(b"")
    pos, total = 0, view.nbytes
    while pos < total:
        got = f.readinto(view[pos:pos + (64 << 20)])
        if not got:
            raise ValueError(f"{str(path)!r} ended early: read {pos} of {total} bytes")
        pos += got


def load_npz_array(path, key: str, storage: str = "auto", max_memory_bytes: int = 4 << 30) -> np.ndarray:
    """An ``.npz`` member as an array, memory-mapped where possible.

    ``storage``: ``"memory"`` reads it into RAM; ``"memmap"`` memory-maps it (a compressed member is
    first extracted once to ``<file>.<key>.npy`` next to the archive); ``"auto"`` memory-maps an
    uncompressed member, reads a compressed one into RAM up to ``max_memory_bytes`` and extracts it
    beyond that.
    """
    if storage not in ("auto", "memory", "memmap"):
        raise ValueError(f"argument 'storage' must be 'auto', 'memory' or 'memmap', got {storage!r}")
    member = NpzMember(path, key)
    if storage == "memory":
        return member.read()
    if member.stored:
        return member.memmap()
    if storage == "auto" and member.nbytes <= max_memory_bytes:
        return member.read()
    cache = Path(f"{member.path}.{key}.npy")
    if not cache.exists() or cache.stat().st_mtime < member.path.stat().st_mtime:
        log.warning("extracting %s[%r] (%.1f GB) to %s so that it can be memory-mapped", member.path, key,
                    member.nbytes / 1e9, cache)
        with atomic_path(cache) as tmp:
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=member.dtype, shape=tuple(member.shape))
            rows = max(1, (64 << 20) // max(1, member.nbytes // max(1, member.shape[0])))
            for start, block in member.iter_rows(rows):
                out[start:start + len(block)] = block
            out.flush()
            del out
    return np.load(cache, mmap_mode="r")


# -- NORB binary matrices ---------------------------------------------------------------------
_NORB_TYPES = {
    0x1E3D4C55: np.uint8,  # byte matrix
    0x1E3D4C54: np.int32,  # integer matrix
    0x1E3D4C56: np.int16,  # short matrix
    0x1E3D4C51: np.float32,  # single precision matrix
    0x1E3D4C53: np.float64,  # double precision matrix
}


def read_norb_matrix(path: str | os.PathLike, mmap: bool = True) -> np.ndarray:
    """A SmallNORB "binary matrix" file (``.mat`` or gzipped ``.mat.gz``).

    Format (little endian): int32 magic (the element type), int32 ``ndim``, ``max(3, ndim)`` int32
    dimensions (unused trailing ones are 1), then the data, last dimension fastest. Uncompressed files
    are memory-mapped.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ValueError(f"{str(path)!r} is too short to be a NORB binary matrix")
        magic, ndim = struct.unpack("<ii", head)
        if magic not in _NORB_TYPES:
            raise ValueError(f"{str(path)!r} is not a NORB binary matrix (magic {magic:#x})")
        if not 0 < ndim <= 16:
            raise ValueError(f"{str(path)!r}: implausible number of dimensions {ndim}")
        stored = max(3, ndim)
        dims = struct.unpack(f"<{stored}i", f.read(4 * stored))[:ndim]
        offset = 8 + 4 * stored
        dtype = np.dtype(_NORB_TYPES[magic]).newbyteorder("<")
        count = int(np.prod(dims, dtype=np.int64))
        if mmap and opener is open:
            size = path.stat().st_size
            if size < offset + count * dtype.itemsize:
                raise ValueError(f"{str(path)!r} is truncated: header says {dims}, file has {size} bytes")
            return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=tuple(dims))
        data = f.read(count * dtype.itemsize)
    if len(data) < count * dtype.itemsize:
        raise ValueError(f"{str(path)!r} is truncated: header says {dims}")
    return np.frombuffer(data, dtype=dtype, count=count).reshape(dims)


def write_norb_matrix(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write ``array`` in the NORB binary matrix format (the inverse of :func:`read_norb_matrix`)."""
    array = np.ascontiguousarray(array)
    inv = {np.dtype(v).newbyteorder("<"): k for k, v in _NORB_TYPES.items()}
    dt = array.dtype.newbyteorder("<")
    if dt not in inv:
        raise TypeError(f"argument 'array' has dtype {array.dtype}, not one of the NORB matrix types")
    dims = list(array.shape) + [1] * max(0, 3 - array.ndim)
    buf = io.BytesIO()
    buf.write(struct.pack("<ii", inv[dt], array.ndim))
    buf.write(struct.pack(f"<{len(dims)}i", *dims))
    buf.write(array.astype(dt, copy=False).tobytes())
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(buf.getvalue())


# -- HDF5 ---------------------------------------------------------------------------------------
class H5Array:
    """A lazily read HDF5 dataset that is safe to use from ``DataLoader`` worker processes: the file
    is (re)opened in each process on first access, and pickling keeps only the path and key."""

    def __init__(self, path, key: str):
        h5py = optional_import("h5py", "reading HDF5 datasets", "h5")
        self.path = str(path)
        self.key = key
        with h5py.File(self.path, "r") as f:
            if key not in f:
                raise ValueError(f"{self.path!r} has no dataset {key!r} (keys: {list(f)})")
            self.shape = tuple(int(v) for v in f[key].shape)
            self.dtype = np.dtype(f[key].dtype)
        self._file = None
        self._pid = None

    def _dataset(self):
        if self._file is None or self._pid != os.getpid():
            import h5py

            self._file = h5py.File(self.path, "r")
            self._pid = os.getpid()
        return self._file[self.key]

    def __getitem__(self, item):
        return self._dataset()[item]

    def __len__(self) -> int:
        return self.shape[0]

    def read(self) -> np.ndarray:
        """The whole dataset in memory."""
        return self._dataset()[()]

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k not in ("_file", "_pid")} | {"_file": None, "_pid": None}


# -- lazy gathers -----------------------------------------------------------------------------
def gather(array, indices: np.ndarray) -> np.ndarray:
    """``array[indices]`` for an ndarray, a memmap or an h5py dataset, as a fresh C-contiguous array.

    Memory-mapped and HDF5 arrays are read in increasing index order (each distinct row once: h5py
    requires increasing indices, and sorted reads keep disk access sequential)."""
    indices = np.asarray(indices, dtype=np.int64)
    if isinstance(array, np.ndarray) and not isinstance(array, np.memmap):
        return np.ascontiguousarray(array[indices])
    if indices.size == 0:
        return np.empty((0,) + tuple(array.shape[1:]), dtype=array.dtype)
    uniq, inverse = np.unique(indices, return_inverse=True)
    rows = np.asarray(array[uniq] if len(uniq) > 1 else array[int(uniq[0]):int(uniq[0]) + 1])
    return np.ascontiguousarray(rows[inverse.reshape(-1)])


def optional_import(module: str, dataset: str, extra: str, pip_name: str | None = None):
    """Import an optional dependency or raise an ImportError saying how to install it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        pkg = pip_name or module.split(".")[0]
        raise ImportError(f"{dataset} needs the optional package {pkg!r}: pip install 'pydisent[{extra}]' "
                          f"(or pip install {pkg})") from None
