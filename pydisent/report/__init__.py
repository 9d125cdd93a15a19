"""Reports: figures (matplotlib), one self-contained HTML page per run and a comparison page across runs,
and the versioned ``metrics.json`` with provenance.

* :mod:`pydisent.report.schema`: ``metrics.json`` (``SCHEMA_VERSION``), :func:`provenance`;
* :mod:`pydisent.report.runs`: run folders, checkpoints, exported programs and callables as :class:`Subject`;
* :mod:`pydisent.report.scoring`: the metric suite with progress bars, the topological score, the figures' data;
* :mod:`pydisent.report.figures`: one function per figure; :mod:`pydisent.report.page`: the HTML pages;
* :mod:`pydisent.report.pipeline`: score a subject and write its folder (what ``pydisent evaluate`` runs).
"""

from pydisent.report.page import compare_text, render_compare, render_run_report
from pydisent.report.pipeline import evaluate_subject, resolve_dataset
from pydisent.report.runs import Subject, open_run, open_subject, read_log
from pydisent.report.schema import SCHEMA_VERSION, RunFormatError, provenance, read_metrics, write_metrics

__all__ = ["SCHEMA_VERSION", "RunFormatError", "Subject", "compare_text", "evaluate_subject", "open_run",
           "open_subject", "provenance", "read_log", "read_metrics", "render_compare", "render_run_report",
           "resolve_dataset", "write_metrics"]
