"""Containers refuse to start with a placeholder secret, or with one the server refuses.

Every image's entrypoint is this file, run as ``python -S /opt/entrypoint/secret_check.py``
followed by the service's command: it reads the secrets the service uses and either ``exec``s
the command (which keeps its PID and signals) or prints one line and exits with 78
(``EX_CONFIG``). Standard library only and no package around it (the images without project
code copy this file alone), so ``-S`` is enough and it costs a few milliseconds.

Which secrets: the variables named in ``REFUSE_PLACEHOLDERS_IN``, set per image in
docker/Dockerfile (Flower's image names ``FLOWER_BASIC_AUTH`` and ``REDIS_URL``, the workers'
``REDIS_URL``...: compose hands the whole ``.env`` to every service, and each judges only what
it uses); unset, all of :data:`KNOWN_SECRETS`. How a value is read:

* ``FLOWER_BASIC_AUTH``: ``user:password`` pairs, comma-separated (Flower's format);
* a URL (``REDIS_URL``, ``NBA_PROXY``): its password, if it has one
  (``scheme://user:password@host``); a URL without one holds no secret;
* anything else: the whole value, when it is not empty.

A password is refused when it is empty, equal to its user name, written in angle brackets
(``<password>``), or one of :data:`PLACEHOLDERS` (``.env.example``'s ``change-me`` among them).
``docker-compose.yaml`` requires ``FLOWER_BASIC_AUTH`` and ``scripts/up.sh`` writes a random
one into ``.env``. Local development (``scripts/run_local.sh``, the ``Procfile``) does not run
this check: it generates a Flower password unless ``FLOWER_BASIC_AUTH`` is set.

Then the logins the service will use, when their server answers (:func:`refused_logins`; one
that does not answer yet is the service's own business: it retries): Redis at ``REDIS_URL``
must accept its password, or not ask for one; the MLflow server at ``TRACKING_SERVER_URL``
must accept ``MLFLOW_TRACKING_USERNAME`` / ``_PASSWORD`` when ``MLFLOW_TRACKING_PASSWORD`` is
among the checked names (the multi-host profile, where both servers have passwords). A wrong
one is the same single line, exit 78, before the service starts retrying in a loop.

A URL shown to a person has its password masked (:func:`redacted`; ``common/queue_failures.py``
uses it for every message about the task queue).
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import unquote, urlsplit

EX_CONFIG = 78  # sysexits.h: configuration error
KNOWN_SECRETS = (
    "FLOWER_BASIC_AUTH",
    "REDIS_URL",
    "NBA_PROXY",
    "MLFLOW_TRACKING_PASSWORD",  # the services' MLflow account (multi-host)
    "MLFLOW_AUTH_ADMIN_PASSWORD",  # the MLflow server's admin (multi-host)
    "MLFLOW_SERVICE_PASSWORD",  # the services' account, as the MLflow server sets it up
    "PGPASSWORD",  # the MLflow server's PostgreSQL (multi-host)
)
LOGIN_TIMEOUT_S = 3.0  # per server: a check that cannot conclude lets the service start
PLACEHOLDERS = frozenset(
    {
        "change-me",
        "changeme",
        "change_me",
        "change-it",
        "changeit",
        "replace-me",
        "replaceme",
        "password",
        "passwd",
        "pass",
        "secret",
        "example",
        "placeholder",
        "default",
        "admin",
        "todo",
        "xxx",
        "xxxx",
        "xxxxxx",
        "password1234",  # the admin password older MLflow versions shipped (basic_auth.ini)
    }
)
FIX = "put a real one in .env (scripts/up.sh writes a random one when .env is missing)"
LOGIN_FIX = (
    "give it the password its server was started with (.env: REDIS_PASSWORD, "
    "MLFLOW_SERVICE_PASSWORD; scripts/up.sh --multihost)"
)


def why_placeholder(password: str, user: str | None = None) -> str | None:
    """Why ``password`` is no secret, or None when it may be one."""
    value = password.strip()
    if not value:
        return "an empty password"
    if user is not None and value == user.strip():
        return "the user name as password"
    if value.startswith("<") and value.endswith(">"):
        return f"the placeholder {value!r}"
    if value.lower() in PLACEHOLDERS:
        return f"the placeholder password {value!r}"
    return None


def checked_names(environ: Mapping[str, str]) -> list[str]:
    """The variables this service uses as secrets: ``REFUSE_PLACEHOLDERS_IN`` (names separated
    by spaces or commas), or all known ones when it is unset."""
    listed = environ.get("REFUSE_PLACEHOLDERS_IN")
    if listed is None:
        return list(KNOWN_SECRETS)
    return listed.replace(",", " ").split()


def problems(environ: Mapping[str, str], names: Iterable[str] | None = None) -> list[str]:
    """One phrase per placeholder secret among ``names`` (default: :func:`checked_names`),
    e.g. ``FLOWER_BASIC_AUTH has the placeholder password 'change-me'``; empty when safe."""
    found = []
    for name in checked_names(environ) if names is None else names:
        value = environ.get(name)
        if value is None:
            continue
        if name == "FLOWER_BASIC_AUTH":
            for pair in value.split(","):
                user, colon, password = pair.partition(":")
                if not colon:
                    found.append(f"{name} is not user:password")
                elif why := why_placeholder(password, user):
                    found.append(f"{name} has {why}")
        elif "://" in value:
            try:
                parts = urlsplit(value)
                password = parts.password
            except ValueError:
                continue  # not a URL after all: the service says so itself
            if password is not None and (why := why_placeholder(password, parts.username)):
                found.append(f"{name} has {why}")
        elif value and (why := why_placeholder(value)):
            found.append(f"{name} has {why}")
    return found


def redacted(url: str) -> str:
    """``url`` with its password masked (``redis://:secret@host`` -> ``redis://:***@host``).

    Read as text, never parsed, so it errs on the side of hiding: everything between ``://``
    and the last ``@`` is the user and password (a password may hold ``/`` or ``@`` written as
    they are), and all of it after the first ``:`` is masked. A URL without both is shown as
    it is: it holds no password."""
    scheme, separator, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    if not (separator and at and colon):
        return url
    return f"{scheme}://{user}:***@{host}"


def refused_logins(environ: Mapping[str, str], names: Iterable[str] | None = None) -> list[str]:
    """One phrase per server that refuses the login the service will use (see the module)."""
    checked = set(checked_names(environ) if names is None else names)
    found = []
    if "REDIS_URL" in checked and (url := environ.get("REDIS_URL")):
        found += filter(None, [_redis_refuses(url)])
    server = environ.get("TRACKING_SERVER_URL")
    if "MLFLOW_TRACKING_PASSWORD" in checked and server:
        found += filter(None, [_mlflow_refuses(server, environ)])
    return found


def _redis_refuses(url: str) -> str | None:
    """Why Redis at ``url`` refuses its login; None when it accepts it, or cannot be asked."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port or 6379
    except ValueError:
        return None  # the service says what is wrong with it
    if parts.scheme != "redis" or not host:
        return None  # rediss:// (TLS) or a socket path: the service's own client judges
    password = unquote(parts.password) if parts.password is not None else None
    if password:
        user = unquote(parts.username or "")
        words = ["AUTH", user, password] if user else ["AUTH", password]
    else:
        words = ["PING"]
    command = f"*{len(words)}\r\n".encode()
    for word in words:
        data = word.encode()
        command += b"$%d\r\n%s\r\n" % (len(data), data)
    try:
        with socket.create_connection((host, port), timeout=LOGIN_TIMEOUT_S) as connection:
            connection.sendall(command)
            reply = connection.recv(512).decode(errors="replace")
    except OSError:
        return None  # not answering (yet): the service retries and says so itself
    where = f"Redis at {redacted(url)}"
    if reply.startswith("-NOAUTH"):
        return f"{where} asks for a password: put it in REDIS_URL (redis://:<password>@host)"
    if reply.startswith("-WRONGPASS") or "invalid password" in reply:
        return f"{where} refused the password in REDIS_URL"
    return None


def _mlflow_refuses(server: str, environ: Mapping[str, str]) -> str | None:
    """Why the MLflow server refuses the service's login; None when it accepts it (or asks
    for none), or cannot be asked."""
    try:
        parts = urlsplit(server)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    # Only here: http.client (with ssl) would add a third to every other image's check.
    import base64  # noqa: PLC0415
    import http.client  # noqa: PLC0415

    user = environ.get("MLFLOW_TRACKING_USERNAME", "")
    headers = {"Host": parts.netloc.rpartition("@")[2]}
    if user:
        login = f"{user}:{environ.get('MLFLOW_TRACKING_PASSWORD', '')}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(login).decode()
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(host, port, timeout=LOGIN_TIMEOUT_S)
    path = parts.path.rstrip("/") + "/api/2.0/mlflow/experiments/search?max_results=1"
    try:
        connection.request("GET", path, headers=headers)
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException, ValueError):
        return None
    finally:
        connection.close()
    if status != 401:
        return None
    where = f"the MLflow server at {redacted(server)}"
    if not user:
        return f"{where} asks for a login: set MLFLOW_TRACKING_USERNAME and _PASSWORD"
    return f"{where} refused the login of {user!r} (MLFLOW_TRACKING_PASSWORD)"


def message(found: Sequence[str], fix: str = FIX) -> str:
    return f"refusing to start: {'; '.join(found)}: {fix}"


def main(argv: Sequence[str] | None = None) -> int:
    """Check, then run the command in ``argv`` in this process (nothing to run: exit 0)."""
    command = list(sys.argv[1:] if argv is None else argv)
    if command[:1] == ["--"]:
        command = command[1:]
    found = problems(os.environ)
    if found:
        sys.stderr.write(message(found) + "\n")
        return EX_CONFIG
    refused = refused_logins(os.environ)
    if refused:
        sys.stderr.write(message(refused, LOGIN_FIX) + "\n")
        return EX_CONFIG
    if not command:
        return 0
    try:
        os.execvp(command[0], command)
    except OSError as error:
        sys.stderr.write(f"cannot run {command[0]}: {error.strerror}\n")
        return 127
    return 0  # not reached: execvp replaced this process


if __name__ == "__main__":
    sys.exit(main())
