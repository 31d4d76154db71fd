"""Every Redis key the pipeline shares between services, named once.

Claims and leases (``common/leases.py``) hold a task id; the throttle and the seed claim are
plain keys. Publishers, workers, the app and the CLI all read these names from here.
"""

from __future__ import annotations

import hashlib

from common.seasons import Season

ALL_SEASONS = "all"
REFRESH_CLAIM_PREFIX = "nba:refresh:"
TRAINING_CLAIM_PREFIX = "nba:train:pending:"
TRAINING_LEASE_KEY = "nba:training"  # held by the one training that runs
PROMOTION_LEASE_KEY = "nba:promotion"  # held while the champion alias is decided and moved
SEED_CLAIM_KEY = "nba:seed:claimed"  # one first-boot seed among fetch workers starting together
THROTTLE_KEY = "nba:throttle:next-slot"  # the politeness gap shared by every fetch worker
# Every live worker's name, with when it last said so (``common/recovery.py``): what `status`
# lists without asking the workers over the broker.
WORKER_PRESENCE_PREFIX = "nba:worker:"


def refresh_claim_key(season: Season) -> str:
    """At most one fetch per season queued or running: its task id."""
    return f"{REFRESH_CLAIM_PREFIX}{season}"


def training_claim_key(seasons: list[Season] | None) -> str:
    """The next training on ``seasons`` (all by default): its task id until it starts."""
    return f"{TRAINING_CLAIM_PREFIX}{training_scope(seasons)}"


def training_queued_key(task_id: str) -> str:
    """Set once the claimed training ``task_id`` is sent, naming its sender: the first wins."""
    return f"nba:train:queued:{task_id}"


def training_scope(seasons: list[Season] | None) -> str:
    if not seasons:
        return ALL_SEASONS
    labels = ",".join(str(s) for s in sorted(set(seasons)))
    return hashlib.sha256(labels.encode()).hexdigest()[:12]


def alive_key(task_id: str) -> str:
    """The heartbeat lease of a running task (``common/executions.py``)."""
    return f"nba:alive:{task_id}"
