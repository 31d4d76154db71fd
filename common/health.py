"""A heartbeat file for the Celery workers' container health checks.

Docker runs a health check every few seconds; asking the worker over the broker (``celery
inspect ping``) means a Python process that imports Celery and the app: about 1.3 s of CPU per
check. Instead the worker writes the time into a file from its own event loop, and the check
(``docker/healthcheck.sh heartbeat``: bash builtins only, no process started) reads its age.

The beat runs as a consumer bootstep on the consumer's timer, started after the task consumer:
it stops while the worker is not consuming (broker connection lost, consumer restarting,
event loop stuck) and the file goes stale, so the check fails. A task running in the pool
does not stop it: the pool's processes are not the consumer's.

The worker loads this module with ``--include common.health`` (the images' command); local
runs and tests do not, and write no file. ``HEARTBEAT_FILE`` and ``HEARTBEAT_INTERVAL_S``
(``common/settings.py``) change the defaults; the health check reads the same file variable.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from celery import bootsteps
from celery.signals import worker_init

from common.settings import get_settings

log = logging.getLogger(__name__)


def beat(path: Path) -> None:
    """Write the time (epoch seconds): the check reads it with a shell builtin. Written to a
    temporary file and renamed, so the check never reads a half-written one."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        temporary.write_text(f"{time.time():.3f}\n")
        temporary.replace(path)
    except OSError as error:  # a full or read-only /tmp must not stop the worker
        log.warning("heartbeat: cannot write %s: %s", path, error)


class Heartbeat(bootsteps.StartStopStep):
    """Writes the heartbeat file every few seconds while the consumer consumes."""

    requires = ("celery.worker.consumer.tasks:Tasks",)
    label = "Heartbeat"

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        settings = get_settings()
        self.path = settings.heartbeat_file  # a tmpfs of its own per container in compose
        self.interval_s = settings.heartbeat_interval_s
        self.timer_entry: Any = None
        super().__init__(parent, **kwargs)

    def start(self, parent: Any) -> None:
        beat(self.path)
        self.timer_entry = parent.timer.call_repeatedly(self.interval_s, beat, (self.path,))
        log.info("heartbeat: %s every %.0f s", self.path, self.interval_s)

    def stop(self, parent: Any) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None
        self.path.unlink(missing_ok=True)  # not consuming: unhealthy now, not in a minute

    shutdown = stop


@worker_init.connect
def _add_heartbeat(sender: Any = None, **_: Any) -> None:
    # worker_init comes after --include modules are imported and before the consumer's
    # blueprint is built from app.steps, so the step is part of this worker only.
    steps = sender.app.steps["consumer"]
    if Heartbeat not in steps:
        steps.add(Heartbeat)
