"""The multi-host profile in Docker, end to end: services that share nothing but Redis and the
MLflow server, with two fetch and two train workers.

One throwaway compose project (``nba-mh-<random>``: never a developer's stack, volumes or image
tags) from docker-compose.yaml + docker-compose.multihost.yaml + docker-compose.replay.yaml (the
replay server stands in for stats.nba.com), its own settings file (Flower, PostgreSQL, Redis
and MLflow passwords, as scripts/up.sh --multihost writes them), free host ports,
``--scale worker-fetch=2 --scale worker-train=2``:

1. build and ``up -d --wait``; no volume is mounted by two services (PostgreSQL's by postgres
   alone, the artifacts' by mlflow alone, none at all by the workers and the app, whose
   ``DATA_DIR`` is a tmpfs of their own), every service is on the MLflow server, no password
   is on a command line, and the MLflow admin's and the database's reach no other service;
1b. closed by default: a stranger on the queue network gets NOAUTH from Redis, the MLflow API
   answers 401 without a login (the admin's and the services' logins work; the services'
   account is no admin); a Redis started with a placeholder or no password, and a service
   started with a password its Redis or MLflow server refuses, stop with one line;
2. the first boot seeds the 27 bundled seasons into MLflow and trains the first champion, v1:
   the app, a train worker and the app's container (which fetched nothing) see the same seasons
   and the same registry, through the server;
3. a refresh published from the app's Pipeline page in headless Chromium ends with the new
   champion shown by the app (the single-host test's own steps, on this stack);
4. a 27-season backfill from the command line is spread over both fetch workers: every season
   downloaded once (the replay server's request log) and stored once (one new MLflow run per
   season), the politeness gap kept across both workers, one training for the whole burst;
5. one model version per training: no run and no training task published two;
5b. no log of any service, and no page of Flower, shows a password (Celery and Flower show the
   broker URL masked);
6. ``down -v`` and the image tags removed, whatever happened.

Helpers come from ``tests/e2e/test_docker_stack.py`` (the stack, the registry reader, the app's
checks); only the compose files, the scale and the project name differ.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import secrets
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import test_docker_stack as single
from tests.e2e.test_docker_stack import Registry, Stack, assert_app_shows_champion, first_champion
from tests.services import assert_one_throttle, docker, free_port
from tests.unit.test_dockerfiles import clean_env

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILES = [
    ROOT / "docker-compose.yaml",
    ROOT / "docker-compose.multihost.yaml",
    ROOT / "docker-compose.replay.yaml",
]
POSTGRES_IMAGE = os.environ.get("POSTGRES_IMAGE") or "postgres:15-bookworm"
REDIS_IMAGE = os.environ.get("REDIS_IMAGE") or "redis:7.0-bookworm"
# The passwords scripts/up.sh --multihost generates into .env (fresh ones per run).
SECRET_NAMES = ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "MLFLOW_ADMIN_PASSWORD",
                "MLFLOW_SERVICE_PASSWORD")  # fmt: skip
SERVICE_ACCOUNT = "nba-services"
# Which services' environment may hold each (compose hands .env to every Python service;
# docker-compose.yaml blanks each in all of them, the multi-host file sets it in its server
# and the clients that log in with it: Redis's is part of their REDIS_URL).
OWNERS = {
    "POSTGRES_PASSWORD": {"postgres", "mlflow"},
    "MLFLOW_ADMIN_PASSWORD": {"mlflow"},
    "REDIS_PASSWORD": {"redis", "worker-fetch", "worker-train", "ui", "beat", "flower"},
    "MLFLOW_SERVICE_PASSWORD": {"mlflow", "worker-fetch", "worker-train", "ui"},
}
REPLICAS = {"worker-fetch": 2, "worker-train": 2}
SCRATCH = "/scratch"
TRACKING_URL = "http://mlflow:5000"
BUNDLED = [f"{y}-{(y + 1) % 100:02d}" for y in range(1996, 2023)]  # 1996-97 ... 2022-23
# Services that keep state: the only volume each may mount (a suffix of the volume's name).
OWN_VOLUME = {
    "redis": "redis-data",
    "postgres": "postgres-data",
    "mlflow": "mlflow-artifacts",
    "beat": "beat-state",
}
SCRATCH_SERVICES = ("worker-fetch", "worker-train", "ui")


def _why_skip() -> str | None:
    if single.WHY_SKIP is not None:
        return single.WHY_SKIP
    if docker("image", "inspect", POSTGRES_IMAGE).returncode != 0:
        return f"base image missing ({POSTGRES_IMAGE}): run scripts/build_base_images.sh"
    return None


WHY_SKIP = _why_skip()
pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(WHY_SKIP is not None, reason=WHY_SKIP or ""),
    pytest.mark.timeout(1800),  # a cold build downloads every wheel
]

# The browser fixtures of the single-host test, shared.
browser = single.browser
page = single.page


class MultihostStack(Stack):
    """The single-host test's stack, from the three compose files, the workers scaled."""

    def up(self) -> None:
        scale = [f"--scale={service}={n}" for service, n in REPLICAS.items()]
        self.compose("up", "-d", "--wait", "--wait-timeout", "600", *scale, timeout=900)

    def python(self, service: str, script: str, *args: str, index: int = 1) -> Any:
        """Run ``script`` in one replica of ``service``; it prints one line ``RESULT <json>``."""
        out = self.compose(
            "exec", "-T", "--index", str(index), service, "python", "-c", script, *args,
            timeout=180,
        ).stdout  # fmt: skip
        line = next(x for x in out.splitlines() if x.startswith("RESULT "))
        return json.loads(line.removeprefix("RESULT "))

    def registry_from(self, service: str, index: int = 1) -> Registry:
        out = self.compose(
            "exec", "-T", "--index", str(index), service, "python", "-c", single.REGISTRY_SCRIPT
        ).stdout
        line = next(x for x in out.splitlines() if x.startswith("REGISTRY "))
        data = json.loads(line.removeprefix("REGISTRY "))
        return Registry(data["champion"], data["versions"])

    def inspect(self, container: dict[str, Any]) -> dict[str, Any]:
        return json.loads(docker("inspect", container["ID"], check=True).stdout)[0]

    def replay(self, method: str) -> Any:
        """The replay server's request log (GET) or clearing it (DELETE), from inside it."""
        return self.python("replay", REPLAY_SCRIPT, method)


# What a service sees in the MLflow store: the seasons (synced into its own scratch copy).
SEASONS_SCRIPT = """
import json
from common.season_store import open_data
from common.settings import get_settings
settings = get_settings()
data = open_data(settings).sync()
print("RESULT " + json.dumps({
    "tracking_uri": settings.tracking_uri,
    "data_store": settings.data_store,
    "data_dir": str(settings.data_dir),
    "seasons": sorted(str(s) for s in data.cleaned_seasons()),
}))
"""

# Every season run in the MLflow store: how many finished per season.
SEASON_RUNS_SCRIPT = """
import json
from collections import Counter
from common.mlflow_store import experiment_id, tracking_client
from common.season_store import KIND_SEASON, TAG_KIND, TAG_SEASON
from common.settings import get_settings
settings = get_settings()
client = tracking_client(settings)
experiment = experiment_id(client, settings, settings.mlflow_seasons_experiment)
runs, token = [], None
while True:
    page = client.search_runs([experiment], f"tags.{TAG_KIND} = '{KIND_SEASON}'",
                              max_results=500, page_token=token)
    runs += page
    token = page.token
    if not token:
        break
finished = Counter(r.data.tags.get(TAG_SEASON) for r in runs if r.info.status == "FINISHED")
print("RESULT " + json.dumps(finished))
"""

# Every model version with its run's tags, and every training run with the version it logged.
VERSIONS_SCRIPT = """
import json
from common.champion import find_champion
from common.mlflow_store import tracking_client
from common.settings import get_settings
settings = get_settings()
client = tracking_client(settings)
champion = find_champion(settings)
versions = []
for v in client.search_model_versions(f"name='{settings.registered_model_name}'"):
    tags = client.get_run(v.run_id).data.tags
    versions.append({"version": v.version, "run_id": v.run_id, **{
        k: tags.get(k) for k in ("kind", "task_id", "promoted", "refreshed_from")}})
experiment = client.get_experiment_by_name(settings.mlflow_experiment)
trainings = [
    {"run_id": r.info.run_id, "status": r.info.status, "task_id": r.data.tags.get("task_id"),
     "model_version": r.data.tags.get("model_version")}
    for r in client.search_runs([experiment.experiment_id], "tags.kind = 'training'",
                                max_results=1000)
]
print("RESULT " + json.dumps({"champion": champion and champion.version, "versions": versions,
                              "trainings": trainings}))
"""

REPLAY_SCRIPT = """
import json, sys, urllib.request
request = urllib.request.Request("http://127.0.0.1:8765/_replay/requests", method=sys.argv[1])
with urllib.request.urlopen(request, timeout=30) as response:
    body = json.load(response)
print("RESULT " + json.dumps([
    {"time": r["time"], "params": r["params"], "status": r["status"], "fault": r["fault"]}
    for r in body] if isinstance(body, list) else body))
"""

GAP_SCRIPT = """
from common.settings import get_settings
print("RESULT", get_settings().nba_min_request_gap_s)
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MultihostStack]:
    project = f"nba-mh-{uuid.uuid4().hex[:8]}"
    env_file = tmp_path_factory.mktemp("compose") / "multihost.env"
    passwords = {name: secrets.token_hex(12) for name in SECRET_NAMES}
    env_file.write_text(
        f"FLOWER_BASIC_AUTH=e2e:{secrets.token_hex(8)}\n"
        + "".join(f"{name}={value}\n" for name, value in passwords.items())
        + "TRAIN_DEBOUNCE_S=1\n"
    )
    ports = {
        "UI_PORT": free_port(""),
        "MLFLOW_PORT": free_port(),
        "FLOWER_PORT": free_port(),
    }
    env = clean_env(
        ENV_FILE=str(env_file),
        TAG=project,
        **passwords,  # over any the developer's shell exports
        **{k: str(v) for k, v in ports.items()},
    )
    stack = MultihostStack(project, env, ports, files=COMPOSE_FILES, name="docker-multihost")
    started = time.monotonic()
    try:
        stack.compose("build", timeout=1800)
        built = time.monotonic()
        stack.up()
        up_s = time.monotonic() - built
        print(f"\n[timing] build {built - started:.0f} s, up --wait {up_s:.0f} s")
        yield stack
    finally:
        print(stack.logs())  # shown by pytest when a test failed
        saved = stack.save_logs(tmp_path_factory.mktemp("logs") / "compose.log")
        print(f"every service's log: {saved}")
        stack.compose("down", "-v", "--remove-orphans", "--timeout", "30", check=False)
        for name in single.PROJECT_IMAGES:
            docker("image", "rm", f"nba-archetypes/{name}:{project}")
        print(f"[timing] whole module {time.monotonic() - started:.0f} s")


# --- 1. nothing shared but Redis and the MLflow server ------------------------------------------


def test_no_two_services_share_a_volume(stack: MultihostStack) -> None:
    containers = [c for c in stack.containers() if c["State"] == "running"]
    replicas = Counter(c["Service"] for c in containers)
    assert replicas["worker-fetch"] == REPLICAS["worker-fetch"], replicas
    assert replicas["worker-train"] == REPLICAS["worker-train"], replicas
    assert {s: n for s, n in replicas.items() if s not in REPLICAS} == {
        s: 1 for s in ("redis", "postgres", "mlflow", "beat", "flower", "ui", "replay")
    }

    mounted_by: dict[str, set[str]] = {}
    passwords = {name: stack.env[name] for name in SECRET_NAMES}
    for container in containers:
        service = container["Service"]
        info = stack.inspect(container)
        for mount in info["Mounts"]:
            assert mount["Type"] == "volume", (service, mount)  # no bind mount anywhere
            mounted_by.setdefault(mount["Name"], set()).add(service)
        names = [m["Name"] for m in info["Mounts"]]
        if service in OWN_VOLUME:
            assert len(names) == 1, (service, names)
            assert names[0] == f"{stack.project}_{OWN_VOLUME[service]}", (service, names)
        else:
            assert names == [], (service, names)  # workers, app, Flower, replay: no volume
        if service in SCRATCH_SERVICES:
            environment = dict(e.split("=", 1) for e in info["Config"]["Env"])
            assert environment["DATA_DIR"] == SCRATCH, service
            assert environment["DATA_STORE"] == "mlflow", service
            assert environment["TRACKING_SERVER_URL"] == TRACKING_URL, service
            assert SCRATCH in (info["HostConfig"]["Tmpfs"] or {}), service
        # Passwords reach the servers and the services through their environment, never a
        # command line, and only those that use them (OWNERS).
        top = docker("top", container["ID"], "-o", "pid,args", check=True).stdout
        args = " ".join(info["Config"].get("Cmd") or []) + " ".join(info["Args"] or [])
        for name, password in passwords.items():
            assert password not in top, (service, name)
            assert password not in args, (service, name)
            environment = " ".join(info["Config"]["Env"])
            if service not in OWNERS.get(name, {service}):
                assert password not in environment, (service, name)
    shared = {name: services for name, services in mounted_by.items() if len(services) > 1}
    assert not shared, f"volumes mounted by more than one service: {shared}"
    volumes = docker(
        "volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={stack.project}",
        check=True,
    ).stdout.split()  # fmt: skip
    assert f"{stack.project}_data" not in volumes, volumes  # the single-host shared volume


# --- 1b. closed by default ----------------------------------------------------------------------


def http_status(url: str, login: tuple[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url)
    if login:
        token = base64.b64encode(":".join(login).encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def test_redis_answers_a_stranger_noauth(stack: MultihostStack) -> None:
    """Anyone who reaches Redis (here: a container on its network) gets nothing without the
    password; with it, Redis answers."""
    network = f"{stack.project}_queue"
    stranger = docker("run", "--rm", "--network", network, REDIS_IMAGE,
                      "redis-cli", "-h", "redis", "ping", check=True)  # fmt: skip
    assert stranger.stdout.strip() == "NOAUTH Authentication required.", stranger
    friend = docker("run", "--rm", "--network", network, "-e",
                    f"REDISCLI_AUTH={stack.env['REDIS_PASSWORD']}", REDIS_IMAGE,
                    "redis-cli", "-h", "redis", "ping", check=True)  # fmt: skip
    assert friend.stdout.strip() == "PONG", friend
    # Its own health check authenticates (REDISCLI_AUTH in its environment).
    assert stack.exec("redis", "redis-cli", "ping").strip() == "PONG"


def test_mlflow_answers_a_stranger_401(stack: MultihostStack) -> None:
    """The published MLflow port (the UI the app links to) asks for a login; the admin's and
    the services' work, and the services' account is no admin."""
    mlflow = f"http://127.0.0.1:{stack.ports['MLFLOW_PORT']}"
    search = f"{mlflow}/api/2.0/mlflow/experiments/search?max_results=5"
    admin = ("admin", stack.env["MLFLOW_ADMIN_PASSWORD"])
    service = (SERVICE_ACCOUNT, stack.env["MLFLOW_SERVICE_PASSWORD"])
    assert http_status(f"{mlflow}/health")[0] == 200  # the health check needs no login
    assert http_status(search)[0] == 401
    assert http_status(f"{mlflow}/")[0] == 401  # the UI: the browser asks for the login
    assert http_status(search, ("admin", secrets.token_hex(12)))[0] == 401
    assert http_status(search, admin)[0] == 200
    assert http_status(search, service)[0] == 200
    code, body = http_status(f"{mlflow}/api/2.0/mlflow/users/current", service)
    assert code == 200, body
    user = json.loads(body)["user"]
    assert (user["username"], user["is_admin"]) == (SERVICE_ACCOUNT, False)


def one_refusal(result: Any, passwords: list[str]) -> str:
    output = result.stdout + result.stderr
    refusals = [line for line in output.splitlines() if "refusing to start" in line]
    assert result.returncode == 78, output[-2000:]
    assert len(refusals) == 1, output[-2000:]
    assert not [p for p in passwords if p in output], "a password in the output"
    return refusals[0]


@pytest.mark.parametrize(
    ("password", "why"),
    [("change-me", "is the placeholder 'change-me'"), ("", "is empty")],
)
def test_a_redis_without_a_real_password_refuses_to_start_in_one_line(
    stack: MultihostStack, password: str, why: str
) -> None:
    result = stack.compose(
        "run", "--rm", "-T", "--no-deps", "-e", f"REDISCLI_AUTH={password}", "redis",
        timeout=120, check=False,
    )  # fmt: skip
    line = one_refusal(result, [stack.env["REDIS_PASSWORD"]])
    assert line.endswith(
        f"refusing to start: REDIS_PASSWORD {why}: put a real one in .env "
        "(scripts/up.sh --multihost writes a random one)"
    ), line


def test_a_service_given_a_wrong_password_refuses_to_start_in_one_line(
    stack: MultihostStack,
) -> None:
    wrong = secrets.token_hex(12)
    redis = stack.compose(
        "run", "--rm", "-T", "--no-deps", "-e", f"REDIS_URL=redis://:{wrong}@redis:6379/0",
        "worker-fetch", timeout=120, check=False,
    )  # fmt: skip
    line = one_refusal(redis, [wrong, stack.env["REDIS_PASSWORD"]])
    assert "Redis at redis://:***@redis:6379/0 refused the password in REDIS_URL" in line, line
    mlflow = stack.compose(
        "run", "--rm", "-T", "--no-deps", "-e", f"MLFLOW_TRACKING_PASSWORD={wrong}",
        "worker-train", timeout=120, check=False,
    )  # fmt: skip
    line = one_refusal(mlflow, [wrong, stack.env["MLFLOW_SERVICE_PASSWORD"]])
    assert (
        f"the MLflow server at {TRACKING_URL} refused the login of '{SERVICE_ACCOUNT}' "
        "(MLFLOW_TRACKING_PASSWORD)"
    ) in line, line


# --- 2. first boot ------------------------------------------------------------------------------


def test_first_boot_seeds_mlflow_and_every_service_sees_the_champion(
    stack: MultihostStack, page: Any
) -> None:
    started = time.monotonic()
    registry = first_champion(stack)  # read by worker-train (replica 1)
    assert registry.champion == "1", registry
    print(f"[timing] first champion {time.monotonic() - started:.0f} s after up --wait")
    # The seasons, downloaded from the MLflow server into each reader's own scratch copy: the
    # app's container fetched nothing and shares no disk with the fetch workers.
    for service, index in [("ui", 1), ("worker-train", 2), ("worker-fetch", 2)]:
        seen = stack.python(service, SEASONS_SCRIPT, index=index)
        assert seen["tracking_uri"] == TRACKING_URL, (service, seen)
        assert seen["data_store"] == "mlflow", (service, seen)
        assert seen["data_dir"] == SCRATCH, (service, seen)
        assert seen["seasons"] == BUNDLED, (service, seen)
    # The same registry from another process in another container, and no local MLflow store.
    assert stack.registry_from("ui") == registry
    assert stack.registry_from("worker-train", index=2) == registry
    for service in SCRATCH_SERVICES:
        for index in range(1, REPLICAS.get(service, 1) + 1):
            out = stack.compose(
                "exec", "-T", "--index", str(index), service, "ls", "-A", SCRATCH
            ).stdout.split()
            assert "mlflow.db" not in out, (service, index, out)
            assert "mlartifacts" not in out, (service, index, out)
    assert_app_shows_champion(page, stack, "1", "multihost-first-boot")


# --- 3. a refresh from the app ------------------------------------------------------------------


def test_refresh_from_the_app_shows_the_new_champion(stack: MultihostStack, page: Any) -> None:
    """The single-host test's steps, unchanged: force-refresh 2018-19 from the Pipeline page
    (the replay server's copy differs from the bundled seed), then the app shows the champion
    the registry names. Before the backfill, which would make that refresh change nothing."""
    started = time.monotonic()
    single.test_refresh_from_the_app_trains_a_new_model(stack, page)
    print(f"[timing] refresh from the app to the new champion {time.monotonic() - started:.0f} s")


# --- 4. a backfill over both fetch workers ------------------------------------------------------


def test_a_backfill_is_spread_over_both_fetch_workers_and_fetches_each_season_once(
    stack: MultihostStack,
) -> None:
    gap = float(stack.python("worker-fetch", GAP_SCRIPT))
    before = stack.python("ui", SEASON_RUNS_SCRIPT)
    stack.replay("DELETE")
    since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    started = time.monotonic()
    out = stack.compose(
        "exec", "-T", "ui", "python", "-m", "cli", "refresh",
        f"{BUNDLED[0]}:{BUNDLED[-1]}", "--force", "--wait", "--timeout", "900",
        timeout=1000,
    ).stdout  # fmt: skip
    elapsed = time.monotonic() - started
    queued = dict(re.findall(r"^(\d{4}-\d{2}): queued \(([0-9a-f-]{36})\)$", out, re.MULTILINE))
    assert sorted(queued) == BUNDLED, out
    trainings = [line for line in out.splitlines() if line.startswith("training")]
    assert len(trainings) == 1, out  # a burst trains once
    assert trainings[0].startswith("training: "), out

    # Each season downloaded once: one request per segment and PerMode, none repeated.
    requests = stack.replay("GET")
    asked = Counter(
        (r["params"].get("Season"), r["params"].get("SeasonType"), r["params"].get("PerMode"))
        for r in requests
    )
    assert {season for season, _, _ in asked} == set(BUNDLED), asked
    repeated = {key: n for key, n in asked.items() if n > 1}
    assert not repeated, f"asked more than once: {repeated}"
    for season in BUNDLED:
        types = {t for s, t, _ in asked if s == season}
        assert types == {"Regular Season", "Playoffs"}, (season, types)
    assert all(r["status"] == 200 and r["fault"] is None for r in requests)

    # The politeness gap, kept across both workers (one throttle, in Redis).
    times = sorted(r["time"] for r in requests)
    assert_one_throttle(times, gap)
    gaps = [b - a for a, b in itertools.pairwise(times)]

    # Stored once: exactly one new finished season run per season in the MLflow store.
    after = stack.python("ui", SEASON_RUNS_SCRIPT)
    assert {s: after.get(s, 0) - before.get(s, 0) for s in BUNDLED} == dict.fromkeys(BUNDLED, 1)

    # Both fetch workers took part, and each task ran once, on one of them.
    logs = stack.compose("logs", "--no-color", "--since", since, "worker-fetch").stdout
    ran = re.findall(
        r"^(worker-fetch-\d+)\s*\|.*fetch\.season\[([0-9a-f-]{36})\] succeeded", logs, re.MULTILINE
    )
    ours = [(replica, task) for replica, task in ran if task in queued.values()]
    assert sorted(task for _, task in ours) == sorted(queued.values()), logs[-3000:]
    per_replica = Counter(replica for replica, _ in ours)
    assert len(per_replica) == REPLICAS["worker-fetch"], per_replica
    print(
        f"[timing] backfill of {len(BUNDLED)} seasons {elapsed:.0f} s (training included); "
        f"{len(requests)} requests, smallest gap {min(gaps):.3f} s (setting {gap} s); "
        f"seasons per worker {dict(per_replica)}; {trainings[0]}"
    )


# --- 5. one model version per training ----------------------------------------------------------


def test_one_model_version_per_training(stack: MultihostStack) -> None:
    data = stack.python("worker-train", VERSIONS_SCRIPT, index=2)
    versions, trainings = data["versions"], data["trainings"]
    assert data["champion"] in {v["version"] for v in versions}, data
    runs = Counter(v["run_id"] for v in versions)
    assert all(n == 1 for n in runs.values()), runs  # one version per run
    # A training task publishes one winner and at most one republished champion.
    per_task = Counter((v["task_id"], v["kind"]) for v in versions)
    assert all(v["task_id"] for v in versions), versions  # every version came from a task
    assert all(n == 1 for n in per_task.values()), per_task
    by_version = {v["version"]: v for v in versions}
    for training in trainings:
        if training["status"] != "FINISHED":
            continue
        own = [v for v in versions if v["run_id"] == training["run_id"]]
        assert len(own) == 1, (training, own)
        assert by_version[training["model_version"]]["run_id"] == training["run_id"], training
        assert own[0]["promoted"] in {"true", "false"}, own
    promoted = [v for v in versions if v["promoted"] == "true"]
    assert len(promoted) >= 1, versions  # the first champion at least
    print(
        f"{len(versions)} versions from {len(trainings)} training runs; champion "
        f"v{data['champion']}; promoted {[v['version'] for v in promoted]}"
    )


# --- 5b. no password in sight -------------------------------------------------------------------


def test_no_log_and_no_flower_page_shows_a_password(stack: MultihostStack) -> None:
    """After everything above: every service's whole log, and Flower's broker page, hold no
    password; Celery and Flower name the broker with its password masked."""
    passwords = [stack.env[name] for name in SECRET_NAMES]
    logs = stack.compose("logs", "--no-color", timeout=300).stdout
    assert len(logs.splitlines()) > 100
    assert not [p for p in passwords if p in logs], "a password in the logs"
    masked = "redis://:**@redis:6379/0"
    workers = stack.compose("logs", "--no-color", "worker-fetch", "worker-train").stdout
    assert masked in workers  # Celery's start-up banner: the broker, masked
    flower = f"http://127.0.0.1:{stack.ports['FLOWER_PORT']}/broker"
    settings = Path(stack.env["ENV_FILE"]).read_text().splitlines()
    login = next(x for x in settings if x.startswith("FLOWER_BASIC_AUTH=")).partition("=")[2]
    code, page = http_status(flower, tuple(login.split(":", 1)))  # type: ignore[arg-type]
    assert code == 200
    assert masked in page
    assert not [p for p in passwords if p in page], "a password on Flower's broker page"
