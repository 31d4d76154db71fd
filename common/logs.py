"""One logging set-up for every process: timestamped lines on stderr, level from LOG_LEVEL."""

from __future__ import annotations

import logging

from common.settings import get_settings

FORMAT = "%(asctime)s %(levelname)s [%(processName)s] %(name)s: %(message)s"


def configure_logging(level: str | None = None) -> None:
    logging.basicConfig(
        level=(level or get_settings().log_level).upper(), format=FORMAT, force=True
    )
    # Chatty libraries stay at WARNING unless we are debugging (LOG_LEVEL=DEBUG).
    root = logging.getLogger().level
    quiet = logging.NOTSET if root <= logging.DEBUG else max(logging.WARNING, root)
    noisy_loggers = ("urllib3", "alembic", "mlflow.store.db.utils", "mlflow.utils.environment")
    for noisy in noisy_loggers:
        logging.getLogger(noisy).setLevel(quiet)
