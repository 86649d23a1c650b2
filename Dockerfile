# syntax=docker/dockerfile:1
# The bot in a small image. Run it with compose (see compose.yaml): `docker compose up -d --build`.
# Secrets never enter the image: they come from .env at run time (.dockerignore keeps .env out of
# the build context), and the database lives on the /data volume, not in a layer.

# Pinned by version so that a rebuild gets the same Python; bump the tag on purpose.
FROM python:3.11.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DATABASE_PATH=/data/bot.sqlite3 \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=1048576
# (The two MALLOC_ settings make glibc hand large image buffers back at once: bench/RESULTS.md.)

# An unprivileged user that can write nowhere but the data volume; the code stays root-owned.
RUN groupadd --system --gid 10001 bot \
    && useradd --system --uid 10001 --gid bot --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin bot \
    && mkdir /data \
    && chown bot:bot /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
# Dependencies as pyproject.toml declares them; the bot itself runs from /app (`python -m bot`).
# BOT_EXTRAS=postgres adds the PostgreSQL driver (compose.postgres.yaml sets it).
ARG BOT_EXTRAS=""
RUN pip install . \
    && if [ -n "$BOT_EXTRAS" ]; then pip install ".[$BOT_EXTRAS]"; fi \
    && rm -rf build ./*.egg-info

USER 10001:10001
VOLUME ["/data"]
# `docker compose run --rm bot check` runs the pre-flight checks instead of the bot.
ENTRYPOINT ["python", "-m", "bot"]
