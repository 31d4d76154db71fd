"""Every setting of every service, read from the environment in one place.

Each field maps to an upper-case environment variable of the same name (``DATA_DIR``,
``REDIS_URL``...); ``.env.example`` documents them all. Services call :func:`get_settings`
and never read ``os.environ`` themselves. MLflow's own ``MLFLOW_*`` variables are MLflow's:
read by its client, and by ``common/model_registry.py`` as that client reads them.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.secret_check import redacted


class Settings(BaseSettings):
    # An error names the setting, never repeats its value: REDIS_URL and NBA_PROXY may hold a
    # password, and a model-wide error would quote every setting read.
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", hide_input_in_errors=True
    )

    # --- Shared infrastructure -------------------------------------------------------------
    redis_url: str = Field(
        "redis://localhost:6379/0",
        description="Celery broker, result backend and pipeline bookkeeping (locks, throttle); "
        "redis://:<password>@host:6379/0 when Redis has a password (the multi-host profile).",
        repr=False,
    )
    data_dir: Path = Field(
        Path("var/data"),
        description="Data directory: raw responses, cleaned Parquet, and (without "
        "TRACKING_SERVER_URL) mlflow.db and artifacts. With DATA_STORE=mlflow, this process's "
        "own scratch copy of the seasons.",
    )
    tracking_server_url: str | None = Field(
        None,
        description="MLflow tracking server (http://mlflow:5000) for runs, models and the "
        "registry, artifacts served through it; unset: the SQLite store in DATA_DIR.",
    )
    data_store: Literal["volume", "mlflow"] = Field(
        "volume",
        description="Where seasons live: 'volume', DATA_DIR shared by every service; 'mlflow', "
        "logged as artifacts to the MLflow server at TRACKING_SERVER_URL (needed), each process "
        "keeping a copy in DATA_DIR (common/season_store.py).",
    )
    mlflow_experiment: str = "nba-archetypes"
    mlflow_seasons_experiment: str = Field(
        "nba-archetypes-seasons", description="With DATA_STORE=mlflow: one run per stored season."
    )
    registered_model_name: str = "nba-archetypes"
    log_level: str = "INFO"
    recordings_dir: Path = Field(
        Path(__file__).resolve().parent.parent / "replay" / "recordings",
        description="Bundled real stats.nba.com responses, imported by the seed task.",
    )

    # --- NBA stats upstream (fetch worker) --------------------------------------------------
    nba_stats_base_url: str = Field(
        "https://stats.nba.com/stats",
        description="Point at the replay server (replay/) for offline runs and tests.",
    )
    nba_proxy: str | None = Field(
        None, description="HTTP(S) proxy for stats.nba.com requests.", repr=False
    )
    nba_headers: dict[str, str] = Field(
        default_factory=dict,
        description="Extra request headers (JSON object), merged over nba_api's browser headers.",
    )
    nba_request_timeout_s: float = Field(30.0, gt=0, description="Connect + read timeout.")
    nba_min_request_gap_s: float = Field(
        1.0, ge=0, description="Politeness gap between two calls, shared by all fetch workers."
    )
    nba_max_attempts: int = Field(5, ge=1, description="Attempts per request, retries included.")
    nba_backoff_initial_s: float = Field(2.0, ge=0, description="First retry wait (doubles).")
    nba_backoff_max_s: float = Field(60.0, ge=0, description="Longest single retry wait.")
    nba_backoff_jitter_s: float = Field(1.0, ge=0, description="Random extra wait per retry.")

    # --- Cleaning ------------------------------------------------------------------------------
    playoff_weight: float = Field(
        2.0, ge=0, description="A playoff game counts this many regular-season games."
    )
    eligible_min_games: int = Field(20, ge=0, description="Games needed to be clustered.")
    eligible_min_minutes: float = Field(500.0, ge=0, description="Total minutes needed.")

    # --- Training ------------------------------------------------------------------------------
    random_seed: int = Field(0, description="Seed of k-means' starts in a training.")

    # --- Pipeline ------------------------------------------------------------------------------
    refresh_schedule: str = Field(
        "0 10 * 10-12,1-6 *",
        description="Cron (UTC) for refreshing the current season; default daily Oct-Jun.",
    )
    train_debounce_s: float = Field(
        0.0,
        ge=0,
        description="Extra wait before a fetch's training starts; a burst of fetches shares "
        "one training whatever this is (common/queueing.py).",
    )

    lease_ttl_s: float = Field(
        30.0,
        ge=1,
        description="A claim or lock lapses this long after its task's last heartbeat (a "
        "third of it apart): how soon a killed worker's work is free again (common/leases.py).",
    )
    recovery_interval_s: float = Field(
        15.0,
        gt=0,
        description="How often every worker looks for tasks whose worker died and queues them "
        "again (common/recovery.py).",
    )
    heartbeat_file: Path = Field(
        Path("/tmp/celery-heartbeat"),
        description="The worker's heartbeat for its container's health check, which reads the "
        "same variable (common/health.py, docker/healthcheck.sh).",
    )
    heartbeat_interval_s: float = Field(
        5.0, gt=0, description="How often a worker writes its heartbeat file."
    )

    # --- UI --------------------------------------------------------------------------------------
    mlflow_ui_url: str = "http://localhost:5000"
    flower_url: str = "http://localhost:5555"

    seed_on_empty: bool = Field(
        True, description="Fetch worker imports the bundled seasons on an empty data dir."
    )

    @field_validator("redis_url")
    @classmethod
    def _a_redis_url(cls, value: str) -> str:
        # Said here, in one line: a password with / ? # @ or : written as it is splits the URL
        # elsewhere, and redis-py would then try another host or no password at all.
        try:
            parts = urlsplit(value)
            host, _ = parts.hostname, parts.port
        except ValueError:
            host = None
            parts = None
        if (
            parts is None
            or parts.scheme not in ("redis", "rediss", "unix")
            or not (host or parts.scheme == "unix")
        ):
            raise ValueError(
                f"REDIS_URL is not a Redis URL: {redacted(value)} (redis://:<password>@host:6379/0;"
                " a password holding / ? # @ : or % must be percent-encoded)"
            )
        return value

    @field_validator("data_dir", "recordings_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        # MLflow stores absolute artifact paths; a relative data dir would break across cwd.
        return value.expanduser().resolve()

    @model_validator(mode="after")
    def _seasons_need_a_server(self) -> Settings:
        if self.data_store == "mlflow" and not self.tracking_server_url:
            raise ValueError(
                "DATA_STORE=mlflow keeps the seasons on an MLflow tracking server: set "
                "TRACKING_SERVER_URL (e.g. http://mlflow:5000), or use DATA_STORE=volume"
            )
        return self

    @property
    def tracking_uri(self) -> str:
        # The server when one is set, else the store on the shared volume. Deliberately not
        # read from MLFLOW_TRACKING_URI: mlflow.set_tracking_uri() exports that variable, so
        # one training would otherwise redirect every later Settings() of the process to its store.
        if self.tracking_server_url:
            return self.tracking_server_url.rstrip("/")
        return f"sqlite:///{self.store_file}"

    @property
    def store_file(self) -> Path | None:
        """The SQLite store's file on the shared volume, or ``None`` with a tracking server."""
        return None if self.tracking_server_url else self.data_dir / "mlflow.db"

    @property
    def artifact_root(self) -> Path | None:
        """Where new experiments keep artifacts: the shared volume, or ``None`` with a tracking
        server (its own default, ``mlflow-artifacts:/``, served over HTTP)."""
        return None if self.tracking_server_url else self.data_dir / "mlartifacts"


@cache
def get_settings() -> Settings:
    return Settings()
