"""``task_status`` reads state and result together, with a real Redis and a real worker.

Polls land right as tasks finish (each task reports PROGRESS, then ends a few milliseconds
later, while the test polls it in a tight loop): a poll may see PROGRESS or the end, never
SUCCESS without its result or FAILURE without its error.
"""

from __future__ import annotations

import ast
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from common.celery_app import app
from common.progress import follow_refresh, training_progress
from common.task_status import REVOKED, TaskStatus, task_status
from tests.services import PROJECT_ROOT, celery_workers, wait_until
from tests.status_tasks import FAIL, FINISH, STATUS_QUEUE

TASKS = 60


@pytest.fixture(scope="module")
def status_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    logs = tmp_path_factory.mktemp("status-worker-logs")
    with celery_workers({"tests.status_tasks": STATUS_QUEUE}, {}, logs):
        yield logs


def _poll_until_done(task_id: str, timeout_s: float = 60) -> list[dict[str, Any]]:
    """Every status seen, polling as fast as Redis answers, until the task has ended."""
    seen = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = task_status(task_id)
        seen.append(status)
        if status.state in {"SUCCESS", "FAILURE"}:
            return seen
    raise TimeoutError(f"task {task_id} did not end in {timeout_s}s; last: {seen[-1:]}")


def _send(name: str, count: int) -> list[str]:
    # A few milliseconds of PROGRESS each, varied so the end lands anywhere in a poll.
    return [
        app.send_task(name, args=[n, 0.002 * (n % 7)], queue=STATUS_QUEUE).id for n in range(count)
    ]


def _mismatches(seen: list[dict[str, Any]], final: str, result: dict[str, Any]) -> list[str]:
    """Polls whose info does not belong to their state (STARTED's is the worker's pid)."""
    expected = {"PROGRESS": lambda info: info.get("stage") == "test", final: result.__eq__}
    return [
        f"{s.state} with {s.info}"
        for s in seen
        if s.state in expected and not expected[s.state](s.info)
    ]


def _poll_each(name: str, count: int, final: str, result: Callable[[int], dict[str, Any]]) -> None:
    bad: list[str] = []
    polls = progress_polls = 0
    for n, task_id in enumerate(_send(name, count)):  # one worker process: they end in order
        seen = _poll_until_done(task_id)
        assert seen[-1].state == final, seen[-1]
        polls += len(seen)
        progress_polls += sum(s.state == "PROGRESS" for s in seen)
        bad += _mismatches(seen, final, result(n))
    assert not bad, f"{len(bad)} of {polls} polls saw a state without its result: {bad[:3]}"
    # The polls did land while tasks were between PROGRESS and their end.
    assert progress_polls >= count // 3, (progress_polls, polls)


def test_success_is_never_seen_without_its_result(status_worker: Path) -> None:
    _poll_each(FINISH, TASKS, "SUCCESS", lambda n: {"status": "done", "n": n})


def test_failure_is_never_seen_without_its_error(status_worker: Path) -> None:
    _poll_each(
        FAIL, TASKS // 3, "FAILURE", lambda n: {"error": f"ValueError: task {n} failed on purpose"}
    )


def test_a_task_revoked_by_an_operator_ends_its_progress(status_worker: Path) -> None:
    """Revoked from Flower while it runs: the app's progress ends, saying so (it used to
    show "revoked" at 5 % and poll forever)."""
    task_id = app.send_task(FINISH, args=[1, 60], queue=STATUS_QUEUE).id
    wait_until(lambda: task_status(task_id).state == "PROGRESS", "the task to run", 60)
    app.control.revoke(task_id, terminate=True)
    wait_until(lambda: task_status(task_id).state == REVOKED, "the task to be revoked", 60)
    for progress in (follow_refresh(task_id, "2018-19"), training_progress(task_status(task_id))):
        assert (progress.done, progress.failed) == (True, True)
        assert "was cancelled: revoked by an operator" in progress.message, progress.message


def test_unknown_task_is_pending_with_no_info() -> None:
    assert task_status("no-such-task") == TaskStatus("no-such-task", "PENDING", {})


def _imported_from(relative: str, module: str) -> set[str]:
    tree = ast.parse((PROJECT_ROOT / relative).read_text())
    return {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == module
        for alias in node.names
    }


def test_the_app_and_the_cli_follow_work_with_one_follower_and_nothing_reads_results_itself() -> (
    None
):
    # One progress follower (common/progress.py) serves both interfaces.
    assert "follow_refresh" in _imported_from("ui/views/pipeline.py", "common.progress")
    assert {"fetch_progress", "training_progress"} <= _imported_from(
        "cli/follow.py", "common.progress"
    ) | _imported_from("cli/status.py", "common.progress")
    for folder in ("common", "ui", "workers", "cli"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            if path.relative_to(PROJECT_ROOT).as_posix() == "common/task_status.py":
                continue
            text = path.read_text()
            assert "AsyncResult" not in text, f"{path} reads task results itself"
            if folder in ("ui", "cli"):
                assert "get_task_meta" not in text, f"{path} reads task results itself"
