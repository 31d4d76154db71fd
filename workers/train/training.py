"""One training: every candidate scored on the style space, the winner logged, a champion kept.

- The winner is registered as a new version of the registered model, aliased ``challenger``.
- Only a training on every cleaned season can change what the app shows. Its winner becomes
  the ``champion`` when it scores better than the current champion on the same rows in the
  same space (``decide_promotion``), or when ``force`` says so.
- Before the search, the champion's model assigns the players of every season (a refreshed
  season included) and that result is published as a new version of the same model, aliased
  ``champion``: the app covers a new season seconds after its refresh, and keeps that version
  when the champion stays.
- A training on chosen seasons is an experiment: logged and aliased ``challenger``, never shown.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from threadpoolctl import threadpool_limits

from common.champion import (
    CHALLENGER_ALIAS,
    KIND_TRAINING,
    TAG_ALL_SEASONS,
    TAG_CONFIG_HASH,
    TAG_DATA_HASH,
    TAG_FEATURES,
    TAG_KIND,
    TAG_REFRESHED_FROM,
    TAG_SEASONS,
    TAG_SPACE,
    Champion,
    find_champion,
)
from common.seasons import Season
from common.settings import Settings
from common.storage import DataDir
from workers.train import scoring
from workers.train.assignments import build_assignments
from workers.train.candidates import CLUSTER_COUNTS, N_INIT, candidate_grid
from workers.train.dataset import TrainingData, load_training_data
from workers.train.features import FEATURES, STYLE_SPACE
from workers.train.plot import archetype_scatter
from workers.train.profiles import archetype_profiles
from workers.train.scoring import Evaluation
from workers.train.tracking import ArchetypeTracker, TrainingRun, finite_metrics

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]  # (done, total, message)
Status = Literal["promoted", "kept-champion", "experiment", "skipped"]
KIND_REFRESH = "champion-refresh"
# A challenger with as many stable archetypes as the champion must be steadier by this much
# (mean bootstrap Jaccard) to replace it: a refit on one more season is not a new model.
PROMOTION_MARGIN = 0.01


@dataclass(frozen=True)
class TrainingOutcome:
    status: Status
    message: str
    champion_version: str | None
    run_id: str | None = None
    model_version: str | None = None
    winner: str | None = None
    n_archetypes: int | None = None
    min_jaccard: float | None = None
    champion_min_jaccard: float | None = None
    candidates: int = 0
    seasons: int = 0
    players: int = 0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Promotion:
    promote: bool
    reason: str


def config_hash(settings: Settings) -> str:
    """Identifies what decides the result besides the data."""
    config = {
        "features": FEATURES,
        "space": STYLE_SPACE,
        "k": list(CLUSTER_COUNTS),
        "n_init": N_INIT,
        "seed": settings.random_seed,
        "bootstrap": [scoring.N_BOOTSTRAP, scoring.MIN_JACCARD, scoring.MIN_SEED_ARI],
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
    tracker = ArchetypeTracker(settings)
    champion = find_champion(settings, tracker.client)
    tags = _run_tags(data, config_hash(settings))
    if not force and _already_champion(champion, tags):
        message = f"champion v{champion.version} was trained on exactly this data; nothing to do"
        log.info(message)
        return TrainingOutcome("skipped", message, champion.version)

    # One thread for BLAS/OpenMP: on these sizes threads cost more than they save.
    with threadpool_limits(limits=1), tracker.training_run(f"train {data.label}", tags) as run:
        comparable = _comparable(champion)
        previous = tracker.champion_profiles(champion) if comparable else None
        # New data is visible at once: the champion's model assigns every season (a few
        # seconds) before the candidate search (most of a training) decides whether to replace it.
        republished = (
            refresh_champion(tracker, data, champion, previous)
            if comparable and data.all_seasons and not force
            else None
        )
        winner, evaluations = _select(data, settings.random_seed, run, progress)
        version = _publish(tracker, run, data, winner, previous)
        tracker.set_alias(CHALLENGER_ALIAS, version)
        defending = (
            scoring.evaluate_fitted(f"champion v{champion.version}", tracker.load_model(champion),
                                    data.features)
            if comparable and data.all_seasons and not force
            else None
        )  # fmt: skip
        decision = decide_promotion(
            winner, champion, defending, all_seasons=data.all_seasons, force=force
        )
        champion_version = _apply(decision, tracker, version, champion, republished)
        run.log_summary(
            metrics=_summary_metrics(winner, defending, evaluations, data),
            params={"winner": winner.name, "winner_family": "kmeans"},
            tags={
                "model_version": version,
                "promoted": str(decision.promote).lower(),
                "promotion_reason": decision.reason,
                "champion_version": champion_version or "",
            },
        )
        progress(len(evaluations) + 2, len(evaluations) + 2, "done")
    return _outcome(
        decision,
        data,
        run,
        version=version,
        champion_version=champion_version,
        winner=winner,
        defending=defending,
        evaluations=evaluations,
    )


def decide_promotion(
    winner: Evaluation,
    champion: Champion | None,
    defending: Evaluation | None,
    *,
    all_seasons: bool,
    force: bool,
) -> Promotion:
    """Whether the winner replaces the champion; the reason is logged with both scores."""
    if not all_seasons:
        return Promotion(False, "trained on chosen seasons: an experiment, never the champion")
    if force:
        return Promotion(True, "forced (--force)")
    if champion is None:
        return Promotion(True, "first champion")
    if defending is None:
        return Promotion(True, "the champion was trained on other features; not comparable")
    mine, theirs = winner.selection_key(), defending.selection_key()
    score = (
        f"challenger {winner.n_clusters} archetypes, stable={winner.stable}, mean Jaccard "
        f"{winner.mean_jaccard:.3f}; champion {defending.n_clusters}, stable={defending.stable},"
        f" mean Jaccard {defending.mean_jaccard:.3f} (same rows, same space)"
    )
    if mine[:2] != theirs[:2]:
        return Promotion(mine[:2] > theirs[:2], score)
    return Promotion(mine[2] > theirs[2] + PROMOTION_MARGIN, score)


def _run_tags(data: TrainingData, cfg_hash: str) -> dict[str, str]:
    return {
        TAG_KIND: KIND_TRAINING,
        TAG_SEASONS: ",".join(str(s) for s in data.seasons),
        TAG_DATA_HASH: data.data_hash,
        TAG_CONFIG_HASH: cfg_hash,
        TAG_FEATURES: ",".join(FEATURES),
        TAG_SPACE: STYLE_SPACE,
        TAG_ALL_SEASONS: str(data.all_seasons).lower(),
    }


def _already_champion(champion: Champion | None, tags: dict[str, str]) -> bool:
    return champion is not None and all(
        champion.tags.get(key) == tags[key] for key in (TAG_DATA_HASH, TAG_CONFIG_HASH)
    )


def _comparable(champion: Champion | None) -> bool:
    """A champion in the same style space and features: its scores and names carry over."""
    return (
        champion is not None
        and champion.tags.get(TAG_SPACE) == STYLE_SPACE
        and champion.tags.get(TAG_FEATURES) == ",".join(FEATURES)
    )


def _select(
    data: TrainingData, seed: int, run: TrainingRun, progress: Progress
) -> tuple[Evaluation, list[Evaluation]]:
    grid = candidate_grid(seed)
    total = len(grid) + 2
    evaluations = []
    for done, candidate in enumerate(grid, start=1):
        evaluations.append(scoring.evaluate(candidate, data.features))
        progress(done, total, f"candidate {candidate.name} ({len(data.features):,} players)")
    for evaluation in evaluations:
        run.log_candidate(evaluation)
    winner = scoring.select_winner(evaluations)
    if not winner.stable:
        log.warning("no candidate is stable; using the steadiest: %s", winner.unstable_because)
    progress(len(grid) + 1, total, f"logging winner {winner.name}")
    return winner, evaluations


def _publish(
    tracker: ArchetypeTracker,
    run: TrainingRun,
    data: TrainingData,
    evaluation: Evaluation,
    previous: list[dict[str, Any]] | None,
) -> str:
    """Log a model with its profiles, assignments and plot in ``run``; register it."""
    model = evaluation.model
    centroids = model.cluster_centers_
    profiles = archetype_profiles(data.players, evaluation.labels, centroids, previous)
    assignments = build_assignments(
        data.players, data.features, evaluation.labels, centroids, profiles
    )
    plot = archetype_scatter(assignments, profiles, f"{len(profiles)} archetypes, {data.label}")
    return run.register(run.log_model(model, data.features, assignments, profiles, plot))


def _apply(
    decision: Promotion,
    tracker: ArchetypeTracker,
    version: str,
    champion: Champion | None,
    republished: str | None,
) -> str | None:
    """Move the champion alias to the winner if it won; else it stays where it is (on the
    champion republished on this data, when that was done)."""
    if decision.promote:
        tracker.promote(version)
        log.info("v%s is the new champion: %s", version, decision.reason)
        return version
    return republished or (champion.version if champion else None)


def refresh_champion(
    tracker: ArchetypeTracker,
    data: TrainingData,
    champion: Champion,
    previous: list[dict[str, Any]] | None,
) -> str:
    """Publish the champion's model applied to ``data`` as a new version, aliased champion."""
    model = tracker.load_model(champion)
    labels = model.predict(data.features)
    tags = {
        **_run_tags(data, champion.tags.get(TAG_CONFIG_HASH, "")),
        TAG_KIND: KIND_REFRESH,
        TAG_REFRESHED_FROM: champion.version,
    }
    refreshed = Evaluation(f"champion v{champion.version}", model, labels)
    with tracker.refresh_run(f"champion v{champion.version} on {data.label}", tags) as run:
        version = _publish(tracker, run, data, refreshed, previous)
        tracker.promote(version)
    log.info("champion kept; v%s = v%s's model on %s", version, champion.version, data.label)
    return version


def _summary_metrics(
    winner: Evaluation,
    defending: Evaluation | None,
    evaluations: list[Evaluation],
    data: TrainingData,
) -> dict[str, float]:
    metrics: dict[str, float] = {
        **finite_metrics(winner),
        "candidates": len(evaluations),
        "stable_candidates": sum(e.stable for e in evaluations),
        "players": len(data.players),
    }
    if defending is not None:
        metrics |= {f"champion_{k}": v for k, v in finite_metrics(defending).items()}
    return metrics


def _outcome(
    decision: Promotion,
    data: TrainingData,
    run: TrainingRun,
    *,
    version: str,
    champion_version: str | None,
    winner: Evaluation,
    defending: Evaluation | None,
    evaluations: list[Evaluation],
) -> TrainingOutcome:
    if decision.promote:
        status: Status = "promoted"
        message = f"v{version} ({winner.name}) is the new champion: {decision.reason}"
    elif not data.all_seasons:
        status, message = (
            "experiment",
            f"v{version} ({winner.name}) is the challenger: " + (decision.reason),
        )
    else:
        status = "kept-champion"
        message = f"champion kept, republished as v{champion_version}: {decision.reason}"
    log.info(message)
    return TrainingOutcome(
        status,
        message,
        champion_version=champion_version,
        run_id=run.run_id,
        model_version=version,
        winner=winner.name,
        n_archetypes=winner.n_clusters,
        min_jaccard=winner.min_jaccard,
        champion_min_jaccard=defending.min_jaccard if defending else None,
        candidates=len(evaluations),
        seasons=len(data.seasons),
        players=len(data.players),
    )
