"""The served model: box-score rows in, archetype, memberships and style coordinates out.

Every published version (``publishing.publish_model``) is this MLflow ``python_function``
model, so the champion answers outside the app too::

    mlflow.pyfunc.load_model("models:/nba-archetypes@champion").predict(rows)
    mlflow models serve -m models:/nba-archetypes@champion --env-manager local

**Input** (``INPUT_COLUMNS``, the signature): one row per player-season, ``SEASON`` and his
regular-season totals under the league dashboard's own names (PerMode=Totals: ``GP``, ``MIN``,
``FGA`` …); optionally his playoff totals as ``PLAYOFF_<name>`` (missing or null: none). Any
other dashboard column may come along; MLflow drops it.

**The path is the app's**: playoffs folded in and per-36 rates and shot mix taken with the
cleaning's own arithmetic (``common/box_score.py``), each feature scored among the eligible
players of its season as seen in training (``features.style_space`` with the training rows as
reference, kept with the model), archetype from the fitted k-means (skops), memberships and
map coordinates from the same ``Placement`` the assignments were built with. A player-season
the champion was trained on gets the answer the app shows.

**A season the model has not seen is refused** (HTTP 400 when served): era adjustment ranks a
player among his season's players, which a handful of rows in a request cannot stand for. The
champion covers every stored season (a refresh republishes it with the new one, seconds after
the fetch), so the answer is: refresh the season, then ask the new champion version.

**Output** (``output_schema``): ``SEASON``, ``ELIGIBLE`` (20+ games and 500+ minutes, as the
app requires to classify a player; others are answered too, from few minutes), then the
assignments' own columns: ``ARCHETYPE`` (id), ``ARCHETYPE_NAME``, ``MEMBERSHIP_<id>``, ``X``/``Y``
(the app's map) and ``Z_<feature>`` (the style space). Archetype names by id are also in the
model's ``model_config``.

Pickle-free, like the rest of the project: the model is "models from code"
(``served_model.py`` runs ``set_model``), the estimator is skops, the reference Parquet and the
rest plain values in ``MLmodel`` (``model_config``); the code it runs is logged with it
(``code_paths``), so it loads wherever its requirements are installed.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, NoReturn

import mlflow
import numpy as np
import pandas as pd
import skops.io
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.models.model import ModelInfo
from mlflow.pyfunc import PythonModel, PythonModelContext
from mlflow.types.schema import ColSpec, Schema

import common
import workers
from common.box_score import fold_playoffs, is_eligible, per36, shot_mix
from common.segments import playoff_column
from common.style import FEATURES, membership_column, style_column
from workers.train.assignments import Placement
from workers.train.candidates import SKOPS_TRUSTED_TYPES
from workers.train.features import STYLE_SPACE, UnknownSeasonError, style_space
from workers.train.scoring import MapProjection

# The dashboard's totals the features are computed from, in the dashboard's order: the counts
# of the per-36 features and of the shot mix (FG3A_RATE = FG3A / FGA, FTA_RATE = FTA / FGA).
COUNTS = ["FGA", "FG3A", "FTA", "OREB", "DREB", "AST", "TOV", "STL", "BLK", "PF"]
PER36_FEATURES = [f for f in FEATURES if f.endswith("_PER36")]
SHOT_MIX_FEATURES = ["FG3A_RATE", "FTA_RATE"]  # common.box_score.shot_mix's order
REGULAR_COLUMNS = ["GP", "MIN", *COUNTS]
PLAYOFF_COLUMNS = [playoff_column(c) for c in ("MIN", *COUNTS)]
INPUT_COLUMNS = ["SEASON", *REGULAR_COLUMNS, *PLAYOFF_COLUMNS]

ESTIMATOR = "estimator"  # artifact keys, and file stems in the model's artifacts folder
REFERENCE = "reference"
ENTRY_POINT = Path(__file__).with_name("served_model.py")  # models from code: what MLflow runs
# Explicit requirements: letting MLflow infer them re-imports the model (~2.8 s per model).
PIP_REQUIREMENTS = [
    f"{pkg}=={version(pkg)}"
    for pkg in ("scikit-learn", "skops", "numpy", "scipy", "pandas", "pyarrow")
]


def input_schema() -> Schema:
    """Numbers are doubles (counts from PerGame data are not whole); JSON integers are
    converted when served, a DataFrame given to ``predict`` must hold floats."""
    return Schema(
        [
            ColSpec("string", "SEASON"),
            *(ColSpec("double", c) for c in REGULAR_COLUMNS),
            *(ColSpec("double", c, required=False) for c in PLAYOFF_COLUMNS),
        ]
    )


def output_schema(archetypes: int) -> Schema:
    return Schema(
        [
            ColSpec("string", "SEASON"),
            ColSpec("boolean", "ELIGIBLE"),
            ColSpec("long", "ARCHETYPE"),
            ColSpec("string", "ARCHETYPE_NAME"),
            *(ColSpec("double", membership_column(j)) for j in range(archetypes)),
            ColSpec("double", "X"),
            ColSpec("double", "Y"),
            *(ColSpec("double", style_column(f)) for f in FEATURES),
        ]
    )


def signature(archetypes: int) -> ModelSignature:
    return ModelSignature(inputs=input_schema(), outputs=output_schema(archetypes))


def model_config(
    placement: Placement, *, playoff_weight: float, min_games: int, min_minutes: float
) -> dict[str, Any]:
    """What the model needs besides its estimator and reference, as plain values (MLmodel)."""
    projection = placement.projection
    return {
        "style_space": STYLE_SPACE,
        "features": list(FEATURES),
        "archetypes": list(placement.names),
        "membership_variance": placement.variance,
        "map_mean": projection.mean.tolist(),
        "map_components": projection.components.tolist(),
        "map_signs": projection.signs.tolist(),
        "playoff_weight": playoff_weight,
        "eligible_min_games": min_games,
        "eligible_min_minutes": min_minutes,
    }


@dataclass(frozen=True)
class ServedModel:
    """What a published version serves: the fitted estimator, the ``reference`` rows of its
    era adjustment (``SEASON`` and FEATURES of the rows it was published with,
    ``features.reference_table``) and its ``config`` (``model_config``)."""

    estimator: Any
    reference: pd.DataFrame
    config: dict[str, Any]

    def log(self, name: str) -> ModelInfo:
        """Log it in the active run as the model ``name``."""
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            skops.io.dump(self.estimator, folder / f"{ESTIMATOR}.skops")
            self.reference.to_parquet(folder / f"{REFERENCE}.parquet", index=False)
            with warnings.catch_warnings(), _no_pip_version_warning():
                # "An input example was not provided": the signature is explicit, and the
                # training table keeps rates, not the totals an example row would need.
                warnings.filterwarnings("ignore", ".*An input example was not provided")
                return mlflow.pyfunc.log_model(
                    name=name,
                    python_model=str(ENTRY_POINT),
                    artifacts={
                        ESTIMATOR: str(folder / f"{ESTIMATOR}.skops"),
                        REFERENCE: str(folder / f"{REFERENCE}.parquet"),
                    },
                    model_config=self.config,
                    code_paths=_code(folder / "code"),
                    signature=signature(len(self.config["archetypes"])),
                    pip_requirements=PIP_REQUIREMENTS,
                )


@contextmanager
def _no_pip_version_warning() -> Iterator[None]:
    """Without MLflow's "Failed to resolve installed pip version" warning at every training:
    uv makes these environments without pip, and conda.yaml then lists pip unpinned, as it
    should (the model's requirements are pinned in PIP_REQUIREMENTS)."""

    def keep(record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Failed to resolve installed pip version")

    logger = logging.getLogger("mlflow.utils.environment")
    logger.addFilter(keep)
    try:
        yield
    finally:
        logger.removeFilter(keep)


def _code(staging: Path) -> list[str]:
    """The packages the model runs, staged as they are imported: ``common`` and the train
    worker (``workers/__init__.py`` and ``workers/train``), without bytecode."""
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(Path(common.__file__).parent, staging / "common", ignore=ignore)
    train = Path(workers.__file__).parent
    shutil.copytree(train / "train", staging / "workers" / "train", ignore=ignore)
    shutil.copy2(train / "__init__.py", staging / "workers" / "__init__.py")
    return [str(staging / "common"), str(staging / "workers")]


class ArchetypeModel(PythonModel):
    """The pyfunc MLflow loads and serves (see the module docstring)."""

    def load_context(self, context: PythonModelContext) -> None:
        config = context.model_config
        if config["style_space"] != STYLE_SPACE or config["features"] != FEATURES:
            raise MlflowException(
                f"model built for style space {config['style_space']} on {config['features']};"
                f" this code computes {STYLE_SPACE} on {FEATURES}: load it with its own code"
            )
        self.estimator = skops.io.load(context.artifacts[ESTIMATOR], trusted=SKOPS_TRUSTED_TYPES)
        self.reference = pd.read_parquet(context.artifacts[REFERENCE])
        self.placement = Placement(
            self.estimator.cluster_centers_,
            float(config["membership_variance"]),
            MapProjection(
                np.asarray(config["map_mean"]),
                np.asarray(config["map_components"]),
                np.asarray(config["map_signs"]),
            ),
            list(config["archetypes"]),
        )
        self.playoff_weight = float(config["playoff_weight"])
        self.min_games = int(config["eligible_min_games"])
        self.min_minutes = float(config["eligible_min_minutes"])

    def predict(
        self,
        context: PythonModelContext,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        rows = checked_rows(model_input)
        table = style_inputs(rows, self.playoff_weight)
        try:
            X = style_space(table, reference=self.reference)
        except UnknownSeasonError as error:
            raise MlflowException.invalid_parameter_value(
                f"{error}. The model ranks a player among his season's players as seen in "
                "training: refresh the season (`nba-archetypes refresh <season>`), then load "
                "or serve the champion version that follows."
            ) from error
        labels = self.estimator.predict(X)
        eligible = is_eligible(
            rows["GP"].to_numpy(),
            rows["MIN"].to_numpy(),
            min_games=self.min_games,
            min_minutes=self.min_minutes,
        )
        head = pd.DataFrame({"SEASON": table["SEASON"], "ELIGIBLE": eligible})
        return pd.concat([head, self.placement.answers(X, labels)], axis=1)


def checked_rows(model_input: pd.DataFrame) -> pd.DataFrame:
    """The input with a season label and non-negative numbers in every required column, and
    every playoff column (absent or null: no playoffs), or a clear refusal."""
    rows = model_input.reset_index(drop=True)
    missing = [c for c in ["SEASON", *REGULAR_COLUMNS] if c not in rows.columns]
    if missing:
        _refuse(f"missing column(s) {', '.join(missing)}")
    if rows.empty:
        _refuse("no rows")
    seasons = rows["SEASON"]
    if seasons.isna().any():
        _refuse(f"no SEASON in row(s) {_first(np.flatnonzero(seasons.isna().to_numpy()))}")
    playoffs = pd.DataFrame(
        {c: rows[c] if c in rows.columns else 0.0 for c in PLAYOFF_COLUMNS}, index=rows.index
    ).fillna(0.0)
    numbers = pd.concat([rows[REGULAR_COLUMNS], playoffs], axis=1).astype("float64")
    bad = ~np.isfinite(numbers.to_numpy()) | (numbers.to_numpy() < 0)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        _refuse(
            f"{int(bad.sum())} value(s) missing, negative or not finite, first "
            f"{numbers.columns[column]} of row {row} ({numbers.iloc[row, column]})"
        )
    for threes, shots in (("FG3A", "FGA"), (playoff_column("FG3A"), playoff_column("FGA"))):
        over = np.flatnonzero((numbers[threes] > numbers[shots]).to_numpy())
        if len(over):  # a 3-point share above 100 %
            row = over[0]
            _refuse(
                f"{threes} above {shots} (threes are field goals) in row(s) {_first(over)}, "
                f"first {numbers.at[row, threes]:g} of {numbers.at[row, shots]:g}"
            )
    return pd.concat([seasons.astype(str).str.strip(), numbers], axis=1)


def style_inputs(rows: pd.DataFrame, playoff_weight: float) -> pd.DataFrame:
    """``SEASON`` and the FEATURES of checked rows, as cleaning computes them."""

    def season_total(column: str) -> np.ndarray:
        regular = rows[column].to_numpy()
        return fold_playoffs(regular, rows[playoff_column(column)].to_numpy(), playoff_weight)

    total = {c: season_total(c) for c in ("MIN", *COUNTS)}
    counts = np.column_stack([total[f.removesuffix("_PER36")] for f in PER36_FEATURES])
    rates = per36(counts, total["MIN"])
    mix = shot_mix(total["FGA"], total["FG3A"], total["FTA"])
    values = dict(zip(PER36_FEATURES, rates.T, strict=True)) | dict(
        zip(SHOT_MIX_FEATURES, mix.T, strict=True)
    )
    return pd.DataFrame({"SEASON": rows["SEASON"], **{f: values[f] for f in FEATURES}})


def _refuse(message: str) -> NoReturn:
    raise MlflowException.invalid_parameter_value(f"Cannot place these rows: {message}.")


def _first(indices: np.ndarray, shown: int = 5) -> str:
    listed = ", ".join(str(i) for i in indices[:shown])
    return listed + (f" and {len(indices) - shown} more" if len(indices) > shown else "")
