"""What the pipeline's tasks report, typed and defined once: the workers build these, the app
and the CLI read them back.

Celery carries results and progress as JSON, so each type goes out with :meth:`to_json` and
comes back with :meth:`from_json`, which ignores keys it does not know (a result stored by an
older or newer worker still reads).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, Self

FetchStatus = Literal["updated", "no-games", "up-to-date", "superseded"]
TrainingStatus = Literal["promoted", "kept-champion", "experiment", "skipped"]


class _Json:
    def to_json(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Self:
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in (data or {}).items() if k in known})


@dataclass(frozen=True)
class TaskProgress(_Json):
    """A running task's PROGRESS: which stage, how far, and a line for people. ``retry``: the
    line is a failed download attempt that will be tried again."""

    stage: str = ""
    message: str = ""
    done: int = 0
    total: int = 0
    retry: bool = False
    season: str | None = None

    @property
    def fraction(self) -> float | None:
        return self.done / self.total if self.total else None


@dataclass(frozen=True)
class FetchResult(_Json):
    """How a fetch of one season ended (task ``fetch.season``).

    ``updated``: stored; ``no-games``: the site has no games for it yet, nothing stored;
    ``up-to-date``: stored since the request was made, not written again; ``superseded``: a
    newer request for the season took over (``superseded_by``), which writes it instead."""

    status: FetchStatus
    season: str
    fetched: bool = False  # downloaded now (False: a complete copy on disk was re-cleaned)
    rows: int = 0
    eligible: int = 0
    playoff_players: int = 0
    training_task_id: str | None = None  # the training that will include this data
    superseded_by: str | None = None

    @property
    def stored(self) -> bool:
        return self.status == "updated"

    @property
    def summary(self) -> str:
        """How it ended, in a sentence for people (the app's progress and the CLI's line)."""
        if self.status == "updated":
            return f"{self.season}: {self.rows} players stored ({self.eligible} eligible)."
        if self.status == "no-games":
            return f"The NBA site reports no games for {self.season} yet: nothing stored."
        if self.status == "up-to-date":
            return f"{self.season} was stored after this refresh was asked for: not written again."
        return f"{self.season}: a newer refresh of it took over."


@dataclass(frozen=True)
class SeedResult(_Json):
    """The bundled seasons imported (task ``fetch.seed_recordings``), and the training after."""

    seeded: list[str] = field(default_factory=list)
    training_task_id: str | None = None


@dataclass(frozen=True)
class TrainingResult(_Json):
    """How a training ended (task ``train.archetypes``, or ``train --inline``)."""

    status: TrainingStatus
    message: str
    champion_version: str | None
    run_id: str | None = None
    model_version: str | None = None
    winner: str | None = None
    n_archetypes: int | None = None
    min_jaccard: float | None = None
    champion_min_jaccard: float | None = None
    candidates: int = 0
    seasons: int = 0
    players: int = 0

    @property
    def live_version(self) -> str | None:
        """The version the app shows after this training, if it changed what is shown."""
        if self.status == "promoted":
            return self.model_version
        if self.status == "kept-champion":
            return self.champion_version
        return None
