"""Real services for tests and benchmarks: a throwaway redis-server, Celery worker processes,
and the settings that point workers at a temporary data directory and the replay server."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import redis

T = TypeVar("T")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RECORDINGS = PROJECT_ROOT / "replay" / "recordings"
MLFLOW_AUTH = PROJECT_ROOT / "docker" / "mlflow_auth.py"  # the multi-host MLflow server's start


# Below the kernel's ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 by default),
# where every outgoing connection draws its local port: a port handed out here cannot be taken
# by another test's client socket before its server binds it (seen: a replay server's port
# taken, with three test workers busy). Random, so parallel workers rarely pick the same one.
SERVICE_PORTS = range(20000, 32768)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (``host=""``: free on every interface), outside the range
    client sockets take theirs from."""
    for port in random.sample(SERVICE_PORTS, 200):
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {SERVICE_PORTS} on {host or 'every interface'}")


class RedisServer:
    """A redis-server on a free port, for one test session or benchmark; ``persistent`` keeps
    an append-only file (as compose's and the local mode's Redis do), so it can be restarted
    with its data. ``port``: one reserved beforehand (the tests name it in REDIS_URL before the
    Celery app is imported, and start the server only when a test uses it). ``password``: it
    requires one, as the multi-host profile's does (given on its standard input, as there);
    ``url`` carries it."""

    def __init__(
        self, *, persistent: bool = False, port: int | None = None, password: str | None = None
    ) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise RuntimeError(
                "the tests need Redis: install redis-server (apt-get install redis-server) "
                "or set TEST_REDIS_URL to a server the tests may flush"
            )
        self.persistent = persistent
        self.password = password
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="test-redis-")
        login = f":{password}@" if password else ""
        self.url = f"redis://{login}127.0.0.1:{self.port}/0"
        self.process = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        config = ["-"] if self.password else []  # `-`: more settings on standard input
        process = subprocess.Popen(
            [str(self.binary), *config, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "yes" if self.persistent else "no", "--dir", self.dir],
            stdin=subprocess.PIPE if self.password else subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        if process.stdin is not None:
            process.stdin.write(f"requirepass {self.password}\n".encode())
            process.stdin.close()
        # Its own answer, not another server's on a port taken since it was reserved.
        wait_until(lambda: process.poll() is None and _answers(self.url), "redis-server to answer")
        return process

    def restart(self, down_s: float = 0.0) -> None:
        """Shut down (SIGTERM: the append-only file is flushed), stay down ``down_s``, start
        again on the same port and directory."""
        self.process.terminate()
        self.process.wait(timeout=10)
        time.sleep(down_s)
        self.process = self._start()

    def freeze(self, frozen_s: float) -> None:
        """Stop the server answering for ``frozen_s``, as ``docker pause`` or a network that
        drops packets does: it still accepts connections (the kernel does), answers nothing."""
        self.process.send_signal(signal.SIGSTOP)
        try:
            time.sleep(frozen_s)
        finally:
            self.process.send_signal(signal.SIGCONT)

    @contextmanager
    def down_for(self, down_s: float) -> Iterator[None]:
        """The block runs while the server is down (from the moment it refuses a connection);
        it is back, after ``down_s``, when the block has ended."""
        restarting = threading.Thread(target=self.restart, kwargs={"down_s": down_s})
        restarting.start()
        try:
            wait_until(lambda: not _answers(self.url), "redis-server to go down", interval_s=0.01)
            yield
        finally:
            restarting.join()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


class TcpRelay:
    """Forwards a local port to ``target`` (host, port), connection by connection. ``cut()``
    leaves the connections open so far half-open: nothing more passes through them either way
    and nothing closes them, as when a broker's host dies or a NAT forgets them; connections
    made later pass as before (the broker back, or its replacement at the same address)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._open: list[threading.Event] = []  # one per connection: set while it passes
        self._sockets: list[socket.socket] = []  # kept, so that none is closed by collection
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        for passing in self._open:
            passing.clear()

    def close(self) -> None:
        self.listener.close()
        for sock in self._sockets:
            sock.close()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):  # closed
            while True:
                client, _ = self.listener.accept()
                server = socket.create_connection(self.target)
                self._sockets += [client, server]
                passing = threading.Event()
                passing.set()
                self._open.append(passing)
                for a, b in ((client, server), (server, client)):
                    threading.Thread(target=self._pipe, args=(a, b, passing), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket, passing: threading.Event) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if not passing.is_set():
                    return  # cut: swallow this and everything after, close nothing
                sink.sendall(data)


class MlflowServer:
    """A real MLflow tracking server (``mlflow server``) on a free port, as the multi-host
    profile runs it: runs and registry in its own store (SQLite here, PostgreSQL in compose),
    artifacts served through it (``--serve-artifacts``), so clients need nothing but HTTP.
    ``store_dir`` (kept at stop) holds the runs and artifacts of an earlier server to reuse."""

    def __init__(
        self,
        log_dir: Path,
        store_dir: Path | None = None,
        auth: Mapping[str, str] | None = None,
    ) -> None:
        """``auth``: run it with basic auth as the multi-host profile does (through
        docker/mlflow_auth.py), with this environment (MLFLOW_AUTH_ADMIN_PASSWORD,
        MLFLOW_SERVICE_PASSWORD...); the users live in a database file of their own."""
        self.kept = store_dir is not None
        self.dir = store_dir or Path(tempfile.mkdtemp(prefix="test-mlflow-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log_dir / "mlflow-server.log"
        options = [
            "--backend-store-uri", f"sqlite:///{self.dir / 'server.db'}",
            "--serve-artifacts", "--artifacts-destination", str(self.dir / "artifacts"),
            "--default-artifact-root", "mlflow-artifacts:/",
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
        ]  # fmt: skip
        env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
        command = [sys.executable, "-m", "mlflow", "server", *options]
        if auth is not None:
            command = [sys.executable, str(MLFLOW_AUTH), "server", *options]
            env |= {
                "MLFLOW_AUTH_DATABASE_URI": f"sqlite:///{self.dir / 'auth.db'}",
                "MLFLOW_AUTH_CONFIG_PATH": str(self.dir / "basic_auth.ini"),
                **auth,
            }
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.dir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # stop() ends uvicorn's worker process too
            )
        wait_until(self._healthy, f"the MLflow server (log in {self.log})", timeout_s=120)

    def _healthy(self) -> bool:
        import urllib.request

        if self.process.poll() is not None:
            raise RuntimeError(f"mlflow server exited with {self.process.returncode}")
        with urllib.request.urlopen(f"{self.url}/health", timeout=2) as answer:
            return answer.status == 200

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if not self.kept:
            shutil.rmtree(self.dir, ignore_errors=True)


def own_mlflow_names() -> dict[str, str]:
    """Experiments and model name (as environment variables) no one else uses, so tests and
    benchmark rounds on one MLflow server never see each other's runs."""
    tag = uuid.uuid4().hex[:8]
    return {
        "MLFLOW_EXPERIMENT": f"archetypes-{tag}",
        "MLFLOW_SEASONS_EXPERIMENT": f"seasons-{tag}",
        "REGISTERED_MODEL_NAME": f"model-{tag}",
    }


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url).ping())
    except redis.ConnectionError:
        return False


class GaveUp(Exception):
    """Raised by a check when waiting longer cannot help (:func:`wait_until` lets it through)."""


def wait_until(
    check: Callable[[], T], what: str, timeout_s: float = 30.0, interval_s: float = 0.05
) -> T:
    """Call ``check`` until it returns something truthy (errors count as "not yet", except
    :class:`GaveUp`)."""
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except GaveUp:
            raise
        except Exception as error:  # retried until the deadline
            last_error = error
        time.sleep(interval_s)
    raise TimeoutError(f"timed out after {timeout_s}s waiting for {what} (last: {last_error})")


# One worker: its task module, its queue and settings of its own over the shared ``env``.
WorkerSpec = tuple[str, str, Mapping[str, str]]


@contextmanager
def celery_workers(
    workers: Mapping[str, str] | Sequence[WorkerSpec], env: Mapping[str, str], log_dir: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Real worker processes, one per ``{task module: queue}`` (or per ``(module, queue,
    own env)``: several of one kind, each with its own settings), started together (start-up
    is mostly imports, so in parallel it costs one worker's time) and stopped with SIGTERM.

    The workers reach the broker at this process's ``REDIS_URL`` (unless ``env`` says
    otherwise), which is also where :mod:`common.celery_app` publishes."""
    from common.celery_app import app

    specs = [(m, q, {}) for m, q in workers.items()] if isinstance(workers, Mapping) else workers
    processes, names = [], []
    try:
        for index, (module, queue, own_env) in enumerate(specs):
            name = f"{queue}-{os.getpid()}-{time.monotonic_ns()}@test"
            command = [
                sys.executable, "-m", "celery", "-A", module, "worker", "-Q", queue, "-c", "1",
                "-n", name, "--without-gossip", "--without-mingle", "--loglevel", "INFO",
            ]  # fmt: skip
            log_name = f"{queue}.log" if isinstance(workers, Mapping) else f"{queue}-{index}.log"
            with (log_dir / log_name).open("ab") as log:
                process = subprocess.Popen(
                    command,
                    cwd=PROJECT_ROOT,
                    env={**os.environ, **env, **own_env},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            processes.append(process)
            names.append(name)
        for process, name in zip(processes, names, strict=True):
            wait_until(
                lambda p=process, n=name: p.poll() is None and app.control.ping([n], timeout=0.5),
                f"worker {name} (logs in {log_dir})",
                timeout_s=90,
            )
        yield processes
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def streamlit_app(
    script: Path, env: Mapping[str, str], log: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``streamlit run script`` on a free port, in its own process started from the project
    root (so with the app's .streamlit/config.toml), until it answers its health check: its
    URL and process."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port)]
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=dict(env), stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if process.poll() is not None:
            raise GaveUp(f"streamlit exited with {process.returncode} (log: {log})")
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
            return response.status == 200

    try:
        wait_until(healthy, f"streamlit health (log: {log})", timeout_s=120, interval_s=0.02)
        yield url, process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def kill_worker(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL a worker and its pool processes at once, as an OOM kill or a host restart
    does: nothing runs its cleanup, no task is acknowledged or released."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    for pid in [process.pid, *map(int, children)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)


def worker_env(data_dir: Path, replay_url: str) -> dict[str, str]:
    """Settings for real workers in tests: a fresh data directory, the replay server as the
    stats site, quick retries, no seeding."""
    return {
        "DATA_DIR": str(data_dir),
        "NBA_STATS_BASE_URL": f"{replay_url}/stats",
        "NBA_MIN_REQUEST_GAP_S": "0.05",
        "NBA_BACKOFF_INITIAL_S": "0.05",
        "NBA_BACKOFF_MAX_S": "0.2",
        "NBA_BACKOFF_JITTER_S": "0.05",
        "NBA_MAX_ATTEMPTS": "3",
        # Generous: a loaded CI machine must not turn a slow answer into a failed fetch.
        "NBA_REQUEST_TIMEOUT_S": "10",
        "SEED_ON_EMPTY": "false",
    }
