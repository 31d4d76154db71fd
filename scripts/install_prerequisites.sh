#!/usr/bin/env bash
# Install the tools the project's commands call on a fresh Debian/Ubuntu machine, each one
# only when it is missing. apt-get update runs once, and only if an apt package is missing.
#
#   scripts/install_prerequisites.sh local    # for scripts/run_local.sh: uv, redis-server
#   scripts/install_prerequisites.sh docker   # for scripts/ensure_docker.sh (scripts/up.sh):
#                                             # docker.io, procps, debootstrap, python3-venv
#   scripts/install_prerequisites.sh test     # for scripts/test.sh: local + chromium + docker
#                                             # (SKIP_DOCKER=1 leaves the docker rows out)
#   scripts/install_prerequisites.sh --list MODE    # the rows MODE covers: command, source
#   scripts/install_prerequisites.sh --check MODE   # say what is missing, install nothing
#
# Everything else the scripts call is on every Debian/Ubuntu (bash builtins and the packages
# a minimal debootstrap installs: coreutils, findutils, grep, sed, tar, util-linux, mount,
# mawk, dpkg, apt). tests/unit/test_install_steps.py parses the scripts and fails when one calls a
# command that is neither on that list nor in the table below.
#
# Not root: pip-installed tools (uv) are installed for the user; missing apt packages are
# named with the command to install them, and the script fails (for the docker rows it only
# warns: the Docker steps say themselves what they lack).
set -euo pipefail

# command       installed from                             for (modes)
# apt:P1,P2: Debian packages. pypi:P: a venv of its own under ~/.local/share/nba-archetypes,
# linked into ~/.local/bin; pip comes from python3-venv, hence python3's `pypi` mode: it is
# needed whenever a pypi: row is missing.
TOOLS='
uv              pypi:uv                                    local test
redis-server    apt:redis-server                           local test
chromium        apt:chromium                               test
python3         apt:python3,python3-venv                   docker pypi
docker          apt:docker.io                              docker
dockerd         apt:docker.io                              docker
pgrep           apt:procps                                 docker
debootstrap     apt:debootstrap,debian-archive-keyring     docker
'

log() { printf '[prerequisites] %s\n' "$*"; }
die() { printf '[prerequisites] ERROR: %s\n' "$*" >&2; exit 1; }

TOOLS_HOME="${XDG_DATA_HOME:-$HOME/.local/share}/nba-archetypes/tools"
BIN_DIR="$HOME/.local/bin"
export PATH="$BIN_DIR:$PATH"

action=install
case "${1:-}" in
    --list) action=list; shift ;;
    --check) action=check; shift ;;
esac
mode="${1:-local}"
case "$mode" in
    local | test | docker) ;;
    *) die "unknown mode '$mode': local, docker or test" ;;
esac

# Rows for a mode, as "command source tags" lines. test covers the docker rows too (the test
# command runs the Docker steps) unless SKIP_DOCKER=1.
rows_for() { # MODE
    local command source tags
    while read -r command source tags; do
        [[ -n "$command" ]] || continue
        case " $tags " in
            *" $1 "*) ;;
            *" docker "*) [[ "$1" == test && "${SKIP_DOCKER:-0}" != 1 ]] || continue ;;
            *) continue ;;
        esac
        printf '%s %s %s\n' "$command" "$source" "$tags"
    done <<<"$TOOLS"
}

# python3 counts as present only with venv and ensurepip (Debian splits them into python3-venv).
present() { # COMMAND
    if [[ "$1" == python3 ]]; then
        python3 -c 'import ensurepip, venv' >/dev/null 2>&1
    else
        command -v "$1" >/dev/null 2>&1
    fi
}

if [[ "$action" == list ]]; then
    rows_for "$mode" | while read -r command source _; do printf '%s %s\n' "$command" "$source"; done
    exit 0
fi

missing=()     # "command source tags" rows whose command is missing
have=()
while read -r command source tags; do
    if present "$command"; then have+=("$command"); else missing+=("$command $source $tags"); fi
done < <(rows_for "$mode")
# Installing a pypi: tool needs python3 with venv (and then not for the Docker steps only).
if [[ " ${missing[*]-} " == *" pypi:"* ]] && ! present python3 \
    && [[ " ${missing[*]-} " != *" python3 "* ]]; then
    read -r _ python_source _ < <(rows_for docker | grep '^python3 ')
    missing+=("python3 $python_source pypi")
fi

if ((${#have[@]})); then log "present: ${have[*]}"; fi
if ((${#missing[@]} == 0)); then
    log "nothing to install for '$mode'"
    exit 0
fi

apt_packages=()
apt_docker_only=1
pypi_packages=()
pypi_commands=()
for row in "${missing[@]}"; do
    read -r command source tags <<<"$row"
    case "$source" in
        apt:*)
            IFS=',' read -r -a packages <<<"${source#apt:}"
            for package in "${packages[@]}"; do
                [[ " ${apt_packages[*]-} " == *" $package "* ]] || apt_packages+=("$package")
            done
            [[ " $tags " == *" docker "* ]] || apt_docker_only=0
            ;;
        pypi:*) pypi_packages+=("${source#pypi:}"); pypi_commands+=("$command") ;;
        *) die "bad source '$source' for $command in the TOOLS table" ;;
    esac
done

if [[ "$action" == check ]]; then
    for row in "${missing[@]}"; do
        read -r command source _ <<<"$row"
        log "missing: $command (from $source)"
    done
    exit 1
fi

# --- apt packages: one update, one install ---------------------------------------------------
if ((${#apt_packages[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        message="missing Debian packages: ${apt_packages[*]}; install them as root (sudo apt-get install --no-install-recommends ${apt_packages[*]}) and rerun"
        if ((apt_docker_only)); then
            log "warning: $message (only the Docker steps need them)"
        else
            die "$message"
        fi
    else
        command -v apt-get >/dev/null 2>&1 || die "no apt-get: install ${apt_packages[*]} by hand"
        log "apt-get update, then install: ${apt_packages[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
    fi
fi

# --- pypi tools: a venv each, linked into ~/.local/bin -----------------------------------------
for i in ${pypi_packages[@]+"${!pypi_packages[@]}"}; do
    package="${pypi_packages[i]}" command="${pypi_commands[i]}"
    present python3 || die "installing $package needs python3 with venv (apt-get install python3-venv)"
    venv="$TOOLS_HOME/$package"
    log "installing $package from PyPI into $venv (linked as $BIN_DIR/$command)"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$package"
    mkdir -p "$BIN_DIR"
    ln -sfn "$venv/bin/$command" "$BIN_DIR/$command"
done

# --- every row is there now (but the docker rows a non-root user was told about) --------------
failed=()
while read -r command source tags; do
    if ! present "$command" && [[ $(id -u) -eq 0 || " $tags " != *" docker "* ]]; then
        failed+=("$command")
    fi
done < <(rows_for "$mode")
((${#failed[@]} == 0)) || die "still missing after installing: ${failed[*]}"
log "ready for '$mode'"
