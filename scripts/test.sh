#!/usr/bin/env bash
# The test command (README; .ci/run calls it): set up a fresh machine, lint, run every test.
#
#   scripts/test.sh                 # everything
#   scripts/test.sh -k cleaning     # extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install_prerequisites.sh test
uv sync --frozen --all-extras

uv run --frozen ruff check .
uv run --frozen ruff format --check .
uv run --frozen pytest "$@"
