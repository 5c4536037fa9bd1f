# syntax=docker/dockerfile:1
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A fixed uid/gid so a bind-mounted /data can be chowned to match from the host.
RUN groupadd --system --gid 10001 bot \
    && useradd --system --uid 10001 --gid bot --home-dir /app --no-create-home --shell /usr/sbin/nologin bot

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot/ bot/
COPY cogs/ cogs/
RUN pip install . \
    && rm -rf build ./*.egg-info

# The database and the heartbeat file live on the volume; the bot runs as `bot`, which owns it.
ENV DATABASE_URL=sqlite:////data/bot.sqlite3
RUN mkdir -p /data && chown 10001:10001 /data
VOLUME /data
# Numeric, so the runtime (and a host chowning /data) need not resolve the name.
USER 10001:10001

# Healthy while the heartbeat the running bot writes every 15 s (while connected to Discord and
# polling) is fresh; `bot health` reads only that file, so it stays cheap to run every 30 s.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-m", "bot", "health"]

# Exec form: Python is PID 1's direct child (or PID 1 itself) and receives SIGTERM for a clean stop.
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bot"]
