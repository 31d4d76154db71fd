"""The last refresh's outcome, kept in the session: one line in every page's sidebar, in full
(with its attempts, details and a Retry button) on the Pipeline page."""

from __future__ import annotations

from typing import Any

import streamlit as st

KEY = "last_refresh"  # session key: {"season", "message", "failed", "details", "attempts", "force"}


def show_last_refresh() -> dict[str, Any] | None:
    """Say how the session's last refresh ended, if it has one; returns it."""
    last = st.session_state.get(KEY)
    if last:
        (st.error if last["failed"] else st.success)(
            f"Last refresh ({last['season']}): {last['message']}"
        )
    return last
