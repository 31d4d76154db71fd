"""``train --inline``: the train worker's code in this process, no broker needed (it runs where
``workers/train`` is: the train image, or a checkout after ``uv sync``).

With Redis reachable, an inline training holds the training lease the workers hold (it never
overlaps theirs); without it there is nothing to share, and it trains and promotes alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from tqdm import tqdm

from cli.output import echo, warn
from common.celery_app import TRAIN_TIME_LIMIT_S
from common.keys import TRAINING_LEASE_KEY
from common.leases import held
from common.queue_failures import queue_problem
from common.redis_client import redis_client
from common.seasons import Season
from common.settings import Settings, get_settings
from workers.train.training import train_archetypes


def train_inline(seasons: list[Season] | None, *, force: bool = False) -> int:
    """What the train task does (workers/train/tasks.py), here, with a progress bar."""
    layout = "{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} steps{postfix}"
    bars: list[tqdm] = []  # opened at the first step: a skipped training shows no bar

    def progress(done: int, total: int, message: str) -> None:
        if not bars:
            bars.append(tqdm(total=total, desc="training", bar_format=layout, disable=None))
        bar = bars[0]
        bar.total = total
        bar.n = done
        bar.set_postfix_str(message, refresh=False)
        bar.refresh()

    settings = get_settings()
    try:
        with _training_lease(settings) as owner:
            result = train_archetypes(
                settings, seasons, force=force, progress=progress, owner=owner
            )
    finally:
        for bar in bars:
            bar.close()
    echo(f"training: {result.message}")
    return 0


@contextmanager
def _training_lease(settings: Settings) -> Iterator[str | None]:
    """Hold the training lease the workers hold, so an inline training never overlaps theirs
    (it waits for a running one); yields the owner id its runs and promotion use. Without
    Redis there are no workers to share with: no lease, no owner (``None``)."""
    if queue_problem(settings.redis_url, timeout_s=1.0):
        yield None
        return
    owner = f"inline-{uuid.uuid4()}"
    client = redis_client()
    if client.exists(TRAINING_LEASE_KEY):
        warn("a worker is training; waiting for it to end…")
    with held(client, TRAINING_LEASE_KEY, owner, settings.lease_ttl_s, wait_s=TRAIN_TIME_LIMIT_S):
        yield owner
