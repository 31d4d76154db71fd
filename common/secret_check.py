"""Containers refuse to start with a placeholder secret.

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
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import urlsplit

EX_CONFIG = 78  # sysexits.h: configuration error
KNOWN_SECRETS = ("FLOWER_BASIC_AUTH", "REDIS_URL", "NBA_PROXY")
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
    }
)
FIX = "put a real one in .env (scripts/up.sh writes a random one when .env is missing)"


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


def message(found: Sequence[str]) -> str:
    return f"refusing to start: {'; '.join(found)}: {FIX}"


def main(argv: Sequence[str] | None = None) -> int:
    """Check, then run the command in ``argv`` in this process (nothing to run: exit 0)."""
    command = list(sys.argv[1:] if argv is None else argv)
    if command[:1] == ["--"]:
        command = command[1:]
    found = problems(os.environ)
    if found:
        sys.stderr.write(message(found) + "\n")
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
