"""Page, seasons and players live in the URL query so any view can be shared as a link.

Widgets take their first value from the URL; a value that is not valid there gets a message
(never a traceback) and the default instead. Changing a widget writes the URL back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import streamlit as st

T = TypeVar("T")


def pick(
    widget: Callable[..., T | None],
    label: str,
    options: Sequence[T],
    *,
    param: str,
    default: T | None,
    parse: Callable[[str], T] | None = None,
    describe: str = "value",
    **kwargs: object,
) -> T | None:
    """A single-choice widget (selectbox, radio...) bound to the query parameter ``param``."""
    key = widget_key(param)
    if key not in st.session_state:
        st.session_state[key] = _from_url(param, options, default, parse, describe)
    elif st.session_state[key] not in options and st.session_state[key] is not None:
        st.session_state[key] = default  # options changed (e.g. another season)
    value = widget(label, options, key=key, **kwargs)
    if value is None:
        st.query_params.pop(param, None)
    else:
        st.query_params[param] = str(value)
    return value


def pick_season(
    widget: Callable[..., str | None], seasons: Sequence[str], default: str | None = None
) -> str | None:
    """The season picker every page has, bound to ``?season=``: the latest season unless
    ``default`` says otherwise."""
    return pick(
        widget,
        "Season",
        seasons,
        param="season",
        default=seasons[-1] if default is None else default,
        describe="season",
    )


def widget_key(param: str) -> str:
    """The session-state key of the widget :func:`pick` binds to ``param``."""
    return f"url_{param}"


def _from_url(
    param: str,
    options: Sequence[T],
    default: T | None,
    parse: Callable[[str], T] | None,
    describe: str,
) -> T | None:
    raw = st.query_params.get(param)
    if raw is None:
        return default
    why = ""
    try:
        value = parse(raw) if parse else raw
    except (TypeError, ValueError):
        value = None
    except LookupError as error:  # the parser says why (a player not found: close names)
        value, why = None, f" ({str(error).rstrip('.')})"
    if value in options:
        return value  # type: ignore[return-value]
    st.warning(
        f"The link asks for {describe} {raw!r}, which is not available here{why}; showing "
        f"{'the default' if default is not None else 'nothing'} instead."
    )
    return default
