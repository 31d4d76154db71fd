"""One training: every candidate scored on the style space, the winner published, and the
champion kept or replaced (``workers/train/promotion.py``).

- The winner is registered as a new version of the registered model, aliased ``challenger``.
- A training on chosen seasons is an experiment: logged and aliased ``challenger``, never shown.
- A training run again after its worker died (same task id, ``owner``) ends the dead one's
  runs as FAILED.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable

from threadpoolctl import threadpool_limits

from common.champion import CHALLENGER_ALIAS, TAG_TASK_ID, find_champion
from common.mlflow_store import answering
from common.results import TrainingResult, TrainingStatus
from common.season_store import open_data
from common.seasons import Season
from common.settings import Settings
from workers.train import scoring
from workers.train.candidates import CLUSTER_COUNTS, N_INIT, candidate_grid
from workers.train.dataset import TrainingData, load_training_data
from workers.train.features import FEATURES, STYLE_SPACE
from workers.train.promotion import (
    Promotion,
    already_champion,
    comparable,
    decide_and_apply,
    promotion_lease,
    republish_once,
)
from workers.train.publishing import publish_model, run_tags
from workers.train.scoring import Evaluation
from workers.train.tracking import ArchetypeTracker, TrainingRun, finite_metrics

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]  # (done, total, message)


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
    owner: str | None = None,
) -> TrainingResult:
    """Train on ``seasons`` (all by default). ``owner`` is the training's task id: it tags the
    runs and holds the promotion lease (``None``: a library call, no lease, no Redis). A store
    that cannot be read, or a server that does not answer, fails saying so plainly."""
    with answering(settings, "record the training in"):
        return _train(settings, seasons, force, progress, owner)


def _train(
    settings: Settings,
    seasons: list[Season] | None,
    force: bool,
    progress: Progress,
    owner: str | None,
) -> TrainingResult:
    data = load_training_data(open_data(settings).sync(), seasons)
    tracker = ArchetypeTracker(settings)
    tracker.end_orphaned_runs()  # only one training runs at a time: RUNNING ones are dead
    champion = find_champion(settings)
    tags = run_tags(data, config_hash(settings)) | ({TAG_TASK_ID: owner} if owner else {})
    if not force and already_champion(champion, tags):
        message = f"champion v{champion.version} was trained on exactly this data; nothing to do"
        log.info(message)
        return TrainingResult("skipped", message, champion.version)

    # One thread for BLAS/OpenMP: on these sizes threads cost more than they save.
    with threadpool_limits(limits=1), tracker.training_run(f"train {data.label}", tags) as run:
        same_space = comparable(champion)
        previous = tracker.champion_profiles(champion) if same_space else None
        defends = same_space and data.all_seasons and not force
        # New data is visible at once: the champion's model assigns every season (a few
        # seconds) before the candidate search (most of a training) decides whether to replace it.
        republished = (
            republish_once(tracker, data, champion, previous, owner=owner) if defends else None
        )
        winner, evaluations = _select(data, settings.random_seed, run, progress)
        seen = champion.seasons if champion else []
        version = publish_model(run, data, winner, previous, seen)
        tracker.set_alias(CHALLENGER_ALIAS, version)
        with promotion_lease(settings, owner):
            decision, defending, champion_version = decide_and_apply(
                tracker, data, winner, version, republished, force=force
            )
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
) -> TrainingResult:
    if decision.promote:
        status: TrainingStatus = "promoted"
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
    return TrainingResult(
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
