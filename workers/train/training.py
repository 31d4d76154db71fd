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
- Moving the ``champion`` alias is compare-and-set under the lease ``nba:promotion``: it moves
  only if it still points where the decision saw it; otherwise the decision is taken again
  against the new champion, so of two trainings finishing together the better one wins.
- A training run again after its worker died (same task id, ``owner``) ends the dead one's
  runs as FAILED and does not republish what it already republished: one champion version.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    TAG_TASK_ID,
    Champion,
    find_champion,
)
from common.leases import held
from common.season_store import open_data
from common.seasons import Season
from common.settings import Settings
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
    owner: str | None = None,
) -> TrainingOutcome:
    """Train on ``seasons`` (all by default). ``owner`` is the training's task id: it tags the
    runs and holds the promotion lease (``None``: a library call, no lease, no Redis)."""
    data = load_training_data(open_data(settings).sync(), seasons)
    tracker = ArchetypeTracker(settings)
    tracker.end_orphaned_runs()  # only one training runs at a time: RUNNING ones are dead
    champion = find_champion(settings, tracker.client)
    tags = _run_tags(data, config_hash(settings)) | ({TAG_TASK_ID: owner} if owner else {})
    if not force and _already_champion(champion, tags):
        message = f"champion v{champion.version} was trained on exactly this data; nothing to do"
        log.info(message)
        return TrainingOutcome("skipped", message, champion.version)

    # One thread for BLAS/OpenMP: on these sizes threads cost more than they save.
    with threadpool_limits(limits=1), tracker.training_run(f"train {data.label}", tags) as run:
        comparable = _comparable(champion)
        previous = tracker.champion_profiles(champion) if comparable else None
        defends = comparable and data.all_seasons and not force
        # New data is visible at once: the champion's model assigns every season (a few
        # seconds) before the candidate search (most of a training) decides whether to replace it.
        republished = (
            _republish_once(tracker, data, champion, previous, owner=owner) if defends else None
        )
        winner, evaluations = _select(data, settings.random_seed, run, progress)
        version = publish_model(tracker, run, data, winner, previous)
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
    """The champion was trained on this data: nothing to do. Not when it is the republish of
    this very training, run again after its worker died before the search ended."""
    if champion is None or _republished_by(champion, tags.get(TAG_TASK_ID)):
        return False
    return all(champion.tags.get(key) == tags[key] for key in (TAG_DATA_HASH, TAG_CONFIG_HASH))


def _republished_by(champion: Champion, owner: str | None) -> bool:
    return (
        owner is not None
        and champion.tags.get(TAG_KIND) == KIND_REFRESH
        and champion.tags.get(TAG_TASK_ID) == owner
    )


@contextmanager
def promotion_lease(settings: Settings, owner: str | None) -> Iterator[None]:
    """Hold ``nba:promotion`` while deciding and moving the alias (none for a library call)."""
    if owner is None:
        yield
        return
    from common.pipeline import PROMOTION_LEASE_KEY, redis_client

    with held(redis_client(), PROMOTION_LEASE_KEY, owner, settings.lease_ttl_s, wait_s=300):
        yield


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


def publish_model(
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


def decide_and_apply(
    tracker: ArchetypeTracker,
    data: TrainingData,
    winner: Evaluation,
    version: str,
    republished: str | None,
    *,
    force: bool,
) -> tuple[Promotion, Evaluation | None, str | None]:
    """Decide against the champion as it is now, and move the alias only if it has not moved
    since (compare-and-set); a moved alias means another training promoted: decide again."""
    while True:
        champion = find_champion(tracker.settings, tracker.client)
        defending = _defending(tracker, champion, data, force)
        decision = decide_promotion(
            winner, champion, defending, all_seasons=data.all_seasons, force=force
        )
        if not decision.promote:
            return decision, defending, champion.version if champion else republished
        if tracker.promote_if(champion.version if champion else None, version):
            log.info("v%s is the new champion: %s", version, decision.reason)
            return decision, defending, version


def _defending(
    tracker: ArchetypeTracker, champion: Champion | None, data: TrainingData, force: bool
) -> Evaluation | None:
    """The champion scored like a candidate on this data, when the two are comparable."""
    if champion is None or force or not data.all_seasons or not _comparable(champion):
        return None
    model = tracker.load_model(champion)
    return scoring.evaluate_fitted(f"champion v{champion.version}", model, data.features)


def _republish_once(
    tracker: ArchetypeTracker,
    data: TrainingData,
    champion: Champion,
    previous: list[dict[str, Any]] | None,
    *,
    owner: str | None,
) -> str | None:
    """Republish the champion on this data, unless this training did already (a rerun after
    its worker died). ``None`` if another training moved the alias meanwhile."""
    if _republished_by(champion, owner):
        return champion.version
    with promotion_lease(tracker.settings, owner):
        return refresh_champion(tracker, data, champion, previous, owner)


def refresh_champion(
    tracker: ArchetypeTracker,
    data: TrainingData,
    champion: Champion,
    previous: list[dict[str, Any]] | None,
    owner: str | None = None,
) -> str | None:
    """Publish the champion's model applied to ``data`` as a new version, aliased champion
    if the alias still points at ``champion``; returns that version, else ``None``."""
    model = tracker.load_model(champion)
    labels = model.predict(data.features)
    tags = {
        **_run_tags(data, champion.tags.get(TAG_CONFIG_HASH, "")),
        TAG_KIND: KIND_REFRESH,
        TAG_REFRESHED_FROM: champion.version,
    } | ({TAG_TASK_ID: owner} if owner else {})
    refreshed = Evaluation(f"champion v{champion.version}", model, labels)
    with tracker.refresh_run(f"champion v{champion.version} on {data.label}", tags) as run:
        version = publish_model(tracker, run, data, refreshed, previous)
        if not tracker.promote_if(champion.version, version):
            log.info("v%s not published as champion: the champion changed meanwhile", version)
            return None
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
