"""Data parallelism: 2 gloo processes launched by torchrun (the real launcher, the CLI) against one process."""

import json
import socket
import subprocess
import sys

import pytest

import pydisent.train as T
from pydisent.train import checkpoint as ck
from tests.train._cli import B8, TINY
from tests.train._cli import subprocess_env as _env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_process_gloo_equals_one_process_at_twice_the_batch(tmp_path):
    """torchrun --nproc_per_node 2 (gloo, batch 8 per rank) against one process with batch 16 drawn as the
    same two data shards: the same data, gradients averaged over the ranks, so the same losses (up to the
    order of float sums). The autoencoder is used where registered (no sampling noise: equal to 1e-4);
    the VAE draws its noise per rank, so its reconstruction agrees to sampling precision only."""
    from pydisent.models import OBJECTIVES

    objective = "ae" if "ae" in OBJECTIVES else "vae"
    common = ["train", "--objective", objective, "--dataset", "xysquares", *TINY, "--steps", "6", "--log-every", "1",
              "--checkpoint-every", "0"]
    ddp = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr",
                          "127.0.0.1", "--master_port", str(_free_port()), "-m", "pydisent", *common, *B8, "--out",
                          str(tmp_path / "ddp")], env=_env(), capture_output=True, text=True, timeout=120)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    assert ddp.stdout.count("pydisent train:") == 1  # rank 0 reports
    T.train(objective, "xysquares", steps=6, batch_size=16, data_shards=2, log_every=1, checkpoint_every=None,
            dataset_options={"square_size": 2, "image_size": 8}, latent_dim=4, arch_options={"hidden": [32]},
            out=tmp_path / "one", quiet=True)
    a, b = T.read_log(tmp_path / "ddp"), T.read_log(tmp_path / "one")
    assert [r["step"] for r in a] == [r["step"] for r in b] == list(range(1, 7))
    cfg = json.loads((tmp_path / "ddp" / "config.json").read_text())
    assert cfg["world_size"] == 2 and cfg["global_batch_size"] == 16
    if objective == "ae":
        for ra, rb in zip(a, b):
            assert ra["loss"] == pytest.approx(rb["loss"], rel=1e-4)
    else:
        # step 1: the same weights and data; the KL has no noise in it, the reconstruction has
        assert a[0]["kl"] == pytest.approx(b[0]["kl"], rel=1e-5)
        assert a[0]["loss"] == pytest.approx(b[0]["loss"], rel=2e-3)
        for ra, rb in zip(a, b):
            assert ra["loss"] == pytest.approx(rb["loss"], rel=2e-2)
    assert len(ck.list_checkpoints(tmp_path / "ddp")) == 1  # rank 0 alone writes
    state = ck.load_checkpoint(tmp_path / "ddp")
    assert len(state["rng"]) == 2 and state["rng"][0]["data"] != state["rng"][1]["data"]  # per-rank data seeds
    with pytest.raises(ck.CheckpointError, match="2 process\\(es\\); resume it with as many"):
        T.train(objective, "xysquares", steps=8, out=tmp_path / "ddp", resume=True, quiet=True)
