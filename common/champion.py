"""Reading the champion model's results through MLflow: registry alias → version → run → artifacts.

Shared by the train worker (to compare a new winner with the champion) and the UI (to show
it). Needs the ``mlflow-skinny`` client, installed by the ``train`` and ``ui`` extras.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlflow import MlflowClient
from mlflow.artifacts import download_artifacts
from mlflow.exceptions import MlflowException

from common.settings import Settings

CHAMPION_ALIAS = "champion"
MODEL_ARTIFACT = "model"  # MLflow model name within the winner's run
ASSIGNMENTS_ARTIFACT = "assignments.parquet"
PROFILES_ARTIFACT = "profiles.json"
PLOT_ARTIFACT = "archetypes.png"

# Tags every training (parent) run carries.
TAG_KIND = "kind"  # "training" on parent runs; candidates are their nested runs
KIND_TRAINING = "training"
TAG_SEASONS = "seasons"
TAG_DATA_HASH = "data_hash"
TAG_CONFIG_HASH = "config_hash"
TAG_FEATURES = "features"


@dataclass(frozen=True)
class Champion:
    version: str
    run_id: str
    tags: dict[str, str]  # of the training run that produced it
    metrics: dict[str, float]
    created_at_ms: int

    @property
    def seasons(self) -> list[str]:
        return [s for s in self.tags.get(TAG_SEASONS, "").split(",") if s]


def tracking_client(settings: Settings) -> MlflowClient:
    return MlflowClient(tracking_uri=settings.tracking_uri, registry_uri=settings.tracking_uri)


def find_champion(settings: Settings, client: MlflowClient | None = None) -> Champion | None:
    """The model version the ``champion`` alias points to, or None before the first one."""
    client = client or tracking_client(settings)
    try:
        version = client.get_model_version_by_alias(settings.registered_model_name, CHAMPION_ALIAS)
    except MlflowException as error:
        if error.error_code in {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"}:
            return None
        raise
    run = client.get_run(version.run_id)
    return Champion(
        version=str(version.version),
        run_id=version.run_id,
        tags=dict(run.data.tags),
        metrics=dict(run.data.metrics),
        created_at_ms=int(version.creation_timestamp),
    )


def download_champion_artifact(
    settings: Settings, champion: Champion, name: str, dst: Path
) -> Path:
    """Copy one artifact of the champion's run into ``dst`` and return its local path."""
    return Path(
        download_artifacts(
            run_id=champion.run_id,
            artifact_path=name,
            dst_path=str(dst),
            tracking_uri=settings.tracking_uri,
        )
    )


def read_profiles(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text())
