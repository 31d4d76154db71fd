# MLflow tracking server and UI over the shared volume's mlflow.db and artifacts.
# Build context: the repository root (see docker-compose.yaml).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ARG UV_VERSION=0.13.9
# binutils for slim-venv's `strip` (pyarrow's libraries): builder only, the final stage has none.
# Unpinned on purpose: a build tool that leaves no trace in the image; Debian drops superseded
# versions from its mirrors, so a pin would break builds within weeks.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends binutils \
    && rm -rf /var/lib/apt/lists/*
RUN --mount=type=cache,target=/root/.cache/pip \
    python -m venv /opt/uv && /opt/uv/bin/pip install --disable-pip-version-check "uv==${UV_VERSION}"
ENV UV_PROJECT_ENVIRONMENT=/opt/venv UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never UV_FROZEN=1
WORKDIR /src
COPY pyproject.toml uv.lock ./
# MLflow itself (the `tracking` extra, locked in uv.lock); no project code is needed.
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv sync --no-dev --no-install-project --extra tracking
COPY docker/slim-venv.sh /usr/local/bin/slim-venv
RUN slim-venv /opt/venv mlflow.server

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="nba-archetypes-mlflow" \
      org.opencontainers.image.description="MLflow tracking server and UI for the shared data volume" \
      org.opencontainers.image.source="https://github.com/nba-archetypes/nba-archetypes" \
      org.opencontainers.image.licenses="MIT"
RUN groupadd --system --gid 10001 app \
    && useradd --system --no-log-init --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /data /app && chown app:app /data /app
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
# No server-side job execution (GenAI scorers, prompt optimisation, trace archival): unused here,
# and it starts a job runner plus seven Huey consumers that cost 1.5 GB of RAM and slow the
# server's start enough to fail its health checks on a 2-core machine.
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 HOME=/tmp \
    MLFLOW_DISABLE_TELEMETRY=true MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false
USER 10001:10001
EXPOSE 5000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/health', timeout=4)"]
# Workers and the UI use the sqlite store directly; this server is the browsing UI.
# --allowed-hosts: requests carry Host: mlflow:5000 or localhost:5000, else 403.
CMD ["mlflow", "server", "--backend-store-uri", "sqlite:////data/mlflow.db", \
     "--default-artifact-root", "/data/mlartifacts", "--host", "0.0.0.0", "--port", "5000", \
     "--workers", "1", "--allowed-hosts", "mlflow,mlflow:5000,localhost,localhost:5000,127.0.0.1,127.0.0.1:5000"]
