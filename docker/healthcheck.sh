#!/bin/bash
# Container health checks that start no Python. Docker runs a check every few seconds in every
# container; a Python process importing the app cost about 1.3 s of CPU per check, these cost a
# few milliseconds (bash and its builtins: /dev/tcp, read, EPOCHSECONDS; no other process).
#
#   healthcheck http PORT PATH        GET http://127.0.0.1:PORT/PATH answers 200
#   healthcheck heartbeat [MAX_AGE]   the Celery worker's heartbeat ($HEARTBEAT_FILE, default
#                                     /tmp/celery-heartbeat, written by common/health.py every
#                                     $HEARTBEAT_INTERVAL_S, 5 s, while it consumes) is at most
#                                     MAX_AGE s old (30, or three intervals if that is longer)
#   healthcheck redis [URL]           the Redis at URL (default $REDIS_URL) answers PING (or asks
#                                     for a password, which is an answer too)
#
# Exit 0: healthy; 1: not, with the reason on stdout (`docker inspect` shows it).
set -u
TIMEOUT_S="${HEALTHCHECK_TIMEOUT_S:-4}"

fail() {
    echo "unhealthy: $*"
    exit 1
}

check_http() { # PORT PATH
    local port="$1" path="$2" version="" status=""
    { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || fail "nothing listens on port $port"
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$path" "$port" >&3
    read -r -t "$TIMEOUT_S" version status _ <&3 || fail "no answer from :$port$path in ${TIMEOUT_S} s"
    status="${status%$'\r'}"
    [[ "$status" == 200 ]] || fail ":$port$path answered '${version} ${status}'"
}

check_heartbeat() { # [MAX_AGE]
    local file="${HEARTBEAT_FILE:-/tmp/celery-heartbeat}" interval="${HEARTBEAT_INTERVAL_S:-5}"
    local max_age="${1:-}" written="" age
    if [[ -z "$max_age" ]]; then # a late beat or two must not fail it, whatever the interval
        if [[ "$interval" =~ ^[0-9]+ ]]; then interval="${BASH_REMATCH[0]}"; else interval=5; fi
        max_age=$((3 * (interval + 1) > 30 ? 3 * (interval + 1) : 30))
    fi
    { read -r written <"$file"; } 2>/dev/null || fail "no heartbeat in $file: the worker is not consuming"
    [[ "$written" =~ ^[0-9]+ ]] || fail "$file holds no time: '$written'"
    age=$((EPOCHSECONDS - BASH_REMATCH[0]))
    ((age <= max_age)) || fail "last heartbeat $age s ago (more than $max_age s)"
}

check_redis() { # [URL]
    local url="${1:-${REDIS_URL:-redis://127.0.0.1:6379/0}}" address host port reply=""
    address="${url#*://}"
    address="${address%%/*}"
    address="${address##*@}"
    if [[ "$address" == \[* ]]; then # [IPv6]:port
        host="${address%%]*}"
        host="${host#[}"
        port="${address#*]}"
        port="${port#:}"
    elif [[ "$address" == *:* ]]; then
        host="${address%:*}"
        port="${address##*:}"
    else
        host="$address"
        port=""
    fi
    port="${port:-6379}"
    { exec 3<>"/dev/tcp/$host/$port"; } 2>/dev/null || fail "cannot connect to Redis at $host:$port"
    [[ "$url" == rediss://* ]] && return 0 # TLS: connecting is all bash can check
    printf 'PING\r\n' >&3
    read -r -t "$TIMEOUT_S" reply <&3 || fail "Redis at $host:$port did not answer in ${TIMEOUT_S} s"
    case "$reply" in
        +PONG* | -NOAUTH* | -WRONGPASS*) ;;
        *) fail "Redis at $host:$port answered '${reply%$'\r'}'" ;;
    esac
}

case "${1:-}" in
    http) [[ $# -eq 3 ]] || fail "usage: healthcheck http PORT PATH"; check_http "$2" "$3" ;;
    heartbeat) check_heartbeat "${2:-}" ;;
    redis) check_redis "${2:-}" ;;
    *) fail "usage: healthcheck http PORT PATH | heartbeat [MAX_AGE] | redis [URL]" ;;
esac
