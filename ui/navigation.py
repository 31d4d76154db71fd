"""Opening another page of the app from a button or a pick, as a shared link would open it.

Widgets bound to the URL (:mod:`ui.url_state`) keep their value in ``st.session_state`` under
``url_<param>``; a callback that sets those keys before the rerun opens the page with them,
in the same session (no reload, the caches stay warm). The URL follows, as the widgets
write it back; parameters of the page left behind are dropped.
"""

from __future__ import annotations

import streamlit as st

from ui import url_state

# The pages: their sidebar labels, then their titles (the name a visitor sees first).
PAGES = {
    "archetypes": "Archetypes",
    "compare": "Compare players",
    "league": "The league",
    "team": "Teams",
    "data": "Data",
    "pipeline": "Pipeline",
}
TITLES = {
    "archetypes": "Player archetypes",
    "compare": "Compare players across eras",
    "league": "How the league's roles changed",
    "team": "Teams by archetype",
    "data": "Downloaded seasons",
    "pipeline": "Pipeline",
}


def open_page(page: str, **params: object) -> None:
    """A widget callback (``on_click``/``on_change``): show ``page`` with ``params``, each of
    the type its widget's options have (a player id is an ``int``)."""
    st.query_params.clear()  # e.g. the compare page's player and vs
    st.session_state[url_state.widget_key("page")] = page
    for name, value in params.items():
        st.session_state[url_state.widget_key(name)] = value


def page_button(label: str, page: str, *, key: str, help: str | None = None, **params: str) -> bool:
    """A button that opens ``page`` with ``params`` when clicked."""
    return st.button(label, key=key, help=help, on_click=open_page, args=(page,), kwargs=params)
