"""The whole pipeline with real parts: Redis, Celery worker processes, the replay server
speaking for stats.nba.com, and an MLflow store in a temporary data directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from common.celery_app import REFRESH_CURRENT_SEASON, TRAIN_ARCHETYPES, app
from common.champion import find_champion
from common.queueing import request_refresh
from common.redis_client import redis_client
from common.settings import Settings
from common.task_status import task_status
from devkit.services import PROJECT_ROOT, celery_workers, wait_until, worker_env
from replay.server import inject_faults, received_requests


def _wait_done(
    task_id: str, timeout_s: float = 180, seen: set[str] | None = None
) -> dict[str, Any]:
    """Poll a task like the UI does until it ends; ``seen`` collects the states observed."""

    def poll() -> dict[str, Any] | bool:
        status = task_status(task_id)
        if seen is not None:
            seen.add(status.state)
        return status.state in {"SUCCESS", "FAILURE"} and status

    return wait_until(poll, f"task {task_id}", timeout_s=timeout_s, interval_s=0.1)


@pytest.fixture
def stack(tmp_path: Path, replay: str) -> Iterator[dict[str, str]]:
    """Both workers on a fresh data directory, fetching from the replay server."""
    env = worker_env(tmp_path / "data", replay)
    logs = tmp_path / "logs"
    logs.mkdir()
    with celery_workers(
        {"workers.fetch.tasks": "fetch", "workers.train.tasks": "train"}, env, logs
    ):
        yield env


def test_refresh_to_champion_then_loaded_by_another_process(
    stack: dict[str, str], replay: str
) -> None:
    ticket = request_refresh("2018-19")
    fetch = _wait_done(ticket.task_id)
    assert fetch.state == "SUCCESS", fetch
    assert fetch.info["rows"] == 530
    training_id = fetch.info["training_task_id"]
    assert training_id
    # A lone refresh trains at once: no debounce wait (it was 15 s).
    fetched_at = time.monotonic()
    wait_until(lambda: task_status(training_id).state != "PENDING", "training to start")
    assert time.monotonic() - fetched_at < 5

    states: set[str] = set()
    training = _wait_done(training_id, timeout_s=300, seen=states)
    assert training.state == "SUCCESS", training
    assert "PROGRESS" in states  # what the UI's progress bar follows
    assert training.info["status"] == "promoted"
    assert training.info["n_archetypes"] >= 5

    settings = Settings(data_dir=Path(stack["DATA_DIR"]))
    champion = find_champion(settings)
    assert champion is not None
    assert champion.version == training.info["model_version"]
    assert champion.seasons == ["2018-19"]

    # A separate process, knowing only the data directory, loads the champion through MLflow.
    script = """
import json, sys, tempfile
from pathlib import Path
import pandas as pd
from mlflow.artifacts import download_artifacts
from common.champion import ASSIGNMENTS_ARTIFACT, find_champion
from common.settings import get_settings
from workers.train.dataset import load_training_data
from common.storage import DataDir
from workers.train.tracking import ArchetypeTracker

settings = get_settings()
champion = find_champion(settings)
model = ArchetypeTracker(settings).load_model(champion)
with tempfile.TemporaryDirectory() as tmp:
    path = download_artifacts(run_id=champion.run_id, artifact_path=ASSIGNMENTS_ARTIFACT,
                              dst_path=tmp, tracking_uri=settings.tracking_uri)
    assignments = pd.read_parquet(path)
data = load_training_data(DataDir(settings.data_dir))
labels = model.predict(data.features)
print(json.dumps({
    "version": champion.version,
    "players": len(assignments),
    "gobert": assignments.loc[assignments.PLAYER_NAME == "Rudy Gobert", "ARCHETYPE_NAME"].item(),
    "agree": float((labels == assignments["ARCHETYPE"].to_numpy()).mean()),
}))
"""
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATA_DIR": stack["DATA_DIR"]},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded["version"] == champion.version
    assert loaded["players"] == 360  # eligible players of 2018-19
    assert loaded["gobert"] == "Rim protector"  # the league's defensive player of 2018-19
    assert loaded["agree"] == 1.0  # the loaded model reproduces the logged assignments


def test_same_data_keeps_the_champion(stack: dict[str, str]) -> None:
    first = _wait_done(_wait_done(request_refresh("2018-19").task_id).info["training_task_id"])
    assert first.info["status"] == "promoted"
    again = _wait_done(request_refresh("2018-19", force=True).task_id)
    assert again.state == "SUCCESS", again
    repeat = _wait_done(again.info["training_task_id"])
    assert repeat.info["status"] == "skipped"
    assert repeat.info["champion_version"] == first.info["model_version"]


def _trainings_run() -> list[str]:
    """Ids of every training task that ran (their results, kept with the task name)."""
    metas = [
        json.loads(raw) for raw in redis_client().mget(redis_client().keys("celery-task-meta-*"))
    ]
    return [m["task_id"] for m in metas if m.get("name") == TRAIN_ARCHETYPES]


def test_a_backfill_trains_once_when_its_last_fetch_ends(stack: dict[str, str]) -> None:
    seasons = ["2016-17", "2017-18", "2018-19"]
    tickets = [request_refresh(s) for s in seasons]  # published together, as the CLI does
    fetches = [_wait_done(t.task_id) for t in tickets]
    assert [(f.state, f.info["status"]) for f in fetches] == [("SUCCESS", "updated")] * 3
    (training_id,) = {f.info["training_task_id"] for f in fetches}  # one, shared
    training = _wait_done(training_id, timeout_s=300)
    assert training.info["status"] == "promoted", training
    champion = find_champion(Settings(data_dir=Path(stack["DATA_DIR"])))
    assert champion is not None
    assert champion.seasons == seasons
    assert _trainings_run() == [training_id]


def test_upstream_failure_fails_the_fetch_clearly_and_keeps_the_champion(
    stack: dict[str, str], replay: str
) -> None:
    first = _wait_done(_wait_done(request_refresh("2018-19").task_id).info["training_task_id"])
    settings = Settings(data_dir=Path(stack["DATA_DIR"]))
    champion = find_champion(settings)
    cleaned = (Path(stack["DATA_DIR"]) / "cleaned" / "2018-19.parquet").read_bytes()

    inject_faults(replay, ["500", "500", "500"], season="2018-19")
    failed = _wait_done(request_refresh("2018-19", force=True).task_id)
    assert failed.state == "FAILURE"
    assert "failed 3 times for 2018-19 Regular Season: HTTP 500" in failed.info["error"]
    assert (Path(stack["DATA_DIR"]) / "cleaned" / "2018-19.parquet").read_bytes() == cleaned
    assert find_champion(settings) == champion
    assert first.info["model_version"] == champion.version


def test_beat_entry_refreshes_the_current_season(stack: dict[str, str], replay: str) -> None:
    # Beat sends this task by name on its schedule; the worker resolves the current season.
    fetch_id = app.send_task(REFRESH_CURRENT_SEASON).get(timeout=60)
    fetch = _wait_done(fetch_id)
    assert fetch.state == "SUCCESS"
    assert fetch.info["status"] == "no-games"  # nothing recorded for it: the site's empty answer
    season = received_requests(replay)[0]["params"]["Season"]
    today = date.today()  # a season starts in October: 2026-12 is in 2026-27
    start = today.year if today.month >= 10 else today.year - 1
    assert season == fetch.info["season"] == f"{start}-{(start + 1) % 100:02d}"
