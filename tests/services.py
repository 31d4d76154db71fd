"""Real services for the tests: what tests and benchmarks share lives in :mod:`devkit.services`
(re-exported here for the test modules); the Docker CLI helper is the tests' own."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from devkit.services import (
    PROJECT_ROOT,
    RECORDINGS,
    RedisServer,
    celery_workers,
    free_port,
    wait_until,
    worker_env,
)

__all__ = [
    "PROJECT_ROOT",
    "RECORDINGS",
    "RedisServer",
    "celery_workers",
    "champion_artifact",
    "docker",
    "free_port",
    "wait_until",
    "worker_env",
]


def docker(*args: str, timeout: float = 120, check: bool = False) -> subprocess.CompletedProcess:
    """The docker CLI, output captured as text."""
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=check
    )


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
