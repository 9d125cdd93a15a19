"""The training loop: exact resume, checkpoints (atomic, weights_only, refusal of foreign ones), the NaN
guard, the data path, bad input. Tiny settings: 8 x 8 XYSquares and the MLP, a few steps each."""

import json

import numpy as np
import pytest
import torch

import pydisent
import pydisent.train as T
from pydisent.train import checkpoint as ck
from pydisent.train.data import BatchSource, data_generator

TINY = {"square_size": 2, "image_size": 8}  # (3, 8, 8) observations -> the MLP architecture
KW = dict(batch_size=8, dataset_options=TINY, log_every=2, quiet=True, latent_dim=4, arch_options={"hidden": [32]})


def _losses(run_dir):
    return [(r["step"], r["loss"], r.get("kl")) for r in T.read_log(run_dir)]


def test_train_is_callable_from_the_package(tmp_path):
    run = pydisent.train("vae", "xysquares", steps=3, out=tmp_path / "r", **KW)
    assert run.status == "finished" and run.step == 3
    assert (tmp_path / "r" / "config.json").is_file() and (tmp_path / "r" / "summary.json").is_file()
    cfg = json.loads((tmp_path / "r" / "config.json").read_text())
    assert cfg["objective"] == "vae" and cfg["dataset"] == "xysquares" and cfg["dataset_options"] == TINY
    assert cfg["pydisent_version"] == pydisent.__version__ and cfg["latent_dim"] == 4


def test_import_pydisent_stays_cheap():
    import subprocess
    import sys

    code = ("import sys, pydisent; assert 'pydisent.train' not in sys.modules and 'pydisent.models' not in "
            "sys.modules, sorted(m for m in sys.modules if m.startswith('pydisent'))")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_seeded_runs_repeat_and_differ(tmp_path):
    a = T.train("beta_vae", "xysquares", steps=4, seed=3, **KW)
    b = T.train("beta_vae", "xysquares", steps=4, seed=3, **KW)
    c = T.train("beta_vae", "xysquares", steps=4, seed=4, **KW)
    la, lb, lc = ([r["loss"] for r in x.records] for x in (a, b, c))
    assert la == lb and la != lc
    # the global RNGs are neither read nor changed
    torch.manual_seed(0)
    ref = torch.rand(3)
    torch.manual_seed(0)
    T.train("vae", "xysquares", steps=2, **KW)
    assert torch.equal(torch.rand(3), ref)


@pytest.mark.parametrize("objective,schedules", [("beta_vae", {"beta": "linear(1, 8, 10)",
                                                              "lr": "cosine(1e-3, 1e-4, 12)"}),
                                                 ("annealed_vae", None)])
def test_resume_is_bit_identical(tmp_path, objective, schedules):
    common = dict(KW, steps=12, checkpoint_every=4, keep_checkpoints=None, schedules=schedules, seed=7)
    full = T.train(objective, "xysquares", out=tmp_path / "full", **common)
    # interrupted at step 5 (between checkpoints), resumed from the step-4 checkpoint
    T.train(objective, "xysquares", out=tmp_path / "part", **{**common, "steps": 5})
    assert [s for s, _ in ck.list_checkpoints(tmp_path / "part")] == [4, 5]
    (tmp_path / "part" / "checkpoints" / "step-00000005.pt").unlink()
    resumed = T.train(objective, "xysquares", out=tmp_path / "part", resume=True, **common)
    assert _losses(tmp_path / "full") == _losses(tmp_path / "part")  # bit-identical, the log reads as one run
    sa, sb = full.objective.state_dict(), resumed.objective.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa if isinstance(sa[k], torch.Tensor))
    if schedules:
        assert T.read_log(tmp_path / "part")[-1]["param/beta"] == 8.0


def test_checkpoint_contents_weights_only(tmp_path):
    T.train("vae", "xysquares", steps=3, out=tmp_path / "r", **KW)
    path = ck.latest_checkpoint(tmp_path / "r")
    state = torch.load(path, weights_only=True)
    assert state["step"] == 3 and state["objective"] == "vae" and state["pydisent_version"] == pydisent.__version__
    assert {"model", "optimizers", "rng", "config", "provenance", "scaler", "loop"} <= set(state)
    assert state["rng"][0]["data"]["position"] == 3
    run = T.load_run(tmp_path / "r")
    x = torch.rand(5, 3, 8, 8)
    assert run.representation()(x).shape == (5, 4) and run.generator()(torch.zeros(2, 4)).shape == (2, 3, 8, 8)


def test_checkpoints_are_pruned(tmp_path):
    T.train("vae", "xysquares", steps=9, out=tmp_path / "r", checkpoint_every=2, keep_checkpoints=2, **KW)
    assert [s for s, _ in ck.list_checkpoints(tmp_path / "r")] == [8, 9]


def test_atomic_checkpoint_keeps_old_file(tmp_path, monkeypatch):
    p = tmp_path / "c.pt"
    ck.save_checkpoint(p, {"objective": "vae", "step": 1})

    def broken_save(obj, f):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        ck.save_checkpoint(p, {"objective": "vae", "step": 2})
    monkeypatch.undo()
    assert ck.load_checkpoint(p)["step"] == 1
    assert [q.name for q in tmp_path.iterdir()] == ["c.pt"]  # no temp file left behind


def test_foreign_checkpoints_are_refused(tmp_path):
    T.train("vae", "xysquares", steps=2, out=tmp_path / "r", **KW)
    path = ck.latest_checkpoint(tmp_path / "r")
    with pytest.raises(ck.CheckpointError, match="objective 'vae', not 'beta_vae'"):
        T.train("beta_vae", "xysquares", steps=4, out=tmp_path / "r", resume=True, quiet=True)
    state = torch.load(path, weights_only=True)
    state["pydisent_version"] = "0.0.1"
    torch.save(state, path)
    version = pydisent.__version__
    with pytest.raises(ck.CheckpointError, match=r"written by pydisent 0\.0\.1, this is pydisent " + version):
        T.train("vae", "xysquares", steps=4, out=tmp_path / "r", resume=True, quiet=True)
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ck.CheckpointError, match="not a pydisent training checkpoint"):
        ck.load_checkpoint(tmp_path / "other.pt")
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(ck.CheckpointError, match="not a readable"):
        ck.load_checkpoint(tmp_path / "junk.pt")
    with pytest.raises(FileNotFoundError, match="argument 'path'"):
        ck.load_checkpoint(tmp_path / "missing.pt")


def _nan_objective(at_step):
    from pydisent.models import make_objective

    with torch.random.fork_rng():
        torch.manual_seed(0)  # the same initial weights for every instance
        obj = make_objective("vae", (3, 8, 8), latent_dim=4, arch_options={"hidden": [32]})
    plain = obj.loss

    def loss(batch, step=0, generator=None):
        out = plain(batch, step, generator)
        if step == at_step:
            out.terms["kl"] = out.terms["kl"] * float("nan")
        return out

    obj.loss = loss
    return obj


def test_nan_guard_names_step_term_and_checkpoint(tmp_path):
    kw = {k: v for k, v in KW.items() if k not in ("latent_dim", "arch_options")}
    kw["log_every"] = 1  # so that the resumed log can be compared record by record
    with pytest.raises(T.NonFiniteLossError) as e:
        T.train(_nan_objective(5), "xysquares", steps=20, out=tmp_path / "r", checkpoint_every=2, **kw)
    err = e.value
    assert err.step == 5 and err.term == "kl" and "step 5" in str(err) and "'kl'" in str(err)
    assert err.checkpoint.endswith("step-00000005.pt") and err.checkpoint in str(err)
    state = ck.load_checkpoint(err.checkpoint)
    assert state["step"] == 5 and all(torch.isfinite(v).all() for v in state["model"].values()
                                      if isinstance(v, torch.Tensor))
    assert json.loads((tmp_path / "r" / "summary.json").read_text())["status"] == "diverged"
    # the checkpoint is the state at the start of the bad step (weights, optimiser, data and noise
    # generators): resumed with an objective that no longer diverges it continues the clean run exactly
    run = T.train(_nan_objective(-1), "xysquares", steps=8, out=tmp_path / "r", resume=err.checkpoint, quiet=True,
                  prefetch=0)
    assert run.step == 8 and all(np.isfinite(r["loss"]) for r in run.records)
    T.train(_nan_objective(-1), "xysquares", steps=8, out=tmp_path / "clean", checkpoint_every=2, **kw)
    assert _losses(tmp_path / "clean") == _losses(tmp_path / "r")


def test_batch_source_pairs_and_triplets():
    from pydisent.data import make_dataset

    ds = make_dataset("xysquares", **TINY)
    src = BatchSource(ds, "pairs", 16, data_generator(0), options={"k": 1, "force_different": True})
    b = src.next()
    assert len(b.views) == 2 and b.views[0].shape == (16, 3, 8, 8)
    assert ((b.factors[0] != b.factors[1]).sum(1) == 1).all()
    assert torch.equal(b.views[1], ds.observations(b.factors[1]))
    tri = BatchSource(ds, "triplets", 16, [data_generator(0, 0), data_generator(0, 1)], options={"mode": "manhattan"})
    a, p, n = tri.next().factors
    assert len(a) == 32 and (np.abs(a - p).sum(1) <= np.abs(a - n).sum(1)).all()
    # the state restores the exact stream
    state = tri.state_dict()
    nxt = tri.next().factors
    tri.load_state_dict(state)
    assert all((x == y).all() for x, y in zip(tri.next().factors, nxt))
    with pytest.raises(ValueError, match="argument 'sampler'.*known"):
        BatchSource(ds, "pairs", 4, data_generator(0), options={"kk": 1})
    with pytest.raises(ValueError, match="argument 'kind'"):
        BatchSource(ds, "quads", 4, data_generator(0))


def test_handed_in_generators(tmp_path):
    rng, gen = np.random.default_rng(5), torch.Generator().manual_seed(5)
    a = T.train("vae", "xysquares", steps=3, rng=rng, generator=gen, **KW)
    b = T.train("vae", "xysquares", steps=3, rng=np.random.default_rng(5), generator=torch.Generator().manual_seed(5),
                **KW)
    assert [r["loss"] for r in a.records] == [r["loss"] for r in b.records]
    assert a.config["seed"] is None and a.config["handed_in_generators"] == {"rng": True, "generator": True}


@pytest.mark.parametrize("kwargs,exc,match", [
    ({"steps": 0}, ValueError, "argument 'steps' must be >= 1"),
    ({"steps": 2.5}, TypeError, "argument 'steps'"),
    ({"batch_size": 0}, ValueError, "argument 'batch_size'"),
    ({"seed": -1}, ValueError, "argument 'seed'"),
    ({"seed": "a"}, TypeError, "argument 'seed'"),
    ({"device": "tpu"}, ValueError, "argument 'device'"),
    ({"precision": "fp8"}, ValueError, "argument 'precision'"),
    ({"precision": "fp16"}, ValueError, "needs device 'cuda'"),
    ({"memory_format": "nhwc"}, ValueError, "argument 'memory_format'"),
    ({"data_shards": 3}, ValueError, "argument 'data_shards'"),
    ({"log_every": 0}, ValueError, "argument 'log_every'"),
    ({"grad_clip": -1.0}, ValueError, "argument 'grad_clip'"),
    ({"hparams": {"bta": 1.0}}, ValueError, "argument 'hparams'.*known"),
    ({"schedules": {"gamma": "linear(0, 1, 5)"}}, ValueError, "argument 'schedules'.*schedulable"),
    ({"schedules": {"beta": "linear(0, 1)"}}, TypeError, "argument 'schedules' \\(beta\\)"),
    ({"optimizer": {"optimizer": "lbfgs"}}, ValueError, "argument 'optimizer'.*known"),
    ({"optimizer": {"momentum": 0.9}}, ValueError, "argument 'optimizer'.*momentum"),
    ({"sampler": {"k": 1}}, ValueError, "argument 'sampler'"),
    ({"dataset_options": {"nope": 1}}, ValueError, "dataset_options"),
    ({"resume": True}, ValueError, "argument 'resume'"),
])
def test_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        T.train("beta_vae", "xysquares", **{**KW, "steps": 2, **kwargs})


def test_unknown_names_list_valid_ones():
    with pytest.raises(ValueError, match="unknown 'nope'.*beta_vae"):
        T.train("nope", "xysquares", steps=1, quiet=True)
    with pytest.raises(ValueError, match="argument 'dataset': unknown 'nope'.*xysquares"):
        T.train("vae", "nope", steps=1, quiet=True)
    with pytest.raises(TypeError, match="argument 'objective'"):
        T.train(3, "xysquares", steps=1, quiet=True)
    with pytest.raises(TypeError, match="argument 'dataset'"):
        T.train("vae", object(), steps=1, quiet=True)


def test_every_objective_runs_through_the_trainer_channels_last(tmp_path):
    """Each registered objective, on the conv64 architecture in channels-last order (the trainer's
    default for image models): a few steps, finite terms, a checkpoint that reloads."""
    from pydisent.models import OBJECTIVES

    small = {"factor_vae": {"disc_width": 32, "disc_layers": 2}, "ada_tvae_d": {"num_triplets": 16}}
    for name, cls in sorted(OBJECTIVES.items()):
        run = T.train(name, "xysquares", steps=2, batch_size=4, log_every=1, quiet=True, out=tmp_path / name,
                      hparams={k: v for k, v in small.get(name, {}).items() if k in cls.defaults}, latent_dim=4)
        assert run.config["memory_format"] == "auto"
        assert all(np.isfinite(v) for r in run.records for k, v in r.items() if isinstance(v, float)), name
        assert T.load_run(tmp_path / name).step == 2
        if name == "beta_tcvae":  # filled from the dataset (N of log(N M))
            assert run.config["hparams"]["dataset_size"] == 8**6
        if "share_scale_steps" in cls.defaults:  # msc-research: the share scale ramps over the whole run
            assert run.config["hparams"]["share_scale_steps"] == 2


def test_resume_is_bit_identical_conv_channels_last(tmp_path):
    common = dict(steps=6, batch_size=4, log_every=1, checkpoint_every=3, quiet=True, latent_dim=4, seed=1)
    T.train("factor_vae", "xysquares", out=tmp_path / "full", hparams={"disc_width": 32, "disc_layers": 2}, **common)
    T.train("factor_vae", "xysquares", out=tmp_path / "part", hparams={"disc_width": 32, "disc_layers": 2},
            **{**common, "steps": 3})
    T.train("factor_vae", "xysquares", out=tmp_path / "part", resume=True, **common)
    assert _losses(tmp_path / "full") == _losses(tmp_path / "part")
    full, part = T.read_log(tmp_path / "full"), T.read_log(tmp_path / "part")
    assert [set(r) for r in full] == [set(r) for r in part] and "aux/disc_loss" in full[0]
    assert [r["aux/disc_loss"] for r in full] == [r["aux/disc_loss"] for r in part]


def test_bf16_autocast_on_the_cpu(tmp_path):
    common = dict(steps=4, batch_size=4, log_every=1, checkpoint_every=2, quiet=True, latent_dim=4, precision="bf16")
    full = T.train("beta_vae", "xysquares", out=tmp_path / "full", **common)
    assert full.config["precision"] == "bf16" and all(np.isfinite(r["loss"]) for r in full.records)
    T.train("beta_vae", "xysquares", out=tmp_path / "part", **{**common, "steps": 2})
    T.train("beta_vae", "xysquares", out=tmp_path / "part", resume=True, **common)
    assert _losses(tmp_path / "full") == _losses(tmp_path / "part")


def test_prefetch_changes_nothing(tmp_path):
    """The background thread draws the same batches; a checkpoint taken while it runs ahead holds the
    state after the batches consumed, so a resume without prefetching continues the same stream."""
    common = dict(KW, steps=8, seed=2, checkpoint_every=3, keep_checkpoints=None, log_every=1)
    a = T.train("ada_gvae", "xysquares", prefetch=0, **common)
    b = T.train("ada_gvae", "xysquares", prefetch=3, out=tmp_path / "b", **common)
    assert [r["loss"] for r in a.records] == [r["loss"] for r in b.records]
    T.train("ada_gvae", "xysquares", prefetch=3, out=tmp_path / "c", **{**common, "steps": 3})
    T.train("ada_gvae", "xysquares", prefetch=0, out=tmp_path / "c", resume=True, **common)
    assert _losses(tmp_path / "b") == _losses(tmp_path / "c")
    with pytest.raises(ValueError, match="argument 'prefetch'"):
        T.train("vae", "xysquares", prefetch=-1, **{**KW, "steps": 1})


def test_tensorboard_optional(tmp_path):
    import importlib.util

    if importlib.util.find_spec("tensorboard") is None:
        with pytest.raises(ImportError, match="pip install tensorboard"):
            T.train("vae", "xysquares", steps=1, out=tmp_path / "r", tensorboard=True, **KW)
        run = T.train("vae", "xysquares", steps=2, out=tmp_path / "s", **KW)  # auto: silently without
        assert run.status == "finished" and not (tmp_path / "s" / "tensorboard").exists()
    else:
        T.train("vae", "xysquares", steps=2, out=tmp_path / "r", tensorboard=True, **KW)
        assert any((tmp_path / "r" / "tensorboard").iterdir())
