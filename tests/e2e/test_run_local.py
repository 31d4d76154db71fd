"""The no-Docker mode of the README: ``scripts/run_local.sh`` starts every service as a local
process (honcho), seeds an empty data directory with the bundled seasons and trains a first
champion; Ctrl-C stops everything."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis

from common.champion import find_champion
from common.settings import Settings
from devkit.services import GaveUp
from tests.services import PROJECT_ROOT, free_port, wait_until

SERVICES = ["REDIS_PORT", "REPLAY_PORT", "MLFLOW_PORT", "FLOWER_PORT", "UI_PORT"]


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def _running(process: subprocess.Popen[bytes], log_path: Path) -> bool:
    """True while the local mode runs; its end (a service that could not start stops them
    all) is a failure at once, not a wait for answers that cannot come."""
    if process.poll() is not None:
        tail = log_path.read_text(errors="replace")[-2000:]
        raise GaveUp(f"run_local.sh ended with {process.returncode}:\n{tail}")
    return True


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.timeout(600)
def test_every_service_runs_locally_and_the_app_gets_a_champion(tmp_path: Path) -> None:
    ports = {name: free_port() for name in SERVICES}
    data_dir = tmp_path / "data"
    env = {
        # What the test session set for itself (a test Redis, an unreachable stats site) is not
        # what the local mode runs with.
        **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "NBA_STATS_BASE_URL"}},
        **{name: str(port) for name, port in ports.items()},
        "DATA_DIR": str(data_dir),
        "LOCAL_STATE": str(tmp_path / "state"),
        "FLOWER_BASIC_AUTH": "local:secret",
    }
    log_path = tmp_path / "run_local.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["scripts/run_local.sh"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: Ctrl-C reaches every service
        )
    try:
        # Each service answers (they start together; the slowest takes a while on 2 cores).
        expected = {
            f"http://127.0.0.1:{ports['UI_PORT']}/_stcore/health": 200,
            f"http://127.0.0.1:{ports['UI_PORT']}/": 200,
            f"http://127.0.0.1:{ports['MLFLOW_PORT']}/health": 200,
            f"http://127.0.0.1:{ports['FLOWER_PORT']}/": 401,  # basic auth required
            f"http://127.0.0.1:{ports['REPLAY_PORT']}/_replay/health": 200,
        }
        for url, status in expected.items():
            wait_until(
                lambda u=url, s=status: _running(process, log_path) and _status(u) == s,
                f"{url} (log: {log_path})",
                240,
            )
        assert redis.Redis(port=ports["REDIS_PORT"]).ping()

        settings = Settings(data_dir=data_dir)
        champion = wait_until(
            lambda: find_champion(settings), f"the first champion (log: {log_path})", 300, 2
        )
        assert champion.version == "1"
        assert len(list((data_dir / "cleaned").glob("*.parquet"))) == 27  # the bundled seasons
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        try:
            process.wait(timeout=90)
        except subprocess.TimeoutExpired as error:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise AssertionError(f"run_local.sh ignored Ctrl-C (log: {log_path})") from error
    still_up = [name for name, port in ports.items() if _listening(port)]
    assert not still_up, f"still listening after Ctrl-C: {still_up}"


def test_a_port_already_taken_is_named_before_anything_starts(tmp_path: Path) -> None:
    """A redis-server apt started as a service holds 6379: the local mode says so and which
    setting to change, instead of a Redis that cannot bind taking every other service down."""
    ports = {name: free_port() for name in SERVICES}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", ports["REDIS_PORT"]))
        taken.listen()
        run = subprocess.run(
            ["scripts/run_local.sh"],
            cwd=PROJECT_ROOT,
            env={
                **os.environ,
                **{name: str(port) for name, port in ports.items()},
                "DATA_DIR": str(tmp_path / "data"),
                "LOCAL_STATE": str(tmp_path / "state"),
            },
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert run.returncode == 1
    said = f"run_local: already in use on 127.0.0.1: {ports['REDIS_PORT']} (REDIS_PORT). Stop"
    assert run.stderr.strip().splitlines()[-1].startswith(said)
    assert "REDIS_PORT=6380 scripts/run_local.sh" in run.stderr
    assert not (tmp_path / "data").exists()  # nothing started, nothing written
