#!/usr/bin/env bash
# Run the product: build the images and start the whole stack with Docker Compose.
#
#   scripts/up.sh              # upstream: the real stats.nba.com
#   scripts/up.sh --offline    # upstream: the replay server (recorded real responses)
#   scripts/up.sh --check-upstream   # only: does the configured upstream answer? (exit 1 if not)
#   scripts/up.sh --multihost  # the multi-host profile (docker-compose.multihost.yaml): every
#                              # service on the MLflow server (PostgreSQL), seasons in MLflow,
#                              # no shared volume; FETCH_WORKERS=2 TRAIN_WORKERS=2 to scale out
#
# Idempotent; each step is skipped when it is not needed:
#   1-2. Docker engine, Compose plugin and base images (scripts/ensure_docker.sh: installs
#      Docker if missing; pulls the base images, or builds stand-ins from Debian packages
#      when no registry is reachable).
#   3. .env from .env.example, with a generated Flower password (printed once), if missing;
#      with --multihost, generated POSTGRES_PASSWORD, REDIS_PASSWORD, MLFLOW_ADMIN_PASSWORD
#      and MLFLOW_SERVICE_PASSWORD added to it, each only if it has none.
#      Without --offline: one request to the upstream, saying whether refreshes can work.
#   4. `docker compose build`, then `up -d --wait` (returns when every service is healthy).
#   5. The URLs.
#
# Upstream: the product's real source is stats.nba.com, so that is the default. It cannot be
# reached from everywhere (it lets cloud IPs hang); --offline (or OFFLINE=1) adds
# docker-compose.replay.yaml, which points the fetch worker at the replay server. Either way the
# first boot imports the bundled seasons and trains a first champion, so the app has content.
# Switching between the two is safe: the same volumes are used, orphans are removed.
#
# Profiles: the default runs on one host around one shared volume. --multihost (or MULTIHOST=1)
# adds docker-compose.multihost.yaml: the services share only Redis and the MLflow server, so
# the workers scale (FETCH_WORKERS, TRAIN_WORKERS) and each service could run on a machine of
# its own (README, "Two profiles"). The two keep their seasons and models in different volumes
# (Redis's, with its queues, is shared): switching starts the other profile's data, it does not
# move any.
#
# Environment:
#   OFFLINE=1                  same as --offline
#   MULTIHOST=1                same as --multihost
#   FETCH_WORKERS=1, TRAIN_WORKERS=1   with --multihost: replicas of each worker (--scale)
#   UPSTREAM_CHECK_S=10        how long the one upstream check waits (not with --offline)
#   BUILD_CA_BUNDLE, PULL_TIMEOUT, PYTHON_IMAGE, REDIS_IMAGE   see scripts/ensure_docker.sh
#   UI_PORT, MLFLOW_PORT, FLOWER_PORT, TAG   as in docker-compose.yaml
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[up] %s\n' "$*"; }
die() { printf '[up] ERROR: %s\n' "$*" >&2; exit 1; }

# Does the upstream answer? One request (through NBA_PROXY if set), at most UPSTREAM_CHECK_S
# seconds; says what the answer means and never stops the start (the app works on stored
# data either way).
check_upstream() { # BASE_URL PROXY
    local verdict
    verdict="$(python3 scripts/check_upstream.py "$1" "$2" "${UPSTREAM_CHECK_S:-10}")" || verdict="bad the upstream check could not run"
    if [[ "$verdict" == ok* ]]; then
        log "upstream check: ${verdict#ok }"
    else
        log "upstream check: ${verdict#bad }: refreshes will fail (stored seasons still work);" \
            "check the network or NBA_PROXY in .env, or use scripts/up.sh --offline for the bundled replay upstream"
        return 1
    fi
}

# The upstream and proxy the fetch worker will use: the environment, else .env.
env_setting() { # NAME
    if [[ -n "${!1:-}" ]]; then
        printf '%s' "${!1}"
    elif [[ -f .env ]]; then
        sed -n "s/^$1=//p" .env | tail -n 1
    fi
}

# The services that did not come up (restarting, unhealthy or still starting, or stopped with
# an error), each with the end of its log, where its cause usually is. Not those that waited
# for another: they never started.
report_failed_services() { # COMPOSE_FILE_OPTIONS...
    local service state health code
    docker compose "$@" ps -a --format '{{.Service}}|{{.State}}|{{.Health}}|{{.ExitCode}}' |
        while IFS='|' read -r service state health code; do
            if [[ "$state" == restarting || "$health" == unhealthy || "$health" == starting ||
                ("$state" == exited && "$code" != 0) ]]; then
                log "$service did not come up ($state${health:+, $health}); the end of its log:"
                docker compose "$@" logs --no-log-prefix --tail 12 "$service" | sed 's/^/    /' || true
            fi
        done
}

# Sourced (by the tests): the functions only.
[[ "${BASH_SOURCE[0]}" == "$0" ]] || return 0

offline="${OFFLINE:-0}"
multihost="${MULTIHOST:-0}"
check_only=0
for arg in "$@"; do
    case "$arg" in
        --offline) offline=1 ;;
        --multihost) multihost=1 ;;
        --check-upstream) check_only=1 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument: $arg (see --help)" ;;
    esac
done
[[ "$offline" == 0 || "$offline" == 1 ]] || die "OFFLINE must be 0 or 1, not '$offline'"
[[ "$multihost" == 0 || "$multihost" == 1 ]] || die "MULTIHOST must be 0 or 1, not '$multihost'"
fetch_workers="${FETCH_WORKERS:-1}"
train_workers="${TRAIN_WORKERS:-1}"
[[ "$fetch_workers" =~ ^[1-9][0-9]*$ ]] || die "FETCH_WORKERS must be a number from 1, not '$fetch_workers'"
[[ "$train_workers" =~ ^[1-9][0-9]*$ ]] || die "TRAIN_WORKERS must be a number from 1, not '$train_workers'"
if [[ "$multihost" == 0 && "$fetch_workers$train_workers" != 11 ]]; then
    die "FETCH_WORKERS and TRAIN_WORKERS need --multihost (the single-host stack runs one of each)"
fi
if [[ "$check_only" == 1 ]]; then
    upstream="$(env_setting NBA_STATS_BASE_URL)"
    check_upstream "${upstream:-https://stats.nba.com/stats}" "$(env_setting NBA_PROXY)"
    exit
fi

# --- 1-2. Docker and base images ----------------------------------------------------------
scripts/ensure_docker.sh

# --- 3. .env ----------------------------------------------------------------------------------
if [[ ! -f .env ]]; then
    password="$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
    (umask 077 && sed "s/^FLOWER_BASIC_AUTH=.*/FLOWER_BASIC_AUTH=admin:$password/" .env.example >.env)
    log "created .env from .env.example; Flower login: admin / $password (FLOWER_BASIC_AUTH in .env)"
elif [[ ! -r .env ]]; then
    die ".env is not readable by $(id -un) (written by an earlier run as root?): sudo chown $(id -un) .env"
elif ! grep -q '^FLOWER_BASIC_AUTH=.\+:.\+' .env; then
    die ".env has no FLOWER_BASIC_AUTH=user:password line (compose requires it)"
elif grep -q '^FLOWER_BASIC_AUTH=admin:change-me$' .env; then
    log "warning: .env still has the example Flower password (admin:change-me)"
fi
# The multi-host profile's passwords, each generated once (24 hex digits: what REDIS_URL can
# carry as it is, and over MLflow's 12-character minimum): MLflow's PostgreSQL (nobody logs in
# with it), Redis (every service's REDIS_URL), the MLflow server's admin (for people: the MLflow
# UI) and the services' MLflow account. Never printed: they stay in .env (mode 600).
if [[ "$multihost" == 1 ]]; then
    for secret in POSTGRES_PASSWORD REDIS_PASSWORD MLFLOW_ADMIN_PASSWORD MLFLOW_SERVICE_PASSWORD; do
        grep -q "^$secret=." .env && continue
        sed -i "/^$secret=/d" .env
        [[ -z "$(tail -c 1 .env)" ]] || echo >>.env  # a last line without its newline
        printf '%s=%s\n' "$secret" "$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')" >>.env
        chmod 600 .env
        log "added a generated $secret to .env (--multihost)"
    done
fi

# --- 4. Build and start -----------------------------------------------------------------------
files=(-f docker-compose.yaml)
scale=()
if [[ "$multihost" == 1 ]]; then
    files+=(-f docker-compose.multihost.yaml)
    scale=(--scale "worker-fetch=$fetch_workers" --scale "worker-train=$train_workers")
    log "profile: multi-host (MLflow server on PostgreSQL, seasons in MLflow, no shared volume;" \
        "workers: $fetch_workers fetch, $train_workers train)"
fi
if [[ "$offline" == 1 ]]; then
    files+=(-f docker-compose.replay.yaml)
    log "upstream: the replay server (recorded stats.nba.com responses; --offline)"
else
    upstream="$(env_setting NBA_STATS_BASE_URL)"
    log "upstream: ${upstream:-https://stats.nba.com/stats} (NBA_STATS_BASE_URL, NBA_PROXY in .env; --offline: the replay server)"
    check_upstream "${upstream:-https://stats.nba.com/stats}" "$(env_setting NBA_PROXY)" || true
fi
log "building images"
docker compose "${files[@]}" build
log "starting the stack (waits until every service is healthy; the first boot seeds and trains)"
if ! docker compose "${files[@]}" up -d --wait --remove-orphans "${scale[@]}"; then
    # What failed, then why; neither may hide the error below if it fails itself.
    docker compose "${files[@]}" ps -a || true
    report_failed_services "${files[@]}" >&2 || true
    die "some service did not become healthy (the end of its log is above; all of it:" \
        "docker compose ${files[*]} logs SERVICE)"
fi

# --- 5. Where ---------------------------------------------------------------------------------
dc="docker compose ${files[*]}"
mlflow_login=""
[[ "$multihost" == 1 ]] && mlflow_login="   (login: admin, password MLFLOW_ADMIN_PASSWORD in .env)"
docker compose "${files[@]}" ps --format 'table {{.Service}}\t{{.Status}}\t{{.Ports}}'
cat <<EOF

  App      http://localhost:${UI_PORT:-8501}   (the first champion appears about a minute after a first boot)
  MLflow   http://127.0.0.1:${MLFLOW_PORT:-5000}$mlflow_login
  Flower   http://127.0.0.1:${FLOWER_PORT:-5555}   (login: FLOWER_BASIC_AUTH in .env)

  Status:  $dc exec worker-fetch python -m cli status
  Stop:    $dc stop
  Reset:   $dc down -v     (deletes all data)
EOF
if [[ "$multihost" == 1 ]]; then
    cat <<EOF
  Scale:   $dc up -d --wait --scale worker-fetch=N --scale worker-train=N
           (an up without --scale goes back to one of each; here: FETCH_WORKERS, TRAIN_WORKERS)
EOF
fi
