"""The season store's client of an MLflow tracking server: its documented REST API, nothing else.

Why not MLflow's own client here: the season store runs in the fetch worker, and ``import
mlflow`` loads MLflow's tracing, AI gateway (FastAPI, Starlette), OpenTelemetry and protobuf,
about 37 MB of the fetch image for what is a handful of HTTP calls. The season store needs six
endpoints of the REST API 2.0 (stable across MLflow releases) and the artifact proxy of a
server started with ``--serve-artifacts``:

* ``experiments/get-by-name``, ``experiments/create``: the seasons' experiment;
* ``runs/search``, ``runs/create``, ``runs/update``: one run per stored season;
* ``mlflow-artifacts/artifacts``: upload, list and download a run's files.

The model registry and training runs stay with MLflow's client (``common/mlflow_store.py``),
in the images that have it. Retries, timeout and credentials follow the variables MLflow's own
client reads, so one setting serves both: ``MLFLOW_HTTP_REQUEST_MAX_RETRIES``,
``MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR``, ``MLFLOW_HTTP_REQUEST_TIMEOUT`` (defaults in
``common/mlflow_env.py``), ``MLFLOW_TRACKING_TOKEN`` or ``MLFLOW_TRACKING_USERNAME`` and
``MLFLOW_TRACKING_PASSWORD``, ``MLFLOW_TRACKING_INSECURE_TLS``,
``MLFLOW_TRACKING_SERVER_CERT_PATH``.
"""

from __future__ import annotations

import os
import posixpath
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, urlparse

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

API = "/api/2.0/mlflow"
ARTIFACTS_API = "/api/2.0/mlflow-artifacts/artifacts"
ARTIFACTS_SCHEME = "mlflow-artifacts"
# What a server, or a proxy before it, answers while it restarts or is overloaded.
RETRIED_STATUSES = (429, 500, 502, 503, 504)
UNAVAILABLE_STATUSES = frozenset({502, 503, 504})


class MlflowRestError(Exception):
    """The server answered with an error: its HTTP status, MLflow's error code, its message."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(f"MLflow answered {status} {error_code}: {message}")
        self.status = status
        self.error_code = error_code

    @property
    def unavailable(self) -> bool:
        """A gateway's "the server is not there" rather than an answer from the server."""
        return self.status in UNAVAILABLE_STATUSES


@dataclass(frozen=True)
class StoredRun:
    """What the season store reads of a run."""

    run_id: str
    start_time_ms: int
    artifact_uri: str
    tags: dict[str, str]

    @classmethod
    def from_json(cls, run: dict[str, Any]) -> StoredRun:
        info = run["info"]
        tags = run.get("data", {}).get("tags", [])
        return cls(
            run_id=info["run_id"],
            start_time_ms=int(info.get("start_time", 0)),
            artifact_uri=info.get("artifact_uri", ""),
            tags={tag["key"]: tag.get("value", "") for tag in tags},
        )


class MlflowRestClient:
    """Calls to one tracking server (``http(s)://host:port``), retried as MLflow's client does."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url.rstrip("/")
        self.timeout_s = float(os.environ.get("MLFLOW_HTTP_REQUEST_TIMEOUT") or 120)
        self.session = _session()

    # --- experiments and runs ---------------------------------------------------------------

    def experiment_id(self, name: str) -> str:
        """Experiment ``name``'s id, created if missing (racing creators get the same one)."""
        existing = self._experiment_by_name(name)
        if existing is not None:
            return existing
        try:
            return self._call("POST", "experiments/create", json={"name": name})["experiment_id"]
        except MlflowRestError as error:
            existing = self._experiment_by_name(name)
            if error.error_code != "RESOURCE_ALREADY_EXISTS" or existing is None:
                raise
            return existing

    def search_runs(
        self,
        experiment_id: str,
        filter_string: str,
        order_by: list[str],
        max_results: int,
        page_token: str | None = None,
    ) -> tuple[list[StoredRun], str | None]:
        """One page of runs, and the token of the next page (``None`` after the last)."""
        body: dict[str, Any] = {
            "experiment_ids": [experiment_id],
            "filter": filter_string,
            "order_by": order_by,
            "max_results": max_results,
        }
        if page_token:
            body["page_token"] = page_token
        answer = self._call("POST", "runs/search", json=body)
        runs = [StoredRun.from_json(run) for run in answer.get("runs", [])]
        return runs, answer.get("next_page_token") or None

    def create_run(self, experiment_id: str, tags: dict[str, str], run_name: str) -> StoredRun:
        body = {
            "experiment_id": experiment_id,
            "run_name": run_name,
            "start_time": int(time.time() * 1000),
            "tags": [{"key": key, "value": value} for key, value in tags.items()],
        }
        return StoredRun.from_json(self._call("POST", "runs/create", json=body)["run"])

    def end_run(self, run_id: str, status: str = "FINISHED") -> None:
        body = {"run_id": run_id, "status": status, "end_time": int(time.time() * 1000)}
        self._call("POST", "runs/update", json=body)

    # --- artifacts, through the server's proxy ------------------------------------------------

    def upload(self, run: StoredRun, local_file: Path, artifact_dir: str) -> None:
        """Store ``local_file`` as ``<artifact_dir>/<its name>`` among ``run``'s artifacts."""
        path = posixpath.join(self._artifact_root(run), artifact_dir, local_file.name)
        # Bytes, not a file object: a retried request sends them again (a season's files are
        # a few MB at most).
        self._request("PUT", self._artifact_url(path), data=local_file.read_bytes())

    def download_all(self, run: StoredRun, destination: Path) -> None:
        """Every artifact of ``run`` into ``destination``, laid out as in the run."""
        root = self._artifact_root(run)
        for relative in self._list_files(root, ""):
            target = destination.joinpath(*PurePosixPath(relative).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            url = self._artifact_url(posixpath.join(root, relative))
            with self._request("GET", url, stream=True) as answer, target.open("wb") as out:
                for chunk in answer.iter_content(chunk_size=1 << 20):
                    out.write(chunk)

    def _list_files(self, root: str, relative: str) -> list[str]:
        """The files under ``root/relative``, as paths relative to ``root``, depth first."""
        listed = posixpath.join(root, relative) if relative else root
        answer = self._request("GET", self.server_url + ARTIFACTS_API, params={"path": listed})
        files: list[str] = []
        for entry in answer.json().get("files", []):
            name = entry["path"]
            if name.startswith("/") or ".." in PurePosixPath(name).parts:
                raise MlflowRestError(answer.status_code, "UNSAFE_PATH", f"artifact path {name!r}")
            path = posixpath.join(relative, name) if relative else name
            files += self._list_files(root, path) if entry.get("is_dir") else [path]
        return files

    def _artifact_root(self, run: StoredRun) -> str:
        """The run's artifact directory as the proxy names it (``<experiment>/<run>/artifacts``).
        Only a server that serves artifacts itself hands out ``mlflow-artifacts:`` locations."""
        location = urlparse(run.artifact_uri)
        if location.scheme != ARTIFACTS_SCHEME:
            raise MlflowRestError(
                400,
                "ARTIFACTS_NOT_SERVED",
                f"run {run.run_id} keeps its artifacts at {run.artifact_uri}, which only the "
                "server can reach: start the MLflow server with --serve-artifacts (the "
                "multi-host compose file does) and use a new MLFLOW_SEASONS_EXPERIMENT",
            )
        return location.path.strip("/")

    def _artifact_url(self, path: str) -> str:
        return f"{self.server_url}{ARTIFACTS_API}/{quote(path)}"

    # --- HTTP -----------------------------------------------------------------------------------

    def _call(self, method: str, endpoint: str, **kwargs: Any) -> dict[str, Any]:
        return self._request(method, f"{self.server_url}{API}/{endpoint}", **kwargs).json()

    def _experiment_by_name(self, name: str) -> str | None:
        try:
            answer = self._call("GET", "experiments/get-by-name", params={"experiment_name": name})
        except MlflowRestError as error:
            if error.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise
        return answer["experiment"]["experiment_id"]

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One request (retried by the session); an error status becomes an MlflowRestError.
        A server that cannot be reached raises requests' own errors (ConnectionError...)."""
        answer = self.session.request(method, url, timeout=self.timeout_s, **kwargs)
        if answer.ok:
            return answer
        try:
            error = answer.json()
            code, message = error.get("error_code", ""), error.get("message", "")
        except ValueError:  # not MLflow's JSON: a proxy's page, say
            code, message = "", " ".join(answer.text.split())[:300]
        answer.close()
        raise MlflowRestError(answer.status_code, code or answer.reason, message)


def _session() -> requests.Session:
    """Retries and credentials as MLflow's client reads them from the environment."""
    environ = os.environ
    retries = Retry(
        total=int(environ.get("MLFLOW_HTTP_REQUEST_MAX_RETRIES") or 7),
        backoff_factor=float(environ.get("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR") or 2),
        status_forcelist=RETRIED_STATUSES,
        allowed_methods=None,  # every method: creating a run twice costs an unfinished run
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
