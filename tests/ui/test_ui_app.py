"""The Streamlit app, run in-process with Streamlit's AppTest on real data.

Real parts only: the seasons are the bundled real recordings seeded the way the fetch worker
does, the champion is trained by the real training code into a real MLflow store in a temp
dir, Redis is the session's redis-server, refreshes go through real Celery worker processes
fetching from the replay server (the only stand-in: it speaks for stats.nba.com).
"""

from __future__ import annotations

import json
import math
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

from common.backup import backup, restore
from common.champion import (
    ASSIGNMENTS_ARTIFACT,
    PROFILES_ARTIFACT,
    find_champion,
    read_profiles,
)
from common.seasons import Season, current_season
from common.settings import Settings, get_settings
from common.storage import DataDir
from common.style import STYLE_FEATURES
from common.task_status import task_status
from devkit.services import kill_worker
from replay.server import inject_faults
from tests.conftest import RECORDINGS
from tests.services import (
    BUTLER,
    PROJECT_ROOT,
    RENAMED_SEASONS,
    celery_workers,
    champion_artifact,
    free_port,
    seed_recordings,
    seed_seasons,
    wait_until,
    worker_env,
)
from ui.views.pipeline import ACTIVE
from workers.train.training import train_archetypes

APP = str(PROJECT_ROOT / "ui" / "app.py")
TRAINED_SEASONS = ["1996-97", "2004-05", "2018-19"]
KOBE, GIANNIS = 977, 203507
RUN_TIMEOUT_S = 60


# --- Real data directories -----------------------------------------------------------------------


def build_champion_dir(data: Path, train_on: list[str], seed: list[str] | None = None) -> Path:
    """A data dir with a champion trained on ``train_on``, then the ``seed`` seasons (all by
    default) imported: seasons downloaded after the last training, as after a backfill.

    Only a training on every stored season can become champion, so ``train_on`` is seeded
    and trained first, the rest is added after."""
    data.mkdir(parents=True, exist_ok=True)
    seed_seasons(data, train_on)
    outcome = train_archetypes(Settings(data_dir=data), [Season.parse(s) for s in train_on])
    assert outcome.status == "promoted", outcome
    seed_seasons(data, seed)  # seasons already there are left alone
    return data


def champion_artifacts(data: Path) -> tuple[pd.DataFrame, list[dict]]:
    settings = Settings(data_dir=data)
    champion = find_champion(settings)
    assert champion is not None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        assignments = pd.read_parquet(
            champion_artifact(settings, champion, ASSIGNMENTS_ARTIFACT, folder)
        )
        profiles = read_profiles(champion_artifact(settings, champion, PROFILES_ARTIFACT, folder))
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


def shared_renamed_dir(factory: pytest.TempPathFactory) -> Path:
    """A real rename (tests/services.RENAMED_SEASONS: "Jimmy Butler" in the 2018-19 pull of
    2019, "Jimmy Butler III" in the 2020-21 one of 2025) and a champion trained on both
    seasons (~20 s), built once per session and shared by the UI test modules."""
    root = factory.getbasetemp() / "ui-renamed"
    if not (root / "built").exists():
        seed_recordings(root / "data", RENAMED_SEASONS)
        outcome = train_archetypes(Settings(data_dir=root / "data"))
        assert outcome.status == "promoted", outcome
        (root / "built").touch()
    return root / "data"


@pytest.fixture(scope="module")
def renamed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_renamed_dir(tmp_path_factory)


def site_row(recording: str, player_id: int) -> dict[str, Any]:
    """One player's row of a raw recording, read with json alone (not the product's code)."""
    payload = json.loads((RECORDINGS / f"leaguedashplayerstats_{recording}.json").read_bytes())
    result = payload["resultSets"][0]
    rows = (dict(zip(result["headers"], row, strict=True)) for row in result["rowSet"])
    return next(row for row in rows if row["PLAYER_ID"] == player_id)


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


def champion_caption(at: AppTest) -> str:
    """The Archetypes page's line on the champion (its model, size and stability)."""
    return next(c.value for c in at.caption if c.value.startswith("Champion model "))


def all_text(at: AppTest) -> str:
    """Every piece of text the app put on the page, sidebar included."""
    parts = []
    for kind in ("title", "subheader", "header", "markdown", "caption", "info", "warning",
                 "error", "success"):  # fmt: skip
        parts += texts(at.get(kind))
    return "\n".join(parts)


def vega_specs(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]


def chart_data(at: AppTest, index: int) -> pd.DataFrame:
    """The table a chart draws (Streamlit ships it next to the spec, as Arrow)."""
    datasets = at.get("vega_lite_chart")[index].proto.datasets
    assert len(datasets) == 1
    return dataframe_util.convert_arrow_bytes_to_pandas_df(datasets[0].data.data)


def archetype_scales(spec: object) -> list[dict[str, Any]]:
    """Every colour scale a chart spec gives the archetype name."""
    found = []
    if isinstance(spec, dict):
        color = spec.get("color")
        if isinstance(color, dict) and color.get("field") == "ARCHETYPE_NAME":
            found.append(color.get("scale"))
        for value in spec.values():
            found += archetype_scales(value)
    elif isinstance(spec, list):
        for value in spec:
            found += archetype_scales(value)
    return found


def profile_scale(profiles: list[dict]) -> dict[str, list[str]]:
    """What every archetype colour scale must be: the profiles' own colours, by name."""
    ordered = sorted(profiles, key=lambda p: p["name"])
    return {"domain": [p["name"] for p in ordered], "range": [p["color"] for p in ordered]}


def player_row(assignments: pd.DataFrame, player_id: int, season: str) -> pd.Series:
    rows = assignments[(assignments["PLAYER_ID"] == player_id) & (assignments["SEASON"] == season)]
    assert len(rows) == 1
    return rows.iloc[0]


# The style features as the app's tables head them, written out here (not imported).
SHORT = {
    "FGA_PER36": "FGA/36", "FG3A_RATE": "3PA share", "FTA_RATE": "FTA rate",
    "AST_PER36": "AST/36", "TOV_PER36": "TOV/36", "OREB_PER36": "OREB/36",
    "DREB_PER36": "DREB/36", "STL_PER36": "STL/36", "BLK_PER36": "BLK/36", "PF_PER36": "PF/36",
}  # fmt: skip


def nearest(
    assignments: pd.DataFrame, player: pd.Series, season: str | None = None, n: int = 10
) -> pd.DataFrame:
    """The expected answer, in plain NumPy: the ``n`` other players nearest to ``player`` by
    Euclidean distance over the ``Z_`` (style) and ``SKILL_`` (shooting) columns, whatever
    their archetype, each at his nearest season, with the two features closest (``CLOSEST``)
    and farthest (``FARTHEST``) apart."""
    z = [c for c in assignments.columns if c.startswith("Z_")]
    assert len(z) == len(STYLE_FEATURES)
    z += ["SKILL_FG3_PCT", "SKILL_FT_PCT"]
    pool = assignments[assignments["PLAYER_ID"] != player["PLAYER_ID"]]
    if season is not None:
        pool = pool[pool["SEASON"] == season]
    gaps = np.abs(pool[z].to_numpy(dtype=float) - player[z].to_numpy(dtype=float))
    distance = np.sqrt((gaps**2).sum(axis=1))
    order = np.argsort(distance, kind="stable")
    _, first = np.unique(pool["PLAYER_ID"].to_numpy()[order], return_index=True)
    order = order[np.sort(first)][:n]  # each player at his nearest season
    short = {**SHORT, "FG3_PCT": "3P shooting", "FT_PCT": "FT shooting"}  # the skills
    names = [short[c.removeprefix("Z_").removeprefix("SKILL_")] for c in z]
    # A skill both have within 0.5 of the middle (where those who rarely shot sit) is never
    # named closest.
    values = pool[z].to_numpy(dtype=float)[order]
    ordinary = (np.abs(values) < 0.5) & (np.abs(player[z].to_numpy(dtype=float)) < 0.5)
    ordinary[:, : len(STYLE_FEATURES)] = False
    eligible = np.where(ordinary, np.inf, gaps[order])
    return pool.iloc[order].assign(
        DISTANCE=distance[order],
        CLOSEST=[", ".join(names[i] for i in np.argsort(g, kind="stable")[:2]) for g in eligible],
        FARTHEST=[", ".join(names[i] for i in np.argsort(g)[::-1][:2]) for g in gaps[order]],
    )


# --- Archetypes ----------------------------------------------------------------------------------

CARD = re.compile(r'(?:<span style="color:(#[0-9a-fA-F]{6})">■</span> )?\*\*([^*]+)\*\*')


def test_archetypes_page_shows_the_champions_archetypes(
    use_env: Callable[..., None], champion_dir: Path, champion: tuple[pd.DataFrame, list[dict]]
) -> None:
    assignments, profiles = champion
    use_env(champion_dir)
    at = open_app()

    assert texts(at.title) == ["Player archetypes"]
    caption = champion_caption(at)
    assert caption.startswith(
        f"Champion model v1: {len(profiles)} archetypes found in {len(assignments):,} "
        "player-seasons (1996-97 to 2018-19) from 10 style features."
    )
    # Stability is the quality shown, with the champion run's own figures; not silhouette.
    metrics = find_champion(Settings(data_dir=champion_dir)).metrics  # type: ignore[union-attr]
    assert "min_jaccard" in metrics
    assert "silhouette" not in caption
    assert f"{metrics['min_jaccard']:.2f}" in caption
    assert ("Each archetype is stable" in caption) == (metrics["min_jaccard"] >= 0.75)
    assert f"ARI {metrics['seed_ari']:.2f}" in caption
    markdown = texts(at.markdown)
    cards = [m for m in (CARD.fullmatch(text) for text in markdown) if m]
    # One card per archetype, by name (row by row in 3 columns; AppTest lists column by
    # column): a new champion keeps each archetype's place and colour.
    names = sorted(p["name"] for p in profiles)
    assert [m[2] for m in cards] == [name for column in range(3) for name in names[column::3]]
    colors = {p["name"]: p["color"] for p in profiles}
    assert all(m[1] == colors[m[2]] for m in cards)  # each card's swatch: its profile colour
    # Cards give sizes that add up to every classified player-season.
    sizes = [
        int(m[1]) for c in texts(at.caption) if (m := re.fullmatch(r"(\d+) player-seasons \(.*", c))
    ]
    assert sorted(sizes) == sorted(p["size"] for p in profiles)
    assert sum(sizes) == len(assignments)
    # Traits are written for people: "AST/36 +1.5 sigma", not "AST_PER36" or "Z_AST_PER36".
    traits = [m for m in markdown if m.startswith("Stands out by:")]
    assert len(traits) == len(profiles)
    assert not any("_PER36" in t or "_RATE" in t for t in traits)
    # Examples are core members (90 %+ of their style in it) taking turns by era, newest
    # first: the first is the core member with the most minutes of 2016-22.
    examples = [m for m in markdown if m.startswith("e.g. ")]
    assert len(examples) == len(cards)
    ids = {p["name"]: p["id"] for p in profiles}
    for card, example in zip(cards, examples, strict=True):
        members = assignments[assignments["ARCHETYPE_NAME"] == card[2]]
        core = members[members[f"MEMBERSHIP_{ids[card[2]]}"] >= 0.9]
        newest = core[core["SEASON"].str[:4].astype(int) >= 2016]
        minutes = newest["GP"] * newest["MIN_PER_GAME"]
        assert example.startswith(f"e.g. {newest.loc[minutes.idxmax(), 'PLAYER_NAME']} (")
    # The profiles the training logged name core members too (for MLflow's readers).
    for profile in profiles:
        assert len(profile["examples"]) == 5, profile["name"]
        for example in profile["examples"]:
            name, season = re.fullmatch(r"(.+) \((\d{4}-\d{2})\)", example).groups()
            row = assignments[
                (assignments["PLAYER_NAME"] == name) & (assignments["SEASON"] == season)
            ]
            assert row[f"MEMBERSHIP_{profile['id']}"].iloc[0] >= 0.9, example
    assert [s.value for s in at.selectbox] == ["All seasons"]
    specs = vega_specs(at)
    assert len(specs) == 3  # what sets them apart (style features), map, era mix
    heatmap = chart_data(at, 0)
    assert set(heatmap["Stat"]) == set(SHORT.values())  # the 10 style features
    assert set(heatmap["Archetype"]) == set(names)
    for z, shown in zip(heatmap["z"], heatmap["shown"], strict=True):  # one decimal, signed
        assert re.fullmatch(r"[+-]\d+\.\d", shown), shown
        assert shown != "-0.0"
        assert abs(float(shown) - z) <= 0.05 + 1e-9, (z, shown)


def test_archetype_colours_come_from_the_profiles(
    use_env: Callable[..., None], champion_dir: Path, champion: tuple[pd.DataFrame, list[dict]]
) -> None:
    assignments, profiles = champion
    assert all(re.fullmatch(r"#[0-9a-f]{6}", p["color"], re.IGNORECASE) for p in profiles)
    assert len({p["color"] for p in profiles}) == len(profiles)
    use_env(champion_dir)
    expected = profile_scale(profiles)

    at = open_app()
    scales = [s for spec in vega_specs(at) for s in archetype_scales(spec)]
    assert len(scales) == 2  # the map and the era mix
    assert all(scale == expected for scale in scales), scales
    # The map: one point per player-season at its X/Y, named by its archetype.
    points = chart_data(at, 1)
    assert len(points) == len(assignments)
    assert set(points["ARCHETYPE_NAME"]) <= set(expected["domain"])

    at = open_app(page="compare", season="2004-05", player=KOBE)
    scales = [s for spec in vega_specs(at) for s in archetype_scales(spec)]
    assert scales == [expected]  # the career timeline


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


def test_stability_note_without_figures_says_nothing() -> None:
    from ui.views.archetypes import stability_note

    assert stability_note({}) == ""
    assert stability_note({"min_jaccard": math.nan}) == ""
    weak = stability_note({"min_jaccard": 0.6})
    assert "least stable" in weak
    assert "0.60" in weak


# --- Compare -------------------------------------------------------------------------------------

SIMILAR_COLUMNS = [
    "PLAYER_NAME", "SEASON", "TEAM_ABBREVIATION", "ARCHETYPE_NAME", "SIMILARITY", "CLOSEST",
    "FARTHEST", *SHORT,
]  # fmt: skip


def assert_similar_table(at: AppTest, expected: pd.DataFrame) -> pd.DataFrame:
    similar = at.dataframe[0].value
    assert list(similar.columns) == SIMILAR_COLUMNS  # the features used are in the table
    assert list(zip(similar["PLAYER_NAME"], similar["SEASON"], strict=True)) == list(
        zip(expected["PLAYER_NAME"], expected["SEASON"], strict=True)
    )
    assert list(similar["ARCHETYPE_NAME"]) == list(expected["ARCHETYPE_NAME"])
    assert list(similar["CLOSEST"]) == list(expected["CLOSEST"])
    assert list(similar["FARTHEST"]) == list(expected["FARTHEST"])
    assert similar["SIMILARITY"].is_monotonic_decreasing
    assert 0 < similar["SIMILARITY"].min() <= similar["SIMILARITY"].max() <= 100
    # Feature values as a reader reads them: AST/36 as is, the 3PA share in percent.
    assert np.allclose(similar["AST_PER36"], expected["AST_PER36"])
    assert np.allclose(similar["FG3A_RATE"], 100 * expected["FG3A_RATE"])
    return similar


def test_compare_finds_similar_players_across_all_eras_with_a_season_filter(
    use_env: Callable[..., None], champion_dir: Path, champion: tuple[pd.DataFrame, list[dict]]
) -> None:
    assignments, _ = champion
    use_env(champion_dir)
    at = open_app(page="compare", season="2004-05", player=KOBE)

    kobe = player_row(assignments, KOBE, "2004-05")
    assert texts(at.subheader) == [f"Kobe Bryant, 2004-05: {kobe['ARCHETYPE_NAME']}"]
    assert [s.value for s in at.selectbox] == ["2004-05", KOBE, "All seasons"]  # the default
    assert at.query_params["vs"] == "All seasons"
    assert not at.warning
    assert "**Most similar players across all seasons**" in texts(at.markdown)
    # The features compared are named on the page, in words.
    page = all_text(at)
    assert all(words in page for words in STYLE_FEATURES.values())

    # Nearest first over every season (not "same archetype first"), never his own seasons.
    expected = nearest(assignments, kobe)
    similar = assert_similar_table(at, expected)
    assert len(similar) == 10
    assert "Kobe Bryant" not in set(similar["PLAYER_NAME"])
    assert len(at.get("vega_lite_chart")) == 2  # career timeline, style side by side
    # Side by side: his style and his shooting, each a percentile within his own season.
    specs = vega_specs(at)
    bars = chart_data(at, next(i for i, s in enumerate(specs) if "xOffset" in s["encoding"]))
    mine = bars[bars["LABEL"] == "Kobe Bryant 2004-05"].set_index("feature")
    assert list(mine.index) == [*SHORT.values(), "3P shooting", "FT shooting"]
    season = assignments[assignments["SEASON"] == "2004-05"]["SKILL_FG3_PCT"].to_numpy()
    below = (season < kobe["SKILL_FG3_PCT"]).sum() + 0.5 * (season == kobe["SKILL_FG3_PCT"]).sum()
    assert mine.loc["3P shooting", "percentile"] == pytest.approx(100 * below / len(season))
    assert mine.loc["3P shooting", "value"] == f"{kobe['FG3_PCT']:.0%}"  # his own 3P%

    # The season filter: the same question asked of one season, kept in the URL.
    at.selectbox[2].set_value("1996-97").run()
    assert not at.exception
    assert at.query_params["vs"] == "1996-97"
    assert "**Most similar players in 1996-97**" in texts(at.markdown)
    similar = assert_similar_table(at, nearest(assignments, kobe, season="1996-97"))
    assert set(similar["SEASON"]) == {"1996-97"}
    # Nowhere near a center: Dikembe Mutombo is not among Kobe's 1996-97 matches.
    players_1996 = assignments[assignments["SEASON"] == "1996-97"]
    assert "Dikembe Mutombo" in set(players_1996["PLAYER_NAME"])
    assert "Dikembe Mutombo" not in set(similar["PLAYER_NAME"])

    # A shared link with a season filter opens on it.
    at = open_app(page="compare", season="2004-05", player=KOBE, vs="1996-97")
    assert at.selectbox[2].value == "1996-97"
    assert set(at.dataframe[0].value["SEASON"]) == {"1996-97"}


def test_compare_shows_memberships_and_the_career_timeline(
    use_env: Callable[..., None], champion_dir: Path, champion: tuple[pd.DataFrame, list[dict]]
) -> None:
    assignments, profiles = champion
    use_env(champion_dir)
    at = open_app(page="compare", season="2004-05", player=KOBE)

    # His style mix: every archetype share of at least 5 %, largest first, from the stored
    # membership columns (which add up to 1 for every player-season).
    membership = [f"MEMBERSHIP_{p['id']}" for p in profiles]
    assert np.allclose(assignments[membership].sum(axis=1), 1.0)
    kobe = player_row(assignments, KOBE, "2004-05")
    shares = sorted(((kobe[f"MEMBERSHIP_{p['id']}"], p["name"]) for p in profiles), reverse=True)
    mix = ", ".join(f"{share:.0%} {name}" for share, name in shares if share >= 0.05)
    assert f"**Style mix:** {mix}" in texts(at.markdown)
    assert mix.startswith(f"{shares[0][0]:.0%} {kobe['ARCHETYPE_NAME']}")
    # What sets him apart from his archetype's centre: up to three of his style features at
    # least one league standard deviation from it, largest first.
    [centre] = [p["centroid"] for p in profiles if p["name"] == kobe["ARCHETYPE_NAME"]]
    gaps = sorted(((kobe[f"Z_{f}"] - c, f) for f, c in centre.items()), key=lambda g: -abs(g[0]))
    told = [(gap, f) for gap, f in gaps if abs(round(gap, 1)) >= 1][:3]
    unlike = [m for m in texts(at.markdown) if m.startswith(("**Unlike a typical", "**Close to"))]
    if told:
        assert unlike[0].startswith(f"**Unlike a typical {kobe['ARCHETYPE_NAME']}:** ")
        for gap, feature in told:
            assert f"{STYLE_FEATURES[feature]} " in unlike[0]
            assert f"({gap:+.1f})" in unlike[0]
    else:
        assert unlike == [
            f"**Close to a typical {kobe['ARCHETYPE_NAME']}** in every part of his style."
        ]

    # The career timeline: one stacked bar per classified season, his shares as stored.
    career = assignments[assignments["PLAYER_ID"] == KOBE].sort_values("SEASON")
    assert len(career) >= 2
    specs = vega_specs(at)
    timeline = next(i for i, s in enumerate(specs) if s["encoding"]["y"]["field"] == "SHARE")
    assert specs[timeline]["encoding"]["x"]["field"] == "SEASON"
    assert specs[timeline]["encoding"]["y"]["stack"] == "zero"
    drawn = chart_data(at, timeline)
    assert sorted(drawn["SEASON"].unique()) == list(career["SEASON"])
    names = {p["name"]: f"MEMBERSHIP_{p['id']}" for p in profiles}
    stored = career.set_index("SEASON")
    for season, name, share in zip(
        drawn["SEASON"], drawn["ARCHETYPE_NAME"], drawn["SHARE"], strict=True
    ):
        assert share == pytest.approx(stored.loc[season, names[name]]), (season, name)
    for season, row in stored.iterrows():  # every share that shows is drawn
        visible = {n for n, column in names.items() if row[column] >= 0.01}
        assert visible <= set(drawn.loc[drawn["SEASON"] == season, "ARCHETYPE_NAME"])
    # ... and his primary archetype, season by season (runs of the same one merged).
    runs: list[list[str]] = []
    for season, archetype in zip(career["SEASON"], career["ARCHETYPE_NAME"], strict=True):
        if runs and runs[-1][2] == archetype:
            runs[-1][1] = season
        else:
            runs.append([season, season, archetype])
    primary = " · ".join(
        f"{first}: {name}" if first == last else f"{first} to {last}: {name}"
        for first, last, name in runs
    )
    assert f"**Primary archetype:** {primary}" in texts(at.markdown)


def test_compare_without_a_player_asks_for_one(
    use_env: Callable[..., None], champion_dir: Path
) -> None:
    use_env(champion_dir)
    at = open_app(page="compare")
    assert texts(at.title) == ["Compare players across eras"]
    assert "Pick a player" in at.info[0].value
    assert at.selectbox[0].value == "2018-19"  # latest trained season by default
    assert not at.dataframe
    assert not at.get("vega_lite_chart")


# --- The league and its teams --------------------------------------------------------------------

LEAGUE = "How the league's roles changed"
TEAMS = "Teams by archetype"
SHIFT = re.compile(
    r"(?P<who>.+?) (?P<verb>grew|shrank|emerged:|all but vanished:) from (?P<start>under 1|\d+) % "
    r"of minutes in (?P<start_season>\d{4}-\d{2}) to (?P<end>under 1|\d+) % in "
    r"(?P<end_season>\d{4}-\d{2})\."
)


def minute_shares(assignments: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The expected mixes, in plain pandas: regular-season minutes (games x minutes per game)
    by ``keys`` and primary archetype, as shares of each row's total."""
    minutes = assignments.assign(M=assignments["GP"] * assignments["MIN_PER_GAME"])
    table = minutes.pivot_table(index=keys, columns="ARCHETYPE_NAME", values="M", aggfunc="sum")
    table = table.fillna(0.0)
    return table.div(table.sum(axis=1), axis=0)


def test_league_page_tells_the_shifts_and_opens_a_season(
    use_env: Callable[..., None], champion_dir: Path, champion: tuple[pd.DataFrame, list[dict]]
) -> None:
    assignments, profiles = champion
    shares = minute_shares(assignments, ["SEASON"])
    use_env(champion_dir)
    at = open_app(page="league")

    assert texts(at.title) == [LEAGUE]
    assert not at.warning
    assert texts(at.subheader)[:2] == [
        "The biggest shifts",
        "Who got the minutes, season by season",
    ]
    # Each shift: a sentence whose numbers are the shares, the role's widest move.
    bullets = at.markdown[0].value.splitlines()
    assert bullets
    for bullet in bullets:
        found = SHIFT.fullmatch(bullet.removeprefix("- "))
        assert found, bullet
        archetype = next(p["name"] for p in profiles if p["name"] in found["who"])
        start = shares.loc[found["start_season"], archetype]
        end = shares.loc[found["end_season"], archetype]
        assert found["start_season"] < found["end_season"]
        assert (0.004 if found["start"] == "under 1" else int(found["start"]) / 100) == (
            pytest.approx(start, abs=0.005)
        )
        assert int(found["end"]) / 100 == pytest.approx(end, abs=0.005)
        assert (found["verb"] in ("grew", "emerged:")) == (end > start)
        values = shares[archetype].to_numpy()
        widest = max(abs(values[j] - values[i]) for j in range(len(values)) for i in range(j))
        assert abs(end - start) == pytest.approx(widest)

    # The chart: every season stacked by archetype, in the profiles' colours, clickable.
    (spec,) = vega_specs(at)
    assert archetype_scales(spec) == [profile_scale(profiles)]
    assert [p["name"] for p in spec["params"]] == ["season_pick"]
    assert spec["params"][0]["select"]["fields"] == ["SEASON"]
    drawn = chart_data(at, 0)
    assert sorted(drawn["SEASON"].unique()) == TRAINED_SEASONS
    for season, name, share in zip(drawn["SEASON"], drawn["ARCHETYPE_NAME"], drawn["SHARE"],
                                   strict=True):  # fmt: skip
        assert share == pytest.approx(shares.loc[season].get(name, 0.0)), (season, name)

    # The latest season is open: its mix beside the one before, its teams.
    assert at.selectbox[0].value == "2018-19"
    assert at.query_params["season"] == "2018-19"
    assert "2018-19: what was new" in texts(at.subheader)
    mix = at.dataframe[0].value.set_index("ARCHETYPE_NAME")
    for archetype, row in mix.iterrows():
        assert row["SHARE"] == pytest.approx(100 * shares.loc["2018-19", archetype])
        assert row["PREVIOUS"] == pytest.approx(100 * shares.loc["2004-05", archetype])
    season = assignments[assignments["SEASON"] == "2018-19"]
    assert at.dataframe[1].value["TEAM"].tolist() == sorted(season["TEAM_ABBREVIATION"].unique())

    # Another season, picked: the URL follows; the first one has nothing before it.
    at.selectbox[0].set_value("1996-97").run()
    assert at.query_params["season"] == "1996-97"
    assert "1996-97: what was new" in texts(at.subheader)
    assert "The first stored season: nothing before it to compare with." in texts(at.markdown)
    assert "PREVIOUS" not in at.dataframe[0].value.columns
    assert chart_data(at, 0)["SEASON"].nunique() == 3  # the chart still shows every season

    # A team of that season opens the Teams page on it.
    at.selectbox(key="league_open_team").set_value("CHI").run()
    assert not at.exception
    assert texts(at.title) == [TEAMS]
    assert texts(at.subheader)[0].startswith("CHI 1996-97: ")
    assert dict(at.query_params) == {"page": "team", "team": "CHI", "season": "1996-97"}


def test_a_click_on_the_league_chart_reads_its_season() -> None:
    from ui.views.league import clicked_season

    assert clicked_season({"selection": {"season_pick": [{"SEASON": "2004-05"}]}}) == "2004-05"
    assert clicked_season({"selection": {"season_pick": []}}) is None
    assert clicked_season({"selection": {}}) is None
    assert clicked_season(None) is None


def test_team_page_roster_mix_and_teams_built_alike(
    use_env: Callable[..., None], champion_dir: Path, champion: tuple[pd.DataFrame, list[dict]]
) -> None:
    assignments, profiles = champion
    use_env(champion_dir)
    at = open_app(page="team", team="gsw", season="2018-19")  # case optional

    assert texts(at.title) == [TEAMS]
    assert not at.warning
    assert at.query_params["team"] == "GSW"
    roster = assignments[
        (assignments["TEAM_ABBREVIATION"] == "GSW") & (assignments["SEASON"] == "2018-19")
    ]
    minutes = roster["GP"] * roster["MIN_PER_GAME"]
    assert texts(at.subheader) == [
        f"GSW 2018-19: {len(roster)} classified players, {minutes.sum():,.0f} regular-season "
        "minutes"
    ]
    table = at.dataframe[0].value
    assert sorted(table["PLAYER_NAME"]) == sorted(roster["PLAYER_NAME"])
    assert "Stephen Curry" in set(table["PLAYER_NAME"])
    assert table["SHARE"].sum() == pytest.approx(100)
    archetypes = dict(zip(roster["PLAYER_NAME"], roster["ARCHETYPE_NAME"], strict=True))
    assert dict(zip(table["PLAYER_NAME"], table["ARCHETYPE_NAME"], strict=True)) == archetypes
    # Grouped by archetype: each archetype's players together, the team's biggest first.
    groups = list(dict.fromkeys(table["ARCHETYPE_NAME"]))
    assert len(groups) == table["ARCHETYPE_NAME"].nunique()
    by_group = table.groupby("ARCHETYPE_NAME")["SHARE"].sum()
    assert by_group[groups].is_monotonic_decreasing

    # The chart: the team's mix beside the league's that season, archetype by archetype.
    teams = minute_shares(assignments, ["TEAM_ABBREVIATION", "SEASON"])
    league = minute_shares(assignments, ["SEASON"]).loc["2018-19"]
    (spec,) = vega_specs(at)
    assert archetype_scales(spec) == [profile_scale(profiles)]
    drawn = chart_data(at, 0)
    for who, name, share in zip(drawn["WHO"], drawn["ARCHETYPE_NAME"], drawn["SHARE"],
                                strict=True):  # fmt: skip
        expected = teams.loc[("GSW", "2018-19")] if who == "GSW 2018-19" else league
        assert who in {"GSW 2018-19", "League 2018-19"}
        assert share == pytest.approx(expected.get(name, 0.0)), (who, name)

    # Built alike: share of minutes in the same archetypes, other teams, any season.
    target = teams.loc[("GSW", "2018-19")].to_numpy()
    others = teams[teams.index.get_level_values(0) != "GSW"]
    overlap = np.minimum(others.to_numpy(), target).sum(axis=1)
    expected = others.assign(OVERLAP=overlap).sort_values("OVERLAP", ascending=False).head(5)
    labels = [f"{team} {season}" for team, season in expected.index]
    assert [b.label for b in at.main.button] == labels
    alike = [m for m in texts(at.markdown) if m.endswith(" alike**")]
    assert alike == [f"**{round(100 * o)} % alike**" for o in expected["OVERLAP"]]

    # Each opens: the page of that team-season, in the URL.
    team, season = expected.index[0]
    at.main.button[0].click().run()
    assert not at.exception
    assert texts(at.subheader)[0].startswith(f"{team} {season}: ")
    assert (at.query_params["team"], at.query_params["season"]) == (team, season)
    assert [s.value for s in at.selectbox] == [season, team]


def test_team_page_follows_a_franchise_through_its_names(
    use_env: Callable[..., None], champion_dir: Path
) -> None:
    use_env(champion_dir)
    okc = site_row("2018-19_regular_pergame", 201566)  # Russell Westbrook: OKC then
    sonics = site_row("2004-05_regular_pergame", 951)  # Ray Allen: Seattle then
    assert (okc["TEAM_ID"], okc["TEAM_ABBREVIATION"]) == (sonics["TEAM_ID"], "OKC")
    at = open_app(page="team", team="okc", season="2004-05")
    assert not at.exception
    assert texts(at.subheader)[0].startswith("SEA 2004-05: ")
    assert at.query_params["team"] == "SEA"
    at.selectbox[0].set_value("2018-19").run()  # another season: the same franchise
    assert texts(at.subheader)[0].startswith("OKC 2018-19: ")
    assert [s.value for s in at.selectbox] == ["2018-19", "OKC"]


def test_a_team_link_that_names_no_team_says_why(
    use_env: Callable[..., None], champion_dir: Path
) -> None:
    use_env(champion_dir)
    at = open_app(page="team", team="Warriors", season="2018-19")
    assert not at.exception
    [warning] = texts(at.warning)
    assert warning.startswith("The link asks for team 'Warriors', which is not available here (")
    assert "a team goes by the abbreviation the site gives it (GSW for Golden State)" in warning


def test_team_page_without_a_team_asks_for_one(
    use_env: Callable[..., None], champion_dir: Path
) -> None:
    use_env(champion_dir)
    at = open_app(page="team")
    assert texts(at.title) == [TEAMS]
    assert "Pick a team" in at.info[0].value
    assert at.selectbox[0].value == "2018-19"
    assert not at.get("vega_lite_chart")


def test_compare_opens_the_players_team_season(
    use_env: Callable[..., None], champion_dir: Path
) -> None:
    use_env(champion_dir)
    at = open_app(page="compare", season="2004-05", player=KOBE)
    button = at.button(key="open_team")
    assert button.label == "LAL 2004-05 roster by archetype →"
    button.click().run()
    assert not at.exception
    assert texts(at.title) == [TEAMS]
    assert texts(at.subheader)[0].startswith("LAL 2004-05: ")
    # The compare page's player and vs are left behind: the link is the team-season's.
    assert dict(at.query_params) == {"page": "team", "team": "LAL", "season": "2004-05"}
    assert at.sidebar.radio[0].value == "team"


def test_compare_shows_each_segments_shooting_as_the_site_gives_it(
    use_env: Callable[..., None], champion_dir: Path
) -> None:
    """Issue 17: Giannis Antetokounmpo's 2018-19 3P% was shown as 28.1 % (regular season and
    playoffs folded, playoffs x 2) where the site says 25.6 % for the regular season."""
    regular = site_row("2018-19_regular_pergame", GIANNIS)
    playoffs = site_row("2018-19_playoffs_per36", GIANNIS)
    use_env(champion_dir)
    at = open_app(page="compare", season="2018-19", player=GIANNIS)

    captions = texts(at.caption)
    [season_line] = [c for c in captions if c.startswith("MIL · Regular season: ")]
    assert season_line.startswith(f"MIL · Regular season: {regular['GP']} games, ")
    for name, column in (("FG", "FG_PCT"), ("3P", "FG3_PCT"), ("FT", "FT_PCT")):
        assert f" · {name} {regular[column]:.1%}" in season_line, (name, season_line)
    assert " · 3P 25.6%" in season_line  # the figure the site shows
    [playoff_line] = [c for c in captions if c.startswith("Playoffs: ")]
    assert playoff_line.startswith(f"Playoffs: {playoffs['GP']} games, ")
    for name, column in (("FG", "FG_PCT"), ("3P", "FG3_PCT"), ("FT", "FT_PCT")):
        assert f" · {name} {playoffs[column]:.1%}" in playoff_line, (name, playoff_line)
    [blended] = [c for c in captions if c.startswith("Per 36, ")]
    assert blended.startswith("Per 36, blended, playoffs ×2: ")
    assert "28.1%" not in all_text(at)  # the blended 3P% is shown nowhere

    # A season without playoff games has no playoff line (Kobe, 2004-05).
    at = open_app(page="compare", season="2004-05", player=KOBE)
    assert not [c for c in texts(at.caption) if c.startswith("Playoffs: ")]
    assert [c for c in texts(at.caption) if c.startswith("LAL · Regular season: ")]


def test_one_player_one_career_under_his_latest_name(
    use_env: Callable[..., None], renamed_dir: Path
) -> None:
    """Issue 17: after 2020-21 was fetched again, "Jimmy Butler" (2018-19, as pulled in 2019)
    and "Jimmy Butler III" (2020-21) were two careers."""
    assignments, _ = champion_artifacts(renamed_dir)
    butler = assignments[assignments["PLAYER_ID"] == BUTLER].set_index("SEASON")
    assert sorted(butler.index) == ["2018-19", "2020-21"]  # both seasons classified
    use_env(renamed_dir)
    at = open_app(page="compare", season="2018-19", player=BUTLER)

    assert texts(at.subheader) == [
        f"Jimmy Butler III, 2018-19: {butler.loc['2018-19', 'ARCHETYPE_NAME']}"
    ]
    assert "**Jimmy Butler III's career, season by season**" in texts(at.markdown)
    [career] = [c for c in texts(at.caption) if c.startswith("His style mix in each of his 2 ")]
    assert career.endswith(" Listed as Jimmy Butler in 2018-19.")
    # His career: both seasons, whatever the site called him in each.
    specs = vega_specs(at)
    timeline = next(i for i, s in enumerate(specs) if s["encoding"]["y"]["field"] == "SHARE")
    assert sorted(chart_data(at, timeline)["SEASON"].unique()) == ["2018-19", "2020-21"]
    [runs] = [m for m in texts(at.markdown) if m.startswith("**Primary archetype:** ")]
    assert "2018-19" in runs
    assert "2020-21" in runs
    # The player box: his latest name, the older one searchable beside it.
    box = at.selectbox[1]
    assert box.value == BUTLER
    assert box.format_func(BUTLER) == "Jimmy Butler III (PHI), also Jimmy Butler"
    # Who played like him: never himself, under either name.
    similar = at.dataframe[0].value
    assert len(similar) == 10
    assert not set(similar["PLAYER_NAME"]) & {"Jimmy Butler", "Jimmy Butler III"}
    at.selectbox[2].set_value("2020-21").run()  # only his other season's players
    similar = at.dataframe[0].value
    assert set(similar["SEASON"]) == {"2020-21"}
    assert not set(similar["PLAYER_NAME"]) & {"Jimmy Butler", "Jimmy Butler III"}

    # Another season keeps the same player (the URL keys him by id).
    at.selectbox[0].set_value("2020-21").run()
    assert at.selectbox[1].value == BUTLER
    assert at.query_params["player"] == str(BUTLER)
    assert texts(at.subheader)[0].startswith("Jimmy Butler III, 2020-21: ")
    assert [c for c in texts(at.caption) if c.endswith(" Listed as Jimmy Butler in 2018-19.")]

    # The map and the archetype cards know one name only.
    at = open_app()
    points = chart_data(at, 1)
    assert (points["PLAYER_NAME"] == "Jimmy Butler III").sum() == 2
    assert "Jimmy Butler" not in set(points["PLAYER_NAME"])


def test_data_page_finds_a_player_by_any_name_he_had(
    use_env: Callable[..., None], renamed_dir: Path
) -> None:
    use_env(renamed_dir)
    at = open_app(page="data", season="2018-19")
    for name in ("Jimmy Butler III", "jimmy butler", "BUTLER III"):
        at.text_input(key="data_name").set_value(name).run()
        found = at.dataframe[1].value
        assert list(found["PLAYER_NAME"]) == ["Jimmy Butler III"], name  # his latest name
    at.multiselect[1].set_value(["PLAYER_NAME", "NAME_THAT_SEASON", "GP"]).run()
    row = at.dataframe[1].value.iloc[0]
    assert (row["PLAYER_NAME"], row["NAME_THAT_SEASON"]) == ("Jimmy Butler III", "Jimmy Butler")

    at = open_app(page="data", season="2020-21")
    at.text_input(key="data_name").set_value("Jimmy Butler").run()
    assert list(at.dataframe[1].value["PLAYER_NAME"]) == ["Jimmy Butler III"]


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
    assert 45 < players["REGULAR_TS_PCT"].median() < 65  # shown as percentages, not 0.55
    assert "TS_PCT" not in players.columns  # blended: not among the default columns
    # The style features the model uses are shown by default, and named as such.
    assert [c for c in players.columns if c in SHORT] == list(SHORT)
    assert at.caption[-2].value.startswith("Style features (archetypes and similar players")
    assert all(label in at.caption[-2].value for label in SHORT.values())
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


def test_data_page_shows_each_segments_shooting_and_labels_the_blend(
    use_env: Callable[..., None], champion_dir: Path
) -> None:
    regular = site_row("2018-19_regular_pergame", GIANNIS)
    playoffs = site_row("2018-19_playoffs_per36", GIANNIS)
    use_env(champion_dir)
    at = open_app(page="data", season="2018-19")
    columns = [
        "PLAYER_NAME", "REGULAR_FG3_PCT", "PLAYOFF_FG3_PCT", "FG3_PCT", "REGULAR_FG_PCT",
        "PLAYOFF_FG_PCT", "FG_PCT",
    ]  # fmt: skip
    at.multiselect[1].set_value(columns).run()
    at.text_input(key="data_name").set_value("Giannis").run()
    giannis = at.dataframe[1].value.iloc[0]
    assert giannis["PLAYER_NAME"] == "Giannis Antetokounmpo"
    # Shown in percent (x 100): the site's columns exactly.
    assert giannis["REGULAR_FG3_PCT"] == pytest.approx(100 * regular["FG3_PCT"])  # 25.6
    assert giannis["PLAYOFF_FG3_PCT"] == pytest.approx(100 * playoffs["FG3_PCT"])  # 32.7
    assert giannis["REGULAR_FG_PCT"] == pytest.approx(100 * regular["FG_PCT"])
    assert giannis["PLAYOFF_FG_PCT"] == pytest.approx(100 * playoffs["FG_PCT"])
    assert round(giannis["FG3_PCT"], 1) == 28.1  # the blend, shown only as such:
    headers = {c: v.get("label") for c, v in json.loads(at.dataframe[1].proto.columns).items()}
    assert headers["REGULAR_FG3_PCT"] == "3P% (regular season)"
    assert headers["PLAYOFF_FG3_PCT"] == "3P% (playoffs)"
    assert headers["FG3_PCT"] == "3P% (blended, playoffs ×2)"
    assert headers["FG_PCT"] == "FG% (blended, playoffs ×2)"
    assert "blended, playoffs ×2: the regular season and the playoffs together" in (
        at.caption[-2].value
    )


def test_older_data_without_segments_shows_the_blend_labelled(
    use_env: Callable[..., None], tmp_path: Path, champion: tuple[pd.DataFrame, list[dict]]
) -> None:
    """Tables and champions from before each segment's shooting was kept (built here by
    dropping those columns from real ones) show the blended figures, labelled as such."""
    from ui.views.compare import season_lines

    segment_columns = [f"{p}_{c}" for p in ("REGULAR", "PLAYOFF")
                       for c in ("FG_PCT", "FG3_PCT", "FT_PCT", "TS_PCT")]  # fmt: skip
    assignments, _ = champion
    kobe = player_row(assignments, KOBE, "2004-05").drop(segment_columns)
    lines = season_lines(kobe)
    minutes = f"{kobe['MIN_PER_GAME']:.1f} min/game"
    assert lines[0] == f"LAL · Regular season: {kobe['GP']} games, {minutes}"  # no shooting
    assert lines[-2].startswith("Per 36, blended, playoffs ×2: ")
    assert lines[-2].endswith(f" · TS {kobe['TS_PCT']:.1%}")
    assert lines[-1] == (  # why, and what adds it
        "Shooting per segment is not in the champion's data for 2004-05 (stored before it was "
        "kept): `nba-archetypes rebuild 2004-05`, then a training (`nba-archetypes train`), "
        "adds it."
    )

    data = tmp_path / "data"
    data.mkdir()
    seed_seasons(data, ["1996-97"])
    cleaned = data / "cleaned" / "1996-97.parquet"
    pd.read_parquet(cleaned).drop(columns=segment_columns).to_parquet(cleaned)
    use_env(data)
    at = open_app(page="data", season="1996-97")
    players = at.dataframe[1].value
    assert "TS_PCT" in players.columns
    headers = {c: v.get("label") for c, v in json.loads(at.dataframe[1].proto.columns).items()}
    assert headers["TS_PCT"] == "TS% (blended, playoffs ×2)"
    assert "`nba-archetypes rebuild 1996-97` adds it" in at.caption[-2].value


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
    assert "Live now: the champion model v1." in texts(at.caption)
    assert run["archetypes"] >= 5

    current = at.button(key="refresh_current")
    assert current.label == f"Refresh the current season ({current_season()})"
    assert not current.disabled
    assert at.button(key="refresh_2004-05").label == "2004-05 ✓"  # downloaded
    assert at.button(key=f"refresh_{current_season()}").label == str(current_season())


# --- Graceful states -----------------------------------------------------------------------------


def test_no_data_yet_explains_how_to_get_some(use_env: Callable[..., None], data_dir: Path) -> None:
    use_env(data_dir)
    for page in ("archetypes", "compare", "league", "team"):
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


def test_seasons_stored_after_the_champion_are_named_on_its_pages(
    use_env: Callable[..., None], champion_dir: Path
) -> None:
    """The shared directory holds every bundled season, its champion was trained on three:
    the seasons stored since are named, not silently missing from the answers."""
    bundled = sorted({path.name.split("_")[1] for path in RECORDINGS.glob("*.json*")})
    missing = [season for season in bundled if season not in TRAINED_SEASONS]
    use_env(champion_dir)
    for page in ("archetypes", "league", "compare"):
        at = open_app(page=page)
        assert not at.exception
        notes = [c for c in texts(at.caption) if c.startswith("Stored since champion v1")]
        assert notes == [
            f"Stored since champion v1 was trained, not in these answers yet: {len(missing)} "
            f"seasons ({missing[0]} … {missing[-1]}). The training after their refresh adds "
            "them (the Pipeline page shows it)."
        ]


def test_a_season_trained_on_without_classified_players_is_not_called_untrained(
    use_env: Callable[..., None], champion_dir: Path, tmp_path: Path
) -> None:
    """Early in a season nobody has played 20 games: the champion trained on it has no
    player of it to show, and the page must not promise a training that adds it."""
    copy, snapshot = DataDir(tmp_path / "data"), tmp_path / "snapshot"
    backup(DataDir(champion_dir), snapshot, Settings(data_dir=champion_dir).registered_model_name)
    restore(snapshot, copy)  # a copy whose artifact locations are its own
    empty = TRAINED_SEASONS[-1]
    champion = find_champion(Settings(data_dir=copy.root))
    [artifact] = (copy.root / "mlartifacts").glob(
        f"**/{champion.run_id}/artifacts/{ASSIGNMENTS_ARTIFACT}"
    )
    players = pd.read_parquet(artifact)
    players[players["SEASON"].astype(str) != empty].to_parquet(artifact, index=False)
    use_env(copy.root)
    at = open_app(page="archetypes")
    assert not at.exception
    bundled = sorted({path.name.split("_")[1] for path in RECORDINGS.glob("*.json*")})
    untrained = [season for season in bundled if season not in TRAINED_SEASONS]
    notes = [c for c in texts(at.caption) if c.startswith("Stored since champion")]
    assert len(notes) == 1
    assert f"not in these answers yet: {len(untrained)} seasons (" in notes[0]  # not {empty}


def test_the_pages_say_the_classification_rule_that_is_set(
    use_env: Callable[..., None], champion_dir: Path
) -> None:
    """Who is classified is a setting (ELIGIBLE_MIN_GAMES, ELIGIBLE_MIN_MINUTES): the pages
    say the rule set, not the default written into them."""
    use_env(champion_dir, ELIGIBLE_MIN_GAMES="30", ELIGIBLE_MIN_MINUTES="750")
    for page in ("archetypes", "league"):
        at = open_app(page=page)
        assert not at.exception
        captions = " ".join(texts(at.caption))
        assert "30+ games, 750+ minutes" in captions, page
        assert "20+ games" not in captions, page


def test_no_champion_yet(use_env: Callable[..., None], cleaned_only_dir: Path) -> None:
    use_env(cleaned_only_dir)
    assert not (cleaned_only_dir / "mlflow.db").exists()
    for page in ("archetypes", "compare", "league", "team"):
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
    assert champion_caption(at).startswith("Champion model v1")


COMPARE = "Compare players across eras"


def test_a_link_may_name_the_player(use_env: Callable[..., None], champion_dir: Path) -> None:
    """A link a person writes names him (as the CLI takes him: any case, part of a name); the
    app keeps his id in the URL. A name it cannot find says why, with close names."""
    use_env(champion_dir)
    for name in ("Kobe Bryant", "kobe bryant", "Bryant"):
        at = open_app(page="compare", season="2004-05", player=name)
        assert not at.warning, texts(at.warning)
        assert at.selectbox[1].value == KOBE
        assert texts(at.subheader)[0].startswith("Kobe Bryant, 2004-05: ")
        assert at.query_params["player"] == str(KOBE)
    at = open_app(page="compare", season="2004-05", player="Kobe Bryantt")
    assert at.selectbox[1].value is None
    [warning] = texts(at.warning)
    assert warning.startswith(
        "The link asks for player 'Kobe Bryantt', which is not available here (No player named "
        "'Kobe Bryantt'. Did you mean Kobe Bryant, "
    )
    assert warning.endswith("); showing nothing instead.")


@pytest.mark.parametrize(
    ("query", "bad", "title"),
    [
        ({"page": "nope"}, "nope", "Player archetypes"),
        ({"season": "1899-00"}, "1899-00", "Player archetypes"),
        ({"season": "banana"}, "banana", "Player archetypes"),
        ({"page": "compare", "season": "2010-11", "player": KOBE}, "2010-11", COMPARE),
        ({"page": "compare", "season": "2004-05", "player": "Kobe Bryantt"}, "Kobe Bryantt",
         COMPARE),
        ({"page": "compare", "season": "2004-05", "player": 1}, "1", COMPARE),
        ({"page": "compare", "season": "2004-05", "player": KOBE, "vs": "3000-01"}, "3000-01",
         COMPARE),
        ({"page": "data", "season": "2031-32"}, "2031-32", "Downloaded seasons"),
        ({"page": "league", "season": "2010-11"}, "2010-11", LEAGUE),
        ({"page": "team", "season": "2018-19", "team": "XYZ"}, "XYZ", TEAMS),
        ({"page": "team", "season": "1996-97", "team": "NOP"}, "NOP", TEAMS),  # not yet
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
        assert champion_caption(at).startswith("Champion model v1")
        at.sidebar.radio[0].set_value("pipeline").run()
        assert at.query_params["page"] == "pipeline"
        assert at.button(key="refresh_2018-19").label == "2018-19"  # not downloaded yet
        at.button(key="refresh_2018-19").click().run()
        assert not at.exception
        # While it runs, more refreshes wait for this one.
        assert at.button(key="refresh_current").disabled
        last = _follow_until_done(at, timeout_s=180)

    assert last["failed"] is False, last
    # The champion's model is republished on the new season first (v2); the search's winner
    # (v3) then replaces it only if it scores better. Either way the app shows the registry's.
    champion = find_champion(Settings(data_dir=data))
    assert champion.version in {"2", "3"}
    live = f"v{champion.version}"
    assert str(last["message"]).startswith(
        (f"New champion {live} is live", f"Champion kept and republished as {live}")
    ), last
    assert ("Refresh 2018-19", "running") in last["seen"]
    assert texts(at.main.success) == [f"Last refresh (2018-19): {last['message']}"]
    assert at.button(key="refresh_2018-19").label == "2018-19 ✓"
    assert at.dataframe[0].value["model version"].tolist()[:2] == ["3", "1"]  # trainings' winners
    assert f"Live now: the champion model {live}." in texts(at.caption)
    # The new season's report, the champion's (the republished one's or the winner's).
    assert "New season: 2018-19" in texts(at.subheader)
    assert any(c.startswith(f"Model {live}, trained ") for c in texts(at.caption))
    [summary] = [m for m in texts(at.info) + texts(at.warning) if m.startswith("2018-19: ")]
    assert re.match(r"2018-19: \d+\.\d% of \d+ players fit no archetype \(seasons seen: ", summary)
    shares, misfits = at.dataframe[1].value, at.dataframe[2].value
    assert shares["Share of minutes"].sum() == pytest.approx(100)
    assert shares.columns[2] == "Before (1996-97)"
    teams = pd.read_parquet(data / "cleaned" / "2018-19.parquet")["TEAM_ABBREVIATION"]
    assert set(misfits["Team"]) <= set(teams)

    at.sidebar.radio[0].set_value("archetypes").run()
    assert not at.exception
    assert texts(at.title) == ["Player archetypes"]
    assert texts(at.sidebar.success) == [f"Last refresh (2018-19): {last['message']}"]
    assert champion_caption(at).startswith(f"Champion model {live}")
    assert "(1996-97 to 2018-19)" in champion_caption(at)


def test_a_refresh_whose_worker_dies_shows_interrupted_and_retries(
    use_env: Callable[..., None], tmp_path: Path, replay: str
) -> None:
    """The fetch worker is SIGKILLed mid-download: the page says so (not "downloading…"
    forever) and its Retry button publishes a new fetch that a new worker runs."""
    data = tmp_path / "data"
    data.mkdir()
    seed_seasons(data, ["1996-97"])
    env = worker_env(data, replay) | {"LEASE_TTL_S": "3", "RECOVERY_INTERVAL_S": "60"}
    use_env(data)
    inject_faults(replay, ["delay", "delay"], season="2018-19")  # 2 s per request
    with celery_workers({"workers.fetch.tasks": "fetch"}, env, tmp_path) as (worker,):
        at = open_app(page="pipeline")
        at.toggle(key="force").set_value(True)  # asked for as a forced download
        at.button(key="refresh_2018-19").click().run()
        first = at.session_state[ACTIVE]["task_id"]
        wait_until(lambda: task_status(first).state == "PROGRESS", "download", interval_s=0.02)
        kill_worker(worker)
    last = _follow_until_done(at, timeout_s=30)
    assert last["failed"] is True
    assert "Fetching 2018-19 was interrupted: the fetch worker stopped" in str(last["message"])
    assert "retry now" in str(last["message"])

    at.toggle(key="force").set_value(False).run()  # the retry is of what was asked for
    at.button(key="retry_last").click().run()
    second = at.session_state[ACTIVE]["task_id"]
    assert second != first  # a new fetch, not the dead one joined
    assert at.session_state[ACTIVE]["force"] is True
    # A new worker runs it (and puts the dead one's message back: superseded by this one).
    with celery_workers({"workers.fetch.tasks": "fetch"}, env, tmp_path):
        done = wait_until(
            lambda: task_status(second).state in {"SUCCESS", "FAILURE"} and task_status(second),
            "the retried fetch",
            timeout_s=60,
        )
    assert done.state == "SUCCESS"
    assert (data / "cleaned" / "2018-19.parquet").is_file()


def test_a_damaged_season_file_is_named_with_its_fix(
    use_env: Callable[..., None], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    seed_seasons(data, ["1996-97"])
    cleaned = data / "cleaned" / "1996-97.parquet"
    cleaned.write_bytes(cleaned.read_bytes()[:300])  # truncated, as a full disk or a crash would
    use_env(data)
    at = open_app(page="data", season="1996-97")
    assert not at.exception, [e.value for e in at.exception]
    (error,) = texts(at.main.error)
    assert "1996-97.parquet" in error
    assert "nba-archetypes rebuild 1996-97" in error


@pytest.mark.parametrize("page", ["data", "pipeline", "archetypes"])
def test_an_unreachable_mlflow_server_is_one_line_on_every_page(
    use_env: Callable[..., None], data_dir: Path, page: str
) -> None:
    """The multi-host profile with its MLflow server down: the cause and what to do, in one
    line; the client's own error folded below it; the app stays up."""
    server = f"http://127.0.0.1:{free_port()}"
    use_env(
        data_dir,
        DATA_STORE="mlflow",
        TRACKING_SERVER_URL=server,
        MLFLOW_HTTP_REQUEST_MAX_RETRIES="0",
    )
    at = open_app(page=page)

    (error,) = at.error
    assert f"the MLflow store at {server}" in error.value
    assert "check that the MLflow server answers (TRACKING_SERVER_URL)" in error.value
    assert "\n" not in error.value
    assert "Technical details" in [e.label for e in at.expander]


@pytest.mark.parametrize("page", ["pipeline", "archetypes"])
def test_a_damaged_store_is_named_with_its_fix_and_the_page_stays_up(
    use_env: Callable[..., None], data_dir: Path, page: str
) -> None:
    """A file in the store's place that SQLite cannot read (it used to be an exception on the
    Pipeline page): the file and its repair in one line, SQLite's words below; the refresh
    buttons drawn above it stay."""
    store = data_dir / "mlflow.db"
    store.write_bytes(b"no SQLite database here\n" * 400)
    use_env(data_dir)
    at = open_app(page=page)

    (error,) = at.error
    assert f"{store} is damaged (SQLite cannot read it): restore a backup" in error.value
    assert "\n" not in error.value
    assert "Technical details" in [e.label for e in at.expander]
    if page == "pipeline":
        assert at.button(key="refresh_current").label
