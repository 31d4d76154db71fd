"""Where seasons live, decided by one setting (``DATA_STORE``) in one place: :func:`open_data`.

``volume`` (one host, the default): ``DATA_DIR`` is shared by every service; a plain
:class:`~common.storage.DataDir`, read and written in place.

``mlflow`` (several hosts): the MLflow store holds the seasons, so services share nothing but
Redis and the MLflow server. Every stored season is one run of ``MLFLOW_SEASONS_EXPERIMENT``
whose artifacts are laid out as in ``DATA_DIR`` (``raw/<season>/*.json``,
``cleaned/<season>.parquet``), tagged with the season, the hashes of its cleaned table and
fetch record, and its fetch time. Each process keeps its own copy in ``DATA_DIR``:

* :meth:`MlflowDataDir.sync` brings that copy up to date before reading: the newest finished
  run of each season, downloaded only when its hashes differ from the local files (so it costs
  one search when nothing changed), installed atomically with the fetch record last, its files
  dated at the run's start (what "stored since" and the app's caches compare);
* writing a season's fetch record, the last write of every stored season (fetch, seed,
  re-clean, rebuild), publishes the season: one run, finished only once every artifact is
  uploaded, so a reader sees the old version or the new one, never half of one.

Everything else reads and writes the local copy through the ``DataDir`` API, unchanged.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path

from common.failures import DamagedFileError, StoreUnavailableError
from common.fetch_record import FetchRecord
from common.mlflow_rest import MlflowRestClient, StoredRun
from common.mlflow_store import answering
from common.seasons import InvalidSeasonError, Season
from common.settings import Settings
from common.storage import DataDir, atomic_output, sha256_of

log = logging.getLogger(__name__)

__all__ = ["MlflowDataDir", "StoreUnavailableError", "open_data"]

TAG_KIND = "kind"
KIND_SEASON = "season"
TAG_SEASON = "season"
TAG_CLEANED_SHA256 = "cleaned_sha256"  # the data hash: sha256 of cleaned/<season>.parquet
TAG_RECORD_SHA256 = "record_sha256"  # sha256 of raw/<season>/fetch.json
TAG_FETCHED_AT = "fetched_at"  # when the raw responses were downloaded (ISO 8601, UTC)
_SEARCH_PAGE = 500
# A season's runs that count: finished ones (a failed upload leaves its run FAILED).
_STORED = f"tags.{TAG_KIND} = '{KIND_SEASON}' and attributes.status = 'FINISHED'"


def open_data(settings: Settings) -> DataDir:
    """The seasons, wherever ``DATA_STORE`` says they live. Call ``.sync()`` before reading."""
    if settings.data_store == "mlflow":
        return MlflowDataDir(settings)
    return DataDir(settings.data_dir)


class MlflowDataDir(DataDir):
    """A ``DataDir`` that is a local copy of the seasons kept in the MLflow store."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings.data_dir)
        self.settings = settings

    @cached_property
    def _client(self) -> MlflowRestClient:
        return MlflowRestClient(self.settings.tracking_uri)

    @cached_property
    def _experiment_id(self) -> str:
        return self._client.experiment_id(self.settings.mlflow_seasons_experiment)

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
            runs, _ = self._client.search_runs(self._experiment_id, _STORED, [], max_results=1)
            return bool(runs)

    def _latest(self, wanted: list[Season] | None) -> dict[Season, StoredRun]:
        """The newest finished run of each season (of ``wanted``, else every season)."""
        query = _STORED
        if wanted is not None and len(wanted) == 1:
            query += f" and tags.{TAG_SEASON} = '{wanted[0]}'"
        latest: dict[Season, StoredRun] = {}
        token = None
        while True:
            page, token = self._client.search_runs(
                self._experiment_id,
                query,
                order_by=["attributes.start_time DESC"],
                max_results=_SEARCH_PAGE,
                page_token=token,
            )
            for run in page:
                try:
                    season = Season.parse(run.tags.get(TAG_SEASON, ""))
                except InvalidSeasonError:
                    continue  # not a run this code wrote
                if (wanted is None or season in wanted) and season not in latest:
                    latest[season] = run
            if not token or (wanted is not None and len(latest) == len(wanted)):
                return latest

    def _local_matches(self, season: Season, run: StoredRun) -> bool:
        tags = run.tags
        return sha256_of(self.cleaned(season)) == tags.get(TAG_CLEANED_SHA256) and sha256_of(
            self.fetch_record(season)
        ) == tags.get(TAG_RECORD_SHA256)

    def _install(self, run: StoredRun) -> None:
        """Download one season's run and replace the local copy with it, fetch record last."""
        season = Season.parse(run.tags[TAG_SEASON])
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.root, prefix=".download-") as tmp:
            self._client.download_all(run, Path(tmp))
            got = DataDir(Path(tmp))
            for path, tag in ((got.cleaned(season), TAG_CLEANED_SHA256),
                              (got.fetch_record(season), TAG_RECORD_SHA256)):  # fmt: skip
                if sha256_of(path) != run.tags.get(tag):
                    raise DamagedFileError.at(
                        Path(f"{run.artifact_uri}/{path.relative_to(tmp)}"),
                        "damaged (its hash differs from the one the run recorded)",
                        f"refresh {season} again (`nba-archetypes refresh {season} --force`)",
                    )
            stamp = run.start_time_ms / 1000
            raw = got.fetch_record(season).parent
            for body in sorted(raw.glob("*.json")):
                if body.name != "fetch.json":
                    self._place(body, self.root / "raw" / str(season) / body.name, stamp)
            self._place(got.cleaned(season), self.cleaned(season), stamp)
            self._place(got.fetch_record(season), self.fetch_record(season), stamp)
        log.info("%s: local copy updated from the MLflow store (run %s)", season, run.run_id)

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
        run = client.create_run(self._experiment_id, tags, run_name=f"season {label}")
        try:
            for raw in sorted(self.fetch_record(season).parent.glob("*.json")):
                client.upload(run, raw, f"raw/{label}")
            client.upload(run, self.cleaned(season), "cleaned")
        except BaseException:
            client.end_run(run.run_id, status="FAILED")
            raise
        client.end_run(run.run_id)
        log.info("%s: stored in the MLflow store (run %s)", season, run.run_id)
