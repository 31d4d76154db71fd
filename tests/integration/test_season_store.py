"""Seasons kept in MLflow (``DATA_STORE=mlflow``, the multi-host profile), with a real MLflow
tracking server serving artifacts over HTTP: every process has its own scratch data directory
and they share nothing but the server (and Redis, for the workers).

Each test uses experiments and a model name of its own on the one server of this module."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient
from pydantic import ValidationError

from common.champion import CHAMPION_ALIAS, find_champion
from common.champion_results import load_champion_results
from common.failures import DamagedFileError, split_error
from common.queueing import request_refresh
from common.season_store import (
    ArtifactsNotSharedError,
    MlflowDataDir,
    StoreUnavailableError,
    open_data,
    stored_seasons,
)
from common.seasons import Season
from common.settings import Settings
from common.storage import DataDir
from common.task_status import task_status
from devkit.services import (
    RECORDINGS,
    MlflowServer,
    celery_workers,
    own_mlflow_names,
    wait_until,
    worker_env,
)
from replay.server import received_requests
from tests.services import assert_one_throttle, assert_registry_reader_agrees
from workers.fetch.rebuild import rebuild_season
from workers.fetch.recordings import seed_from_recordings

pytestmark = pytest.mark.timeout(600)

SEASONS = [Season.parse(s) for s in ("2016-17", "2017-18")]


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    server = MlflowServer(tmp_path_factory.mktemp("mlflow-logs"))
    yield server
    server.stop()


@pytest.fixture
def names() -> dict[str, str]:
    """Experiments and model of one test, so tests on the shared server never see each other."""
    return own_mlflow_names()


def _settings(scratch: Path, server_url: str, names: dict[str, str]) -> Settings:
    return Settings(
        data_dir=scratch,
        tracking_server_url=server_url,
        data_store="mlflow",
        **{k.lower(): v for k, v in names.items()},
    )


def _stored_files(root: Path, season: Season) -> dict[str, bytes]:
    """Every file of ``season`` under a data directory, by path relative to it."""
    paths = [
        root / "cleaned" / f"{season}.parquet",
        *sorted((root / "raw" / str(season)).glob("*")),
    ]
    return {str(p.relative_to(root)): p.read_bytes() for p in paths}


def _recordings(settings: Settings, seasons: list[Season]) -> Path:
    """A folder of the bundled recordings of ``seasons``."""
    folder = settings.data_dir.parent / "recordings"
    folder.mkdir(exist_ok=True)
    for season in seasons:
        for path in RECORDINGS.glob(f"*_{season}_*"):
            shutil.copy(path, folder / path.name)
    return folder


def _seed(settings: Settings, seasons: list[Season]) -> None:
    """Store ``seasons`` from the bundled recordings, through the store (the seed task's path)."""
    seed_from_recordings(_recordings(settings, seasons), open_data(settings).sync(), settings)


def _recleaned(settings: Settings, season: Season) -> None:
    """Another version of ``season``, stored through the store: re-cleaned from its raw
    responses with a stricter eligibility, so the table and the fetch record differ (a
    re-clean with the same settings in the same second writes the very same bytes)."""
    stricter = settings.model_copy(update={"eligible_min_games": settings.eligible_min_games + 20})
    writer = open_data(stricter).sync()
    before = writer.read_fetch_record(season)
    rebuild_season(season, writer, stricter)
    assert writer.read_fetch_record(season).cleaned.eligible < before.cleaned.eligible


def test_open_data_follows_the_setting(tmp_path: Path) -> None:
    volume = open_data(Settings(data_dir=tmp_path))
    assert type(volume) is DataDir
    assert volume.sync() is volume  # the directory is the store: nothing to bring over
    store = open_data(
        Settings(data_dir=tmp_path, data_store="mlflow", tracking_server_url="http://mlflow:5000")
    )
    assert isinstance(store, MlflowDataDir)
    with pytest.raises(ValidationError, match=r"DATA_STORE=mlflow .* set TRACKING_SERVER_URL"):
        Settings(data_dir=tmp_path, data_store="mlflow", tracking_server_url="")


def test_a_worker_start_imports_no_mlflow(tmp_path: Path) -> None:
    """MLflow takes seconds to import: the fetch worker's modules, the CLI and the season store
    (opened in either profile) load none of it; the MLflow-backed store imports it at its first
    call to the server."""
    code = (
        "import sys, common.season_store, cli.main, workers.fetch.tasks\n"
        "from pathlib import Path\n"
        "from common.settings import Settings\n"
        "scratch = Path(sys.argv[1])\n"
        "common.season_store.open_data(Settings(data_dir=scratch)).sync()\n"
        "store = common.season_store.open_data(Settings(data_dir=scratch, data_store='mlflow',\n"
        "    tracking_server_url='http://127.0.0.1:9'))\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'mlflow')\n"
        "assert not loaded, loaded\n"
        "store._client\n"
        "assert 'mlflow' in sys.modules\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], check=False, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr


def test_a_stored_season_reaches_another_process_copy(
    tmp_path: Path, mlflow_server: MlflowServer, names: dict[str, str]
) -> None:
    writer = _settings(tmp_path / "fetch-a", mlflow_server.url, names)
    app = _settings(tmp_path / "app", mlflow_server.url, names)
    reader = open_data(app)
    assert not reader.has_seasons()  # what a fetch worker asks before seeding the store
    assert stored_seasons(app) == []
    before = time.time()
    _seed(writer, SEASONS)
    after = time.time()

    assert reader.has_seasons()  # asked of the store: the local copy is still empty
    # What `nba-archetypes status` lists: the store's seasons, none of them copied.
    assert stored_seasons(app) == SEASONS
    assert reader.cleaned_seasons() == []
    reader.sync()
    assert reader.cleaned_seasons() == SEASONS
    for season in SEASONS:
        assert _stored_files(reader.root, season) == _stored_files(writer.data_dir, season)
        # Dated when it was stored, not when this copy was made ("stored since" compares it).
        assert before - 1 <= reader.cleaned(season).stat().st_mtime <= after + 1
    assert reader.read_fetch_record(SEASONS[0]).regular.rows > 400


def test_a_newer_version_replaces_the_copy_and_an_unchanged_one_is_not_downloaded(
    tmp_path: Path, mlflow_server: MlflowServer, names: dict[str, str]
) -> None:
    writer_settings = _settings(tmp_path / "fetch-a", mlflow_server.url, names)
    _seed(writer_settings, SEASONS)
    reader = open_data(_settings(tmp_path / "train-b", mlflow_server.url, names)).sync()
    first_copy = reader.cleaned(SEASONS[0]).stat()

    reader.sync()  # nothing changed in the store: the copy is left as it is
    assert reader.cleaned(SEASONS[0]).stat().st_ino == first_copy.st_ino

    # Another fetch worker stores a new version of the season: the copy follows.
    _recleaned(writer_settings, SEASONS[0])
    reader.sync([SEASONS[0]])
    writer = writer_settings.data_dir
    assert _stored_files(reader.root, SEASONS[0]) == _stored_files(writer, SEASONS[0])
    assert reader.cleaned(SEASONS[0]).stat().st_ino != first_copy.st_ino


def test_a_season_the_store_does_not_have_is_dropped_from_the_copy(
    tmp_path: Path, mlflow_server: MlflowServer, names: dict[str, str]
) -> None:
    writer = _settings(tmp_path / "fetch-a", mlflow_server.url, names)
    _seed(writer, SEASONS[:1])
    reader = open_data(_settings(tmp_path / "app", mlflow_server.url, names))
    # A season written here and never stored (its worker died before publishing it).
    stray = SEASONS[1]
    reader.cleaned(stray).parent.mkdir(parents=True)
    shutil.copy(writer.data_dir / "cleaned" / f"{SEASONS[0]}.parquet", reader.cleaned(stray))
    reader.fetch_record(stray).parent.mkdir(parents=True)
    reader.fetch_record(stray).write_text("{}")

    assert reader.sync().cleaned_seasons() == SEASONS[:1]
    assert not reader.fetch_record(stray).parent.exists()


def test_a_damaged_artifact_is_named_and_the_copy_kept(
    tmp_path: Path, mlflow_server: MlflowServer, names: dict[str, str]
) -> None:
    writer_settings = _settings(tmp_path / "fetch-a", mlflow_server.url, names)
    _seed(writer_settings, SEASONS[:1])
    reader = open_data(_settings(tmp_path / "app", mlflow_server.url, names)).sync()
    kept = _stored_files(reader.root, SEASONS[0])

    _recleaned(writer_settings, SEASONS[0])  # a newer version, then damaged
    experiment = MlflowClient(mlflow_server.url).get_experiment_by_name(
        names["MLFLOW_SEASONS_EXPERIMENT"]
    )
    stored = mlflow_server.dir / "artifacts" / experiment.experiment_id
    (newest,) = sorted(
        stored.rglob(f"cleaned/{SEASONS[0]}.parquet"), key=lambda p: p.stat().st_mtime
    )[-1:]
    newest.write_bytes(newest.read_bytes()[:1000])

    with pytest.raises(DamagedFileError) as raised:
        reader.sync()
    first_line = str(raised.value).splitlines()[0]
    assert f"cleaned/{SEASONS[0]}.parquet is damaged" in first_line
    assert f"nba-archetypes refresh {SEASONS[0]} --force" in first_line
    assert _stored_files(reader.root, SEASONS[0]) == kept


def test_a_failed_upload_leaves_its_run_failed_and_the_previous_version_stored(
    tmp_path: Path, mlflow_server: MlflowServer, names: dict[str, str], monkeypatch: Any
) -> None:
    # One quick retry: ending the run as FAILED may meet the connection the upload left reset.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    writer = _settings(tmp_path / "fetch-a", mlflow_server.url, names)
    _seed(writer, SEASONS[:1])
    kept = _stored_files(writer.data_dir, SEASONS[0])
    client = MlflowClient(mlflow_server.url)
    experiment = client.get_experiment_by_name(names["MLFLOW_SEASONS_EXPERIMENT"]).experiment_id

    # The server cannot write this experiment's artifacts (a file where its folder was): it
    # answers the upload of the next version with an error (500), or drops the connection.
    stored = mlflow_server.dir / "artifacts" / experiment
    aside = stored.with_name(f"{experiment}.aside")
    stored.rename(aside)
    stored.write_text("not a folder")
    try:
        with pytest.raises(StoreUnavailableError) as raised:
            _recleaned(writer, SEASONS[0])
    finally:
        stored.unlink()
        aside.rename(stored)
    first, *details = str(raised.value).splitlines()
    assert first.startswith(f"could not store {SEASONS[0]} in the MLflow store at ")
    assert first.endswith("; the store keeps its previous version of the season")
    assert details  # the client's own error, below

    runs = client.search_runs([experiment], order_by=["attributes.start_time DESC"])
    assert [run.info.status for run in runs] == ["FAILED", "FINISHED"]
    reader = open_data(_settings(tmp_path / "app", mlflow_server.url, names)).sync()
    assert _stored_files(reader.root, SEASONS[0]) == kept


def test_an_unreachable_store_is_one_line_and_changes_nothing(
    tmp_path: Path, mlflow_server: MlflowServer, names: dict[str, str], monkeypatch: Any
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    good = _settings(tmp_path / "app", mlflow_server.url, names)
    _seed(good, SEASONS[:1])
    kept = _stored_files(good.data_dir, SEASONS[0])

    down = open_data(_settings(tmp_path / "app", "http://127.0.0.1:9", names))
    with pytest.raises(StoreUnavailableError) as raised:
        down.sync()
    first, *details = str(raised.value).splitlines()
    assert first.startswith(
        "could not read the seasons from the MLflow store at http://127.0.0.1:9"
    )
    assert "check that the MLflow server answers (TRACKING_SERVER_URL)" in first
    assert details  # the client's own error, below
    assert _stored_files(down.root, SEASONS[0]) == kept


def test_a_server_that_does_not_serve_artifacts_is_named_and_nothing_is_stored(
    tmp_path: Path, mlflow_server: MlflowServer, names: dict[str, str]
) -> None:
    """Seasons whose experiment keeps artifacts at a path (a server without --serve-artifacts):
    MLflow's client would write and read them on each host's own disk, so every host would
    hold different seasons. Writers and readers refuse it, saying what to change, before any
    run is created."""
    settings = _settings(tmp_path / "fetch", mlflow_server.url, names)
    client = MlflowClient(mlflow_server.url)
    experiment = client.create_experiment(
        settings.mlflow_seasons_experiment, artifact_location=(tmp_path / "server-only").as_uri()
    )
    writer = open_data(settings)  # not synced first: the write itself refuses
    with pytest.raises(ArtifactsNotSharedError) as raised:
        seed_from_recordings(_recordings(settings, SEASONS[:1]), writer, settings)
    headline, _ = split_error(f"{type(raised.value).__name__}: {raised.value}")
    assert headline.startswith(f"the MLflow experiment {settings.mlflow_seasons_experiment} ")
    assert "start the MLflow server with --serve-artifacts" in headline

    assert client.search_runs([experiment]) == []
    assert not (tmp_path / "server-only").exists()
    reader = open_data(_settings(tmp_path / "app", mlflow_server.url, names))
    with pytest.raises(ArtifactsNotSharedError):
        reader.sync()
    assert reader.cleaned_seasons() == []


def _wait_done(task_id: str, timeout_s: float = 240) -> dict[str, Any]:
    def poll() -> dict[str, Any] | bool:
        status = task_status(task_id)
        return status.state in {"SUCCESS", "FAILURE"} and status

    return wait_until(poll, f"task {task_id}", timeout_s=timeout_s, interval_s=0.2)


def test_two_of_each_worker_share_only_redis_and_the_mlflow_server(
    tmp_path: Path, mlflow_server: MlflowServer, names: dict[str, str], replay: str
) -> None:
    """The scaled multi-host run, in processes: two fetch and two train workers, each with a
    scratch directory of its own; a burst of refreshes is fetched once per season, at the
    politeness gap across both fetch workers, spread over both, and trained once."""
    gap = 0.4
    env = worker_env(tmp_path / "unused", replay) | names
    env |= {"TRACKING_SERVER_URL": mlflow_server.url, "DATA_STORE": "mlflow"}
    env["NBA_MIN_REQUEST_GAP_S"] = str(gap)
    workers = [
        (f"workers.{kind}.tasks", kind, {"DATA_DIR": str(tmp_path / f"{kind}-{i}")})
        for kind in ("fetch", "train")
        for i in (1, 2)
    ]
    logs = tmp_path / "logs"
    logs.mkdir()
    seasons = ["2014-15", "2015-16", "2016-17", "2017-18", "2018-19", "2019-20"]
    with celery_workers(workers, env, logs):
        tickets = [request_refresh(s) for s in seasons]  # published together, as a backfill
        fetches = [_wait_done(t.task_id) for t in tickets]
        assert [(f.state, f.info["status"]) for f in fetches] == [("SUCCESS", "updated")] * len(
            seasons
        ), fetches
        (training_id,) = {f.info["training_task_id"] for f in fetches}
        training = _wait_done(training_id, timeout_s=420)
        assert training.info["status"] == "promoted", training

    # One download per season and segment, however many workers.
    requests = [r for r in received_requests(replay) if r["status"] == 200]
    asked = [
        (r["params"]["Season"], r["params"]["SeasonType"], r["params"]["PerMode"]) for r in requests
    ]
    assert len(asked) == len(set(asked)), asked
    assert {season for season, _, _ in asked} == set(seasons)
    # The politeness gap holds across both workers (the shared throttle in Redis).
    assert_one_throttle([r["time"] for r in requests], gap)
    # The backfill was spread: each fetch worker stored some of it.
    stored = [
        (logs / f"fetch-{i}.log").read_text().count("stored in the MLflow store") for i in (0, 1)
    ]
    assert all(stored), stored
    assert sum(stored) == len(seasons), stored

    # Another process, with only the server's address and a scratch of its own (the app):
    # the seasons and the champion, one model version for the one training.
    app = _settings(tmp_path / "app", mlflow_server.url, names)
    assert [str(s) for s in open_data(app).sync().cleaned_seasons()] == seasons
    champion = find_champion(app)
    assert champion is not None
    assert champion.seasons == seasons
    assert_registry_reader_agrees(app, (CHAMPION_ALIAS,))  # the REST reader, as MLflow reads
    assert champion.version == training.info["model_version"] == "1"
    results = load_champion_results(app, champion)
    assert set(results.assignments["SEASON"].astype(str)) == set(seasons)
    assert json.dumps(results.profiles)  # the profiles came over HTTP intact
