"""``pydisent compare RUN...``: the metrics of several scored runs side by side, in the terminal and in HTML.

With three runs or more, the HTML page adds the Spearman rank correlations between the metrics across the
runs (Locatello et al. 2019's heatmap) and, for every hyperparameter that differs between the runs' training
configs, the metrics against it.
"""

from __future__ import annotations

from pathlib import Path

from pydisent.cli._common import UserError, add_output_flags, print_json


def add_parser(sub) -> None:
    p = sub.add_parser("compare", help="compare the metrics of scored runs", description=__doc__)
    p.add_argument("runs", nargs="+", metavar="RUN", help="run folders (or their metrics.json files)")
    p.add_argument("--html", default=None, metavar="PATH", help="also write the comparison page to PATH")
    add_output_flags(p, json_help="print the table as JSON on stdout")
    p.set_defaults(func=run)


def load_entries(runs) -> list[dict]:
    from pydisent.report import read_metrics
    from pydisent.report.runs import METRICS_FILE

    entries, seen = [], {}
    for spec in runs:
        p = Path(spec)
        if p.is_dir():
            path, label, link = p / METRICS_FILE, p.name or str(p), p / "report.html"
        elif p.is_file():
            path, label, link = p, p.parent.name or p.stem, p.parent / "report.html"
        else:
            raise UserError(f"argument 'RUN': {spec!r} is neither a run folder nor a metrics.json file")
        doc = read_metrics(path)
        n = seen.get(label, 0)
        seen[label] = n + 1
        entries.append({"label": label if n == 0 else f"{label}#{n + 1}", "doc": doc,
                        "link": str(link.resolve().as_uri()) if link.is_file() else None})
    return entries


def run(args) -> int:
    from pydisent._io import check_output_path
    from pydisent.report import compare_text, render_compare
    from pydisent.report.page import comparison

    if args.html is not None:
        check_output_path(args.html, name="--html")
    entries = load_entries(args.runs)
    path = render_compare(entries, args.html) if args.html is not None else None
    if args.json_out:
        table = comparison(entries)
        print_json({"runs": table["labels"], "rows": [{"metric": m, "key": k, "values": v}
                                                     for m, k, v in table["rows"]],
                    "hyperparameters": table["hparams"], "html": str(path) if path else None})
        return 0
    print(compare_text(entries))
    if path is not None:
        print(f"comparison: {path}")
    return 0
