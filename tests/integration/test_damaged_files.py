"""Damaged files and the repair path: real files damaged on disk, real full disks.

A truncated cleaned table, raw response or fetch record gives an error naming the file and the
command that repairs it; ``nba-archetypes rebuild`` re-cleans seasons from the raw responses
kept, without the network; a write on a full volume leaves the previous file as it was.
(A damaged champion artifact is in tests/integration/test_backup.py, which has a trained champion.)
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pandas as pd
import pytest

from common.failures import DamagedFileError, WriteFailedError
from common.seasons import Season, SeasonType
from common.settings import Settings
from common.storage import DataDir, atomic_write_bytes
from tests.integration.test_cli import Cli
from tests.integration.test_fetch import _refresh, _settings
from tests.services import PROJECT_ROOT, RECORDINGS, seed_seasons
from workers.fetch.recordings import seed_from_recordings
from workers.train.dataset import load_training_data

SEASONS = ["2016-17", "2017-18", "2018-19"]  # 2018-19 has playoffs, 2017-18 has none
WITH_PLAYOFFS = Season.parse("2018-19")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three seasons imported from the bundled recordings (copied by each test that damages)."""
    root = tmp_path_factory.mktemp("seeded")
    seed_seasons(root, SEASONS)
    return root


@pytest.fixture
def data(seeded: Path, tmp_path: Path) -> DataDir:
    root = tmp_path / "data"
    shutil.copytree(seeded, root)
    return DataDir(root)


def _truncate(path: Path, keep: int = 1000) -> None:
    path.write_bytes(path.read_bytes()[:keep])


def _tables(data: DataDir) -> dict[Season, pd.DataFrame]:
    return {season: pd.read_parquet(data.cleaned(season)) for season in data.cleaned_seasons()}


def _tmp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".tmp")]


def test_files_this_code_did_not_write_are_passed_over(data: DataDir) -> None:
    """A copy or a note left in the data folders is not a season: the seasons are still
    listed (the app, `status` and the training used to fail on it as a bad season label)."""
    seasons = data.cleaned_seasons()
    shutil.copy(data.cleaned(seasons[0]), data.root / "cleaned" / f"{seasons[0]} (copy).parquet")
    (data.root / "cleaned" / "notes.parquet").write_bytes(b"")
    (data.root / "raw" / "old").mkdir()
    (data.root / "raw" / "old" / f"{SeasonType.REGULAR.slug}.json").write_text("{}")
    assert data.cleaned_seasons() == seasons
    assert data.raw_seasons() == seasons


# --- errors naming the file ---------------------------------------------------------------------


def test_a_damaged_cleaned_table_names_the_file_and_the_repair(data: DataDir) -> None:
    path = data.cleaned(WITH_PLAYOFFS)
    _truncate(path)
    with pytest.raises(DamagedFileError) as raised:
        load_training_data(data)
    headline = str(raised.value).splitlines()[0]
    assert headline.startswith(f"{path} is damaged (truncated or not Parquet)")
    assert "`nba-archetypes rebuild 2018-19`" in headline
    assert raised.value.path == path

    run = Cli(data.root)("train", "--inline")
    assert run.code == 1
    assert run.err.splitlines() == [f"error: {headline} (--verbose: details)"]


def test_a_damaged_fetch_record_names_the_file(data: DataDir) -> None:
    path = data.fetch_record(WITH_PLAYOFFS)
    _truncate(path, keep=40)
    with pytest.raises(DamagedFileError) as raised:
        data.read_fetch_record(WITH_PLAYOFFS)
    assert str(raised.value).startswith(f"{path} is damaged (not a readable fetch record)")
    assert "`nba-archetypes rebuild 2018-19`" in str(raised.value)


# --- rebuild ------------------------------------------------------------------------------------


def test_rebuild_recreates_damaged_and_deleted_tables_from_the_raw_responses(data: DataDir) -> None:
    before = _tables(data)
    records = {s: data.read_fetch_record(s) for s in before}
    raw = {p: p.read_bytes() for p in (data.root / "raw").rglob("*.json") if p.name != "fetch.json"}
    _truncate(data.cleaned(WITH_PLAYOFFS))
    data.cleaned(Season.parse("2016-17")).unlink()

    run = Cli(data.root)("rebuild")
    assert run.code == 0, run.err
    for season in SEASONS:
        assert f"{season}: rebuilt (" in run.out
    assert "nba-archetypes train" in run.out  # the hint to train on it

    after = _tables(data)
    assert after.keys() == before.keys()
    for season, table in before.items():
        pd.testing.assert_frame_equal(after[season], table)
        record, previous = data.read_fetch_record(season), records[season]
        assert record is not None
        assert previous is not None
        assert record.segments == previous.segments
        assert (record.fetched_at, record.complete) == (previous.fetched_at, previous.complete)
    assert {p: p.read_bytes() for p in raw} == raw  # raw responses are never rewritten
    assert not _tmp_files(data.root)


def test_rebuild_of_one_season_leaves_the_others_alone(data: DataDir) -> None:
    others = {s: data.cleaned(Season.parse(s)).read_bytes() for s in SEASONS[:2]}
    run = Cli(data.root)("rebuild", "2018-19")
    assert run.code == 0, run.err
    assert run.out.startswith("2018-19: rebuilt (")
    assert {s: data.cleaned(Season.parse(s)).read_bytes() for s in SEASONS[:2]} == others


def test_a_damaged_raw_response_fails_the_rebuild_naming_it(data: DataDir) -> None:
    raw = data.raw_response(WITH_PLAYOFFS, SeasonType.PLAYOFFS)
    _truncate(raw)
    cleaned = data.cleaned(WITH_PLAYOFFS).read_bytes()
    record = data.fetch_record(WITH_PLAYOFFS).read_bytes()

    run = Cli(data.root)("rebuild")
    assert run.code == 1
    lines = run.out.splitlines()
    assert "2016-17: rebuilt (" in run.out
    assert "2017-18: rebuilt (" in run.out
    [failed] = [line for line in lines if line.startswith("2018-19")]
    assert failed.startswith(f"2018-19: FAILED: {raw} is damaged (")
    assert "run `nba-archetypes refresh 2018-19 --force`" in failed
    # Nothing of the season was touched.
    assert data.cleaned(WITH_PLAYOFFS).read_bytes() == cleaned
    assert data.fetch_record(WITH_PLAYOFFS).read_bytes() == record

    assert "--verbose" not in failed  # a hash mismatch has no further details to show


def test_rebuild_rewrites_a_damaged_fetch_record_from_the_raw_responses(data: DataDir) -> None:
    before = pd.read_parquet(data.cleaned(WITH_PLAYOFFS))
    previous = data.read_fetch_record(WITH_PLAYOFFS)
    assert previous is not None
    _truncate(data.fetch_record(WITH_PLAYOFFS), keep=40)

    run = Cli(data.root)("rebuild", "2018-19")
    assert run.code == 0, run.err
    assert "fetch record rewritten from the raw responses" in run.err
    record = data.read_fetch_record(WITH_PLAYOFFS)
    assert record is not None
    pd.testing.assert_frame_equal(pd.read_parquet(data.cleaned(WITH_PLAYOFFS)), before)
    for season_type, segment in previous.segments.items():  # same bodies, read the same way
        rebuilt = record.segments[season_type]
        assert (rebuilt.sha256, rebuilt.per_mode, rebuilt.rows) == (
            segment.sha256,
            segment.per_mode,
            segment.rows,
        )
    assert not record.complete  # unverified: the next refresh downloads it again


def test_a_refresh_downloads_a_season_whose_fetch_record_is_damaged(
    data_dir: Path, replay: str
) -> None:
    settings = _settings(data_dir, replay)
    assert _refresh(settings).fetched
    _truncate(DataDir(data_dir).fetch_record(WITH_PLAYOFFS), keep=40)
    outcome = _refresh(settings)  # a complete season, but its record cannot say so any more
    assert outcome.fetched
    assert DataDir(data_dir).read_fetch_record(WITH_PLAYOFFS) is not None


@pytest.mark.parametrize("loss", ["damaged", "missing"])
def test_a_refresh_downloads_a_season_whose_raw_response_is_damaged(
    data_dir: Path, replay: str, loss: str
) -> None:
    """A complete season whose kept response no longer matches its record (damaged, or new
    bytes left by a forced fetch cut short before its record) is downloaded again, not
    refused until someone runs a forced refresh."""
    settings = _settings(data_dir, replay)
    assert _refresh(settings).fetched
    raw = DataDir(data_dir).raw_response(WITH_PLAYOFFS, SeasonType.REGULAR)
    kept = raw.read_bytes()
    if loss == "damaged":
        _truncate(raw)
    else:
        raw.unlink()
    outcome = _refresh(settings)
    assert (outcome.status, outcome.fetched) == ("updated", True)
    assert raw.read_bytes() == kept


def test_a_seed_passes_over_a_season_whose_fetch_record_is_damaged(data: DataDir) -> None:
    """The seed imports the seasons that have no data and leaves a damaged one to its repair
    (it used to stop at it, before the seasons after it and before asking for a training)."""
    _truncate(data.fetch_record(WITH_PLAYOFFS), keep=40)
    damaged = data.fetch_record(WITH_PLAYOFFS).read_bytes()
    cleaned = data.cleaned(WITH_PLAYOFFS).read_bytes()
    later = Season.parse("2019-20")
    with tempfile.TemporaryDirectory() as tmp:
        for path in RECORDINGS.glob("leaguedashplayerstats_201[89]-*_pergame.json"):
            (Path(tmp) / path.name).symlink_to(path)
        outcomes = seed_from_recordings(Path(tmp), data, Settings(data_dir=data.root))
    assert [o.season for o in outcomes] == [str(later)]
    assert later in data.cleaned_seasons()
    assert data.fetch_record(WITH_PLAYOFFS).read_bytes() == damaged  # left to `rebuild`
    assert data.cleaned(WITH_PLAYOFFS).read_bytes() == cleaned


def test_rebuild_without_raw_responses_says_what_to_do(data: DataDir) -> None:
    run = Cli(data.root)("rebuild", "2000-01")
    assert run.code == 2
    assert run.err.strip() == (
        "error: no raw responses kept for 2000-01: fetch it (`nba-archetypes refresh 2000-01`)"
    )
    empty = Cli(data.root.parent / "empty")("rebuild")
    assert empty.code == 1
    assert "nothing to rebuild" in empty.err


# --- a full disk ----------------------------------------------------------------------------------


@pytest.fixture
def small_volume(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MiB filesystem (tmpfs); needs root, or the test is skipped."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "volume"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}): needs CAP_SYS_ADMIN")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def _fill(folder: Path) -> None:
    """Write until the volume has no byte left."""
    with (folder / "filler").open("wb", buffering=0) as filler:
        while _wrote(filler, 4096):
            pass
    assert shutil.disk_usage(folder).free == 0


def _wrote(file: BinaryIO, size: int) -> bool:
    try:
        file.write(b"\0" * size)
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
        return False
    return True


def test_a_full_volume_keeps_the_previous_file_and_says_so(
    seeded: Path, small_volume: Path
) -> None:
    data = DataDir(small_volume / "data")
    season = Season.parse("2016-17")  # the smallest: raw + cleaned fit in 1 MiB
    shutil.copytree(seeded / "raw" / str(season), data.root / "raw" / str(season))
    shutil.copytree(seeded / "cleaned", data.root / "cleaned", ignore=lambda _, names: [
        n for n in names if n != f"{season}.parquet"
    ])  # fmt: skip
    before = {p: p.read_bytes() for p in data.root.rglob("*") if p.is_file()}
    _fill(small_volume)

    run = Cli(data.root)("rebuild", str(season))
    assert run.code == 1
    cleaned = data.cleaned(season)
    assert run.err.strip().splitlines()[-1] == (
        f"error: could not write {cleaned}: the data volume is full (Error writing bytes to "
        "file. Detail: [errno 28] No space left on device); the previous version is intact: "
        "free space on it and try again"
    )
    assert {p: p.read_bytes() for p in before} == before  # byte for byte
    assert not _tmp_files(small_volume)

    new = small_volume / "new.json"
    with pytest.raises(WriteFailedError, match="nothing was written: free space on it"):
        atomic_write_bytes(new, b"{}" * 10_000)
    assert not new.exists()
    assert not _tmp_files(small_volume)


def test_a_write_over_the_file_size_limit_keeps_the_previous_file(tmp_path: Path) -> None:
    """EFBIG from RLIMIT_FSIZE, in a child process (the limit is per process)."""
    path = tmp_path / "cleaned" / "2018-19.parquet"
    atomic_write_bytes(path, b"previous version")
    script = (
        "import resource, signal, sys\n"
        "from pathlib import Path\n"
        "from common.storage import WriteFailedError, atomic_write_bytes\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))\n"
        "try:\n"
        "    atomic_write_bytes(Path(sys.argv[1]), b'x' * 1_000_000)\n"
        "except WriteFailedError as error:\n"
        "    print(error)\n"
        "    sys.exit(3)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert done.stdout.strip() == (
        f"could not write {path}: the file is over the size limit (File too large); "
        "the previous version is intact: raise the limit (ulimit -f) and try again"
    )
    assert path.read_bytes() == b"previous version"
    assert not _tmp_files(tmp_path)
