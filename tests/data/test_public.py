"""pydisent.data.public (and dSprites' file): the public datasets read from fake files."""

import numpy as np
import pytest
import torch

from pydisent.data import (
    MPI3D,
    Cars3D,
    DSprites,
    FactorSpace,
    MissingDataError,
    Shapes3D,
    SmallNORB,
    make_dataset,
)
from pydisent.data.files import read_norb_matrix, write_norb_matrix


def encode(idx: np.ndarray) -> np.ndarray:
    """Flat index -> 3 bytes (1 x 1 x 3 'image')."""
    idx = np.asarray(idx, dtype=np.int64)
    return np.stack([idx & 255, (idx >> 8) & 255, (idx >> 16) & 255], axis=-1).astype(np.uint8)[:, None, None, :]


def decode(imgs) -> np.ndarray:
    x = np.asarray(imgs, dtype=np.int64).reshape(len(imgs), -1)
    return x[:, 0] | (x[:, 1] << 8) | (x[:, 2] << 16)


# -- dSprites file -----------------------------------------------------------------------------------
def _fake_dsprites(path, rng, classes="ok", compressed=True):
    n = 737280
    bits = np.unpackbits(encode(np.arange(n)).reshape(n, 3, 1), axis=-1)  # (n, 3, 8) 0/1 pixels
    arrays = {"imgs": bits}
    if classes is not None:
        lc = FactorSpace([1, 3, 6, 40, 32, 32]).idx_to_pos(np.arange(n))
        if classes == "shuffled":
            lc = lc[rng.permutation(n)]
        arrays["latents_classes"] = lc
    (np.savez_compressed if compressed else np.savez)(path, **arrays)


def test_dsprites_file(tmp_path, rng):
    (tmp_path / "dsprites").mkdir()
    _fake_dsprites(tmp_path / "dsprites" / "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz", rng)
    ds = DSprites(root=tmp_path, transform=None)
    assert ds.source == "file" and ds.raw_shape == (3, 8, 1)
    f = ds.factor_space.sample_factors(500, rng)
    imgs = ds.raw_observations(f).numpy()
    assert set(np.unique(imgs)) <= {0, 255}
    got = decode(np.packbits(imgs[..., 0] > 0, axis=-1))
    np.testing.assert_array_equal(got, ds.factor_space.pos_to_idx(f))
    # the procedural images stay available
    assert ds.render_procedural(f[:3]).shape == (3, 64, 64, 1)
    # explicit path, uncompressed archive, no latents_classes
    p = tmp_path / "plain.npz"
    _fake_dsprites(p, rng, classes=None, compressed=False)
    ds2 = DSprites(source="file", path=p, transform=None)
    assert torch.equal(ds2.raw_observations(f), ds.raw_observations(f))


def test_dsprites_file_bad_order(tmp_path, rng):
    p = tmp_path / "bad.npz"
    _fake_dsprites(p, rng, classes="shuffled")
    with pytest.raises(ValueError, match="latents_classes"):
        DSprites(path=p)
    np.savez(tmp_path / "short.npz", imgs=np.zeros((10, 64, 64), np.uint8))
    with pytest.raises(ValueError, match="737280"):
        DSprites(path=tmp_path / "short.npz")


# -- Shapes3D ------------------------------------------------------------------------------------------
SHAPES3D_SIZES = (10, 10, 10, 8, 4, 15)


def _shapes3d_labels():
    fs = FactorSpace(SHAPES3D_SIZES)
    pos = fs.idx_to_pos(np.arange(fs.size)).astype(np.float64)
    values = [np.linspace(0, 0.9, 10), np.linspace(0, 0.9, 10), np.linspace(0, 0.9, 10),
              np.linspace(0.75, 1.25, 8), np.arange(4.0), np.linspace(-30, 30, 15)]
    return np.column_stack([values[k][pos[:, k].astype(int)] for k in range(6)])


def test_shapes3d_h5(tmp_path, rng):
    h5py = pytest.importorskip("h5py")
    (tmp_path / "shapes3d").mkdir()
    n = 480000
    with h5py.File(tmp_path / "shapes3d" / "3dshapes.h5", "w") as f:
        f.create_dataset("images", data=encode(np.arange(n)), chunks=(1000, 1, 1, 3), compression="gzip")
        f["labels"] = _shapes3d_labels()
    for in_memory in (False, True):
        ds = Shapes3D(root=tmp_path, in_memory=in_memory, transform=None)
        assert ds.factor_space.names == ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
        f = ds.factor_space.sample_factors(400, rng)
        np.testing.assert_array_equal(decode(ds.raw_observations(f).numpy()), ds.factor_space.pos_to_idx(f))
    obs = Shapes3D(root=tmp_path).observations(f[:4])
    assert obs.shape == (4, 3, 1, 1) and obs.dtype == torch.float32
    # a file whose labels are not row-major is refused
    bad = tmp_path / "bad.h5"
    labels = _shapes3d_labels()
    with h5py.File(bad, "w") as f:
        f["images"] = encode(np.arange(n))
        f["labels"] = labels[rng.permutation(n)]
    with pytest.raises(ValueError, match="'labels' column"):
        Shapes3D(path=bad)
    Shapes3D(path=bad, verify_labels=False)


def test_shapes3d_npz(tmp_path, rng):
    n = 480000
    p = tmp_path / "look-at-object-room_floor-hueXwall-hueXobj-hueXobj-sizeXobj-shapeXview-azi.npz"
    np.savez(p, images=encode(np.arange(n)).reshape(SHAPES3D_SIZES + (1, 1, 3)),
             labels=_shapes3d_labels().reshape(SHAPES3D_SIZES + (6,)))
    ds = Shapes3D(root=tmp_path, transform=None)
    f = ds.factor_space.sample_factors(300, rng)
    np.testing.assert_array_equal(decode(ds.raw_observations(f).numpy()), ds.factor_space.pos_to_idx(f))


# -- MPI3D -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("compressed", [False, True])
def test_mpi3d(tmp_path, rng, compressed):
    (tmp_path / "mpi3d").mkdir()
    n = 1036800
    (np.savez_compressed if compressed else np.savez)(tmp_path / "mpi3d" / "mpi3d_realistic.npz",
                                                      images=encode(np.arange(n)))
    ds = make_dataset("mpi3d_realistic", root=tmp_path, transform=None)
    assert ds.variant == "realistic" and isinstance(ds.images, np.memmap) != compressed
    assert ds.factor_space.names == ("object_color", "object_shape", "object_size", "camera_height",
                                     "background_color", "horizontal_axis", "vertical_axis")
    assert list(ds.factor_sizes) == [6, 6, 2, 3, 3, 40, 40]
    f = ds.factor_space.sample_factors(500, rng)
    np.testing.assert_array_equal(decode(ds.raw_observations(f).numpy()), ds.factor_space.pos_to_idx(f))
    with pytest.raises(MissingDataError, match="mpi3d_toy.npz"):
        MPI3D(root=tmp_path)
    with pytest.raises(ValueError, match="'variant'"):
        MPI3D(variant="complex", root=tmp_path)


# -- Cars3D ------------------------------------------------------------------------------------------
def _fake_cars(folder, n_objects=183, with_list=True):
    sio = pytest.importorskip("scipy.io")
    folder.mkdir(parents=True)
    names = []
    for obj in range(n_objects):
        im = np.zeros((4, 4, 3, 24, 4), dtype=np.uint8)  # (H, W, RGB, azimuth, elevation)
        for az in range(24):
            for el in range(4):
                im[:, :, :, az, el] = [obj, az * 10, el * 60]
        name = f"car_{(obj * 37) % 1000:03d}_mesh"  # file names not in object order
        names.append(name)
        sio.savemat(folder / f"{name}.mat", {"im": im, "mask": np.zeros((4, 4, 24, 4), np.uint8)})
    if with_list:
        (folder / "list.txt").write_text("\n".join(names) + "\n")
    return names


def test_cars3d(tmp_path, rng):
    names = _fake_cars(tmp_path / "cars3d" / "cars")
    ds = Cars3D(root=tmp_path, size=None, transform=None)
    assert ds.factor_space.names == ("elevation", "azimuth", "object_type")
    assert list(ds.factor_sizes) == [4, 24, 183] and ds.raw_shape == (4, 4, 3)
    f = ds.factor_space.sample_factors(300, rng)
    imgs = ds.raw_observations(f).numpy()
    assert (imgs == imgs[:, :1, :1]).all()
    np.testing.assert_array_equal(imgs[:, 0, 0], np.column_stack([f[:, 2], f[:, 1] * 10, f[:, 0] * 60]))
    # resized to 64 x 64 with PIL's Lanczos filter (a constant image stays constant up to rounding)
    ds64 = Cars3D(root=tmp_path, transform=None)
    assert ds64.raw_shape == (64, 64, 3)
    big = ds64.raw_observations(f[:20]).numpy().astype(int)
    assert np.abs(big - imgs[:20, :1, :1].astype(int)).max() <= 1
    # without list.txt the objects follow the sorted file names
    (tmp_path / "cars3d" / "cars" / "list.txt").unlink()
    ds_sorted = Cars3D(root=tmp_path, size=None, transform=None)
    order = np.argsort(names)
    g = f.copy()
    g[:, 2] = np.argsort(order)[f[:, 2]]
    assert torch.equal(ds_sorted.raw_observations(g), ds.raw_observations(f))


def test_cars3d_bad_folder(tmp_path):
    _fake_cars(tmp_path / "cars", n_objects=3, with_list=False)
    with pytest.raises(ValueError, match="expected 183 .mat files"):
        Cars3D(path=tmp_path / "cars")
    assert len(Cars3D(path=tmp_path / "cars", num_objects=None, size=None)) == 4 * 24 * 3
    (tmp_path / "empty").mkdir()
    with pytest.raises(MissingDataError, match="no .mat files"):
        Cars3D(path=tmp_path / "empty")


# -- SmallNORB ---------------------------------------------------------------------------------------
def _fake_norb(folder, split, rng, gz=False):
    chunk = {"train": "5x46789x9x18x6x2x96x96-training", "test": "5x01235x9x18x6x2x96x96-testing"}[split]
    ids = [4, 6, 7, 8, 9] if split == "train" else [0, 1, 2, 3, 5]
    fs = FactorSpace([5, 5, 9, 18, 6])
    pos = fs.idx_to_pos(np.arange(fs.size))
    perm = rng.permutation(fs.size)  # the files list the images in another order
    pos = pos[perm]
    cat = pos[:, 0].astype(np.int32)
    info = np.column_stack([np.array(ids)[pos[:, 1]], pos[:, 2], pos[:, 3] * 2, pos[:, 4]]).astype(np.int32)
    dat = np.zeros((fs.size, 2, 2, 3), dtype=np.uint8)
    dat[:, 0, 0, :] = pos[:, :3]  # left image encodes its factors
    dat[:, 0, 1, :] = np.column_stack([pos[:, 3], pos[:, 4], np.full(fs.size, 200)])
    dat[:, 1] = 255  # the right camera must be ignored
    folder.mkdir(parents=True, exist_ok=True)
    ext = ".mat.gz" if gz else ".mat"
    write_norb_matrix(folder / f"smallnorb-{chunk}-dat.mat", dat)
    write_norb_matrix(folder / f"smallnorb-{chunk}-cat{ext}", cat)
    write_norb_matrix(folder / f"smallnorb-{chunk}-info{ext}", info)


@pytest.mark.parametrize("split,gz", [("train", False), ("test", True)])
def test_smallnorb(tmp_path, rng, split, gz):
    _fake_norb(tmp_path / "smallnorb", split, rng, gz=gz)
    ds = SmallNORB(split=split, root=tmp_path, size=None, transform=None)
    assert ds.factor_space.names == ("category", "instance", "elevation", "azimuth", "lighting")
    assert list(ds.factor_sizes) == [5, 5, 9, 18, 6] and ds.raw_shape == (2, 3, 1)
    np.testing.assert_array_equal(ds.instance_ids, [4, 6, 7, 8, 9] if split == "train" else [0, 1, 2, 3, 5])
    f = ds.factor_space.sample_factors(400, rng)
    imgs = ds.raw_observations(f).numpy()[..., 0]
    np.testing.assert_array_equal(imgs[:, 0, :], f[:, :3])
    np.testing.assert_array_equal(imgs[:, 1, :2], f[:, 3:])
    ds64 = SmallNORB(split=split, root=tmp_path)
    assert ds64.raw_shape == (64, 64, 1) and ds64.observations(f[:2]).shape == (2, 1, 64, 64)


def test_smallnorb_bad_files(tmp_path, rng):
    _fake_norb(tmp_path, "train", rng)
    chunk = "5x46789x9x18x6x2x96x96-training"
    info = np.array(read_norb_matrix(tmp_path / f"smallnorb-{chunk}-info.mat"))
    info[1] = info[0]  # a duplicated factor combination
    write_norb_matrix(tmp_path / f"smallnorb-{chunk}-info.mat", info)
    with pytest.raises(ValueError, match="more than once"):
        SmallNORB(path=tmp_path, size=None)
    with pytest.raises(MissingDataError, match="testing-dat.mat"):
        SmallNORB(split="test", path=tmp_path)
    with pytest.raises(ValueError, match="'split'"):
        SmallNORB(split="val", path=tmp_path)


def test_shapes3d_h5_in_dataloader_workers(tmp_path, rng):
    import pickle

    h5py = pytest.importorskip("h5py")
    n = 480000
    with h5py.File(tmp_path / "3dshapes.h5", "w") as f:
        f["images"] = encode(np.arange(n))
        f["labels"] = _shapes3d_labels()
    ds = Shapes3D(path=tmp_path / "3dshapes.h5", transform=None, verify_labels=False)
    clone = pickle.loads(pickle.dumps(ds))  # the HDF5 handle is reopened, not pickled
    f = ds.factor_space.sample_factors(50, rng)
    assert torch.equal(clone.raw_observations(f), ds.raw_observations(f))
    sampler = torch.utils.data.SubsetRandomSampler(rng.choice(n, 64, replace=False).tolist())
    loader = torch.utils.data.DataLoader(ds, batch_size=16, sampler=sampler, num_workers=2)
    got = torch.cat(list(loader))
    assert got.shape == (64, 1, 1, 3)
    np.testing.assert_array_equal(np.sort(decode(got.numpy())), np.sort(np.array(list(sampler.indices))))


# ---- issue 15 regressions -------------------------------------------------------------------------

def test_dataset_file_errors_name_the_file_and_the_field(tmp_path, rng):
    """Files are checked for shape, dtype and factor ranges before use; errors name the file and the field."""
    _fake_norb(tmp_path, "train", rng)
    chunk = "5x46789x9x18x6x2x96x96-training"
    info = np.array(read_norb_matrix(tmp_path / f"smallnorb-{chunk}-info.mat"))
    info[3, 1] = 11  # elevation 11 of 0..8
    write_norb_matrix(tmp_path / f"smallnorb-{chunk}-info.mat", info)
    with pytest.raises(ValueError, match=r"SmallNORB: .*info\.mat.*field 'elevation' has value 11"):
        SmallNORB(path=tmp_path, size=None)
    p = tmp_path / "look-at-object-room_floor-hueXwall-hueXobj-hueXobj-sizeXobj-shapeXview-azi.npz"
    np.savez(p, images=np.zeros((10, 4, 4, 3), np.uint8), labels=np.zeros((10, 6)))
    with pytest.raises(ValueError, match=r"Shapes3D: 'images' in '.*azi\.npz' must have shape"):
        Shapes3D(root=tmp_path, transform=None)
    n = 480000
    np.savez(p, images=encode(np.arange(n)).reshape(SHAPES3D_SIZES + (1, 1, 3)).astype(np.int16),
             labels=_shapes3d_labels().reshape(SHAPES3D_SIZES + (6,)))
    with pytest.raises(ValueError, match=r"Shapes3D: 'images' in '.*azi\.npz' must hold uint8"):
        Shapes3D(root=tmp_path, transform=None)
    labels = _shapes3d_labels()
    labels[0, 2] = np.nan
    np.savez(p, images=encode(np.arange(n)).reshape(SHAPES3D_SIZES + (1, 1, 3)),
             labels=labels.reshape(SHAPES3D_SIZES + (6,)))
    with pytest.raises(ValueError, match=r"Shapes3D: 'labels' in '.*azi\.npz' must hold finite"):
        Shapes3D(root=tmp_path, transform=None)
