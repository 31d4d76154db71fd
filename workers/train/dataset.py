"""The training table: eligible players of the chosen cleaned seasons, placed in the style space."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from common.failures import NoTrainingDataError
from common.players import NAME_THAT_SEASON, with_latest_names
from common.seasons import Season
from common.storage import DataDir
from workers.train.features import FEATURES, STYLE_SPACE, style_space


@dataclass(frozen=True)
class TrainingData:
    seasons: list[Season]
    # Eligible rows of the cleaned tables, in (SEASON, PLAYER_ID) order; PLAYER_NAME is each
    # player's latest name over every cleaned season, NAME_THAT_SEASON the row's own.
    players: pd.DataFrame
    features: np.ndarray  # style-space coordinates of those rows (features.style_space)
    all_seasons: bool  # every cleaned season on disk: only such a training can be promoted

    @property
    def label(self) -> str:
        first, last = self.seasons[0], self.seasons[-1]
        return f"{first}" if first == last else f"{first}..{last}"

    @property
    def data_hash(self) -> str:
        """Identifies exactly what the model saw and what its results show: same hash, same
        training data. Names and shown columns count too: a season fetched again with a
        player renamed, or cleaned again with more columns, must be published anew."""
        keyed = self.players[["SEASON", "PLAYER_ID", "PLAYER_NAME", NAME_THAT_SEASON]].assign(
            **dict(zip(FEATURES, self.features.T, strict=True)),
            space=STYLE_SPACE,
            columns=",".join(map(str, self.players.columns)),
        )
        digest = pd.util.hash_pandas_object(keyed, index=False).to_numpy()
        return hashlib.sha256(digest.tobytes()).hexdigest()[:16]


def load_training_data(data: DataDir, seasons: list[Season] | None = None) -> TrainingData:
    available = data.cleaned_seasons()
    if not available:
        raise NoTrainingDataError(
            "No cleaned seasons yet: refresh a season, or seed the bundled ones, first."
        )
    chosen = sorted(set(seasons)) if seasons else available
    missing = [str(s) for s in chosen if s not in available]
    if missing:
        raise NoTrainingDataError(
            f"Seasons without cleaned data: {', '.join(missing)}: refresh them first."
        )
    tables = [data.read_cleaned(season) for season in chosen]  # DamagedFileError names it
    # Latest names over every season read, eligible or not: a rename shows even when his
    # newest season is too short to be classified.
    players = with_latest_names(pd.concat(tables, ignore_index=True))
    players = players[players["ELIGIBLE"]].sort_values(["SEASON", "PLAYER_ID"], ignore_index=True)
    if players.empty:
        raise NoTrainingDataError(f"No eligible players in {', '.join(map(str, chosen))}.")
    return TrainingData(chosen, players, style_space(players), all_seasons=chosen == available)
