"""The base images the Dockerfiles name work as the project needs them.

On registry-less machines these are the stand-ins that ``scripts/build_base_images.sh``
builds from Debian packages; the checks hold for the official images too.
"""

from __future__ import annotations

import subprocess
import time
import uuid

import pytest

from tests.services import docker

PYTHON_IMAGE = "python:3.11-slim-bookworm"
REDIS_IMAGE = "redis:7.0-bookworm"


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
