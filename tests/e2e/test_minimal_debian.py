"""The always-present list of tests/unit/test_install_steps.py holds on a minimal Debian: the
stand-in base image that scripts/build_base_images.sh makes with debootstrap (needs Docker)."""

from __future__ import annotations

import subprocess

import pytest

from tests.services import PROJECT_ROOT, docker
from tests.unit.test_install_steps import (
    ALWAYS_PRESENT_COMMANDS,
    BASH_BUILTINS,
    INSTALLER,
    read_tools,
)

STAND_IN_DEBIAN = "python:3.11-slim-bookworm"  # debootstrap --variant=minbase + python3.11


def _stand_in_image() -> str:
    try:
        if docker("info", timeout=30).returncode != 0:
            pytest.skip("needs a running Docker engine: run scripts/install_docker.sh")
    except (OSError, subprocess.TimeoutExpired):
        pytest.skip("needs the docker CLI: run scripts/install_docker.sh")
    if docker("image", "inspect", STAND_IN_DEBIAN).returncode != 0:
        pytest.skip(f"needs {STAND_IN_DEBIAN}: run scripts/ensure_docker.sh")
    labels = docker("image", "inspect", "-f", "{{json .Config.Labels}}", STAND_IN_DEBIAN).stdout
    if "build_base_images" not in labels:
        pytest.skip(f"{STAND_IN_DEBIAN} is not the minimal stand-in (scripts/build_base_images.sh)")
    return STAND_IN_DEBIAN


@pytest.mark.docker
def test_always_present_commands_are_on_a_minimal_debian() -> None:
    image = _stand_in_image()
    names = " ".join(sorted(ALWAYS_PRESENT_COMMANDS | BASH_BUILTINS))
    script = f'for c in {names}; do type -t "$c" >/dev/null || echo "$c"; done'
    result = docker("run", "--rm", "--network", "none", image, "bash", "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == []


@pytest.mark.docker
def test_table_commands_are_not_on_a_minimal_debian() -> None:
    """Rows of the table are there because a minimal Debian lacks them (python3 aside: the
    stand-in is the python image)."""
    image = _stand_in_image()
    commands = [t.command for t in read_tools(PROJECT_ROOT / INSTALLER) if t.command != "python3"]
    script = f'for c in {" ".join(commands)}; do command -v "$c" || true; done'
    result = docker("run", "--rm", "--network", "none", image, "bash", "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == []
