# Flower image: monitors the workers through the broker (basic auth from FLOWER_BASIC_AUTH).
# Build context: the repository root (see docker-compose.yaml).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- builder: the locked dependencies of this service only, in a venv ----------------------
FROM ${PYTHON_IMAGE} AS builder
ARG UV_VERSION=0.13.9
# uv comes from PyPI (a registry-less build reaches PyPI, not ghcr.io), in its own venv.
RUN --mount=type=cache,target=/root/.cache/pip \
    python -m venv /opt/uv && /opt/uv/bin/pip install --disable-pip-version-check "uv==${UV_VERSION}"
ENV UV_PROJECT_ENVIRONMENT=/opt/venv UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never UV_FROZEN=1
WORKDIR /src
COPY pyproject.toml uv.lock ./
# Dependencies before code: a code-only change reuses this layer.
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv sync --no-dev --no-install-project --extra flower
COPY docker/slim-venv.sh /usr/local/bin/slim-venv
RUN slim-venv /opt/venv flower celery

# ---- final: slim base + venv + code, non-root ------------------------------------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="nba-archetypes-flower" \
      org.opencontainers.image.description="Flower, the Celery monitoring UI, for the nba-archetypes workers" \
      org.opencontainers.image.source="https://github.com/nba-archetypes/nba-archetypes" \
      org.opencontainers.image.licenses="MIT"
RUN groupadd --system --gid 10001 app \
    && useradd --system --no-log-init --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /data && chown app:app /data
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY common ./common
ENV PATH=/opt/venv/bin:$PATH PYTHONPATH=/app PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    DATA_DIR=/data HOME=/tmp
USER 10001:10001
EXPOSE 5555
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5555/healthcheck', timeout=4)"]
# Basic auth comes from FLOWER_BASIC_AUTH (user:password), read by Flower itself.
CMD ["celery", "-A", "common.celery_app", "flower", "--address=0.0.0.0", "--port=5555"]
