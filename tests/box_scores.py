"""Real box-score rows for the served model: the bundled recordings as season totals.

What a user sends the model (``workers/train/serving.py``): a player-season's regular-season
totals under the dashboard's names, and his playoff totals as ``PLAYOFF_<name>``. The
recordings are PerGame or Per36 dashboards; the fetch worker's own ``segment_totals`` turns
them back into season totals, as it does before cleaning, so nothing here is made up.
"""

from __future__ import annotations

import pandas as pd

from common.seasons import Season, SeasonType
from common.segments import playoff_column
from devkit.services import RECORDINGS
from workers.fetch.cleaning import aligned_playoffs, segment_totals
from workers.fetch.recordings import bundled_recordings, read_recording, recorded_per_mode
from workers.fetch.response import COUNT_COLUMNS, parse_dashboard
from workers.train.serving import COUNTS


def box_score_rows(season: str) -> pd.DataFrame:
    """Every player of ``season``'s recording: ``PLAYER_ID``, ``PLAYER_NAME`` and the model's
    input columns (playoff columns only when the season has a playoff recording)."""
    label = Season.parse(season)
    files = bundled_recordings(RECORDINGS)[label]
    tables = {
        kind: parse_dashboard(read_recording(path), label, kind, recorded_per_mode(path))
        for kind, path in files.items()
    }
    regular = tables[SeasonType.REGULAR]
    reg = segment_totals(regular)
    columns = {c: reg.counts[:, COUNT_COLUMNS.index(c)] for c in COUNTS}
    rows = pd.DataFrame(
        {
            "PLAYER_ID": reg.player_ids,
            "PLAYER_NAME": regular.players["PLAYER_NAME"].to_numpy(),
            "SEASON": str(label),
            "GP": reg.games,
            "MIN": reg.minutes,
            **columns,
        }
    )
    if SeasonType.PLAYOFFS in tables:
        po = aligned_playoffs(reg, tables[SeasonType.PLAYOFFS])
        rows[playoff_column("MIN")] = po.minutes
        for c in COUNTS:
            rows[playoff_column(c)] = po.counts[:, COUNT_COLUMNS.index(c)]
    return rows


def player_row(rows: pd.DataFrame, name: str) -> pd.DataFrame:
    """The one row of ``name`` (a one-row frame)."""
    found = rows[rows["PLAYER_NAME"] == name]
    assert len(found) == 1, f"{name}: {len(found)} rows"
    return found
