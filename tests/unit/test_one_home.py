"""One home for each thing: the fetch record's format, MLflow's environment defaults, and the
support code tests and benchmarks share (``devkit``, not each other)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from common.fetch_record import CleanedRecord, FetchRecord, SegmentRecord
from common.mlflow_env import MLFLOW_DEFAULTS, apply_mlflow_defaults
from common.seasons import Season, SeasonType
from common.settings import Settings, get_settings
from common.storage import DataDir
from devkit.services import PROJECT_ROOT, RECORDINGS
from workers.fetch.recordings import bundled_recordings, read_recording, recorded_per_mode
from workers.fetch.response import parse_dashboard
from workers.fetch.season_data import RawSegment, store_season

# As the fetch worker wrote it before the format had a class: what volumes already hold.
STORED_JSON = {
    "season": "2018-19",
    "fetched_at": "2024-05-01T10:00:00+00:00",
    "complete": True,
    "segments": {
        "Regular Season": {
            "source": "https://stats.nba.com/stats/leaguedashplayerstats?Season=2018-19",
            "per_mode": "Totals",
            "rows": 530,
            "sha256": "ab" * 32,
        },
        "Playoffs": {"source": "recording:x.json", "per_mode": "PerGame", "rows": 0, "sha256": ""},
    },
    "cleaned": {
        "rows": 530,
        "eligible": 360,
        "playoff_players": 224,
        "cleaned_at": "2024-05-01T10:00:01+00:00",
        "playoff_weight": 2.0,
        "eligible_min_games": 20,
        "eligible_min_minutes": 500.0,
    },
}


def test_a_stored_fetch_record_reads_and_writes_back_unchanged() -> None:
    record = FetchRecord.from_dict(STORED_JSON)
    assert record.season == Season(2018)
    assert record.fetched_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert record.regular == SegmentRecord(
        STORED_JSON["segments"]["Regular Season"]["source"], "Totals", 530, "ab" * 32
    )
    assert (
        record.regular.source_without_query == "https://stats.nba.com/stats/leaguedashplayerstats"
    )
    assert record.segments[SeasonType.PLAYOFFS].rows == 0
    assert isinstance(record.cleaned, CleanedRecord)
    assert record.cleaned.eligible == 360
    assert record.to_dict() == STORED_JSON


def test_the_fetch_worker_writes_what_the_app_reads(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    season = Season(2018)
    settings = Settings(data_dir=data_dir)
    files = bundled_recordings(RECORDINGS)[season]
    segments = {}
    for season_type, path in files.items():
        body = read_recording(path)
        table = parse_dashboard(body, season, season_type, recorded_per_mode(path))
        segments[season_type] = RawSegment(body, f"recording:{path.name}?x=1", table)
    data = DataDir(data_dir)
    store_season(season, segments, data=data, settings=settings, fetched=True, complete=True)

    written = json.loads(data.fetch_record(season).read_text())
    assert set(written) == set(STORED_JSON)
    assert set(written["cleaned"]) == set(STORED_JSON["cleaned"])
    assert set(written["segments"]["Regular Season"]) == set(STORED_JSON["segments"]["Playoffs"])

    import streamlit as st

    from ui import results

    # The app as it runs: its settings from the environment, its caches empty.
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    st.cache_data.clear()
    try:
        (row,) = results.fetch_summary().to_dict("records")
    finally:
        get_settings.cache_clear()
        st.cache_data.clear()
    assert (row["season"], row["complete"], row["players"], row["eligible"]) == (
        "2018-19",
        True,
        530,
        360,
    )
    assert row["source"] == "recording:leaguedashplayerstats_2018-19_regular_pergame.json"
    assert row["fetched"].tzinfo is None  # UTC, naive, as the table shows it


def test_an_explicit_mlflow_setting_wins() -> None:
    environ = {"MLFLOW_DISABLE_TELEMETRY": "false"}
    apply_mlflow_defaults(environ)
    assert environ == {**MLFLOW_DEFAULTS, "MLFLOW_DISABLE_TELEMETRY": "false"}


# Anything that switches MLflow's telemetry off on its own, so the check below sees only ours.
_TELEMETRY_SWITCHES = ("PYTEST_CURRENT_TEST", "CI", "GITHUB_ACTIONS", "DO_NOT_TRACK")


@pytest.mark.parametrize("module", ["workers.train.tracking", "ui.results", "common.champion"])
def test_mlflow_defaults_are_set_before_mlflow_is_imported(module: str) -> None:
    # The first import of each module that uses MLflow, in a fresh process without the
    # variables: telemetry (decided when mlflow is imported) is off, the rest are set.
    script = f"""
import json, os
import {module}
from mlflow.telemetry.client import get_telemetry_client
print(json.dumps({{"env": {{k: os.environ.get(k) for k in {list(MLFLOW_DEFAULTS)!r}}},
                  "telemetry": get_telemetry_client() is not None}}))
"""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MLFLOW_") and k not in _TELEMETRY_SWITCHES
    }
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen == {"env": MLFLOW_DEFAULTS, "telemetry": False}


def _imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports by absolute name, at its top or inside functions."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _imported_packages(path: Path) -> set[str]:
    return {name.split(".")[0] for name in _imported_modules(path)}


DEV_ONLY = {"devkit", "tests", "scripts", "benchmarks"}
PRODUCT = {"common", "cli", "workers", "ui", "replay"}


def test_tests_and_benchmarks_share_devkit_not_each_other() -> None:
    crossing = []
    for folder, others in (
        ("tests", {"benchmarks", "scripts"}),
        ("benchmarks", {"tests", "scripts"}),
        ("scripts", {"tests", "benchmarks"}),
        ("devkit", {"tests", "benchmarks", "scripts"}),
    ):
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            name = path.relative_to(PROJECT_ROOT).as_posix()
            crossing += [f"{name} imports {o}" for o in sorted(others & _imported_packages(path))]
    assert crossing == []
    # Product code never imports the dev-only packages (they are not in the images).
    for package in PRODUCT:
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            assert not DEV_ONLY & _imported_packages(path), path


def test_benchmarks_share_one_harness_not_each_other() -> None:
    benchmarks = sorted((PROJECT_ROOT / "benchmarks").glob("*.py"))
    assert {p.stem for p in benchmarks} >= {"harness", "cli", "pipeline", "refresh", "ui"}
    for path in benchmarks:
        if path.stem in {"__init__", "harness"}:
            continue
        ours = {m for m in _imported_modules(path) if m.split(".")[0] == "benchmarks"}
        assert ours == {"benchmarks.harness"}, path.name
    assert "benchmarks" not in _imported_packages(PROJECT_ROOT / "benchmarks" / "harness.py")


def test_the_cli_benchmark_times_the_console_script_without_the_product() -> None:
    # The CLI's internals change under it: it may use only the console script, environment
    # variables and the harness, and loading it (and the harness) imports no product code.
    out = subprocess.run(
        [sys.executable, "-c", "import sys, benchmarks.cli; print(' '.join(sys.modules))"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    loaded = {name.split(".")[0] for name in out.stdout.split()}
    assert "benchmarks" in loaded
    assert not PRODUCT & loaded
    assert not PRODUCT & _imported_packages(PROJECT_ROOT / "benchmarks" / "cli.py")
