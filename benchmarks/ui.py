"""Benchmark of the Streamlit app: prints figures against the targets (not a timed test).

    uv run python -m benchmarks.ui                  # builds the data (~1 min) first
    uv run python -m benchmarks.ui --data-dir DIR   # reuse DIR (built there if empty)

On all 27 bundled seasons with a champion trained on all of them, with ``streamlit run`` in
its own process and headless Chromium (Debian's ``/usr/bin/chromium``) as the visitor:

* cold start: process start → ``/_stcore/health`` answers → the archetypes page's ``h1`` is
  shown in the browser (first paint) → its charts are drawn;
* warm render, browser: after one warm-up visit, a fresh ``page.goto`` of each page on the
  running server until the page's last expected element is there (new session, script run,
  websocket transfer and drawing included), median of several;
* warm render, server side: Streamlit's AppTest ``at.run()`` of each page in this process
  with warm caches (the script run alone, no transfer, no drawing), median of several;
* a page switch in the open app, and the same on a Streamlit page of a title and a 30-row
  table (``floor_rerun``): what Streamlit and this browser take before the app does anything;
* resident memory (RSS) of the streamlit process after every page was visited.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.harness import (
    PROJECT_ROOT,
    emit,
    parser,
    repeat,
    report,
    seed_seasons,
    since,
    timed,
    write_json,
)
from devkit.chromium import launch
from devkit.services import streamlit_app
from ui.navigation import PAGES, TITLES

if TYPE_CHECKING:
    from playwright.sync_api import Page

APP = PROJECT_ROOT / "ui" / "app.py"
KOBE = 977
REPEATS = 7
TIMEOUT_MS = 120_000

PAGE_NAMES = tuple(PAGES)
TARGETS = {  # name: (comparison, limit)
    "first_paint_s": ("≤", 5.0),
    **{f"browser_{p}_s": ("≤", 0.5) for p in PAGE_NAMES},
    **{f"rerun_{p}_s": ("≤", 0.5) for p in ("archetypes", "compare", "league", "data", "pipeline")},
    **{f"apptest_{p}_s": ("≤", 0.5) for p in PAGE_NAMES},
    "rss_mib": ("≤", 500.0),  # no target was set; a budget for a small container
}
PAGE_LINKS = {
    "archetypes": "",
    "compare": f"?page=compare&season=2004-05&player={KOBE}&vs=1996-97",
    "league": "?page=league&season=2016-17",
    "team": "?page=team&team=GSW&season=2016-17",
    "data": "?page=data",
    "pipeline": "?page=pipeline",
}


# --- Data -----------------------------------------------------------------------------------------


def build_data(data: Path) -> None:
    """All bundled seasons, and a champion trained on all of them (skipped when there is one)."""
    from common.champion import find_champion
    from common.settings import Settings
    from common.storage import DataDir
    from workers.train.training import train_archetypes

    settings = Settings(data_dir=data)
    data.mkdir(parents=True, exist_ok=True)
    if (data / "mlflow.db").exists() and find_champion(settings) is not None:
        emit(f"reusing the champion in {data}")
        return
    with timed() as seeding:
        seed_seasons(data)
    emit(f"seeded {len(DataDir(data).cleaned_seasons())} seasons in {seeding.wall_s:.1f} s")
    with timed() as training:
        outcome = train_archetypes(settings)
    emit(f"trained on all seasons in {training.wall_s:.1f} s: {outcome.message}")


# --- Browser --------------------------------------------------------------------------------------


# Checked on every animation frame (Playwright's ``expect`` polls at 100-1000 ms steps, which
# would round every figure up): the page's title, its charts drawn, its tables filled, no
# element of a previous run left (Streamlit marks them stale), and any text that must show.
READY_JS = """([title, charts, tables, text]) => {
  const h1 = document.querySelector('h1');
  if (!h1 || h1.innerText.trim() !== title) return false;
  if (document.querySelector('[data-stale="true"]')) return false;
  if (document.querySelectorAll('.vega-embed > .marks').length !== charts) return false;
  // (a table inside a closed expander has no cells: only the first ``tables`` count)
  const grids = [...document.querySelectorAll('[data-testid="stDataFrame"]')].slice(0, tables);
  if (grids.length < tables || grids.some(g => !g.querySelector('[role="gridcell"]')))
    return false;
  if (text && !document.querySelector('[data-testid="stMain"]').textContent.includes(text))
    return false;
  window.__readyAt = performance.now();  // ms since this document's navigation started
  return true;
}"""
# Clicks in the page itself, so the clock starts at the click event, not at Playwright's
# round trip and actionability checks.
CLICK_JS = """(label) => {
  const target = [...document.querySelectorAll('[data-testid="stSidebar"] label')]
    .find(l => l.innerText.trim() === label);
  window.__startAt = performance.now();
  target.click();
}"""
STATE_JS = """() => ({
  h1: document.querySelector('h1')?.innerText,
  stale: document.querySelectorAll('[data-stale="true"]').length,
  charts: document.querySelectorAll('.vega-embed > .marks').length,
  cells: [...document.querySelectorAll('[data-testid="stDataFrame"]')].map(
    g => g.querySelectorAll('[role="gridcell"]').length),
})"""
CONTENT = {
    "archetypes": (3, 0), "compare": (2, 1), "league": (1, 2), "team": (1, 1), "data": (0, 2),
    "pipeline": (0, 1),
}  # fmt: skip


def _wait_loaded(page: Page, name: str, text: str = "") -> float:
    """Until the page's last expected element is drawn; returns when that was, in seconds
    since the document's navigation start (the browser's own clock)."""
    charts, tables = CONTENT[name]
    try:
        page.wait_for_function(
            READY_JS, arg=[TITLES[name], charts, tables, text], polling="raf", timeout=TIMEOUT_MS
        )
    except Exception as error:
        raise RuntimeError(f"{name} not ready: {page.evaluate(STATE_JS)}") from error
    return page.evaluate("window.__readyAt") / 1000


def bench_browser(data: Path) -> dict[str, float]:
    import psutil
    from playwright.sync_api import sync_playwright

    figures: dict[str, float] = {}
    with sync_playwright() as playwright:
        # The browser is up before the clock starts: the figure is the app's, not Chromium's.
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 2600})
        try:
            started = time.perf_counter()
            env = {**os.environ, "DATA_DIR": str(data)}
            with streamlit_app(APP, env, _log("app")) as (url, process):
                figures["health_s"] = since(started)
                page.goto(url)
                page.wait_for_function(
                    "t => document.querySelector('h1')?.innerText.trim() === t",
                    arg=TITLES["archetypes"],
                    polling="raf",
                    timeout=TIMEOUT_MS,
                )
                figures["first_paint_s"] = since(started)
                _wait_loaded(page, "archetypes")
                figures["charts_drawn_s"] = since(started)

                for name, query in PAGE_LINKS.items():
                    page.goto(f"{url}/{query}")  # warm-up visit
                    _wait_loaded(page, name)
                    times = []
                    for _ in range(REPEATS):
                        page.goto(f"{url}/{query}")
                        times.append(_wait_loaded(page, name))  # from navigation start
                    figures[f"browser_{name}_s"] = statistics.median(times)
                figures |= _in_app_reruns(page, url)
                figures["rss_mib"] = psutil.Process(process.pid).memory_info().rss / 2**20
            figures["floor_rerun_s"] = _floor_rerun(page)
        finally:
            browser.close()
    return figures


# The least a page switch can cost on this machine and browser: a Streamlit page with a title
# and a 30-row table, switched in the sidebar and measured as rerun_* are.
FLOOR_APP = """import streamlit as st
page = st.sidebar.radio("Page", ["One", "Two"])
st.title(page)
st.dataframe({"row": list(range(30))})
"""


def _floor_rerun(page: Page) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-ui-floor-") as tmp:
        script = Path(tmp) / "floor.py"
        script.write_text(FLOOR_APP)
        with streamlit_app(script, os.environ, _log("floor")) as (url, _):
            page.goto(url)
            ready = [0, 1, ""]  # no chart, one table, no text
            page.wait_for_function(READY_JS, arg=["One", *ready], polling="raf")
            times = []
            for i in range(REPEATS + 1):  # the first round warms up
                for label in ("Two", "One"):
                    page.evaluate(CLICK_JS, label)
                    page.wait_for_function(READY_JS, arg=[label, *ready], polling="raf")
                    if i:
                        took = page.evaluate("window.__readyAt - window.__startAt") / 1000
                        times.append(took)
    return statistics.median(times)


def _in_app_reruns(page: Page, url: str) -> dict[str, float]:
    """What a visitor waits for once the app is open: a page picked in the sidebar, or (on the
    compare page) another season picked, until the new content is drawn. No reload."""
    times: dict[str, list[float]] = {"archetypes": [], "league": [], "data": [], "pipeline": []}
    page.goto(url)
    _wait_loaded(page, "archetypes")
    labels = {
        "archetypes": "Archetypes", "league": "The league", "data": "Data", "pipeline": "Pipeline",
    }  # fmt: skip
    for i in range(REPEATS + 1):  # the first round warms up
        for name, label in [*list(labels.items())[1:], ("archetypes", labels["archetypes"])]:
            page.evaluate(CLICK_JS, label)
            ready = _wait_loaded(page, name)
            if i:
                times[name].append(ready - page.evaluate("window.__startAt") / 1000)

    compare: list[float] = []
    page.goto(f"{url}/{PAGE_LINKS['compare']}")
    _wait_loaded(page, "compare")
    for i in range(REPEATS + 1):
        for season in ("2018-19", "1996-97"):
            page.get_by_role("combobox", name="Similar players from").click()
            page.keyboard.type(season)  # the options list is virtual: search, then pick
            start = page.evaluate("performance.now()") / 1000
            page.keyboard.press("Enter")
            ready = _wait_loaded(page, "compare", text=f"Most similar players in {season}")
            if i:
                compare.append(ready - start)
    return {
        **{f"rerun_{name}_s": statistics.median(t) for name, t in times.items()},
        "rerun_compare_s": statistics.median(compare),
    }


def _log(name: str) -> Path:
    return Path(tempfile.gettempdir()) / f"bench-ui-streamlit-{name}.log"


# --- Server side (AppTest) ------------------------------------------------------------------------


def bench_apptest(data: Path) -> dict[str, float]:
    os.environ["DATA_DIR"] = str(data)
    from streamlit.testing.v1 import AppTest

    from common.settings import get_settings

    get_settings.cache_clear()
    figures = {}
    for name, query in PAGE_LINKS.items():
        at = AppTest.from_file(str(APP), default_timeout=120)
        for part in query.removeprefix("?").split("&") if query else []:
            key, value = part.split("=")
            at.query_params[key] = value
        at.run()  # warm-up: imports, caches
        if at.exception:
            raise RuntimeError(f"{name}: {[e.value for e in at.exception]}")
        figures[f"apptest_{name}_s"] = statistics.median(repeat(at.run, REPEATS))
    return figures


# --- Report ---------------------------------------------------------------------------------------


def explain() -> None:
    emit()
    emit("first_paint: the page title is drawn (sidebar, title, spinner); charts_drawn: the")
    emit("  archetypes page complete. All from the streamlit process start, browser already up.")
    emit("browser_*: full reload (new session, JS boot, script run, drawing) on a warm server;")
    emit("rerun_*: in the open app, pick the page in the sidebar (compare: pick another season)")
    emit("  until the new content is drawn and nothing stale is left;")
    emit("floor_rerun: the same, on a Streamlit page of a title and a 30-row table (what")
    emit("  Streamlit and this browser take before any of the app's work).")
    emit(f"apptest_*: the script run alone (AppTest, warm caches). Medians of {REPEATS}.")


def main() -> None:
    cli = parser(__doc__)
    cli.add_argument("--data-dir", type=Path, help="reuse (or build into) this data dir")
    args = cli.parse_args()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
        data = (args.data_dir or Path(tmp) / "data").resolve()
        build_data(data)
        figures = bench_browser(data)
        figures |= bench_apptest(data)
    report(figures, TARGETS)
    explain()
    write_json(args.json, figures)


if __name__ == "__main__":
    main()
