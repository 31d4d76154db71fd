"""One training: every candidate on the cleaned seasons, the winner logged, maybe promoted.

The winner is registered as a new version of the registered model; the ``champion`` alias
moves to it only if it beats the current champion scored on the same data, so the champion
never gets worse and the same data always leaves the same champion.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Literal

import pandas as pd
from threadpoolctl import threadpool_limits

from common.champion import (
    KIND_TRAINING,
    TAG_CONFIG_HASH,
    TAG_DATA_HASH,
    TAG_FEATURES,
    TAG_KIND,
    TAG_SEASONS,
    find_champion,
)
from common.seasons import Season
from common.settings import Settings
from common.storage import DataDir
from workers.train.candidates import candidate_grid
from workers.train.dataset import TrainingData, load_training_data
from workers.train.features import FEATURES
from workers.train.plot import archetype_scatter
from workers.train.profiles import archetype_profiles
from workers.train.scoring import Evaluation, embedding_2d, evaluate, score_model, select_winner
from workers.train.tracking import ArchetypeTracker, finite_metrics

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]  # (done, total, message)
Status = Literal["promoted", "kept-champion", "skipped"]


@dataclass(frozen=True)
class TrainingOutcome:
    status: Status
    message: str
    champion_version: str | None
    run_id: str | None = None
    model_version: str | None = None
    winner: str | None = None
    n_archetypes: int | None = None
    silhouette: float | None = None
    champion_silhouette: float | None = None
    candidates: int = 0
    seasons: int = 0
    players: int = 0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def config_hash(settings: Settings, grid_names: list[str]) -> str:
    """Identifies what decides the result besides the data."""
    config = {
        "features": FEATURES,
        "grid": grid_names,
        "seed": settings.random_seed,
        "min_archetypes": settings.min_archetypes,
        "max_noise_share": settings.max_noise_share,
    }
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


def train_archetypes(
    settings: Settings,
    seasons: list[Season] | None = None,
    *,
    force: bool = False,
    progress: Progress = lambda done, total, message: None,
) -> TrainingOutcome:
    data = load_training_data(DataDir(settings.data_dir), seasons)
    grid = candidate_grid(settings.random_seed)
    tracker = ArchetypeTracker(settings)
    champion = find_champion(settings, tracker.client)
    data_hash, cfg_hash = data.data_hash, config_hash(settings, [c.name for c in grid])

    if (
        not force
        and champion is not None
        and champion.tags.get(TAG_DATA_HASH) == data_hash
        and champion.tags.get(TAG_CONFIG_HASH) == cfg_hash
    ):
        message = f"champion v{champion.version} was trained on exactly this data; nothing to do"
        log.info(message)
        return TrainingOutcome("skipped", message, champion.version)

    tags = {
        TAG_KIND: KIND_TRAINING,
        TAG_SEASONS: ",".join(str(s) for s in data.seasons),
        TAG_DATA_HASH: data_hash,
        TAG_CONFIG_HASH: cfg_hash,
        TAG_FEATURES: ",".join(FEATURES),
    }
    label = (
        f"{data.seasons[0]}" if len(data.seasons) == 1 else f"{data.seasons[0]}..{data.seasons[-1]}"
    )
    # One thread for BLAS/OpenMP: on a few hundred rows, thread start-up and contention cost
    # more than they save (measured: k-means 5x slower with 2 threads on a busy 2-core box).
    with threadpool_limits(limits=1), tracker.training_run(f"train {label}", tags) as run:
        total = len(grid) + 2
        evaluations: list[Evaluation] = []
        for done, candidate in enumerate(grid, start=1):
            evaluations.append(
                evaluate(
                    candidate,
                    data.features,
                    min_clusters=settings.min_archetypes,
                    max_noise_share=settings.max_noise_share,
                )
            )
            progress(done, total, f"candidate {candidate.name}")
        try:
            winner = select_winner(evaluations)
        finally:
            # After selection, which may reject a top candidate as unstable across seeds.
            for evaluation in evaluations:
                run.log_candidate(evaluation)

        progress(len(grid) + 1, total, f"logging winner {winner.candidate.name}")
        profiles = archetype_profiles(data.players, winner.labels)
        assignments = build_assignments(data, winner, profiles)
        plot = archetype_scatter(assignments, f"{winner.n_clusters} archetypes, {label}")
        model_uri = run.log_winner(winner, data.features, assignments, profiles, plot)
        model_version = run.register(model_uri)

        champion_score = None
        if champion is not None and champion.tags.get(TAG_FEATURES) == tags[TAG_FEATURES]:
            champion_score = score_model(tracker.load_model(champion), data.features)
        beats = (
            champion is None or champion_score is None or winner.silhouette > champion_score + 1e-9
        )
        if beats:
            tracker.promote(model_version)
        run.log_summary(
            metrics={
                **finite_metrics(winner),
                "candidates": len(grid),
                "rejected_candidates": sum(e.rejected is not None for e in evaluations),
                "players": len(data.players),
                **({"champion_silhouette": champion_score} if champion_score is not None else {}),
            },
            params={"winner": winner.candidate.name, "winner_family": winner.candidate.family},
            tags={"model_version": model_version, "promoted": str(beats).lower()},
        )
        progress(total, total, "done")

    if beats:
        message = f"v{model_version} ({winner.candidate.name}) is the new champion"
        status: Status = "promoted"
    else:
        message = (
            f"v{model_version} ({winner.candidate.name}, silhouette {winner.silhouette:.3f}) "
            f"did not beat champion v{champion.version} ({champion_score:.3f} on the same data)"
        )
        status = "kept-champion"
    log.info(message)
    return TrainingOutcome(
        status,
        message,
        champion_version=model_version if beats else champion.version,
        run_id=run.run_id,
        model_version=model_version,
        winner=winner.candidate.name,
        n_archetypes=winner.n_clusters,
        silhouette=winner.silhouette,
        champion_silhouette=champion_score,
        candidates=len(grid),
        seasons=len(data.seasons),
        players=len(data.players),
    )


def build_assignments(data: TrainingData, winner: Evaluation, profiles: list[dict]) -> pd.DataFrame:
    """Per player-season: archetype, 2-D coordinates, position in the model's space, key stats.

    ``Z_<feature>`` is the player in the model's standardized feature space (the pipeline's
    scaler output, every feature the model saw): the UI finds similar players there with plain
    NumPy, so it needs neither the model nor any training library."""
    names = {p["id"]: p["name"] for p in profiles}
    xy = embedding_2d(winner)
    players = data.players.reset_index(drop=True)
    standardized = winner.pipeline[:1].transform(data.features)
    table = pd.DataFrame(
        {
            "PLAYER_ID": players["PLAYER_ID"].to_numpy(),
            "PLAYER_NAME": players["PLAYER_NAME"].astype(str).to_numpy(),
            "SEASON": players["SEASON"].astype(str).to_numpy(),
            "TEAM_ABBREVIATION": players["TEAM_ABBREVIATION"].astype(str).to_numpy(),
            "ARCHETYPE": winner.labels.astype("int64"),
            "ARCHETYPE_NAME": [names.get(int(label), "Unclassified") for label in winner.labels],
            "X": xy[:, 0],
            "Y": xy[:, 1],
            **{f"Z_{f}": standardized[:, i] for i, f in enumerate(FEATURES)},
        }
    )
    return pd.concat([table, players[STAT_COLUMNS]], axis=1)


# Stats the UI shows beside each player (profiles, comparisons), carried in the assignments.
STAT_COLUMNS = list(
    dict.fromkeys(
        [
            "AGE", "GP", "MIN_PER_GAME", "PTS_PER36", "REB_PER36", "OREB_PER36", "DREB_PER36",
            "AST_PER36", "STL_PER36", "BLK_PER36", "TOV_PER36", "FGA_PER36", "FG3A_PER36",
            "FTA_PER36", "FG_PCT", "FG3_PCT", "FT_PCT", "TS_PCT", "FG3A_RATE", "FTA_RATE",
            *FEATURES,
        ]
    )
)  # fmt: skip
