"""Streamlit entry point: ``streamlit run ui/app.py``.

Four pages, chosen in the sidebar and kept in the URL (``?page=compare&season=2004-05&...``)
so every view can be shared as a link.
"""

from __future__ import annotations

import streamlit as st

from ui import results, url_state
from ui.views import archetypes, compare, data, pipeline

PAGES = {
    "archetypes": "Archetypes",
    "compare": "Compare players",
    "data": "Data",
    "pipeline": "Pipeline",
}


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
        _last_refresh_note()

    if page == "data":
        data.render()
    elif page == "pipeline":
        pipeline.render()
    else:
        _results_page(page)


def _results_page(page: str | None) -> None:
    try:
        champion = results.load_champion()
    except Exception as error:  # a broken store must not take the app down
        st.error(f"Could not read the model registry: {error}")
        return
    if champion is None:
        st.title(PAGES[page or "archetypes"])
        if not results.downloaded_seasons():
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
    if page == "compare":
        compare.render(champion)
    else:
        archetypes.render(champion)


def _last_refresh_note() -> None:
    last = st.session_state.get("last_refresh")
    if last:
        (st.error if last["failed"] else st.success)(
            f"Last refresh ({last['season']}): {last['message']}"
        )


main()
