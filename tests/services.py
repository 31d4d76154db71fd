"""Real services for the tests: a throwaway redis-server and Celery worker processes."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import redis

T = TypeVar("T")

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A redis-server on a free port with no persistence, for one test session."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(
                "the tests need Redis: install redis-server (apt-get install redis-server) "
                "or set TEST_REDIS_URL to a server the tests may flush"
            )
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="test-redis-")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.url = f"redis://127.0.0.1:{self.port}/0"
        wait_until(lambda: redis.Redis.from_url(self.url).ping(), "redis-server to answer")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_until(
    check: Callable[[], T], what: str, timeout_s: float = 30.0, interval_s: float = 0.05
) -> T:
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as error:  # retried until the deadline
            last_error = error
        time.sleep(interval_s)
    raise TimeoutError(f"timed out after {timeout_s}s waiting for {what} (last: {last_error})")


@contextmanager
def celery_worker(
    module: str, queue: str, env: Mapping[str, str], log_path: Path, concurrency: int = 1
) -> Iterator[subprocess.Popen[bytes]]:
    """A real worker process consuming ``queue``, stopped with SIGTERM (warm shutdown)."""
    from common.celery_app import app

    name = f"{queue}-{os.getpid()}-{time.monotonic_ns()}@test"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", module, "worker", "-Q", queue,
             "-c", str(concurrency), "-n", name, "--without-gossip", "--without-mingle",
             "--loglevel", "INFO"],
            cwd=PROJECT_ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until(
            lambda: process.poll() is None and app.control.ping([name], timeout=0.5),
            f"worker {name} (log: {log_path})",
            timeout_s=60,
        )
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
