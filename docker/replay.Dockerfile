# Replay server: stands in for stats.nba.com with real recorded responses (offline runs, tests).
# Standard library only, so no venv: the slim base and the package are all it needs.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="nba-archetypes-replay" \
      org.opencontainers.image.description="Replays recorded stats.nba.com responses, with fault injection" \
      org.opencontainers.image.source="https://github.com/nba-archetypes/nba-archetypes" \
      org.opencontainers.image.licenses="MIT"
RUN groupadd --system --gid 10001 app \
    && useradd --system --no-log-init --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app
WORKDIR /app
COPY replay ./replay
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
EXPOSE 8765
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8765/_replay/health', timeout=2)"]
CMD ["python", "-m", "replay", "--host", "0.0.0.0", "--port", "8765"]
