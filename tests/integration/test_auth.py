"""The multi-host profile closed by default, with real servers, outside Docker: a redis-server
that requires a password (given on its standard input, as compose does) and an MLflow server
with MLflow's basic auth, started through docker/mlflow_auth.py as the compose file starts it.

* strangers get nothing: Redis answers NOAUTH, the MLflow API 401 (its /health stays open);
* the services' MLflow account is no admin, yet the pipeline runs on it: seasons stored,
  a training registered and aliased champion, the champion read back by another process;
* a wrong or missing password is one line before a service starts (the image entrypoint,
  common/secret_check.py), one line from the CLI, and the URL it shows has no password;
* the server takes .env's passwords at every start, and refuses one MLflow would not accept
  in one line.

The Docker end-to-end test (tests/e2e/test_docker_multihost.py) runs the same on the stack.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from common import secret_check
from common.queue_failures import queue_problem
from common.settings import get_settings
from devkit.services import MLFLOW_AUTH, MlflowServer, RedisServer, free_port, own_mlflow_names
from tests.conftest import RECORDINGS
from tests.services import PROJECT_ROOT

pytestmark = pytest.mark.timeout(900)

CLI = Path(sys.executable).parent / "nba-archetypes"
SECRET_CHECK = PROJECT_ROOT / "common" / "secret_check.py"
SERVICE = "nba-services"
SEASONS = ("2016-17", "2017-18")
API = "/api/2.0/mlflow"


def run_entrypoint(env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    """The image entrypoint as the images run it, with only ``env``'s secrets."""
    clean = {k: v for k, v in os.environ.items() if k not in secret_check.KNOWN_SECRETS}
    clean.pop("TRACKING_SERVER_URL", None)
    return subprocess.run(
        [sys.executable, "-S", str(SECRET_CHECK), *command],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_one_refusal(result: subprocess.CompletedProcess[str], *hidden: str) -> str:
    """Exit 78, the command never ran, one line on stderr; none of ``hidden`` in it."""
    assert result.returncode == secret_check.EX_CONFIG, result
    assert result.stdout == "", result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for secret in hidden:
        assert secret not in result.stderr
    return lines[0]


# --- Redis ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def locked_redis() -> Iterator[RedisServer]:
    server = RedisServer(password=secrets.token_hex(12))
    yield server
    server.stop()


def test_redis_answers_a_stranger_noauth(locked_redis: RedisServer) -> None:
    with socket.create_connection(("127.0.0.1", locked_redis.port), timeout=5) as connection:
        connection.sendall(b"PING\r\n")
        assert connection.recv(100).startswith(b"-NOAUTH Authentication required")
        connection.sendall(f"AUTH {locked_redis.password}\r\nPING\r\n".encode())
        assert connection.recv(100) == b"+OK\r\n+PONG\r\n"


def test_a_wrong_or_missing_redis_password_is_one_line(locked_redis: RedisServer) -> None:
    port, password = locked_redis.port, locked_redis.password or ""
    wrong_password = secrets.token_hex(12)
    wrong = f"redis://:{wrong_password}@127.0.0.1:{port}/0"
    bare = f"redis://127.0.0.1:{port}/0"
    assert secret_check.refused_logins({"REDIS_URL": locked_redis.url}) == []
    assert secret_check.refused_logins({"REDIS_URL": wrong}) == [
        f"Redis at redis://:***@127.0.0.1:{port}/0 refused the password in REDIS_URL"
    ]
    assert secret_check.refused_logins({"REDIS_URL": bare}) == [
        f"Redis at redis://127.0.0.1:{port}/0 asks for a password: put it in REDIS_URL "
        "(redis://:<password>@host)"
    ]
    nobody = f"redis://:{password}@127.0.0.1:{free_port()}/0"
    assert secret_check.refused_logins({"REDIS_URL": nobody}) == []  # not up (yet): it retries

    # Before the service starts: one line, the service never runs, no password shown.
    line = assert_one_refusal(
        run_entrypoint({"REDIS_URL": wrong, "REFUSE_PLACEHOLDERS_IN": "REDIS_URL"}, "echo", "ran"),
        wrong_password,
        password,
    )
    assert line.startswith(f"refusing to start: Redis at redis://:***@127.0.0.1:{port}/0 refused")
    assert "REDIS_PASSWORD" in line
    ran = run_entrypoint({"REDIS_URL": locked_redis.url}, "echo", "ran")
    assert (ran.returncode, ran.stdout) == (0, "ran\n"), ran.stderr
    # The app and the CLI say it the same way (common/failures.py).
    said = queue_problem(wrong)
    assert said is not None
    assert said.startswith(f"the task queue (Redis) at redis://:***@127.0.0.1:{port}/0 refused")
    assert password not in said
    assert queue_problem(locked_redis.url) is None


# --- MLflow --------------------------------------------------------------------------------------


def mlflow_auth_env(admin: str, service: str) -> dict[str, str]:
    return {
        "MLFLOW_AUTH_ADMIN_PASSWORD": admin,
        "MLFLOW_SERVICE_USERNAME": SERVICE,
        "MLFLOW_SERVICE_PASSWORD": service,
    }


class Locked:
    """The MLflow server with basic auth, and the passwords it was started with."""

    def __init__(self, log_dir: Path, store: Path) -> None:
        self.log_dir, self.store = log_dir, store
        self.admin, self.service = secrets.token_hex(12), secrets.token_hex(12)
        self.server = self.start()

    def start(self) -> MlflowServer:
        auth = mlflow_auth_env(self.admin, self.service)
        return MlflowServer(self.log_dir, self.store, auth=auth)

    def restart(self, admin: str, service: str) -> None:
        self.server.stop()
        self.admin, self.service = admin, service
        self.server = self.start()

    def get(self, path: str, login: tuple[str, str] | None = None) -> int:
        return status(self.server.url + path, login)


def status(url: str, login: tuple[str, str] | None = None) -> int:
    request = urllib.request.Request(url)
    if login:
        token = base64.b64encode(":".join(login).encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def answer(url: str, login: tuple[str, str], data: bytes | None = None) -> tuple[int, object]:
    request = urllib.request.Request(url, data=data)
    request.add_header("Content-Type", "application/json")
    request.add_header(
        "Authorization", "Basic " + base64.b64encode(":".join(login).encode()).decode()
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Locked]:
    server = Locked(tmp_path_factory.mktemp("mlflow-logs"), tmp_path_factory.mktemp("store"))
    yield server
    server.server.stop()


def test_mlflow_answers_a_stranger_401_and_keeps_health_open(locked: Locked) -> None:
    search = f"{API}/experiments/search?max_results=1"
    assert locked.get("/health") == 200  # the container's health check
    assert locked.get(search) == 401
    assert locked.get("/") == 401  # the UI too: the browser asks for the login
    assert locked.get("/api/2.0/mlflow-artifacts/artifacts/0") == 401
    assert locked.get(search, ("admin", secrets.token_hex(12))) == 401
    assert locked.get(search, ("admin", locked.admin)) == 200
    assert locked.get(search, (SERVICE, locked.service)) == 200


def test_the_services_account_is_no_admin(locked: Locked) -> None:
    url = locked.server.url
    code, me = answer(f"{url}{API}/users/current", (SERVICE, locked.service))
    assert code == 200, me
    assert me["user"]["username"] == SERVICE  # type: ignore[index]
    assert me["user"]["is_admin"] is False  # type: ignore[index]
    body = json.dumps({"username": "intruder", "password": secrets.token_hex(12)}).encode()
    code, said = answer(f"{url}{API}/users/create", (SERVICE, locked.service), body)
    assert code == 403, said
    code, _ = answer(f"{url}{API}/users/get?username=intruder", ("admin", locked.admin))
    assert code == 404


def cli(scratch: Path, server: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a service's container runs it: the MLflow store, its own scratch copy, no
    Redis at all (so an inline training needs no lease)."""
    settings = {
        "DATA_DIR": str(scratch),
        "DATA_STORE": "mlflow",
        "TRACKING_SERVER_URL": server,
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    }
    return subprocess.run(
        [str(CLI), *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **settings, **env},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def test_the_pipeline_runs_on_the_services_account(locked: Locked, tmp_path: Path) -> None:
    """Seasons stored, a training registered and aliased champion (a new registered model: its
    alias read before it exists is "no champion yet", not a refusal), read back elsewhere."""
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    for season in SEASONS:
        for path in RECORDINGS.glob(f"*_{season}_*"):
            shutil.copy(path, recordings / path.name)
    login = {"MLFLOW_TRACKING_USERNAME": SERVICE, "MLFLOW_TRACKING_PASSWORD": locked.service}
    names = own_mlflow_names()
    url = locked.server.url
    seeded = cli(tmp_path / "fetch", url, "seed", "--inline", RECORDINGS_DIR=str(recordings),
                 **login, **names)  # fmt: skip
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    assert f"seeded 2 seasons ({SEASONS[0]} … {SEASONS[1]})" in seeded.stdout
    assert "is the new champion: first champion" in seeded.stdout
    read = cli(tmp_path / "app", url, "player", "LeBron James", SEASONS[1], "--json",
               **login, **names)  # fmt: skip
    assert read.returncode == 0, read.stderr[-3000:]
    assert json.loads(read.stdout)["champion_version"] == "1"
    # Without the login, or with a wrong one: one line naming the settings, no traceback.
    for env in ({}, {**login, "MLFLOW_TRACKING_PASSWORD": secrets.token_hex(12)}):
        refused = cli(tmp_path / "app", url, "player", "LeBron James", SEASONS[1], **env, **names)
        assert refused.returncode == 1, refused
        assert refused.stderr.strip().splitlines() == [
            f"error: the MLflow server at {url} refused this login (401): check "
            "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD "
            "(MLFLOW_SERVICE_PASSWORD in .env) (--verbose: details)"
        ]


@pytest.mark.parametrize("page", ["archetypes", "data"])
def test_the_app_says_a_refused_login_in_one_line(
    locked: Locked, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page: str
) -> None:
    """The app whose MLflow password no longer matches the server's: the champion (the light
    reader) and the seasons (MLflow's client) both say so in one line, no traceback."""
    url = locked.server.url
    env = {
        "DATA_DIR": str(tmp_path),
        "DATA_STORE": "mlflow",
        "TRACKING_SERVER_URL": url,
        "MLFLOW_TRACKING_USERNAME": SERVICE,
        "MLFLOW_TRACKING_PASSWORD": secrets.token_hex(12),
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        at = AppTest.from_file(str(PROJECT_ROOT / "ui" / "app.py"), default_timeout=120)
        at.query_params["page"] = page
        at.run()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        st.cache_data.clear()
        st.cache_resource.clear()
    assert not at.exception
    [error] = at.error
    assert error.value == (
        f"the MLflow server at {url} refused this login (401): check MLFLOW_TRACKING_USERNAME "
        "and MLFLOW_TRACKING_PASSWORD (MLFLOW_SERVICE_PASSWORD in .env)"
    )


def test_a_wrong_or_missing_mlflow_login_is_one_line_at_start(locked: Locked) -> None:
    url = locked.server.url
    service = {"TRACKING_SERVER_URL": url, "REFUSE_PLACEHOLDERS_IN": "MLFLOW_TRACKING_PASSWORD"}
    login = {"MLFLOW_TRACKING_USERNAME": SERVICE, "MLFLOW_TRACKING_PASSWORD": locked.service}
    good = {**service, **login}
    assert secret_check.refused_logins(good) == []
    wrong_password = secrets.token_hex(12)
    wrong = {**good, "MLFLOW_TRACKING_PASSWORD": wrong_password}
    assert secret_check.refused_logins(wrong) == [
        f"the MLflow server at {url} refused the login of 'nba-services' (MLFLOW_TRACKING_PASSWORD)"
    ]
    assert secret_check.refused_logins(service) == [
        f"the MLflow server at {url} asks for a login: set MLFLOW_TRACKING_USERNAME and _PASSWORD"
    ]
    line = assert_one_refusal(run_entrypoint(wrong, "echo", "ran"), wrong_password)
    assert line.startswith(f"refusing to start: the MLflow server at {url} refused the login")
    assert "MLFLOW_SERVICE_PASSWORD" in line
    ran = run_entrypoint(good, "echo", "ran")
    assert (ran.returncode, ran.stdout) == (0, "ran\n"), ran.stderr


def test_the_server_takes_the_passwords_of_the_environment_at_each_start(locked: Locked) -> None:
    """.env holds the passwords: changed there, they are the accounts' at the next start (the
    admin's too, which MLflow itself sets only once); what the server stored is kept."""
    search = f"{API}/experiments/search?max_results=1"
    before = (locked.admin, locked.service)
    locked.restart(admin=secrets.token_hex(12), service=secrets.token_hex(12))
    assert locked.get(search, ("admin", before[0])) == 401
    assert locked.get(search, (SERVICE, before[1])) == 401
    assert locked.get(search, ("admin", locked.admin)) == 200
    code, found = answer(f"{locked.server.url}{search}", (SERVICE, locked.service))
    assert code == 200
    assert found["experiments"]  # type: ignore[index]
    log = locked.server.log.read_text()
    for password in (*before, locked.admin, locked.service):
        assert password not in log


@pytest.mark.parametrize(
    ("service_password", "said"),
    [
        ("", "MLFLOW_SERVICE_PASSWORD is empty: put a real one in .env"),
        ("too-short", "MLflow's auth refused its settings: Password must be at least 12"),
    ],
)
def test_a_password_the_server_cannot_take_stops_it_in_one_line(
    tmp_path: Path, service_password: str, said: str
) -> None:
    env = {
        **os.environ,
        **mlflow_auth_env(secrets.token_hex(12), service_password),
        "MLFLOW_BACKEND_STORE_URI": f"sqlite:///{tmp_path / 'server.db'}",
        "MLFLOW_AUTH_CONFIG_PATH": str(tmp_path / "basic_auth.ini"),
    }
    done = subprocess.run(
        [sys.executable, str(MLFLOW_AUTH), "server", "--port", str(free_port())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == secret_check.EX_CONFIG, done.stderr[-2000:]
    refusals = [x for x in done.stderr.splitlines() if x.startswith("refusing to start")]
    assert len(refusals) == 1, done.stderr[-2000:]
    assert refusals[0].startswith(f"refusing to start: {said}"), refusals
    assert "Traceback" not in done.stderr
