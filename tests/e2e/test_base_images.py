"""The base images the Dockerfiles name work as the project needs them.

On registry-less machines these are the stand-ins that ``scripts/build_base_images.sh``
builds from Debian packages; the checks hold for the official images too (the few that only
the stand-ins pass say so). postgres:15-bookworm is the multi-host profile's MLflow store: it
initialises its volume with a password, is reached over TCP with that password only, runs as
the postgres user, keeps its data across a restart and shuts down cleanly.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid

import pytest

from tests.services import docker

PYTHON_IMAGE = "python:3.11-slim-bookworm"
REDIS_IMAGE = "redis:7.0-bookworm"
POSTGRES_IMAGE = "postgres:15-bookworm"  # the multi-host profile's MLflow store
POSTGRES_UID = "999"  # the official image's postgres user, which the stand-in copies


def _engine_answers() -> bool:
    try:
        return docker("info", timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(
        not _engine_answers(),
        reason="needs a running Docker engine: run scripts/install_docker.sh",
    ),
]


def _require_image(tag: str) -> None:
    if docker("image", "inspect", tag).returncode != 0:
        pytest.skip(f"image {tag} is not available locally: run scripts/build_base_images.sh")


@pytest.fixture(scope="module")
def python_image() -> str:
    _require_image(PYTHON_IMAGE)
    return PYTHON_IMAGE


@pytest.fixture(scope="module")
def redis_image() -> str:
    _require_image(REDIS_IMAGE)
    return REDIS_IMAGE


@pytest.fixture(scope="module")
def postgres_image() -> str:
    _require_image(POSTGRES_IMAGE)
    return POSTGRES_IMAGE


def _is_stand_in(image: str) -> bool:
    labels = docker("image", "inspect", "-f", "{{json .Config.Labels}}", image).stdout
    return "build_base_images" in labels


def _run(image: str, *cmd: str) -> subprocess.CompletedProcess:
    return docker("run", "--rm", "--network", "none", image, *cmd)


def test_python_stdlib_modules(python_image: str) -> None:
    code = (
        "import json, sqlite3, ssl, sys, venv; "
        "print(json.dumps({'version': sys.version_info[:2], "
        "'ssl': ssl.OPENSSL_VERSION.split()[0], 'sqlite': bool(sqlite3.sqlite_version)}))"
    )
    result = _run(python_image, "python", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '{"version": [3, 11], "ssl": "OpenSSL", "sqlite": true}'


def test_python_venv_has_pip(python_image: str) -> None:
    result = _run(python_image, "sh", "-c", "python -m venv /tmp/v && /tmp/v/bin/pip --version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("pip "), result.stdout
    assert "/tmp/v/" in result.stdout


def test_python_layout_matches_official(python_image: str) -> None:
    result = _run(
        python_image,
        "sh",
        "-c",
        "test -x /usr/local/bin/python3 && test -x /usr/local/bin/python && "
        'command -v python && echo "$LANG"',
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["/usr/local/bin/python", "C.UTF-8"]
    cmd = docker("image", "inspect", "-f", "{{json .Config.Cmd}}", python_image, check=True)
    assert cmd.stdout.strip() == '["python3"]'


def test_redis_answers_ping(redis_image: str) -> None:
    name = f"test-base-redis-{uuid.uuid4().hex[:8]}"
    docker("run", "-d", "--name", name, "--network", "none", redis_image, check=True)
    try:
        deadline = time.monotonic() + 30
        reply = None
        while time.monotonic() < deadline:
            reply = docker("exec", name, "redis-cli", "ping")
            if reply.stdout.strip() == "PONG":
                break
            time.sleep(0.5)
        logs = docker("logs", name)
        assert reply is not None
        assert reply.stdout.strip() == "PONG", (reply.stderr, logs.stdout, logs.stderr)
        # Like the official image: the server runs as the unprivileged redis user (uid 999).
        uid = docker(
            "exec", name, "sh", "-c", "awk '/^Uid:/ {print $2}' /proc/1/status", check=True
        )
        assert uid.stdout.strip() == "999"
    finally:
        docker("rm", "-f", "-v", name)  # -v: its anonymous /data volume


# --- postgres -------------------------------------------------------------------------------

PG_USER, PG_PASSWORD, PG_DB = "nba", "s3cret-pw", "mlflow"
# How docker-compose.multihost.yaml runs it: as postgres from the start (the entrypoint skips
# its root steps), read-only, no capability; the socket directory a tmpfs.
PG_HARDENED = [
    "--user", "postgres", "--read-only", "--cap-drop", "ALL",
    "--security-opt", "no-new-privileges:true", "--tmpfs", "/tmp",
    "--tmpfs", "/var/run/postgresql:uid=999,gid=999,mode=3775",
]  # fmt: skip
PG_STARTS = {"root": [], "as-postgres-read-only": PG_HARDENED}


def _wait_for_postgres(name: str, timeout: float = 60) -> None:
    """pg_isready over TCP: the server proper, not initdb's temporary one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready = docker("exec", name, "pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432")
        if ready.returncode == 0:
            return
        state = docker("inspect", "-f", "{{.State.Running}}", name).stdout.strip()
        if state != "true":
            break
        time.sleep(0.5)
    logs = docker("logs", name)
    pytest.fail(f"postgres {name} not ready:\n{logs.stdout}\n{logs.stderr}")


def _psql(name: str, sql: str, *, password: str = PG_PASSWORD) -> subprocess.CompletedProcess:
    """psql inside the container, over TCP to 127.0.0.1 with a password."""
    return docker(
        "exec", "-e", f"PGPASSWORD={password}", name,
        "psql", "-h", "127.0.0.1", "-U", PG_USER, "-d", PG_DB, "-v", "ON_ERROR_STOP=1",
        "-Atc", sql,
    )  # fmt: skip


def _stop(name: str, *signal: str) -> str:
    """Stop the container (docker stop, or the signal given) and return its logs."""
    if signal:
        docker("kill", "-s", signal[0], name, check=True)
    else:
        docker("stop", "-t", "30", name, check=True)
    exit_code = docker("wait", name, timeout=60, check=True).stdout.strip()
    logs = docker("logs", name)
    assert exit_code == "0", (signal, logs.stdout, logs.stderr)
    return logs.stdout + logs.stderr


@pytest.mark.parametrize("start", PG_STARTS)
def test_postgres_password_auth_and_persistence(postgres_image: str, start: str) -> None:
    tag = uuid.uuid4().hex[:8]
    name, volume, network = f"test-base-pg-{tag}", f"test-base-pg-{tag}", f"test-base-pg-{tag}"
    docker("volume", "create", volume, check=True)
    docker("network", "create", network, check=True)
    try:
        docker(
            "run", "-d", "--name", name, "--network", network, *PG_STARTS[start],
            "-e", f"POSTGRES_USER={PG_USER}", "-e", f"POSTGRES_PASSWORD={PG_PASSWORD}",
            "-e", f"POSTGRES_DB={PG_DB}", "-v", f"{volume}:/var/lib/postgresql/data",
            postgres_image, check=True,
        )  # fmt: skip
        _wait_for_postgres(name)
        # The server runs as the postgres user (uid 999: real, effective, saved, fs), not root.
        uid = docker("exec", name, "awk", "/^Uid:/ {print $2, $3, $4, $5}", "/proc/1/status")
        assert uid.stdout.split() == [POSTGRES_UID] * 4, uid
        assert docker("exec", name, "pg_isready").returncode == 0  # the health check's form

        whoami = _psql(
            name, "SELECT current_user, current_database(), current_setting('data_directory')"
        )
        assert whoami.returncode == 0, whoami.stderr
        assert whoami.stdout.strip() == f"{PG_USER}|{PG_DB}|/var/lib/postgresql/data"
        if _is_stand_in(postgres_image):  # the official image trusts 127.0.0.1
            wrong = _psql(name, "SELECT 1", password="wrong")
            assert wrong.returncode != 0
            assert "password authentication failed" in wrong.stderr, wrong.stderr
        created = _psql(
            name, "CREATE TABLE seasons (id text); INSERT INTO seasons VALUES ('2024-25')"
        )
        assert created.returncode == 0, created.stderr

        # From another container, by name: listening beyond localhost, passwords required.
        def remote(password: str) -> subprocess.CompletedProcess:
            return docker(
                "run", "--rm", "--network", network, "-e", f"PGPASSWORD={password}",
                postgres_image, "psql", "-h", name, "-U", PG_USER, "-d", PG_DB, "-Atc",
                "SELECT count(*) FROM seasons",
            )  # fmt: skip

        assert remote(PG_PASSWORD).stdout.strip() == "1", remote(PG_PASSWORD).stderr
        refused = remote("wrong")
        assert refused.returncode != 0
        assert "password authentication failed" in refused.stderr, refused.stderr

        # docker stop: a clean shutdown; the data is still in the volume after a restart.
        logs = _stop(name)
        assert "database system is shut down" in logs
        docker("start", name, check=True)
        _wait_for_postgres(name)
        kept = _psql(name, "SELECT id FROM seasons")
        assert kept.returncode == 0, kept.stderr
        assert kept.stdout.split() == ["2024-25"]
        # SIGTERM (what a plain `kill` or an orchestrator sends) shuts it down cleanly too.
        before = logs.count("database system is shut down")
        logs = _stop(name, "TERM")
        assert logs.count("database system is shut down") == before + 1, logs
    finally:
        docker("rm", "-f", "-v", name)
        docker("volume", "rm", "-f", volume)
        docker("network", "rm", network)


@pytest.mark.parametrize("start", PG_STARTS)
def test_postgres_refuses_to_initialise_without_a_password(postgres_image: str, start: str) -> None:
    result = docker(
        "run", "--rm", "--network", "none", *PG_STARTS[start],
        "-e", f"POSTGRES_USER={PG_USER}", "-e", f"POSTGRES_DB={PG_DB}", postgres_image,
        timeout=60,
    )  # fmt: skip
    assert result.returncode != 0, result.stdout
    assert "POSTGRES_PASSWORD" in result.stderr, result.stderr
    if _is_stand_in(postgres_image):  # the official image explains it over several lines
        assert result.returncode == 1
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stderr.startswith("error: "), result.stderr
        assert "initdb" not in result.stdout + result.stderr  # refused before anything ran


def test_postgres_layout_matches_official(postgres_image: str) -> None:
    config = json.loads(
        docker("image", "inspect", "-f", "{{json .Config}}", postgres_image, check=True).stdout
    )
    env = dict(item.split("=", 1) for item in config["Env"])
    assert "/usr/lib/postgresql/15/bin" in env["PATH"].split(":")
    assert env["PGDATA"] == "/var/lib/postgresql/data"
    assert "/var/lib/postgresql/data" in config["Volumes"]
    assert "5432/tcp" in config["ExposedPorts"]
    assert config["StopSignal"] == "SIGINT"  # docker stop: a fast shutdown
    assert config["Cmd"] == ["postgres"]
    tools = _run(
        postgres_image,
        "sh",
        "-c",
        'for c in postgres initdb pg_ctl pg_isready psql; do command -v "$c" || exit 1; done',
    )
    assert tools.returncode == 0, tools.stderr
    assert len(tools.stdout.split()) == 5, tools.stdout
    user = _run(postgres_image, "id", "postgres")
    assert user.stdout.startswith(f"uid={POSTGRES_UID}(postgres) gid={POSTGRES_UID}(postgres)")
