"""Printing a benchmark's figures: one line at a time, flushed (benchmarks run for minutes)."""

from __future__ import annotations

import sys


def emit(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
