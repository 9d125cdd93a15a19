"""pydisent benchmarks: ``python -m benchmarks <suite> [...]``. See ``harness.py``."""
