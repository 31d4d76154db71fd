"""Secrets kept out of sight: URLs shown with their password masked, settings whose errors never
repeat a value, the placeholders refused, and the MLflow server's auth settings as written.

The servers themselves (Redis with a password, MLflow's basic auth) are exercised for real in
tests/integration/test_auth.py and, in Docker, tests/e2e/test_docker_multihost.py.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import redis
from pydantic import ValidationError

from common.queue_failures import queue_unreachable
from common.secret_check import PLACEHOLDERS, problems, redacted
from common.settings import Settings
from devkit.services import MLFLOW_AUTH


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:Zq83kd0sLw@redis:6379/0", "redis://:***@redis:6379/0"),
        ("redis://default:Zq83kd0sLw@redis:6379/0", "redis://default:***@redis:6379/0"),
        ("redis://redis:6379/0", "redis://redis:6379/0"),  # no password: nothing to hide
        ("http://user:p@ss@proxy.corp:3128", "http://user:***@proxy.corp:3128"),
        # Written as they are, / and ? in a password end the host for a URL parser: still hidden.
        ("redis://:pa/ss@redis:6379/0", "redis://:***@redis:6379/0"),
        ("redis://:pa?ss@redis:6379/0", "redis://:***@redis:6379/0"),
        ("redis://:Zq83kd0sLw@redis:notaport/0", "redis://:***@redis:notaport/0"),
        ("redis://:Zq83kd0sLw@[::1/0", "redis://:***@[::1/0"),  # unparsable
        ("http://mlflow:5000", "http://mlflow:5000"),
        ("http://mlflow:5000/a@b", "http://mlflow:***@b"),  # rare; hiding too much is safe
        ("Zq83kd0sLw", "Zq83kd0sLw"),  # not a URL
    ],
)
def test_a_url_shown_has_its_password_masked(url: str, shown: str) -> None:
    assert redacted(url) == shown


def test_a_refused_redis_login_is_one_line_without_the_password() -> None:
    url = "redis://:Zq83kd0sLw@redis:6379/0"
    for error in (
        redis.AuthenticationError("invalid username-password pair or user is disabled."),
        redis.ConnectionError("NOAUTH Authentication required."),
    ):
        assert queue_unreachable(url, error) == (
            "the task queue (Redis) at redis://:***@redis:6379/0 refused the login: put its "
            "password in REDIS_URL (redis://:<password>@host; REDIS_PASSWORD in .env)"
        )
    refused = redis.ConnectionError("Error 111 connecting to redis:6379. Connection refused.")
    assert queue_unreachable(url, refused) == (
        "the task queue (Redis) is unreachable at redis://:***@redis:6379/0 (connection "
        "refused): start it (scripts/up.sh, or scripts/run_local.sh) or set REDIS_URL"
    )


# --- settings ------------------------------------------------------------------------------------


def test_settings_errors_never_repeat_a_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """A model-wide error would quote every setting read, REDIS_URL's password with them."""
    monkeypatch.setenv("REDIS_URL", "redis://:Zq83kd0sLw@redis:6379/0")
    monkeypatch.setenv("NBA_PROXY", "http://user:Hk29dm3Lq@proxy.corp:3128")
    monkeypatch.setenv("DATA_STORE", "mlflow")
    monkeypatch.setenv("TRACKING_SERVER_URL", "")
    with pytest.raises(ValidationError) as raised:
        Settings()
    assert "set TRACKING_SERVER_URL" in str(raised.value)
    assert "Zq83" not in str(raised.value)
    assert "Hk29" not in str(raised.value)
    monkeypatch.setenv("DATA_STORE", "volume")
    settings = Settings()
    assert "Zq83" not in repr(settings)
    assert "Hk29" not in repr(settings)
    assert settings.redis_url == "redis://:Zq83kd0sLw@redis:6379/0"


@pytest.mark.parametrize(
    "url",
    [
        "redis://:pa/ss@redis:6379/0",  # a / in the password, not percent-encoded
        "redis://:Zq83kd0sLw@redis:port/0",
        "http://:Zq83kd0sLw@redis:6379/0",
        "redis:6379",
    ],
)
def test_a_redis_url_that_is_not_one_is_named_with_its_password_masked(url: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(redis_url=url)
    message = str(raised.value)
    assert "REDIS_URL is not a Redis URL" in message
    assert "must be percent-encoded" in message
    for secret in ("pa/ss", "Zq83"):
        assert secret not in message


@pytest.mark.parametrize(
    "url",
    ["redis://redis:6379/0", "redis://:pa%2Fss@redis:6379/0", "rediss://u:p@h:6380/1", "unix:///r"],
)
def test_redis_urls_pass(url: str) -> None:
    assert Settings(redis_url=url).redis_url == url


# --- placeholders --------------------------------------------------------------------------------


def test_mlflows_old_default_admin_password_is_a_placeholder() -> None:
    environ = {"MLFLOW_AUTH_ADMIN_PASSWORD": "password1234", "MLFLOW_SERVICE_PASSWORD": "x" * 24}
    names = ["MLFLOW_AUTH_ADMIN_PASSWORD", "MLFLOW_SERVICE_PASSWORD"]
    assert problems(environ, names) == [
        "MLFLOW_AUTH_ADMIN_PASSWORD has the placeholder password 'password1234'"
    ]
    assert "password1234" in PLACEHOLDERS


# --- the MLflow server's auth settings (docker/mlflow_auth.py) -----------------------------------


def mlflow_auth() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mlflow_auth", MLFLOW_AUTH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_auth_settings_are_written_from_the_environment(tmp_path: Path) -> None:
    module = mlflow_auth()
    path = tmp_path / "auth" / "basic_auth.ini"
    environ = {
        "MLFLOW_BACKEND_STORE_URI": "postgresql+psycopg2://mlflow@postgres:5432/mlflow%3Fx",
        "MLFLOW_AUTH_CONFIG_PATH": str(path),
        "MLFLOW_AUTH_ADMIN_PASSWORD": "Zq83kd0sLw-admin",
    }
    assert module.write_config(environ) == path
    assert path.read_text() == (
        "[mlflow]\n"
        "default_permission = READ\n"
        "database_uri = postgresql+psycopg2://mlflow@postgres:5432/mlflow%%3Fx\n"
        "admin_username = admin\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        "auth_cache_ttl_seconds = 300\n"
    )
    assert path.stat().st_mode & 0o777 == 0o600
    own = {**environ, "MLFLOW_AUTH_DATABASE_URI": "sqlite:////data/users.db"}
    assert "database_uri = sqlite:////data/users.db\n" in module.config_text(own)
    with pytest.raises(module.AuthSetupError, match="set MLFLOW_BACKEND_STORE_URI"):
        module.config_text({})
    with pytest.raises(module.AuthSetupError, match="line break"):
        module.config_text({"MLFLOW_BACKEND_STORE_URI": "sqlite:///a\n[evil]"})
