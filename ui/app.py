"""Streamlit entry point: ``streamlit run ui/app.py``.

Six pages, chosen in the sidebar and kept in the URL (``?page=compare&season=2004-05&...``)
so every view can be shared as a link.

The sidebar and the page title are drawn before the heavy imports (MLflow, pandas, Altair:
several seconds on a fresh server process), so a visitor sees the app at once, with a
spinner, instead of a blank page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import streamlit as st

from common.failures import PLAIN_FAILURES, AccessDeniedError, StoreUnavailableError
from ui import memory, url_state
from ui.failure import show_failure
from ui.last_refresh import show_last_refresh
from ui.navigation import PAGES, TITLES

if TYPE_CHECKING:
    from common.champion_results import ChampionResults

log = logging.getLogger(__name__)


def main() -> None:
    st.set_page_config(page_title="NBA player archetypes", page_icon="🏀", layout="wide")
    with st.sidebar:
        st.markdown("### NBA player archetypes")
        page = url_state.pick(
            st.radio,
            "Page",
            list(PAGES),
            param="page",
            default="archetypes",
            describe="page",
            format_func=PAGES.get,
            label_visibility="collapsed",
        )
        if page != "pipeline":  # the pipeline page shows it in full
            show_last_refresh()
    page = page or "archetypes"
    st.title(TITLES[page])

    # Late: the title is drawn before the pages' libraries load (first paint is measured).
    with st.spinner("Starting up…"):  # first run of a server process only: imports
        from ui.views import archetypes, compare, data, league, pipeline, team  # noqa: PLC0415

    try:
        if page == "data":
            data.render()
        elif page == "pipeline":
            pipeline.render()
        elif page == "compare":
            _results_page(compare.render)
        elif page == "league":
            _results_page(league.render)
        elif page == "team":
            _results_page(team.render)
        else:
            _results_page(archetypes.render)
    # The MLflow server holding the seasons is down or refuses this container's login, the
    # store is damaged...: said where the page stopped, what was drawn above it stays.
    except PLAIN_FAILURES as error:
        show_failure(error)
    memory.freeze_what_is_loaded()


def _results_page(render: Callable[[ChampionResults], None]) -> None:
    from ui import results  # noqa: PLC0415 (after first paint, as above)

    try:
        champion = results.load_champion()
    except (StoreUnavailableError, AccessDeniedError):
        raise  # said plainly by main()
    except Exception as error:  # a broken store must not take the app down
        show_failure(error, prefix="Could not read the model registry: ")
        return
    if champion is None:
        if not results.seasons_stored():
            st.info(
                "No data yet. Open the **Pipeline** page and refresh a season (or run "
                "`nba-archetypes seed` to import the bundled seasons); archetypes appear "
                "here as soon as the first training finishes."
            )
        else:
            st.info(
                "Seasons are downloaded but no model has been trained yet; the first "
                "champion appears here when training finishes (see the **Pipeline** page)."
            )
        return
    try:
        stored = results.seasons_stored()
    except Exception:  # an aside: a store that cannot list its seasons now must not hide answers
        log.warning("could not list the stored seasons", exc_info=True)
        stored = []
    _not_trained_yet_note(champion, stored)
    render(champion)


def _not_trained_yet_note(champion: ChampionResults, stored: list[str]) -> None:
    """Seasons stored after the champion was trained (its training is under way, or failed).
    Trained on is what the champion's run says: a season trained on before anyone played 20
    games has no player in the answers, and no training will add one."""
    missing = sorted(set(stored) - set(champion.champion.seasons))
    if not missing:
        return
    which = (
        missing[0]
        if len(missing) == 1
        else f"{len(missing)} seasons ({missing[0]} … {missing[-1]})"
    )
    st.caption(
        f"Stored since champion v{champion.champion.version} was trained, not in these answers "
        f"yet: {which}. The training after their refresh adds them (the Pipeline page shows it)."
    )


main()
