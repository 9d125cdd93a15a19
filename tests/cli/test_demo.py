"""``pydisent demo --quick``: two trained runs, each scored and reported, and the comparison page."""

from __future__ import annotations

import json

import numpy as np
import torch

from pydisent.report.schema import read_metrics
from tests.report._demo import quick_demo


def test_demo_writes_two_scored_run_folders(tmp_path_factory):
    out, summary = quick_demo(tmp_path_factory)
    assert set(summary["folders"]) == {"beta_vae", "vae"}
    assert summary["standin"] is False  # real training (pydisent.train)
    for label, beta in (("beta_vae", 4.0), ("vae", None)):
        run = out / label
        config = json.loads((run / "config.json").read_text())
        assert config["objective"] == label and config["steps"] == 10
        if beta is not None:
            assert config["hparams"]["beta"] == beta
        log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
        assert [r["step"] for r in log] == [2, 4, 6, 8, 10] and all("kl" in r and "recon" in r for r in log)
        ckpts = sorted((run / "checkpoints").glob("step-*.pt"))
        assert ckpts and torch.load(ckpts[-1], weights_only=True)["step"] == 10
        doc = read_metrics(run / "metrics.json")
        assert doc["status"] == "complete" and doc["representation"]["kind"] == "run"
        assert doc["dataset"]["name"] == "xysquares" and doc["dataset"]["factor_names"] == ["x_R", "y_R"]
        assert doc["dataset"]["factor_sizes"] == [4, 4]
        assert {"mig", "dci", "factor_vae", "beta_vae", "sap", "ground_truth_correlation", "linearity",
                "prior_divergence", "topological_disentanglement", "geometry_score"} <= set(doc["results"])
        topo = doc["results"]["topological_disentanglement"]
        assert topo["unsupervised_n_clusters"] >= 2 and set(doc["arrays"]["topological_disentanglement"]) >= {
            "wrlt", "distances", "latent_values"}
        assert 0 <= doc["results"]["mig"]["discrete_mig"] <= 1
        assert doc["run"]["config"]["objective"] == label
        assert doc["provenance"]["seeds"]["training"] == 0 and doc["provenance"]["settings"]["quick"] is True
        assert summary["results"][label]["mig"] == doc["results"]["mig"]
        with np.load(run / "diagnostics.npz", allow_pickle=False) as d:
            assert d["traversals"].shape[:2] == (6, 5)  # 6 latent dimensions x 5 steps
            assert d["recon_inputs"].shape == d["recon_outputs"].shape == (4, 64, 64, 1)
            assert d["dist_latent/x_R"].shape == (4, 4)
            assert d["topological_disentanglement/wrlt"].shape == (6, 3, 20)  # dims x values x i_max
            assert d["topological_disentanglement/distances"].shape == (6, 6)
        html = (run / "report.html").read_text()
        assert html.count("<img ") == 7 and label in html  # every figure, the topological ones included
        assert not list(run.glob(".*.tmp*"))  # no temporary file left behind
    compare = (out / "compare.html").read_text()
    assert 'href="beta_vae/report.html"' in compare and "discrete_mig" in compare
