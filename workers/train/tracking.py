"""Everything a training writes to MLflow: runs, the winning model, its artifacts, the registry.

One parent run per training, a nested run per candidate. Candidates are logged with the
low-level client in one batch each (create, log_batch, terminate) because the fluent API
costs several store round trips per run and a grid has dozens.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

# MLflow's environment defaults (telemetry off, no uv export, no progress bars) are set by
# common/mlflow_env.py, applied when the `workers` package imports `common`.
import mlflow
import pandas as pd
import skops.io
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.models.model import ModelInfo
from mlflow.protos.databricks_pb2 import RESOURCE_ALREADY_EXISTS, ErrorCode
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID, MLFLOW_RUN_NAME

from common.champion import (
    ASSIGNMENTS_ARTIFACT,
    CHAMPION_ALIAS,
    MODEL_ARTIFACT,
    PLOT_ARTIFACT,
    PROFILES_ARTIFACT,
    Champion,
    find_champion,
    read_champion_artifact,
    read_profiles,
)
from common.failures import DamagedFileError
from common.mlflow_store import experiment_id, tracking_client
from common.settings import Settings
from workers.train.candidates import SKOPS_TRUSTED_TYPES
from workers.train.scoring import Evaluation
from workers.train.serving import ServedModel

log = logging.getLogger(__name__)


def finite_metrics(evaluation: Evaluation) -> dict[str, float]:
    """The evaluation's metrics MLflow should chart (undefined ones, NaN, are left out)."""
    return {k: v for k, v in evaluation.metrics().items() if math.isfinite(v)}


class TrainingRun:
    """The parent MLflow run of one training."""

    def __init__(self, client: MlflowClient, settings: Settings, run_id: str, experiment_id: str):
        self.client = client
        self.settings = settings
        self.run_id = run_id
        self.experiment_id = experiment_id

    def log_candidate(self, evaluation: Evaluation) -> None:
        candidate = evaluation.candidate
        now = int(time.time() * 1000)
        child = self.client.create_run(
            self.experiment_id,
            tags={MLFLOW_PARENT_RUN_ID: self.run_id, MLFLOW_RUN_NAME: candidate.name},
            run_name=candidate.name,
        )
        params = {"family": candidate.family, **candidate.params}
        tags = [RunTag("family", candidate.family)]
        if evaluation.unstable_because:
            tags.append(RunTag("unstable", evaluation.unstable_because))
        self.client.log_batch(
            child.info.run_id,
            metrics=[Metric(k, v, now, 0) for k, v in finite_metrics(evaluation).items()],
            params=[Param(k, str(v)) for k, v in params.items()],
            tags=tags,
        )
        self.client.set_terminated(child.info.run_id)

    def log_summary(
        self, metrics: dict[str, float], params: dict[str, Any], tags: dict[str, str]
    ) -> None:
        now = int(time.time() * 1000)
        self.client.log_batch(
            self.run_id,
            metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()],
            params=[Param(k, str(v)) for k, v in params.items()],
            tags=[RunTag(k, v) for k, v in tags.items()],
        )

    def log_json(self, name: str, payload: Any) -> None:
        """``payload`` as the run's artifact ``name``."""
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            path.write_text(json.dumps(payload, indent=2))
            self.client.log_artifact(self.run_id, str(path))

    def log_model(
        self,
        model: ServedModel,
        assignments: pd.DataFrame,
        profiles: list[dict[str, Any]],
        plot_png: bytes,
    ) -> ModelInfo:
        """Log the served model (``workers/train/serving.py``; its estimator in skops,
        pickle-free) and the run's artifacts."""
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            assignments.to_parquet(folder / ASSIGNMENTS_ARTIFACT, index=False)
            (folder / PROFILES_ARTIFACT).write_text(json.dumps(profiles, indent=2))
            (folder / PLOT_ARTIFACT).write_bytes(plot_png)
            for name in (ASSIGNMENTS_ARTIFACT, PROFILES_ARTIFACT, PLOT_ARTIFACT):
                self.client.log_artifact(self.run_id, str(folder / name))
        with _active_run(self.run_id):
            return model.log(MODEL_ARTIFACT)

    def register(self, model: ModelInfo) -> str:
        """A new version of the registered model (created on first use): its number.

        The client, not ``mlflow.register_model``, which prints "Successfully registered
        model …" and "Created version …" to stderr, into the CLI's output."""
        name = self.settings.registered_model_name
        try:
            self.client.create_registered_model(name)
        except MlflowException as error:
            if error.error_code != ErrorCode.Name(RESOURCE_ALREADY_EXISTS):
                raise
        version = self.client.create_model_version(
            name, model.model_uri, tags={"run_id": self.run_id}, model_id=model.model_id
        )
        return str(version.version)


@contextmanager
def _active_run(run_id: str) -> Iterator[None]:
    # The fluent log_model API logs into the active run; resume ours just for the call.
    with mlflow.start_run(run_id=run_id):
        yield


def _use_write_ahead_log(store_file: Path | None) -> None:
    """Switch a sqlite store to WAL journaling (persistent, so once is enough).

    The rollback journal syncs the disk several times per commit and a training commits a few
    hundred times: WAL measured 7.4 s -> 3.2 s for a one-season training, and lets the UI read
    while a training writes.
    """
    if store_file is None:  # a tracking server: its database is its own
        return
    with closing(sqlite3.connect(store_file)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


class ArchetypeTracker:
    """The experiment, the registered model, and the champion alias."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        mlflow.set_tracking_uri(settings.tracking_uri)
        mlflow.set_registry_uri(settings.tracking_uri)
        self.client = tracking_client(settings)
        self.experiment_id = self._experiment_id()
        _use_write_ahead_log(settings.store_file)

    def _experiment_id(self) -> str:
        return experiment_id(self.client, self.settings, self.settings.mlflow_experiment)

    @contextmanager
    def training_run(self, run_name: str, tags: dict[str, str]) -> Iterator[TrainingRun]:
        run = self.client.create_run(self.experiment_id, tags=tags, run_name=run_name)
        try:
            yield TrainingRun(self.client, self.settings, run.info.run_id, self.experiment_id)
        except BaseException:
            self.client.set_terminated(run.info.run_id, status="FAILED")
            raise
        self.client.set_terminated(run.info.run_id)

    def promote_if(self, expected: str | None, version: str) -> bool:
        """Point ``champion`` at ``version`` if it still points at ``expected`` (``None``: no
        champion yet). Compare-and-set only under the promotion lease, which every mover holds
        (``workers.train.promotion``)."""
        current = find_champion(self.settings)
        if (current.version if current else None) != expected:
            return False
        self.set_alias(CHAMPION_ALIAS, version)
        return True

    def end_orphaned_runs(self) -> None:
        """End as FAILED the runs a killed training left RUNNING (call under the training
        lease: no other training is running, so every RUNNING run is an orphan)."""
        orphans = self.client.search_runs(
            [self.experiment_id], filter_string="attributes.status = 'RUNNING'", max_results=1000
        )
        for run in orphans:
            self.client.set_tag(run.info.run_id, "ended_because", "its worker stopped")
            self.client.set_terminated(run.info.run_id, status="FAILED")
        if orphans:
            log.warning("ended %d runs left RUNNING by a stopped worker as FAILED", len(orphans))

    def set_alias(self, alias: str, version: str) -> None:
        self.client.set_registered_model_alias(self.settings.registered_model_name, alias, version)

    def champion_profiles(self, champion: Champion) -> list[dict[str, Any]]:
        return read_champion_artifact(self.settings, champion, PROFILES_ARTIFACT, read_profiles)

    def load_model(self, champion: Champion) -> Any:
        """The champion's fitted estimator, loaded with our own list of trusted types (the
        one ``.skops`` file of its model: the served model's, or a bare one before it).

        MLflow's loader would take the trusted-type list from the model's own metadata (and so
        demands MLFLOW_ALLOW_PICKLE_DESERIALIZATION); trusting only the types this code knows is
        the safer way to open a file from a shared volume.
        """
        uri = f"models:/{self.settings.registered_model_name}/{champion.version}"
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(
                mlflow.artifacts.download_artifacts(
                    uri, dst_path=tmp, tracking_uri=self.settings.tracking_uri
                )
            )
            try:
                (model_file,) = local.rglob("*.skops")
                return skops.io.load(model_file, trusted=SKOPS_TRUSTED_TYPES)
            except (ValueError, KeyError, OSError, zipfile.BadZipFile) as error:
                raise DamagedFileError.at(
                    Path(uri),
                    f"damaged or missing (champion v{champion.version}'s fitted model)",
                    "`nba-archetypes train --force` trains a new champion without it; or "
                    "restore a backup (`nba-archetypes restore`), or point the champion alias "
                    "at another version in the MLflow UI",
                    error,
                ) from error


if __name__ == "__main__":
    # `python -m workers.train.tracking`: create the store (tables, experiment) up front, so
    # processes starting together don't race to migrate a fresh sqlite database.
    from common.logs import configure_logging
    from common.settings import get_settings

    configure_logging()
    tracker = ArchetypeTracker(get_settings())
    log.info(
        "MLflow store ready: %s (experiment %s)",
        tracker.settings.tracking_uri,
        tracker.experiment_id,
    )
