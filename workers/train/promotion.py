"""Whether a training's winner becomes the champion, and the champion republished on new data.

- Only a training on every cleaned season can change what the app shows. Its winner becomes
  the ``champion`` when it scores better than the current champion on the same rows in the
  same space (``decide_promotion``), or when ``force`` says so.
- Before the search, the champion's model assigns the players of every season (a refreshed
  season included) and that result is published as a new version of the same model, aliased
  ``champion`` (``republish_champion``): the app covers a new season seconds after its
  refresh, and keeps that version when the champion stays.
- Moving the ``champion`` alias is compare-and-set under the lease ``nba:promotion``: it moves
  only if it still points where the decision saw it; otherwise the decision is taken again
  against the new champion, so of two trainings finishing together the better one wins. The
  lease is taken only by a training that has a task id (``owner``) to share Redis with
  workers; a library call or an inline training with no broker holds none.
- A training run again after its worker died (same task id, ``owner``) does not republish
  what it already republished: one champion version.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from common.champion import (
    TAG_CONFIG_HASH,
    TAG_DATA_HASH,
    TAG_FEATURES,
    TAG_KIND,
    TAG_REPUBLISHED_FROM,
    TAG_SPACE,
    TAG_TASK_ID,
    Champion,
    find_champion,
)
from common.keys import PROMOTION_LEASE_KEY
from common.leases import held
from common.redis_client import redis_client
from common.settings import Settings
from workers.train import scoring
from workers.train.dataset import TrainingData
from workers.train.features import FEATURES, STYLE_SPACE
from workers.train.publishing import publish_model, run_tags
from workers.train.scoring import Evaluation
from workers.train.tracking import ArchetypeTracker

log = logging.getLogger(__name__)

# The kind tag of a republished champion's run. (The stored value predates the word
# "republish"; runs already in a store keep it.)
KIND_REPUBLISH = "champion-refresh"
# A challenger with as many stable archetypes as the champion must be steadier by this much
# (mean bootstrap Jaccard) to replace it: a refit on one more season is not a new model.
PROMOTION_MARGIN = 0.01


@dataclass(frozen=True)
class Promotion:
    promote: bool
    reason: str


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


def already_champion(champion: Champion | None, tags: dict[str, str]) -> bool:
    """The champion was trained on this data: nothing to do. Not when it is the republish of
    this very training, run again after its worker died before the search ended."""
    if champion is None or _republished_by(champion, tags.get(TAG_TASK_ID)):
        return False
    return all(champion.tags.get(key) == tags[key] for key in (TAG_DATA_HASH, TAG_CONFIG_HASH))


def _republished_by(champion: Champion, owner: str | None) -> bool:
    return (
        owner is not None
        and champion.tags.get(TAG_KIND) == KIND_REPUBLISH
        and champion.tags.get(TAG_TASK_ID) == owner
    )


@contextmanager
def promotion_lease(settings: Settings, owner: str | None) -> Iterator[None]:
    """Hold ``nba:promotion`` while deciding and moving the alias (none for a library call)."""
    if owner is None:
        yield
        return
    with held(redis_client(), PROMOTION_LEASE_KEY, owner, settings.lease_ttl_s, wait_s=300):
        yield


def comparable(champion: Champion | None) -> bool:
    """A champion in the same style space and features: its scores and names carry over."""
    return (
        champion is not None
        and champion.tags.get(TAG_SPACE) == STYLE_SPACE
        and champion.tags.get(TAG_FEATURES) == ",".join(FEATURES)
    )


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
        champion = find_champion(tracker.settings)
        defending = defending_champion(tracker, champion, data, force)
        decision = decide_promotion(
            winner, champion, defending, all_seasons=data.all_seasons, force=force
        )
        if not decision.promote:
            return decision, defending, champion.version if champion else republished
        if tracker.promote_if(champion.version if champion else None, version):
            log.info("v%s is the new champion: %s", version, decision.reason)
            return decision, defending, version


def defending_champion(
    tracker: ArchetypeTracker, champion: Champion | None, data: TrainingData, force: bool
) -> Evaluation | None:
    """The champion scored like a candidate on this data, when the two are comparable."""
    if champion is None or force or not data.all_seasons or not comparable(champion):
        return None
    model = tracker.load_model(champion)
    return scoring.evaluate_fitted(f"champion v{champion.version}", model, data.features)


def republish_once(
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
        return republish_champion(tracker, data, champion, previous, owner)


def republish_champion(
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
        **run_tags(data, champion.tags.get(TAG_CONFIG_HASH, "")),
        TAG_KIND: KIND_REPUBLISH,
        TAG_REPUBLISHED_FROM: champion.version,
    } | ({TAG_TASK_ID: owner} if owner else {})
    refreshed = Evaluation(f"champion v{champion.version}", model, labels)
    with tracker.training_run(f"champion v{champion.version} on {data.label}", tags) as run:
        version = publish_model(run, data, refreshed, previous, champion.seasons)
        if not tracker.promote_if(champion.version, version):
            log.info("v%s not published as champion: the champion changed meanwhile", version)
            return None
    log.info("champion kept; v%s = v%s's model on %s", version, champion.version, data.label)
    return version
