"""MLflow's environment defaults, defined once for every process that uses MLflow.

MLflow reads these from the environment, not from arguments: telemetry when ``mlflow`` is
first imported (so they must be set before that), the others when a model is logged or
artifacts are downloaded. ``common/__init__.py`` applies them, so importing anything from
``common`` sets them; ``workers/__init__.py`` imports ``common`` first for the train worker's
modules, and the app reaches MLflow only through ``common`` (``common.mlflow_store``). A
value already in the environment wins.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

MLFLOW_DEFAULTS = {
    # MLflow phones home unless told not to (the containers have no outbound network anyway).
    "MLFLOW_DISABLE_TELEMETRY": "true",
    # Seeing uv.lock, MLflow would run `uv export` on every log_model; requirements are explicit.
    "MLFLOW_UV_AUTO_DETECT": "false",
    # No tqdm bars in worker logs, the app's console or the CLI's output.
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    # With a tracking server, every run ended would print "View run ... at: URL" to stdout.
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
    # With a tracking server: MLflow retries 7 times with doubling waits (minutes, made for
    # rate-limited hosted servers); ours is on the next host: 3 retries, ~7 s, ride out a
    # restart of it and still let the app and the tasks say "MLflow is down" within seconds.
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
}


def apply_mlflow_defaults(environ: MutableMapping[str, str] = os.environ) -> None:
    """Set every default the environment does not set already."""
    for name, value in MLFLOW_DEFAULTS.items():
        environ.setdefault(name, value)
