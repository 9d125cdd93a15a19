"""References and peer shims shared by the tests and the benchmarks (never imported by the package).

- :mod:`tests._references.disentanglement_lib`: a transcription of disentanglement_lib's metric code
  (numpy, its ``(num_codes, num_points)`` layout), the tests' parity target and the benchmarks' peer
  where disent has no implementation.
- :mod:`tests._references.disent`: importing the installed disent 0.8.0 without torchvision / lightning
  (stubs for the parts its data and metric code never use).

Import them as ``from tests._references import disentanglement_lib as ref`` (the repository root on
``sys.path``: pytest's rootdir, or ``python -m benchmarks`` run from the root).
"""
