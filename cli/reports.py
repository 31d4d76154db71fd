"""``new-season``: the champion's report on the seasons it was the first model to see
(``common/season_report.py``), read as the app reads the champion, without MLflow's client."""

from __future__ import annotations

import json

from cli.output import EXIT_FAILED, NO_CHAMPION, CommandError, echo
from common.champion import find_champion, read_champion_artifact
from common.mlflow_store import answering
from common.season_report import (
    SEASON_REPORT_ARTIFACT,
    TAG_NEW_SEASONS,
    SeasonReport,
    read_season_reports,
)
from common.settings import get_settings

SHIFTS_SHOWN = 4  # the archetypes whose share of minutes moved most


def new_season(*, as_json: bool) -> int:
    settings = get_settings()
    with answering(settings, "read the champion from"):
        champion = find_champion(settings)
        if champion is None:
            raise CommandError(NO_CHAMPION, EXIT_FAILED)
        reports: list[SeasonReport] = []
        if champion.tags.get(TAG_NEW_SEASONS):
            reports = read_champion_artifact(
                settings, champion, SEASON_REPORT_ARTIFACT, read_season_reports
            )
    if as_json:
        answer = {
            "champion_version": champion.version,
            "reports": [r.to_json() | {"unusual": r.unusual} for r in reports],
        }
        echo(json.dumps(answer, ensure_ascii=False, indent=2))
        return 0
    if not reports:
        echo(
            f"Champion v{champion.version} has no new-season report: it was not the first "
            "model to assign a season (the report comes with the training that adds one)."
        )
        return 0
    for report in reports:
        _show(report)
    return 0


def _show(report: SeasonReport) -> None:
    echo(report.summary())
    if report.compared_with:
        span = f"{report.compared_with[0]} … {report.compared_with[-1]}"
        echo(f"  shares of minutes that moved most, against {span}:")
        for shift in report.shares[:SHIFTS_SHOWN]:
            change = shift.change or 0.0
            echo(f"    {shift.archetype}: {shift.share:.1%} ({100 * change:+.1f} points)")
    if report.misfits:
        echo(f"  fit no archetype ({len(report.misfits)}, farthest first):")
        for misfit in report.misfits:
            echo(f"    {misfit.player} ({misfit.team}), nearest {misfit.nearest}")
