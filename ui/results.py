"""What the app shows, read through MLflow and the data directory, cached per version.

The champion is found through the registry alias on every rerun (a cheap query, cached for a
few seconds) so a new champion appears without a restart; everything heavy is cached under the
champion's version, so nothing is re-read while it stays the same.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from common.champion import KIND_TRAINING, TAG_KIND, TAG_SEASONS, Champion, find_champion
from common.champion_results import ChampionResults, load_champion_results
from common.failures import DamagedFileError, split_error
from common.mlflow_store import answering, tracking_client
from common.players import Players
from common.season_report import (
    SEASON_REPORT_ARTIFACT,
    TAG_NEW_SEASONS,
    SeasonReport,
    read_season_reports,
)
from common.season_store import open_data, stored_seasons
from common.seasons import Season
from common.settings import Settings, get_settings
from common.storage import DataDir

if TYPE_CHECKING:
    from mlflow import MlflowClient


@st.cache_resource(show_spinner=False)
def _client(tracking_uri: str) -> MlflowClient:
    del tracking_uri  # the cache key: another store (a test's, a changed setting), another client
    return tracking_client(get_settings())


def settings() -> Settings:
    return get_settings()


def _store_exists(s: Settings) -> bool:
    # The UI never creates the store: on a fresh volume that is the train worker's job.
    return s.store_file is None or s.store_file.exists()


@st.cache_data(ttl=3, show_spinner=False)
def current_champion() -> Champion | None:
    """The alias lookup, refreshed every few seconds so a new champion shows up on its own."""
    s = settings()
    if not _store_exists(s):
        return None
    with answering(s, "read the champion from"):
        return find_champion(s)


@st.cache_resource(max_entries=2, show_spinner="Loading the champion's archetypes…")
def champion_results(version: str, run_id: str, _champion: Champion) -> ChampionResults:
    """Artifacts of one champion version; cached as a resource (not copied on every rerun).

    Keyed on version and run; ``_champion`` (not hashed) is that same version, passed in
    rather than looked up again, which could find a newer one promoted in between."""
    del version, run_id  # the cache key only
    with answering(settings(), "read the champion's archetypes from"):
        return load_champion_results(settings(), _champion)


def load_champion() -> ChampionResults | None:
    champion = current_champion()
    if champion is None:
        return None
    return champion_results(champion.version, champion.run_id, champion)


@st.cache_data(ttl=10, show_spinner=False)
def recent_trainings(limit: int = 10) -> pd.DataFrame:
    s = settings()
    if not _store_exists(s):
        return pd.DataFrame()
    client = _client(s.tracking_uri)
    with answering(s, "read the trainings from"):
        experiment = client.get_experiment_by_name(s.mlflow_experiment)
        if experiment is None:
            return pd.DataFrame()
        runs = client.search_runs(
            [experiment.experiment_id],
            filter_string=f"tags.{TAG_KIND} = '{KIND_TRAINING}'",
            order_by=["attributes.start_time DESC"],
            max_results=limit,
        )
    rows = []
    for run in runs:
        seasons = run.data.tags.get(TAG_SEASONS, "").split(",")
        rows.append(
            {
                "started": pd.Timestamp(run.info.start_time, unit="ms"),  # UTC, naive
                "status": run.info.status,
                "seasons": f"{seasons[0]} … {seasons[-1]} ({len(seasons)})"
                if len(seasons) > 1
                else seasons[0],
                "winner": run.data.params.get("winner"),
                "archetypes": run.data.metrics.get("n_clusters"),
                "stability": run.data.metrics.get("min_jaccard"),
                "seed agreement": run.data.metrics.get("seed_ari"),
                "model version": run.data.tags.get("model_version"),
                "promoted": run.data.tags.get("promoted") == "true",
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class LoggedReports:
    """The new-season reports of one run, and the model version they describe."""

    version: str
    started: pd.Timestamp
    reports: list[SeasonReport]


@st.cache_data(ttl=10, show_spinner=False)
def latest_season_reports(champion_run_id: str | None) -> LoggedReports | None:
    """The new-season reports the app shows: the champion's, if its run has them (a training
    that adds a season logs them twice: on the champion republished, then on the search's
    winner), else those of the latest run that has them. Cached per champion: a new one shows
    its own at once."""
    s = settings()
    if not _store_exists(s):
        return None
    client = _client(s.tracking_uri)
    with answering(s, "read the new-season reports from"):
        experiment = client.get_experiment_by_name(s.mlflow_experiment)
        if experiment is None:
            return None
        runs = client.search_runs(
            [experiment.experiment_id],
            filter_string=f"tags.{TAG_NEW_SEASONS} LIKE '%'",
            order_by=["attributes.start_time DESC"],
            max_results=5,
        )
        if not runs:
            return None
        run = next((r for r in runs if r.info.run_id == champion_run_id), runs[0])
        versions = client.search_model_versions(f"run_id = '{run.info.run_id}'")
        with tempfile.TemporaryDirectory() as tmp:
            path = client.download_artifacts(run.info.run_id, SEASON_REPORT_ARTIFACT, tmp)
            reports = read_season_reports(Path(path))
    return LoggedReports(
        version=str(versions[0].version) if versions else "?",
        started=pd.Timestamp(run.info.start_time, unit="ms"),
        reports=reports,
    )


@st.cache_data(ttl=10, show_spinner=False)
def _synced_at() -> float:
    """Bring this process's copy of the seasons up to date (a no-op when the data directory
    is the store, ``DATA_STORE=volume``); at most every few seconds."""
    open_data(settings()).sync()
    return time.time()


def data_dir() -> DataDir:
    _synced_at()
    return open_data(settings())


@st.cache_data(ttl=10, show_spinner=False)
def seasons_stored() -> list[str]:
    """Every stored season, without copying any (a directory listing, or one run search of
    the MLflow server), at most every few seconds."""
    return [str(season) for season in stored_seasons(settings())]


def seasons_changed() -> None:
    """A refresh ended: the next run lists the seasons, and copies them, afresh."""
    seasons_stored.clear()
    _synced_at.clear()


def downloaded_seasons() -> list[Season]:
    return data_dir().cleaned_seasons()


# Keyed by file version: bounded, or every daily refresh of a season would keep its old table.
@st.cache_data(show_spinner=False, max_entries=64)
def _read_cleaned(label: str, mtime_ns: int) -> pd.DataFrame:
    del mtime_ns  # cache key: a re-fetched season has a new file
    return data_dir().read_cleaned(Season.parse(label))


def cleaned_season(season: Season) -> pd.DataFrame:
    """One season's cleaned table; a damaged file raises ``DamagedFileError`` naming it."""
    return _read_cleaned(str(season), data_dir().cleaned(season).stat().st_mtime_ns)


@st.cache_data(show_spinner=False, max_entries=2)  # the directory now, and the one before
def _players(stamps: tuple[tuple[str, int], ...]) -> Players:
    tables = []
    for label, _ in stamps:  # the mtimes are the cache key: a re-fetched season is read again
        try:
            tables.append(
                data_dir().read_cleaned(Season.parse(label), ["PLAYER_ID", "PLAYER_NAME", "SEASON"])
            )
        except DamagedFileError:
            continue  # said where that season is shown; the others still name their players
    if not tables:
        return Players({}, {}, {})
    return Players.of(pd.concat(tables, ignore_index=True))


def players() -> Players:
    """Every stored player by id over all cleaned seasons: his latest name, all his names."""
    data = data_dir()
    stamps = []
    for season in data.cleaned_seasons():
        try:
            stamps.append((str(season), data.cleaned(season).stat().st_mtime_ns))
        except FileNotFoundError:
            continue  # removed since listed
    return _players(tuple(stamps))


def fetch_summary() -> pd.DataFrame:
    """Per downloaded season: when it was fetched, from where, rows and eligible players."""
    rows = []
    for season in downloaded_seasons():
        try:
            record, problem = data_dir().read_fetch_record(season), ""
        except DamagedFileError as error:
            record, problem = None, split_error(str(error))[0]
        cleaned = record.cleaned if record else None
        regular = record.regular if record else None
        rows.append(
            {
                "season": str(season),
                "fetched": _utc_naive(record.fetched_at if record else None),
                "complete": bool(record and record.complete),
                "players": cleaned.rows if cleaned else None,
                "eligible": cleaned.eligible if cleaned else None,
                "with playoffs": cleaned.playoff_players if cleaned else None,
                "source": problem or (regular.source_without_query if regular else ""),
            }
        )
    return pd.DataFrame(rows)


def _utc_naive(moment: datetime | None) -> pd.Timestamp | None:
    """UTC without a time zone: the tables say "(UTC)", and tz-aware columns make Streamlit's
    serialization go through a pandas path deprecated in pandas 3.1."""
    if moment is None:
        return None
    stamp = pd.Timestamp(moment)
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp
