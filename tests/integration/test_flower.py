"""Flower runs against the same broker, behind basic auth taken from the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests

from tests.services import PROJECT_ROOT, free_port, wait_until


@pytest.fixture
def flower() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "common.celery_app", "flower",
         "--address=127.0.0.1", f"--port={port}"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "FLOWER_BASIC_AUTH": "coach:s3cret"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: requests.get(f"{url}/healthcheck", timeout=1).ok, "flower", 60)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_flower_requires_the_configured_credentials(flower: str) -> None:
    assert requests.get(f"{flower}/", timeout=5).status_code == 401
    assert requests.get(f"{flower}/", auth=("coach", "wrong"), timeout=5).status_code == 401
    page = requests.get(f"{flower}/", auth=("coach", "s3cret"), timeout=5)
    assert page.status_code == 200
    # It talks to the same broker the workers use.
    broker = requests.get(f"{flower}/broker", auth=("coach", "s3cret"), timeout=10)
    assert broker.status_code == 200
    assert os.environ["REDIS_URL"].rsplit(":", 1)[-1].split("/")[0] in broker.text
