"""The Dockerfile and compose files, checked without building or running anything.

* hadolint is clean (the few rules ignored are ignored inline, each with its reason on the
  line above);
* ``docker compose config`` accepts both file combinations (skipped without a docker CLI
  that has the compose plugin; the plugin validates without a daemon);
* one Dockerfile, shared build steps in one place: a ``tools`` stage every venv stage starts
  from, one ``runtime`` stage every image starts from, one target per image (compose builds
  each with ``target:``), each copying only its own venv and code;
* the security and size rules the images promise: every service but redis runs as a
  non-root user, build stages do the installing and the image stages install nothing (no uv,
  no pip, no apt, no toolchain), only the UI's 8501 is published beyond 127.0.0.1;
* bytecode ships: each venv stage compiles what its service imports (slim-venv), the code
  stage compiles the project, every image copies the stdlib bytecode of what it imports;
  the multi-host profile's imports too (MLflow's HTTP client in the workers and the app,
  psycopg2 in the MLflow server);
* health checks are cheap: no Python, no import of the app; the workers' reads the heartbeat
  common/health.py writes, often enough to be healthy within 10 s of a start;
* the multi-host profile is closed by default: compose needs each of its passwords, every
  service carries only the ones it uses and none on a command line, its Redis refuses a
  placeholder password in one line;
* every image starts through the placeholder-secret check (common/secret_check.py), which
  refuses .env.example's Flower password.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKER_DIR = ROOT / "docker"
DOCKERFILE = DOCKER_DIR / "Dockerfile"
DOCKERFILES = sorted({DOCKERFILE, *DOCKER_DIR.glob("*Dockerfile*")})
IMAGE_TARGETS = {"fetch", "train", "ui", "flower", "mlflow", "replay"}
VENV_IMAGES = IMAGE_TARGETS - {"replay"}  # replay runs on the standard library alone
RUNTIME = "runtime"  # the stage every image starts from
WORKER_TARGETS = {"fetch", "train"}
HEALTHY_WITHIN_S = 10  # a worker is healthy this soon after its start (Docker 20.10: interval)
BASE_COMPOSE = ROOT / "docker-compose.yaml"
REPLAY_COMPOSE = ROOT / "docker-compose.replay.yaml"
COMPOSE_COMBINATIONS = {
    "base": [BASE_COMPOSE],
    "base+replay": [BASE_COMPOSE, REPLAY_COMPOSE],
}
ROOT_SERVICES = {"redis"}  # its entrypoint drops to uid 999 itself (checked end to end)
PUBLIC_PORTS = {8501}  # the UI; everything else is published on 127.0.0.1 only
# Commands that install software or compile it: none may run in a final stage.
INSTALLERS = re.compile(
    r"\b(uv|pip3?|apt-get|apt|dpkg|gcc|g\+\+|cc|make|cmake|strip|compileall)\b"
    r"|(?:^|[\s/])pip\s|/opt/uv"
)


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)  # (INSTRUCTION, args)


def parse_dockerfile(path: Path) -> list[Stage]:
    """Stages of a Dockerfile: continuation lines joined, comments and parser directives out."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    if pending:
        logical.append(pending)

    stages: list[Stage] = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = args.split()
            words = [w for w in words if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        elif stages:
            stages[-1].instructions.append((keyword, args.strip()))
    return stages


def is_root(user: str) -> bool:
    name = user.split(":", maxsplit=1)[0].strip()
    return name in {"root", "0"}


def stage_map(stages: list[Stage]) -> dict[str, Stage]:
    return {stage.name: stage for stage in stages if stage.name}


def chain(stages: list[Stage], name: str) -> list[Stage]:
    """The stage called ``name`` and the stages it is built FROM, nearest first."""
    by_name = stage_map(stages)
    out = [by_name[name]]
    while out[-1].base in by_name:
        out.append(by_name[out[-1].base])
    return out


def effective(stages: list[Stage], name: str, keyword: str) -> str | None:
    """The last ``keyword`` (USER, ENTRYPOINT, CMD, HEALTHCHECK...) a target inherits."""
    for stage in chain(stages, name):
        found = [args for k, args in stage.instructions if k == keyword]
        if found:
            return found[-1]
    return None


def env_of(stages: list[Stage], name: str) -> dict[str, str]:
    """ENV of a target, its own over its parents' (KEY=VALUE forms only, quotes removed)."""
    env: dict[str, str] = {}
    for stage in reversed(chain(stages, name)):
        for keyword, args in stage.instructions:
            if keyword == "ENV":
                for key, value in re.findall(r'(\w+)=("[^"]*"|\S*)', args):
                    env[key] = value.strip('"')
    return env


def exec_form(args: str) -> list[str]:
    """An instruction's JSON (exec) form, e.g. CMD ["a", "b"] -> ["a", "b"]."""
    return json.loads(args[args.index("[") :])


def load_compose(files: list[Path]) -> dict[str, Any]:
    """The files merged the way compose merges services (maps merged, the rest replaced),
    without interpolation: enough for the static checks below."""

    def merge(a: Any, b: Any) -> Any:
        if isinstance(a, dict) and isinstance(b, dict):
            out = dict(a)
            for key, value in b.items():
                out[key] = merge(a[key], value) if key in a else value
            return out
        return b

    merged: dict[str, Any] = {}
    for path in files:
        merged = merge(merged, yaml.safe_load(path.read_text()))
    return merged


Built = tuple[Path, str]  # (Dockerfile, target)


def built_by(build: dict[str, Any]) -> Built:
    return ROOT / build.get("context", ".") / build["dockerfile"], build["target"]


def image_targets(services: dict[str, Any]) -> dict[str, Built]:
    """Image name -> the Dockerfile and target that build it (beat runs the fetch image)."""
    return {
        service["image"]: built_by(service["build"])
        for service in services.values()
        if service.get("build") and "image" in service
    }


def service_target(name: str, service: dict[str, Any], built: dict[str, Built]) -> Built:
    if service.get("build"):
        return built_by(service["build"])
    if service.get("image") in built:
        return built[service["image"]]
    raise AssertionError(f"service {name} runs {service.get('image')!r}, built by no target")


def hadolint_binary() -> str:
    candidate = Path(sys.executable).parent / "hadolint"
    found = str(candidate) if candidate.exists() else shutil.which("hadolint")
    assert found, "hadolint not found: it comes with the dev dependencies (uv sync)"
    return found


# --- hadolint ------------------------------------------------------------------------------------


def test_one_dockerfile_with_a_target_per_image() -> None:
    assert DOCKERFILES == [DOCKERFILE], "one Dockerfile, one target per image"
    assert set(stage_map(parse_dockerfile(DOCKERFILE))) >= IMAGE_TARGETS


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_hadolint_clean(dockerfile: Path) -> None:
    result = subprocess.run(
        [hadolint_binary(), "--no-color", str(dockerfile.relative_to(ROOT))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert not result.stdout.strip(), result.stdout


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_ignored_rules_say_why(dockerfile: Path) -> None:
    """An inline ``# hadolint ignore=`` needs a reason in the comment lines just above it."""
    lines = dockerfile.read_text().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"\s*#\s*hadolint\s+ignore=", line):
            above = lines[i - 1].strip() if i else ""
            why = f"{dockerfile.name}:{i + 1}: say why the rule is ignored in a comment above"
            assert above.startswith("#"), why
            assert len(above) > 20, why


# --- compose config ------------------------------------------------------------------------------


def compose_cli() -> list[str] | None:
    docker = shutil.which("docker")
    if not docker:
        return None
    probe = subprocess.run(
        [docker, "compose", "version"], capture_output=True, text=True, timeout=30, check=False
    )
    return [docker, "compose"] if probe.returncode == 0 else None


@pytest.fixture(scope="module")
def compose() -> list[str]:
    cli = compose_cli()
    if cli is None:
        pytest.skip(
            "needs the docker CLI with the Compose v2 plugin: run scripts/install_docker.sh"
        )
    return cli


# Variables the compose files interpolate (or compose itself reads): the process environment
# wins over --env-file, so the tests drop them rather than inherit a developer's settings.
COMPOSE_VARIABLES = re.compile(
    r"COMPOSE_.*|TAG|PYTHON_IMAGE|REDIS_IMAGE|POSTGRES_IMAGE|POSTGRES_PASSWORD|"
    r"REDIS_PASSWORD|MLFLOW_ADMIN_PASSWORD|MLFLOW_SERVICE_PASSWORD|FLOWER_BASIC_AUTH|ENV_FILE|"
    r"(UI|MLFLOW|FLOWER)_PORT|MLFLOW_UI_URL|FLOWER_URL"
)


def clean_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not COMPOSE_VARIABLES.fullmatch(k)}
    return {**env, **overrides}


def run_compose(
    compose: list[str], files: list[Path], env_file: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    command = [*compose, "--project-directory", str(ROOT), "--env-file", str(env_file)]
    for path in files:
        command += ["-f", str(path)]
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=clean_env(ENV_FILE=str(env_file)),  # never the developer's .env
    )


def compose_config(
    compose: list[str], files: list[Path], tmp_path: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    env_file = tmp_path / "compose.env"
    env_file.write_text("FLOWER_BASIC_AUTH=user:pass\n")
    return run_compose(compose, files, env_file, "config", *extra)


@pytest.mark.parametrize("combination", COMPOSE_COMBINATIONS)
def test_compose_config_valid(compose: list[str], combination: str, tmp_path: Path) -> None:
    result = compose_config(compose, COMPOSE_COMBINATIONS[combination], tmp_path, "-q")
    assert result.returncode == 0, result.stderr


def test_compose_requires_flower_auth(compose: list[str], tmp_path: Path) -> None:
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    result = run_compose(compose, [BASE_COMPOSE], env_file, "config", "-q")
    assert result.returncode != 0
    assert "FLOWER_BASIC_AUTH" in result.stderr


def test_the_apps_links_follow_the_published_ports(compose: list[str], tmp_path: Path) -> None:
    env_file = tmp_path / "compose.env"
    env_file.write_text("FLOWER_BASIC_AUTH=user:pass\nMLFLOW_PORT=5100\nFLOWER_PORT=5655\n")
    result = run_compose(compose, [BASE_COMPOSE], env_file, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    ui = json.loads(result.stdout)["services"]["ui"]["environment"]
    assert (ui["MLFLOW_UI_URL"], ui["FLOWER_URL"]) == (
        "http://localhost:5100",
        "http://localhost:5655",
    )


@pytest.mark.parametrize("combination", COMPOSE_COMBINATIONS)
def test_interpolated_ports(compose: list[str], combination: str, tmp_path: Path) -> None:
    """What compose will actually publish, after interpolation and merging."""
    result = compose_config(
        compose, COMPOSE_COMBINATIONS[combination], tmp_path, "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    for name, service in services.items():
        for port in service.get("ports", []):
            if int(port["target"]) in PUBLIC_PORTS:
                continue
            assert port.get("host_ip") == "127.0.0.1", (name, port)


# --- the multi-host profile: closed by default ---------------------------------------------------

MULTIHOST_COMPOSE = ROOT / "docker-compose.multihost.yaml"
# What scripts/up.sh --multihost generates into .env (values made up here, each unique).
MULTIHOST_SECRETS = {
    "POSTGRES_PASSWORD": "pg-4f1d2c9a8b7e6d5c",
    "REDIS_PASSWORD": "rd-9a8b7c6d5e4f3a2b",
    "MLFLOW_ADMIN_PASSWORD": "ad-1a2b3c4d5e6f7a8b",
    "MLFLOW_SERVICE_PASSWORD": "sv-8f7e6d5c4b3a2f1e",
}
REDIS_CLIENTS = ("worker-fetch", "worker-train", "ui", "beat", "flower")
MLFLOW_CLIENTS = ("worker-fetch", "worker-train", "ui")


def multihost_config(
    compose: list[str], tmp_path: Path, settings: dict[str, str], *overlays: Path
) -> subprocess.CompletedProcess[str]:
    env_file = tmp_path / "multihost.env"
    lines = [f"{k}={v}" for k, v in {"FLOWER_BASIC_AUTH": "user:pass", **settings}.items()]
    env_file.write_text("\n".join(lines) + "\n")
    files = [BASE_COMPOSE, MULTIHOST_COMPOSE, *overlays]
    return run_compose(compose, files, env_file, "config", "--format", "json")


@pytest.mark.parametrize("profile", ["single host", "multi-host"])
def test_every_services_log_is_rotated(compose: list[str], profile: str, tmp_path: Path) -> None:
    """Docker's default keeps a container's output for ever: months of task and request logs
    would fill the host's disk. (Compose's own merge: the replay overlay's services too.)"""
    if profile == "multi-host":
        result = multihost_config(compose, tmp_path, MULTIHOST_SECRETS, REPLAY_COMPOSE)
    else:
        files = [BASE_COMPOSE, REPLAY_COMPOSE]
        result = compose_config(compose, files, tmp_path, "--format", "json")
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert {"redis", "replay", "ui"} <= services.keys()
    for name, service in services.items():
        logging = service.get("logging", {})
        assert logging.get("driver") == "json-file", name
        assert logging.get("options") == {"max-size": "10m", "max-file": "3"}, name


@pytest.mark.parametrize("missing", sorted(MULTIHOST_SECRETS))
def test_the_multihost_profile_needs_each_of_its_passwords(
    compose: list[str], tmp_path: Path, missing: str
) -> None:
    settings = {k: v for k, v in MULTIHOST_SECRETS.items() if k != missing}
    result = multihost_config(compose, tmp_path, settings)
    assert result.returncode != 0
    assert f"set {missing} in .env (scripts/up.sh --multihost writes a random one)" in result.stderr


def test_every_multihost_service_carries_only_the_passwords_it_uses(
    compose: list[str], tmp_path: Path
) -> None:
    result = multihost_config(compose, tmp_path, MULTIHOST_SECRETS)
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    env = {name: service.get("environment") or {} for name, service in services.items()}
    redis_password = MULTIHOST_SECRETS["REDIS_PASSWORD"]
    service_password = MULTIHOST_SECRETS["MLFLOW_SERVICE_PASSWORD"]
    for name in REDIS_CLIENTS:
        assert env[name]["REDIS_URL"] == f"redis://:{redis_password}@redis:6379/0", name
    for name in MLFLOW_CLIENTS:  # as MLflow's client reads them
        assert env[name]["MLFLOW_TRACKING_USERNAME"] == "nba-services", name
        assert env[name]["MLFLOW_TRACKING_PASSWORD"] == service_password, name
    assert env["redis"] == {"REDISCLI_AUTH": redis_password}
    server = env["mlflow"]
    assert server["MLFLOW_AUTH_ADMIN_PASSWORD"] == MULTIHOST_SECRETS["MLFLOW_ADMIN_PASSWORD"]
    assert server["MLFLOW_SERVICE_USERNAME"] == "nba-services"
    assert server["MLFLOW_SERVICE_PASSWORD"] == service_password
    assert server["PGPASSWORD"] == MULTIHOST_SECRETS["POSTGRES_PASSWORD"]
    assert services["mlflow"]["command"][:3] == ["python", "/app/mlflow_auth.py", "server"]
    # Compose hands .env to every Python service: each password reaches only its server and
    # the clients that log in with it (as a URL's part in REDIS_URL, not as itself).
    own = {
        "MLFLOW_ADMIN_PASSWORD": {"mlflow"},
        "POSTGRES_PASSWORD": {"mlflow", "postgres"},
        "REDIS_PASSWORD": {"redis"},
        "MLFLOW_SERVICE_PASSWORD": {"mlflow", *MLFLOW_CLIENTS},
    }
    for name, variables in env.items():
        for secret, owners in own.items():
            if name not in owners:
                assert MULTIHOST_SECRETS[secret] not in variables.values(), (name, secret)
    # No password on a command line (`ps`, `docker top`, `docker inspect` show those).
    for name, service in services.items():
        command = " ".join(service.get("command") or [])
        assert not [s for s in MULTIHOST_SECRETS.values() if s in command], name
    assert services["redis"]["healthcheck"]["test"] == [
        "CMD-SHELL", "redis-cli ping | grep -qx PONG"  # redis-cli exits 0 on NOAUTH too
    ]  # fmt: skip
    # Over TCP: the official image's first-start server listens on its socket alone.
    check = services["postgres"]["healthcheck"]["test"]
    assert check[:4] == ["CMD", "pg_isready", "-h", "127.0.0.1"]


@pytest.mark.parametrize("profile", ["single host", "multi-host"])
def test_each_password_in_dot_env_reaches_only_the_services_that_use_it(
    compose: list[str], profile: str, tmp_path: Path
) -> None:
    """Compose hands the whole .env to every Python service (env_file): the public UI, the
    workers and MLflow must not carry Flower's password, nor, on a single host, the
    multi-host profile's (a .env written by `up.sh --multihost` and then used for one host)."""
    login = "admin:fl-3c5e7a9b1d2f4a6c"
    env_file = tmp_path / "compose.env"
    lines = [f"FLOWER_BASIC_AUTH={login}", *(f"{k}={v}" for k, v in MULTIHOST_SECRETS.items())]
    env_file.write_text("\n".join(lines) + "\n")
    files = [BASE_COMPOSE, MULTIHOST_COMPOSE] if profile == "multi-host" else [BASE_COMPOSE]
    result = run_compose(compose, files, env_file, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]

    def carriers(secret: str) -> set[str]:
        return {
            name
            for name, service in services.items()
            if secret in json.dumps(service.get("environment") or {})
        }

    assert carriers(login) == {"flower"}
    if profile == "single host":
        assert not {s: carriers(s) for s in MULTIHOST_SECRETS.values() if carriers(s)}


def run_redis_start(script: str, password: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """The multi-host Redis's start script, with the image's entrypoint replaced by a stub that
    shows what the server would get: its arguments and its standard input."""
    stub = tmp_path / "bin" / "docker-entrypoint.sh"
    stub.parent.mkdir(exist_ok=True)
    stub.write_text('#!/bin/sh\necho "args: $*"\ncat\n')
    stub.chmod(0o755)
    return subprocess.run(
        ["sh", "-c", script],
        env={"PATH": f"{stub.parent}:{os.environ['PATH']}", "REDISCLI_AUTH": password},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_the_multihost_redis_refuses_a_placeholder_password_in_one_line(
    compose: list[str], tmp_path: Path
) -> None:
    """The same placeholders as every other container (common/secret_check.py), in any case."""
    from common.secret_check import EX_CONFIG, PLACEHOLDERS

    result = multihost_config(compose, tmp_path, MULTIHOST_SECRETS)
    assert result.returncode == 0, result.stderr
    command = json.loads(result.stdout)["services"]["redis"]["command"]
    assert command[:2] == ["sh", "-c"]
    script = command[2].replace("$$", "$")  # compose's own escape, as it starts the container
    fix = ": put a real one in .env (scripts/up.sh --multihost writes a random one)"
    refused = {
        "": "is empty",
        "<password>": "is the placeholder '<password>'",
        "pa/ss-9f86d081884c": "holds a character other than letters, digits and . _ ~ - "
        "(REDIS_URL carries it as it is)",
        "pass word-9f86d0818": "holds a character other than letters, digits and . _ ~ - "
        "(REDIS_URL carries it as it is)",
    }
    for placeholder in PLACEHOLDERS:
        refused[placeholder] = f"is the placeholder '{placeholder}'"
        refused[placeholder.upper()] = f"is the placeholder '{placeholder.upper()}'"
    for password, why in refused.items():
        done = run_redis_start(script, password, tmp_path)
        assert done.returncode == EX_CONFIG, (password, done)
        assert done.stdout == "", password  # the server never started
        assert done.stderr.splitlines() == [f"refusing to start: REDIS_PASSWORD {why}{fix}"]
    good = MULTIHOST_SECRETS["REDIS_PASSWORD"]
    started = run_redis_start(script, good, tmp_path)
    assert started.returncode == 0, started.stderr
    assert started.stdout == (
        f"args: redis-server - --appendonly yes --maxmemory-policy noeviction\nrequirepass {good}\n"
    )


# --- static rules --------------------------------------------------------------------------------


@pytest.mark.parametrize("combination", COMPOSE_COMBINATIONS)
def test_services_run_as_non_root(combination: str) -> None:
    services = load_compose(COMPOSE_COMBINATIONS[combination])["services"]
    built = image_targets(services)
    for name, service in services.items():
        if name in ROOT_SERVICES:
            continue
        if "user" in service:
            assert not is_root(str(service["user"])), name
            continue
        dockerfile, target = service_target(name, service, built)
        user = effective(parse_dockerfile(dockerfile), target, "USER")
        assert user is not None, f"target {target} sets no USER ({name})"
        assert not is_root(user), f"target {target}: USER {user} ({name})"
        # Numeric, so Kubernetes' runAsNonRoot and `docker run --user` checks can verify it.
        assert re.fullmatch(r"[1-9]\d*(:\d+)?", user), f"target {target}: USER {user}"


@pytest.mark.parametrize("target", sorted(IMAGE_TARGETS))
def test_image_stages_install_nothing(target: str) -> None:
    """Build stages install; an image's own stages (its target and runtime) only copy: no uv,
    pip, apt, compiler or strip in an image, and nothing from /opt/uv."""
    stages = parse_dockerfile(DOCKERFILE)
    for stage in chain(stages, target):
        for keyword, args in stage.instructions:
            where = f"stage {stage.name} (image {target})"
            if keyword == "RUN":
                assert not INSTALLERS.search(args), f"{where} runs {args!r}"
            if keyword in {"COPY", "ADD"}:
                assert "/opt/uv" not in args, f"{where} copies {args!r}"
                assert not re.search(r"\buv\b", args), f"{where} copies {args!r}"


@pytest.mark.parametrize("target", sorted(IMAGE_TARGETS))
def test_images_start_from_the_pinned_base_through_runtime(target: str) -> None:
    """Every image is runtime + its own layers; runtime starts from the slim base (by ARG,
    overridable), never from a build stage."""
    stages = chain(parse_dockerfile(DOCKERFILE), target)
    assert [s.name for s in stages] == [target, RUNTIME], target
    assert stages[-1].base == "${PYTHON_IMAGE}", target


def test_shared_build_steps_are_in_one_place() -> None:
    stages = parse_dockerfile(DOCKERFILE)
    by_name = stage_map(stages)
    venvs = {name for name in by_name if name.startswith("venv-")}
    assert venvs == {f"venv-{image}" for image in VENV_IMAGES}
    for name in venvs:  # uv, binutils and the lock file once, in `tools`
        assert by_name[name].base == "tools", name
        runs = [a for k, a in by_name[name].instructions if k == "RUN"]
        assert any("uv sync" in a for a in runs), name
        assert any("slim-venv" in a for a in runs), name
    text = DOCKERFILE.read_text()
    for once in ["apt-get install", "pip install", "groupadd", "COPY pyproject.toml uv.lock"]:
        assert text.count(once) == 1, f"{once!r} should appear once"
    # Each image copies its own venv and its own code, nothing of another service's.
    for image in IMAGE_TARGETS:
        copies = [a for k, a in by_name[image].instructions if k == "COPY"]
        sources = {m for a in copies for m in re.findall(r"--from=(\S+)", a)}
        own = {f"venv-{image}"} if image in VENV_IMAGES else set()
        if image != "mlflow":  # MLflow runs no project code
            own.add("code")
        assert sources == own, (image, sources)
        for args in copies:
            if "--from=code" in args:
                assert re.search(rf"/out/{image}(-stdlib)?/ ", args), (image, args)


@pytest.mark.parametrize("combination", COMPOSE_COMBINATIONS)
def test_compose_builds_every_image_from_its_target(combination: str) -> None:
    services = load_compose(COMPOSE_COMBINATIONS[combination])["services"]
    targets = {}
    for name, service in services.items():
        if "build" in service:
            dockerfile, target = built_by(service["build"])
            assert dockerfile == DOCKERFILE, name
            assert service["image"].startswith(f"nba-archetypes/{target}:"), name
            targets[name] = target
    assert len(set(targets.values())) == len(targets), targets


# --- bytecode ------------------------------------------------------------------------------------


def test_bytecode_is_compiled_at_build_time() -> None:
    stages = stage_map(parse_dockerfile(DOCKERFILE))
    slim = (DOCKER_DIR / "slim-venv.sh").read_text()
    stdlib = (DOCKER_DIR / "stdlib-bytecode.sh").read_text()
    # slim-venv drops the .pyc a wheel brings, then imports the listed modules with bytecode
    # writing on, through stdlib-bytecode, which stages the stdlib's for the image.
    assert slim.index("'*.pyc'") < slim.index("stdlib-bytecode /stdlib-pyc")
    assert "PYTHONDONTWRITEBYTECODE=''" in stdlib
    for image in VENV_IMAGES:
        runs = " ".join(a for k, a in stages[f"venv-{image}"].instructions if k == "RUN")
        listed = runs.split("slim-venv /opt/venv", 1)[1].split()
        assert len(listed) >= 5, f"venv-{image}: list the modules the service imports"
        copies = [a for k, a in stages[image].instructions if k == "COPY"]
        assert f"--from=venv-{image} /stdlib-pyc/ /" in copies, image
    code_runs = " ".join(a for k, a in stages["code"].instructions if k == "RUN")
    assert "compileall" in code_runs
    assert "checked-hash" in code_runs
    assert "/out/replay-stdlib" in code_runs
    runtime_copies = [a for k, a in stages[RUNTIME].instructions if k == "COPY"]
    assert "--from=entrypoint /stdlib-pyc/ /" in runtime_copies


def test_the_workers_start_imports_are_compiled() -> None:
    """The worker command's own imports are in their venv stage's list (a module missing
    from it is compiled again by every worker process, at every start)."""
    stages = stage_map(parse_dockerfile(DOCKERFILE))
    for image in WORKER_TARGETS:
        runs = " ".join(a for k, a in stages[f"venv-{image}"].instructions if k == "RUN")
        for module in ["celery.apps.worker", "celery.concurrency.prefork", "kombu.transport.redis"]:
            assert module in runs.split(), (image, module)


# In the multi-host profile the workers and the app reach MLflow over HTTP (the REST store, the
# server's artifact proxy; the fetch worker stores and reads seasons back), and the server keeps
# its metadata in PostgreSQL through psycopg2: their venvs compile those modules too.
MULTIHOST_MODULES = {
    "fetch": {
        "mlflow", "mlflow.tracking", "mlflow.artifacts", "mlflow.store.tracking.rest_store",
        "mlflow.store.artifact.mlflow_artifacts_repo", "mlflow.store.artifact.http_artifact_repo",
    },
    "train": {"mlflow.store.tracking.rest_store", "mlflow.store.artifact.mlflow_artifacts_repo"},
    "ui": {"mlflow.store.tracking.rest_store", "mlflow.store.artifact.mlflow_artifacts_repo"},
    "mlflow": {"psycopg2", "sqlalchemy.dialects.postgresql.psycopg2"},
}  # fmt: skip


def slim_venv_modules(stages: list[Stage], image: str) -> list[str]:
    """The modules venv-<image> has slim-venv import (and compile)."""
    runs = [a for k, a in stage_map(stages)[f"venv-{image}"].instructions if k == "RUN"]
    listed = [a.split("slim-venv /opt/venv", 1)[1].split() for a in runs if "slim-venv" in a]
    assert len(listed) == 1, f"venv-{image}: one slim-venv run"
    return listed[0]


@pytest.mark.parametrize("image", sorted(MULTIHOST_MODULES))
def test_the_multihost_imports_are_compiled(image: str) -> None:
    listed = slim_venv_modules(parse_dockerfile(DOCKERFILE), image)
    assert MULTIHOST_MODULES[image] <= set(listed), MULTIHOST_MODULES[image] - set(listed)
    assert len(listed) == len(set(listed)), f"venv-{image} lists a module twice"


def test_the_fetch_extra_has_the_mlflow_client_of_the_others() -> None:
    """The season store uses MLflow's own client (common/season_store.py): the fetch extra
    has mlflow-skinny, at the floor the train and ui extras set, and not the full server."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]

    def mlflow_of(extra: str) -> list[str]:
        return [d for d in extras[extra] if d.lower().startswith("mlflow")]

    assert mlflow_of("fetch") == mlflow_of("train") == mlflow_of("ui"), extras
    assert [d.split(">=")[0] for d in mlflow_of("fetch")] == ["mlflow-skinny"]


# What the fetch worker's MLflow client loads beyond its listed modules (measured: every module a
# publish, search and download against a --serve-artifacts server imported): `import mlflow`
# looks up databricks.agents (so the databricks namespace package must stay) and imports the
# gateway (FastAPI, Starlette), protobuf and OpenTelemetry; billiard uses cffi when it is there.
FETCH_CLIENT_LOADS = [
    "databricks/__init__.py", "fastapi", "starlette", "google/protobuf", "opentelemetry",
    "cffi", "pycparser", "mlflow/gateway/__init__.py", "mlflow/store/artifact",
]  # fmt: skip


def test_the_fetch_venv_drops_nothing_its_client_loads() -> None:
    """SLIM_VENV_DROP (docker/slim-venv.sh) in venv-fetch: relative paths, none holding a module
    the worker imports (the listed ones, and what MLflow's client loads besides)."""
    from fnmatch import fnmatch

    stages = stage_map(parse_dockerfile(DOCKERFILE))
    runs = " ".join(a for k, a in stages["venv-fetch"].instructions if k == "RUN")
    found = re.search(r'SLIM_VENV_DROP="([^"]*)"\s+slim-venv /opt/venv ', runs)
    assert found, "venv-fetch: SLIM_VENV_DROP set on the slim-venv command"
    dropped = found.group(1).split()
    assert dropped
    assert all(not d.startswith("/") and ".." not in d for d in dropped), dropped
    listed = slim_venv_modules(list(stages.values()), "fetch")
    kept = [m.replace(".", "/") for m in listed] + FETCH_CLIENT_LOADS
    for path in kept:
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        hits = [d for d in dropped for p in prefixes if fnmatch(p, d)]
        assert not hits, f"SLIM_VENV_DROP {hits} would remove {path}, which the fetch worker loads"
    for stage in stages:  # the other venvs keep everything (their services load more of MLflow)
        if stage.startswith("venv-") and stage != "venv-fetch":
            other = " ".join(a for k, a in stages[stage].instructions if k == "RUN")
            assert "SLIM_VENV_DROP" not in other, stage


# --- health checks -------------------------------------------------------------------------------


def healthcheck_of(target: str) -> tuple[dict[str, str], list[str]]:
    args = effective(parse_dockerfile(DOCKERFILE), target, "HEALTHCHECK")
    assert args, f"target {target} has no HEALTHCHECK"
    options_part, _, command_part = args.partition("CMD")
    return dict(re.findall(r"--([\w-]+)=(\S+)", options_part)), exec_form(command_part)


def seconds(value: str) -> float:
    return float(value.removesuffix("s"))


@pytest.mark.parametrize("target", sorted(IMAGE_TARGETS))
def test_health_checks_run_no_python(target: str) -> None:
    """A check is the bash script docker/healthcheck.sh, not a Python that imports the app."""
    _, command = healthcheck_of(target)
    assert command[0] == "healthcheck", (target, command)
    assert "python" not in " ".join(command)
    script = (DOCKER_DIR / "healthcheck.sh").read_text()
    assert script.startswith("#!/bin/bash\n")
    assert "python" not in script.split("\nset -u", 1)[1]


def test_workers_check_a_heartbeat_they_write() -> None:
    from common.settings import Settings

    interval_s = Settings.model_fields["heartbeat_interval_s"].default
    script = (DOCKER_DIR / "healthcheck.sh").read_text()
    assert 'interval="${HEARTBEAT_INTERVAL_S:-' + f"{interval_s:.0f}" + '}"' in script
    for target in WORKER_TARGETS:
        options, command = healthcheck_of(target)
        # No MAX_AGE: the script's own, which follows HEARTBEAT_INTERVAL_S (tested in
        # tests/integration/test_container_checks.py).
        assert command == ["healthcheck", "heartbeat"], target
        # Docker 20.10 runs the first check one interval after the start.
        assert seconds(options["interval"]) < HEALTHY_WITHIN_S, target
        cmd = exec_form(effective(parse_dockerfile(DOCKERFILE), target, "CMD") or "")
        assert cmd[cmd.index("--include") + 1] == "common.health", target


@pytest.mark.parametrize("combination", COMPOSE_COMBINATIONS)
def test_the_projects_images_are_built_never_pulled(combination: str) -> None:
    """`docker compose pull` would otherwise fetch whatever a registry holds under these names
    (nba-archetypes/* on Docker Hub is not ours) and `up` would run it with .env's secrets.
    (The multi-host overlay names no image of its own.)"""
    services = load_compose(COMPOSE_COMBINATIONS[combination])["services"]
    ours = {n: s for n, s in services.items() if s.get("image", "").startswith("nba-archetypes/")}
    assert {"ui", "beat", "worker-fetch"} <= ours.keys()
    assert {name: s.get("pull_policy") for name, s in ours.items()} == dict.fromkeys(ours, "never")


@pytest.mark.parametrize("combination", COMPOSE_COMBINATIONS)
def test_compose_health_checks_are_cheap(combination: str) -> None:
    services = load_compose(COMPOSE_COMBINATIONS[combination])["services"]
    for name, service in services.items():
        check = service.get("healthcheck")
        if not check:
            continue
        assert not check.get("disable"), f"{name}: `up --wait` fails on a disabled check"
        assert "python" not in " ".join(check["test"]), name
        assert seconds(check.get("interval", "30s")) >= 15, f"{name}: each check costs 0.06-0.1 s"
    # The fetch image's check reads a worker's heartbeat: beat checks the broker instead.
    assert services["beat"]["healthcheck"]["test"] == ["CMD", "healthcheck", "redis"]
    # redis-cli exits 0 on an error reply (LOADING, NOAUTH): healthy is a PONG.
    assert services["redis"]["healthcheck"]["test"] == [
        "CMD-SHELL", "redis-cli ping | grep -qx PONG"
    ]  # fmt: skip


# --- placeholder secrets -------------------------------------------------------------------------


def test_every_image_starts_through_the_secret_check() -> None:
    stages = parse_dockerfile(DOCKERFILE)
    for target in IMAGE_TARGETS:
        entrypoint = exec_form(effective(stages, target, "ENTRYPOINT") or "")
        assert entrypoint == ["python", "-S", "/opt/entrypoint/secret_check.py"], target
        assert "REFUSE_PLACEHOLDERS_IN" in env_of(stages, target), target
    checked = env_of(stages, "flower")["REFUSE_PLACEHOLDERS_IN"].split()
    assert "FLOWER_BASIC_AUTH" in checked
    for combination in COMPOSE_COMBINATIONS.values():
        for name, service in load_compose(combination)["services"].items():
            assert "entrypoint" not in service, f"{name} would skip the secret check"


def test_the_example_flower_password_is_refused() -> None:
    from common import secret_check

    example = (ROOT / ".env.example").read_text()
    auth = re.search(r"^FLOWER_BASIC_AUTH=(.*)$", example, re.MULTILINE)
    assert auth, ".env.example documents FLOWER_BASIC_AUTH"
    found = secret_check.problems({"FLOWER_BASIC_AUTH": auth.group(1)})
    assert found == ["FLOWER_BASIC_AUTH has the placeholder password 'change-me'"]


def test_the_secret_check_needs_only_the_standard_library() -> None:
    """It runs with -S (no site-packages) and, in the mlflow and replay images, alone."""
    import ast

    tree = ast.parse((ROOT / "common" / "secret_check.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            assert top in sys.stdlib_module_names or top == "__future__", name


@pytest.mark.parametrize("combination", COMPOSE_COMBINATIONS)
def test_ports_published_on_localhost_only(combination: str) -> None:
    services = load_compose(COMPOSE_COMBINATIONS[combination])["services"]
    published = 0
    for name, service in services.items():
        for spec in service.get("ports", []):
            published += 1
            assert isinstance(spec, str), f"{name}: use the short port syntax ({spec!r})"
            target = int(spec.rsplit(":", 1)[-1].split("/")[0])
            if target in PUBLIC_PORTS:
                continue
            assert spec.startswith("127.0.0.1:"), f"{name} publishes {spec} beyond 127.0.0.1"
    assert published >= 3


def test_parser_sees_stages() -> None:
    """The checks above read what they think they read."""
    stages = parse_dockerfile(DOCKERFILE)
    assert stages[0].name == "tools"
    assert [s.name for s in chain(stages, "venv-fetch")] == ["venv-fetch", "tools"]
    venv_fetch = stage_map(stages)["venv-fetch"]
    assert any(k == "RUN" and "uv sync" in a for k, a in venv_fetch.instructions)
    assert effective(stages, "fetch", "USER") == "10001:10001"
    assert env_of(stages, "fetch")["RECORDINGS_DIR"] == "/app/recordings"
    assert healthcheck_of("ui")[1] == ["healthcheck", "http", "8501", "/_stcore/health"]
    assert INSTALLERS.search("/opt/uv/bin/uv sync --no-dev")
    assert INSTALLERS.search("apt-get install -y binutils")
    assert not INSTALLERS.search("groupadd --system --gid 10001 app && mkdir -p /data")


def test_every_venv_is_built_from_the_lock_and_a_stale_lock_fails_the_build() -> None:
    syncs = [
        args
        for stage in parse_dockerfile(DOCKERFILE)
        for keyword, args in stage.instructions
        if keyword == "RUN" and "uv sync" in args
    ]
    assert len(syncs) == 5, syncs  # one venv per service that has one
    assert all("--locked" in args for args in syncs), syncs
    assert all("UV_FROZEN" not in args for _, args in parse_dockerfile(DOCKERFILE)[0].instructions)


def test_what_every_image_shares_is_said_once() -> None:
    stages = parse_dockerfile(DOCKERFILE)
    shared = ("USER", "ENTRYPOINT")
    for stage in stages:
        if stage.base != "runtime":
            continue
        own = {keyword for keyword, _ in stage.instructions}
        assert not own & set(shared), f"{stage.name} repeats {own & set(shared)}"
        labels = " ".join(args for keyword, args in stage.instructions if keyword == "LABEL")
        assert "image.source" not in labels, stage.name
        assert "image.licenses" not in labels, stage.name
        assert "image.title" in labels, stage.name  # its own
