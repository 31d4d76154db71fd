"""Benchmark of the Docker images: prints figures against the targets (not a test).

    uv run python -m scripts.benchmark_images            # sizes, rebuilds, bytecode (~4 min)
    uv run python -m scripts.benchmark_images --cold     # + a cold build (downloads every wheel)
    uv run python -m scripts.benchmark_images --startup  # + start-up of the stack, first champion

Everything is built from a temporary copy of the repository under its own image tag
(``TAG=bench``), so the working tree, the developer's ``:latest`` images and any running stack
are left alone; the bench tags are removed at the end (``--keep`` keeps them).

Figures:

* **Size** of each image and the size it **adds above its base** (image size minus base size,
  both as the engine reports them), in decimal MB (as ``docker images`` prints) and MiB.
* **Unique bytes of the stack**: every layer of every project image counted once, by its
  content digest (diff ID). Method: ``docker save`` of all images in one stream, read as a
  tar without writing it anywhere; each image's config gives its diff IDs in the order of the
  manifest's layer files, and the layer files' sizes are summed over distinct diff IDs. These
  are uncompressed tar bytes (what a registry stores before compression, and what a pull adds
  to a machine that has none of the layers), a little above the engine's sizes (tar headers).
* **Build times**: a rebuild with nothing changed; a **warm rebuild** of every image after a
  code-only change (a comment appended to ``common/settings.py`` in the copy, which every
  Python image but MLflow's copies); with ``--cold``, a build with ``--no-cache`` after
  deleting this project's BuildKit cache mounts (the uv and pip download caches: only the
  ones our Dockerfiles' ``uv sync`` / ``pip install`` steps made), so every wheel is downloaded
  again. Base images are never touched.
* **Bytecode**: the images ship no ``.pyc`` (slim-venv deletes them, nothing compiles them,
  ``PYTHONDONTWRITEBYTECODE=1`` and a read-only root filesystem keep it that way). In a
  throwaway container of each worker image: the CPU and wall time of importing the service's
  code (median of 5 fresh interpreters), shipped as is, then with the modules that import
  loads compiled, then with everything compiled (``compileall``), and the bytes each adds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
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
# Added above base, decimal MB; warm rebuild of every image, seconds.
TARGETS = {"fetch": 200, "train": 450, "ui": 450}
WARM_REBUILD_TARGET_S = 15.0
# What each worker image imports to start (the UI: Streamlit and every page's module).
ENTRY_IMPORTS = {
    "fetch": ["workers.fetch.tasks"],
    "train": ["workers.train.tasks"],
    "ui": [
        "streamlit.web.cli",
        "ui.views.archetypes",
        "ui.views.compare",
        "ui.views.data",
        "ui.views.pipeline",
    ],
}
HEALTHCHECK_IMPORT = ["common.celery_app"]  # every worker's health check, every 30 s
COMPOSE_VARIABLES = re.compile(
    r"COMPOSE_.*|TAG|PYTHON_IMAGE|REDIS_IMAGE|FLOWER_BASIC_AUTH|ENV_FILE|"
    r"(UI|MLFLOW|FLOWER)_PORT|MLFLOW_UI_URL|FLOWER_URL"
)


def emit(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


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
        self.env_file.write_text("FLOWER_BASIC_AUTH=bench:bench\n")
        env = {k: v for k, v in os.environ.items() if not COMPOSE_VARIABLES.fullmatch(k)}
        self.env = {**env, "TAG": TAG, "ENV_FILE": str(self.env_file)}

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
        verdict = ""
        if target is not None:
            verdict = f"≤ {target} MB: {'ok' if added / 1e6 <= target else 'MISSED'}"
        emit(f"{name:8} {mb(size):>28} {mb(added):>30}  {verdict}")
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
    settings = ws.root / "common" / "settings.py"
    with settings.open("a") as handle:
        handle.write(f"\n# benchmark_images: code-only change {time.time_ns()}\n")
    before = image_ids()
    figures["warm_rebuild_s"] = ws.compose("build")
    rebuilt = sorted(name for name, image_id in image_ids().items() if before[name] != image_id)
    ok = "ok" if figures["warm_rebuild_s"] <= WARM_REBUILD_TARGET_S else "MISSED"
    emit(f"warm rebuild after a code-only change: {figures['warm_rebuild_s']:.1f} s "
         f"(target ≤ {WARM_REBUILD_TARGET_S:.0f} s: {ok}); "
         f"new images: {', '.join(rebuilt) or 'none'}")  # fmt: skip
    return figures


# --- bytecode -----------------------------------------------------------------------------------

# Runs inside a throwaway container of an image, as root, with the network off.
IN_CONTAINER = r"""
import importlib, importlib.util, json, os, py_compile, resource, shutil, statistics, subprocess
import sys, time

entry, health, runs = json.loads(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3])
roots = ("/opt/venv", "/app")

def du():
    total = 0
    for root in roots:
        for d, _, files in os.walk(root):
            for f in files:
                p = os.path.join(d, f)
                if not os.path.islink(p):
                    total += os.lstat(p).st_blocks * 512
    return total

def timed(modules):
    code = "import " + ", ".join(modules)
    walls, cpus = [], []
    for _ in range(runs):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN); t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd="/app",
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t1 = time.perf_counter(); r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        walls.append(t1 - t0)
        cpus.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return {"wall": statistics.median(walls), "cpu": statistics.median(cpus)}

def measure():
    return {"entry": timed(entry), "health": timed(health), "bytes": du()}

def drop_pyc():
    for root in roots:
        for d, dirs, _ in os.walk(root):
            if "__pycache__" in dirs:
                shutil.rmtree(os.path.join(d, "__pycache__"))
                dirs.remove("__pycache__")

out = {"shipped": measure()}
listing = subprocess.run(
    [sys.executable, "-c", "import sys, json\n" + "".join(f"import {m}\n" for m in entry) +
     "print(json.dumps([getattr(m, '__file__', None) for m in list(sys.modules.values())]))"],
    check=True, cwd="/app", capture_output=True, text=True).stdout.strip().splitlines()[-1]
files = [f for f in json.loads(listing) if f and f.endswith(".py") and f.startswith(roots)]
for f in files:
    py_compile.compile(f, cfile=importlib.util.cache_from_source(f), doraise=True)
out["imported_compiled"] = measure()
out["imported_compiled"]["modules"] = len(files)
drop_pyc()
subprocess.run([sys.executable, "-m", "compileall", "-q", "-j0", *roots],
               check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
out["all_compiled"] = measure()
print("BYTECODE " + json.dumps(out))
"""


def bench_bytecode(runs: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name, entry in ENTRY_IMPORTS.items():
        image = f"nba-archetypes/{name}:{TAG}"
        result = docker(
            "run", "--rm", "-i", "--user", "0", "--network", "none", "--entrypoint", "python",
            image, "-", json.dumps(entry), json.dumps(HEALTHCHECK_IMPORT), str(runs),
            input=IN_CONTAINER, timeout=1800,
        )  # fmt: skip
        line = next(x for x in result.stdout.splitlines() if x.startswith("BYTECODE "))
        data = json.loads(line.removeprefix("BYTECODE "))
        figures[name] = data
        shipped = data["shipped"]
        emit(f"{name}: import {', '.join(entry)}")
        for variant, label in [
            ("shipped", "shipped (no .pyc)"),
            ("imported_compiled", "+ .pyc of the modules it imports"),
            ("all_compiled", "+ .pyc of everything (compileall)"),
        ]:
            d = data[variant]
            extra = d["bytes"] - shipped["bytes"]
            modules = f", {d['modules']} modules" if "modules" in d else ""
            emit(
                f"  {label:36} entry cpu {d['entry']['cpu']:5.2f} s wall {d['entry']['wall']:5.2f}"
                f" s | health check cpu {d['health']['cpu']:4.2f} s | size +{extra / 1e6:5.1f}"
                f" MB{modules}"
            )
    return figures


# --- start-up -----------------------------------------------------------------------------------

CHAMPION = (
    "from common.champion import find_champion\nfrom common.settings import get_settings\n"
    "c = find_champion(get_settings())\nprint('CHAMPION', c.version if c else '-')"
)


def bench_startup(ws: Workspace) -> dict[str, float]:
    figures: dict[str, float] = {}
    try:
        start = time.perf_counter()
        ws.compose("up", "-d", "--wait", "--wait-timeout", "900")
        figures["up_wait_fresh_volume_s"] = time.perf_counter() - start
        emit(f"up -d --wait on a fresh volume (seed + first training run meanwhile): "
             f"{figures['up_wait_fresh_volume_s']:.0f} s")  # fmt: skip
        while True:
            out = ws.run("exec", "-T", "worker-train", "python", "-c", CHAMPION, timeout=120).stdout
            if "CHAMPION 1" in out:
                break
            if time.perf_counter() - start > 900:
                raise SystemExit("no champion after 15 minutes")
            time.sleep(2)
        figures["first_champion_s"] = time.perf_counter() - start
        emit(f"first champion after:                       {figures['first_champion_s']:.0f} s")
        ws.compose("stop")
        start = time.perf_counter()
        ws.compose("up", "-d", "--wait", "--wait-timeout", "900")
        figures["up_wait_restart_s"] = time.perf_counter() - start
        emit(f"up -d --wait after a stop (data kept):      {figures['up_wait_restart_s']:.0f} s")
    finally:
        ws.compose("down", "-v", "--remove-orphans", "--timeout", "30")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cold", action="store_true", help="also time a cold build")
    parser.add_argument("--startup", action="store_true", help="also time the stack's start")
    parser.add_argument("--runs", type=int, default=5, help="imports timed per variant")
    parser.add_argument("--keep", action="store_true", help="keep the nba-archetypes/*:bench tags")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    server = docker("version", "-f", "{{.Server.Version}}").stdout.strip()
    emit(f"# Docker images ({os.cpu_count()} CPUs, Docker {server})")
    results: dict[str, Any] = {}
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
            if args.startup:
                emit("\n## Start-up (both compose files, fresh volume)")
                results["startup"] = bench_startup(ws)
        finally:
            if not args.keep:
                for name in IMAGES:
                    subprocess.run(["docker", "image", "rm", f"nba-archetypes/{name}:{TAG}"],
                                   capture_output=True, check=False)  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
