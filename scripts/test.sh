#!/usr/bin/env bash
# The test command (README; .ci/run calls it): set up a fresh machine, lint, run every test.
# Installs what it uses when missing (scripts/install_prerequisites.sh test): uv, redis-server,
# chromium, and for the Docker tests docker.io (+ the Compose plugin), procps, debootstrap,
# python3-venv.
#
#   scripts/test.sh                 # everything, the Docker end-to-end test included
#   scripts/test.sh -k cleaning     # extra arguments go to pytest
#   SKIP_DOCKER=1 scripts/test.sh   # do not install Docker or build base images (the Docker
#                                   # tests then skip, saying what they need)
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[test] %s\n' "$*"; }

if [[ "${SKIP_DOCKER:-0}" == 1 ]]; then
    log "SKIP_DOCKER=1: the Docker tests will skip"
elif [[ $(id -u) -ne 0 ]] && ! docker info >/dev/null 2>&1; then
    log "not root and no Docker engine: the Docker tests will skip (scripts/install_docker.sh)"
    export SKIP_DOCKER=1
fi

# uv, redis-server, chromium and, unless SKIP_DOCKER=1, what the Docker steps call (the
# table in scripts/install_prerequisites.sh); each only if missing.
scripts/install_prerequisites.sh test
export PATH="$HOME/.local/bin:$PATH"  # where a fresh install of uv lands

if [[ "${SKIP_DOCKER:-0}" != 1 ]]; then
    scripts/ensure_docker.sh  # engine, Compose plugin, base images (stand-ins if no registry)
fi

uv sync --frozen
uv run --frozen ruff check .
uv run --frozen ruff format --check .
uv run --frozen pytest "$@"
