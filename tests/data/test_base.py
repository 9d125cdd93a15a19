"""pydisent.data.base: GroundTruthDataset items, batches, traversal images and the scratch buffer."""

import numpy as np
import torch

from pydisent.data import (
    FloatCHW,
    XYObject,
    XYSquares,
)


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
