"""The whole product in Docker, end to end, the way a person runs and uses it.

One throwaway compose project (``nba-e2e-<random>``: never a developer's stack, volumes or
image tags) from both compose files (the replay server stands in for stats.nba.com), with its
own settings file, free host ports and Flower credentials:

1. build the images (BuildKit's cache makes a rebuild of unchanged code quick) and
   ``up -d --wait``: the fetch worker seeds the bundled seasons into the empty volume and the
   train worker trains the first champion, v1, which the app shows (headless Chromium);
2. a refresh published from the app's Pipeline page (force: download 2018-19 again; the replay
   server's copy differs from the bundled seed, so the data changes) republishes the
   champion's model on the new data and trains a challenger, promoted only if it scores
   better; the app then shows whichever version the registry's champion alias names;
3. every process of every container but Redis runs as a non-root user (Redis's entrypoint drops
   to uid 999), and the images ship no uv, compiler or binutils;
4. nothing but the app's 8501 is published beyond 127.0.0.1;
5. the images start fast: what the workers and the app import comes from shipped bytecode,
   the health checks run no Python (the workers' reads their heartbeat), and a container
   started with .env.example's Flower password refuses to start, in one line;
6. after ``stop`` and ``up --wait`` the data and the champion are still there;
7. ``down -v`` and the image tags removed, whatever happened.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devkit.chromium import CHROMIUM, launch
from devkit.chromium import MISSING as CHROMIUM_MISSING
from tests.services import docker, free_port, wait_until
from tests.unit.test_dockerfiles import clean_env

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILES = [ROOT / "docker-compose.yaml", ROOT / "docker-compose.replay.yaml"]
BASE_IMAGES = ["python:3.11-slim-bookworm", "redis:7.0-bookworm"]
PROJECT_IMAGES = ["fetch", "train", "ui", "mlflow", "flower", "replay"]
SEASON = "2018-19"  # the replay server's copy differs from the bundled seed (see the module doc)
PUBLIC_PORT = 8501
ROOT_SERVICES = {"redis"}
REDIS_UID = 999
BROWSER_WAIT_MS = 90_000
ARCHETYPE_CHARTS = 3
SCREENSHOTS = ROOT / "artifacts" / "screenshots"  # git-ignored; for a person to look at


def _why_skip() -> str | None:
    try:
        if docker("info", timeout=30).returncode != 0:
            return "needs a running Docker engine: run scripts/install_docker.sh"
        if docker("compose", "version", timeout=30).returncode != 0:
            return "needs the Compose v2 plugin: run scripts/install_docker.sh"
    except (OSError, subprocess.TimeoutExpired):
        return "needs a running Docker engine: run scripts/install_docker.sh"
    missing = [i for i in BASE_IMAGES if docker("image", "inspect", i).returncode != 0]
    if missing:
        return f"base images missing ({', '.join(missing)}): run scripts/build_base_images.sh"
    if not CHROMIUM.exists():
        return CHROMIUM_MISSING
    return None


WHY_SKIP = _why_skip()
pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(WHY_SKIP is not None, reason=WHY_SKIP or ""),
    pytest.mark.timeout(1800),  # a cold build downloads every wheel
]


REGISTRY_SCRIPT = """
import json
from common.champion import find_champion
from common.mlflow_store import tracking_client
from common.settings import get_settings
settings = get_settings()
client = tracking_client(settings)
champion = find_champion(settings)
versions = {}
if champion is not None:
    for v in client.search_model_versions(f"name='{settings.registered_model_name}'"):
        tags = client.get_run(v.run_id).data.tags
        versions[v.version] = {k: tags.get(k) for k in ("promoted", "refreshed_from")}
print("REGISTRY " + json.dumps({"champion": champion and champion.version, "versions": versions}))
"""


@dataclass(frozen=True)
class Registry:
    champion: str | None
    # model version -> its run's tags: "promoted" (a training's winner, once compared with
    # the champion) and "refreshed_from" (the champion's model republished on new data)
    versions: dict[str, dict[str, str | None]]


class Stack:
    """One throwaway compose project; ``files``: its compose files, ``name``: what its
    screenshots are called after (the multi-host test runs another profile of the stack)."""

    def __init__(
        self,
        project: str,
        env: dict[str, str],
        ports: dict[str, int],
        files: list[Path] = COMPOSE_FILES,
        name: str = "docker",
    ) -> None:
        self.project = project
        self.env = env
        self.ports = ports
        self.files = files
        self.name = name
        self.ui_url = f"http://127.0.0.1:{ports['UI_PORT']}"

    def compose(
        self, *args: str, timeout: float = 300, check: bool = True
    ) -> subprocess.CompletedProcess:
        command = ["docker", "compose", "-p", self.project, "--env-file", self.env["ENV_FILE"]]
        for path in self.files:
            command += ["-f", str(path)]
        result = subprocess.run(
            [*command, *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"docker compose {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result

    def exec(self, service: str, *command: str, timeout: float = 120) -> str:
        return self.compose("exec", "-T", service, *command, timeout=timeout).stdout

    def containers(self) -> list[dict[str, Any]]:
        out = self.compose("ps", "--all", "--format", "json").stdout.strip()
        if out.startswith("["):  # older compose: one array; newer: one object per line
            return json.loads(out)
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def registry(self) -> Registry:
        out = self.exec("worker-train", "python", "-c", REGISTRY_SCRIPT)
        line = next(x for x in out.splitlines() if x.startswith("REGISTRY "))
        data = json.loads(line.removeprefix("REGISTRY "))
        return Registry(data["champion"], data["versions"])

    def cleaned_seasons(self) -> list[str]:
        return sorted(self.exec("worker-fetch", "ls", "/data/cleaned").split())

    def up(self) -> None:
        self.compose("up", "-d", "--wait", "--wait-timeout", "600", timeout=900)

    def logs(self) -> str:
        return self.compose("logs", "--no-color", "--tail", "40", check=False).stdout

    def save_logs(self, path: Path) -> Path:
        """Every service's whole log, timestamped, for a post-mortem of a failure that the
        last 40 lines do not explain (pytest keeps its last three temporary directories)."""
        logs = self.compose("logs", "--no-color", "--timestamps", timeout=300, check=False)
        path.write_text(logs.stdout)
        return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    project = f"nba-e2e-{uuid.uuid4().hex[:8]}"
    env_file = tmp_path_factory.mktemp("compose") / "e2e.env"
    env_file.write_text(
        f"FLOWER_BASIC_AUTH=e2e:{secrets.token_hex(8)}\n"
        # One refresh at a time here: no need to wait the default 15 s for others to join.
        "TRAIN_DEBOUNCE_S=1\n"
    )
    ports = {
        "UI_PORT": free_port(""),  # published on every interface, like the real thing
        "MLFLOW_PORT": free_port(),
        "FLOWER_PORT": free_port(),
    }
    env = clean_env(
        ENV_FILE=str(env_file),  # the containers' settings file instead of the repo's .env
        TAG=project,  # own image tags: the developer's :latest images stay as they are
        **{k: str(v) for k, v in ports.items()},
    )
    stack = Stack(project, env, ports)
    try:
        stack.compose("build", timeout=1800)
        stack.up()
        yield stack
    finally:
        print(stack.logs())  # shown by pytest when a test failed
        saved = stack.save_logs(tmp_path_factory.mktemp("logs") / "compose.log")
        print(f"every service's log: {saved}")
        stack.compose("down", "-v", "--remove-orphans", "--timeout", "30", check=False)
        for name in PROJECT_IMAGES:
            docker("image", "rm", f"nba-archetypes/{name}:{project}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=BROWSER_WAIT_MS)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    page = browser.new_page(viewport={"width": 1400, "height": 2000})
    page.set_default_timeout(BROWSER_WAIT_MS)
    # What the browser saw go wrong, printed (so shown beside a failed test): a crashed tab or
    # a script error leaves a blank page that a timed-out expectation does not explain.
    seen: list[str] = []
    page.on("crash", lambda _: seen.append("the tab crashed"))
    page.on("pageerror", lambda error: seen.append(f"page error: {error}"))
    page.on("console", lambda m: m.type == "error" and seen.append(f"console: {m.text}"))
    yield page
    print("\n".join(["browser:", *seen]) if seen else "browser: no error seen")
    page.close()


def first_champion(stack: Stack) -> Registry:
    return wait_until(
        lambda: (r := stack.registry()).champion and r,
        "the first champion (seed + first training)",
        timeout_s=600,
        interval_s=5,
    )


def assert_app_shows_champion(page: Any, stack: Stack, version: str, shot: str) -> None:
    """The archetypes page names the champion the registry names (the app polls the alias
    every few seconds, so a fresh page load may still show the previous one briefly)."""
    from playwright.sync_api import expect

    with urllib.request.urlopen(f"{stack.ui_url}/_stcore/health", timeout=10) as response:
        assert response.status == 200
    caption = page.get_by_text(f"Champion model v{version}:")
    deadline = time.monotonic() + 60
    while True:
        page.goto(f"{stack.ui_url}/?page=archetypes")
        expect(page.locator("h1").first).to_be_visible()
        try:
            expect(caption).to_be_visible(timeout=15_000)
            break
        except AssertionError:
            if time.monotonic() > deadline:
                raise
    assert page.locator('[data-testid="stException"]').count() == 0
    # The heat map, the scatter and the era mix: Altair charts drawn from the champion's data.
    expect(page.locator(".vega-embed > .marks")).to_have_count(ARCHETYPE_CHARTS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{stack.name}-{shot}.png"), full_page=True)


# --- 1. first boot -----------------------------------------------------------------------------


def test_first_boot_trains_v1_and_the_app_shows_it(stack: Stack, page: Any) -> None:
    registry = first_champion(stack)
    assert registry.champion == "1", registry
    assert stack.cleaned_seasons()  # the seeded seasons
    assert f"{SEASON}.parquet" in stack.cleaned_seasons()
    assert_app_shows_champion(page, stack, "1", "first-boot")


# --- 2. a refresh from the app -----------------------------------------------------------------


def test_refresh_from_the_app_trains_a_new_model(stack: Stack, page: Any) -> None:
    from playwright.sync_api import expect

    before = first_champion(stack)
    page.goto(f"{stack.ui_url}/?page=pipeline")
    expect(page.locator("h1")).to_have_text("Pipeline")
    force = page.get_by_role("switch").first  # "Download again even if a complete copy…"
    page.locator("label").filter(has=force).first.click()  # the input itself is covered
    expect(force).to_be_checked()
    page.get_by_text("Refresh another season").click()
    button = page.get_by_role("button", name=re.compile(rf"^{SEASON}\b"))
    expect(button).to_be_enabled()
    button.click()

    # A refresh publishes at once the champion's model on the new data (a version tagged
    # "refreshed_from", aliased champion), then the training's winner (a version whose run's
    # "promoted" tag is written once compared with the champion), which takes the alias only
    # when it scores better. Either way the champion is a new version.
    def trained() -> Registry | None:
        registry = stack.registry()
        fresh = {v: t for v, t in registry.versions.items() if v not in before.versions}
        winners = [v for v, tags in fresh.items() if not tags["refreshed_from"]]
        done = winners and all(fresh[v]["promoted"] for v in winners)
        return registry if done and registry.champion in fresh else None

    after = wait_until(trained, f"the training after the {SEASON} refresh", 600, interval_s=5)
    fresh = {v: t for v, t in after.versions.items() if v not in before.versions}
    winners = [v for v, tags in fresh.items() if not tags["refreshed_from"]]
    assert len(winners) == 1, after
    winner = winners[0]
    promoted = fresh[winner]["promoted"] == "true"
    if promoted:
        assert after.champion == winner, after
    else:
        assert fresh[after.champion]["refreshed_from"] == before.champion, after
    # The app's own account of the refresh, once both tasks are done.
    done = page.locator('[data-testid="stAlertContentSuccess"]').filter(has_text=SEASON).first
    expect(done).to_be_visible()
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    expect(done).to_contain_text(f"v{after.champion}")
    kept = f"kept v{before.champion}, republished as v{after.champion}"
    print(
        f"refresh {SEASON}: winner v{winner} {'promoted' if promoted else 'not promoted; ' + kept}"
    )
    assert_app_shows_champion(page, stack, after.champion or "", "after-refresh")


# --- 3. users and images -------------------------------------------------------------------------


def test_every_process_runs_as_non_root(stack: Stack) -> None:
    containers = stack.containers()
    services = {c["Service"] for c in containers}
    assert services >= {"redis", "mlflow", "worker-fetch", "worker-train", "beat", "flower", "ui"}
    assert "replay" in services
    for container in containers:
        assert container["State"] == "running", container
        top = docker("top", container["ID"], "-o", "pid,uid,args", check=True).stdout
        rows = [line.split(None, 2) for line in top.splitlines()[1:] if line.strip()]
        assert rows, top
        uids = {int(uid) for _, uid, _ in rows}
        service = container["Service"]
        if service in ROOT_SERVICES:
            assert uids == {REDIS_UID}, (service, top)  # the entrypoint dropped privileges
        else:
            assert 0 not in uids, (service, top)
            assert stack.exec(service, "id", "-u").strip() != "0", service


def test_images_ship_no_build_tools(stack: Stack) -> None:
    tag = stack.project
    probe = (
        "for b in uv gcc cc c++ make strip ld objcopy; do command -v $b; done; "
        "ls -d /opt/uv /opt/venv/bin/uv 2>/dev/null; true"
    )
    for name in PROJECT_IMAGES:
        image = f"nba-archetypes/{name}:{tag}"
        result = docker(
            "run", "--rm", "--network", "none", "--entrypoint", "sh", image, "-c", probe,
            check=True,
        )  # fmt: skip
        assert result.stdout.strip() == "", (image, result.stdout)
        user = docker("image", "inspect", "-f", "{{.Config.User}}", image, check=True)
        assert user.stdout.strip() not in {"", "root", "0", "0:0"}, image


# --- 4. published ports --------------------------------------------------------------------------


def test_only_the_app_is_published_beyond_localhost(stack: Stack) -> None:
    published = set()  # (service, port): the UI's appears twice, on IPv4 and IPv6
    for container in stack.containers():
        for port in container.get("Publishers") or []:
            if not port.get("PublishedPort"):
                continue  # exposed, not published
            published.add((container["Service"], port["TargetPort"]))
            if port["TargetPort"] == PUBLIC_PORT:
                continue
            assert port["URL"] == "127.0.0.1", (container["Service"], port)
        # The engine's view agrees with compose's.
        for line in docker("port", container["ID"], check=True).stdout.splitlines():
            target, _, host = line.partition(" -> ")
            if int(target.split("/")[0]) != PUBLIC_PORT:
                assert host.startswith("127.0.0.1:"), (container["Service"], line)
    assert sorted(published) == [("flower", 5555), ("mlflow", 5000), ("ui", PUBLIC_PORT)]

    # What is published answers: MLflow's UI, and Flower only with its credentials.
    def get(url: str, auth: str | None = None) -> int:
        request = urllib.request.Request(url)
        if auth:
            import base64

            request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    mlflow = f"http://127.0.0.1:{stack.ports['MLFLOW_PORT']}"
    flower = f"http://127.0.0.1:{stack.ports['FLOWER_PORT']}"
    settings = Path(stack.env["ENV_FILE"]).read_text().splitlines()
    credentials = next(x for x in settings if x.startswith("FLOWER_BASIC_AUTH=")).partition("=")[2]
    assert get(f"{mlflow}/health") == 200
    assert get(f"{flower}/") == 401
    assert get(f"{flower}/", credentials) == 200


# --- 5. start-up: bytecode, health checks, placeholder secrets ------------------------------------

# What each service imports as it starts (the worker command's own modules included).
START_IMPORTS = {
    "worker-fetch": "workers.fetch.tasks, common.health, celery.apps.worker, "
    "celery.concurrency.prefork",
    "worker-train": "workers.train.tasks, common.health, celery.apps.worker, "
    "celery.concurrency.prefork",
    "ui": "streamlit.web.bootstrap, ui.views.archetypes, ui.views.compare, ui.views.data, "
    "ui.views.pipeline",
}
FROM_BYTECODE_MIN = 0.97  # share of imported modules loaded from shipped .pyc


@pytest.mark.parametrize("service", sorted(START_IMPORTS))
def test_what_a_service_imports_comes_from_shipped_bytecode(stack: Stack, service: str) -> None:
    """``python -v`` says where each module's code came from: a .pyc, or the source compiled
    on the spot (which a read-only image repeats in every process, at every start)."""
    result = stack.compose(
        "exec", "-T", service, "python", "-v", "-c", f"import {START_IMPORTS[service]}"
    )
    loaded = re.findall(r"^# code object from '?(\S+?)'?$", result.stderr, re.MULTILINE)
    compiled_here = [path for path in loaded if not path.endswith(".pyc")]
    assert len(loaded) > 300, result.stderr[-2000:]
    share = 1 - len(compiled_here) / len(loaded)
    print(f"{service}: {len(loaded)} modules, {share:.1%} from shipped bytecode")
    assert share >= FROM_BYTECODE_MIN, (
        f"{service}: {len(compiled_here)} of {len(loaded)} modules compiled at import; add "
        f"them to its slim-venv list in docker/Dockerfile: {compiled_here[:20]}"
    )


def test_health_checks_run_no_python_and_pass(stack: Stack) -> None:
    for container in stack.containers():
        info = json.loads(docker("inspect", container["ID"], check=True).stdout)[0]
        test = (info["Config"].get("Healthcheck") or {}).get("Test") or ["NONE"]
        if container["Service"] == "redis":  # healthy on PONG only (not on an error reply)
            assert test == ["CMD-SHELL", "redis-cli ping | grep -qx PONG"]
        assert "python" not in " ".join(test), (container["Service"], test)
        assert info["State"]["Health"]["Status"] == "healthy", container["Service"]
    for worker in ["worker-fetch", "worker-train"]:
        stack.exec(worker, "healthcheck", "heartbeat")  # fails the test unless it passes
        written = float(stack.exec(worker, "cat", "/tmp/celery-heartbeat"))
        assert time.time() - written < 30, worker


def test_every_containers_log_is_rotated(stack: Stack) -> None:
    for container in stack.containers():
        info = json.loads(docker("inspect", container["ID"], check=True).stdout)[0]
        assert info["HostConfig"]["LogConfig"] == {
            "Type": "json-file",
            "Config": {"max-size": "10m", "max-file": "3"},
        }, container["Service"]


def test_flower_refuses_the_example_password(stack: Stack) -> None:
    """The compose service, started with .env.example's password, stops with one line."""
    result = stack.compose(
        "run", "--rm", "-T", "--no-deps", "-e", "FLOWER_BASIC_AUTH=admin:change-me", "flower",
        timeout=120, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    refusals = [line for line in output.splitlines() if "refusing to start" in line]
    assert result.returncode == 78, output[-2000:]
    assert len(refusals) == 1, output[-2000:]
    assert "FLOWER_BASIC_AUTH has the placeholder password 'change-me'" in refusals[0]
    assert ".env" in refusals[0]


# --- 6. restart ----------------------------------------------------------------------------------


def test_restart_keeps_data_and_champion(stack: Stack, page: Any) -> None:
    before = first_champion(stack)
    seasons = stack.cleaned_seasons()
    stack.compose("stop", "--timeout", "60", timeout=300)
    assert all(c["State"] == "exited" for c in stack.containers())
    stack.up()
    after = stack.registry()
    assert after == before
    assert stack.cleaned_seasons() == seasons
    assert_app_shows_champion(page, stack, before.champion or "", "after-restart")


# --- 7. faults -----------------------------------------------------------------------------------

TASK_STATE_SCRIPT = """
import sys
from common.task_status import task_status
print("STATES", " ".join(task_status(t).state for t in sys.argv[1:]))
"""


def test_a_redis_restart_loses_no_queued_refresh(stack: Stack) -> None:
    """Refreshes queued while the fetch worker is down survive a Redis restart (append-only
    file); every service reconnects by itself and is healthy again."""
    stack.compose("stop", "--timeout", "60", "worker-fetch", timeout=120)
    out = stack.exec("worker-train", "python", "-m", "cli", "refresh", "2015-16:2016-17", "--force")
    task_ids = re.findall(r"\(([0-9a-f-]{36})\)", out)
    assert len(task_ids) == 2, out
    stack.compose("restart", "redis", timeout=120)
    stack.compose("start", "worker-fetch", timeout=120)
    stack.up()  # waits for every health check: workers, beat, Flower and the app reconnected

    def states() -> list[str]:
        out = stack.exec("worker-train", "python", "-c", TASK_STATE_SCRIPT, *task_ids)
        return next(x for x in out.splitlines() if x.startswith("STATES ")).split()[1:]

    done = wait_until(
        lambda: (s := states()) and all(x in {"SUCCESS", "FAILURE"} for x in s) and s,
        "the refreshes queued before the Redis restart",
        timeout_s=300,
        interval_s=5,
    )
    assert done == ["SUCCESS", "SUCCESS"]


# --- 8. backup and restore -----------------------------------------------------------------------


def test_a_backup_restored_into_a_new_volume_shows_the_same_champion(
    stack: Stack, page: Any, tmp_path: Path
) -> None:
    """The README's procedure: back up while the services run, copy it out, delete the volume,
    restore into a new one, start: the same champion and seasons, shown by the app."""
    before = wait_until(_settled_registry(stack), "work in flight to end", 600, interval_s=2)
    seasons = stack.cleaned_seasons()
    stack.exec("worker-fetch", "python", "-m", "cli", "backup", "/data/backups/e2e")
    stack.compose("cp", "worker-fetch:/data/backups/e2e", str(tmp_path))
    tmp_path.chmod(0o755)  # pytest makes it 0700: the containers' user could not enter it
    stack.compose("down", "-v", "--timeout", "60", timeout=300)
    stack.compose(
        "run", "--rm", "--no-deps", "-v", f"{tmp_path}:/backups:ro", "worker-fetch",
        "python", "-m", "cli", "restore", "/backups/e2e",
        timeout=300,
    )  # fmt: skip
    stack.up()
    assert stack.registry() == before
    assert stack.cleaned_seasons() == seasons
    assert_app_shows_champion(page, stack, before.champion or "", "after-restore")


# The pipeline's work in flight, from Redis: fetches queued or running (their claims), trainings
# queued or waiting for a burst (claims, the queue) and the one running (its lease).
WORK_IN_FLIGHT_SCRIPT = """
from common.celery_app import FETCH_QUEUE, TRAIN_QUEUE
from common.keys import TRAINING_CLAIM_PREFIX, TRAINING_LEASE_KEY
from common.queueing import pending_refreshes
from common.redis_client import redis_client

redis = redis_client()
work = [*pending_refreshes(), *redis.scan_iter(TRAINING_CLAIM_PREFIX + "*")]
work += [queue for queue in (FETCH_QUEUE, TRAIN_QUEUE) if redis.llen(queue)]
work += [TRAINING_LEASE_KEY] * redis.exists(TRAINING_LEASE_KEY)
print("WORK", *work)
"""


def _settled_registry(stack: Stack) -> Callable[[], Registry | None]:
    """The registry once no work is in flight that could change it (read on both sides of
    that check, so a training that ended in between is seen)."""

    def check() -> Registry | None:
        first = stack.registry()
        out = stack.exec("worker-train", "python", "-c", WORK_IN_FLIGHT_SCRIPT)
        work = next(x for x in out.splitlines() if x.startswith("WORK")).split()[1:]
        return first if not work and stack.registry() == first else None

    return check
