"""``pydisent train`` / ``pydisent objectives`` on the command line and the signal checkpoint (a real
subprocess receiving SIGINT/SIGTERM)."""

import json
import signal
import subprocess
import sys
import time

import pytest

import pydisent.train as T
from pydisent.cli import main
from pydisent.train import checkpoint as ck
from tests.train._cli import B8, TINY
from tests.train._cli import subprocess_env as _env


def test_cli_train_and_resume(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["train", "--objective", "beta_vae", "--dataset", "xysquares", "--set", "beta=2", *TINY, *B8,
               "--steps", "4",
               "--log-every", "2", "--schedule", "beta=linear(0, 2, 4)", "--out", str(out)])
    assert rc == 0
    assert "beta_vae on xysquares: 4 steps" in capsys.readouterr().out
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["hparams"]["beta"] == 2.0 and cfg["schedules"]["beta"]["kind"] == "linear" and cfg["latent_dim"] == 4
    assert [r["step"] for r in T.read_log(out)] == [2, 4]
    assert main(["train", "--resume", str(out), "--steps", "6", "--quiet"]) == 0
    assert [r["step"] for r in T.read_log(out)] == [2, 4, 6]


@pytest.mark.parametrize("argv,match", [
    (["--objective", "nope", "--dataset", "xysquares"], "unknown 'nope'; known: .*'vae'"),
    (["--objective", "vae", "--dataset", "nope"], "argument 'dataset': unknown 'nope'; known: .*'xysquares'"),
    (["--objective", "beta_vae", "--dataset", "xysquares", "--set", "bta=1"], "no hyperparameter.*'beta'"),
    (["--objective", "vae", "--dataset", "xysquares", "--set", "data.x=1"], "unknown namespace.*dataset.X"),
    (["--objective", "vae", "--dataset", "xysquares", "--set", "novalue"], "expected KEY=VALUE"),
    (["--objective", "vae", "--dataset", "xysquares", "--schedule", "beta=linar(0,1,2)"], "unknown schedule 'linar'"),
    (["--objective", "vae"], "'--objective' and '--dataset' are required"),
    (["--objective", "vae", "--dataset", "xysquares", "--steps", "0"], "argument 'steps'"),
])
def test_cli_bad_input_is_one_line(argv, match, capsys):
    assert main(["train", *argv]) == 2
    err = capsys.readouterr().err
    import re

    assert re.search(match, err) and err.count("\n") == 1


def test_cli_objectives_lists_everything(capsys):
    from pydisent.data import DATASETS
    from pydisent.models import OBJECTIVES

    assert main(["objectives"]) == 0
    text = capsys.readouterr().out
    for name in list(OBJECTIVES) + list(DATASETS) + ["linear(", "cyclic(", "optimizer", "sampler", "latent_dim"]:
        assert name in text
    assert "beta=4.0" in text


@pytest.mark.parametrize("sig,rc", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_writes_a_checkpoint(tmp_path, sig, rc):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "pydisent", "train", "--objective", "vae", "--dataset", "xysquares",
                             *TINY, *B8, "--steps", "1000000", "--log-every", "1", "--checkpoint-every", "0",
                             "--out", str(out)], env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not ((out / "log.jsonl").is_file() and (out / "log.jsonl").read_text()):
            time.sleep(0.1)
        assert (out / "log.jsonl").is_file(), "the run never logged"
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == rc, err
    assert "resume with: pydisent train --resume" in err
    steps = [s for s, _ in ck.list_checkpoints(out)]
    assert len(steps) == 1 and steps[0] >= 1
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["step"] == steps[0]
    run = T.train("vae", "xysquares", steps=steps[0] + 2, out=out, resume=True, quiet=True)
    assert run.step == steps[0] + 2
    # the signal checkpoint is a step boundary: the interrupted + resumed log is the uninterrupted run's
    ref = T.train("vae", "xysquares", steps=steps[0] + 2, batch_size=8, log_every=1, quiet=True, latent_dim=4,
                  dataset_options={"square_size": 2, "image_size": 8}, arch_options={"hidden": [32]})
    # (to float precision: this process may use another thread count than the subprocess)
    assert [r["loss"] for r in T.read_log(out)] == pytest.approx([r["loss"] for r in ref.records], rel=1e-6)
