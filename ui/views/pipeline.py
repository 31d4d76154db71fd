"""Pipeline: refresh buttons, live progress fetch → clean → train → champion, recent trainings."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from common.failures import clip
from common.progress import STEPS, RefreshProgress, follow_refresh
from common.queue_failures import is_queue_error, queue_problem, queue_unreachable
from common.queueing import request_refresh
from common.seasons import FIRST_START_YEAR, Season, current_season, season_range
from ui import last_refresh, results

POLL_S = 1.0
ACTIVE = "refresh_in_progress"  # session key: the refresh followed (season, task_id, joined, force)
STEP_LABELS = dict(zip(STEPS, ("Download", "Clean", "Train", "Champion"), strict=True))


@st.cache_data(ttl=5, show_spinner=False)
def broker_problem() -> str | None:
    """None when Redis answers; otherwise why refreshes are unavailable right now (one line,
    naming ``REDIS_URL``, as the CLI says it)."""
    problem = queue_problem(results.settings().redis_url, timeout_s=0.5)
    return problem[0].upper() + problem[1:] if problem else None


def render() -> None:
    settings = results.settings()
    st.markdown(
        "A refresh downloads a season from stats.nba.com, cleans it, retrains the archetypes "
        "on every stored season, and makes the new model the champion if it fits better.  \n"
        f"[MLflow UI ↗]({settings.mlflow_ui_url}) · "
        f"[Flower: workers and tasks ↗]({settings.flower_url})"
    )

    problem = broker_problem()
    if problem:
        st.error(
            f"{problem.rstrip('.')}. Refreshing is disabled until it is back; "
            "everything else works."
        )
    _refresh_buttons(disabled=problem is not None)
    if st.session_state.get(ACTIVE) and not problem:
        _progress()
    elif last := last_refresh.show_last_refresh():
        _attempts_and_details(st, last.get("attempts", []), last.get("details", ""))
        if last["failed"] and st.button(
            f"Retry {last['season']}", key="retry_last", disabled=problem is not None
        ):
            _start(last["season"], force=last.get("force", False))  # as it was asked for

    st.subheader("Recent trainings")
    champion = results.current_champion()
    if champion is not None:  # the table's "Promoted" is history: say which one is live
        st.caption(f"Live now: the champion model v{champion.version}.")
    runs = results.recent_trainings()
    if runs.empty:
        st.info("No training yet.")
    else:
        st.dataframe(
            runs,
            hide_index=True,
            width="stretch",
            column_config={
                "started": st.column_config.DatetimeColumn(
                    "Started (UTC)", format="YYYY-MM-DD HH:mm:ss"
                ),
                "status": "Run",
                "seasons": st.column_config.Column("Seasons", width="medium"),
                "winner": st.column_config.Column(
                    "Best candidate", help="The model that won this training's comparison"
                ),
                "archetypes": st.column_config.NumberColumn("Archetypes", format="%d"),
                "stability": st.column_config.NumberColumn(
                    "Stability",
                    format="%.2f",
                    help="The least stable archetype's bootstrap Jaccard: how well it is found "
                    "again in resampled data (0.75 and up: stable)",
                ),
                "seed agreement": st.column_config.NumberColumn(
                    "Seed agreement",
                    format="%.2f",
                    help="Adjusted Rand index between fits with different random seeds",
                ),
                "model version": "Version",
                "promoted": st.column_config.CheckboxColumn(
                    "Promoted",
                    help="Its model became the champion when it was trained (a later one may "
                    "have replaced it: the caption above names the live one)",
                ),
            },
        )
    if logged := results.latest_season_reports(champion.run_id if champion else None):
        _season_reports(logged)


def _season_reports(logged: results.LoggedReports) -> None:
    """How the model that first assigned a new season sees it (common/season_report.py)."""
    seasons = ", ".join(r.season for r in logged.reports)
    st.subheader(f"New season: {seasons}")
    st.caption(
        f"Model v{logged.version}, trained {logged.started:%Y-%m-%d %H:%M} UTC, on seasons its "
        "champion had not seen. A player fits no archetype when he is farther from every "
        "archetype's centre than 95 % of the players of the seasons seen are from theirs."
    )
    for report in logged.reports:
        if report.unusual:
            st.warning(
                f"{report.summary()}. The archetypes may not describe this season well: "
                "look at the players below, and at the shares that moved."
            )
        else:
            st.info(report.summary() + ".")
        before = " … ".join(report.compared_with[:: max(len(report.compared_with) - 1, 1)])
        shares = pd.DataFrame(
            {
                "Archetype": [s.archetype for s in report.shares],
                "Share of minutes": [100 * s.share for s in report.shares],
                f"Before ({before or 'none'})": [
                    None if s.before is None else 100 * s.before for s in report.shares
                ],
                "Change (points)": [
                    None if s.change is None else 100 * s.change for s in report.shares
                ],
            }
        )
        percent = st.column_config.NumberColumn(format="%.1f")
        left, right = st.columns(2)
        left.dataframe(
            shares,
            hide_index=True,
            column_config={c: percent for c in shares.columns[1:]},
            key=f"shares-{report.season}",
        )
        right.dataframe(
            pd.DataFrame(
                {
                    "Fits no archetype": [m.player for m in report.misfits],
                    "Team": [m.team for m in report.misfits],
                    "Nearest archetype": [m.nearest for m in report.misfits],
                    "Distance": [m.distance for m in report.misfits],
                }
            ),
            hide_index=True,
            column_config={"Distance": st.column_config.NumberColumn(format="%.2f")},
            key=f"misfits-{report.season}",
        )


def _refresh_buttons(disabled: bool) -> None:
    current = current_season()
    busy = bool(st.session_state.get(ACTIVE))
    force = st.toggle("Download again even if a complete copy is stored", key="force")
    if st.button(
        f"Refresh the current season ({current})",
        type="primary",
        disabled=disabled or busy,
        key="refresh_current",
    ):
        _start(str(current), force)
    with st.expander("Refresh another season"):
        downloaded = set(results.seasons_stored())
        seasons = season_range(Season(FIRST_START_YEAR), current)[::-1]
        columns = st.columns(6)
        for i, season in enumerate(seasons):
            label = f"{season}{' ✓' if str(season) in downloaded else ''}"
            if columns[i % 6].button(
                label, key=f"refresh_{season}", disabled=disabled or busy, width="stretch"
            ):
                _start(str(season), force)
        st.caption("✓ = downloaded. Complete past seasons are not downloaded again unless forced.")


def _start(season: str, force: bool) -> None:
    try:
        ticket = request_refresh(season, force=force)
    except Exception as error:  # the broker went away between the check and the click
        url = results.settings().redis_url
        problem = queue_unreachable(url, error) if is_queue_error(error) else clip(error, 200)
        st.error(f"Could not queue the refresh: {problem}")
        return
    st.session_state[ACTIVE] = {
        "season": season,
        "task_id": ticket.task_id,
        "joined": ticket.joined_existing,
        "force": force,
    }
    st.rerun()


@st.fragment(run_every=POLL_S)
def _progress() -> None:
    active = st.session_state.get(ACTIVE)
    if not active:
        return
    progress = follow_refresh(active["task_id"], active["season"])
    joined = " (joined a refresh already in progress)" if active.get("joined") else ""
    # Not ``with st.status(...)``: leaving the block marks a running status complete, and
    # the spinner would turn into a check mark while the refresh is still going.
    box = st.status(f"Refresh {active['season']}{joined}", state=progress.state, expanded=True)
    box.markdown(" → ".join(_steps(progress)))
    box.progress(progress.fraction)
    attempts = active.setdefault("attempts", [])  # every failed attempt seen, in order
    if progress.retry and progress.message not in attempts:
        attempts.append(progress.message)
    if progress.failed:
        box.error(progress.message)
    elif progress.done:
        box.success(progress.message)
    elif not progress.retry:
        box.write(progress.message)
    _attempts_and_details(box, attempts, progress.details)
    if progress.done:
        st.session_state[ACTIVE] = None
        st.session_state[last_refresh.KEY] = {
            "season": active["season"],
            "force": active.get("force", False),
            "message": progress.message,
            "failed": progress.failed,
            "details": progress.details,
            "attempts": attempts,
        }
        results.current_champion.clear()
        results.recent_trainings.clear()
        results.seasons_changed()  # the season's ✓, and the Data page's row
        st.rerun(scope="app")


def _attempts_and_details(where: Any, attempts: list[str], details: str) -> None:
    """The failed attempts of a download (each a line: "attempt 2 of 5 failed: ...; next in
    4 s"), then a failure's technical details, folded away."""
    if attempts:
        where.warning("  \n".join(attempts))
    if details:
        with where.expander("Technical details"):
            st.code(details, language=None, wrap_lines=True)


def _steps(progress: RefreshProgress) -> list[str]:
    """Download → Clean → Train → Champion, marked done (✓), current (bold), failed (✗)."""
    reached = list(STEP_LABELS).index(progress.step)
    marked = []
    for i, label in enumerate(STEP_LABELS.values()):
        if i < reached or (i == reached and progress.done and not progress.failed):
            marked.append(f"✓ {label}")
        elif i == reached:
            marked.append(f"✗ **{label}**" if progress.failed else f"**{label}…**")
        elif progress.done:
            marked.append(f"~~{label}~~")  # not reached: failed, or nothing new to train on
        else:
            marked.append(label)
    return marked
