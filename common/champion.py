"""The champion model and its results: registry alias → version → run → artifacts.

Shared by the train worker (to compare a new winner with the champion), the app and the CLI
(to show it; its results: :mod:`common.champion_results`). Read through
:mod:`common.model_registry`, without MLflow's client, so a cold CLI answer takes about a
second; the train worker writes through MLflow's client.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from common.failures import DamagedFileError
from common.model_registry import is_connection_failure, open_registry
from common.settings import Settings

T = TypeVar("T")

CHAMPION_ALIAS = "champion"
# A training on chosen seasons (or one that lost) is registered too, aliased only this: an
# experiment to look at, never what the app shows.
CHALLENGER_ALIAS = "challenger"
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
TAG_SPACE = "style_space"  # version of the era adjustment: models compare only within one
TAG_ALL_SEASONS = "all_seasons"  # "true" when trained on every cleaned season (promotable)
TAG_TASK_ID = "task_id"  # the training task that logged the run (a rerun after a crash reuses it)
# On a republished champion: the version whose model it reuses. (The stored names predate the
# word "republish"; runs already in a store keep them.)
TAG_REPUBLISHED_FROM = "refreshed_from"


@dataclass(frozen=True)
class Champion:
    version: str
    run_id: str
    tags: dict[str, str]  # of the training run that produced it
    metrics: dict[str, float]
    created_at_ms: int  # when this version was registered: it went live then, or moments after
    artifact_uri: str = ""

    @property
    def seasons(self) -> list[str]:
        return [s for s in self.tags.get(TAG_SEASONS, "").split(",") if s]


def find_champion(settings: Settings) -> Champion | None:
    """The model version the ``champion`` alias points to, or None before the first one."""
    found = open_registry(settings).aliased(settings.registered_model_name, CHAMPION_ALIAS)
    if found is None:
        return None
    return Champion(
        version=found.version,
        run_id=found.run_id,
        tags=found.tags,
        metrics=found.metrics,
        created_at_ms=found.created_at_ms,
        artifact_uri=found.artifact_uri,
    )


def read_profiles(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text())


def read_champion_artifact(
    settings: Settings, champion: Champion, name: str, read: Callable[[Path], T]
) -> T:
    """One artifact of the champion's run, read by ``read``; a truncated or unreadable one
    raises a :class:`DamagedFileError` naming the file in the artifact store."""
    registry = open_registry(settings)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            return read(registry.download(champion.artifact_uri, name, Path(tmp)))
        except (OSError, ValueError) as error:  # a reader turns its own errors into these
            if is_connection_failure(error):
                raise  # the store failed, not the file
            raise DamagedFileError.at(
                Path(registry.location(champion.artifact_uri, name)),
                f"damaged or missing (champion v{champion.version}'s {name})",
                "restore a backup (`nba-archetypes restore`), or point the champion alias at "
                "another version in the MLflow UI",
                error,
            ) from error
