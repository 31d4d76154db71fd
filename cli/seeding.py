"""``seed --inline``: what the seed task does (workers/fetch/tasks.py), in this process: import
the bundled recordings, then train here too. It needs both workers' code, so it runs in a
checkout after ``uv sync`` (no service image has both); the images queue ``seed`` instead."""

from __future__ import annotations

from cli.inline import train_inline
from cli.output import echo
from cli.work import seeded_line
from common.season_store import open_data
from common.settings import get_settings
from workers.fetch.recordings import seed_from_recordings


def seed_inline() -> int:
    settings = get_settings()
    outcomes = seed_from_recordings(settings.recordings_dir, open_data(settings).sync(), settings)
    echo(seeded_line([o.season for o in outcomes if o.stored]))
    # Like the task, always train: skipped when the champion already has exactly this data.
    return train_inline(None)
