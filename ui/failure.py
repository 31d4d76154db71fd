"""How the app shows a failure: the cause and what to do in one line, the details folded away."""

from __future__ import annotations

import streamlit as st

from common.failures import split_error


def show_failure(error: BaseException | str, prefix: str = "") -> None:
    headline, details = split_error(str(error))
    st.error(prefix + headline)
    if details:
        with st.expander("Technical details"):
            st.code(details, language=None, wrap_lines=True)
