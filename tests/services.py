"""Real services for the tests: what tests and benchmarks share lives in :mod:`devkit.services`
(re-exported here for the test modules); the Docker helpers are the tests' own."""

from __future__ import annotations

import itertools
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from devkit.services import (
    PROJECT_ROOT,
    RECORDINGS,
    RedisServer,
    celery_workers,
    free_port,
    streamlit_app,
    wait_until,
    worker_env,
)

__all__ = [
    "PROJECT_ROOT",
    "RECORDINGS",
    "RedisServer",
    "assert_registry_reader_agrees",
    "celery_workers",
    "champion_artifact",
    "docker",
    "free_port",
    "seed_recordings",
    "seed_seasons",
    "streamlit_app",
    "wait_until",
    "worker_env",
]


def docker(*args: str, timeout: float = 120, check: bool = False) -> subprocess.CompletedProcess:
    """The docker CLI, output captured as text."""
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=check
    )


def assert_registry_reader_agrees(settings: Any, aliases: tuple[str, ...]) -> None:
    """The product's light registry reader (``common/model_registry.py``: SQL on the SQLite
    store, or the server's REST API) finds, for each alias, what MLflow's own client finds:
    the version, its run, when it was registered, the run's tags, metrics and artifacts."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from common.model_registry import AliasedVersion, open_registry

    uri = settings.tracking_uri
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    reader, model = open_registry(settings), settings.registered_model_name
    for alias in aliases:
        version = client.get_model_version_by_alias(model, alias)
        run = client.get_run(version.run_id)
        assert reader.aliased(model, alias) == AliasedVersion(
            version=str(version.version),
            run_id=version.run_id,
            created_at_ms=version.creation_timestamp,
            tags=run.data.tags,
            metrics=run.data.metrics,
            artifact_uri=run.info.artifact_uri,
        ), alias
    assert reader.aliased(model, "no-such-alias") is None
    try:
        client.get_model_version_by_alias(model, "no-such-alias")
    except MlflowException:
        pass
    else:
        raise AssertionError("MLflow found an alias no one set")


def champion_artifact(settings: Any, champion: Any, name: str, dst: Path) -> Path:
    """One artifact of the champion's run, through MLflow's own client: independent of the
    product's light registry reader (``common/model_registry.py``), which tests check."""
    from mlflow.artifacts import download_artifacts

    return Path(
        download_artifacts(
            run_id=champion.run_id,
            artifact_path=name,
            dst_path=str(dst),
            tracking_uri=settings.tracking_uri,
        )
    )


# A real rename, as the site made it: the 2018-19 Per36 responses (pulled in 2019) call
# PLAYER_ID 202710 "Jimmy Butler", the 2020-21 PerGame one (pulled in 2025) "Jimmy Butler III"
# (replay/recordings/PROVENANCE.md). Seeded together they are a season stored long ago and one
# fetched since, as after "2020-21 was fetched again" (issue 17).
RENAMED_SEASONS = [
    "2018-19_regular_per36",
    "2018-19_playoffs_per36",
    "2020-21_regular_pergame",
]
BUTLER = 202710


def seed_seasons(data: Path, seasons: list[str] | None = None) -> None:
    """Import the bundled recordings of ``seasons`` (all by default) into ``data`` as the seed
    task does."""
    from common.seasons import Season
    from common.settings import Settings
    from common.storage import DataDir
    from workers.fetch.recordings import bundled_recordings, seed_from_recordings

    data.mkdir(parents=True, exist_ok=True)
    settings = Settings(data_dir=data)
    folder = settings.recordings_dir
    with tempfile.TemporaryDirectory() as tmp:
        if seasons is not None:  # a folder holding only the wanted seasons' recordings
            wanted = {Season.parse(s) for s in seasons}
            for season, files in bundled_recordings(folder).items():
                for path in files.values() if season in wanted else ():
                    (Path(tmp) / path.name).symlink_to(path)
            folder = Path(tmp)
        seed_from_recordings(folder, DataDir(data), settings)


def seed_recordings(data: Path, recordings: list[str]) -> None:
    """Import exactly these recordings (``<season>_<segment>_<permode>``) into ``data`` as the
    seed task does (a folder holding only them: no PerGame preferred over them)."""
    from common.settings import Settings
    from common.storage import DataDir
    from workers.fetch.recordings import seed_from_recordings

    data.mkdir(parents=True, exist_ok=True)
    settings = Settings(data_dir=data)
    with tempfile.TemporaryDirectory() as tmp:
        for name in recordings:
            file = f"leaguedashplayerstats_{name}.json"
            (Path(tmp) / file).symlink_to(RECORDINGS / file)
        seed_from_recordings(Path(tmp), DataDir(data), settings)


def assert_one_throttle(stamps: list[float], gap: float) -> None:
    """``stamps``: when requests sent through the shared throttle were seen. Its slots are
    ``gap`` apart, but each stamp also carries that request's own delay after its slot (its
    worker waking, sending, the receiver stamping it): a tenth of a second and more on 2 busy
    cores (0.105 s seen). A late request shortens the gap after it, and every span starting
    at it, by its delay, so three quarters of a gap is allowed. Throttles that are not shared
    send side by side: two consecutive gaps then add up to about one gap, never 1.25."""
    stamps = sorted(stamps)
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    allowed = 0.75 * gap
    assert min(gaps) >= gap - allowed, (gap, sorted(gaps)[:5])
    two_gaps = [a + b for a, b in itertools.pairwise(gaps)]
    assert min(two_gaps) >= 2 * gap - allowed, (gap, sorted(two_gaps)[:5])
    assert stamps[-1] - stamps[0] >= (len(stamps) - 1) * gap - allowed, (gap, stamps)
