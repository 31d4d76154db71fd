"""The shared data directory: where each artefact lives, and writes that never leave half a file.

Layout (``DATA_DIR``)::

    raw/<season>/regular-season.json   response body exactly as the stats site sent it
    raw/<season>/playoffs.json
    raw/<season>/fetch.json            when and from where it was fetched, row counts, hashes
                                       (common/fetch_record.py)
    cleaned/<season>.parquet           one row per player, ready for modelling
    mlflow.db, mlartifacts/            MLflow tracking store and artifacts

A file that cannot be read raises :class:`DamagedFileError` naming it and the command that
repairs it; a write that fails (a full disk) raises :class:`WriteFailedError` and leaves the
previous version of the file as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.failures import DamagedFileError, WriteFailedError
from common.fetch_record import FetchRecord
from common.seasons import InvalidSeasonError, Season, SeasonType

if TYPE_CHECKING:
    import pandas as pd


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block succeeds.

    The temporary file lives in the same directory so ``os.replace`` is an atomic rename:
    readers see the old file or the new one, never a partial write, even after a crash. An
    ``OSError`` on the way (``ENOSPC`` while writing or syncing) becomes a
    :class:`WriteFailedError` naming ``path``; the temporary file is always removed.
    """
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        tmp = Path(tmp_name)
        yield tmp
        with tmp.open("rb") as written:
            os.fsync(written.fileno())  # a full disk may only show here (delayed allocation)
        tmp.chmod(0o644)
        os.replace(tmp, path)
    except WriteFailedError:
        raise
    except OSError as error:
        raise WriteFailedError.at(path, error) from error
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_json(path: Path, payload: Any) -> None:
    atomic_write_bytes(path, json.dumps(payload, indent=2, sort_keys=True).encode())


def sha256_of(path: Path) -> str | None:
    """The file's SHA-256 (hex), or ``None`` if there is no such file."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except (FileNotFoundError, IsADirectoryError):
        return None


def read_parquet(path: Path, fix: str, columns: list[str] | None = None) -> pd.DataFrame:
    """``path`` as a DataFrame (only ``columns`` if given), or a :class:`DamagedFileError`
    saying ``fix`` (a missing or forbidden file keeps its own error: it is not damaged)."""
    # Late: pandas takes a third of a second to import, and `nba-archetypes status` lists the
    # stored seasons without reading any (its start-up time is measured).
    import pandas as pd  # noqa: PLC0415
    from pyarrow import ArrowException  # noqa: PLC0415

    try:
        return pd.read_parquet(path, columns=columns)
    except (FileNotFoundError, PermissionError):
        raise
    except (OSError, ValueError, ArrowException) as error:
        raise DamagedFileError.at(path, "damaged (truncated or not Parquet)", fix, error) from error


class DataDir:
    """Paths of everything the services keep in the shared data directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def sync(self, seasons: Iterable[Season] | None = None) -> DataDir:
        """Bring the local copy up to date before reading: nothing to do here, the directory
        is the store (``common/season_store.py`` has the copy kept in MLflow)."""
        del seasons
        return self

    def has_seasons(self) -> bool:
        """Whether any season is stored (the store's answer, not a local copy's)."""
        return bool(self.cleaned_seasons())

    def raw_response(self, season: Season, season_type: SeasonType) -> Path:
        return self.root / "raw" / season.label / f"{season_type.slug}.json"

    def fetch_record(self, season: Season) -> Path:
        return self.root / "raw" / season.label / "fetch.json"

    def cleaned(self, season: Season) -> Path:
        return self.root / "cleaned" / f"{season.label}.parquet"

    def cleaned_seasons(self) -> list[Season]:
        folder = self.root / "cleaned"
        return _seasons_named(p.stem for p in folder.glob("*.parquet")) if folder.is_dir() else []

    def raw_seasons(self) -> list[Season]:
        """Seasons whose regular-season response is kept (what a rebuild can re-clean)."""
        folder = self.root / "raw"
        if not folder.is_dir():
            return []
        return _seasons_named(
            p.parent.name for p in folder.glob(f"*/{SeasonType.REGULAR.slug}.json")
        )

    def read_cleaned(self, season: Season, columns: list[str] | None = None) -> pd.DataFrame:
        fix = f"run `nba-archetypes rebuild {season}` (re-cleans it from the raw responses)"
        return read_parquet(self.cleaned(season), fix, columns)

    def read_fetch_record(self, season: Season) -> FetchRecord | None:
        path = self.fetch_record(season)
        if not path.is_file():
            return None
        try:
            return FetchRecord.from_dict(json.loads(path.read_bytes()))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            fix = f"run `nba-archetypes rebuild {season}` (rewrites it from the raw responses)"
            raise DamagedFileError.at(
                path, "damaged (not a readable fetch record)", fix, error
            ) from error

    def write_fetch_record(self, record: FetchRecord) -> None:
        atomic_write_json(self.fetch_record(record.season), record.to_dict())


def _seasons_named(names: Iterable[str]) -> list[Season]:
    """The seasons among file or folder names, sorted; a name that is no season is something
    this code did not write (a copy, a note) and is passed over."""
    found = []
    for name in names:
        try:
            found.append(Season.parse(name))
        except InvalidSeasonError:
            continue
    return sorted(found)
