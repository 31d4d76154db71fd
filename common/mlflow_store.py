"""The MLflow store every service talks to: the SQLite file on the shared volume, or a tracking
server over HTTP (``TRACKING_SERVER_URL``), chosen by the settings alone.

MLflow is imported inside the functions: the app imports this module before its first page is
drawn, and MLflow takes seconds to import.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from common.failures import (
    AccessDeniedError,
    DamagedFileError,
    StoreUnavailableError,
    login_refused,
)
from common.model_registry import damaged_store, is_connection_failure
from common.secret_check import redacted
from common.settings import Settings

if TYPE_CHECKING:
    from mlflow import MlflowClient


def tracking_client(settings: Settings) -> MlflowClient:
    # Late: importing MLflow takes seconds, and only writers and the app's run history need
    # its client (the app's first paint and a worker's start are measured).
    from mlflow import MlflowClient  # noqa: PLC0415

    return MlflowClient(tracking_uri=settings.tracking_uri, registry_uri=settings.tracking_uri)


def experiment_id(client: MlflowClient, settings: Settings, name: str) -> str:
    """Experiment ``name``'s id, created if missing (racing creators get the same one)."""
    from mlflow.exceptions import MlflowException  # noqa: PLC0415 (as tracking_client)

    existing = client.get_experiment_by_name(name)
    if existing is not None:
        return existing.experiment_id
    root = settings.artifact_root
    if root is not None:  # the shared volume, by absolute path (as MLflow requires)
        root.mkdir(parents=True, exist_ok=True)
    try:
        return client.create_experiment(name, artifact_location=root and root.as_uri())
    except MlflowException as error:
        existing = client.get_experiment_by_name(name)
        if error.error_code != "RESOURCE_ALREADY_EXISTS" or existing is None:
            raise
        return existing.experiment_id


@contextmanager
def answering(settings: Settings, what: str, kept: str = "") -> Iterator[None]:
    """Run MLflow calls; a tracking server that does not answer (after the client's retries,
    ``common/mlflow_env.py``) becomes a :class:`StoreUnavailableError` whose first line says
    ``what`` could not be done (e.g. "read the seasons from") and what to do, then ``kept``;
    a SQLite store that cannot be read, a :class:`DamagedFileError` naming it and its repair."""
    try:
        yield
    except (DamagedFileError, StoreUnavailableError, AccessDeniedError):
        raise  # said plainly already (by an inner call)
    except Exception as error:
        if settings.store_file and (damage := damaged_store(settings.store_file, error)):
            raise damage from error
        detail = " ".join(str(error).split())[:500]
        if status := _refused(error):  # it answered: no, for this login
            raise AccessDeniedError(
                f"{login_refused(settings.tracking_uri, status)}\n{type(error).__name__}: {detail}"
            ) from error
        if not _unreachable(error):
            raise
        store = redacted(settings.tracking_uri)
        raise StoreUnavailableError(
            f"could not {what} the MLflow store at {store}: check that the "
            f"MLflow server answers (TRACKING_SERVER_URL) and try again{kept}\n"
            f"{type(error).__name__}: {detail}"
        ) from error


# MLflow's REST client's error codes for a 401 and a 403 without an MLflow error body.
_REFUSED_CODES = {"UNAUTHENTICATED": 401, "PERMISSION_DENIED": 403}


def _refused(error: Exception) -> int | None:
    """401 or 403 when the server refused the login or this account a permission (MLflow's
    REST client's error, or requests' from an artifact transfer); None otherwise (and for the
    light reader's own AccessDeniedError, which says it plainly already)."""
    response = getattr(error, "response", None)
    requests = sys.modules.get("requests")  # not imported: no request was made
    if requests is not None and isinstance(error, requests.HTTPError) and response is not None:
        return response.status_code if response.status_code in (401, 403) else None
    exceptions = sys.modules.get("mlflow.exceptions")
    if exceptions is not None and isinstance(error, exceptions.MlflowException):
        return _REFUSED_CODES.get(error.error_code)
    return None


def _unreachable(error: Exception) -> bool:
    """A connection that failed, not an answer: requests' errors (MLflow's artifact transfers
    and the light registry reader raise them), or MLflow's REST client's "API request to <url>
    failed ..." once its retries are spent (or when a gateway answers for it with a page that
    is not MLflow's)."""
    if is_connection_failure(error):
        return True
    # Only a process that imported MLflow can hold its errors: no need to import it here.
    exceptions = sys.modules.get("mlflow.exceptions")
    return (
        exceptions is not None
        and isinstance(error, exceptions.MlflowException)
        and str(error).startswith("API request to")
    )
