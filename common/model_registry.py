"""A light, read-only reader of MLflow's model registry: an alias's version, its run, its files.

Why not MLflow's client here: answers must be quick. A ``nba-archetypes player`` process that
imports MLflow and opens its SQLite store through SQLAlchemy spends about 3 s before reading
anything (docs/measured.md); this reader answers in milliseconds, so a cold CLI call takes
about a second. It reads what MLflow writes, through MLflow's two stable surfaces:

* the single-host store, ``sqlite:///…/mlflow.db``, opened read-only (the tables
  ``registered_model_aliases``, ``model_versions``, ``runs``, ``tags``, ``latest_metrics``),
  and the artifacts under the run's ``file://`` artifact location;
* a tracking server's REST API 2.0 (``registered-models/alias``, ``runs/get``, and
  ``runs/search`` for ``nba-archetypes status``'s list of stored seasons) and its
  artifact proxy (``--serve-artifacts``), with the retry, timeout and credential variables
  MLflow's own client reads (``MLFLOW_HTTP_REQUEST_*``, ``MLFLOW_TRACKING_USERNAME`` /
  ``_PASSWORD`` / ``_TOKEN``, ``MLFLOW_TRACKING_INSECURE_TLS``, ``_SERVER_CERT_PATH``).

Everything that writes (runs, models, the alias) goes through MLflow's client in the train
worker (``workers/train/tracking.py``); tests check both readers against a real store and a
real server.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, unquote, urlsplit

from common.failures import AccessDeniedError, DamagedFileError, login_refused
from common.settings import Settings

if TYPE_CHECKING:
    import requests

API = "/api/2.0/mlflow"
ARTIFACTS_API = "/api/2.0/mlflow-artifacts/artifacts"
# What a server, or a proxy before it, answers while it restarts or is overloaded.
RETRIED_STATUSES = (429, 500, 502, 503, 504)
# What the server answers for a model, or an alias of an existing model, that is not there.
NOT_FOUND_CODES = frozenset({"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"})
# SQLite's codes for a file it cannot read as a database (not: busy, locked, read-only).
_DAMAGED_CODES = ("SQLITE_CORRUPT", "SQLITE_NOTADB")
STORE_REPAIR = (
    "restore a backup (`nba-archetypes restore`), or start a new store and train again on the "
    "stored seasons (docs/operations.md, Repair)"
)


@dataclass(frozen=True)
class AliasedVersion:
    """A registered model version an alias points to, and the run that logged it."""

    version: str
    run_id: str
    created_at_ms: int
    tags: dict[str, str]  # the run's
    metrics: dict[str, float]  # the run's latest
    artifact_uri: str  # the run's artifact location


class ArtifactMissingError(FileNotFoundError):
    """The run has no such artifact (deleted, or never written)."""


class RegistryReader(Protocol):
    def aliased(self, model: str, alias: str) -> AliasedVersion | None: ...

    def download(self, artifact_uri: str, name: str, destination: Path) -> Path: ...

    def location(self, artifact_uri: str, name: str) -> str: ...


def is_connection_failure(error: BaseException) -> bool:
    """The store could not be reached (not: it answered that a file is missing or bad)."""
    # Only a process that imported requests (a server's reader, MLflow) can hold its errors.
    requests = sys.modules.get("requests")
    return isinstance(error, ConnectionError) or (
        requests is not None and isinstance(error, requests.RequestException)
    )


def damaged_store(database: Path, error: BaseException) -> DamagedFileError | None:
    """``error`` as a :class:`DamagedFileError` naming ``database`` and its repair, if SQLite
    found the file damaged (raised by sqlite3 itself, or wrapped by SQLAlchemy and MLflow)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        name = getattr(current, "sqlite_errorname", "")
        if isinstance(current, sqlite3.DatabaseError) and name.startswith(_DAMAGED_CODES):
            return DamagedFileError.at(
                database, "damaged (SQLite cannot read it)", STORE_REPAIR, current
            )
        # SQLAlchemy keeps the driver's error as .orig; MLflow chains its own on top.
        pending += [getattr(current, "orig", None), current.__cause__, current.__context__]
    return None


@contextmanager
def damage_named(database: Path) -> Iterator[None]:
    """Re-raise a SQLite error that says ``database`` is damaged as :func:`damaged_store`'s
    :class:`DamagedFileError`; any other error passes unchanged."""
    try:
        yield
    except sqlite3.DatabaseError as error:
        if (damage := damaged_store(database, error)) is not None:
            raise damage from error
        raise


def open_registry(settings: Settings) -> RegistryReader:
    if settings.store_file is not None:
        return SqliteRegistry(settings.store_file)
    return ServerRegistry(settings.tracking_uri)


class SqliteRegistry:
    """MLflow's SQLite store, read-only; a store not created yet has no alias."""

    def __init__(self, database: Path) -> None:
        self.database = database

    def aliased(self, model: str, alias: str) -> AliasedVersion | None:
        if not self.database.is_file():
            return None  # never create the store: the train worker does
        with damage_named(self.database):
            return self._aliased(model, alias)

    def _aliased(self, model: str, alias: str) -> AliasedVersion | None:
        uri = f"{self.database.as_uri()}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=10)) as db:
            try:
                row = db.execute(
                    "SELECT v.version, v.run_id, v.creation_time, r.artifact_uri"
                    " FROM registered_model_aliases a"
                    " JOIN model_versions v ON v.name = a.name AND v.version = a.version"
                    " JOIN runs r ON r.run_uuid = v.run_id"
                    " WHERE a.name = ? AND a.alias = ?",
                    (model, alias),
                ).fetchone()
            except sqlite3.OperationalError as error:
                if "no such table" in str(error):
                    return None  # a store whose tables MLflow has not created yet
                raise
            if row is None:
                return None
            version, run_id, created, artifact_uri = row
            tags = dict(db.execute("SELECT key, value FROM tags WHERE run_uuid = ?", (run_id,)))
            metrics = dict(
                db.execute("SELECT key, value FROM latest_metrics WHERE run_uuid = ?", (run_id,))
            )
        return AliasedVersion(str(version), run_id, int(created or 0), tags, metrics, artifact_uri)

    def download(self, artifact_uri: str, name: str, destination: Path) -> Path:
        del destination  # the file is on this machine already: read it in place
        path = Path(self.location(artifact_uri, name))
        if not path.is_file():
            raise ArtifactMissingError(str(path))
        return path

    def location(self, artifact_uri: str, name: str) -> str:
        parts = urlsplit(artifact_uri)
        folder = unquote(parts.path) if parts.scheme in ("file", "") else artifact_uri
        return str(Path(folder) / name)


class ServerRegistry:
    """A tracking server's REST API and artifact proxy."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url.rstrip("/")
        self.timeout_s = float(os.environ.get("MLFLOW_HTTP_REQUEST_TIMEOUT") or 120)
        self.session = _session()

    def aliased(self, model: str, alias: str) -> AliasedVersion | None:
        try:
            answer = self._get(f"{API}/registered-models/alias", {"name": model, "alias": alias})
        except AccessDeniedError:
            # A server with basic auth answers 403 for an alias of a model that does not exist
            # (not to say which do); the model's own page says whether it is there.
            if self._get(f"{API}/registered-models/get", {"name": model}) is None:
                return None
            raise
        if answer is None:
            return None
        version = answer["model_version"]
        run = self._get(f"{API}/runs/get", {"run_id": version["run_id"]})
        if run is None:
            return None
        data = run["run"].get("data", {})
        return AliasedVersion(
            version=str(version["version"]),
            run_id=version["run_id"],
            created_at_ms=int(version.get("creation_timestamp", 0)),
            tags={t["key"]: t.get("value", "") for t in data.get("tags", [])},
            metrics={m["key"]: float(m["value"]) for m in data.get("metrics", [])},
            artifact_uri=run["run"]["info"].get("artifact_uri", ""),
        )

    def download(self, artifact_uri: str, name: str, destination: Path) -> Path:
        url = self.location(artifact_uri, name)
        with self.session.get(url, timeout=self.timeout_s, stream=True) as answer:
            if answer.status_code == 404:
                raise ArtifactMissingError(url)
            _raise_for(answer)
            target = destination / name
            with target.open("wb") as out:
                shutil.copyfileobj(answer.raw, out)
        return target

    def location(self, artifact_uri: str, name: str) -> str:
        parts = urlsplit(artifact_uri)
        if parts.scheme != "mlflow-artifacts":
            raise RuntimeError(
                f"the run keeps its artifacts at {artifact_uri}, which only the server can "
                "reach: start the MLflow server with --serve-artifacts"
            )
        return f"{self.server_url}{ARTIFACTS_API}/{quote(parts.path.strip('/'))}/{quote(name)}"

    def tag_values(self, experiment: str, filter_string: str, tag: str) -> set[str]:
        """Every value of ``tag`` on the runs of ``experiment`` that match ``filter_string``
        (none if the experiment does not exist yet)."""
        found = self._get(f"{API}/experiments/get-by-name", {"experiment_name": experiment})
        if found is None:
            return set()
        query: dict[str, Any] = {
            "experiment_ids": [found["experiment"]["experiment_id"]],
            "filter": filter_string,
            "max_results": 1000,
        }
        values: set[str] = set()
        while True:  # a search is a POST that reads nothing but what it returns
            answer = self.session.post(
                f"{self.server_url}{API}/runs/search", json=query, timeout=self.timeout_s
            )
            _raise_for(answer)
            page = answer.json()
            for run in page.get("runs", []):
                tags = run.get("data", {}).get("tags", [])
                values |= {t.get("value", "") for t in tags if t["key"] == tag}
            if not page.get("next_page_token"):
                return values
            query["page_token"] = page["next_page_token"]

    def _get(self, endpoint: str, params: dict[str, str]) -> dict[str, Any] | None:
        """The JSON answer; ``None`` when the server says the thing does not exist."""
        answer = self.session.get(
            f"{self.server_url}{endpoint}", params=params, timeout=self.timeout_s
        )
        if answer.status_code == 404 or _error_code(answer) in NOT_FOUND_CODES:
            return None
        _raise_for(answer)
        return answer.json()


def _error_code(answer: requests.Response) -> str | None:
    """MLflow's ``error_code`` of an error answer (``None``: not MLflow's JSON)."""
    if answer.ok:
        return None
    try:
        return answer.json().get("error_code")
    except ValueError:
        return None


def _raise_for(answer: requests.Response) -> None:
    if answer.ok:
        return
    text = " ".join(answer.text.split())[:300]
    # A gateway's "the server is not there" is a connection failure (common.mlflow_store); a
    # login refused (401) or a permission missing (403) is the account's (MLFLOW_TRACKING_*).
    if answer.status_code in (401, 403):
        server = answer.url.split("/api/", 1)[0]
        raise AccessDeniedError(f"{login_refused(server, answer.status_code)}\n{text}")
    kind = ConnectionError if answer.status_code in (502, 503, 504) else RuntimeError
    raise kind(f"the MLflow server answered {answer.status_code} {answer.reason}: {text}")


def _session() -> requests.Session:
    """Retries and credentials as MLflow's client reads them from the environment."""
    # Imported with the first server reader: the single-host answers (`status`, `player`)
    # never make a request, and requests' import is a tenth of their time (benchmarks/cli.py).
    import requests  # noqa: PLC0415
    from requests.adapters import HTTPAdapter  # noqa: PLC0415
    from urllib3.util.retry import Retry  # noqa: PLC0415

    environ = os.environ
    retries = Retry(
        total=int(environ.get("MLFLOW_HTTP_REQUEST_MAX_RETRIES") or 7),
        backoff_factor=float(environ.get("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR") or 2),
        status_forcelist=RETRIED_STATUSES,
        raise_on_status=False,  # the last answer is returned, and reported with its message
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retries)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    if token := environ.get("MLFLOW_TRACKING_TOKEN"):
        session.headers["Authorization"] = f"Bearer {token}"
    elif user := environ.get("MLFLOW_TRACKING_USERNAME"):
        session.auth = (user, environ.get("MLFLOW_TRACKING_PASSWORD", ""))
    if environ.get("MLFLOW_TRACKING_INSECURE_TLS", "").lower() in ("1", "true"):
        session.verify = False
    elif cert := environ.get("MLFLOW_TRACKING_SERVER_CERT_PATH"):
        session.verify = cert
    return session
