"""compose.postgres.yaml: the bot on a PostgreSQL service, with the password only in .env."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.database_url import DatabaseUrl
from tests.test_ops_files import parse_yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def compose() -> dict[str, Any]:
    return parse_yaml((ROOT / "compose.postgres.yaml").read_text())


def test_the_bot_waits_for_a_healthy_database_and_gets_the_driver(compose: dict[str, Any]) -> None:
    bot, db = compose["services"]["bot"], compose["services"]["db"]
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert "pg_isready" in db["healthcheck"]["test"]
    assert bot["build"]["args"]["BOT_EXTRAS"] == "postgres"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "ARG BOT_EXTRAS" in dockerfile and '".[$BOT_EXTRAS]"' in dockerfile


def test_the_password_comes_from_env_and_the_url_names_the_service(compose: dict[str, Any]) -> None:
    bot, db = compose["services"]["bot"], compose["services"]["db"]
    url = bot["environment"]["DATABASE_URL"]
    assert re.fullmatch(r"postgresql://bot:\$\{POSTGRES_PASSWORD:\?[^}]+\}@db:5432/bot", url), url
    assert db["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    parsed = DatabaseUrl.parse(url.replace(url[url.index("${"):url.index("}") + 1], "x"))
    assert parsed.is_postgres and parsed.where == "db:5432/bot"
    assert (db["environment"]["POSTGRES_USER"], db["environment"]["POSTGRES_DB"]) == ("bot", "bot")


def test_the_data_is_on_a_named_volume_and_not_published(compose: dict[str, Any]) -> None:
    db = compose["services"]["db"]
    (mount,) = db["volumes"]
    source, target = mount.split(":")
    assert target == "/var/lib/postgresql/data" and source in compose["volumes"]
    assert "ports" not in db, "the database is reachable only on compose's network"
