#!/usr/bin/env bash
# Make this machine able to build and run the stack: a Docker engine with the Compose v2
# plugin, and the base images the Dockerfiles name. Used by scripts/up.sh (run the product)
# and scripts/test.sh (the Docker tests). Idempotent; each step is skipped when not needed:
#
#   0. The tools these steps call (scripts/install_prerequisites.sh docker): docker.io,
#      procps, debootstrap (+ debian-archive-keyring), python3 with venv.
#   1. Docker engine + Compose v2 plugin (scripts/install_docker.sh, which skips what is
#      there): if the daemon does not answer, or `docker compose` does not or is too old.
#   2. Base images (python:3.11-slim-bookworm, redis:7.0-bookworm, and postgres:15-bookworm for
#      the multi-host profile's MLflow store): used if present locally, else pulled; if no
#      registry answers (air-gapped or proxied machines) stand-ins are built from Debian
#      packages (scripts/build_base_images.sh). A registry that answers is waited for however
#      slow the download.
#
# Environment:
#   BUILD_CA_BUNDLE=/path.pem  CA certificates the stand-in images trust on top of Debian's
#                              (passed as --ca-bundle): behind a TLS-intercepting proxy, pip
#                              and uv in the image builds must trust the proxy's CA.
#                              Default: the host's system bundle, if it has one: a stand-in
#                              is built to reach PyPI from this machine, so it trusts what
#                              this machine trusts (certificates Debian already ships are
#                              not added twice). `none`: Debian's bundle only.
#   PULL_TIMEOUT=30            seconds to wait for a registry to answer `docker pull` of a
#                              missing base image
#   PYTHON_IMAGE, REDIS_IMAGE, POSTGRES_IMAGE
#                              other base images (stand-ins exist only for the defaults)
set -euo pipefail

log() { printf '[ensure_docker] %s\n' "$*"; }
die() { printf '[ensure_docker] ERROR: %s\n' "$*" >&2; exit 1; }

HOST_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
PYTHON_DEFAULT=python:3.11-slim-bookworm
REDIS_DEFAULT=redis:7.0-bookworm
POSTGRES_DEFAULT=postgres:15-bookworm
PYTHON_IMAGE="${PYTHON_IMAGE:-$PYTHON_DEFAULT}"
REDIS_IMAGE="${REDIS_IMAGE:-$REDIS_DEFAULT}"
POSTGRES_IMAGE="${POSTGRES_IMAGE:-$POSTGRES_DEFAULT}"

# A missing base image from its registry, or false, with docker's reason logged. PULL_TIMEOUT
# bounds the wait for a registry to answer (docker prints "Pulling from" once it has the
# image's manifest); the download then runs to its end, however slow the line: a slow pull
# is not "no registry".
pull_base_image() {
    local image=$1 output pid waited=0 status=0
    output=$(mktemp)
    docker pull "$image" >"$output" 2>&1 &
    pid=$!
    until grep -q -e "Pulling from" -e "^Digest:" "$output"; do
        kill -0 "$pid" 2>/dev/null || break  # ended: pulled at once, or failed
        if ((waited >= ${PULL_TIMEOUT:-30})); then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
            rm -f "$output"
            log "base image $image: no registry answered in ${PULL_TIMEOUT:-30} s"
            return 1
        fi
        sleep 1
        waited=$((waited + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "base image $image: the registry answers; downloading"
    fi
    wait "$pid" || status=$?
    if ((status)); then
        log "base image $image: docker pull failed: $(tail -n 1 "$output")"
    fi
    rm -f "$output"
    return "$status"
}

main() {
    cd "$(dirname "$0")/.."

    # --- 0. Tools the steps below call (each only if missing): docker.io, procps (pgrep),
    # debootstrap, python3-venv (the Compose plugin comes from PyPI) ---------------------------
    scripts/install_prerequisites.sh docker

    # --- 1. Docker ----------------------------------------------------------------------------
    scripts/install_docker.sh

    # --- 2. Base images -----------------------------------------------------------------------
    standins=()
    for pair in "python=$PYTHON_IMAGE=$PYTHON_DEFAULT" "redis=$REDIS_IMAGE=$REDIS_DEFAULT" \
        "postgres=$POSTGRES_IMAGE=$POSTGRES_DEFAULT"; do
        IFS='=' read -r which image default <<<"$pair"
        if docker image inspect "$image" >/dev/null 2>&1; then
            log "base image $image: present"
            continue
        fi
        log "base image $image: missing; trying docker pull" \
            "(${PULL_TIMEOUT:-30} s for a registry to answer)"
        if pull_base_image "$image"; then
            log "base image $image: pulled"
        elif [[ "$image" == "$default" ]]; then
            standins+=("$which")
        else
            die "cannot pull $image, and stand-ins exist only for $default"
        fi
    done
    if ((${#standins[@]})); then
        args=()
        ca="${BUILD_CA_BUNDLE:-}"
        if [[ -z "$ca" && -r "$HOST_CA_BUNDLE" ]]; then
            ca="$HOST_CA_BUNDLE"
        fi
        if [[ -n "$ca" && "$ca" != none ]]; then
            [[ -r "$ca" ]] || die "BUILD_CA_BUNDLE=$ca is not a readable file"
            args+=(--ca-bundle "$ca")
        fi
        # One missing: --only it. More: all of them (the script skips the tags already present).
        if ((${#standins[@]} == 1)); then
            args+=(--only "${standins[0]}")
        fi
        log "no registry reachable: building stand-in base images (${standins[*]}) from" \
            "Debian packages"
        scripts/build_base_images.sh ${args[@]+"${args[@]}"}
    fi
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    main
fi
