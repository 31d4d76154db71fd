"""Where seasons live, decided by one setting (``DATA_STORE``) in one place: :func:`open_data`.

``volume`` (one host, the default): ``DATA_DIR`` is shared by every service; a plain
:class:`~common.storage.DataDir`, read and written in place.

``mlflow`` (several hosts): the MLflow store holds the seasons, so services share nothing but
Redis and the MLflow server. Every stored season is one run of ``MLFLOW_SEASONS_EXPERIMENT``
whose artifacts are laid out as in ``DATA_DIR`` (``raw/<season>/*.json``,
``cleaned/<season>.parquet``), tagged with the season, the hashes of its cleaned table and
fetch record, and its fetch time. MLflow's own client does the talking (retries, timeout and
credentials from MLflow's variables, ``common/mlflow_env.py``), imported when the store first
calls the server: a worker's start, and the volume profile, never load it. Each process keeps its
own copy in ``DATA_DIR``:

* :meth:`MlflowDataDir.sync` brings that copy up to date before reading: the newest finished
  run of each season, downloaded only when its hashes differ from the local files (so it costs
  one search when nothing changed), installed atomically with the fetch record last, its files
  dated at the run's start (what "stored since" and the app's caches compare);
* writing a season's fetch record, the last write of every stored season (fetch, seed,
  re-clean, rebuild), publishes the season: one run, finished only once every artifact is
  uploaded, so a reader sees the old version or the new one, never half of one.

The seasons' experiment must keep its artifacts where every host reaches the same files (the
server's proxy, ``--serve-artifacts``, or an object store): MLflow's client would take a path
as one on its own host's disk, so that is refused before any run (:class:`ArtifactsNotSharedError`).

Everything else reads and writes the local copy through the ``DataDir`` API, unchanged.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from common.failures import DamagedFileError, StoreUnavailableError
from common.fetch_record import FetchRecord
from common.mlflow_store import answering, experiment_id, tracking_client
from common.model_registry import ServerRegistry
from common.seasons import InvalidSeasonError, Season
from common.settings import Settings
from common.storage import DataDir, atomic_output, sha256_of

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Run

log = logging.getLogger(__name__)

__all__ = [
    "ArtifactsNotSharedError",
    "MlflowDataDir",
    "StoreUnavailableError",
    "open_data",
    "stored_seasons",
]

TAG_KIND = "kind"
KIND_SEASON = "season"
TAG_SEASON = "season"
TAG_CLEANED_SHA256 = "cleaned_sha256"  # the data hash: sha256 of cleaned/<season>.parquet
TAG_RECORD_SHA256 = "record_sha256"  # sha256 of raw/<season>/fetch.json
TAG_FETCHED_AT = "fetched_at"  # when the raw responses were downloaded (ISO 8601, UTC)
_SEARCH_PAGE = 500
# A season's runs that count: finished ones (a failed upload leaves its run FAILED).
_STORED = f"tags.{TAG_KIND} = '{KIND_SEASON}' and attributes.status = 'FINISHED'"
# Artifact locations that only one host can reach: a path on the server's disk, which MLflow's
# client would read and write on the caller's own disk instead.
_ONE_HOST_SCHEMES = frozenset({"", "file"})


class ArtifactsNotSharedError(RuntimeError):
    """The seasons' experiment keeps its artifacts where every host would see a different
    directory (its first line says what to change)."""


def open_data(settings: Settings) -> DataDir:
    """The seasons, wherever ``DATA_STORE`` says they live. Call ``.sync()`` before reading."""
    if settings.data_store == "mlflow":
        return MlflowDataDir(settings)
    return DataDir(settings.data_dir)


def stored_seasons(settings: Settings) -> list[Season]:
    """The seasons the store holds, without copying any: from the server's run search with the
    light registry reader (``nba-archetypes status`` answers in a fraction of a second; MLflow's
    client would take two), or the data directory itself."""
    if settings.data_store != "mlflow":
        return DataDir(settings.data_dir).cleaned_seasons()
    reader = ServerRegistry(settings.tracking_uri)
    with answering(settings, "read the seasons from"):
        labels = reader.tag_values(settings.mlflow_seasons_experiment, _STORED, TAG_SEASON)
    seasons = []
    for label in labels:
        with contextlib.suppress(InvalidSeasonError):  # not a run this code wrote
            seasons.append(Season.parse(label))
    return sorted(seasons)


class MlflowDataDir(DataDir):
    """A ``DataDir`` that is a local copy of the seasons kept in the MLflow store."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings.data_dir)
        self.settings = settings

    @cached_property
    def _client(self) -> MlflowClient:
        return tracking_client(self.settings)

    @cached_property
    def _experiment_id(self) -> str:
        """The seasons' experiment, refused before any run if its artifacts are not shared."""
        name = self.settings.mlflow_seasons_experiment
        found = experiment_id(self._client, self.settings, name)
        location = self._client.get_experiment(found).artifact_location
        if urlparse(location).scheme in _ONE_HOST_SCHEMES:
            raise ArtifactsNotSharedError(
                f"the MLflow experiment {name} keeps its artifacts at {location}, a path that "
                "each host would read and write on its own disk: start the MLflow server with "
                "--serve-artifacts (the multi-host compose file does) and set a new "
                "MLFLOW_SEASONS_EXPERIMENT"
            )
        return found

    # --- reading --------------------------------------------------------------------------------

    def sync(self, seasons: Iterable[Season] | None = None) -> MlflowDataDir:
        """Bring the local copy of ``seasons`` (default: all, and drop local seasons the store
        does not have) up to the store's newest version of each."""
        wanted = None if seasons is None else sorted(set(seasons))
        with answering(self.settings, "read the seasons from"):
            latest = self._latest(wanted)
        for season, run in sorted(latest.items()):
            if not self._local_matches(season, run):
                with answering(self.settings, f"download {season} from"):
                    self._install(run)
        if wanted is None:
            for season in set(self.cleaned_seasons()) - set(latest):
                log.warning("%s is in %s but not in the MLflow store: removed", season, self.root)
                self._remove_local(season)
        return self

    def has_seasons(self) -> bool:
        with answering(self.settings, "read the seasons from"):
            return bool(self._client.search_runs([self._experiment_id], _STORED, max_results=1))

    def _latest(self, wanted: list[Season] | None) -> dict[Season, Run]:
        """The newest finished run of each season (of ``wanted``, else every season)."""
        query = _STORED
        if wanted is not None and len(wanted) == 1:
            query += f" and tags.{TAG_SEASON} = '{wanted[0]}'"
        latest: dict[Season, Run] = {}
        token = None
        while True:
            page = self._client.search_runs(
                [self._experiment_id],
                filter_string=query,
                order_by=["attributes.start_time DESC"],
                max_results=_SEARCH_PAGE,
                page_token=token,
            )
            for run in page:
                try:
                    season = Season.parse(run.data.tags.get(TAG_SEASON, ""))
                except InvalidSeasonError:
                    continue  # not a run this code wrote
                if (wanted is None or season in wanted) and season not in latest:
                    latest[season] = run
            token = page.token
            if not token or (wanted is not None and len(latest) == len(wanted)):
                return latest

    def _local_matches(self, season: Season, run: Run) -> bool:
        tags = run.data.tags
        return sha256_of(self.cleaned(season)) == tags.get(TAG_CLEANED_SHA256) and sha256_of(
            self.fetch_record(season)
        ) == tags.get(TAG_RECORD_SHA256)

    def _install(self, run: Run) -> None:
        """Download one season's run and replace the local copy with it, fetch record last."""
        tags, artifact_uri = run.data.tags, run.info.artifact_uri
        season = Season.parse(tags[TAG_SEASON])
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.root, prefix=".download-") as tmp:
            self._client.download_artifacts(run.info.run_id, "", dst_path=tmp)
            got = DataDir(Path(tmp))
            for path, tag in ((got.cleaned(season), TAG_CLEANED_SHA256),
                              (got.fetch_record(season), TAG_RECORD_SHA256)):  # fmt: skip
                if sha256_of(path) != tags.get(tag):
                    raise DamagedFileError.at(
                        Path(f"{artifact_uri}/{path.relative_to(tmp)}"),
                        "damaged (its hash differs from the one the run recorded)",
                        f"refresh {season} again (`nba-archetypes refresh {season} --force`)",
                    )
            stamp = run.info.start_time / 1000
            raw = got.fetch_record(season).parent
            for body in sorted(raw.glob("*.json")):
                if body.name != "fetch.json":
                    self._place(body, self.root / "raw" / str(season) / body.name, stamp)
            self._place(got.cleaned(season), self.cleaned(season), stamp)
            self._place(got.fetch_record(season), self.fetch_record(season), stamp)
        log.info("%s: local copy updated from the MLflow store (run %s)", season, run.info.run_id)

    @staticmethod
    def _place(source: Path, target: Path, stamp: float) -> None:
        with atomic_output(target) as tmp:
            shutil.copyfile(source, tmp)
            os.utime(tmp, (stamp, stamp))

    def _remove_local(self, season: Season) -> None:
        self.cleaned(season).unlink(missing_ok=True)
        shutil.rmtree(self.fetch_record(season).parent, ignore_errors=True)

    # --- writing --------------------------------------------------------------------------------

    def write_fetch_record(self, record: FetchRecord) -> None:
        super().write_fetch_record(record)
        kept = "; the store keeps its previous version of the season"
        with answering(self.settings, f"store {record.season} in", kept):
            self._publish(record)

    def _publish(self, record: FetchRecord) -> None:
        """One finished run holding the season's local files (its raw responses, cleaned table
        and fetch record). A failure leaves the run FAILED, which no reader takes."""
        season = record.season
        label = str(season)
        tags = {
            TAG_KIND: KIND_SEASON,
            TAG_SEASON: label,
            TAG_CLEANED_SHA256: sha256_of(self.cleaned(season)) or "",
            TAG_RECORD_SHA256: sha256_of(self.fetch_record(season)) or "",
            TAG_FETCHED_AT: record.fetched_at.isoformat() if record.fetched_at else "",
        }
        client = self._client
        run = client.create_run(self._experiment_id, tags=tags, run_name=f"season {label}")
        run_id = run.info.run_id
        try:
            for raw in sorted(self.fetch_record(season).parent.glob("*.json")):
                client.log_artifact(run_id, str(raw), artifact_path=f"raw/{label}")
            client.log_artifact(run_id, str(self.cleaned(season)), artifact_path="cleaned")
        except BaseException:
            client.set_terminated(run_id, status="FAILED")
            raise
        client.set_terminated(run_id)
        log.info("%s: stored in the MLflow store (run %s)", season, run_id)
