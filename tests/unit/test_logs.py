"""The one logging set-up: chatty libraries stay quiet unless LOG_LEVEL asks for debugging."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from common.logs import configure_logging


@pytest.fixture
def root_logging_restored() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize(
    ("log_level", "urllib3_shows"),
    [("DEBUG", logging.DEBUG), ("INFO", logging.WARNING), ("ERROR", logging.ERROR)],
)
def test_chatty_libraries_speak_only_when_debugging(
    root_logging_restored: None, log_level: str, urllib3_shows: int
) -> None:
    configure_logging(log_level)
    assert logging.getLogger("urllib3").getEffectiveLevel() == urllib3_shows
    assert logging.getLogger("alembic").getEffectiveLevel() == urllib3_shows
