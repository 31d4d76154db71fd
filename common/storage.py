"""The shared data directory: where each artefact lives, and writes that never leave half a file.

Layout (``DATA_DIR``)::

    raw/<season>/regular-season.json   response body exactly as the stats site sent it
    raw/<season>/playoffs.json
    raw/<season>/fetch.json            when and from where it was fetched, row counts, hashes
                                       (common/fetch_record.py)
    cleaned/<season>.parquet           one row per player, ready for modelling
    mlflow.db, mlartifacts/            MLflow tracking store and artifacts
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from common.fetch_record import FetchRecord
from common.seasons import Season, SeasonType


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block succeeds.

    The temporary file lives in the same directory so ``os.replace`` is an atomic rename:
    readers see the old file or the new one, never a partial write, even after a crash.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with tmp.open("rb") as written:
            os.fsync(written.fileno())
        tmp.chmod(0o644)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_json(path: Path, payload: Any) -> None:
    atomic_write_bytes(path, json.dumps(payload, indent=2, sort_keys=True).encode())


class DataDir:
    """Paths of everything the services keep in the shared data directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def raw_response(self, season: Season, season_type: SeasonType) -> Path:
        return self.root / "raw" / season.label / f"{season_type.slug}.json"

    def fetch_record(self, season: Season) -> Path:
        return self.root / "raw" / season.label / "fetch.json"

    def cleaned(self, season: Season) -> Path:
        return self.root / "cleaned" / f"{season.label}.parquet"

    def cleaned_seasons(self) -> list[Season]:
        folder = self.root / "cleaned"
        if not folder.is_dir():
            return []
        return sorted(Season.parse(p.stem) for p in folder.glob("*.parquet"))

    def read_fetch_record(self, season: Season) -> FetchRecord | None:
        path = self.fetch_record(season)
        return FetchRecord.from_dict(json.loads(path.read_text())) if path.is_file() else None

    def write_fetch_record(self, record: FetchRecord) -> None:
        atomic_write_json(self.fetch_record(record.season), record.to_dict())
