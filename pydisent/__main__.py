from pydisent.cli import entry

raise SystemExit(entry())
