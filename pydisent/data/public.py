"""Loaders for the public ground-truth datasets, from files the user already has (never downloaded).

Each dataset's images end up as one array ``(N, H, W, C)`` in row-major factor order (the last
factor fastest), so a batch of factors is one gather (:class:`ArrayDataset`). Factor names, sizes
and orders follow disentanglement_lib's ``data/ground_truth`` modules and disent:

==========  =====================================================================  ===============================
dataset     factors                                                                file(s) in ``<data>/<folder>/``
==========  =====================================================================  ===============================
Shapes3D    floor_hue 10, wall_hue 10, object_hue 10, scale 8, shape 4,            ``shapes3d/3dshapes.h5``
            orientation 15 (480,000 x 64 x 64 x 3)
MPI3D       object_color 6, object_shape 6, object_size 2, camera_height 3,        ``mpi3d/mpi3d_{toy,realistic,
            background_color 3, horizontal_axis 40, vertical_axis 40                real}.npz``
            (1,036,800 x 64 x 64 x 3)
Cars3D      elevation 4, azimuth 24, object_type 183 (17,568 x 64 x 64 x 3)        ``cars3d/cars/car_*_mesh.mat``
SmallNORB   category 5, instance 5, elevation 9, azimuth 18, lighting 6            ``smallnorb/smallnorb-5x46789x
            (24,300 x 64 x 64 x 1 per split)                                        9x18x6x2x96x96-training-*.mat``
==========  =====================================================================  ===============================
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from pydisent._validation import Options, check, check_positive_int
from pydisent.data.base import GroundTruthDataset
from pydisent.data.factors import FactorSpace
from pydisent.data.files import (
    H5Array,
    MissingDataError,
    find_data,
    gather,
    load_npz_array,
    optional_import,
    read_norb_matrix,
)
from pydisent.data.registry import register_dataset


class ArrayDataset(GroundTruthDataset):
    """A ground-truth dataset over an image array stored in row-major factor order.

    Args:
        images: array-like ``(N, H, W, C)`` (or ``(N, H, W)``: one channel) with ``N = factor_space.size``;
            a numpy array, a memory map or an h5py dataset (read lazily, see :func:`files.gather`).
        factor_space: the :class:`FactorSpace` enumerating the images.
    """

    def __init__(self, images, factor_space: FactorSpace, transform="default"):
        shape = tuple(int(s) for s in images.shape)
        if len(shape) not in (3, 4):
            raise ValueError(f"argument 'images' must have shape (N, H, W, C) or (N, H, W), got {shape}")
        if shape[0] != factor_space.size:
            raise ValueError(f"argument 'images' has {shape[0]} images but the factor space {factor_space} has "
                             f"{factor_space.size}")
        if np.dtype(images.dtype) != np.uint8:
            raise TypeError(f"argument 'images' must hold uint8 pixels, got {images.dtype}")
        super().__init__(factor_space, transform)
        self.images = images
        self._squeeze = len(shape) == 3

    @property
    def raw_shape(self) -> tuple[int, ...]:
        shape = tuple(int(s) for s in self.images.shape[1:])
        return shape + (1,) if self._squeeze else shape

    def _render(self, factors: np.ndarray) -> torch.Tensor:
        batch = gather(self.images, self.factor_space.pos_to_idx(factors))
        if self._squeeze:
            batch = batch[..., None]
        return torch.from_numpy(batch)


def resize_images(images: np.ndarray, size: int = 64) -> np.ndarray:
    """``(n, H, W[, C])`` uint8 images resized to ``size x size`` with PIL's Lanczos filter (the
    ``ANTIALIAS`` resize disentanglement_lib used for Cars3D and SmallNORB); unchanged if already that size."""
    size = check_positive_int(size, "size")
    if images.shape[1] == size and images.shape[2] == size:
        return np.ascontiguousarray(images)
    Image = optional_import("PIL.Image", "resizing Cars3D/SmallNORB images", "data", pip_name="pillow")
    out = np.empty((images.shape[0], size, size) + tuple(images.shape[3:]), dtype=np.uint8)
    lanczos = getattr(Image, "Resampling", Image).LANCZOS
    for i in range(images.shape[0]):  # PIL resizes one image at a time; this runs once, at load
        out[i] = np.asarray(Image.fromarray(np.ascontiguousarray(images[i])).resize((size, size), lanczos))
    return out


def _check_uint8(arr, dataset: str, what: str):
    if np.dtype(arr.dtype) != np.uint8:
        raise ValueError(f"{dataset}: {what} must hold uint8 pixels, got {arr.dtype}")


# -- Shapes3D --------------------------------------------------------------------------------------
SHAPES3D_FACTORS = (("floor_hue", 10), ("wall_hue", 10), ("object_hue", 10), ("scale", 8), ("shape", 4),
                    ("orientation", 15))
SHAPES3D_URL = "https://github.com/google-deepmind/3d-shapes (https://storage.googleapis.com/3d-shapes/3dshapes.h5)"
SHAPES3D_NPZ = "look-at-object-room_floor-hueXwall-hueXobj-hueXobj-sizeXobj-shapeXview-azi.npz"


@register_dataset("shapes3d", aliases=("3dshapes", "shapes_3d"))
class Shapes3D(ArrayDataset):
    """3D Shapes (Burgess & Kim 2018): ``3dshapes.h5`` with ``images`` (480000, 64, 64, 3) uint8 and
    ``labels`` (480000, 6), or disentanglement_lib's ``.npz`` of the same arrays.

    Args:
        root, path: data folder / explicit file.
        in_memory: read every image into RAM (5.9 GB) instead of reading batches lazily from the HDF5
            file (lazy reads decompress a chunk per image).
        verify_labels: check that ``labels`` enumerate the factors row-major (one pass over the labels).
    """

    def __init__(self, root=None, path=None, in_memory: bool = False, verify_labels: bool = True,
                 transform="default"):
        names, sizes = zip(*SHAPES3D_FACTORS)
        space = FactorSpace(sizes, names)
        self.file = find_data("Shapes3D", ["3dshapes.h5", SHAPES3D_NPZ], subdir="shapes3d", root=root, path=path,
                              url=SHAPES3D_URL, note="the file 3dshapes.h5")
        if self.file.suffix == ".npz":
            images = load_npz_array(self.file, "images", "memory" if in_memory else "auto")
            labels = load_npz_array(self.file, "labels", "memory") if verify_labels else None
            images = images.reshape((-1,) + tuple(images.shape[-3:]))
            labels = None if labels is None else labels.reshape(-1, labels.shape[-1])
        else:
            optional_import("h5py", "Shapes3D", "h5")
            images = H5Array(self.file, "images")
            labels = H5Array(self.file, "labels").read() if verify_labels else None
            if in_memory:
                images = images.read()
        if tuple(images.shape[:1]) != (space.size,) or len(images.shape) != 4:
            raise ValueError(f"Shapes3D: 'images' in {str(self.file)!r} must have shape ({space.size}, 64, 64, 3), "
                             f"got {tuple(images.shape)}")
        _check_uint8(images, "Shapes3D", f"'images' in {str(self.file)!r}")
        if labels is not None:
            check_labels(labels, space, "Shapes3D", self.file)
        super().__init__(images, space, transform)


def check_factor_ranges(factors: np.ndarray, space: FactorSpace, dataset: str, files: dict) -> None:
    """``ValueError`` naming the dataset, the file and the field of the first factor value read from a file
    that lies outside ``0..size-1`` (``files`` maps each factor name to the file it was read from)."""
    bad = (factors < 0) | (factors >= space.sizes[None, :])
    if bad.any():
        row, k = (int(v) for v in np.argwhere(bad)[0])
        name = space.names[k]
        raise ValueError(f"{dataset}: {str(files.get(name, '?'))!r}: field {name!r} has value {factors[row, k]} at "
                         f"row {row}, expected 0..{space.sizes[k] - 1}; is this the original file?")


def check_labels(labels: np.ndarray, space: FactorSpace, dataset: str, file=None) -> None:
    """Check that real-valued ``labels`` ``(N, F)`` enumerate ``space`` row-major: each column takes
    ``size`` distinct values, and mapping them to their sorted position gives ``idx_to_pos(arange(N))``.
    Errors name the dataset, the file (when given) and the field."""
    labels = np.asarray(labels)
    where = f"'labels' in {str(file)!r}" if file is not None else "'labels'"
    if labels.shape != (space.size, space.num_factors):
        raise ValueError(f"{dataset}: {where} must have shape ({space.size}, {space.num_factors}), got {labels.shape}")
    if labels.dtype.kind not in "iuf" or (labels.dtype.kind == "f" and not np.isfinite(labels).all()):
        raise ValueError(f"{dataset}: {where} must hold finite numbers, got dtype {labels.dtype}")
    expect = space.idx_to_pos(np.arange(space.size))
    for k, (name, size) in enumerate(zip(space.names, space.sizes)):
        values, pos = np.unique(labels[:, k], return_inverse=True)
        if len(values) != size or not np.array_equal(pos.reshape(-1), expect[:, k]):
            in_file = f" in {str(file)!r}" if file is not None else ""
            raise ValueError(f"{dataset}: 'labels' column {k} ({name}){in_file} does not enumerate {size} values in "
                             "row-major order; is this the original file?")


# -- MPI3D -------------------------------------------------------------------------------------------
MPI3D_FACTORS = (("object_color", 6), ("object_shape", 6), ("object_size", 2), ("camera_height", 3),
                 ("background_color", 3), ("horizontal_axis", 40), ("vertical_axis", 40))
MPI3D_VARIANTS = ("toy", "realistic", "real")
MPI3D_URL = "https://github.com/rr-learning/disentanglement_dataset"


@register_dataset("mpi3d", aliases={f"mpi3d_{v}": {"variant": v} for v in MPI3D_VARIANTS})
class MPI3D(ArrayDataset):
    """MPI3D (Gondal et al. 2019): ``mpi3d_<variant>.npz`` with ``images`` (1036800, 64, 64, 3) uint8;
    the toy, realistic and real variants share the factor layout (the 6 x 6 colour/shape sizes of
    the released data; early disentanglement_lib code said 4 x 4).

    Args:
        variant: ``"toy"``, ``"realistic"`` or ``"real"``.
        storage: how the 12.7 GB array is held (:func:`files.load_npz_array`): ``"auto"`` memory-maps
            an uncompressed archive and extracts a compressed one once to ``<file>.images.npy``.
    """

    def __init__(self, variant: str = "toy", root=None, path=None, storage: str = "auto", transform="default"):
        check(variant, "variant", Options(MPI3D_VARIANTS))
        names, sizes = zip(*MPI3D_FACTORS)
        space = FactorSpace(sizes, names)
        self.variant = variant
        fname = f"mpi3d_{variant}.npz"
        self.file = find_data(f"MPI3D ({variant})", [fname], subdir="mpi3d", root=root, path=path, url=MPI3D_URL,
                              note=f"the file {fname}")
        images = load_npz_array(self.file, "images", storage)
        if len(images.shape) != 4 or images.shape[0] != space.size:
            raise ValueError(f"MPI3D: 'images' in {str(self.file)!r} must have shape ({space.size}, 64, 64, 3), "
                             f"got {tuple(images.shape)}")
        _check_uint8(images, "MPI3D", f"'images' in {str(self.file)!r}")
        super().__init__(images, space, transform)


# -- Cars3D ------------------------------------------------------------------------------------------
CARS3D_URL = "http://www.scottreed.info (nips2015-analogy-data.tar.gz, folder data/cars)"


@register_dataset("cars3d", aliases=("cars_3d",))
class Cars3D(ArrayDataset):
    """Cars3D (Reed et al. 2015) in disentanglement_lib's format: the ``cars/`` folder of
    ``car_*_mesh.mat`` files, each with ``im`` (128, 128, 3, 24, 4) = (H, W, RGB, azimuth, elevation).

    Factors ``elevation 4, azimuth 24, object_type 183``; images resized to 64 x 64 with PIL's Lanczos
    filter as disentanglement_lib does. Objects are ordered by ``cars/list.txt`` when present, else by
    file name (disentanglement_lib used the unsorted directory listing, which is platform dependent).

    Args:
        root, path: data folder / explicit ``cars`` folder.
        num_objects: expected number of ``.mat`` files (183); ``None`` accepts any number.
        size: output image size (64); ``None`` keeps the files' resolution (128).
    """

    def __init__(self, root=None, path=None, num_objects: int | None = 183, size: int | None = 64,
                 transform="default"):
        folder = find_data("Cars3D", ["cars"], subdir="cars3d", root=root, path=path, url=CARS3D_URL,
                           note="the folder data/cars of the archive", kind="folder")
        if not folder.is_dir():
            raise MissingDataError(f"Cars3D: {str(folder)!r} must be the folder of car_*_mesh.mat files")
        files = _cars_files(folder)
        if not files:
            raise MissingDataError(f"Cars3D: no .mat files in {str(folder)!r}. It is published at {CARS3D_URL}.")
        if num_objects is not None and len(files) != num_objects:
            raise ValueError(f"Cars3D: expected {num_objects} .mat files in {str(folder)!r}, found {len(files)} "
                             "(pass num_objects=None to accept them)")
        sio = optional_import("scipy.io", "Cars3D", "data", pip_name="scipy")
        per_object = []
        for f in files:
            mat = sio.loadmat(f)
            if "im" not in mat:
                keys = sorted(k for k in mat if not k.startswith("__"))
                raise ValueError(f"Cars3D: {str(f)!r} has no array 'im' (keys: {keys})")
            im = mat["im"]
            if im.ndim != 5 or im.shape[2:] != (3, 24, 4):
                raise ValueError(f"Cars3D: 'im' in {str(f)!r} must have shape (H, W, 3, 24, 4), got {im.shape}")
            _check_uint8(im, "Cars3D", f"'im' in {str(f)!r}")
            # (H, W, 3, azimuth, elevation) -> (elevation, azimuth, H, W, 3)
            frames = np.transpose(im, (4, 3, 0, 1, 2)).reshape((96,) + im.shape[:3])
            frames = frames if size is None else resize_images(frames, size)
            if per_object and frames.shape[1:] != per_object[0].shape[2:]:
                raise ValueError(f"Cars3D: {str(f)!r} has images of shape {im.shape[:3]}, unlike the other files")
            per_object.append(frames.reshape((4, 24) + frames.shape[1:]))
        images = np.stack(per_object, axis=2)  # (elevation, azimuth, object, H, W, 3): row-major factor order
        images = images.reshape((-1,) + images.shape[3:])
        self.folder = folder
        space = FactorSpace([4, 24, len(files)], ["elevation", "azimuth", "object_type"])
        super().__init__(images, space, transform)


def _cars_files(folder: Path) -> list[Path]:
    listing = folder / "list.txt"
    if listing.exists():
        names = [line.strip() for line in listing.read_text().splitlines() if line.strip()]
        files = [folder / (n if n.endswith(".mat") else n + ".mat") for n in names]
        missing = [str(f) for f in files if not f.exists()]
        if missing:
            raise MissingDataError(f"Cars3D: {listing} names files that are missing, e.g. {missing[:3]}")
        return files
    return sorted(p for p in folder.iterdir() if p.suffix == ".mat")


# -- SmallNORB ---------------------------------------------------------------------------------------
NORB_URL = "https://cs.nyu.edu/~ylclab/data/norb-v1.0-small/"
NORB_CHUNKS = {"train": "5x46789x9x18x6x2x96x96-training", "test": "5x01235x9x18x6x2x96x96-testing"}


@register_dataset("smallnorb", aliases=("small_norb", "norb"))
class SmallNORB(ArrayDataset):
    """SmallNORB (LeCun et al. 2004) from its binary matrix files
    ``smallnorb-<chunk>-{dat,cat,info}.mat`` (or ``.mat.gz``), one split at a time.

    Factors ``category 5, instance 5, elevation 9, azimuth 18, lighting 6`` (24,300 images per
    split): the ``cat`` file gives the category, ``info`` gives instance, elevation, azimuth (0, 2,
    .., 34, halved as disentanglement_lib does) and lighting; the split's five instance ids (training
    4, 6, 7, 8, 9; test 0, 1, 2, 3, 5) are numbered 0..4 in increasing order (disent's ordering).
    The left camera image of each stereo pair is resized from 96 to 64 pixels with PIL's Lanczos
    filter, as disentanglement_lib does. (disentanglement_lib joins both splits and treats the
    instance as a nuisance drawn at random; this class keeps it as a factor so that every factor
    vector has one image.)

    Args:
        split: ``"train"`` or ``"test"``.
        root, path: data folder / explicit folder holding the three files.
        size: output image size (64); ``None`` keeps the files' resolution (96).
    """

    def __init__(self, split: str = "train", root=None, path=None, size: int | None = 64, transform="default"):
        if split not in NORB_CHUNKS:
            raise ValueError(f"argument 'split' must be 'train' or 'test', got {split!r}")
        chunk = NORB_CHUNKS[split]
        files = {}
        for part in ("dat", "cat", "info"):
            base = f"smallnorb-{chunk}-{part}.mat"
            names = [base, base + ".gz"]
            if path is not None:
                files[part] = find_data("SmallNORB", names, subdir=".", root=path, url=NORB_URL, note=base)
            else:
                files[part] = find_data("SmallNORB", names, subdir="smallnorb", root=root, url=NORB_URL, note=base)
        self.split = split
        self.files = files
        dat = read_norb_matrix(files["dat"])
        cat = np.asarray(read_norb_matrix(files["cat"]), dtype=np.int64).reshape(-1)
        info = np.asarray(read_norb_matrix(files["info"]), dtype=np.int64)
        n = dat.shape[0]
        if dat.ndim != 4 or dat.shape[1] != 2:
            raise ValueError(f"SmallNORB: {files['dat']} must hold (N, 2, H, W) stereo pairs, got {dat.shape}")
        _check_uint8(dat, "SmallNORB", str(files["dat"]))
        if cat.shape != (n,) or info.shape[:2] != (n, 4):
            raise ValueError(f"SmallNORB: cat/info must have {n} rows (cat (N,), info (N, 4)), got {cat.shape} and "
                             f"{info.shape}")
        instance_ids, instance = np.unique(info[:, 0], return_inverse=True)
        factors = np.column_stack([cat, instance.reshape(-1), info[:, 1], info[:, 2] // 2, info[:, 3]])
        space = FactorSpace([5, 5, 9, 18, 6], ["category", "instance", "elevation", "azimuth", "lighting"])
        if n != space.size or len(instance_ids) != 5:
            raise ValueError(f"SmallNORB: expected {space.size} images of 5 instances per split, got {n} images of "
                             f"{len(instance_ids)} instances")
        check_factor_ranges(factors, space, "SmallNORB", {"category": files["cat"], "instance": files["info"],
                                                          "elevation": files["info"], "azimuth": files["info"],
                                                          "lighting": files["info"]})
        idx = space.pos_to_idx(factors)
        if len(np.unique(idx)) != n:
            raise ValueError("SmallNORB: cat/info list some factor combination more than once")
        order = np.empty(n, dtype=np.int64)
        order[idx] = np.arange(n)
        self.instance_ids = instance_ids
        images = np.asarray(dat[order, 0])
        images = images if size is None else resize_images(images, size)
        super().__init__(images[..., None], space, transform)


__all__ = ["ArrayDataset", "Shapes3D", "MPI3D", "Cars3D", "SmallNORB", "check_labels", "resize_images"]
