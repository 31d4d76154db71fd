"""Who played like him: nearest player-seasons in the style space, and finding a player by name.

The champion's assignments carry every player-season's coordinates in the style space
(``Z_*`` columns, see ``common/style.py``), the space the archetypes were found in. Similarity
is plain Euclidean distance there, over every season by default: the nearest player is listed
first whatever his archetype (a closer player across an archetype boundary is still closer).
The player's own other seasons are left out: the question is who *else* played like him.

Shared by the app and the CLI, so both give the same answer. Needs pandas and NumPy only.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from common.style import STYLE_PREFIX, feature_label

N_REASONS = 2  # features named as "closest" and "farthest" per match


class PlayerNotFoundError(LookupError):
    """No player-season matches; the message suggests close names or the seasons he has."""


def style_columns(assignments: pd.DataFrame) -> list[str]:
    return [c for c in assignments.columns if c.startswith(STYLE_PREFIX)]


def fold(name: str) -> str:
    """Accent- and case-insensitive form: "Nikola Jokić" and "nikola jokic" fold alike."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().replace(".", "").split())


def find_player(assignments: pd.DataFrame, name: str, season: str) -> pd.Series:
    """The row of ``name`` in ``season`` (accents and case optional).

    Raises :class:`PlayerNotFoundError` saying what is wrong: an unknown name (with close
    names), or a known player without that season (with the seasons he has)."""
    shown = name if len(name) <= 40 else name[:40] + "…"  # never echo a wall of input
    folded = assignments["PLAYER_NAME"].astype(str).map(fold)
    rows = assignments[folded == fold(name)]
    if rows.empty:
        known = sorted(set(assignments["PLAYER_NAME"].astype(str)))
        by_fold = {fold(k): k for k in known}
        close = difflib.get_close_matches(fold(name), list(by_fold), n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(by_fold[c] for c in close)}?" if close else ""
        raise PlayerNotFoundError(f"No player named {shown!r}.{hint}")
    in_season = rows[rows["SEASON"].astype(str) == season]
    if in_season.empty:
        seasons = ", ".join(sorted(rows["SEASON"].astype(str).unique()))
        raise PlayerNotFoundError(
            f"{rows['PLAYER_NAME'].iloc[0]} has no classified season {season[:12]!r}"
            f" (he has {seasons})."
        )
    return in_season.iloc[0]


@dataclass(frozen=True)
class Reason:
    """Why two player-seasons match: the features closest together and farthest apart."""

    closest: list[str]
    farthest: list[str]


def most_similar(
    assignments: pd.DataFrame,
    player: pd.Series,
    *,
    season: str | None = None,
    limit: int = 10,
) -> pd.DataFrame:
    """The ``limit`` player-seasons nearest to ``player`` (all seasons, or one ``season``).

    Adds ``DISTANCE`` (Euclidean, style space), ``SIMILARITY`` (0-100 %, 100 = identical
    style; exp(-distance / 2)), ``RANK`` (1 = nearest), ``CLOSEST`` and ``FARTHEST`` (readable
    feature names, comma-separated), sorted nearest first; ties by name then season.
    """
    columns = style_columns(assignments)
    pool = assignments[assignments["PLAYER_ID"] != player["PLAYER_ID"]]
    if season is not None:
        pool = pool[pool["SEASON"].astype(str) == season]
    target = player[columns].to_numpy(dtype="float64")
    gaps = np.abs(pool[columns].to_numpy(dtype="float64") - target)
    distance = np.sqrt(np.sum(gaps * gaps, axis=1))
    ranked = pool.assign(DISTANCE=distance).sort_values(
        ["DISTANCE", "PLAYER_NAME", "SEASON"], kind="stable"
    )
    top = ranked.head(limit)
    top_gaps = np.abs(top[columns].to_numpy(dtype="float64") - target)
    reasons = [_reason(columns, row) for row in top_gaps]
    return top.assign(
        RANK=np.arange(1, len(top) + 1),
        SIMILARITY=100 * np.exp(-top["DISTANCE"].to_numpy() / 2),
        CLOSEST=[", ".join(r.closest) for r in reasons],
        FARTHEST=[", ".join(r.farthest) for r in reasons],
    )


def _reason(columns: list[str], gaps: np.ndarray) -> Reason:
    order = np.argsort(gaps, kind="stable")
    return Reason(
        closest=[feature_label(columns[i]) for i in order[:N_REASONS]],
        farthest=[feature_label(columns[i]) for i in order[::-1][:N_REASONS]],
    )
