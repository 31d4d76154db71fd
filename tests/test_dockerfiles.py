"""The Dockerfiles and compose files, checked without building or running anything.

* hadolint is clean on every Dockerfile (the few rules ignored are ignored inline, each with
  its reason on the line above);
* ``docker compose config`` accepts both file combinations (skipped without a docker CLI
  that has the compose plugin; the plugin validates without a daemon);
* the security and size rules the images promise: every service but redis runs as a
  non-root user, images that install anything build it in a separate stage and their final
  stage installs nothing (no uv, no pip, no apt, no toolchain), and only the UI's 8501 is
  published beyond 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCKER_DIR = ROOT / "docker"
DOCKERFILES = sorted(DOCKER_DIR.glob("*.Dockerfile"))
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


def final_user(stage: Stage) -> str | None:
    users = [args for keyword, args in stage.instructions if keyword == "USER"]
    return users[-1] if users else None


def is_root(user: str) -> bool:
    name = user.split(":", maxsplit=1)[0].strip()
    return name in {"root", "0"}


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


def image_dockerfiles(services: dict[str, Any]) -> dict[str, Path]:
    """Image name -> the Dockerfile that builds it (beat runs the fetch worker's image)."""
    built = {}
    for service in services.values():
        build = service.get("build")
        if build and "image" in service:
            built[service["image"]] = ROOT / build.get("context", ".") / build["dockerfile"]
    return built


def service_dockerfile(name: str, service: dict[str, Any], built: dict[str, Path]) -> Path:
    if service.get("build"):
        return ROOT / service["build"].get("context", ".") / service["build"]["dockerfile"]
    if service.get("image") in built:
        return built[service["image"]]
    raise AssertionError(f"service {name} runs {service.get('image')!r}, built by no Dockerfile")


def hadolint_binary() -> str:
    candidate = Path(sys.executable).parent / "hadolint"
    found = str(candidate) if candidate.exists() else shutil.which("hadolint")
    assert found, "hadolint not found: it comes with the dev dependencies (uv sync)"
    return found


# --- hadolint ------------------------------------------------------------------------------------


def test_there_are_dockerfiles() -> None:
    assert {p.name for p in DOCKERFILES} >= {
        "fetch.Dockerfile",
        "train.Dockerfile",
        "ui.Dockerfile",
        "mlflow.Dockerfile",
        "flower.Dockerfile",
        "replay.Dockerfile",
    }


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
    r"COMPOSE_.*|TAG|PYTHON_IMAGE|REDIS_IMAGE|FLOWER_BASIC_AUTH|ENV_FILE|"
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


# --- static rules --------------------------------------------------------------------------------


@pytest.mark.parametrize("combination", COMPOSE_COMBINATIONS)
def test_services_run_as_non_root(combination: str) -> None:
    services = load_compose(COMPOSE_COMBINATIONS[combination])["services"]
    built = image_dockerfiles(services)
    for name, service in services.items():
        if name in ROOT_SERVICES:
            continue
        if "user" in service:
            assert not is_root(str(service["user"])), name
            continue
        dockerfile = service_dockerfile(name, service, built)
        user = final_user(parse_dockerfile(dockerfile)[-1])
        assert user is not None, f"{dockerfile.name}: the final stage sets no USER ({name})"
        assert not is_root(user), f"{dockerfile.name}: USER {user} ({name})"
        # Numeric, so Kubernetes' runAsNonRoot and `docker run --user` checks can verify it.
        assert re.fullmatch(r"[1-9]\d*(:\d+)?", user), f"{dockerfile.name}: USER {user}"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_final_stage_installs_nothing(dockerfile: Path) -> None:
    """Dependencies are installed in a builder stage; the final stage only copies the venv
    (no uv, pip, apt, compiler or strip in the image, and nothing from /opt/uv)."""
    stages = parse_dockerfile(dockerfile)
    installs = [
        (i, keyword, args)
        for i, stage in enumerate(stages)
        for keyword, args in stage.instructions
        if keyword in {"RUN", "COPY", "ADD"} and INSTALLERS.search(args)
    ]
    if installs:
        assert len(stages) >= 2, f"{dockerfile.name} installs software in a single stage"
    final = stages[-1]
    assert final.name is None or final.name not in {"builder"}, dockerfile.name
    for keyword, args in final.instructions:
        if keyword == "RUN":
            assert not INSTALLERS.search(args), f"{dockerfile.name}: final stage runs {args!r}"
        if keyword in {"COPY", "ADD"}:
            assert "/opt/uv" not in args, f"{dockerfile.name}: final stage copies {args!r}"
            assert not re.search(r"\buv\b", args), f"{dockerfile.name}: final stage copies {args!r}"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_final_stage_from_the_pinned_base(dockerfile: Path) -> None:
    """Every final stage starts from the slim base (by ARG, overridable), not from a builder."""
    stages = parse_dockerfile(dockerfile)
    names = {s.name for s in stages if s.name}
    assert stages[-1].base not in names, f"{dockerfile.name}: final stage FROM {stages[-1].base}"
    assert stages[-1].base == "${PYTHON_IMAGE}", dockerfile.name


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
    stages = parse_dockerfile(DOCKER_DIR / "fetch.Dockerfile")
    assert [s.name for s in stages] == ["builder", None]
    assert any(k == "RUN" and "uv sync" in a for k, a in stages[0].instructions)
    assert final_user(stages[-1]) == "10001:10001"
    assert INSTALLERS.search("/opt/uv/bin/uv sync --no-dev")
    assert INSTALLERS.search("apt-get install -y binutils")
    assert not INSTALLERS.search("groupadd --system --gid 10001 app && mkdir -p /data")
