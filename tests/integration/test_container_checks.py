"""What the containers run besides the services: the placeholder-secret check every image
starts with (common/secret_check.py), the health-check script (docker/healthcheck.sh) and the
heartbeat the Celery workers write for it (common/health.py). Run here on the host; the
Docker end-to-end test runs them in the images."""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from common import secret_check
from common.secret_check import problems
from tests.services import PROJECT_ROOT, free_port, wait_until

HEALTHCHECK = PROJECT_ROOT / "docker" / "healthcheck.sh"
SECRET_CHECK = PROJECT_ROOT / "common" / "secret_check.py"


# --- placeholder secrets ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("auth", "why"),
    [
        ("admin:change-me", "the placeholder password 'change-me'"),
        ("admin:CHANGEME", "the placeholder password 'CHANGEME'"),
        ("admin:password", "the placeholder password 'password'"),
        ("admin:", "an empty password"),
        ("coach:coach", "the user name as password"),
        ("admin:<password>", "the placeholder '<password>'"),
    ],
)
def test_placeholder_flower_passwords_are_refused(auth: str, why: str) -> None:
    assert problems({"FLOWER_BASIC_AUTH": auth}) == [f"FLOWER_BASIC_AUTH has {why}"]


def test_every_flower_user_is_checked() -> None:
    found = problems({"FLOWER_BASIC_AUTH": "coach:9f86d081884c7d65,guest:secret"})
    assert found == ["FLOWER_BASIC_AUTH has the placeholder password 'secret'"]
    assert problems({"FLOWER_BASIC_AUTH": "nocolon"}) == ["FLOWER_BASIC_AUTH is not user:password"]


@pytest.mark.parametrize(
    "environ",
    [
        {"FLOWER_BASIC_AUTH": "admin:9f86d081884c7d65a2"},
        {"REDIS_URL": "redis://redis:6379/0"},  # no password: no secret
        {"REDIS_URL": "redis://:Zq83kd0sLw@redis:6379/0"},
        {"NBA_PROXY": ""},
        {"NBA_PROXY": "http://proxy.corp:3128"},
        {},
    ],
)
def test_real_or_absent_secrets_pass(environ: dict[str, str]) -> None:
    assert problems(environ) == []


def test_placeholder_passwords_in_urls_are_refused() -> None:
    environ = {
        "REDIS_URL": "redis://:changeme@redis:6379/0",
        "NBA_PROXY": "http://user:pass@proxy.corp:3128",  # .env.example's example proxy
    }
    assert problems(environ) == [
        "REDIS_URL has the placeholder password 'changeme'",
        "NBA_PROXY has the placeholder password 'pass'",
    ]


def test_each_image_judges_only_the_secrets_it_uses() -> None:
    """Compose hands the whole .env to every service: the UI does not refuse to start over
    Flower's password, Flower does."""
    environ = {"FLOWER_BASIC_AUTH": "admin:change-me", "REDIS_URL": "redis://redis:6379/0"}
    assert problems({**environ, "REFUSE_PLACEHOLDERS_IN": "REDIS_URL"}) == []
    assert problems({**environ, "REFUSE_PLACEHOLDERS_IN": ""}) == []
    flower = problems({**environ, "REFUSE_PLACEHOLDERS_IN": "FLOWER_BASIC_AUTH REDIS_URL"})
    assert flower == ["FLOWER_BASIC_AUTH has the placeholder password 'change-me'"]
    assert problems(environ) == flower  # unset: every known secret


def run_entrypoint(env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    """The entrypoint as the images run it: ``python -S <file> COMMAND...``."""
    clean = {k: v for k, v in os.environ.items() if k not in secret_check.KNOWN_SECRETS}
    return subprocess.run(
        [sys.executable, "-S", str(SECRET_CHECK), *command],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_the_entrypoint_refuses_in_one_line() -> None:
    result = run_entrypoint({"FLOWER_BASIC_AUTH": "admin:change-me"}, "echo", "started")
    assert result.returncode == secret_check.EX_CONFIG
    assert result.stdout == ""  # the command never ran
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("refusing to start: FLOWER_BASIC_AUTH has the placeholder")
    assert "'change-me'" in lines[0]
    assert ".env" in lines[0]


def test_the_entrypoint_runs_the_command_in_its_place() -> None:
    """exec: the service keeps the entrypoint's PID (PID 1 in a container, so it gets the
    stop signal), its arguments and its exit status."""
    result = run_entrypoint(
        {"FLOWER_BASIC_AUTH": "admin:9f86d081884c7d65"},
        "sh", "-c", 'echo "pid $$ args $*"; exit 3', "sh", "a", "b c",
    )  # fmt: skip
    assert result.returncode == 3, result.stderr
    assert result.stdout.startswith("pid ")
    assert result.stdout.rstrip().endswith("args a b c")
    assert run_entrypoint({}).returncode == 0  # nothing to run: just the check
    missing = run_entrypoint({}, "no-such-command-here")
    assert missing.returncode == 127
    assert "cannot run no-such-command-here" in missing.stderr


# --- docker/healthcheck.sh ---------------------------------------------------------------------


def healthcheck(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(HEALTHCHECK), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.fixture
def http_server() -> Iterator[int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/health" else 503)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def test_http_check(http_server: int) -> None:
    assert healthcheck("http", str(http_server), "/health").returncode == 0
    failed = healthcheck("http", str(http_server), "/other")
    assert failed.returncode == 1
    assert "answered 'HTTP/1.0 503'" in failed.stdout
    closed = healthcheck("http", str(free_port()), "/health")
    assert closed.returncode == 1
    assert "nothing listens" in closed.stdout


def test_heartbeat_check(tmp_path: Path) -> None:
    beat = tmp_path / "heartbeat"
    missing = healthcheck("heartbeat", HEARTBEAT_FILE=str(beat))
    assert missing.returncode == 1
    assert "not consuming" in missing.stdout
    beat.write_text(f"{time.time():.3f}\n")
    assert healthcheck("heartbeat", "30", HEARTBEAT_FILE=str(beat)).returncode == 0
    beat.write_text(f"{time.time() - 61:.3f}\n")
    stale = healthcheck("heartbeat", "30", HEARTBEAT_FILE=str(beat))
    assert stale.returncode == 1
    assert "more than 30 s" in stale.stdout


def test_the_heartbeats_age_limit_follows_its_interval(tmp_path: Path) -> None:
    """Without MAX_AGE (the images' check): 30 s, or three intervals and a bit when a worker
    beats more slowly (HEARTBEAT_INTERVAL_S=20 in .env must not make it unhealthy for ever)."""
    beat = tmp_path / "heartbeat"
    beat.write_text(f"{time.time() - 45:.3f}\n")
    default = healthcheck("heartbeat", HEARTBEAT_FILE=str(beat))
    assert (default.returncode, default.stdout.strip()) == (
        1, "unhealthy: last heartbeat 45 s ago (more than 30 s)"
    )  # fmt: skip
    slow = {"HEARTBEAT_FILE": str(beat), "HEARTBEAT_INTERVAL_S": "20"}
    assert healthcheck("heartbeat", **slow).returncode == 0
    beat.write_text(f"{time.time() - 70:.3f}\n")
    late = healthcheck("heartbeat", **slow)
    assert (late.returncode, late.stdout.strip()) == (
        1, "unhealthy: last heartbeat 70 s ago (more than 63 s)"
    )  # fmt: skip


def test_redis_check() -> None:
    assert healthcheck("redis", os.environ["REDIS_URL"]).returncode == 0
    with_password = os.environ["REDIS_URL"].replace("redis://", "redis://:Zq83kd0sLw@")
    assert healthcheck("redis", with_password).returncode == 0  # asked for none: still up
    closed = healthcheck("redis", f"redis://127.0.0.1:{free_port()}/0")
    assert closed.returncode == 1
    assert "cannot connect" in closed.stdout


# --- the workers' heartbeat ---------------------------------------------------------------------


def test_a_worker_writes_a_heartbeat_while_it_consumes(tmp_path: Path) -> None:
    """``--include common.health`` (the images' worker command) adds the heartbeat; the file
    is fresh while the worker consumes and gone once it stops."""
    beat = tmp_path / "celery-heartbeat"
    env = {**os.environ, "HEARTBEAT_FILE": str(beat), "HEARTBEAT_INTERVAL_S": "0.5"}
    name = f"heartbeat-{os.getpid()}@test"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "common.celery_app", "worker",
         "--include", "common.health", "-Q", "test-heartbeat", "-c", "1", "-n", name,
         "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        wait_until(beat.exists, "the first heartbeat", timeout_s=60)
        first = float(beat.read_text())
        wait_until(lambda: float(beat.read_text()) > first, "a second heartbeat", timeout_s=10)
        assert healthcheck("heartbeat", "5", HEARTBEAT_FILE=str(beat)).returncode == 0
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "heartbeat: " in output
    assert not beat.exists()
    assert healthcheck("heartbeat", "5", HEARTBEAT_FILE=str(beat)).returncode == 1
