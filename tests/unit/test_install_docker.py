"""scripts/install_docker.sh removes the pid files a killed daemon left behind.

A CI run failed so: the machine's services had been killed, the pid in
containerd.pid had since been reused by another process, and dockerd waited
for a "still running" containerd until it gave up.
"""

import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "install_docker.sh"


def clear(pid_file: Path, name: str) -> str:
    """Run the script's clear_stale_pid_file on one file; its log line."""
    done = subprocess.run(
        [
            "bash",
            "-c",
            'source "$1"; clear_stale_pid_file "$2" "$3"',
            "bash",
            SCRIPT,
            pid_file,
            name,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@pytest.fixture
def other_process():
    """A live process that is not the daemon a pid file names."""
    with subprocess.Popen(["sleep", "60"]) as process:
        yield process.pid
        process.kill()


def test_a_pid_reused_by_another_process_is_removed(tmp_path: Path, other_process: int) -> None:
    pid_file = tmp_path / "containerd.pid"
    pid_file.write_text(str(other_process))  # dockerd writes it without a newline

    said = clear(pid_file, "containerd")

    assert not pid_file.exists()
    assert f"pid {other_process} is not containerd" in said


def test_a_pid_of_a_gone_process_is_removed(tmp_path: Path) -> None:
    with subprocess.Popen(["true"]) as process:
        process.wait()
    pid_file = tmp_path / "docker.pid"
    pid_file.write_text(str(process.pid))

    clear(pid_file, "dockerd")

    assert not pid_file.exists()


def test_a_pid_of_the_named_process_stays(tmp_path: Path, other_process: int) -> None:
    pid_file = tmp_path / "sleep.pid"
    pid_file.write_text(str(other_process))

    said = clear(pid_file, "sleep")

    assert pid_file.read_text() == str(other_process)
    assert said == ""


def test_a_daemon_this_user_may_not_use_is_said_so(tmp_path: Path) -> None:
    """A user outside the docker group gets "add yourself to it", not "starting dockerd needs
    root" for a daemon that already runs. The docker client here is a stand-in that answers as
    the real one does to such a user (its exact words)."""
    fake = tmp_path / "docker"
    fake.write_text(
        "#!/bin/sh\necho 'permission denied while trying to connect to the Docker daemon socket"
        " at unix:///var/run/docker.sock: connect: permission denied' >&2\nexit 1\n"
    )
    fake.chmod(0o755)
    done = subprocess.run(
        ["bash", "-c", f'PATH="{tmp_path}:$PATH"; source "$1"; start_daemon', "bash", SCRIPT],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "may not use its socket: sudo usermod -aG docker" in done.stderr
    assert "needs root" not in done.stderr
