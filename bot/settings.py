"""Process configuration, read once from the environment and `.env`.

Everything an operator can tune lives here so that the rest of the code receives plain typed values
and nothing reads `os.environ` on its own. Secrets are `SecretStr` so that a stray `repr()` or log
line shows `**********` instead of the token.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["Settings", "SettingsError", "load_settings"]

LogLevel = Literal["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"]
LogFormat = Literal["text", "json"]
Sharding = Literal["off", "auto"]


class SettingsError(Exception):
    """A setting is missing or invalid; the message names the variable and never its value."""


class Settings(BaseSettings):
    """All settings of one bot process. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    discord_token: SecretStr = Field(min_length=1)
    openrouter_api_key: SecretStr = Field(min_length=1)
    openrouter_base_url: AnyHttpUrl = AnyHttpUrl("https://openrouter.ai/api/v1")
    discord_api_base_url: AnyHttpUrl | None = None
    database_path: Path = Path("data/bot.sqlite3")
    default_image_model: str = Field(default="google/gemini-2.5-flash-image", min_length=3)
    default_edit_model: str = Field(default="google/gemini-2.5-flash-image", min_length=3)
    default_vision_model: str = Field(default="google/gemini-2.5-flash", min_length=3)
    request_timeout_s: float = Field(default=180.0, gt=0, le=3600)
    dev_guild_id: int | None = Field(default=None, gt=0)
    log_level: LogLevel = "INFO"
    max_concurrent_jobs: int = Field(default=8, ge=1, le=1000)
    max_queued_jobs: int = Field(default=100, ge=0, le=100_000)
    max_jobs_per_member: int = Field(default=1, ge=0, le=100)
    retry_max_attempts: int = Field(default=3, ge=1, le=10)
    retry_max_total_s: float = Field(default=60.0, ge=0, le=900)
    retry_base_delay_s: float = Field(default=1.0, ge=0, le=60)
    retry_max_delay_s: float = Field(default=30.0, ge=0, le=600)
    shutdown_grace_s: float = Field(default=30.0, ge=0, le=900)
    app_name: str = "OpenRouter Image Bot"
    app_url: str = "https://github.com/openrouter-image-bot"
    # Operations (issue 9): log line format and gateway sharding.
    log_format: LogFormat = "text"
    sharding: Sharding = "off"
    shard_count: int | None = Field(default=None, ge=1, le=100_000)
    # NoDecode: the variable is "0,1,2", not JSON, so pydantic-settings must hand over the raw string.
    shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = None

    @field_validator("discord_token", "openrouter_api_key")
    @classmethod
    def _not_blank(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("dev_guild_id", "discord_api_base_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_format", "sharding", mode="before")
    @classmethod
    def _lower_choice(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("shard_count", mode="before")
    @classmethod
    def _empty_count_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _split_shard_ids(cls, value: object) -> object:
        """Accept "0,1, 2" from the environment (and lists from code); empty means unset."""
        if not isinstance(value, str):
            return value
        parts = [part.strip() for part in value.split(",") if part.strip()]
        if not parts:
            return None
        if not all(part.isdigit() for part in parts):
            raise ValueError("must be comma-separated shard numbers such as 0,1")
        return tuple(int(part) for part in parts)

    @field_validator("shard_ids")
    @classmethod
    def _shard_ids_fit_count(cls, value: tuple[int, ...] | None, info: ValidationInfo) -> tuple[int, ...] | None:
        """Catch at start-up what discord.py would only reject (or silently mis-run) at connect time."""
        if value is None or "shard_count" not in info.data:  # an invalid SHARD_COUNT is reported on its own
            return value
        count = info.data["shard_count"]
        if count is None:
            raise ValueError("needs SHARD_COUNT too (the total number of shards across all processes)")
        if len(set(value)) != len(value):
            raise ValueError("lists a shard twice")
        if any(shard >= count for shard in value):
            raise ValueError(f"must each be below SHARD_COUNT ({count}): shards are numbered from 0")
        return value

    @property
    def openrouter_base(self) -> str:
        """The OpenRouter base URL without a trailing slash, ready for path joins."""
        return str(self.openrouter_base_url).rstrip("/")

    @property
    def discord_api_base(self) -> str | None:
        """The Discord REST base without a trailing slash, or None for Discord itself."""
        return str(self.discord_api_base_url).rstrip("/") if self.discord_api_base_url else None

    @property
    def sharded(self) -> bool:
        """Whether this process runs as an `AutoShardedBot` (asked for, or implied by a shard count)."""
        return self.sharding == "auto" or self.shard_count is not None

    def secrets(self) -> tuple[str, ...]:
        """The secret values, for log redaction."""
        return (self.discord_token.get_secret_value(), self.openrouter_api_key.get_secret_value())

    @property
    def log_level_number(self) -> int:
        """The numeric logging level."""
        return logging.getLevelNamesMapping()[self.log_level]


def _describe(error: ValidationError) -> str:
    """One line naming each failing variable and why, without ever echoing the input value."""
    parts = []
    for item in error.errors(include_input=False, include_url=False):
        name = "_".join(str(piece) for piece in item["loc"] if isinstance(piece, str)).upper() or "?"
        reason = "is required but not set" if item["type"] == "missing" else item["msg"].lower()
        parts.append(f"{name} {reason}")
    return "invalid configuration: " + "; ".join(parts) + " (see .env.example)"


def load_settings(**overrides: object) -> Settings:
    """Build the settings, turning pydantic's multi-line report into one secret-free line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None
