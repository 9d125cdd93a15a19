"""pydisent.data.files: data roots, npz members, NORB matrices, gathers and missing-file messages."""

import gzip

import numpy as np
import pytest

from pydisent.data import (
    MPI3D,
    DSprites,
    MissingDataError,
    Shapes3D,
    make_dataset,
)
from pydisent.data.files import (
    NpzMember,
    data_root,
    gather,
    load_npz_array,
    read_norb_matrix,
    write_norb_matrix,
)


# -- helpers -----------------------------------------------------------------------------------------
def test_data_root_env(monkeypatch, tmp_path):
    monkeypatch.setenv("PYDISENT_DATA", str(tmp_path / "d"))
    assert data_root() == tmp_path / "d"
    assert data_root(tmp_path) == tmp_path
    monkeypatch.delenv("PYDISENT_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data_root() == tmp_path / "cache" / "pydisent"


@pytest.mark.parametrize("compressed", [False, True])
def test_npz_member(tmp_path, rng, compressed):
    a = rng.integers(0, 255, (1000, 3, 5), dtype=np.uint8)
    b = rng.standard_normal((7, 2))
    path = tmp_path / "x.npz"
    (np.savez_compressed if compressed else np.savez)(path, a=a, b=b)
    m = NpzMember(path, "a")
    assert m.shape == (1000, 3, 5) and m.stored == (not compressed) and m.dtype == np.uint8
    np.testing.assert_array_equal(m.read(), a)
    blocks = list(m.iter_rows(300))
    assert [s for s, _ in blocks] == [0, 300, 600, 900]
    np.testing.assert_array_equal(np.concatenate([blk for _, blk in blocks]), a)
    arr = load_npz_array(path, "a")
    assert isinstance(arr, np.memmap) != compressed
    np.testing.assert_array_equal(arr, a)
    mm = load_npz_array(path, "a", storage="memmap")  # a compressed member is extracted once
    assert isinstance(mm, np.memmap)
    np.testing.assert_array_equal(mm, a)
    np.testing.assert_array_equal(load_npz_array(path, "b", storage="memory"), b)
    with pytest.raises(ValueError, match="no array 'c'.*'a', 'b'"):
        NpzMember(path, "c")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not an .npz"):
        NpzMember(tmp_path / "bad.npz", "a")


def test_gather_orders_and_duplicates(tmp_path, rng):
    a = rng.integers(0, 255, (50, 4), dtype=np.uint8)
    np.save(tmp_path / "a.npy", a)
    mm = np.load(tmp_path / "a.npy", mmap_mode="r")
    idx = np.array([7, 3, 3, 49, 0, 7])
    for arr in (a, mm):
        np.testing.assert_array_equal(gather(arr, idx), a[idx])
    assert gather(mm, np.array([], dtype=np.int64)).shape == (0, 4)
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "a.h5", "w") as f:
        f["x"] = a
    with h5py.File(tmp_path / "a.h5", "r") as f:
        np.testing.assert_array_equal(gather(f["x"], idx), a[idx])
        np.testing.assert_array_equal(gather(f["x"], np.array([5])), a[[5]])


@pytest.mark.parametrize("suffix", [".mat", ".mat.gz"])
def test_norb_matrix_roundtrip(tmp_path, rng, suffix):
    for arr in (rng.integers(0, 255, (4, 2, 3, 3), dtype=np.uint8), rng.integers(0, 9, (6,), dtype=np.int32),
                rng.integers(0, 9, (6, 4), dtype=np.int32), rng.standard_normal((2, 3)).astype(np.float32)):
        p = tmp_path / f"m{arr.ndim}{suffix}"
        write_norb_matrix(p, arr)
        raw = gzip.open(p).read() if suffix.endswith(".gz") else p.read_bytes()
        assert int(np.frombuffer(raw[4:8], "<i4")[0]) == arr.ndim
        assert len(raw) == 8 + 4 * max(3, arr.ndim) + arr.nbytes  # at least 3 dims stored
        np.testing.assert_array_equal(read_norb_matrix(p), arr)
    (tmp_path / "bad.mat").write_bytes(b"\x00" * 20)
    with pytest.raises(ValueError, match="not a NORB binary matrix"):
        read_norb_matrix(tmp_path / "bad.mat")


# -- missing files -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,file,url", [
    ("shapes3d", "3dshapes.h5", "3d-shapes"), ("mpi3d_toy", "mpi3d_toy.npz", "rr-learning"),
    ("mpi3d_real", "mpi3d_real.npz", "rr-learning"), ("cars3d", "cars", "scottreed"),
    ("smallnorb", "smallnorb-5x46789x9x18x6x2x96x96-training-dat.mat", "ylclab"),
])
def test_missing_files_message(tmp_path, name, file, url):
    with pytest.raises(MissingDataError) as e:
        make_dataset(name, root=tmp_path)
    msg = str(e.value)
    assert file in msg and url in msg and str(tmp_path) in msg and "PYDISENT_DATA" in msg


def test_missing_file_env_var(tmp_path, monkeypatch):
    monkeypatch.setenv("PYDISENT_DATA", str(tmp_path / "envroot"))
    with pytest.raises(MissingDataError, match="envroot"):
        Shapes3D()
    with pytest.raises(MissingDataError, match="dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"):
        DSprites(source="file")
    ds = DSprites()  # source="auto" falls back to the procedural renderer
    assert ds.source == "procedural"
    with pytest.raises(MissingDataError, match="does not exist"):
        MPI3D(path=tmp_path / "nope.npz")
