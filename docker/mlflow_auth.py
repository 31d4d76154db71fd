"""The MLflow server with its basic auth (the multi-host profile): ``python mlflow_auth.py
server <mlflow server options>`` sets the auth up from the environment, then runs ``mlflow
server --app-name basic-auth <options>`` in this same process (MLflow's CLI, not a second
interpreter: importing the auth app takes seconds, and it is imported once).

What it sets up, each time the server starts (idempotent):

* MLflow's auth settings (``basic_auth.ini``, read from ``MLFLOW_AUTH_CONFIG_PATH``), written
  from the environment: the auth database is ``MLFLOW_AUTH_DATABASE_URI``, by default the
  tracking store's own (``MLFLOW_BACKEND_STORE_URI``: PostgreSQL in compose, its tables next to
  MLflow's, so they live, and are backed up, with it); users without a grant may read
  (``default_permission = READ``), strangers nothing; a good login is cached a few minutes;
* the admin, ``MLFLOW_AUTH_ADMIN_USERNAME`` (default ``admin``), whose password is
  ``MLFLOW_AUTH_ADMIN_PASSWORD`` (.env's ``MLFLOW_ADMIN_PASSWORD``);
* the services' account, ``MLFLOW_SERVICE_USERNAME`` with ``MLFLOW_SERVICE_PASSWORD``: not an
  admin, MANAGE on every experiment and registered model (it creates them, logs runs and
  artifacts, registers versions and moves the ``champion`` alias; nothing else lives here).

.env holds the passwords: one changed there is the account's password at the next start (MLflow
itself sets the admin's only when it creates it), so .env and the server never disagree.
A password MLflow refuses (under 12 characters, or its old default) stops the container with
one line, exit 78, as the placeholder check does (common/secret_check.py). Passwords are never
written to a file or a log.
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
from collections.abc import MutableMapping, Sequence
from pathlib import Path
from typing import Any

EX_CONFIG = 78  # sysexits.h: configuration error, as common/secret_check.py
DEFAULT_CONFIG_PATH = "/tmp/mlflow-basic-auth.ini"  # the container's /tmp is a tmpfs of its own
# What the services' account may do: everything on the two kinds of resources the product has.
SERVICE_GRANTS = (("experiment", "*", "MANAGE"), ("registered_model", "*", "MANAGE"))
DEFAULT_PERMISSION = "READ"
# A good login is checked against its hash once per this many seconds, not at every request:
# the check (scrypt) costs a quarter of a second of CPU, and a season's sync is dozens of
# requests. Safe here: one server process, whose password changes through the API drop the
# cached login at once, and this script changes them only before the server starts.
AUTH_CACHE_TTL_S = 300
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

logger = logging.getLogger("mlflow_auth")


class AuthSetupError(RuntimeError):
    """A setting the auth cannot start with; the message is the line the operator reads."""


def config_text(environ: MutableMapping[str, str]) -> str:
    """``basic_auth.ini`` from the environment (no password in it: MLflow reads the admin's
    from ``MLFLOW_AUTH_ADMIN_PASSWORD`` itself)."""
    database = environ.get("MLFLOW_AUTH_DATABASE_URI") or environ.get("MLFLOW_BACKEND_STORE_URI")
    if not database:
        raise AuthSetupError(
            "set MLFLOW_BACKEND_STORE_URI (the tracking store, which also keeps the users) or "
            "MLFLOW_AUTH_DATABASE_URI"
        )
    admin = environ.get("MLFLOW_AUTH_ADMIN_USERNAME") or "admin"
    for name, value in (("database URI", database), ("admin user name", admin)):
        if "\n" in value or "\r" in value:
            raise AuthSetupError(f"the {name} holds a line break")
    # configparser interpolates %: a percent-encoded URI keeps its % doubled.
    return (
        "[mlflow]\n"
        f"default_permission = {DEFAULT_PERMISSION}\n"
        f"database_uri = {database.replace('%', '%%')}\n"
        f"admin_username = {admin.replace('%', '%%')}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        f"auth_cache_ttl_seconds = {AUTH_CACHE_TTL_S}\n"
    )


def write_config(environ: MutableMapping[str, str]) -> Path:
    """Write the auth settings where MLflow will read them (``MLFLOW_AUTH_CONFIG_PATH``)."""
    path = Path(environ.setdefault("MLFLOW_AUTH_CONFIG_PATH", DEFAULT_CONFIG_PATH))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(config_text(environ))
    path.chmod(0o600)
    return path


def required(environ: MutableMapping[str, str], name: str) -> str:
    value = environ.get(name, "")
    if not value:
        raise AuthSetupError(f"{name} is empty: put a real one in .env (scripts/up.sh --multihost)")
    return value


def ensure_accounts(environ: MutableMapping[str, str]) -> None:
    """The admin and the services' account exist, with .env's passwords, in the auth database."""
    admin_password = required(environ, "MLFLOW_AUTH_ADMIN_PASSWORD")
    service = environ.get("MLFLOW_SERVICE_USERNAME") or "nba-services"
    service_password = required(environ, "MLFLOW_SERVICE_PASSWORD")
    # Only now: the auth app reads its settings file when imported.
    from mlflow.exceptions import MlflowException  # noqa: PLC0415
    from mlflow.server import auth  # noqa: PLC0415

    admin = auth.auth_config.admin_username
    if service == admin:
        raise AuthSetupError(f"MLFLOW_SERVICE_USERNAME is the admin's name ({admin!r})")
    try:
        auth.bootstrap_admin_user()  # the database's tables, and the admin on an empty one
        _set_password(auth.store, admin, admin_password, "MLFLOW_AUTH_ADMIN_PASSWORD")
        if not auth.store.has_user(service, use_primary=True):
            auth.store.create_user(service, service_password, is_admin=False)
            logger.info("created the services' MLflow account %r", service)
        else:
            _set_password(auth.store, service, service_password, "MLFLOW_SERVICE_PASSWORD")
            if auth.store.get_user(service).is_admin:
                auth.store.update_user(service, is_admin=False)
                logger.warning("MLflow account %r was an admin: it no longer is", service)
        for resource_type, pattern, permission in SERVICE_GRANTS:
            auth.store.grant_user_permission(service, resource_type, pattern, permission)
    except MlflowException as error:
        raise AuthSetupError(f"MLflow's auth refused its settings: {error.message}") from error


def _set_password(store: Any, user: str, password: str, variable: str) -> None:
    """Give ``user`` .env's password when the database holds another one."""
    if store.authenticate_user(user, password, use_primary=True):
        return
    store.update_user(user, password=password)
    logger.warning("MLflow account %r: password set to %s from the environment", user, variable)


def main(argv: Sequence[str] | None = None, environ: MutableMapping[str, str] = os.environ) -> int:
    """Set the auth up, then run ``mlflow <argv> --app-name basic-auth``."""
    args = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    try:
        write_config(environ)
        # The auth app signs its sign-up form with this key (CSRF); one server process with one
        # worker, so a key of its own per start is enough unless the operator sets one.
        environ.setdefault("MLFLOW_FLASK_SERVER_SECRET_KEY", secrets.token_hex(32))
        ensure_accounts(environ)
    except AuthSetupError as error:
        sys.stderr.write(f"refusing to start: {error}\n")
        return EX_CONFIG
    from mlflow.cli import cli  # noqa: PLC0415 (imported above already, through the auth app)

    if args[:1] == ["server"] and "--app-name" not in args:
        args += ["--app-name", "basic-auth"]
    return cli.main(args=args, prog_name="mlflow")


if __name__ == "__main__":
    sys.exit(main())
