"""Publishing a model: a fitted model with its profiles, assignments and plot, logged to a run
and registered as a new version of the registered model. Both a training's winner and the
champion republished on new data (``workers/train/promotion.py``) are published this way."""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

from common.champion import (
    KIND_TRAINING,
    TAG_ALL_SEASONS,
    TAG_CONFIG_HASH,
    TAG_DATA_HASH,
    TAG_FEATURES,
    TAG_KIND,
    TAG_SEASONS,
    TAG_SPACE,
)
from common.season_report import SEASON_REPORT_ARTIFACT, TAG_NEW_SEASONS, SeasonReport
from workers.train.assignments import Placement, build_assignments
from workers.train.dataset import TrainingData
from workers.train.features import FEATURES, STYLE_SPACE, reference_table, shooting_skills
from workers.train.new_seasons import new_season_reports
from workers.train.plot import archetype_scatter
from workers.train.profiles import archetype_profiles, with_examples
from workers.train.scoring import Evaluation
from workers.train.serving import ServedModel, model_config
from workers.train.tracking import TrainingRun

log = logging.getLogger(__name__)


def publish_model(
    run: TrainingRun,
    data: TrainingData,
    evaluation: Evaluation,
    previous: list[dict[str, Any]] | None,
    seen: Collection[str] = (),
) -> str:
    """Log a model with its profiles, assignments and plot in ``run``; register it. Returns
    the new version. ``previous``: the champion's profiles, whose names and colours carry over;
    ``seen``: the champion's seasons (the others get a new-season report).

    The model is the served one (``workers/train/serving.py``): it answers box-score rows of
    these seasons as the assignments do, through the same ``Placement`` and, as reference for
    the era adjustment, these rows."""
    model = evaluation.model
    centroids = model.cluster_centers_
    profiles = archetype_profiles(data.players, evaluation.labels, centroids, previous)
    placement = Placement.measure(data.features, centroids, profiles)
    skills = shooting_skills(data.players, run.settings.playoff_weight)
    assignments = build_assignments(
        data.players, data.features, evaluation.labels, placement, skills
    )
    profiles = with_examples(profiles, assignments)
    plot = archetype_scatter(assignments, profiles, f"{len(profiles)} archetypes, {data.label}")
    names = {p["id"]: p["name"] for p in profiles}
    reports = new_season_reports(
        data.players, data.features, evaluation.labels, centroids, names, seen=seen
    )
    if reports:
        log_season_reports(run, reports)
    settings = run.settings
    config = model_config(
        placement,
        playoff_weight=settings.playoff_weight,
        min_games=settings.eligible_min_games,
        min_minutes=settings.eligible_min_minutes,
    )
    served = ServedModel(model, reference_table(data.players), config)
    return run.register(run.log_model(served, assignments, profiles, plot))


def log_season_reports(run: TrainingRun, reports: list[SeasonReport]) -> None:
    run.log_json(SEASON_REPORT_ARTIFACT, [report.to_json() for report in reports])
    run.log_summary(
        metrics={f"misfit_share.{r.season}": r.misfit_share for r in reports},
        params={},
        tags={TAG_NEW_SEASONS: ",".join(r.season for r in reports)},
    )
    for report in reports:
        (log.warning if report.unusual else log.info)("new season: %s", report.summary())


def run_tags(data: TrainingData, cfg_hash: str) -> dict[str, str]:
    """What every training run is tagged with: what it was trained on, and how."""
    return {
        TAG_KIND: KIND_TRAINING,
        TAG_SEASONS: ",".join(str(s) for s in data.seasons),
        TAG_DATA_HASH: data.data_hash,
        TAG_CONFIG_HASH: cfg_hash,
        TAG_FEATURES: ",".join(FEATURES),
        TAG_SPACE: STYLE_SPACE,
        TAG_ALL_SEASONS: str(data.all_seasons).lower(),
    }
