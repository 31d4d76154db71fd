#!/usr/bin/env bash
# Run the whole product as local processes (no Docker): Redis, the replay server standing in
# for stats.nba.com, MLflow's UI, both Celery workers, beat, Flower and the Streamlit app.
# A fresh data directory is seeded with the bundled real seasons and gets a champion at once.
#
#   scripts/run_local.sh          # Ctrl-C stops everything; data stays in var/
#
# Set-up on a fresh machine is part of the run, each only if missing
# (scripts/install_prerequisites.sh local): uv (from PyPI), redis-server (apt, when root).
set -euo pipefail
cd "$(dirname "$0")/.."

export LOCAL_STATE="${LOCAL_STATE:-$PWD/var/local}"
export DATA_DIR="${DATA_DIR:-$PWD/var/data}"
export REDIS_PORT="${REDIS_PORT:-6379}"
export REPLAY_PORT="${REPLAY_PORT:-8765}"
export MLFLOW_PORT="${MLFLOW_PORT:-5000}"
export FLOWER_PORT="${FLOWER_PORT:-5555}"
export UI_PORT="${UI_PORT:-8501}"
export REDIS_URL="redis://127.0.0.1:${REDIS_PORT}/0"
# Offline by default: the replay server answers as stats.nba.com would, from real recordings.
export NBA_STATS_BASE_URL="${NBA_STATS_BASE_URL:-http://127.0.0.1:${REPLAY_PORT}/stats}"
export NBA_MIN_REQUEST_GAP_S="${NBA_MIN_REQUEST_GAP_S:-0.2}"
export FLOWER_BASIC_AUTH="${FLOWER_BASIC_AUTH:-admin:$(head -c 12 /dev/urandom | base64 | tr -d '/+=')}"
export MLFLOW_UI_URL="http://127.0.0.1:${MLFLOW_PORT}"
export FLOWER_URL="http://127.0.0.1:${FLOWER_PORT}"
export MLFLOW_DISABLE_TELEMETRY=true
# As in the image: no server-side job runner (seven Huey consumers, ~1.5 GB, unused here).
export MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false

scripts/install_prerequisites.sh local
export PATH="$HOME/.local/bin:$PATH"  # where a fresh install of uv lands
uv sync --frozen --group local

# A port already taken would stop one service, and honcho stops the rest with it: say which.
taken=""
for port in REDIS_PORT REPLAY_PORT MLFLOW_PORT FLOWER_PORT UI_PORT; do
    if (: >"/dev/tcp/127.0.0.1/${!port}") 2>/dev/null; then # something accepts there
        taken+="${taken:+, }${!port} ($port)"
    fi
done
if [[ -n "$taken" ]]; then
    echo "run_local: already in use on 127.0.0.1: $taken. Stop what listens there (an" \
        "earlier run_local.sh; apt's redis-server service: sudo systemctl stop redis-server)," \
        "or choose free ports, e.g. REDIS_PORT=6380 scripts/run_local.sh" >&2
    exit 1
fi
mkdir -p "$LOCAL_STATE/redis" "$DATA_DIR"
# Create the MLflow store once, before several processes race to create its tables.
uv run --frozen python -m workers.train.tracking

cat <<INFO
Starting. Once up:
  app      http://127.0.0.1:${UI_PORT}
  MLflow   ${MLFLOW_UI_URL}
  Flower   ${FLOWER_URL}  (user:password ${FLOWER_BASIC_AUTH})
  data     ${DATA_DIR}
INFO
exec uv run --frozen honcho start --no-prefix -f Procfile --env /dev/null
