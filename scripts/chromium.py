"""Moved to :mod:`devkit.chromium` (tests and benchmarks share ``devkit``, not ``scripts``).

Kept only until the last importers switch (tests/test_ui_browser.py,
tests/test_docker_stack.py, scripts/benchmark_ui.py); then delete this file.
"""

from devkit.chromium import CHROMIUM, CHROMIUM_ARGS, MISSING, launch

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "MISSING", "launch"]
