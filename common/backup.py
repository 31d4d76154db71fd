"""Backups of the data directory: a consistent snapshot while the services run, and its restore.

A backup is a directory (copy it off the volume as it is, or tar it)::

    mlflow.db        through SQLite's online backup API: one consistent copy while workers write
    mlartifacts/     every run's artifacts and models
    raw/, cleaned/   the kept responses, fetch records and cleaned tables
    manifest.json    written last: a folder without it is an unfinished backup

Order makes the copy consistent without stopping anything: the database is copied first, and
MLflow writes a run's artifacts before the registry points at it, so every version the copied
database knows has its files in the copied artifacts. Data files are replaced by atomic renames
(common/storage.py), so each copied file is whole; a season is copied again if its fetch record
changed meanwhile, so its raw responses, cleaned table and record belong together.

MLflow stores artifact locations as absolute ``file://`` URIs under ``DATA_DIR/mlartifacts``.
A restore into another ``DATA_DIR`` than the backup's rewrites them in the restored database.
Standard library only: it runs in every service's image.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from common.failures import DamagedFileError, clip
from common.fetch_record import FetchRecord
from common.model_registry import STORE_REPAIR, damage_named
from common.seasons import InvalidSeasonError, Season, SeasonType
from common.storage import DataDir, sha256_of

log = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE = "mlflow.db"
ARTIFACTS = "mlartifacts"
TREES = ("raw", "cleaned", ARTIFACTS)  # what a backup holds besides the database
SEASON_ATTEMPTS = 5  # copies of a season that keeps changing (a refresh in flight) before giving up


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why and what to do."""


class BadPathError(BackupError):
    """A path given that is refused: a target holding data (nothing is ever overwritten), one
    inside the data being copied, or a folder that is not a backup."""


@dataclass(frozen=True)
class Manifest:
    created_at: str
    data_dir: str  # the DATA_DIR it was taken from: where the database's artifact URIs point
    champion_version: str | None
    seasons: list[str]  # seasons with raw responses
    files: dict[str, int]  # per tree of TREES: how many files
    format: int = FORMAT


# --- backup ---------------------------------------------------------------------------------


def backup(data: DataDir, target: Path, model_name: str) -> Manifest:
    """Write a snapshot of ``data`` into ``target`` (a new or empty directory)."""
    _check_backup_target(data, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Built beside the target and renamed into place: an interrupted backup is never mistaken
    # for a complete one.
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.partial-"))
    staging.chmod(0o755)  # mkdtemp's 0700 would lock out a restore running as another user
    try:
        champion = _copy_database(data.root / DATABASE, staging / DATABASE, model_name)
        _copy_tree(data.root / ARTIFACTS, staging / ARTIFACTS)
        seasons = _copy_data(data, DataDir(staging))
        manifest = Manifest(
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            data_dir=str(data.root),
            champion_version=champion,
            seasons=[str(s) for s in seasons],
            files={tree: _count_files(staging / tree) for tree in TREES},
        )
        (staging / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2) + "\n")
        if target.exists():
            target.rmdir()  # checked empty above
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info("backup of %s written to %s", data.root, target)
    return manifest


def _check_backup_target(data: DataDir, target: Path) -> None:
    if not data.root.is_dir():
        raise BackupError(f"nothing to back up: {data.root} does not exist (check DATA_DIR)")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BadPathError(f"{target} already exists: give a new path for the backup")
    resolved = target.resolve()
    for tree in (data.root / t for t in TREES):
        if resolved.is_relative_to(tree.resolve()):
            raise BadPathError(f"{target} is inside {tree}: write the backup elsewhere")


def _copy_database(source: Path, target: Path, model_name: str) -> str | None:
    """Copy the MLflow store through SQLite's backup API; returns the champion's version."""
    if not source.is_file():
        log.warning("%s does not exist (no training yet): the backup has no MLflow store", source)
        return None
    # mode=rw: never creates a store; the timeout waits out a writer's lock.
    src = sqlite3.connect(f"{source.as_uri()}?mode=rw", uri=True, timeout=60)
    dst = sqlite3.connect(target)
    # damage_named: a store too damaged for the integrity check to run.
    with closing(src), closing(dst), damage_named(source):
        src.backup(dst)  # one step: a single read transaction, a consistent snapshot
        problems = [row[0] for row in dst.execute("PRAGMA integrity_check")]
        champion = _champion_version(dst, model_name)
    if problems != ["ok"]:
        # Each row may hold several lines, under a "*** in database main ***" heading.
        lines = [line for row in problems for line in row.splitlines() if "***" not in line]
        found = f"damaged (SQLite's integrity check: {clip('; '.join(lines), 120)})"
        raise DamagedFileError.at(source, found, STORE_REPAIR)
    return champion


def _champion_version(db: sqlite3.Connection, model_name: str) -> str | None:
    try:
        row = db.execute(
            "SELECT version FROM registered_model_aliases WHERE name = ? AND alias = 'champion'",
            (model_name,),
        ).fetchone()
    except sqlite3.Error:  # a store without a registry yet
        return None
    return str(row[0]) if row else None


def _copy_data(data: DataDir, out: DataDir) -> list[Season]:
    """Every season's raw responses, fetch record and cleaned table; returns the seasons."""
    seasons = _season_folders(data.root / "raw")
    for season in seasons:
        _copy_season(data, season, out)
    # Cleaned tables without raw responses (none are written so, but keep what is there).
    for path in sorted((data.root / "cleaned").glob("*.parquet")):
        if not out.root.joinpath("cleaned", path.name).exists():
            _copy_file(path, out.root / "cleaned" / path.name)
    return seasons


def _season_folders(raw: Path) -> list[Season]:
    seasons = []
    for folder in sorted(raw.iterdir()) if raw.is_dir() else ():
        try:
            seasons.append(Season.parse(folder.name))
        except InvalidSeasonError:
            log.warning("%s is not a season folder: not backed up", folder)
    return seasons


def _copy_season(data: DataDir, season: Season, out: DataDir) -> None:
    """Copy one season's files, again while a refresh rewrites them underneath.

    Writers replace raw, then cleaned, then the record; copying cleaned before raw and
    checking that the record did not change and matches the raw copies' hashes makes the set
    one refresh's output."""
    for _ in range(SEASON_ATTEMPTS):
        record = _read_or_none(data.fetch_record(season))
        _copy_file(data.cleaned(season), out.cleaned(season))
        for season_type in SeasonType:
            _copy_file(
                data.raw_response(season, season_type), out.raw_response(season, season_type)
            )
        if _read_or_none(data.fetch_record(season)) == record and _matches(out, season, record):
            if record is not None:
                out.fetch_record(season).write_bytes(record)
            return
        log.info("%s changed during the backup; copying it again", season)
    raise BackupError(
        f"{season} kept changing during the backup (a refresh in flight?): try again later"
    )


def _matches(out: DataDir, season: Season, record: bytes | None) -> bool:
    """Whether the copied raw responses are the ones the record describes."""
    try:
        segments = FetchRecord.from_dict(json.loads(record)).segments if record else {}
    except (ValueError, KeyError, TypeError, AttributeError):
        return True  # a damaged record is backed up as it is; `rebuild` rewrites it
    return all(
        sha256_of(out.raw_response(season, season_type)) == segment.sha256
        for season_type, segment in segments.items()
    )


def _read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _copy_file(source: Path, target: Path) -> None:
    """Copy ``source`` if it exists (one open file: a rename meanwhile does not tear it)."""
    try:
        with source.open("rb") as reader:
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as writer:
                shutil.copyfileobj(reader, writer)
    except FileNotFoundError:
        target.unlink(missing_ok=True)  # gone since: nor is it in the copy


def _copy_tree(source: Path, target: Path) -> None:
    """Copy a folder's files, skipping the temporary files of writes in progress."""
    for folder, _, names in os.walk(source):
        for name in names:
            if name.startswith(".") and name.endswith(".tmp"):
                continue  # common.storage.atomic_output's, renamed (or dropped) any moment
            path = Path(folder, name)
            _copy_file(path, target / path.relative_to(source))


def _count_files(folder: Path) -> int:
    return sum(len(names) for _, _, names in os.walk(folder))


# --- restore --------------------------------------------------------------------------------


def read_manifest(source: Path) -> Manifest:
    path = source / MANIFEST
    if not source.exists():
        raise BadPathError(f"{source} does not exist: name a backup (a folder `backup` wrote)")
    if not path.is_file():
        raise BadPathError(
            f"{source} is not a backup (no {MANIFEST}: not one, or an unfinished one)"
        )
    try:
        manifest = Manifest(**json.loads(path.read_text()))
    except (ValueError, TypeError) as error:
        raise BackupError(f"{path} is damaged ({error}): use another backup") from error
    if manifest.format != FORMAT:
        raise BackupError(f"{source} is a format {manifest.format} backup; this is {FORMAT}")
    return manifest


def restore(source: Path, data: DataDir) -> Manifest:
    """Load the backup at ``source`` into the empty data directory ``data``."""
    manifest = read_manifest(source)
    _check_empty(data.root)
    data.root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=data.root, prefix=".restore-"))
    try:
        for tree in TREES:
            _copy_tree(source / tree, staging / tree)
        if (source / DATABASE).is_file():
            _copy_file(source / DATABASE, staging / DATABASE)
            _relocate_artifacts(staging / DATABASE, Path(manifest.data_dir), data.root)
        # The database last: until it is in place the services see no MLflow store at all.
        for name in (*TREES, DATABASE):
            if (staging / name).exists():
                (staging / name).replace(data.root / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("backup %s restored into %s", source, data.root)
    return manifest


def _check_empty(root: Path) -> None:
    files = [Path(folder, name) for folder, _, names in os.walk(root) for name in names]
    if files:
        raise BadPathError(
            f"{root} is not empty ({len(files)} files, e.g. {files[0].relative_to(root)}): "
            "restore loads a backup only into an empty data directory; use a new volume or "
            "move its contents away first"
        )


def _relocate_artifacts(database: Path, old_root: Path, new_root: Path) -> None:
    """Point the restored store's artifact locations at ``new_root``'s artifacts.

    MLflow keeps absolute locations (experiments, runs, logged models, model versions): every
    text value under the old artifacts folder, as a ``file://`` URI or a plain path, is
    rewritten."""
    if old_root == new_root:
        return
    pairs = [
        ((old_root / ARTIFACTS).as_uri(), (new_root / ARTIFACTS).as_uri()),
        (str(old_root / ARTIFACTS), str(new_root / ARTIFACTS)),
    ]
    db = sqlite3.connect(database)
    try:
        with db:
            for table, column in _text_columns(db):
                for old, new in pairs:
                    _replace_prefix(db, table, column, old, new)
    finally:
        db.close()
    log.info("artifact locations moved from %s to %s", old_root, new_root)


def _text_columns(db: sqlite3.Connection) -> list[tuple[str, str]]:
    tables = [
        row[0]
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return [
        (table, row[1]) for table in tables for row in db.execute(f'PRAGMA table_info("{table}")')
    ]


def _replace_prefix(db: sqlite3.Connection, table: str, column: str, old: str, new: str) -> None:
    # substr, not LIKE: paths may hold % or _. Whole path segments only (old, or old + "/...").
    db.execute(
        f'UPDATE "{table}" SET "{column}" = ? || substr("{column}", ?) '
        f'WHERE typeof("{column}") = \'text\' AND ("{column}" = ? OR substr("{column}", 1, ?) = ?)',
        (new, len(old) + 1, old, len(old) + 1, old + "/"),
    )
