"""Failures that speak plainly: an unreachable upstream, a refusing proxy, Redis down.

Real parts only: the real nba_api client against addresses that really fail (a name under
``.invalid``, which never resolves; a closed local port; a local proxy that answers 407), real
Celery fetch workers and the real CLI as a subprocess, the app in AppTest and in Chromium.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis
import streamlit as st
from streamlit.testing.v1 import AppTest

from common.failures import split_error
from common.redis_client import redis_client
from common.seasons import Season, SeasonType
from common.settings import Settings, get_settings
from devkit.chromium import CHROMIUM, launch
from tests.services import (
    PROJECT_ROOT,
    celery_workers,
    free_port,
    streamlit_app,
    worker_env,
)
from workers.fetch.nba_client import LeagueDashboardClient, UpstreamError
from workers.fetch.throttle import SharedThrottle

CLI = Path(sys.executable).parent / "nba-archetypes"
APP = str(PROJECT_ROOT / "ui" / "app.py")
DNS_FAILS = "http://nba-upstream.invalid"  # RFC 6761: never resolves
ADVICE = "Check the network or NBA_PROXY, or run offline with the replay server"
SEASON = Season(2018)


def _client(base_url: str, **overrides: object) -> tuple[LeagueDashboardClient, list[str]]:
    values: dict[str, object] = {
        "redis_url": os.environ["REDIS_URL"],
        "nba_stats_base_url": f"{base_url}/stats",
        "nba_request_timeout_s": 2.0,
        "nba_min_request_gap_s": 0.0,
        "nba_backoff_initial_s": 0.01,
        "nba_backoff_max_s": 0.05,
        "nba_backoff_jitter_s": 0.01,
        "nba_max_attempts": 5,
    }
    settings = Settings(**(values | overrides))
    throttle = SharedThrottle(redis.Redis.from_url(settings.redis_url), 0.0)
    lines: list[str] = []
    return LeagueDashboardClient(settings, throttle).reporting_retries(lines.append), lines


def _fails(client: LeagueDashboardClient) -> UpstreamError:
    with pytest.raises(UpstreamError) as caught:
        client.download(SEASON, SeasonType.REGULAR)
    return caught.value


# --- The client: causes in a few words, hopeless failures stop early ------------------------------


def test_a_name_that_does_not_resolve_stops_after_two_attempts() -> None:
    client, lines = _client(DNS_FAILS)
    error = _fails(client)
    assert lines == [
        "2018-19 Regular Season: attempt 1 of 2 failed: cannot resolve nba-upstream.invalid; "
        f"next in {lines[0].rsplit('next in ', 1)[1]}"
    ]
    headline, details = str(error).split("\n", 1)
    assert headline == (
        "stats site failed 2 times for 2018-19 Regular Season: cannot resolve "
        f"nba-upstream.invalid. {ADVICE} (scripts/up.sh --offline, or scripts/run_local.sh)."
    )
    assert len(headline) < 250
    assert "NameResolutionError" in details  # the raw error, below the headline
    assert "Season=2018-19" not in details  # without the request's long query string


def test_a_refused_connection_stops_after_two_attempts() -> None:
    port = free_port()
    client, lines = _client(f"http://127.0.0.1:{port}")
    error = _fails(client)
    assert len(lines) == 1
    assert f"attempt 1 of 2 failed: 127.0.0.1:{port} refused the connection; next in" in lines[0]
    assert split_error(str(error))[0].startswith(
        f"stats site failed 2 times for 2018-19 Regular Season: 127.0.0.1:{port} refused the "
        f"connection. {ADVICE}"
    )


@pytest.fixture
def refusing_proxy() -> Iterator[str]:
    """A real HTTP proxy that wants credentials nobody has: every request gets a 407."""

    class Handler(BaseHTTPRequestHandler):
        def _refuse(self) -> None:
            self.send_response(407, "Proxy Authentication Required")
            self.send_header("Proxy-Authenticate", 'Basic realm="test"')
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_CONNECT = _refuse

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_malformed_upstream_address_fails_once_in_one_line() -> None:
    """A setting no retry can fix (NBA_STATS_BASE_URL without its scheme) is an upstream
    failure in one line like the others, not a bare MissingSchema traceback."""
    client, lines = _client("stats.nba.com")  # the helper adds /stats
    headline, details = split_error(str(_fails(client)))
    assert lines == []
    assert headline.startswith("stats site failed once for 2018-19 Regular Season: MissingSchema")
    assert "upstream: stats.nba.com/stats" in details


@pytest.mark.parametrize("upstream", ["https://stats.nba.com", "http://stats.nba.com"])
def test_a_proxy_refusing_authentication_stops_early(refusing_proxy: str, upstream: str) -> None:
    # HTTPS goes through CONNECT (refused with 407); plain HTTP asks the proxy directly.
    client, lines = _client(upstream, nba_proxy=refusing_proxy)
    error = _fails(client)
    assert len(lines) <= 1
    assert "the proxy 127.0.0.1 refused authentication (HTTP 407)" in split_error(str(error))[0]
    assert "Check the user and password in NBA_PROXY" in split_error(str(error))[0]


def test_transient_failures_are_reported_attempt_by_attempt(replay: str) -> None:
    from replay.server import inject_faults

    inject_faults(replay, ["500", "429"], season="2018-19")
    client, lines = _client(replay)
    assert client.download(SEASON, SeasonType.REGULAR).attempts == 3
    assert [re.sub(r"next in .*", "next in …", line) for line in lines] == [
        f"2018-19 Regular Season: attempt 1 of 5 failed: HTTP 500 from {replay}/stats/"
        "leaguedashplayerstats; next in …",
        f"2018-19 Regular Season: attempt 2 of 5 failed: HTTP 429 from {replay}/stats/"
        "leaguedashplayerstats; next in …",
    ]


# --- Through a real fetch worker: the CLI and the app ---------------------------------------------


def _unreachable_env(data_dir: Path) -> dict[str, str]:
    # Long enough a wait between the two attempts for a 0.5 s poll to see the first one.
    return worker_env(data_dir, DNS_FAILS) | {
        "NBA_BACKOFF_INITIAL_S": "2",
        "NBA_BACKOFF_MAX_S": "5",
        "NBA_BACKOFF_JITTER_S": "0",
        "NBA_MAX_ATTEMPTS": "5",
    }


def _cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120):  # type: ignore[no-untyped-def]
    return subprocess.run(
        [str(CLI), *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def unreachable_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fetch worker whose upstream does not resolve, shared by the tests below."""
    data = tmp_path_factory.mktemp("unreachable") / "data"
    data.mkdir()
    logs = tmp_path_factory.mktemp("unreachable-logs")
    with celery_workers({"workers.fetch.tasks": "fetch"}, _unreachable_env(data), logs):
        yield data


def test_cli_shows_each_attempt_and_one_line_with_what_to_do(unreachable_worker: Path) -> None:
    started = time.monotonic()
    run = _cli("refresh", "2018-19", "--wait", "--verbose")
    assert run.returncode == 1, run.stderr[-2000:]
    assert time.monotonic() - started < 30  # two attempts, not five with growing waits
    assert run.stdout.splitlines()[0].startswith("2018-19: queued (")  # results on stdout
    out = run.stderr  # attempts and the failure on stderr
    assert (
        "2018-19 Regular Season: attempt 1 of 2 failed: cannot resolve nba-upstream.invalid; "
        "next in 2 s" in out
    )
    [failed] = [line for line in out.splitlines() if "FAILED" in line]
    assert failed.startswith(
        "2018-19: FAILED: stats site failed 2 times for 2018-19 Regular Season: cannot resolve "
        f"nba-upstream.invalid. {ADVICE}"
    )
    assert "UpstreamError" not in failed
    details = out.split(failed, 1)[1].lstrip("\n").splitlines()
    assert details[0] == "    upstream: http://nba-upstream.invalid/stats"
    assert details[1].startswith("    last error: ConnectionError: ")
    assert "Traceback" not in run.stderr

    quiet = _cli("refresh", "2018-19", "--wait")
    assert quiet.returncode == 1
    [failed] = [line for line in quiet.stderr.splitlines() if "FAILED" in line]
    assert failed.endswith("(--verbose: details)")
    assert "last error:" not in quiet.stderr


def _reset_caches() -> None:
    get_settings.cache_clear()
    redis_client.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def use_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Settings for the app from the environment; every cache of them is dropped afterwards,
    so later tests in this process do not keep this test's (a Redis that is down)."""

    def use(**env: str) -> None:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        _reset_caches()

    yield use
    monkeypatch.undo()
    _reset_caches()


def test_the_app_shows_each_attempt_and_the_cause_with_details_below(
    unreachable_worker: Path, use_env: Callable[..., None]
) -> None:
    use_env(DATA_DIR=str(unreachable_worker))
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["page"] = "pipeline"
    at.run()
    at.button(key="refresh_2018-19").click().run()
    seen: set[str] = set()
    deadline = time.monotonic() + 60
    while not at.session_state.get("last_refresh") and time.monotonic() < deadline:
        assert not at.exception, [e.value for e in at.exception]
        seen |= {w.value for w in at.warning}
        time.sleep(0.4)
        at.run()
    last = at.session_state["last_refresh"]
    assert last["failed"] is True
    attempt = (
        "2018-19 Regular Season: attempt 1 of 2 failed: cannot resolve nba-upstream.invalid; "
        "next in 2 s"
    )
    assert attempt in seen  # shown while it was retrying
    assert last["message"].startswith(
        "Fetching 2018-19 failed: stats site failed 2 times for 2018-19 Regular Season: cannot "
        f"resolve nba-upstream.invalid. {ADVICE}"
    )
    assert "\n" not in last["message"]
    assert "UpstreamError" not in last["message"]
    assert [e.value for e in at.main.error] == [f"Last refresh (2018-19): {last['message']}"]
    assert [w.value for w in at.main.warning] == [attempt]  # the attempts stay listed
    [expander] = [e for e in at.main.expander if e.label == "Technical details"]
    [code] = expander.code
    assert code.value.startswith("upstream: http://nba-upstream.invalid/stats\nlast error: ")
    assert "NameResolutionError" in code.value


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium")
def test_the_app_in_a_browser_shows_the_cause_and_the_details(
    unreachable_worker: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    app = PROJECT_ROOT / "ui" / "app.py"
    env = {**os.environ, "DATA_DIR": str(unreachable_worker)}
    with (
        streamlit_app(app, env, tmp_path / "streamlit.log") as (url, _),
        sync_playwright() as playwright,
    ):
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.set_default_timeout(60_000)
        page.goto(f"{url}/?page=pipeline")
        page.get_by_text("Refresh another season").click()
        page.get_by_role("button", name="2018-19", exact=True).click()
        expect(
            page.get_by_text(re.compile(r"attempt 1 of 2 failed: cannot resolve"))
        ).to_be_visible(timeout=60_000)
        headline = page.get_by_text(re.compile(r"^Last refresh \(2018-19\): Fetching 2018-19"))
        expect(headline).to_be_visible(timeout=60_000)
        assert "Check the network or NBA_PROXY" in headline.inner_text()
        assert "\n" not in headline.inner_text().strip()
        page.get_by_text("Technical details").click()
        expect(page.get_by_text(re.compile("NameResolutionError"))).to_be_visible(timeout=60_000)
        browser.close()


# --- Redis down -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [("status",), ("refresh", "2018-19"), ("refresh", "current", "--wait"), ("train",), ("seed",)],
)
def test_every_cli_command_says_in_one_line_that_redis_is_down(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    down = f"redis://:s3cret@127.0.0.1:{free_port()}/0"
    run = _cli(*args, env={"REDIS_URL": down, "DATA_DIR": str(tmp_path)}, timeout=60)
    assert run.returncode == 1
    if args == ("status",):  # what it can tell without Redis, then the one line
        assert run.stdout.splitlines() == [
            "champion: none yet (`nba-archetypes seed --inline`, or refresh seasons)",
            "seasons stored: none",
        ]
    else:
        assert run.stdout == ""
    [line] = run.stderr.strip().splitlines()
    assert line.startswith("error: the task queue (Redis) is unreachable at redis://:***@127.0.0.1")
    assert "(connection refused)" in line
    assert "REDIS_URL" in line
    assert "s3cret" not in line


def test_status_shows_what_it_can_read_when_the_mlflow_server_and_redis_are_down(
    tmp_path: Path,
) -> None:
    """The multi-host profile with everything it reads from down: each part it cannot read is
    marked so, each cause is one line on stderr, and it exits 1 (it used to stop at the
    first, the MLflow server, and say nothing of the rest)."""
    server = f"http://127.0.0.1:{free_port()}"
    env = {
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "DATA_DIR": str(tmp_path),
        "DATA_STORE": "mlflow",
        "TRACKING_SERVER_URL": server,
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    }
    run = _cli("status", env=env, timeout=60)
    assert run.returncode == 1
    assert run.stdout.splitlines() == [
        "champion: unreadable (error below)",
        "seasons stored: unreadable (error below)",
    ]
    champion, seasons, queue = run.stderr.strip().splitlines()
    assert champion.startswith(
        f"error: could not read the champion from the MLflow store at {server}"
    )
    assert seasons.startswith(
        f"error: could not read the seasons from the MLflow store at {server}"
    )
    assert queue.startswith("error: the task queue (Redis) is unreachable")


def test_the_app_says_in_one_line_that_redis_is_down(
    use_env: Callable[..., None], data_dir: Path
) -> None:
    down = f"redis://127.0.0.1:{free_port()}/0"
    use_env(DATA_DIR=str(data_dir), REDIS_URL=down)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["page"] = "pipeline"
    at.run()
    assert not at.exception
    [error] = at.error
    assert error.value.startswith(f"The task queue (Redis) is unreachable at {down}")
    assert "REDIS_URL" in error.value
    assert "\n" not in error.value


def test_errors_quote_only_a_few_dozen_characters_of_input() -> None:
    wall = "9" * 5000
    run = _cli("refresh", wall)
    assert run.returncode == 2
    assert len(run.stdout + run.stderr) < 200
    for command in ("player", "similar"):
        run = _cli(command, wall, wall)
        assert run.returncode == 2
        assert len(run.stdout + run.stderr) < 200


# --- scripts/up.sh: one look at the upstream before starting -----------------------------------


def _check_upstream(base_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NBA_STATS_BASE_URL": base_url, "UPSTREAM_CHECK_S": "5"}
    env.pop("NBA_PROXY", None)
    return subprocess.run(
        ["scripts/up.sh", "--check-upstream"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_up_says_whether_the_upstream_answers(replay: str) -> None:
    run = _check_upstream(f"{replay}/stats")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("[up] upstream check: 127.0.0.1 answers")

    for base, cause in [
        (f"{DNS_FAILS}/stats", "cannot resolve nba-upstream.invalid"),
        (f"http://127.0.0.1:{free_port()}/stats", "127.0.0.1 refused the connection"),
    ]:
        run = _check_upstream(base)
        assert run.returncode == 1
        [line] = run.stdout.splitlines()
        assert line.startswith(f"[up] upstream check: {cause}: refreshes will fail")
        assert "scripts/up.sh --offline" in line


@pytest.mark.parametrize("upstream", ["https://stats.nba.com", "http://stats.nba.com"])
def test_up_says_the_proxy_refused_its_login(refusing_proxy: str, upstream: str) -> None:
    """Through CONNECT (https) as directly (http): the proxy's 407 is named, not "unreachable"."""
    run = subprocess.run(
        [sys.executable, "scripts/check_upstream.py", f"{upstream}/stats", refusing_proxy, "5"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert run.stdout.strip() == "bad the proxy refused authentication (HTTP 407): check NBA_PROXY"
