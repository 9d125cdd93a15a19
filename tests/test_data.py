"""Dataset plumbing: registry, DataLoader path, transforms, traversals through images, pinwheel."""

import numpy as np
import pytest
import torch

import pydisent.data as pdata
from pydisent.data import (DATASETS, DSprites, FloatCHW, GroundTruthDataset, PinwheelDataset, XYObject, XYSquares,
                           as_source, dataset_stats, make_dataset, make_pinwheel)
from pydisent.data.pinwheel import PRESETS


def test_registry_built_from_classes():
    assert set(DATASETS) == {"xysquares", "xyobject", "xyobject_shaded", "dsprites", "shapes3d", "mpi3d", "cars3d",
                             "smallnorb"}
    for name, cls in DATASETS.items():
        assert issubclass(cls, GroundTruthDataset) and cls.name == name
    ds = make_dataset("XYSquares", grid_spacing=4, grid_size=8)
    assert isinstance(ds, XYSquares) and ds.grid_spacing == 4
    assert isinstance(make_dataset("xy-object"), XYObject)
    assert make_dataset("dsprites", source="procedural").source == "procedural"
    with pytest.raises(ValueError, match="unknown dataset 'mnist'.*xysquares"):
        make_dataset("mnist")
    with pytest.raises(TypeError, match="'name'"):
        make_dataset(3)
    with pytest.raises(TypeError):
        make_dataset("xysquares", no_such_argument=1)
    assert pdata.registry.ALIASES["mpi3d_toy"] == ("mpi3d", {"variant": "toy"})


def test_dataloader_batches_one_render_per_batch(rng):
    ds = XYSquares()
    calls = []
    render = ds._render

    def counting(factors):
        calls.append(len(factors))
        return render(factors)

    ds._render = counting
    loader = torch.utils.data.DataLoader(ds, batch_size=256, shuffle=False)
    it = iter(loader)
    first = next(it)
    assert first.shape == (256, 3, 64, 64) and first.dtype == torch.float32
    assert calls == [256]
    ds._render = render
    assert torch.equal(first, ds.observations_from_indices(np.arange(256)))
    g = torch.Generator().manual_seed(int(rng.integers(1 << 31)))
    shuffled = torch.utils.data.DataLoader(ds, batch_size=256, shuffle=True, generator=g)
    assert len(shuffled) == len(ds) // 256
    batches = [b for _, b in zip(range(3), shuffled)]
    assert all(b.shape == (256, 3, 64, 64) for b in batches)
    assert ((batches[0] == 0) | (batches[0] == 1)).all()


def test_getitem_and_shapes():
    ds = XYObject()
    assert ds.observation_shape == (3, 64, 64) and ds[0].shape == (3, 64, 64)
    assert torch.equal(ds[-1], ds.observations_from_indices([len(ds) - 1])[0])
    assert torch.equal(ds[torch.tensor(5)], ds[5])
    raw = XYObject(transform=None)
    assert raw.observation_shape == (64, 64, 3) and raw[3].dtype == torch.uint8


def test_transforms_normalise(rng):
    ds = XYSquares()
    mean, std = dataset_stats(ds, n=500, rng=rng)
    np.testing.assert_allclose(mean, [64 / 4096] * 3)  # exactly one 8 x 8 square per channel
    np.testing.assert_allclose(std, [np.sqrt(64 / 4096 * (1 - 64 / 4096))] * 3)
    norm = XYSquares(transform=FloatCHW(mean, std))
    x = norm.observations(ds.factor_space.sample_factors(300, rng))
    assert x.shape == (300, 3, 64, 64)
    np.testing.assert_allclose(x.mean(dim=(0, 2, 3)).numpy(), 0, atol=1e-5)
    np.testing.assert_allclose(x.std(dim=(0, 2, 3)).numpy(), 1, atol=1e-3)
    with pytest.raises(ValueError, match="'std'"):
        FloatCHW(0.5, 0.0)
    assert "FloatCHW" in repr(FloatCHW(0.1, 0.2))


def test_traversal_images_move_one_square(rng):
    ds = XYSquares(transform=None)
    base = ds.factor_space.sample_factors(4, rng)
    t = ds.factor_space.traversals("x_G", base)  # (4, 8, 6)
    imgs = ds.raw_observations(t.reshape(-1, 6)).numpy().reshape(4, 8, 64, 64, 3)
    # red and blue channels are identical along each traversal; green moves by 8 px per step
    assert (imgs[..., [0, 2]] == imgs[:, :1][..., [0, 2]]).all()
    cols = imgs[..., 1].max(axis=2)  # (4, 8, 64) columns lit in green
    for r in range(4):
        for i in range(8):
            assert np.nonzero(cols[r, i])[0].tolist() == list(range(8 * i, 8 * i + 8))


def test_metric_source_view(rng):
    src = as_source(DSprites(source="procedural"))
    assert src.kind == "pydisent" and src.num_factors == 5
    f = src.sample_factors(7, rng)
    assert src.observations(f, rng).shape == (7, 1, 64, 64)


# -- pinwheel ---------------------------------------------------------------------------------------
def _reference_pinwheel(radial_std, tangential_std, num_classes, num_per_class, rate, rs):
    # Johnson et al.'s make_pinwheel_data, written with its rotation-matrix einsum
    rads = np.linspace(0, 2 * np.pi, num_classes, endpoint=False)
    features = rs.randn(num_classes * num_per_class, 2) * np.array([radial_std, tangential_std])
    features[:, 0] += 1.0
    labels = np.repeat(np.arange(num_classes), num_per_class)
    angles = rads[labels] + rate * np.exp(features[:, 0])
    rotations = np.stack([np.cos(angles), -np.sin(angles), np.sin(angles), np.cos(angles)])
    rotations = np.reshape(rotations.T, (-1, 2, 2))
    return np.einsum("ti,tij->tj", features, rotations), labels


def test_pinwheel_matches_reference():
    x, y = make_pinwheel(4, 250, 0.3, 0.05, 0.25, rng=np.random.RandomState(7))
    rx, ry = _reference_pinwheel(0.3, 0.05, 4, 250, 0.25, np.random.RandomState(7))
    np.testing.assert_allclose(x, rx, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(y, ry)
    assert x.shape == (1000, 2) and y.dtype == np.int64


def test_pinwheel_geometry(rng):
    x, y = make_pinwheel(4, 3000, rng=rng)
    # each arm starts near its angle 2 pi c / K, twisted by rate * e at radius ~1
    for c in range(4):
        pts = x[y == c]
        r = np.hypot(pts[:, 0], pts[:, 1])
        near = pts[np.abs(r - 1) < 0.05]
        # point = (r cos a, -r sin a) for t = 0: angle -a with a = 2 pi c / 4 + 0.25 e
        ang = np.arctan2(-near[:, 1], near[:, 0])
        want = 2 * np.pi * c / 4 + 0.25 * np.e
        assert abs(np.angle(np.exp(1j * (ang - want)).mean())) < 0.05
    xs, ys = make_pinwheel(3, 10, rng=np.random.default_rng(1), scale=10.0, shuffle=True)
    x0, y0 = make_pinwheel(3, 10, rng=np.random.default_rng(1))
    assert sorted(map(tuple, np.round(xs / 10, 9))) == sorted(map(tuple, np.round(x0, 9)))
    assert sorted(ys) == sorted(y0)


def test_pinwheel_dataset(rng):
    ds = PinwheelDataset(rng=rng)
    assert len(ds) == 400 and ds.num_classes == 4 and ds.params == PRESETS["mathieu2019"]
    p, lab = ds[3]
    assert p.shape == (2,) and p.dtype == torch.float32 and lab.dtype == torch.int64
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=64, shuffle=True)))
    assert batch[0].shape == (64, 2) and batch[1].shape == (64,)
    assert len(PinwheelDataset("johnson2016", rng=1)) == 500
    assert len(PinwheelDataset(None, rng=1, num_classes=3, num_per_class=5)) == 15
    with pytest.raises(ValueError, match="'preset'"):
        PinwheelDataset("spiral")
    with pytest.raises(ValueError, match="'num_classes'"):
        make_pinwheel(0)
    with pytest.raises(ValueError, match="'radial_std'"):
        make_pinwheel(radial_std=float("nan"))
    with pytest.raises(TypeError, match="'rng'"):
        make_pinwheel(rng="seed")


def _to_float_reference(b, mean=None, std=None):
    # the torch definition of to_float_chw: x / 255 in float32, then (x - mean) / std per channel
    x = b.permute(0, 3, 1, 2).to(torch.float32).div_(255.0)
    if mean is not None or std is not None:
        m = torch.as_tensor(0.0 if mean is None else mean, dtype=x.dtype).reshape(1, -1, 1, 1)
        s = torch.as_tensor(1.0 if std is None else std, dtype=x.dtype).reshape(1, -1, 1, 1)
        x = (x - m) / s
    return x.contiguous()


@pytest.mark.parametrize("C", [1, 3, 4])
def test_to_float_chw_fast_path_is_exact(tgen, C):
    from pydisent.data import to_float_chw

    x = torch.randint(0, 256, (9, 5, 7, C), dtype=torch.uint8, generator=tgen)
    x[0, 0, 0] = 255
    x[0, 0, 1] = 0
    mean = torch.rand(C, generator=tgen).tolist()
    std = (torch.rand(C, generator=tgen) + 0.1).tolist()
    for kw in ({}, {"mean": mean, "std": std}, {"mean": 0.5}, {"std": 0.25}):
        want = _to_float_reference(x, **kw)
        got = to_float_chw(x, **kw)
        assert got.shape == (9, C, 5, 7) and got.dtype == torch.float32 and got.is_contiguous()
        assert torch.equal(got, want)
    strided = x.flip(1)  # non-contiguous input
    assert torch.equal(to_float_chw(strided), _to_float_reference(strided))
    assert to_float_chw(x[:0]).shape == (0, C, 5, 7)
    with pytest.raises(ValueError, match="'batch'"):
        to_float_chw(x[0])


def test_scratch_reuses_one_block_and_knows_what_lives_in_it(rng):
    from pydisent.data.base import Scratch

    ds, other = XYObject(), XYObject(transform=FloatCHW(0.5, 0.25))
    f1, f2 = ds.factor_space.sample_factors(6, rng), ds.factor_space.sample_factors(4, rng)
    s = Scratch()
    a = ds.observations(f1, scratch=s)
    assert torch.equal(a, ds.observations(f1)) and s.holds(a) and s.holds(a[2:3, 1])
    ptr = a.data_ptr()
    b = ds.observations(f2, scratch=s)  # smaller: the same block, overwritten
    assert b.data_ptr() == ptr and torch.equal(b, ds.observations(f2)) and b.shape == (4, 3, 64, 64)
    assert torch.equal(a[:4], b)  # a was overwritten: what the docs warn about
    assert not s.holds(a.clone()) and not s.holds(torch.zeros(3)) and not s.holds(np.zeros(3))
    c = other.observations(f1, scratch=s)  # a normalising FloatCHW writes into the scratch too
    assert c.data_ptr() == ptr and torch.equal(c, other.observations(f1))
    big = ds.observations(ds.factor_space.sample_factors(9, rng), scratch=s)  # grows
    assert s.holds(big) and big.is_contiguous()
    assert ds.observations(f1[:0], scratch=s).shape == (0, 3, 64, 64)
    # raw datasets and custom transforms without the scratch protocol return fresh tensors
    raw = XYObject(transform=None).observations(f1, scratch=s)
    assert raw.dtype == torch.uint8 and not s.holds(raw)
    custom = XYObject(transform=lambda x: x.float()).observations(f1, scratch=s)
    assert not s.holds(custom)


def test_source_does_not_pass_scratch_to_an_overridden_observations(rng):
    from pydisent.data.base import Scratch

    class Mine(XYSquares):
        def observations(self, factors):  # an older signature: no scratch
            return super().observations(factors) * 2

    src, s = as_source(Mine()), Scratch()
    f = src.sample_factors(3, rng)
    x = src.observations(f, rng, s)
    assert not s.holds(x) and torch.equal(x, XYSquares().observations(f) * 2)
