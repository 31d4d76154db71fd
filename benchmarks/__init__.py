"""Benchmarks: each prints its figures against the targets (not timed tests).

    uv run python -m benchmarks.<name> --help

They share one harness (:mod:`benchmarks.harness`) and the dev-only services of ``devkit``;
none imports another benchmark, nor the tests.
"""
