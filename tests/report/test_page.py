"""The HTML pages: rendered from the run folder's files, self-contained, escaped; the comparison's numbers."""

from __future__ import annotations

import base64
import io
import json
import re

import matplotlib.image
import numpy as np
import pytest

from pydisent.report.page import (
    compare_text,
    comparison,
    fmt,
    hyperparameters,
    rank_correlations,
    render_compare,
    render_run_report,
    write_diagnostics,
)
from pydisent.report.schema import metrics_document, provenance, write_metrics


def _run(folder, label, mig, beta, *, diag=True, log=True):
    folder.mkdir(parents=True)
    config = {"format": "pydisent-run", "format_version": 1, "objective": "beta_vae", "hparams": {"beta": beta},
              "latent_dim": 3, "steps": 10, "batch_size": 8, "seed": 0}
    doc = metrics_document({"mig": {"discrete_mig": mig}, "sap": {"SAP_score": 1 - mig}},
                           representation={"label": label, "kind": "run", "source": str(folder)},
                           dataset={"name": "xysquares", "kwargs": {}}, seconds={"mig": 0.1},
                           run={"config": config}, provenance_=provenance())
    write_metrics(folder / "metrics.json", doc)
    if diag:
        eye = np.abs(np.subtract.outer(np.arange(4), np.arange(4))).astype(float)
        write_diagnostics(folder / "diagnostics.npz", {
            "factor_names": np.array(["x", "y"]), "dist_ground/x": eye, "dist_data/x": eye, "dist_latent/x": eye,
            "dist_ground/y": eye, "dist_data/y": eye, "dist_latent/y": eye,
            "linearity/linearity.linear_ratio.var": np.array([0.9, 0.8]),
            "linearity/linearity.axis_ratio.var": np.array([0.5, 0.4]),
            "linearity/linearity.axis_alignment.var": np.array([0.55, 0.5]),
            "traversals": np.zeros((3, 5, 8, 8, 3), np.uint8), "traversal_values": np.zeros((3, 5)),
            "recon_inputs": np.zeros((4, 8, 8, 3), np.uint8), "recon_outputs": np.zeros((4, 8, 8, 3), np.uint8),
            "topological_disentanglement/wrlt": np.random.default_rng(0).random((3, 2, 10)),
            "topological_disentanglement/distances": np.eye(3),
            "topological_disentanglement/row_order": np.array([2, 0, 1])})
    if log:
        (folder / "log.jsonl").write_text("\n".join(json.dumps({"step": s, "loss": 10.0 / s, "kl": 1.0, "lr": 1e-4})
                                                    for s in range(1, 6)) + '\n{"step": 6, "lo')
    return folder


def _images(html):
    uris = re.findall(r'<img src="data:image/png;base64,([^"]+)"', html)
    return [matplotlib.image.imread(io.BytesIO(base64.b64decode(u))) for u in uris]


def test_run_report_draws_every_section_from_the_folder(tmp_path):
    folder = _run(tmp_path / "run<1>", "run<1>", 0.25, 4.0)
    html = render_run_report(folder).read_text()
    assert len(_images(html)) == 7  # traversals, reconstructions, curves, distances, linearity, W. RLT, matrix
    for text in ("Latent traversals", "Reconstructions", "Training curves", "Ground-truth vs latent distances",
                 "Linearity and axis alignment", "Topological score", "Provenance", "Chen et al., NeurIPS 2018",
                 "0.2500", "beta = 4.0"):
        assert text in html, text
    assert "run&lt;1&gt;" in html and "run<1>" not in html  # autoescaped
    assert not re.search(r'(src|href)="(?!data:|#)', html)


def test_report_says_what_is_missing(tmp_path):
    folder = _run(tmp_path / "bare", "bare", 0.1, 1.0, diag=False, log=False)
    html = render_run_report(folder).read_text()
    assert len(_images(html)) == 0
    assert "no decoder, so no traversals" in html and "has no training log" in html
    assert "topological score was not computed" in html


def test_comparison_table_rank_correlations_and_hyperparameters(tmp_path):
    from pydisent.report.schema import read_metrics

    entries = [{"label": f"r{i}", "doc": read_metrics(_run(tmp_path / f"r{i}", f"r{i}", m, b) / "metrics.json"),
                "link": None} for i, (m, b) in enumerate([(0.1, 1.0), (0.3, 4.0), (0.2, 16.0)])]
    table = comparison(entries)
    assert table["labels"] == ["r0", "r1", "r2"]
    assert ("mig", "discrete_mig", [0.1, 0.3, 0.2]) in table["rows"]
    assert table["hparams"] == {"beta": [1.0, 4.0, 16.0]}  # steps, batch_size, latent_dim do not differ
    names, corr = rank_correlations(table["rows"])
    assert names == ["discrete_mig", "SAP_score"]
    np.testing.assert_allclose(corr, [[1, -1], [-1, 1]])  # SAP = 1 - MIG: opposite ranks
    text = compare_text(entries)
    assert "discrete_mig" in text and "0.3000" in text and "beta" in text
    html = render_compare(entries, tmp_path / "c.html").read_text()
    assert len(_images(html)) == 2  # the heatmap and the metrics vs beta panel
    assert '<td class="num best">0.3000</td>' in html


def test_comparison_of_two_runs_explains_the_missing_heatmap(tmp_path):
    from pydisent.report.schema import read_metrics

    entries = [{"label": f"r{i}", "doc": read_metrics(_run(tmp_path / f"r{i}", f"r{i}", m, 1.0) / "metrics.json"),
                "link": None} for i, m in enumerate([0.1, 0.3])]
    html = render_compare(entries, tmp_path / "c.html").read_text()
    assert "need at least 3 runs (2 given)" in html
    assert "no hyperparameter takes two values" in html


@pytest.mark.parametrize("v, text", [(None, "n/a"), (float("nan"), "n/a"), (0.5, "0.5000"), (3, "3"),
                                     (1.5e-4, "1.500e-04"), (True, "True")])
def test_fmt(v, text):
    assert fmt(v) == text


def test_hyperparameters_of_a_training_config():
    cfg = {"hparams": {"beta": 4.0, "likelihood": "auto"}, "latent_dim": 6, "steps": 100, "batch_size": 64,
           "seed": 3, "optimizer": {"optimizer": "adam", "lr": 1e-4}, "log_every": 50}
    assert hyperparameters(cfg) == {"beta": 4.0, "latent_dim": 6, "steps": 100, "batch_size": 64,
                                    "optimizer.lr": 1e-4}
