#!/usr/bin/env bash
# The test command (README; .ci/run calls it): set up a fresh machine, lint, run the tests.
# Installs what it uses when missing (scripts/install_prerequisites.sh): uv, redis-server,
# and for the whole run chromium and, for the Docker tests, docker.io (+ the Compose plugin),
# procps, debootstrap, python3-venv.
#
#   scripts/test.sh                 # everything: tests/unit, integration, ui (AppTest and
#                                   # Chromium) and e2e (the Docker stacks, the local mode)
#   scripts/test.sh --fast          # the quick loop: unit, integration and the AppTest part
#                                   # of ui; no Docker, no browser (installs neither)
#   scripts/test.sh -k cleaning     # extra arguments go to pytest (after --fast, if given)
#   SKIP_DOCKER=1 scripts/test.sh   # do not install Docker or build base images (the Docker
#                                   # tests then skip, saying what they need)
#   TEST_WORKERS=0 scripts/test.sh  # one process (pdb, -x, live output); default: one pytest
#                                   # worker per core (pytest-xdist), a whole module per worker
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[test] %s\n' "$*"; }

fast=0
if [[ "${1:-}" == --fast ]]; then
    fast=1
    shift
fi

if ((fast)); then
    # uv and redis-server only: what the integration tier runs.
    scripts/install_prerequisites.sh local
else
    if [[ "${SKIP_DOCKER:-0}" == 1 ]]; then
        log "SKIP_DOCKER=1: the Docker tests will skip"
    elif [[ $(id -u) -ne 0 && "$(docker info 2>&1)" == *"permission denied"* ]]; then
        log "Docker runs but $(id -un) may not use it: the Docker tests will skip (sudo usermod" \
            "-aG docker $(id -un), then log in again)"
        export SKIP_DOCKER=1
    elif [[ $(id -u) -ne 0 ]] && ! docker info >/dev/null 2>&1; then
        log "not root and no Docker engine: the Docker tests will skip (scripts/install_docker.sh)"
        export SKIP_DOCKER=1
    fi
    # uv, redis-server, chromium and, unless SKIP_DOCKER=1, what the Docker steps call (the
    # table in scripts/install_prerequisites.sh); each only if missing.
    scripts/install_prerequisites.sh test
fi
export PATH="$HOME/.local/bin:$PATH"  # where a fresh install of uv lands

if ((!fast)) && [[ "${SKIP_DOCKER:-0}" != 1 ]]; then
    scripts/ensure_docker.sh  # engine, Compose plugin, base images (stand-ins if no registry)
fi

# Bytecode compiled once, here: the tests start many Python processes (workers, the CLI,
# servers), and where PYTHONDONTWRITEBYTECODE is set each would compile its imports again:
# the environment's packages (uv), and the project's own code (compileall).
uv sync --frozen --compile-bytecode
uv run --frozen python -m compileall -q common workers ui cli replay devkit benchmarks tests
uv run --frozen ruff check .
uv run --frozen ruff format --check .
# Each module runs whole on one worker (its module-scoped fixtures, a trained champion or a
# built stack, are made once), in the order tests/conftest.py gives (not largest first): the
# two compose stacks one after the other on one worker. Every worker has its own Redis and
# replay server.
parallel=(-n "${TEST_WORKERS:-auto}" --dist loadfile --no-loadscope-reorder)
if ((fast)); then
    uv run --frozen pytest "${parallel[@]}" tests/unit tests/integration tests/ui -m "not browser" "$@"
else
    uv run --frozen pytest "${parallel[@]}" "$@"
fi
