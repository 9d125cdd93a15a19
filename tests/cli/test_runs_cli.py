"""``pydisent evaluate RUN_OR_MODEL``, ``report RUN``, ``compare RUN...``, ``bench``: files and their contents,
user errors as one line (exit 2), Ctrl-C leaving a valid run folder (exit 130)."""

from __future__ import annotations

import json
import shutil

import torch

from pydisent.cli import entry, main
from pydisent.report.schema import read_metrics
from tests.report._demo import quick_demo

QUICK_DS = {"num_squares": 1, "rgb": False, "grid_spacing": 1, "grid_size": 4}  # the quick demo's dataset
QUICK = ["--dataset", "xysquares", *[a for k, v in QUICK_DS.items() for a in ("--dataset-arg", f"{k}={v}")], "--quiet"]


def test_evaluate_a_run_folder_into_another_folder(tmp_path_factory, tmp_path, capsys):
    out, _ = quick_demo(tmp_path_factory)
    dest = tmp_path / "eval"
    assert main(["evaluate", str(out / "beta_vae"), "--metrics", "mig", "linearity", "--set", "mig.num_train=300",
                 "--set", "linearity.repeats=4", "--out", str(dest), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "discrete_mig" in printed and f"report: {dest / 'report.html'}" in printed
    doc = read_metrics(dest / "metrics.json")
    assert set(doc["results"]) == {"mig", "linearity"}
    assert doc["dataset"]["kwargs"] == QUICK_DS  # the run's dataset by default
    assert doc["provenance"]["settings"]["options"] == {"mig": {"num_train": 300}, "linearity": {"repeats": 4}}
    assert (dest / "report.html").is_file() and (dest / "diagnostics.npz").is_file()


def test_evaluate_a_checkpoint_and_an_exported_program(tmp_path_factory, tmp_path, capsys):
    out, _ = quick_demo(tmp_path_factory)
    ckpt = sorted((out / "vae" / "checkpoints").glob("*.pt"))[-1]
    assert main(["evaluate", str(ckpt), "--quiet", "--metrics", "mig", "--set", "mig.num_train=200", "--json",
                 "--out", str(tmp_path / "ck")]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(payload["results"]) == {ckpt.stem} and "mig" in payload["results"][ckpt.stem]
    doc = read_metrics(tmp_path / "ck" / "metrics.json")
    assert doc["representation"]["kind"] == "checkpoint"
    assert doc["dataset"]["kwargs"] == QUICK_DS  # the checkpoint's training dataset

    class Encoder(torch.nn.Module):
        def forward(self, x):
            return x.flatten(1)[:, ::1365] * 2.0

    x = torch.rand(4, 1, 64, 64)  # the quick dataset: one channel
    program = torch.export.export(Encoder(), (x,), dynamic_shapes={"x": {0: torch.export.Dim("batch", min=1)}})
    torch.export.save(program, str(tmp_path / "enc.pt2"))
    assert main(["evaluate", str(tmp_path / "enc.pt2"), *QUICK, "--metrics", "mig", "--set", "mig.num_train=200",
                 "--out", str(tmp_path / "ex")]) == 0
    doc = read_metrics(tmp_path / "ex" / "metrics.json")
    assert doc["representation"]["kind"] == "export" and doc["representation"]["has_decoder"] is False
    assert "no decoder, so no traversals" in (tmp_path / "ex" / "report.html").read_text()


def test_report_rebuilds_from_the_folder(tmp_path_factory, tmp_path, capsys):
    out, _ = quick_demo(tmp_path_factory)
    run = tmp_path / "run"
    shutil.copytree(out / "vae", run)
    before = (run / "report.html").read_text()
    (run / "report.html").unlink()
    assert main(["report", str(run), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"report": str(run / "report.html")}
    after = (run / "report.html").read_text()
    assert after.count("<img ") == before.count("<img ")


def test_compare_prints_and_writes_the_table(tmp_path_factory, tmp_path, capsys):
    out, _ = quick_demo(tmp_path_factory)
    assert main(["compare", str(out / "beta_vae"), str(out / "vae"), "--html", str(tmp_path / "c.html")]) == 0
    text = capsys.readouterr().out
    assert "beta_vae" in text and "vae" in text and "discrete_mig" in text
    assert "rank correlations need at least 3 runs" in (tmp_path / "c.html").read_text()
    assert main(["compare", str(out / "beta_vae"), str(out / "vae" / "metrics.json"), "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert table["runs"] == ["beta_vae", "vae"]
    mig = next(r for r in table["rows"] if r["key"] == "discrete_mig")
    assert mig["values"] == [read_metrics(out / r / "metrics.json")["results"]["mig"]["discrete_mig"]
                             for r in ("beta_vae", "vae")]
    # hyperparameters that differ or are set in some runs only (the plain VAE has no beta)
    assert table["hyperparameters"] == {"beta": [4.0, None]}


def test_bench_lists_runs_and_rejects_unknown_suites(capsys, monkeypatch):
    assert main(["bench", "--list"]) == 0
    suites = capsys.readouterr().out.split()
    assert "distance" in suites and "metrics" in suites
    calls = []
    monkeypatch.setattr("subprocess.call", lambda cmd, cwd=None: calls.append((cmd, cwd)) or 0)
    assert main(["bench", "--only", "pca", "distance", "--quick", "--no-save"]) == 0
    cmd, cwd = calls[0]
    assert cmd[1:] == ["-m", "benchmarks", "pca", "distance", "--device", "cpu", "--quick", "--no-save"]
    assert (cwd and (__import__("pathlib").Path(cwd) / "benchmarks" / "__main__.py").is_file())
    assert entry(["bench", "--only", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown benchmark suite(s) nope; valid: " in err and "distance" in err


def _one_line_error(capsys, argv, *needles):
    assert entry(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("pydisent: error:") and "Traceback" not in err, err
    for n in needles:
        assert n in err, err


def test_user_errors_are_one_line(tmp_path_factory, tmp_path, capsys):
    out, _ = quick_demo(tmp_path_factory)
    _one_line_error(capsys, ["evaluate", "--dataset", "nosuch", "--quiet"], "unknown dataset 'nosuch'", "xysquares")
    _one_line_error(capsys, ["evaluate", str(out / "vae"), "--metrics", "nope", "--quiet"], "nope", "valid: all",
                    "mig")
    _one_line_error(capsys, ["evaluate", "--dataset", "shapes3d", "--quiet"], "3dshapes.h5")
    _one_line_error(capsys, ["evaluate", str(tmp_path / "missing_run"), "--quiet"], "missing_run")
    _one_line_error(capsys, ["report", str(tmp_path)], "metrics.json", "does not exist")
    _one_line_error(capsys, ["compare", str(tmp_path / "nothing")], "neither a run folder")
    old = tmp_path / "old"
    shutil.copytree(out / "vae", old)
    cfg = json.loads((old / "config.json").read_text())
    cfg["format_version"] = 99
    cfg["pydisent_version"] = "0.0.1"
    (old / "config.json").write_text(json.dumps(cfg))
    _one_line_error(capsys, ["evaluate", str(old), "--quiet"], "written by pydisent 0.0.1",
                    "run format version 99")
    doc = json.loads((out / "vae" / "metrics.json").read_text())
    doc["schema_version"] = 0
    (old / "metrics.json").write_text(json.dumps(doc))
    _one_line_error(capsys, ["report", str(old)], "schema version 0", "reads version 1")
    _one_line_error(capsys, ["demo", "--out", str(out / "vae" / "config.json")], "not a folder")
    _one_line_error(capsys, ["demo", "--steps", "0", "--out", str(tmp_path / "never")], "'--steps'")
    assert not (tmp_path / "never").exists()  # checked before anything is written


def test_ctrl_c_during_scoring_leaves_a_valid_run_folder(tmp_path, monkeypatch, capsys):
    (tmp_path / "stopper.py").write_text(
        "import torch\n"
        "seen = [0]\n"
        "def encode(x):\n"
        "    seen[0] += len(x)\n"
        "    if seen[0] > 300:\n"
        "        raise KeyboardInterrupt\n"
        "    return x.reshape(len(x), -1)[:, :4].float()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    dest = tmp_path / "eval"
    assert entry(["evaluate", "stopper:encode", *QUICK, "--metrics", "mig", "linearity", "--set",
                  "mig.num_train=300", "--out", str(dest), "--no-cache"]) == 130
    doc = read_metrics(dest / "metrics.json")
    assert doc["status"] == "interrupted" and list(doc["results"]) == ["mig"]
    assert "Scoring was interrupted" in (dest / "report.html").read_text()
    assert not list(dest.glob(".*.tmp*"))
