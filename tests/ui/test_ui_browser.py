"""The app in a real browser: ``streamlit run`` in its own process, driven by headless Chromium.

Each page is opened by URL, checked for what a visitor must see, and photographed into
``artifacts/screenshots/<page>.png`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from devkit.chromium import CHROMIUM, launch
from devkit.chromium import MISSING as CHROMIUM_MISSING
from tests.services import BUTLER, PROJECT_ROOT, streamlit_app
from tests.ui.test_ui_app import (
    GIANNIS,
    KOBE,
    champion_artifacts,
    nearest,
    player_row,
    shared_champion_dir,
    shared_renamed_dir,
    site_row,
)

SCREENSHOTS = PROJECT_ROOT / "artifacts" / "screenshots"
VIEWPORT = {"width": 1400, "height": 2600}  # the main area scrolls inside the page: be tall
WAIT_MS = 60_000
# Every expectation waits as long as page loads do: 5 s (Playwright's default) is too short
# for Streamlit to draw a data grid on a busy 2-core machine (seen in a full run).
expect.set_options(timeout=WAIT_MS)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING),
]


@pytest.fixture(scope="module")
def champion_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_champion_dir(tmp_path_factory)


@contextmanager
def serving(data: Path, factory: pytest.TempPathFactory) -> Iterator[str]:
    """``streamlit run ui/app.py`` on ``data``, healthy; its URL."""
    log = factory.mktemp("streamlit") / "streamlit.log"
    env = {**os.environ, "DATA_DIR": str(data)}  # REDIS_URL: the session's Redis
    with streamlit_app(PROJECT_ROOT / "ui" / "app.py", env, log) as (url, _):
        yield url


@pytest.fixture(scope="module")
def app_url(champion_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(champion_dir, tmp_path_factory) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(WAIT_MS)
    yield page
    page.close()


def open_page(page: Page, url: str, title: str, charts: int) -> None:
    page.goto(url)
    expect(page.locator("h1")).to_have_text(title, timeout=WAIT_MS)
    # Charts are drawn by vega-embed after the data arrives over the websocket.
    expect(page.locator(".vega-embed > .marks")).to_have_count(charts, timeout=WAIT_MS)
    expect(page.locator('[data-testid="stSpinner"]')).to_have_count(0)


def finish(page: Page, name: str) -> Path:
    assert page.locator('[data-testid="stException"]').count() == 0
    page.wait_for_timeout(500)  # let the last chart transitions settle for the picture
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def grid_text(page: Page, table: int = 0) -> list[str]:
    """Visible cells of a data table (the Glide grid draws on a canvas and keeps an
    accessible copy of the visible cells), once it has some."""
    cells = page.locator('[data-testid="stDataFrame"]').nth(table).locator('[role="gridcell"]')
    expect(cells.first).to_be_attached(timeout=WAIT_MS)
    return cells.all_inner_texts()


def test_archetypes_page(page: Page, app_url: str, champion_dir: Path) -> None:
    _, profiles = champion_artifacts(champion_dir)
    open_page(page, app_url, "Player archetypes", charts=3)

    expect(page.get_by_text("Champion model v1:")).to_be_visible()
    for profile in profiles:
        expect(page.get_by_text(profile["name"], exact=True).first).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Stands out by: "))).to_have_count(len(profiles))
    assert "_PER36" not in page.inner_text("main")
    finish(page, "archetypes")


def test_compare_page_deep_link(page: Page, app_url: str, champion_dir: Path) -> None:
    assignments, _ = champion_artifacts(champion_dir)
    kobe = player_row(assignments, KOBE, "2004-05")
    best = nearest(assignments, kobe, n=1).iloc[0]  # plain NumPy over every season
    open_page(
        page,
        f"{app_url}/?page=compare&season=2004-05&player={KOBE}",
        "Compare players across eras",
        charts=2,  # career timeline, style side by side
    )

    heading = page.locator("h3", has_text="Kobe Bryant, 2004-05: ")
    expect(heading).to_have_text(f"Kobe Bryant, 2004-05: {kobe['ARCHETYPE_NAME']}")
    expect(page.get_by_text("Style mix:")).to_be_visible()
    typical = f"a typical {kobe['ARCHETYPE_NAME']}"  # what sets him apart, or that nothing does
    expect(page.get_by_text(re.compile(f"^(Unlike {typical}:|Close to {typical})"))).to_be_visible()
    expect(page.get_by_text("Kobe Bryant's career, season by season")).to_be_visible()
    expect(page.get_by_text("Most similar players across all seasons")).to_be_visible()
    # Waiting assertions throughout: on a loaded machine the grid and the charts' legends are
    # drawn a moment after the page's title and chart frames appear.
    cells = page.locator('[data-testid="stDataFrame"]').first.locator('[role="gridcell"]')
    expect(cells.nth(0)).to_have_text(best["PLAYER_NAME"])  # the closest of any season first
    expect(cells.nth(1)).to_have_text(best["SEASON"])
    headers = page.locator('[data-testid="stDataFrame"]').locator('[role="columnheader"]')
    for header in ("Player", "Season", "Archetype", "Similarity", "Closest in", "Farthest in"):
        expect(headers.filter(has_text=re.compile(f"^{header}$")).first).to_be_attached()
    # A style feature, headed for people (the first: the grid draws only the columns in view).
    expect(headers.filter(has_text=re.compile(r"^FGA/36$")).first).to_be_attached()
    # The side-by-side chart's legend names Kobe and his closest match.
    legend = (
        page.locator(".vega-embed")
        .filter(has_text="Kobe Bryant 2004-05")
        .filter(has_text=f"{best['PLAYER_NAME']} {best['SEASON']}")
    )
    expect(legend.first).to_be_attached()
    finish(page, "compare")


def test_compare_page_shows_each_segments_shooting(page: Page, app_url: str) -> None:
    """Issue 17: the site's 2018-19 regular-season 3P% for Giannis Antetokounmpo is 25.6 %;
    the blend with his playoffs (28.1 %) is not what the page shows under 3P."""
    regular = site_row("2018-19_regular_pergame", GIANNIS)
    playoffs = site_row("2018-19_playoffs_per36", GIANNIS)
    open_page(
        page,
        f"{app_url}/?page=compare&season=2018-19&player={GIANNIS}",
        "Compare players across eras",
        charts=2,
    )
    season_line = page.get_by_text(re.compile(r"^MIL · Regular season: "))
    expect(season_line).to_contain_text(f"3P {regular['FG3_PCT']:.1%}")  # 25.6%
    expect(season_line).to_contain_text(f"FG {regular['FG_PCT']:.1%}")
    playoff_line = page.get_by_text(re.compile(r"^Playoffs: "))
    expect(playoff_line).to_contain_text(f"3P {playoffs['FG3_PCT']:.1%}")  # 32.7%
    expect(page.get_by_text(re.compile(r"^Per 36, blended, playoffs ×2: "))).to_be_visible()
    assert "28.1%" not in page.inner_text("main")
    finish(page, "compare-shooting")


@pytest.fixture(scope="module")
def renamed_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(shared_renamed_dir(tmp_path_factory), tmp_path_factory) as url:
        yield url


def test_compare_page_one_career_under_his_latest_name(page: Page, renamed_url: str) -> None:
    """A real rename (2018-19 pulled in 2019: "Jimmy Butler"; 2020-21: "Jimmy Butler III"):
    one player, his latest name, both seasons in his career, never among his own matches."""
    open_page(
        page,
        f"{renamed_url}/?page=compare&season=2018-19&player={BUTLER}",
        "Compare players across eras",
        charts=2,
    )
    expect(page.locator("h3", has_text="2018-19: ")).to_contain_text("Jimmy Butler III, 2018-19")
    expect(page.get_by_text(re.compile(r" Listed as Jimmy Butler in 2018-19\.$"))).to_be_visible()
    expect(page.get_by_text("Jimmy Butler III's career, season by season")).to_be_visible()
    cells = grid_text(page)
    assert "Jimmy Butler III" not in cells
    assert "Jimmy Butler" not in cells
    # His career: both seasons, under either name.
    runs = page.locator("p", has_text="Primary archetype:").inner_text()
    assert "2018-19" in runs
    assert "2020-21" in runs
    finish(page, "compare-renamed")


def test_data_page(page: Page, app_url: str, champion_dir: Path) -> None:
    open_page(page, f"{app_url}/?page=data", "Downloaded seasons", charts=0)

    expect(page.get_by_text("27 seasons stored")).to_be_visible()
    expect(page.get_by_role("heading", name="Players of one season")).to_be_visible()
    seasons = grid_text(page)
    for label in ("1996-97", "2004-05"):
        assert label in seasons  # the first rows of the summary table
    expect(page.get_by_role("button", name="Download CSV")).to_be_visible()
    players = pd.read_parquet(champion_dir / "cleaned" / "2022-23.parquet")
    most_minutes = players.sort_values("MIN", ascending=False)["PLAYER_NAME"].iloc[0]
    tables = page.locator('[data-testid="stDataFrame"]')
    expect(tables).to_have_count(2)
    assert grid_text(page, 1)[0] == most_minutes  # latest season, most minutes first
    # Column headers for people, not the raw names.
    headers = tables.nth(1).locator('[role="columnheader"]').all_inner_texts()
    # (the grid draws only the columns in view: the regular season's shooting is, as the site
    # gives it and said so)
    assert "3P% (regular season)" in headers
    assert "REGULAR_FG3_PCT" not in headers
    expect(
        page.get_by_text(re.compile(r"^Style features \(archetypes and similar"))
    ).to_be_visible()
    finish(page, "data")


def test_pipeline_page(page: Page, app_url: str) -> None:
    open_page(page, f"{app_url}/?page=pipeline", "Pipeline", charts=0)

    refresh = page.get_by_role("button", name=re.compile(r"^Refresh the current season"))
    expect(refresh).to_be_visible()
    expect(refresh).to_be_enabled()  # the session's Redis answers
    expect(page.get_by_role("heading", name="Recent trainings")).to_be_visible()
    assert "1996-97 … 2018-19 (3)" in grid_text(page)
    page.get_by_text("Refresh another season").click()
    expect(page.get_by_role("button", name="2004-05 ✓")).to_be_visible()
    finish(page, "pipeline")


def test_league_page_opens_a_clicked_season(page: Page, app_url: str) -> None:
    open_page(page, f"{app_url}/?page=league", "How the league's roles changed", charts=1)

    expect(page.get_by_role("heading", name="The biggest shifts")).to_be_visible()
    expect(page.get_by_text(re.compile(r" of minutes in \d{4}-\d{2} to ")).first).to_be_visible()
    expect(page.get_by_role("heading", name="2018-19: what was new")).to_be_visible()
    # A click on a season's bar (an SVG mark, named by its tooltip) opens that season.
    bar = page.locator('.vega-embed g.mark-rect path[aria-label*="Season: 1996-97"]').first
    bar.click()
    expect(page.get_by_role("heading", name="1996-97: what was new")).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]season=1996-97"))
    expect(page.get_by_text("The first stored season")).to_be_visible()
    expect(page.get_by_role("heading", name="The teams of 1996-97")).to_be_visible()
    assert "CHI" in grid_text(page, 1)  # the teams of that season
    finish(page, "league")


def test_team_page_deep_link(page: Page, app_url: str, champion_dir: Path) -> None:
    assignments, _ = champion_artifacts(champion_dir)
    roster = assignments[
        (assignments["TEAM_ABBREVIATION"] == "GSW") & (assignments["SEASON"] == "2018-19")
    ]
    open_page(page, f"{app_url}/?page=team&team=GSW&season=2018-19", "Teams by archetype", charts=1)

    heading = page.locator("h3", has_text="GSW 2018-19: ")
    expect(heading).to_contain_text(f"{len(roster)} classified players")
    expect(page.get_by_text(re.compile(r"^Leaned on "))).to_be_visible()
    legends = page.locator(".vega-embed").all_inner_texts()
    assert any("GSW 2018-19" in text and "League 2018-19" in text for text in legends)
    expect(page.get_by_text("Built most alike, any era")).to_be_visible()
    alike = page.locator('[data-testid="stMain"] [data-testid="stButton"] button')
    expect(alike).to_have_count(5)
    first = alike.first.inner_text()
    team, season = first.split()
    finish(page, "team")
    alike.first.click()
    expect(page.locator("h3", has_text=f"{team} {season}: ")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"team={team}"))

    # A player of the roster opens Compare on his season: a click on his row's marker (the
    # grid draws on a canvas: its first row is below the header, both 35 px high).
    players = assignments[
        (assignments["TEAM_ABBREVIATION"] == team) & (assignments["SEASON"] == season)
    ]
    grid = page.locator('[data-testid="stDataFrame"]').first
    expect(grid.locator('[role="gridcell"]').first).to_be_attached(timeout=WAIT_MS)
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 16, box["y"] + 35 + 17)
    expect(page).to_have_url(re.compile(r"page=compare"))
    heading = page.locator("h3", has_text=f", {season}: ")
    expect(heading).to_be_visible()
    assert heading.inner_text().split(f", {season}: ")[0] in set(players["PLAYER_NAME"])
    player = re.search(r"player=(\d+)", page.url)
    assert player is not None
    assert int(player[1]) in set(players["PLAYER_ID"])


PHONE = {"width": 320, "height": 900}  # the narrowest phones in use


@pytest.mark.parametrize(
    ("query", "title", "charts"),
    [
        ("", "Player archetypes", 3),
        (f"page=compare&season=2004-05&player={KOBE}", "Compare players across eras", 2),
        ("page=league", "How the league's roles changed", 1),
        ("page=team&team=GSW&season=2018-19", "Teams by archetype", 1),
    ],
)
def test_every_chart_fits_its_column_on_a_phone(
    browser: Browser, app_url: str, query: str, title: str, charts: int
) -> None:
    """A chart wider than its column is cut off, legend first (the career timeline drew 40 px
    per season: a 20-season career overflowed even a desktop's column). Inside the chart, a
    legend in one row ran off its edge (the players compared, the team beside the league), and
    one on the right left the plot a sliver (34 px of 288 for the league's mix)."""
    page = browser.new_page(viewport=PHONE)
    page.set_default_timeout(WAIT_MS)
    try:
        open_page(page, f"{app_url}/?{query}", title, charts=charts)
        column = page.locator('[data-testid="stMainBlockContainer"]').bounding_box()
        assert column is not None
        for index, chart in enumerate(page.locator(".vega-embed > .marks").all()):
            drawn = chart.bounding_box()
            assert drawn is not None
            overflow = drawn["x"] + drawn["width"] - (column["x"] + column["width"])
            assert overflow <= 0, f"chart {index}: {overflow:.0f} px past its column"
            for legend in chart.locator(".role-legend").all():
                shown = legend.bounding_box()
                assert shown is not None
                cut = shown["x"] + shown["width"] - (drawn["x"] + drawn["width"])
                assert cut <= 1, f"chart {index}: its legend runs {cut:.0f} px past its edge"
            for grid in chart.locator(".role-axis-grid").all():  # as wide as the plot
                plot = grid.bounding_box()
                assert plot is not None
                share = plot["width"] / drawn["width"]
                assert share >= 0.4, f"chart {index}: the plot is {share:.0%} of its width"
    finally:
        page.close()


# A page like the Pipeline page, cut to the race: a full run whose last step is slow and calls
# no Streamlit command after it (the MLflow server's answer, in the multi-host profile), and a
# click that starts a live-progress fragment while that run is still going.
RACE_APP = """
import time

import streamlit as st


@st.fragment(run_every=0.3)
def progress():
    st.session_state.ticks = st.session_state.get("ticks", 0) + 1
    st.write(f"tick {st.session_state.ticks}")


st.toggle("Slow", key="slow")
if st.button("Start"):
    st.session_state.active = True
    st.rerun()
if st.session_state.get("active"):
    progress()
elif st.session_state.slow:
    time.sleep(3)
"""


def test_live_progress_survives_a_click_during_a_slow_run(
    page: Page, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """With Streamlit's fast reruns a click starts a second script runner while the first
    finishes its slow step; the first then drops, as stale, the fragment the second has just
    registered, and the progress box froze at "fetch started…" for good (seen in the
    multi-host end-to-end test). The app's settings (.streamlit/config.toml) must prevent it."""
    folder = tmp_path_factory.mktemp("race")
    script = folder / "race_app.py"
    script.write_text(RACE_APP)
    with streamlit_app(script, os.environ, folder / "streamlit.log") as (url, _):
        page.goto(url)
        slow = page.get_by_role("switch")
        page.locator("label").filter(has=slow).first.click()  # the slow run starts
        expect(slow).to_be_checked()
        page.get_by_role("button", name="Start").click()  # while it sleeps
        # Started (any tick: each shows for 0.3 s only, too short to wait for one in particular).
        expect(page.get_by_text(re.compile(r"^tick \d+$"))).to_be_visible()
        # Still ticking well after the slow run ended (3 s, 10 ticks): 20 or more.
        still_ticking = page.get_by_text(re.compile(r"^tick ([2-9]\d|\d{3,})$"))
        expect(still_ticking).to_be_visible(timeout=20_000)
