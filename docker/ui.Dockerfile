# Streamlit app image: reads results through MLflow on the shared volume, publishes refreshes.
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
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv sync --no-dev --no-install-project --extra ui
COPY docker/slim-venv.sh /usr/local/bin/slim-venv
RUN slim-venv /opt/venv pyarrow.parquet pandas streamlit mlflow celery

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="nba-archetypes-ui" \
      org.opencontainers.image.description="Streamlit app: archetypes, player comparisons, data, refreshes" \
      org.opencontainers.image.source="https://github.com/nba-archetypes/nba-archetypes" \
      org.opencontainers.image.licenses="MIT"
RUN groupadd --system --gid 10001 app \
    && useradd --system --no-log-init --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /data && chown app:app /data
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY common ./common
COPY ui ./ui
COPY docker/streamlit-config.toml /app/.streamlit/config.toml
ENV PATH=/opt/venv/bin:$PATH PYTHONPATH=/app PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    DATA_DIR=/data HOME=/tmp
USER 10001:10001
EXPOSE 8501
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]
CMD ["streamlit", "run", "ui/app.py"]
