"""Failures said plainly: one line with the cause and what to do, the details below it.

Shared by the app and the CLI, so both say the same thing about the same failure:

* a task's error (``task_status(...).error``) splits into its headline and details;
* an unreachable task queue: :mod:`common.queue_failures` (apart, as it imports redis-py);
* so is an MLflow tracking server that does not answer (:class:`StoreUnavailableError`), or
  refuses the login (:class:`AccessDeniedError`);
* user input quoted in a message is clipped to a few dozen characters;
* a damaged stored file names itself and its repair (:class:`DamagedFileError`), a failed
  write its file and what was kept (:class:`WriteFailedError`);
* work that waited too long for a lease held elsewhere says so (:class:`LeaseBusyError`);
* nothing to work on: no seasons to train on (:class:`NoTrainingDataError`), no recordings
  to seed from (:class:`NoRecordingsError`).
"""

from __future__ import annotations

import errno
import re
from pathlib import Path

from common.secret_check import redacted

QUOTE_LIMIT = 40  # characters of user input an error message quotes
HEADLINE_LIMIT = 300  # a longer first line goes to the details whole, clipped in the headline
# Exceptions whose message is written for people: their type name is not repeated to them.
_PLAIN = re.compile(
    r"^(?:UpstreamError|InvalidSeasonError|InvalidResponseError"
    r"|DamagedFileError|WriteFailedError|StoreUnavailableError|ArtifactsNotSharedError"
    r"|AccessDeniedError|LeaseBusyError|NoTrainingDataError|NoRecordingsError): "
)


class StoreUnavailableError(RuntimeError):
    """The MLflow tracking server did not answer (``common.mlflow_store.answering``): its first
    line says what could not be done and what to do, the client's error follows."""


class LeaseBusyError(RuntimeError):
    """A lease stayed held by someone else for longer than the caller would wait
    (``common.leases.held``): the message names the lease, its holder and what to do."""


class NoTrainingDataError(RuntimeError):
    """Nothing to train on: no cleaned seasons (yet), or none of the requested ones."""


class NoRecordingsError(RuntimeError):
    """The seed's folder (RECORDINGS_DIR) holds no recording: nothing to import."""


class AccessDeniedError(RuntimeError):
    """The MLflow server refused the login (401) or the account lacks a permission (403):
    its first line (:func:`login_refused`) names the settings to check, the server's answer
    follows."""


def login_refused(server: str, status: int | str) -> str:
    """The one line that says the MLflow server refused this process's login."""
    return (
        f"the MLflow server at {redacted(server)} refused this login ({status}): check "
        "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (MLFLOW_SERVICE_PASSWORD in .env)"
    )


def clip(text: object, limit: int = QUOTE_LIMIT) -> str:
    """``text`` as a message may quote it: at most ``limit`` characters, on one line."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def split_error(text: str) -> tuple[str, str]:
    """(headline, details) of an error text: its first line, then the rest.

    A headline longer than ``HEADLINE_LIMIT`` (a raw library error) is clipped, and the whole
    of it is kept in the details."""
    text = _PLAIN.sub("", str(text).strip(), count=1)
    headline, _, details = text.partition("\n")
    headline = headline.strip()
    if len(headline) > HEADLINE_LIMIT:
        details = f"{headline}\n{details}".strip()
        headline = clip(headline, HEADLINE_LIMIT)
    return headline or "unknown error", details.strip()


# The errno values that mean "no room", said plainly: (what happened, what to do).
_NO_ROOM = {
    errno.ENOSPC: ("the data volume is full", "free space on it and try again"),
    errno.EDQUOT: ("the disk quota is used up", "free space and try again"),
    errno.EFBIG: ("the file is over the size limit", "raise the limit (ulimit -f) and try again"),
}


class DamagedFileError(RuntimeError):
    """A stored file is truncated or unreadable. The message's first line names the file and
    the command that repairs it; the reason the reader gave follows on the next line.

    Built by :meth:`at`; the message alone rebuilds it, as Celery does with a task's error."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path

    @classmethod
    def at(cls, path: Path, what: str, fix: str, cause: object = None) -> DamagedFileError:
        """``what``: "damaged (truncated or not Parquet)", "missing"...; ``fix``: what to run."""
        detail = f"\n{type(cause).__name__}: {cause}" if cause is not None else ""
        return cls(f"{path} is {what}: {fix}{detail}", path)


class WriteFailedError(OSError):
    """Writing a file failed (most often a full volume); its previous version is intact.

    Built by :meth:`at`; the message alone rebuilds it, as Celery does with a task's error."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path

    @classmethod
    def at(cls, path: Path, cause: OSError) -> WriteFailedError:
        kept = "the previous version is intact" if path.exists() else "nothing was written"
        reason, advice = cause.strerror or str(cause), "try again"
        if cause.errno in _NO_ROOM:
            what, advice = _NO_ROOM[cause.errno]
            reason = f"{what} ({reason})"
        error = cls(f"could not write {path}: {reason}; {kept}: {advice}", path)
        error.errno = cause.errno
        return error


# Failures whose first line says their cause and what to do (shown as they are, no traceback).
PLAIN_FAILURES = (
    DamagedFileError,
    WriteFailedError,
    StoreUnavailableError,
    AccessDeniedError,
    LeaseBusyError,
    NoTrainingDataError,
    NoRecordingsError,
)
