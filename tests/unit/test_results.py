"""What the tasks report, read back by the app and the CLI."""

from __future__ import annotations

import pytest

from common.results import FetchResult, TaskProgress, TrainingResult


@pytest.mark.parametrize(
    ("result", "sentence"),
    [
        (FetchResult("updated", "2016-17", rows=486, eligible=352),
         "2016-17: 486 players stored (352 eligible)."),
        (FetchResult("no-games", "2026-27"),
         "The NBA site reports no games for 2026-27 yet: nothing stored."),
        (FetchResult("up-to-date", "2016-17", training_task_id="t-1"),
         "2016-17 was stored after this refresh was asked for: not written again."),
        (FetchResult("superseded", "2016-17", superseded_by="f-2"),
         "2016-17: a newer refresh of it took over."),
    ],
)  # fmt: skip
def test_a_fetchs_end_is_said_in_a_sentence(result: FetchResult, sentence: str) -> None:
    """The app's progress and the CLI's line say the same, never "0 players" for a season
    stored by someone else, nor the bare status word."""
    assert result.summary == sentence


def test_results_read_back_whatever_keys_another_worker_version_wrote() -> None:
    stored = {**FetchResult("updated", "2016-17", rows=3).to_json(), "added_later": 1}
    assert FetchResult.from_json(stored) == FetchResult("updated", "2016-17", rows=3)
    assert TaskProgress.from_json(None) == TaskProgress()
    training = TrainingResult("skipped", "same data", None)
    assert TrainingResult.from_json(training.to_json()) == training
