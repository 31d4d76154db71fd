#!/usr/bin/env bash
# Install what running or testing the project needs on a fresh Debian/Ubuntu machine.
# Idempotent: anything already present is left alone.
#
#   scripts/install_prerequisites.sh local   # uv, redis-server
#   scripts/install_prerequisites.sh test    # + chromium (headless browser tests)
set -euo pipefail

mode="${1:-local}"
log() { printf '[prerequisites] %s\n' "$*"; }

need_apt=()
command -v redis-server >/dev/null || need_apt+=(redis-server)
if [[ "$mode" == test ]]; then
  command -v chromium >/dev/null || need_apt+=(chromium)
fi

if ((${#need_apt[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    log "missing: ${need_apt[*]}; install them (sudo apt-get install ${need_apt[*]}) and rerun"
    exit 1
  fi
  log "installing ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! command -v uv >/dev/null; then
  log "installing uv"
  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
  export PATH="$HOME/.local/bin:$PATH"
fi
log "ready: $(uv --version), $(redis-server --version | cut -d' ' -f3)"
