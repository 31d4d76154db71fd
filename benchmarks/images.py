"""Benchmark of the Docker images and the stack: prints figures against the targets (not a test).

    uv run python -m benchmarks.images                     # everything (~25 min)
    uv run python -m benchmarks.images --idle-minutes 1    # a quicker idle window
    uv run python -m benchmarks.images --cold              # + a cold build
    uv run python -m benchmarks.images --no-stack          # images only (~5 min)

Everything is built from a temporary copy of the repository under its own image tag
(``TAG=bench``) and run as its own compose project (``nba-bench``, both compose files: the
replay server is the upstream), so the working tree, the developer's ``:latest`` images and any
running stack are left alone; the bench tags are removed at the end (``--keep`` keeps them).

Figures:

* **Builds**: a rebuild with nothing changed; a **warm rebuild** of every image after a
  code-only change (a comment appended to ``common/settings.py`` in the copy); with ``--cold``,
  a build with ``--no-cache`` after deleting this project's BuildKit cache mounts (the uv and
  pip download caches), so every wheel is downloaded again. Base images are never touched.
* **Size** of each image and the size it **adds above its base** (image size minus base size,
  as the engine reports them), in decimal MB (as ``docker images`` prints) and MiB; the
  **unique bytes** of the stack (every layer once, by diff ID, from one ``docker save``).
* **Bytecode**: in a throwaway container of each worker image, the CPU and wall time of what a
  service imports as it starts (median of fresh interpreters): as shipped, with every .pyc
  removed (what the images did before), and with everything compiled (``compileall``: what the
  import-driven bytecode leaves out), and the .pyc bytes of each.
* **Stack** (unless ``--no-stack``), on a fresh volume:
  - ``up -d --wait``, and each container's start → healthy during that first boot;
  - **idle CPU** of the whole stack over ``--idle-minutes`` (5) once the first champion is
    trained: every container's cgroup CPU time (its processes and its health checks), and
    the Docker engine's (dockerd, containerd and the shims, with the ``runc`` they start for
    each health check: outside the containers, and shared with anything else using Docker on
    the machine);
  - **CPU per health check**, per service: the check's own command (in the container, bash's
    ``time`` over 20 runs), the previous check's command for comparison, and what Docker adds
    to every check whatever it runs (``docker exec`` of ``true``: runc in the container plus
    the engine; the health checks' exec path is the same without the CLI's API calls);
  - **cold start to healthy** of each service: ``stop`` then ``start`` of its container in the
    otherwise idle stack, from the container's start to the end of its first passing health
    check (as ``docker inspect`` records them); for the workers also to their "ready" line.

The machine's load matters: the figures are what one run measured, on whatever else the
machine was doing (say so when quoting them).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import tarfile
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.harness import PROJECT_ROOT, emit, machine, parser, verdict, write_json
from devkit.services import free_port

COPIED = [
    "pyproject.toml",
    "uv.lock",
    ".dockerignore",
    "docker-compose.yaml",
    "docker-compose.replay.yaml",
    "common",
    "workers",
    "ui",
    "replay",
    "docker",
]
IMAGES = ["fetch", "train", "ui", "mlflow", "flower", "replay"]
BASE = "python:3.11-slim-bookworm"
TAG = "bench"
PROJECT = "nba-bench"
# Added above base with bytecode, decimal MB.
TARGETS = {"fetch": 230, "train": 480, "ui": 420}
WARM_REBUILD_TARGET_S = 15.0
WORKER_HEALTHY_TARGET_S = 10.0
IDLE_TARGET_PERCENT = 5.0  # of one core, the whole stack
WORKERS = ("worker-fetch", "worker-train")
# What each worker image imports as it starts (the UI: Streamlit's server and every page).
WORKER_START = ["celery.bin.celery", "celery.apps.worker", "celery.concurrency.prefork"]
ENTRY_IMPORTS = {
    "fetch": ["workers.fetch.tasks", "common.health", *WORKER_START],
    "train": ["workers.train.tasks", "common.health", *WORKER_START],
    "ui": [
        "streamlit.web.bootstrap",
        "ui.views.archetypes",
        "ui.views.compare",
        "ui.views.data",
        "ui.views.pipeline",
    ],
}
# Services restarted one at a time for the cold-start figure (redis: everyone depends on it).
RESTARTED = ["worker-fetch", "worker-train", "ui", "flower", "mlflow", "replay"]
# The health checks before this benchmark's change, run in today's images for comparison.
PREVIOUS_CHECKS = {
    "worker-fetch": [
        "python", "-c", "import socket, sys; from common.celery_app import app; "
        "sys.exit(0 if app.control.ping(['fetch@' + socket.gethostname()], timeout=5) else 1)",
    ],
    "worker-train": [
        "python", "-c", "import socket, sys; from common.celery_app import app; "
        "sys.exit(0 if app.control.ping(['train@' + socket.gethostname()], timeout=5) else 1)",
    ],
    "beat": [
        "python", "-c", "import os, redis; redis.Redis.from_url(os.environ['REDIS_URL']).ping()",
    ],
    **{
        service: [
            "python", "-c", "import urllib.request; "
            f"urllib.request.urlopen('http://127.0.0.1:{port}{path}', timeout=4)",
        ]
        for service, port, path in [
            ("ui", 8501, "/_stcore/health"), ("flower", 5555, "/healthcheck"),
            ("mlflow", 5000, "/health"), ("replay", 8765, "/_replay/health"),
        ]
    },
}  # fmt: skip
COMPOSE_VARIABLES = re.compile(
    r"COMPOSE_.*|TAG|PYTHON_IMAGE|REDIS_IMAGE|FLOWER_BASIC_AUTH|ENV_FILE|"
    r"(UI|MLFLOW|FLOWER)_PORT|MLFLOW_UI_URL|FLOWER_URL"
)


def mb(n: float) -> str:
    return f"{n / 1e6:7.1f} MB ({n / 2**20:6.1f} MiB)"


def docker(*args: str, timeout: float = 600, **kwargs: Any) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=True, **kwargs
    )


class Workspace:
    """A copy of the files the images are built from, with its own settings file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for name in COPIED:
            src = PROJECT_ROOT / name
            if src.is_dir():
                shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(src, root / name)
        self.env_file = root / "bench.env"
        # A real password: the images refuse placeholders (common/secret_check.py).
        self.env_file.write_text(f"FLOWER_BASIC_AUTH=bench:{secrets.token_hex(12)}\n")
        env = {k: v for k, v in os.environ.items() if not COMPOSE_VARIABLES.fullmatch(k)}
        ports = {name: str(free_port()) for name in ("UI_PORT", "MLFLOW_PORT", "FLOWER_PORT")}
        self.env = {**env, **ports, "TAG": TAG, "ENV_FILE": str(self.env_file)}

    def command(self, *args: str) -> list[str]:
        files = ["-f", "docker-compose.yaml", "-f", "docker-compose.replay.yaml"]
        return ["docker", "compose", "-p", PROJECT, "--env-file", str(self.env_file), *files, *args]

    def run(self, *args: str, timeout: float = 3600) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.command(*args),
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def compose(self, *args: str, timeout: float = 3600) -> float:
        """Run a compose command; its duration in seconds."""
        start = time.perf_counter()
        result = self.run(*args, timeout=timeout)
        elapsed = time.perf_counter() - start
        if result.returncode != 0:
            raise SystemExit(f"docker compose {' '.join(args)} failed:\n{result.stderr[-4000:]}")
        return elapsed


def image_ids() -> dict[str, str]:
    """Image name -> ID of the bench tags: which images a rebuild really produced anew."""
    return {
        name: docker("image", "inspect", "-f", "{{.Id}}", f"nba-archetypes/{name}:{TAG}").stdout
        for name in IMAGES
    }


def image_size(image: str) -> int:
    return int(docker("image", "inspect", "-f", "{{.Size}}", image).stdout)


# --- sizes --------------------------------------------------------------------------------------


def bench_sizes() -> dict[str, Any]:
    base = image_size(BASE)
    emit(f"base {BASE}: {mb(base)}")
    emit(f"{'image':8} {'size':>28} {'added above base':>30}  target")
    figures = {}
    for name in IMAGES:
        size = image_size(f"nba-archetypes/{name}:{TAG}")
        added = size - base
        target = TARGETS.get(name)
        judged = verdict(added / 1e6, ("≤", target) if target else None, " MB")
        emit(f"{name:8} {mb(size):>28} {mb(added):>30}  {judged}")
        figures[name] = {"size": size, "added_above_base": added}
    return {"base": base, "images": figures}


def bench_unique_bytes() -> dict[str, int]:
    """Distinct layers (by diff ID) of all project images, sizes from one `docker save`."""
    images = [f"nba-archetypes/{name}:{TAG}" for name in IMAGES]
    process = subprocess.Popen(["docker", "save", *images], stdout=subprocess.PIPE)
    assert process.stdout is not None
    member_sizes: dict[str, int] = {}
    small_files: dict[str, bytes] = {}  # manifest.json and the image configs
    links: dict[str, str] = {}  # a layer already written for another image is a symlink
    with tarfile.open(fileobj=process.stdout, mode="r|") as tar:
        for member in tar:
            if member.issym() or member.islnk():
                target = member.linkname
                if member.issym():
                    target = os.path.normpath(os.path.join(os.path.dirname(member.name), target))
                links[member.name] = target
                continue
            if not member.isfile():
                continue
            member_sizes[member.name] = member.size
            if member.name.endswith(".json") and member.size < 1 << 20:
                handle = tar.extractfile(member)
                small_files[member.name] = handle.read() if handle else b""
    if process.wait() != 0:
        raise SystemExit("docker save failed")
    manifest = json.loads(small_files["manifest.json"])
    layer_bytes: dict[str, int] = {}
    per_image_total = 0
    base_ids: set[str] = set()
    base_diff_ids = json.loads(docker("image", "inspect", BASE).stdout)[0]["RootFS"]["Layers"]
    base_ids.update(base_diff_ids)
    for entry in manifest:
        config = json.loads(small_files[entry["Config"]])
        diff_ids = config["rootfs"]["diff_ids"]
        assert len(diff_ids) == len(entry["Layers"]), entry["RepoTags"]
        for diff_id, path in zip(diff_ids, entry["Layers"], strict=True):
            while path in links:
                path = links[path]  # noqa: PLW2901
            layer_bytes[diff_id] = member_sizes[path]
            per_image_total += member_sizes[path]
    unique = sum(layer_bytes.values())
    base_part = sum(size for d, size in layer_bytes.items() if d in base_ids)
    emit(f"sum of the images' layers (no sharing): {mb(per_image_total)}")
    emit(f"unique bytes of the stack (layers once): {mb(unique)}")
    emit(f"  of which the shared base ({BASE}):   {mb(base_part)}")
    emit(f"  layers shared by two or more images:    {mb(per_image_total - unique)} saved")
    emit(f"  distinct layers: {len(layer_bytes)} (tar bytes: a few % above the engine's sizes)")
    return {"sum_of_images": per_image_total, "unique": unique, "base": base_part}


# --- builds -------------------------------------------------------------------------------------


def our_cache_mounts() -> list[str]:
    """BuildKit cache mounts made by this project's Dockerfiles (uv's and pip's downloads)."""
    out = docker("system", "df", "-v", "--format", "{{json .BuildCache}}").stdout
    records = json.loads(out or "[]") or []
    return [
        r["ID"]
        for r in records
        if r.get("CacheType") == "exec.cachemount"
        and re.search(r"/root/\.cache/(uv|pip) from exec .*/opt/uv/bin/", r.get("Description", ""))
    ]


def bench_builds(ws: Workspace, cold: bool) -> dict[str, float]:
    figures: dict[str, float] = {}
    if cold:
        mounts = our_cache_mounts()
        for cache_id in mounts:
            docker("builder", "prune", "-f", "--filter", f"id={cache_id}")
        emit(f"cold: deleted {len(mounts)} BuildKit cache mounts (uv/pip downloads)")
        figures["cold_build_s"] = ws.compose("build", "--no-cache")
        emit(f"cold build of every image (--no-cache, empty download caches): "
             f"{figures['cold_build_s']:.1f} s")  # fmt: skip
    else:
        figures["first_build_s"] = ws.compose("build")
        emit(f"build from the copy (cache as found): {figures['first_build_s']:.1f} s")
    figures["no_change_rebuild_s"] = ws.compose("build")
    emit(f"rebuild with nothing changed:          {figures['no_change_rebuild_s']:.1f} s")
    settings = ws.root / "common" / "settings.py"  # every image but mlflow's and replay's
    with settings.open("a") as handle:
        handle.write(f"\n# benchmarks.images: code-only change {time.time_ns()}\n")
    before = image_ids()
    figures["warm_rebuild_s"] = ws.compose("build")
    rebuilt = sorted(name for name, image_id in image_ids().items() if before[name] != image_id)
    judged = verdict(figures["warm_rebuild_s"], ("≤", WARM_REBUILD_TARGET_S), " s")
    emit(f"warm rebuild after a code-only change: {figures['warm_rebuild_s']:.1f} s "
         f"(target {judged}); "
         f"new images: {', '.join(rebuilt) or 'none'}")  # fmt: skip
    return figures


# --- bytecode -----------------------------------------------------------------------------------

# Runs inside a throwaway container of an image, as root, with the network off.
IN_CONTAINER = r"""
import json, os, resource, shutil, statistics, subprocess, sys, sysconfig, time

entry, runs = json.loads(sys.argv[1]), int(sys.argv[2])
roots = ("/opt/venv", "/app", sysconfig.get_path("stdlib"))

def pyc_bytes():
    total = 0
    for root in roots:
        for d, _, files in os.walk(root):
            for f in files:
                if f.endswith(".pyc"):
                    total += os.lstat(os.path.join(d, f)).st_blocks * 512
    return total

def measure():
    code = "import " + ", ".join(entry)
    subprocess.run([sys.executable, "-c", code], check=True, cwd="/app",  # the page cache
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    walls, cpus = [], []
    for _ in range(runs):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN); t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd="/app",
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t1 = time.perf_counter(); r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        walls.append(t1 - t0)
        cpus.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return {"wall": statistics.median(walls), "cpu": statistics.median(cpus),
            "pyc_bytes": pyc_bytes()}

out = {"shipped": measure()}
for root in roots:
    for d, dirs, _ in os.walk(root):
        if "__pycache__" in dirs:
            shutil.rmtree(os.path.join(d, "__pycache__"))
            dirs.remove("__pycache__")
out["none"] = measure()
subprocess.run([sys.executable, "-m", "compileall", "-q", "-j0", *roots],
               check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
out["all"] = measure()
print("BYTECODE " + json.dumps(out))
"""


def bench_bytecode(runs: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name, entry in ENTRY_IMPORTS.items():
        image = f"nba-archetypes/{name}:{TAG}"
        result = docker(
            "run", "--rm", "-i", "--user", "0", "--network", "none", "--entrypoint", "python",
            image, "-", json.dumps(entry), str(runs), input=IN_CONTAINER, timeout=1800,
        )  # fmt: skip
        line = next(x for x in result.stdout.splitlines() if x.startswith("BYTECODE "))
        data = json.loads(line.removeprefix("BYTECODE "))
        figures[name] = data
        emit(f"{name}: import {', '.join(entry)}")
        for variant, label in [
            ("shipped", "as shipped"),
            ("none", "no .pyc at all (the images before)"),
            ("all", "everything compiled (compileall)"),
        ]:
            d = data[variant]
            emit(f"  {label:36} cpu {d['cpu']:5.2f} s  wall {d['wall']:5.2f} s  "
                 f".pyc {d['pyc_bytes'] / 1e6:6.1f} MB")  # fmt: skip
    return figures


# --- the running stack --------------------------------------------------------------------------

CHAMPION = (
    "from common.champion import find_champion\nfrom common.settings import get_settings\n"
    "c = find_champion(get_settings())\nprint('CHAMPION', c.version if c else '-')"
)
TIMED = 'TIMEFORMAT="%3U %3S"; time (for ((i = 0; i < $0; i++)); do "$@" >/dev/null 2>&1; done)'
ENGINE_PROCESSES = ("dockerd", "containerd", "containerd-shim", "containerd-shim-runc-v2", "runc")


def parse_time(stamp: str) -> float:
    """Docker's RFC 3339 times (nanoseconds, Z or +00:00 or ' +0000 UTC') as epoch seconds."""
    stamp = stamp.strip().replace(" +0000 UTC", "Z")
    match = re.match(r"(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$", stamp)
    if not match:
        raise ValueError(f"unexpected time {stamp!r}")
    day, clock, fraction, zone = match.groups()
    base = datetime.fromisoformat(f"{day}T{clock}{'+00:00' if zone in (None, 'Z') else zone}")
    return base.timestamp() + float(fraction or 0)


def engine_cpu_s() -> float:
    """CPU seconds of the Docker engine's processes so far (themselves and reaped children)."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        if comm in ENGINE_PROCESSES or comm.startswith("containerd-shim"):
            fields = stat[stat.rindex(")") + 2 :].split()
            total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


def cgroup_cpu_file(pid: int, container_id: str) -> Path:
    """The file holding a container's CPU time: cgroup v1 cpuacct.usage (ns) or v2 cpu.stat."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            candidate = Path("/sys/fs/cgroup") / path.lstrip("/") / "cpu.stat"
        elif "cpuacct" in controllers.split(","):
            candidate = Path("/sys/fs/cgroup/cpuacct") / path.lstrip("/") / "cpuacct.usage"
            if not candidate.exists():
                candidate = Path("/sys/fs/cgroup") / controllers / path.lstrip("/")
                candidate /= "cpuacct.usage"
        else:
            continue
        if candidate.exists():
            return candidate
    found = [*Path("/sys/fs/cgroup").glob(f"**/*{container_id}*/cpuacct.usage")]
    found += [*Path("/sys/fs/cgroup").glob(f"**/*{container_id}*/cpu.stat")]
    if not found:
        raise SystemExit(f"no cgroup CPU accounting found for container {container_id[:12]}")
    return found[0]


def read_cpu_s(path: Path) -> float:
    text = path.read_text()
    if path.name == "cpuacct.usage":
        return int(text) / 1e9
    usage = next(line for line in text.splitlines() if line.startswith("usage_usec"))
    return int(usage.split()[1]) / 1e6


class Stack:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def containers(self) -> dict[str, str]:
        """Service -> container ID."""
        out = self.ws.run("ps", "--all", "--format", "{{.Service}} {{.ID}}").stdout
        return dict(line.split() for line in out.splitlines() if line.strip())

    def inspect(self, container: str) -> dict[str, Any]:
        return json.loads(docker("inspect", container).stdout)[0]

    def cpu_files(self) -> dict[str, Path]:
        files = {}
        for service, container in self.containers().items():
            info = self.inspect(container)
            files[service] = cgroup_cpu_file(info["State"]["Pid"], info["Id"])
        return files

    def healthy_after(self, container: str) -> float | None:
        """Seconds from the container's start to the end of its first passing check."""
        info = self.inspect(container)
        started = parse_time(info["State"]["StartedAt"])
        health = info["State"].get("Health") or {}
        passed = [
            parse_time(entry["End"])
            for entry in health.get("Log") or []
            if entry["ExitCode"] == 0 and parse_time(entry["Start"]) >= started
        ]
        return min(passed) - started if passed else None

    def ready_after(self, container: str) -> float | None:
        """Seconds from the container's start to a Celery worker's "ready." log line."""
        info = self.inspect(container)
        started = info["State"]["StartedAt"]
        result = docker("logs", "--timestamps", "--since", started, container)
        logs = result.stdout + result.stderr
        for line in logs.splitlines():
            if " ready." in line:
                return parse_time(line.split()[0]) - parse_time(started)
        return None

    def wait_healthy(self, container: str, timeout_s: float = 300) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            state = self.inspect(container)["State"]
            if (state.get("Health") or {}).get("Status") == "healthy":
                return
            time.sleep(0.5)
        raise SystemExit(f"{container[:12]} not healthy after {timeout_s:.0f} s")

    def wait_for_champion(self, timeout_s: float = 900) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            out = self.ws.run("exec", "-T", "worker-train", "python", "-c", CHAMPION).stdout
            if "CHAMPION 1" in out:
                return
            time.sleep(3)
        raise SystemExit("no champion after 15 minutes")


def bench_first_boot(stack: Stack) -> dict[str, Any]:
    start = time.perf_counter()
    stack.ws.compose("up", "-d", "--wait", "--wait-timeout", "900")
    up_s = time.perf_counter() - start
    emit(f"up -d --wait on a fresh volume: {up_s:.0f} s (dependencies first: redis, then mlflow, "
         f"then the rest)")  # fmt: skip
    per_service = {}
    for service, container in sorted(stack.containers().items()):
        healthy = stack.healthy_after(container)
        per_service[service] = healthy
        shown = "no health check" if healthy is None else f"healthy {healthy:5.1f} s after start"
        emit(f"  {service:13} {shown}")
    stack.wait_for_champion()
    champion_s = time.perf_counter() - start
    emit(f"first champion {champion_s:.0f} s after up")
    return {"up_wait_s": up_s, "first_boot_healthy_s": per_service, "first_champion_s": champion_s}


def bench_idle(stack: Stack, seconds: float) -> dict[str, Any]:
    files = stack.cpu_files()
    intervals = {}
    for service, container in stack.containers().items():
        check = stack.inspect(container)["Config"].get("Healthcheck") or {}
        disabled = check.get("Test", [""])[0] == "NONE" or not check.get("Test")
        intervals[service] = None if disabled else (check.get("Interval") or 30e9) / 1e9
    before = {service: read_cpu_s(path) for service, path in files.items()}
    engine_before = engine_cpu_s()
    start = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - start
    engine = engine_cpu_s() - engine_before
    per_service = {s: read_cpu_s(path) - before[s] for s, path in files.items()}
    total = sum(per_service.values())
    emit(f"idle, {elapsed / 60:.1f} min after the first champion (CPU seconds; % of one core):")
    checks_per_minute = 0.0
    for service, cpu in sorted(per_service.items()):
        interval = intervals[service]
        if interval:
            checks_per_minute += 60 / interval
        every = f"health check every {interval:.0f} s" if interval else "no health check"
        emit(f"  {service:13} {cpu:6.2f} s  {100 * cpu / elapsed:5.2f} %   ({every})")
    idle = ("≤", IDLE_TARGET_PERCENT)
    emit(f"  {'containers':13} {total:6.2f} s  {100 * total / elapsed:5.2f} %   "
         f"(target {verdict(100 * total / elapsed, idle, ' %')})")  # fmt: skip
    emit(f"  {'Docker engine':13} {engine:6.2f} s  {100 * engine / elapsed:5.2f} %   "
         f"(dockerd, containerd, shims, runc: {checks_per_minute:.0f} health checks a minute; "
         f"and whatever else uses Docker here)")  # fmt: skip
    both = total + engine
    emit(f"  {'both':13} {both:6.2f} s  {100 * both / elapsed:5.2f} %   "
         f"(target {verdict(100 * both / elapsed, idle, ' %')})")  # fmt: skip
    return {
        "seconds": elapsed,
        "containers_cpu_s": per_service,
        "engine_cpu_s": engine,
        "checks_per_minute": checks_per_minute,
    }


def timed_in_container(container: str, command: list[str], runs: int = 20) -> float | None:
    """CPU seconds per run of ``command`` inside the container (bash's ``time``: the command's
    processes only, not Docker's exec)."""
    result = docker("exec", container, "bash", "-c", TIMED, str(runs), *command, timeout=300)
    numbers = result.stderr.split()[-2:]
    try:
        return (float(numbers[0]) + float(numbers[1])) / runs
    except (IndexError, ValueError):
        return None


def exec_overhead(stack: Stack, runs: int = 20) -> tuple[float, float]:
    """Container and engine CPU seconds of one `docker exec` that runs `true`."""
    container = stack.containers()["replay"]
    info = stack.inspect(container)
    path = cgroup_cpu_file(info["State"]["Pid"], info["Id"])
    inside, engine = read_cpu_s(path), engine_cpu_s()
    for _ in range(runs):
        docker("exec", container, "true")
    return (read_cpu_s(path) - inside) / runs, (engine_cpu_s() - engine) / runs


def bench_health_checks(stack: Stack) -> dict[str, Any]:
    inside, engine = exec_overhead(stack)
    emit(
        f"every check, whatever it runs (docker exec of `true`, mean of 20): {1000 * inside:.0f}"
        f" ms in the container (runc) + {1000 * engine:.0f} ms in the engine"
    )
    figures: dict[str, Any] = {"exec_container_s": inside, "exec_engine_s": engine}
    emit(f"  {'service':13} {'check':44} {'its CPU':>8} {'previous check':>15}")
    for service, container in sorted(stack.containers().items()):
        test = (stack.inspect(container)["Config"].get("Healthcheck") or {}).get("Test") or []
        if not test or test[0] == "NONE":
            command: list[str] = []
        elif test[0] == "CMD-SHELL":
            command = ["sh", "-c", test[1]]
        else:
            command = test[1:]
        own = timed_in_container(container, command) if command else None
        previous = PREVIOUS_CHECKS.get(service)
        before = timed_in_container(container, previous, runs=3) if previous else None
        figures[service] = {"command": command, "cpu_s": own, "previous_cpu_s": before}
        shown = " ".join(command) if command else "(none)"
        own_ms = f"{1000 * own:5.1f} ms" if own is not None else "      -"
        before_ms = f"{1000 * before:6.0f} ms" if before is not None else "      -"
        emit(f"  {service:13} {shown[:44]:44} {own_ms:>8} {before_ms:>15}")
    return figures


def bench_cold_starts(stack: Stack) -> dict[str, Any]:
    figures = {}
    for service in RESTARTED:
        stack.ws.compose("stop", "--timeout", "60", service)
        stack.ws.compose("start", service)
        container = stack.containers()[service]
        stack.wait_healthy(container)
        healthy = stack.healthy_after(container)
        ready = stack.ready_after(container) if service in WORKERS else None
        figures[service] = {"healthy_s": healthy, "ready_s": ready}
        line = f"  {service:13} healthy {healthy:5.1f} s after start" if healthy else service
        if ready is not None:
            line += f" (worker ready after {ready:4.1f} s)"
        if service in WORKERS and healthy is not None:
            line += f"  target {verdict(healthy, ('≤', WORKER_HEALTHY_TARGET_S), ' s')}"
        emit(line)
    return figures


def bench_stack(ws: Workspace, idle_s: float) -> dict[str, Any]:
    stack = Stack(ws)
    results: dict[str, Any] = {}
    try:
        emit("\n## First boot (both compose files, fresh volume)")
        results["first_boot"] = bench_first_boot(stack)
        time.sleep(30)  # the train worker's last writes, the fetch worker's seed bookkeeping
        emit(f"\n## Idle stack ({idle_s / 60:.1f} min)")
        results["idle"] = bench_idle(stack, idle_s)
        emit("\n## CPU per health check (20 runs in the container, bash `time`)")
        results["health_checks"] = bench_health_checks(stack)
        emit("\n## Cold start to healthy (stop, then start, one service at a time)")
        results["cold_starts"] = bench_cold_starts(stack)
    finally:
        ws.compose("down", "-v", "--remove-orphans", "--timeout", "30")
    return results


def main() -> None:
    cli = parser(__doc__)
    cli.add_argument("--cold", action="store_true", help="also time a cold build")
    cli.add_argument("--no-stack", action="store_true", help="images only: no stack figures")
    cli.add_argument("--idle-minutes", type=float, default=5.0, help="idle CPU window (default 5)")
    cli.add_argument("--runs", type=int, default=5, help="imports timed per variant")
    cli.add_argument("--keep", action="store_true", help="keep the nba-archetypes/*:bench tags")
    args = cli.parse_args()

    server = docker("version", "-f", "{{.Server.Version}}").stdout.strip()
    results: dict[str, Any] = {"machine": machine()}
    load = results["machine"]["load_average_before"]
    emit(f"# Docker images ({os.cpu_count()} CPUs, Docker {server}, "
         f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at the start)")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-images-") as tmp:
        ws = Workspace(Path(tmp))
        try:
            emit("\n## Builds (from a copy of the repository, TAG=bench)")
            results["builds"] = bench_builds(ws, args.cold)
            emit("\n## Sizes")
            results["sizes"] = bench_sizes()
            emit("\n## Unique bytes (docker save, layers by diff ID)")
            results["unique"] = bench_unique_bytes()
            emit(f"\n## Bytecode (median of {args.runs} fresh interpreters per figure)")
            results["bytecode"] = bench_bytecode(args.runs)
            if not args.no_stack:
                results["stack"] = bench_stack(ws, args.idle_minutes * 60)
        finally:
            if not args.keep:
                for name in IMAGES:
                    subprocess.run(["docker", "image", "rm", f"nba-archetypes/{name}:{TAG}"],
                                   capture_output=True, check=False)  # fmt: skip
    load = os.getloadavg()
    emit(f"\nload average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    write_json(args.json, results)


if __name__ == "__main__":
    main()
