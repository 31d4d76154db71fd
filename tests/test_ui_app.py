"""The Streamlit app, run in-process with Streamlit's AppTest on real data.

Real parts only: the seasons are the bundled real recordings seeded the way the fetch worker
does, the champion is trained by the real training code into a real MLflow store in a temp
dir, Redis is the session's redis-server, refreshes go through real Celery worker processes
fetching from the replay server (the only stand-in: it speaks for stats.nba.com).
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from common.champion import (
    ASSIGNMENTS_ARTIFACT,
    PROFILES_ARTIFACT,
    download_champion_artifact,
    find_champion,
    read_profiles,
)
from common.seasons import Season, current_season
from common.settings import Settings, get_settings
from common.storage import DataDir
from replay.server import inject_faults
from tests.services import PROJECT_ROOT, celery_workers, free_port, worker_env
from workers.fetch.recordings import bundled_recordings, seed_from_recordings
from workers.train.training import train_archetypes

APP = str(PROJECT_ROOT / "ui" / "app.py")
TRAINED_SEASONS = ["1996-97", "2004-05", "2018-19"]
KOBE = 977
RUN_TIMEOUT_S = 60


# --- Real data directories -----------------------------------------------------------------------


def seed_seasons(data: Path, seasons: list[str] | None = None) -> None:
    """Import bundled recordings into ``data`` exactly as the seed task does (all by default)."""
    settings = Settings(data_dir=data)
    folder = settings.recordings_dir
    with tempfile.TemporaryDirectory() as tmp:
        if seasons is not None:  # a folder holding only the wanted seasons' recordings
            wanted = {Season.parse(s) for s in seasons}
            for season, files in bundled_recordings(folder).items():
                for path in files.values() if season in wanted else ():
                    (Path(tmp) / path.name).symlink_to(path)
            folder = Path(tmp)
        seed_from_recordings(folder, DataDir(data), settings)


def build_champion_dir(data: Path, train_on: list[str], seed: list[str] | None = None) -> Path:
    """A data dir with seeded seasons and a champion trained on ``train_on``."""
    data.mkdir(parents=True, exist_ok=True)
    seed_seasons(data, seed)
    outcome = train_archetypes(Settings(data_dir=data), [Season.parse(s) for s in train_on])
    assert outcome.status == "promoted", outcome
    return data


def champion_artifacts(data: Path) -> tuple[pd.DataFrame, list[dict]]:
    settings = Settings(data_dir=data)
    champion = find_champion(settings)
    assert champion is not None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        assignments = pd.read_parquet(
            download_champion_artifact(settings, champion, ASSIGNMENTS_ARTIFACT, folder)
        )
        profiles = read_profiles(
            download_champion_artifact(settings, champion, PROFILES_ARTIFACT, folder)
        )
    return assignments, profiles


def shared_champion_dir(factory: pytest.TempPathFactory) -> Path:
    """All 27 bundled seasons and a champion trained on three of them (~20 s), built once per
    test session and shared by the UI test modules, which only read it."""
    root = factory.getbasetemp() / "ui-champion"
    if not (root / "built").exists():
        build_champion_dir(root / "data", TRAINED_SEASONS)
        (root / "built").touch()
    return root / "data"


@pytest.fixture(scope="module")
def champion_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_champion_dir(tmp_path_factory)


@pytest.fixture(scope="module")
def champion(champion_dir: Path) -> tuple[pd.DataFrame, list[dict]]:
    return champion_artifacts(champion_dir)


# --- Running the app -----------------------------------------------------------------------------


def _reset_caches() -> None:
    # Settings are read once per process and Streamlit's caches live in the process too.
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def use_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Point the app (settings read from the environment) at a data dir and other settings."""

    def use(data: Path, **env: str) -> None:
        monkeypatch.setenv("DATA_DIR", str(data))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        _reset_caches()

    yield use
    _reset_caches()


def open_app(**query: str | int) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT_S)
    for name, value in query.items():
        at.query_params[name] = str(value)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements: object) -> list[str]:
    return [str(e.value) for e in elements]  # type: ignore[attr-defined]


def all_text(at: AppTest) -> str:
    """Every piece of text the app put on the page, sidebar included."""
    parts = []
    for kind in ("title", "subheader", "header", "markdown", "caption", "info", "warning",
                 "error", "success"):  # fmt: skip
        parts += texts(at.get(kind))
    return "\n".join(parts)


# --- Archetypes ----------------------------------------------------------------------------------


def test_archetypes_page_shows_the_champions_archetypes(
    use_env: Callable[..., None], champion_dir: Path, champion: tuple[pd.DataFrame, list[dict]]
) -> None:
    assignments, profiles = champion
    use_env(champion_dir)
    at = open_app()

    assert texts(at.title) == ["Player archetypes"]
    assert at.caption[0].value.startswith(
        f"Champion model v1: {len(profiles)} archetypes found in {len(assignments):,} "
        "player-seasons (1996-97 to 2018-19)"
    )
    markdown = texts(at.markdown)
    cards = [m.strip("*") for m in markdown if re.fullmatch(r"\*\*[^*]+\*\*", m)]
    # One card per archetype, by name (row by row in 3 columns; AppTest lists column by
    # column): a new champion keeps each archetype's place and colour.
    names = sorted(p["name"] for p in profiles)
    assert cards == [name for column in range(3) for name in names[column::3]]
    # Cards give sizes that add up to every classified player-season.
    sizes = [int(m[1]) for c in texts(at.caption) if (m := re.fullmatch(r"(\d+) players \(.*", c))]
    assert sorted(sizes) == sorted(p["size"] for p in profiles)
    assert sum(sizes) == len(assignments)
    # Traits are written for people: "PTS/36 +1.5", not "PTS_PER36".
    traits = [m for m in markdown if m.startswith("Stands out by:")]
    assert len(traits) == len(profiles)
    assert not any("_PER36" in t or "_RATE" in t for t in traits)
    assert [s.value for s in at.selectbox] == ["All seasons"]
    assert len(at.get("vega_lite_chart")) == 3  # profile heatmap, map, era mix


def test_archetypes_season_filter_from_the_url(
    use_env: Callable[..., None], champion_dir: Path, champion: tuple[pd.DataFrame, list[dict]]
) -> None:
    assignments, _ = champion
    use_env(champion_dir)
    at = open_app(season="2004-05")

    assert at.selectbox[0].value == "2004-05"
    assert not at.warning
    season_players = assignments[assignments["SEASON"] == "2004-05"]
    sizes = [int(m[1]) for c in texts(at.caption) if (m := re.fullmatch(r"(\d+) players \(.*", c))]
    assert sum(sizes) == len(season_players)
    examples = [m for m in texts(at.markdown) if m.startswith("e.g. ")]
    assert examples
    assert all(re.findall(r"\((\d{4}-\d{2})\)", e) == ["2004-05"] * e.count("(") for e in examples)

    # Picking another season in the app writes it back to the URL (shareable link).
    at.selectbox[0].set_value("1996-97").run()
    assert at.query_params["season"] == "1996-97"


# --- Compare -------------------------------------------------------------------------------------


def test_compare_deep_link_kobe_2004_05_against_1996_97(
    use_env: Callable[..., None], champion_dir: Path, champion: tuple[pd.DataFrame, list[dict]]
) -> None:
    assignments, _ = champion
    use_env(champion_dir)
    at = open_app(page="compare", season="2004-05", player=KOBE, vs="1996-97")

    kobe = assignments[(assignments["PLAYER_ID"] == KOBE) & (assignments["SEASON"] == "2004-05")]
    archetype = kobe["ARCHETYPE_NAME"].item()
    assert texts(at.subheader) == [f"Kobe Bryant, 2004-05: {archetype}"]
    assert [s.value for s in at.selectbox] == ["2004-05", KOBE, "1996-97"]
    assert not at.warning

    similar = at.dataframe[0].value
    assert len(similar) == 10
    players_1996 = assignments[assignments["SEASON"] == "1996-97"]
    assert set(similar["PLAYER_NAME"]) <= set(players_1996["PLAYER_NAME"])
    assert "Kobe Bryant" not in set(similar["PLAYER_NAME"])  # his 1996-97 self is no scorer yet
    # Same archetype first (enough 1996-97 players share it to fill the list), best match first.
    assert (similar["ARCHETYPE_NAME"] == archetype).all()
    assert similar["SIMILARITY"].is_monotonic_decreasing
    assert 0 < similar["SIMILARITY"].min() <= similar["SIMILARITY"].max() <= 100
    # Nowhere near a center: Dikembe Mutombo is not among Kobe's 1996-97 matches.
    assert "Dikembe Mutombo" in set(players_1996["PLAYER_NAME"])
    assert "Dikembe Mutombo" not in set(similar["PLAYER_NAME"])
    assert len(at.get("vega_lite_chart")) == 1  # side-by-side key stats


def test_compare_without_a_player_asks_for_one(
    use_env: Callable[..., None], champion_dir: Path
) -> None:
    use_env(champion_dir)
    at = open_app(page="compare")
    assert texts(at.title) == ["Compare players across eras"]
    assert "Pick a player" in at.info[0].value
    assert at.selectbox[0].value == "2018-19"  # latest trained season by default
    assert not at.dataframe


# --- Data ----------------------------------------------------------------------------------------


def test_data_page_summary_filters_columns_and_csv(
    use_env: Callable[..., None], champion_dir: Path
) -> None:
    use_env(champion_dir)
    at = open_app(page="data", season="2004-05")

    summary = at.dataframe[0].value
    seeded = [str(s) for s in DataDir(champion_dir).cleaned_seasons()]
    assert len(seeded) == 27
    assert list(summary["season"]) == seeded
    assert summary["complete"].all()
    row = summary.set_index("season").loc["2004-05"]
    assert (row["players"], row["eligible"]) == (464, 336)

    assert at.selectbox[0].value == "2004-05"
    players = at.dataframe[1].value
    assert len(players) == 464
    assert at.caption[-1].value == "464 of 464 players"
    assert 45 < players["TS_PCT"].median() < 65  # shown as percentages, not 0.55
    assert [b.label for b in at.get("download_button")] == ["Download CSV"]

    at.text_input(key="data_name").set_value("kobe").run()
    assert list(at.dataframe[1].value["PLAYER_NAME"]) == ["Kobe Bryant"]
    assert at.caption[-1].value == "1 of 464 players"

    at.text_input(key="data_name").set_value("").run()
    at.multiselect[0].set_value(["LAL"]).run()  # teams
    assert set(at.dataframe[1].value["TEAM_ABBREVIATION"]) == {"LAL"}
    at.toggle[0].set_value(True).run()  # eligible only
    lakers = at.dataframe[1].value
    assert lakers["ELIGIBLE"].all()
    assert 0 < len(lakers) < 20

    at.multiselect[1].set_value(["PLAYER_NAME", "PTS_PER36"]).run()  # column picker
    assert list(at.dataframe[1].value.columns) == ["PLAYER_NAME", "PTS_PER36"]
    assert not at.exception


# --- Pipeline ------------------------------------------------------------------------------------


def test_pipeline_page_lists_the_training_and_offers_refreshes(
    use_env: Callable[..., None], champion_dir: Path
) -> None:
    use_env(champion_dir)
    at = open_app(page="pipeline")

    assert texts(at.title) == ["Pipeline"]
    assert not at.error  # the session's Redis answers
    runs = at.dataframe[0].value
    assert len(runs) == 1
    run = runs.iloc[0]
    assert run["seasons"] == "1996-97 … 2018-19 (3)"
    assert (run["model version"], run["promoted"], run["status"]) == ("1", True, "FINISHED")
    assert run["archetypes"] >= 5

    current = at.button(key="refresh_current")
    assert current.label == f"Refresh the current season ({current_season()})"
    assert not current.disabled
    assert at.button(key="refresh_2004-05").label == "2004-05 ✓"  # downloaded
    assert at.button(key=f"refresh_{current_season()}").label == str(current_season())


# --- Graceful states -----------------------------------------------------------------------------


def test_no_data_yet_explains_how_to_get_some(use_env: Callable[..., None], data_dir: Path) -> None:
    use_env(data_dir)
    for page in ("archetypes", "compare"):
        at = open_app(page=page)
        assert "No data yet" in at.info[0].value
        assert "Pipeline" in at.info[0].value
    at = open_app(page="data")
    assert "No season downloaded yet" in at.info[0].value
    at = open_app(page="pipeline")
    assert "No training yet." in texts(at.info)
    assert not at.button(key="refresh_current").disabled


@pytest.fixture(scope="module")
def cleaned_only_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("ui-cleaned") / "data"
    data.mkdir()
    seed_seasons(data, ["1996-97", "2004-05"])
    return data


def test_no_champion_yet(use_env: Callable[..., None], cleaned_only_dir: Path) -> None:
    use_env(cleaned_only_dir)
    assert not (cleaned_only_dir / "mlflow.db").exists()
    for page in ("archetypes", "compare"):
        at = open_app(page=page)
        assert "no model has been trained yet" in at.info[0].value
    at = open_app(page="data")
    assert list(at.dataframe[0].value["season"]) == ["1996-97", "2004-05"]
    at = open_app(page="pipeline")
    assert "No training yet." in texts(at.info)


def test_redis_unreachable(use_env: Callable[..., None], champion_dir: Path) -> None:
    use_env(champion_dir, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    at = open_app(page="pipeline")

    assert "The task queue (Redis) is unreachable" in at.error[0].value
    assert "Refreshing is disabled" in at.error[0].value
    buttons = [b for b in at.button if (b.key or "").startswith("refresh_")]
    assert len(buttons) == 1 + len(range(1996, current_season().start_year + 1))
    assert all(b.disabled for b in buttons)
    assert not at.dataframe[0].value.empty  # the trainings are read from MLflow, not Redis

    at = open_app()  # everything else works
    assert texts(at.title) == ["Player archetypes"]
    assert at.caption[0].value.startswith("Champion model v1")


COMPARE = "Compare players across eras"


@pytest.mark.parametrize(
    ("query", "bad", "title"),
    [
        ({"page": "nope"}, "nope", "Player archetypes"),
        ({"season": "1899-00"}, "1899-00", "Player archetypes"),
        ({"season": "banana"}, "banana", "Player archetypes"),
        ({"page": "compare", "season": "2010-11", "player": KOBE}, "2010-11", COMPARE),
        ({"page": "compare", "season": "2004-05", "player": "kobe"}, "kobe", COMPARE),
        ({"page": "compare", "season": "2004-05", "player": 1}, "1", COMPARE),
        ({"page": "compare", "season": "2004-05", "player": KOBE, "vs": "3000-01"}, "3000-01",
         COMPARE),
        ({"page": "data", "season": "2031-32"}, "2031-32", "Downloaded seasons"),
    ],
)  # fmt: skip
def test_invalid_url_values_warn_and_fall_back(
    use_env: Callable[..., None],
    champion_dir: Path,
    query: dict[str, str | int],
    bad: str,
    title: str,
) -> None:
    use_env(champion_dir)
    at = open_app(**query)  # no exception: checked by open_app
    assert texts(at.title) == [title]
    warnings = texts(at.warning)
    # One warning per bad value (a season not there also drops the player picked in it).
    assert any(f"'{bad}'" in w and "not available" in w for w in warnings), warnings


# --- Refreshes through real workers --------------------------------------------------------------


def _follow_until_done(at: AppTest, timeout_s: float) -> dict[str, object]:
    """Rerun the app like the progress fragment's timer does until the refresh ends."""
    deadline = time.monotonic() + timeout_s
    seen: set[tuple[str, str]] = set()  # (status label, state) shown along the way
    while time.monotonic() < deadline:
        assert not at.exception, [e.value for e in at.exception]
        seen |= {(status.label, status.state) for status in at.status}
        last = at.session_state.get("last_refresh")
        if last:
            return {**last, "seen": seen}
        time.sleep(0.5)
        at.run()
    raise TimeoutError(f"refresh not done after {timeout_s}s; page: {all_text(at)}")


def test_failed_refresh_says_why(
    use_env: Callable[..., None], cleaned_only_dir: Path, replay: str, tmp_path: Path
) -> None:
    env = worker_env(cleaned_only_dir, replay)
    use_env(cleaned_only_dir)
    inject_faults(replay, ["500"] * 3, season="2018-19")
    with celery_workers({"workers.fetch.tasks": "fetch"}, env, tmp_path):
        at = open_app(page="pipeline")
        at.button(key="refresh_2018-19").click().run()
        assert not at.exception
        last = _follow_until_done(at, timeout_s=60)

    assert ("Refresh 2018-19", "running") in last["seen"]  # progress was shown
    assert last["failed"] is True
    assert "Fetching 2018-19 failed" in str(last["message"])
    assert "failed 3 times for 2018-19 Regular Season: HTTP 500" in str(last["message"])
    assert texts(at.main.error) == [f"Last refresh (2018-19): {last['message']}"]
    assert not (cleaned_only_dir / "cleaned" / "2018-19.parquet").exists()
    # The buttons are usable again for another try.
    assert not at.button(key="refresh_2018-19").disabled


def test_refresh_trains_a_new_champion_that_the_app_shows(
    use_env: Callable[..., None], tmp_path: Path, replay: str
) -> None:
    data = build_champion_dir(tmp_path / "data", ["1996-97"], seed=["1996-97"])
    use_env(data)
    logs = tmp_path / "logs"
    logs.mkdir()
    env = worker_env(data, replay)
    with celery_workers(
        {"workers.fetch.tasks": "fetch", "workers.train.tasks": "train"}, env, logs
    ):
        at = open_app()
        assert at.caption[0].value.startswith("Champion model v1")
        at.sidebar.radio[0].set_value("pipeline").run()
        assert at.query_params["page"] == "pipeline"
        assert at.button(key="refresh_2018-19").label == "2018-19"  # not downloaded yet
        at.button(key="refresh_2018-19").click().run()
        assert not at.exception
        # While it runs, more refreshes wait for this one.
        assert at.button(key="refresh_current").disabled
        last = _follow_until_done(at, timeout_s=180)

    assert last["failed"] is False, last
    assert str(last["message"]).startswith("New champion v2 is live"), last
    assert ("Refresh 2018-19", "running") in last["seen"]
    assert texts(at.main.success) == [f"Last refresh (2018-19): {last['message']}"]
    assert at.button(key="refresh_2018-19").label == "2018-19 ✓"
    assert at.dataframe[0].value["model version"].tolist()[:2] == ["2", "1"]

    at.sidebar.radio[0].set_value("archetypes").run()
    assert not at.exception
    assert texts(at.title) == ["Player archetypes"]
    assert texts(at.sidebar.success) == [f"Last refresh (2018-19): {last['message']}"]
    assert at.caption[0].value.startswith("Champion model v2")
    assert "(1996-97 to 2018-19)" in at.caption[0].value
