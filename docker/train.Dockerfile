# Train worker image.
# Build context: the repository root (see docker-compose.yaml).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- builder: the locked dependencies of this service only, in a venv ----------------------
FROM ${PYTHON_IMAGE} AS builder
ARG UV_VERSION=0.13.9
# binutils for slim-venv's `strip` (pyarrow's libraries): builder only, the final stage has none.
# Unpinned on purpose: a build tool that leaves no trace in the image; Debian drops superseded
# versions from its mirrors, so a pin would break builds within weeks.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends binutils \
    && rm -rf /var/lib/apt/lists/*
# uv comes from PyPI (a registry-less build reaches PyPI, not ghcr.io), in its own venv.
RUN --mount=type=cache,target=/root/.cache/pip \
    python -m venv /opt/uv && /opt/uv/bin/pip install --disable-pip-version-check "uv==${UV_VERSION}"
ENV UV_PROJECT_ENVIRONMENT=/opt/venv UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never UV_FROZEN=1
WORKDIR /src
COPY pyproject.toml uv.lock ./
# Dependencies before code: a code-only change reuses this layer.
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv sync --no-dev --no-install-project --extra train
COPY docker/slim-venv.sh /usr/local/bin/slim-venv
RUN slim-venv /opt/venv pyarrow.parquet pandas sklearn.cluster mlflow.sklearn skops.io PIL.ImageDraw celery

# ---- final: slim base + venv + code, non-root ------------------------------------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="nba-archetypes-train" \
      org.opencontainers.image.description="Train worker (clusterers -> MLflow runs, registry, champion)" \
      org.opencontainers.image.source="https://github.com/nba-archetypes/nba-archetypes" \
      org.opencontainers.image.licenses="MIT"
RUN groupadd --system --gid 10001 app \
    && useradd --system --no-log-init --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /data && chown app:app /data
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY common ./common
COPY workers/__init__.py ./workers/__init__.py
COPY workers/train ./workers/train
ENV PATH=/opt/venv/bin:$PATH PYTHONPATH=/app PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    DATA_DIR=/data HOME=/tmp
USER 10001:10001
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import socket, sys; from common.celery_app import app; sys.exit(0 if app.control.ping(['train@' + socket.gethostname()], timeout=5) else 1)"]
# Exec form: celery is PID 1 and gets SIGTERM for a warm shutdown.
CMD ["celery", "-A", "workers.train.tasks", "worker", "-Q", "train", "-c", "1", "-n", "train@%h", "--loglevel", "INFO"]
