"""``pydisent report RUN``: (re)build a run folder's ``report.html`` from what it holds (``metrics.json``,
``diagnostics.npz``, the training log); no model is loaded and nothing is recomputed."""

from __future__ import annotations

from pathlib import Path

from pydisent.cli._common import UserError, add_output_flags, print_json


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="(re)build the HTML report of a run folder", description=__doc__)
    p.add_argument("run", metavar="RUN", help="a run folder scored by `pydisent evaluate` (or `pydisent demo`)")
    p.add_argument("--out", default=None, metavar="PATH", help="where to write the page (default RUN/report.html)")
    add_output_flags(p, json_help="print {\"report\": PATH} as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    from pydisent._io import check_output_path
    from pydisent.report import render_run_report

    folder = Path(args.run)
    if not folder.is_dir():
        raise UserError(f"argument 'RUN': {args.run!r} is not a folder")
    if args.out is not None:
        check_output_path(args.out, name="--out")
    path = render_run_report(folder, out=args.out)
    if args.json_out:
        print_json({"report": str(path)})
    else:
        print(f"report: {path}")
    return 0
