"""metrics.json: versioned, validated, written atomically, strict JSON, with provenance."""

from __future__ import annotations

import json
import math

import pytest

import pydisent
from pydisent.report.schema import (
    SCHEMA,
    SCHEMA_VERSION,
    RunFormatError,
    metrics_document,
    provenance,
    read_metrics,
    write_metrics,
)


def _doc(**kw):
    return metrics_document({"mig": {"discrete_mig": 0.25, "nan_key": math.nan}},
                            representation={"label": "r", "kind": "callable"},
                            dataset={"name": "xysquares", "kwargs": {}}, seconds={"mig": 0.1},
                            provenance_=provenance(device="cpu", seeds={"evaluation": 3}, settings={"fast": True}),
                            **kw)


def test_provenance_records_version_commit_build_device_seeds_settings():
    p = provenance(device="cpu", seeds={"evaluation": 3}, settings={"fast": True})
    assert p["pydisent"] == pydisent.__version__
    assert "commit" in p and isinstance(p["build"], dict) and p["device"]["name"] == "cpu"
    assert p["seeds"] == {"evaluation": 3} and p["settings"] == {"fast": True}
    assert "matplotlib" in p["versions"] and "jinja2" in p["versions"]


def test_roundtrip_is_strict_json_with_nan_as_null(tmp_path):
    path = write_metrics(tmp_path / "metrics.json", _doc())
    text = path.read_text()
    assert "NaN" not in text
    raw = json.loads(text)
    assert raw["schema"] == SCHEMA and raw["schema_version"] == SCHEMA_VERSION
    assert raw["results"]["mig"] == {"discrete_mig": 0.25, "nan_key": None}
    assert read_metrics(path)["provenance"]["seeds"] == {"evaluation": 3}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]  # no temp file left


def test_other_version_is_refused_naming_both_versions(tmp_path):
    doc = _doc()
    doc["schema_version"] = 99
    doc["provenance"]["pydisent"] = "9.9.9"
    (tmp_path / "m.json").write_text(json.dumps(doc))
    with pytest.raises(RunFormatError, match=r"schema version 99 \(written by pydisent 9.9.9\).*reads version 1"):
        read_metrics(tmp_path / "m.json")


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(schema="other"), "not a pydisent metrics file"),
    (lambda d: d.update(status="half"), "status must be one of"),
    (lambda d: d.update(results=[1]), "field 'results' must be an object"),
    (lambda d: d["results"].update(mig=3), r"results\['mig'\] must be an object"),
])
def test_malformed_documents_are_refused(tmp_path, mutate, message):
    doc = json.loads(json.dumps(_doc(), default=str).replace("NaN", "null"))
    mutate(doc)
    (tmp_path / "m.json").write_text(json.dumps(doc))
    with pytest.raises(RunFormatError, match=message):
        read_metrics(tmp_path / "m.json")


def test_missing_and_corrupt_files_say_so(tmp_path):
    with pytest.raises(RunFormatError, match="does not exist"):
        read_metrics(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text('{"schema": ')
    with pytest.raises(RunFormatError, match="not valid JSON"):
        read_metrics(tmp_path / "bad.json")


def test_interrupted_status_is_a_valid_document(tmp_path):
    path = write_metrics(tmp_path / "metrics.json", _doc(status="interrupted"))
    assert read_metrics(path)["status"] == "interrupted"
