"""Backups: a consistent snapshot while another process writes, and a restore that shows the
same champion and data. Real MLflow store (sqlite), a real training, the CLI as a subprocess."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pandas as pd
import pytest

from common.backup import DATABASE, backup, read_manifest, restore
from common.champion import ASSIGNMENTS_ARTIFACT, Champion, find_champion
from common.champion_results import ChampionResults, load_champion_results
from common.failures import DamagedFileError
from common.settings import Settings
from common.storage import DataDir
from tests.integration.test_champion_policy import FIRST, LATER
from tests.integration.test_cli import Cli
from tests.services import PROJECT_ROOT, free_port, seed_seasons, wait_until
from workers.train.training import train_archetypes

# Logs runs into the store until it is stopped: the workers' writes while a backup runs.
WRITER = """
import sys
from contextlib import closing
from mlflow import MlflowClient

client = MlflowClient(tracking_uri=sys.argv[1])
experiment = client.get_experiment_by_name(sys.argv[2]).experiment_id
while True:
    run = client.create_run(experiment, run_name="writer")
    for step in range(10):
        client.log_metric(run.info.run_id, "loss", 1.0 / (step + 1), step=step)
    client.set_terminated(run.info.run_id)
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Three seasons and a champion trained on them."""
    data = tmp_path_factory.mktemp("store")
    seed_seasons(data, FIRST)
    settings = Settings(data_dir=data)
    assert train_archetypes(settings).status == "promoted"
    return settings


@pytest.fixture(scope="module")
def champion(store: Settings) -> Champion:
    found = find_champion(store)
    assert found is not None
    return found


@pytest.fixture(scope="module")
def results(store: Settings, champion: Champion) -> ChampionResults:
    return load_champion_results(store, champion)


@pytest.fixture(scope="module")
def snapshot(store: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("backups") / "snapshot"
    backup(DataDir(store.data_dir), target, store.registered_model_name)
    return target


def _writes(database: Path) -> int:
    """Metric values the writer logged (one commit each)."""
    with closing(sqlite3.connect(database, timeout=30)) as db:
        return db.execute("SELECT count(*) FROM metrics WHERE key = 'loss'").fetchone()[0]


def _cells_mentioning(database: Path, text: str) -> int:
    """Text cells anywhere in the database that contain ``text``."""
    db = sqlite3.connect(database)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return sum(
            db.execute(
                f'SELECT count(*) FROM "{t}" WHERE typeof("{c}") = \'text\' AND instr("{c}", ?)',
                (text,),
            ).fetchone()[0]
            for t in tables
            for c in [row[1] for row in db.execute(f'PRAGMA table_info("{t}")')]
        )
    finally:
        db.close()


def _files(root: Path, tree: str) -> dict[Path, bytes]:
    return {p.relative_to(root): p.read_bytes() for p in (root / tree).rglob("*") if p.is_file()}


def _assert_same_results(restored: ChampionResults, results: ChampionResults) -> None:
    assert restored.champion.version == results.champion.version
    assert restored.champion.run_id == results.champion.run_id
    pd.testing.assert_frame_equal(restored.assignments, results.assignments)
    assert restored.profiles == results.profiles


# --- backup -------------------------------------------------------------------------------------


def test_a_backup_while_another_process_writes_is_consistent(
    store: Settings, champion: Champion, tmp_path: Path
) -> None:
    database = store.data_dir / DATABASE
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, store.tracking_uri, store.mlflow_experiment],
        cwd=PROJECT_ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    copies = []  # (writes before, backup folder, writes after)
    try:
        wait_until(
            lambda: _writes(database) >= 10 or writer.poll() is not None,
            "the writer logging runs",
            timeout_s=180,
        )
        # Backups until one demonstrably overlapped the writes (a backup takes a fraction of
        # a second; a commit lands every few milliseconds).
        while len(copies) < 10 and not any(after > before for before, _, after in copies):
            assert writer.poll() is None, writer.stderr.read() if writer.stderr else ""
            before, folder = _writes(database), tmp_path / f"live-{len(copies)}"
            backup(DataDir(store.data_dir), folder, store.registered_model_name)
            copies.append((before, folder, _writes(database)))
    finally:
        writer.terminate()
        writer.wait(timeout=30)
    assert any(after > before for before, _, after in copies)

    for before, folder, after in copies:
        copy = folder / DATABASE
        assert not list(folder.glob(f"{DATABASE}-*"))  # one self-contained file
        with closing(sqlite3.connect(copy)) as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert before <= _writes(copy) <= after
        manifest = read_manifest(folder)
        assert manifest.champion_version == champion.version
        assert manifest.seasons == FIRST


def test_backup_refuses_a_target_that_holds_files(store: Settings, tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("keep me")
    run = Cli(store.data_dir)("backup", str(taken))
    assert run.code == 2
    assert run.err == f"error: {taken} already exists: give a new path for the backup\n"
    assert (taken / "notes.txt").read_text() == "keep me"
    inside = Cli(store.data_dir)("backup", str(store.data_dir / "raw" / "backup"))
    assert inside.code == 2
    assert "write the backup elsewhere" in inside.err


# --- restore ------------------------------------------------------------------------------------


def test_backup_then_restore_elsewhere_shows_the_same_champion_and_data(
    store: Settings, results: ChampionResults, tmp_path: Path
) -> None:
    saved = tmp_path / "saved"
    run = Cli(store.data_dir)("backup", str(saved))
    assert run.code == 0, run.err
    assert run.out.startswith(
        f"backup written to {saved}: champion v{results.champion.version}, 3 seasons, "
    )

    target = tmp_path / "restored"
    (target / "raw").mkdir(parents=True)  # a fresh volume's empty folders are no data
    run = Cli(target)("restore", str(saved))
    assert run.code == 0, run.err
    assert run.out.startswith("restored the backup of ")

    settings = Settings(data_dir=target)
    champion = find_champion(settings)
    assert champion is not None
    _assert_same_results(load_champion_results(settings, champion), results)
    for tree in ("raw", "cleaned"):
        assert _files(target, tree) == _files(store.data_dir, tree)
    # Every artifact location now points into the new directory, none to the old one.
    assert _cells_mentioning(target / DATABASE, str(store.data_dir / "mlartifacts")) == 0
    assert _cells_mentioning(target / DATABASE, str(target / "mlartifacts")) > 0

    answer = Cli(target)("player", "LeBron James", "2018-19", "--json")
    assert answer.code == 0, answer.err
    assert answer.json()["champion_version"] == results.champion.version


def test_backup_and_restore_run_in_an_image_without_the_workers_code(
    store: Settings, tmp_path: Path
) -> None:
    """The train and ui images have no ``workers/fetch``: both commands still run there."""
    without_workers = (
        "import sys; sys.modules['workers'] = None  # as in those images: not importable\n"
        "from cli.main import main; sys.exit(main(sys.argv[1:]))"
    )
    saved, target = tmp_path / "saved", tmp_path / "restored"
    for command, data_dir in (("backup", store.data_dir), ("restore", target)):
        run = subprocess.run(
            [sys.executable, "-c", without_workers, command, str(saved)],
            env={**os.environ, "DATA_DIR": str(data_dir)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 0, run.stderr
    assert find_champion(Settings(data_dir=target)) is not None


def test_a_restore_into_the_same_path_keeps_the_locations(
    store: Settings, snapshot: Path, results: ChampionResults, tmp_path: Path
) -> None:
    # The compose case: the backup of /data restored into a new volume mounted at /data.
    volume = DataDir(tmp_path / "volume")
    restore(snapshot, volume)
    again = tmp_path / "again"
    backup(volume, again, store.registered_model_name)
    shutil.rmtree(volume.root)
    assert read_manifest(again).data_dir == str(volume.root)
    restore(again, volume)
    settings = Settings(data_dir=volume.root)
    champion = find_champion(settings)
    assert champion is not None
    _assert_same_results(load_champion_results(settings, champion), results)


def test_restore_refuses_a_data_directory_holding_files(snapshot: Path, tmp_path: Path) -> None:
    target = tmp_path / "data"
    (target / "cleaned").mkdir(parents=True)
    (target / "cleaned" / "2018-19.parquet").write_bytes(b"someone's data")
    run = Cli(target)("restore", str(snapshot))
    assert run.code == 2
    assert run.err.startswith(f"error: {target} is not empty (1 files, e.g. cleaned/2018-19")
    assert len(run.err.splitlines()) == 1
    assert sorted(p.name for p in target.rglob("*")) == ["2018-19.parquet", "cleaned"]

    not_a_backup = Cli(tmp_path / "empty")("restore", str(tmp_path))
    assert not_a_backup.code == 2
    assert f"{tmp_path} is not a backup" in not_a_backup.err
    mistyped = tmp_path / "no-such-backup"
    run = Cli(tmp_path / "empty")("restore", str(mistyped))
    assert (run.code, run.err.strip().splitlines()) == (
        2, [f"error: {mistyped} does not exist: name a backup (a folder `backup` wrote)"]
    )  # fmt: skip


# --- a damaged champion artifact ------------------------------------------------------------------


def test_a_damaged_champion_artifact_names_the_file(
    snapshot: Path, champion: Champion, tmp_path: Path
) -> None:
    copy = DataDir(tmp_path / "copy")
    restore(snapshot, copy)
    [artifact] = (copy.root / "mlartifacts").glob(
        f"**/{champion.run_id}/artifacts/{ASSIGNMENTS_ARTIFACT}"
    )
    artifact.write_bytes(artifact.read_bytes()[:500])

    settings = Settings(data_dir=copy.root)
    restored = find_champion(settings)  # the same version, its artifacts in the copy
    assert restored is not None
    assert restored.version == champion.version
    with pytest.raises(DamagedFileError) as raised:
        load_champion_results(settings, restored)
    assert raised.value.path == artifact
    assert str(raised.value).startswith(f"{artifact} is damaged or missing (champion v")

    run = Cli(copy.root)("player", "LeBron James", "2018-19")
    assert run.code == 1
    [line] = run.err.splitlines()
    assert line.startswith(f"error: {artifact} is damaged")
    assert "restore a backup" in line


def test_a_damaged_champion_model_stops_a_training_plainly_and_force_replaces_it(
    snapshot: Path, champion: Champion, tmp_path: Path
) -> None:
    """New data makes a training defend the champion with its fitted model: a damaged one
    says so, names the fix and changes nothing; the named fix trains a new champion."""
    copy = DataDir(tmp_path / "copy")
    restore(snapshot, copy)
    for model_file in (copy.root / "mlartifacts").rglob("*.skops"):
        model_file.write_bytes(model_file.read_bytes()[:200])
    seed_seasons(copy.root, [LATER])
    settings = Settings(data_dir=copy.root)

    with pytest.raises(DamagedFileError) as raised:
        train_archetypes(settings)
    message = str(raised.value)
    assert message.startswith(
        f"models:/{settings.registered_model_name}/{champion.version} is damaged or missing "
        f"(champion v{champion.version}'s fitted model): `nba-archetypes train --force`"
    ), message
    assert find_champion(settings).version == champion.version

    forced = train_archetypes(settings, force=True)
    assert forced.status == "promoted", forced
    assert find_champion(settings).version == forced.model_version


# --- a damaged MLflow store ---------------------------------------------------------------------


def _overwrite_after_the_first_page(database: Path) -> None:
    """What a failing disk does: the header survives, the tables' pages are garbage."""
    with database.open("r+b") as file:
        file.seek(4096)
        file.write(b"\x5a" * 64 * 1024)


def test_a_damaged_store_names_the_file_and_its_repair_everywhere(
    snapshot: Path, champion: Champion, tmp_path: Path
) -> None:
    """SQLite's "database disk image is malformed" used to reach people as an unexpected
    error ("please report it") from the CLI and a raw SQLAlchemy error from a training."""
    copy = DataDir(tmp_path / "copy")
    restore(snapshot, copy)
    database = copy.root / DATABASE
    _overwrite_after_the_first_page(database)
    settings = Settings(data_dir=copy.root)
    said = f"{database} is damaged (SQLite cannot read it): restore a backup"

    with pytest.raises(DamagedFileError) as looked_up:
        find_champion(settings)  # the light reader: the app's and the CLI's answers
    with pytest.raises(DamagedFileError) as trained:
        train_archetypes(settings)  # MLflow's client, through SQLAlchemy
    for raised in (looked_up, trained):
        assert str(raised.value).startswith(said), raised.value
        assert raised.value.path == database
        assert "malformed" in str(raised.value).splitlines()[1]

    answer = Cli(copy.root)("player", "LeBron James", "2018-19")
    assert answer.code == 1
    assert answer.err.startswith(f"error: {said}")
    assert len(answer.err.splitlines()) == 1
    backed_up = Cli(copy.root)("backup", str(tmp_path / "backup"))  # a damaged copy helps no one
    assert backed_up.code == 1
    assert backed_up.err.startswith(f"error: {said}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy"]  # nothing half-written

    # `status` goes on with what it can read, then says what it could not (Redis is down too).
    status = Cli(copy.root)("status", REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert status.code == 1
    assert status.out.splitlines() == [
        "champion: unreadable (error below)",
        f"seasons stored: {len(FIRST)} seasons ({FIRST[0]} … {FIRST[-1]})",
    ]
    damaged, queue = status.err.splitlines()
    assert damaged.startswith(f"error: {said}")
    assert queue.startswith("error: the task queue (Redis) is unreachable")


def test_a_backup_refuses_a_store_that_fails_sqlites_integrity_check(
    snapshot: Path, tmp_path: Path
) -> None:
    """Damage every reader passes over (an index's pages no table owns): only SQLite's full
    check finds it, and a backup of it would carry it on."""
    copy = DataDir(tmp_path / "copy")
    restore(snapshot, copy)
    database = copy.root / DATABASE
    with closing(sqlite3.connect(database)) as db:
        [index] = db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL LIMIT 1"
        ).fetchone()
        db.execute("PRAGMA writable_schema = ON")
        db.execute("DELETE FROM sqlite_master WHERE name = ?", (index,))
        db.commit()

    run = Cli(copy.root)("backup", str(tmp_path / "backup"))
    assert run.code == 1
    [line] = run.err.splitlines()
    assert line.startswith(f"error: {database} is damaged (SQLite's integrity check: Page "), line
    assert "is never used" in line
    assert "restore a backup (`nba-archetypes restore`), or start a new store" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy"]  # nothing half-written


def test_a_new_store_beside_the_damaged_one_trains_a_champion_on_the_stored_seasons(
    snapshot: Path, tmp_path: Path
) -> None:
    """docs/operations.md's repair without a backup: the store and its WAL files moved aside,
    a training makes a new store and a champion from the seasons kept on the volume."""
    copy = DataDir(tmp_path / "copy")
    restore(snapshot, copy)
    _overwrite_after_the_first_page(copy.root / DATABASE)
    (copy.root / "damaged").mkdir()
    for file in copy.root.glob(f"{DATABASE}*"):
        file.rename(copy.root / "damaged" / file.name)

    settings = Settings(data_dir=copy.root)
    assert train_archetypes(settings).status == "promoted"
    renewed = find_champion(settings)
    assert renewed is not None
    assert (renewed.version, renewed.seasons) == ("1", FIRST)
