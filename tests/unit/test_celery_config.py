"""The Celery settings the pipeline's correctness rests on, and the beat schedule."""

from __future__ import annotations

import pytest
from celery.schedules import crontab

from common.celery_app import (
    FETCH_QUEUE,
    FETCH_SEASON,
    REFRESH_CURRENT_SEASON,
    TRAIN_ARCHETYPES,
    TRAIN_QUEUE,
    app,
    create_app,
    cron_schedule,
)
from common.settings import get_settings


def test_correctness_settings() -> None:
    conf = app.conf
    assert (conf.task_serializer, conf.result_serializer, conf.accept_content) == (
        "json",
        "json",
        ["json"],
    )
    assert conf.task_acks_late
    assert conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    # STARTED is written by common.executions after its checks, never over a finished task.
    assert not conf.task_track_started
    assert app.task_cls == "common.executions:LeasedTask"
    assert conf.worker_send_task_events
    assert conf.task_send_sent_event
    assert 0 < conf.result_expires <= 7 * 24 * 3600
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert {q.name for q in conf.task_queues} == {FETCH_QUEUE, TRAIN_QUEUE}


def test_tasks_are_routed_to_their_queue_with_time_limits() -> None:
    import workers.fetch.tasks
    import workers.train.tasks

    assert app.amqp.router.route({}, FETCH_SEASON)["queue"].name == FETCH_QUEUE
    assert app.amqp.router.route({}, TRAIN_ARCHETYPES)["queue"].name == TRAIN_QUEUE
    for task in (workers.fetch.tasks.fetch_season, workers.train.tasks.train):
        assert 0 < task.soft_time_limit < task.time_limit
    # Training is allowed longer than a fetch, and the broker waits longer than either.
    assert workers.train.tasks.train.time_limit > workers.fetch.tasks.fetch_season.time_limit


def test_beat_schedule_comes_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFRESH_SCHEDULE", "30 6 * 11 1-5")
    get_settings.cache_clear()
    try:
        entry = create_app().conf.beat_schedule["refresh-current-season"]
    finally:
        get_settings.cache_clear()
    assert entry["task"] == REFRESH_CURRENT_SEASON
    schedule = entry["schedule"]
    assert isinstance(schedule, crontab)
    assert schedule.minute == {30}
    assert schedule.hour == {6}
    assert schedule.month_of_year == {11}
    assert schedule.day_of_week == {1, 2, 3, 4, 5}


def test_default_schedule_is_daily_during_the_season() -> None:
    schedule = cron_schedule(get_settings().refresh_schedule)
    assert schedule.month_of_year == {10, 11, 12, 1, 2, 3, 4, 5, 6}
    assert len(schedule.hour) == 1
    assert len(schedule.day_of_week) == 7


def test_a_malformed_schedule_is_refused() -> None:
    with pytest.raises(ValueError, match="5 cron fields"):
        cron_schedule("every day")
