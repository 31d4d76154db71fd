#!/usr/bin/env bash
# Build local stand-ins for the base images this project's Dockerfiles name,
# from Debian bookworm packages with debootstrap, for machines that cannot
# pull from a container registry (air-gapped, registry-less, or behind a
# proxy that only lets package mirrors through).
#
# Images (each one flattened into a single layer with `docker import`):
#   python:3.11-slim-bookworm  Debian minbase + Debian's python3.11,
#                              python3-venv (ensurepip works), ca-certificates,
#                              netbase, tzdata. python/python3/python3.11 are
#                              symlinked into /usr/local/bin like the official
#                              image; ENV PATH, LANG=C.UTF-8, PYTHON_VERSION;
#                              CMD ["python3"]. No pip outside venvs.
#   redis:7.0-bookworm         Debian minbase + redis-server/redis-tools 7.0.x
#                              (bookworm's major.minor, hence the tag), user
#                              `redis` uid/gid 999, WORKDIR /data owned by it,
#                              an entrypoint like the official one (drops to
#                              the redis user, protected-mode off by default
#                              as the official build does), CMD ["redis-server"].
#   postgres:15-bookworm       Debian minbase + postgresql-15 (bookworm's major
#                              version), user `postgres` uid/gid 999, no
#                              Debian cluster; PGDATA=/var/lib/postgresql/data
#                              (a VOLUME), PATH starts with
#                              /usr/lib/postgresql/15/bin (postgres, initdb,
#                              pg_isready, psql), LANG=C.UTF-8. An entrypoint
#                              like the official one: on a PGDATA without a
#                              database it runs initdb for POSTGRES_USER (default
#                              postgres) with POSTGRES_PASSWORD (required:
#                              it refuses to initialise without one, in one
#                              line), creates POSTGRES_DB (default the user),
#                              allows TCP from anywhere with scram-sha-256
#                              passwords (127.0.0.1 too, unlike the official
#                              image; the local socket trusts, as there),
#                              then drops to the postgres user (setpriv) and
#                              execs `postgres`, listening on *:5432.
#                              STOPSIGNAL SIGINT (fast shutdown) as the
#                              official image (set by a `docker build` on
#                              top: no layer); SIGTERM shuts down cleanly
#                              too, once the clients leave. CMD ["postgres"].
# All are slimmed the way Debian's official slim images are (dpkg path
# excludes for docs/man/locales, the docker-* apt configs, no apt lists).
#
# Corporate-proxy builds: `--ca-bundle PATH` bakes the PEM certificates in
# PATH (e.g. the host's /etc/ssl/certs/ca-certificates.crt, which trusts a
# TLS-intercepting proxy) into every image via
# /usr/local/share/ca-certificates + update-ca-certificates, and sets (in the
# python image) SSL_CERT_FILE, PIP_CERT and REQUESTS_CA_BUNDLE to the system
# bundle so that pip (vendored certifi) and uv (bundled roots) inside
# `docker build` trust the proxy too. Default: no extra CA and no such ENV.
#
# Usage: scripts/build_base_images.sh [options]
#   --only python|redis|postgres
#                           build just one image
#   --force                 rebuild even if the tag already exists locally
#   --refresh               also redo debootstrap (ignore the cached base rootfs)
#   --mirror URL            Debian mirror (default: the host's apt sources,
#                           else http://deb.debian.org/debian)
#   --security-mirror URL   debian-security mirror, or `none` (default: the
#                           host's, else derived from --mirror)
#   --ca-bundle PATH        extra CA certificates to trust (see above)
#   --work-dir DIR          cache dir (default
#                           ${XDG_CACHE_HOME:-$HOME/.cache}/nba-archetypes/base-images)
#   -h, --help
#
# Needs root (debootstrap, chroot, mounts), debootstrap, and a running Docker
# engine (scripts/install_docker.sh). The cache keeps the debootstrapped base
# rootfs as a tarball and the downloaded .debs, so a rebuild is quick.
set -euo pipefail

SUITE=bookworm
PY_TAG="python:3.11-slim-bookworm"
REDIS_TAG="redis:7.0-bookworm"
PG_MAJOR=15
POSTGRES_TAG="postgres:$PG_MAJOR-bookworm"
DESCRIPTION="Local stand-in built from Debian packages by scripts/build_base_images.sh"
IMAGE_PATH="/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_MIRROR="http://deb.debian.org/debian"

ONLY=""
FORCE=0
REFRESH=0
MIRROR=""
SECURITY_MIRROR=""
CA_BUNDLE=""
WORK_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/nba-archetypes/base-images"

log() { printf '[build_base_images] %s\n' "$*"; }
die() { printf '[build_base_images] ERROR: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

while (($#)); do
    case "$1" in
        --only) [[ $# -ge 2 ]] || die "--only needs python|redis|postgres"; ONLY="$2"; shift 2 ;;
        --only=*) ONLY="${1#*=}"; shift ;;
        --force) FORCE=1; shift ;;
        --refresh) REFRESH=1; FORCE=1; shift ;;
        --mirror) [[ $# -ge 2 ]] || die "--mirror needs a URL"; MIRROR="$2"; shift 2 ;;
        --mirror=*) MIRROR="${1#*=}"; shift ;;
        --security-mirror) [[ $# -ge 2 ]] || die "--security-mirror needs a URL"; SECURITY_MIRROR="$2"; shift 2 ;;
        --security-mirror=*) SECURITY_MIRROR="${1#*=}"; shift ;;
        --ca-bundle) [[ $# -ge 2 ]] || die "--ca-bundle needs a path"; CA_BUNDLE="$2"; shift 2 ;;
        --ca-bundle=*) CA_BUNDLE="${1#*=}"; shift ;;
        --work-dir) [[ $# -ge 2 ]] || die "--work-dir needs a path"; WORK_DIR="$2"; shift 2 ;;
        --work-dir=*) WORK_DIR="${1#*=}"; shift ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done

case "$ONLY" in
    "" | python | redis | postgres) ;;
    *) die "--only takes python, redis or postgres, not '$ONLY'" ;;
esac

# --- preconditions --------------------------------------------------------
[[ "$(id -u)" -eq 0 ]] || die "needs root (debootstrap, chroot, mounts)"
command -v debootstrap >/dev/null 2>&1 || die "debootstrap not found: apt-get install debootstrap"
command -v docker >/dev/null 2>&1 || die "docker not found: run scripts/install_docker.sh"
docker info >/dev/null 2>&1 || die "no Docker engine answers: run scripts/install_docker.sh"
if [[ -n "$CA_BUNDLE" ]]; then
    [[ -r "$CA_BUNDLE" ]] || die "--ca-bundle $CA_BUNDLE is not readable"
    grep -q -- '-----BEGIN CERTIFICATE-----' "$CA_BUNDLE" \
        || die "--ca-bundle $CA_BUNDLE holds no PEM certificate"
    CA_BUNDLE="$(readlink -f "$CA_BUNDLE")"
fi
mkdir -p "$WORK_DIR"
WORK_DIR="$(readlink -f "$WORK_DIR")"

# --- mirrors ----------------------------------------------------------------
# Print "URI SUITE" pairs from the host's apt sources (one-line and deb822).
host_apt_sources() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -r "$f" ]] || continue
        awk '$1 == "deb" {
                i = 2
                if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                print $i, $(i + 1)
            }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -r "$f" ]] || continue
        awk 'function flush(   i, j, nu, ns, u, s) {
                 if (types ~ /(^| )deb( |$)/ && enabled !~ /^no$/) {
                     nu = split(uris, u, " "); ns = split(suites, s, " ")
                     for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) print u[i], s[j]
                 }
                 types = uris = suites = enabled = ""
             }
             /^[ \t]*#/ { next }
             /^[ \t]*$/ { flush(); next }
             tolower($1) == "types:"   { $1 = ""; types = $0 }
             tolower($1) == "uris:"    { $1 = ""; uris = $0 }
             tolower($1) == "suites:"  { $1 = ""; suites = $0 }
             tolower($1) == "enabled:" { enabled = tolower($2) }
             END { flush() }' "$f"
    done
}

if [[ -z "$MIRROR" ]]; then
    MIRROR="$(host_apt_sources | awk -v s="$SUITE" '$2 == s { print $1; exit }')"
    if [[ -n "$MIRROR" ]]; then
        log "mirror from the host's apt sources: $MIRROR"
    else
        MIRROR="$DEFAULT_MIRROR"
        log "no $SUITE entry in the host's apt sources; using $MIRROR"
    fi
fi
MIRROR="${MIRROR%/}"
if [[ -z "$SECURITY_MIRROR" ]]; then
    SECURITY_MIRROR="$(host_apt_sources | awk -v s="$SUITE-security" '$2 == s { print $1; exit }')"
    if [[ -z "$SECURITY_MIRROR" ]]; then
        if [[ "$MIRROR" == */debian ]]; then
            SECURITY_MIRROR="${MIRROR%/debian}/debian-security"
        else
            SECURITY_MIRROR="none"
        fi
    fi
fi
SECURITY_MIRROR="${SECURITY_MIRROR%/}"

# --- mounts and cleanup -----------------------------------------------------
MOUNTS=()
cleanup() {
    local i
    for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
        umount -l "${MOUNTS[i]}" 2>/dev/null || true
    done
    MOUNTS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Unmount whatever a killed earlier run left mounted below DIR, so that
# `rm -rf DIR` can never reach into /proc or the cache behind a bind mount.
umount_under() { # DIR
    local dir mp
    dir="$(readlink -f "$1" 2>/dev/null)" || return 0
    awk -v d="$dir/" 'index($2 "/", d) == 1 { print $2 }' /proc/self/mounts | sort -r \
        | while read -r mp; do umount -l "$mp" || true; done
}

bind_mount() { # SRC DEST
    mkdir -p "$1" "$2"
    mount --bind "$1" "$2"
    MOUNTS+=("$2")
}

in_chroot() { # ROOTFS CMD...
    local rootfs="$1"
    shift
    chroot "$rootfs" /usr/bin/env -i \
        PATH="$IMAGE_PATH" HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
        "$@"
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# --- base rootfs (debootstrap --variant=minbase), cached as a tarball --------
BASE_TAR="$WORK_DIR/$SUITE-minbase-$(dpkg --print-architecture).tar"

ensure_base() {
    if [[ -s "$BASE_TAR" && "$REFRESH" -eq 0 ]]; then
        log "reusing cached base rootfs $BASE_TAR"
        return
    fi
    local tmp="$WORK_DIR/debootstrap.tmp"
    umount_under "$tmp"
    rm -rf "$tmp"
    mkdir -p "$tmp" "$WORK_DIR/debs"
    log "debootstrap --variant=minbase $SUITE from $MIRROR (takes a few minutes cold)"
    debootstrap --variant=minbase --cache-dir="$WORK_DIR/debs" \
        "$SUITE" "$tmp" "$MIRROR" >"$WORK_DIR/debootstrap.log" 2>&1 || {
        tail -n 30 "$WORK_DIR/debootstrap.log" >&2
        die "debootstrap failed (full log: $WORK_DIR/debootstrap.log)"
    }
    # debootstrap leaves its .debs and the package lists in the target.
    rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*
    mkdir -p "$tmp/var/lib/apt/lists/partial"
    tar --numeric-owner --xattrs -C "$tmp" -cf "$BASE_TAR.part" .
    mv -f "$BASE_TAR.part" "$BASE_TAR"
    rm -rf "$tmp"
    log "cached base rootfs: $BASE_TAR ($(du -sh "$BASE_TAR" | cut -f1))"
}

# --- rootfs preparation / slimming --------------------------------------------
write_apt_sources() { # ROOTFS
    local rootfs="$1"
    rm -f "$rootfs/etc/apt/sources.list"
    {
        printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\n' \
            "$MIRROR" "$SUITE" "$SUITE"
        printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
        if [[ "$SECURITY_MIRROR" != none ]]; then
            printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\n' \
                "$SECURITY_MIRROR" "$SUITE"
            printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
        fi
    } >"$rootfs/etc/apt/sources.list.d/debian.sources"
}

# The same knobs Debian's official Docker images carry (debuerreotype).
write_slim_config() { # ROOTFS
    local rootfs="$1"
    mkdir -p "$rootfs/etc/dpkg/dpkg.cfg.d"
    cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
# Slim image: keep docs, man pages and translations out (like Debian's -slim images).
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
    printf 'force-unsafe-io\n' >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
    local d="$rootfs/etc/apt/apt.conf.d"
    mkdir -p "$d"
    printf 'Apt::AutoRemove::SuggestsImportant "false";\n' >"$d/docker-autoremove-suggests"
    printf 'Acquire::GzipIndexes "true";\n' >"$d/docker-gzip-indexes"
    printf 'Acquire::Languages "none";\n' >"$d/docker-no-languages"
    printf '#!/bin/sh\n# No service starts inside image builds.\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
    chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
}

# Written last: docker-clean would delete the .debs we cache while building.
write_apt_docker_config() { # ROOTFS
    local d="$1/etc/apt/apt.conf.d"
    mkdir -p "$d"
    cat >"$d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
}

# Split a PEM bundle into one .crt per certificate, skipping those the
# image's bundle already has, so update-ca-certificates hashes each one.
bake_ca_bundle() { # ROOTFS
    local rootfs="$1" dest="$1/usr/local/share/ca-certificates/extra" n
    mkdir -p "$dest"
    awk -v dir="$dest" '
        function body(s) { gsub(/[ \t\r\n]/, "", s); return s }
        FNR == NR {
            if ($0 ~ /-----BEGIN CERTIFICATE-----/) { inb = 1; cur = "" ; next }
            if ($0 ~ /-----END CERTIFICATE-----/) { have[body(cur)] = 1; inb = 0; next }
            if (inb) cur = cur $0
            next
        }
        /-----BEGIN CERTIFICATE-----/ { inb = 1; cur = ""; pem = $0 "\n"; next }
        inb { pem = pem $0 "\n" }
        /-----END CERTIFICATE-----/ {
            inb = 0
            if (!(body(cur) in have)) {
                have[body(cur)] = 1
                f = sprintf("%s/extra-%03d.crt", dir, ++n); printf "%s", pem > f; close(f)
            }
            next
        }
        inb { cur = cur $0 }
        END { print n + 0 }
    ' "$rootfs/etc/ssl/certs/ca-certificates.crt" "$CA_BUNDLE" >"$dest/.count"
    n="$(cat "$dest/.count")"
    rm -f "$dest/.count"
    log "  baking $n extra CA certificate(s) from $CA_BUNDLE (others already trusted)"
    local out
    out="$(in_chroot "$rootfs" update-ca-certificates 2>&1)" || {
        printf '%s\n' "$out" >&2
        die "update-ca-certificates failed in $rootfs"
    }
}

slim_rootfs() { # ROOTFS
    local r="$1"
    rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/* "$r"/var/cache/debconf/*-old \
        "$r"/var/lib/dpkg/*-old "$r"/tmp/* "$r"/var/tmp/* "$r"/root/.cache \
        "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/usr/share/groff/* \
        "$r"/usr/share/lintian/* "$r"/usr/share/linda/* "$r"/usr/share/locale/*
    mkdir -p "$r/var/lib/apt/lists/partial" "$r/var/cache/apt/archives/partial"
    # Docs that debootstrap unpacked before the dpkg excludes existed.
    find "$r/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
    find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete
    # Logs: empty files rather than build history.
    find "$r/var/log" -type f -delete
    # Docker provides these at run time.
    : >"$r/etc/resolv.conf"
    : >"$r/etc/hostname"
    rm -f "$r/etc/machine-id" "$r/var/lib/dbus/machine-id"
}

# Extract the base, install PACKAGES in a chroot (caching .debs and lists
# outside the rootfs), then run the image-specific hook.
build_rootfs() { # NAME HOOK_BEFORE HOOK_AFTER PACKAGES...
    local name="$1" before="$2" after="$3"
    shift 3
    local rootfs="$WORK_DIR/build/$name/rootfs"
    umount_under "$WORK_DIR/build/$name"
    rm -rf "$WORK_DIR/build/$name"
    mkdir -p "$rootfs"
    tar --numeric-owner --xattrs -C "$rootfs" -xf "$BASE_TAR"

    write_apt_sources "$rootfs"
    write_slim_config "$rootfs"
    cp -L /etc/resolv.conf "$rootfs/etc/resolv.conf"
    mount -t proc proc "$rootfs/proc"
    MOUNTS+=("$rootfs/proc")
    bind_mount "$WORK_DIR/apt-archives" "$rootfs/var/cache/apt/archives"
    bind_mount "$WORK_DIR/apt-lists" "$rootfs/var/lib/apt/lists"

    "$before" "$rootfs"
    log "  apt-get install $*"
    {
        in_chroot "$rootfs" apt-get update -q
        in_chroot "$rootfs" apt-get -y -q -o Dpkg::Options::=--force-confold upgrade
        in_chroot "$rootfs" apt-get -y -q --no-install-recommends install "$@"
    } >"$WORK_DIR/build/$name/apt.log" 2>&1 || {
        tail -n 30 "$WORK_DIR/build/$name/apt.log" >&2
        die "apt-get in the $name rootfs failed (log: $WORK_DIR/build/$name/apt.log)"
    }
    if [[ -n "$CA_BUNDLE" ]]; then
        bake_ca_bundle "$rootfs"
    fi
    "$after" "$rootfs"
    cleanup
    write_apt_docker_config "$rootfs"
    slim_rootfs "$rootfs"
}

import_rootfs() { # ROOTFS TAG CHANGES...
    local rootfs="$1" tag="$2"
    shift 2
    local changes=(--change "LABEL org.opencontainers.image.description=\"$DESCRIPTION\"")
    local c
    for c in "$@"; do changes+=(--change "$c"); done
    log "  docker import -> $tag"
    tar --numeric-owner --xattrs -C "$rootfs" -c . \
        | docker import "${changes[@]}" --message "built by scripts/build_base_images.sh" - "$tag" >/dev/null
}

# --- python:3.11-slim-bookworm ---------------------------------------------------
python_before() { :; }
python_after() {
    local r="$1" b
    for b in python python3 python3.11; do
        ln -sfn /usr/bin/python3.11 "$r/usr/local/bin/$b"
    done
    PYTHON_VERSION="$(in_chroot "$r" python3.11 -c 'import platform; print(platform.python_version())')"
    # Bytecode of the stdlib (py3compile): about 30 MB; the official image
    # ships none either, and Python rebuilds what it imports as needed.
    find "$r/usr/lib/python3" "$r/usr/lib/python3.11" -depth -type d -name __pycache__ -exec rm -rf {} +
}

build_python() {
    log "building $PY_TAG"
    build_rootfs python python_before python_after \
        python3.11 python3-venv ca-certificates netbase tzdata
    local extra=()
    if [[ -n "$CA_BUNDLE" ]]; then
        # pip uses its vendored certifi and uv its bundled roots unless told.
        local b=/etc/ssl/certs/ca-certificates.crt
        extra=("ENV SSL_CERT_FILE=$b" "ENV PIP_CERT=$b" "ENV REQUESTS_CA_BUNDLE=$b")
    fi
    import_rootfs "$WORK_DIR/build/python/rootfs" "$PY_TAG" \
        "ENV PATH=$IMAGE_PATH" \
        "ENV LANG=C.UTF-8" \
        "ENV PYTHON_VERSION=$PYTHON_VERSION" \
        ${extra[@]+"${extra[@]}"} \
        'CMD ["python3"]'
    rm -rf "$WORK_DIR/build/python/rootfs"
}

# --- redis:7.0-bookworm -----------------------------------------------------------
redis_before() {
    # Same ids as the official image, created first so Debian's postinst reuses them.
    in_chroot "$1" groupadd -r -g 999 redis
    in_chroot "$1" useradd -r -g redis -u 999 -d /var/lib/redis -s /usr/sbin/nologin redis
}

redis_after() {
    local r="$1"
    REDIS_VERSION="$(in_chroot "$r" redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p')"
    mkdir -p "$r/data"
    chown 999:999 "$r/data"
    chmod 0755 "$r/data"
    cat >"$r/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
# Like the official redis image's entrypoint, with setpriv instead of gosu.
set -e

# first arg is `-f` or `--some-option`, or `something.conf`
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

if [ "$1" = 'redis-server' ]; then
	# The official image compiles protected-mode off (containers are reached
	# over the network); Debian's build keeps it on, so turn it off unless the
	# command line or a config file says otherwise.
	case " $* " in
		*protected-mode*) ;;
		*)
			conf=""
			if [ -n "${2:-}" ] && [ "${2#-}" = "$2" ]; then conf="$2"; fi
			if [ -z "$conf" ] || ! grep -qs '^[[:space:]]*protected-mode' "$conf"; then
				set -- "$@" --protected-mode no
			fi
			;;
	esac
	# allow the container to be started with `--user`
	if [ "$(id -u)" = '0' ]; then
		find . \! -user redis -exec chown redis '{}' +
		exec setpriv --reuid=redis --regid=redis --init-groups "$@"
	fi
fi

# set an appropriate umask (if one isn't set already)
um="$(umask)"
if [ "$um" = '0022' ]; then
	umask 0077
fi

exec "$@"
EOF
    chmod 0755 "$r/usr/local/bin/docker-entrypoint.sh"
}

build_redis() {
    log "building $REDIS_TAG"
    build_rootfs redis redis_before redis_after redis-server redis-tools ca-certificates
    import_rootfs "$WORK_DIR/build/redis/rootfs" "$REDIS_TAG" \
        "ENV PATH=$IMAGE_PATH" \
        "ENV REDIS_VERSION=$REDIS_VERSION" \
        "VOLUME /data" \
        "WORKDIR /data" \
        "EXPOSE 6379" \
        'ENTRYPOINT ["docker-entrypoint.sh"]' \
        'CMD ["redis-server"]'
    rm -rf "$WORK_DIR/build/redis/rootfs"
}

# --- postgres:15-bookworm ---------------------------------------------------------
PG_BIN="/usr/lib/postgresql/$PG_MAJOR/bin"
PGDATA_DIR=/var/lib/postgresql/data

postgres_before() {
    local r="$1"
    # Same ids as the official image, created first so Debian's postinst reuses them.
    in_chroot "$r" groupadd -r -g 999 postgres
    in_chroot "$r" useradd -r -g postgres -u 999 -d /var/lib/postgresql -s /bin/bash postgres
    # As the official image does: postgresql-common first, told not to create Debian's
    # "main" cluster (initdb inside the chroot, data in the image), then the server.
    log "  apt-get install postgresql-common (create_main_cluster = false)"
    {
        in_chroot "$r" apt-get update -q
        in_chroot "$r" apt-get -y -q --no-install-recommends install postgresql-common
    } >"$WORK_DIR/build/postgres/apt-common.log" 2>&1 || {
        tail -n 30 "$WORK_DIR/build/postgres/apt-common.log" >&2
        die "apt-get in the postgres rootfs failed (log: $WORK_DIR/build/postgres/apt-common.log)"
    }
    sed -ri 's/^#?[[:space:]]*(create_main_cluster)[[:space:]]*=.*$/\1 = false/' \
        "$r/etc/postgresql-common/createcluster.conf"
    grep -q '^create_main_cluster = false$' "$r/etc/postgresql-common/createcluster.conf" \
        || die "could not set create_main_cluster = false in the postgres rootfs"
}

postgres_after() {
    local r="$1"
    [[ -x "$r$PG_BIN/postgres" ]] || die "no $PG_BIN/postgres in the postgres rootfs"
    if [[ -e "$r/etc/postgresql/$PG_MAJOR" || -e "$r/var/lib/postgresql/$PG_MAJOR" ]]; then
        die "Debian created a cluster in the postgres rootfs despite create_main_cluster = false"
    fi
    PG_VERSION="$(in_chroot "$r" "$PG_BIN/postgres" --version | sed -n 's/^postgres (PostgreSQL) \([^ ]*\).*/\1/p')"
    [[ -n "$PG_VERSION" ]] || die "could not read the PostgreSQL version in the postgres rootfs"
    # New clusters listen on every address (the official image edits the sample the same way).
    sed -ri "s!^#?(listen_addresses)[[:space:]]*=[[:space:]]*[^[:space:]]+(.*)!\1 = '*'\2!" \
        "$r/usr/share/postgresql/$PG_MAJOR/postgresql.conf.sample"
    grep -q "^listen_addresses = '\*'" "$r/usr/share/postgresql/$PG_MAJOR/postgresql.conf.sample" \
        || die "could not set listen_addresses in postgresql.conf.sample"
    # ssl-cert's postinst generated a key pair no cluster here uses (ssl is off): a private
    # key baked into an image is one every container would share.
    rm -f "$r/etc/ssl/private/ssl-cert-snakeoil.key" "$r/etc/ssl/certs/ssl-cert-snakeoil.pem"
    mkdir -p "$r$PGDATA_DIR" "$r/var/run/postgresql"
    chown 999:999 "$r$PGDATA_DIR" "$r/var/run/postgresql"
    chmod 0700 "$r$PGDATA_DIR"
    chmod 3777 "$r/var/run/postgresql"
    cat >"$r/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
# Like the official postgres image's entrypoint, for what this project uses (no
# /docker-entrypoint-initdb.d, no POSTGRES_INITDB_ARGS), with setpriv instead of gosu.
# On an empty PGDATA: initdb for POSTGRES_USER with POSTGRES_PASSWORD, scram-sha-256 for
# TCP from anywhere, trust on the local socket; then POSTGRES_DB is created.
set -eu

# first arg is `-f` or `--some-option` (or none)
if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
	set -- postgres "$@"
fi

if [ "$1" = 'postgres' ]; then
	PGDATA="${PGDATA:-/var/lib/postgresql/data}"
	export PGDATA
	# allow the container to be started with `--user`
	if [ "$(id -u)" = '0' ]; then
		mkdir -p "$PGDATA" /var/run/postgresql
		chmod 00700 "$PGDATA"
		find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
		chown postgres:postgres /var/run/postgresql
		chmod 03775 /var/run/postgresql
		HOME=/var/lib/postgresql
		export HOME
		exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
	fi

	if [ ! -s "$PGDATA/PG_VERSION" ]; then
		if [ -z "${POSTGRES_PASSWORD:-}" ]; then
			echo "error: no database in $PGDATA yet and POSTGRES_PASSWORD is not set: set it (the password of POSTGRES_USER, ${POSTGRES_USER:-postgres}) to initialise one" >&2
			exit 1
		fi
		user="${POSTGRES_USER:-postgres}"
		db="${POSTGRES_DB:-$user}"
		printf '%s\n' "$POSTGRES_PASSWORD" \
			| initdb --username="$user" --pwfile=/dev/stdin \
				--auth-local=trust --auth-host=scram-sha-256
		printf '\nhost all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
		if [ "$db" != 'postgres' ]; then
			# A server for the CREATE DATABASE alone: no TCP, and its socket in PGDATA, so
			# that pg_isready (a health check) fails until the real server is up.
			pg_ctl -D "$PGDATA" -w start \
				-o "-c listen_addresses='' -c unix_socket_directories='$PGDATA'"
			psql -v ON_ERROR_STOP=1 --no-psqlrc --host="$PGDATA" --username="$user" \
				--dbname=postgres --set db="$db" <<-'SQL'
				CREATE DATABASE :"db";
				SQL
			pg_ctl -D "$PGDATA" -m fast -w stop
		fi
		echo "PostgreSQL init process complete; ready for start up."
	fi
fi

exec "$@"
EOF
    chmod 0755 "$r/usr/local/bin/docker-entrypoint.sh"
}

build_postgres() {
    log "building $POSTGRES_TAG"
    build_rootfs postgres postgres_before postgres_after \
        "postgresql-$PG_MAJOR" ca-certificates
    import_rootfs "$WORK_DIR/build/postgres/rootfs" "$POSTGRES_TAG" \
        "ENV PATH=$PG_BIN:$IMAGE_PATH" \
        "ENV LANG=C.UTF-8" \
        "ENV PG_MAJOR=$PG_MAJOR" \
        "ENV PG_VERSION=$PG_VERSION" \
        "ENV PGDATA=$PGDATA_DIR" \
        "VOLUME $PGDATA_DIR" \
        "EXPOSE 5432" \
        'ENTRYPOINT ["docker-entrypoint.sh"]' \
        'CMD ["postgres"]'
    # `docker stop` sends SIGINT, a fast shutdown, as with the official image (SIGTERM is a
    # smart one: it waits for the clients to leave, past Docker's 10 s if a pool stays).
    # Docker 20.10's import takes no STOPSIGNAL: a build adds it (configuration only, no layer).
    log "  docker build -> $POSTGRES_TAG (STOPSIGNAL SIGINT)"
    local out
    out="$(printf 'FROM %s\nSTOPSIGNAL SIGINT\n' "$POSTGRES_TAG" \
        | docker build -q -t "$POSTGRES_TAG" - 2>&1)" || {
        printf '%s\n' "$out" >&2
        die "docker build of the STOPSIGNAL for $POSTGRES_TAG failed"
    }
    rm -rf "$WORK_DIR/build/postgres/rootfs"
}

# --- main ---------------------------------------------------------------------------
tag_of() { # python|redis|postgres
    case "$1" in
        python) printf '%s\n' "$PY_TAG" ;;
        redis) printf '%s\n' "$REDIS_TAG" ;;
        postgres) printf '%s\n' "$POSTGRES_TAG" ;;
    esac
}

targets=()
for t in python redis postgres; do
    [[ -z "$ONLY" || "$ONLY" == "$t" ]] && targets+=("$t")
done

todo=()
for t in "${targets[@]}"; do
    tag="$(tag_of "$t")"
    if image_exists "$tag" && [[ "$FORCE" -eq 0 ]]; then
        log "$tag already exists locally; skipping (use --force to rebuild)"
    else
        todo+=("$t")
    fi
done

if ((${#todo[@]})); then
    log "work dir: $WORK_DIR; mirror: $MIRROR; security: $SECURITY_MIRROR${CA_BUNDLE:+; extra CA: $CA_BUNDLE}"
    ensure_base
    for t in "${todo[@]}"; do
        "build_$t"
    done
fi

log "images:"
for t in "${targets[@]}"; do
    tag="$(tag_of "$t")"
    if image_exists "$tag"; then
        size="$(docker image inspect -f '{{.Size}}' "$tag")"
        printf '  %-28s %6s MB  (%s bytes)\n' "$tag" "$((size / 1000000))" "$size"
    fi
done
