"""The new-season report on a small table worked out by hand: two archetypes on a line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from common.season_report import SeasonReport
from workers.train.new_seasons import new_season_reports

NAMES = {0: "Guard", 1: "Big"}
CENTRES = np.array([[0.0], [10.0]])


def _table(rows: list[tuple[str, float, float]]) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """(season, coordinate, minutes) rows → players, X, nearest-centre labels."""
    players = pd.DataFrame(
        {
            "PLAYER_ID": range(len(rows)),
            "PLAYER_NAME": [f"P{i}" for i in range(len(rows))],
            "TEAM_ABBREVIATION": "BOS",
            "SEASON": [season for season, _, _ in rows],
            "MIN": [minutes for _, _, minutes in rows],
        }
    )
    X = np.array([[x] for _, x, _ in rows])
    return players, X, (X[:, 0] > 5).astype(int)


# Seen seasons, with distances to the nearest centre 0, 1, 2, 3, 4 and 0, 1, 2, 3, 8: sorted,
# the 95th percentile (linear) lies 0.55 of the way from 4 to 8, at 6.2; one player is beyond.
SEEN = [
    ("2020-21", 0, 100), ("2020-21", 11, 100), ("2020-21", 2, 100), ("2020-21", 13, 100),
    ("2020-21", 4, 100),
    ("2021-22", 0, 300), ("2021-22", 9, 100), ("2021-22", 2, 100), ("2021-22", 7, 100),
    ("2021-22", 18, 100),
]  # fmt: skip


def test_a_first_training_or_a_known_season_gets_no_report() -> None:
    players, X, labels = _table(SEEN)
    assert new_season_reports(players, X, labels, CENTRES, NAMES, seen=[]) == []
    seen = ["2020-21", "2021-22"]
    assert new_season_reports(players, X, labels, CENTRES, NAMES, seen=seen) == []


def test_the_report_counts_who_fits_no_archetype_and_the_shift_of_minutes() -> None:
    new = [("2022-23", 0, 100), ("2022-23", -7, 100), ("2022-23", 10, 200), ("2022-23", 3, 100)]
    players, X, labels = _table([*SEEN, *new])
    [report] = new_season_reports(players, X, labels, CENTRES, NAMES, seen=["2020-21", "2021-22"])
    assert report.threshold == pytest.approx(6.2)
    # Distances 0, 7, 0, 3: one beyond the threshold.
    assert report.misfit_share == pytest.approx(0.25)
    assert [(m.player, m.nearest, m.distance) for m in report.misfits] == [("P11", "Guard", 7.0)]
    assert report.seen_misfit_shares == {"2020-21": 0.0, "2021-22": 0.2}
    assert report.unusual
    # Minutes: 2022-23 Guard 300 of 500; before it, Guard 300 of 500 and 400 of 700.
    assert report.compared_with == ["2020-21", "2021-22"]
    guard = next(s for s in report.shares if s.archetype == "Guard")
    assert guard.share == pytest.approx(0.6)
    assert guard.before == pytest.approx((0.6 + 4 / 7) / 2)
    assert guard.change == pytest.approx(0.6 - (0.6 + 4 / 7) / 2)
    assert report.summary() == (
        "2022-23: 25.0% of 4 players fit no archetype (seasons seen: 0.0%–20.0%): "
        "more than in any season seen"
    )
    # What the app and the CLI read back is what was written.
    assert SeasonReport.from_json(report.to_json()) == report


def test_a_season_no_stranger_than_those_seen_is_not_unusual() -> None:
    players, X, labels = _table([*SEEN, ("2022-23", 1, 100), ("2022-23", 9, 100)])
    [report] = new_season_reports(players, X, labels, CENTRES, NAMES, seen=["2020-21", "2021-22"])
    assert report.misfit_share == 0
    assert report.misfits == []
    assert not report.unusual
