"""Process configuration, read once from the environment and `.env`.

Everything an operator can tune lives here so that the rest of the code receives plain typed values
and nothing reads `os.environ` on its own. Secrets are `SecretStr` so that a stray `repr()` or log
line shows `**********` instead of the token.

A setting that is missing or wrong becomes a `SettingsError` holding one `SettingProblem` per
variable, worded for the person filling in `.env`: what is wrong, what a valid value looks like and
which README section says where to get it, never the value itself and never pydantic's words.
"""

from __future__ import annotations

import logging
import types
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.database_url import DatabaseUrl, DatabaseUrlError

__all__ = ["SettingProblem", "Settings", "SettingsError", "load_settings"]

LogLevel = Literal["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"]
LogFormat = Literal["text", "json"]
Sharding = Literal["off", "auto"]


@dataclass(frozen=True, slots=True)
class SettingProblem:
    """What is wrong with one variable, and how to put it right; never its value."""

    variable: str  #: the environment variable, e.g. DISCORD_TOKEN
    problem: str  #: e.g. "is missing", "is not a number"
    advice: str  #: what to set, and where to read about it
    missing: bool = False  #: not set (or empty), as opposed to set to something wrong

    def __str__(self) -> str:
        return f"{self.variable} {self.problem}: {self.advice}"


class SettingsError(Exception):
    """Settings are missing or invalid: a headline, then one line per variable (`str()` gives both)."""

    def __init__(self, problems: Sequence[SettingProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join((self.headline, *(f"  {line}" for line in self.lines))))

    @property
    def headline(self) -> str:
        """E.g. "the bot's configuration is incomplete (2 settings):"."""
        state = "is incomplete" if all(problem.missing for problem in self.problems) else "needs fixing"
        count = len(self.problems)
        return f"the bot's configuration {state} ({count} setting{'s' if count != 1 else ''}):"

    @property
    def lines(self) -> tuple[str, ...]:
        """One line per variable: "DISCORD_TOKEN is missing: set it in .env to ..."."""
        return tuple(str(problem) for problem in self.problems)


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
    # Storage (issue 15): SQLite by default (from DATABASE_PATH), or a PostgreSQL server shared by processes.
    # A secret: the URL may carry the password. Read it parsed, through `database`.
    database_url: SecretStr | None = None
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_statement_timeout_s: float = Field(default=15.0, gt=0, le=3600)
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
            raise ValueError("is blank")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("dev_guild_id", "discord_api_base_url", "database_url", mode="before")
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
            raise ValueError("is not a list of shard numbers")
        return tuple(int(part) for part in parts)

    @field_validator("shard_ids")
    @classmethod
    def _shard_ids_fit_count(cls, value: tuple[int, ...] | None, info: ValidationInfo) -> tuple[int, ...] | None:
        """Catch at start-up what discord.py would only reject (or silently mis-run) at connect time."""
        if value is None or "shard_count" not in info.data:  # an invalid SHARD_COUNT is reported on its own
            return value
        count = info.data["shard_count"]
        if count is None:
            raise ValueError("is set but SHARD_COUNT is not")
        if len(set(value)) != len(value):
            raise ValueError("lists a shard twice")
        if any(shard >= count for shard in value):
            raise ValueError(f"lists a shard of {count} or more, but SHARD_COUNT={count} numbers them "
                             f"0 to {count - 1}")
        return value

    @field_validator("database_url")
    @classmethod
    def _parse_database_url(cls, value: SecretStr | None) -> SecretStr | None:
        """Reject a URL of neither form now, in words that never quote it (it may hold a password)."""
        if value is not None:
            try:
                DatabaseUrl.parse(value.get_secret_value())
            except DatabaseUrlError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _one_database(self) -> Settings:
        """A `sqlite:///` DATABASE_URL wins over DATABASE_PATH, so both always name the same file."""
        if self.database_url is not None:
            database = DatabaseUrl.parse(self.database_url.get_secret_value())
            if not database.is_postgres:
                self.database_path = database.sqlite_path
        return self

    @property
    def database(self) -> DatabaseUrl:
        """Where the data lives: the parsed DATABASE_URL, or the SQLite file at DATABASE_PATH."""
        if self.database_url is None:
            return DatabaseUrl.for_sqlite(self.database_path)
        return DatabaseUrl.parse(self.database_url.get_secret_value())

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
        return (self.discord_token.get_secret_value(), self.openrouter_api_key.get_secret_value(),
                *self.database.secrets())

    @property
    def log_level_number(self) -> int:
        """The numeric logging level."""
        return logging.getLevelNamesMapping()[self.log_level]


#: The README sections the advice points to (tests check that they exist).
README_DISCORD_APP = "Creating the Discord application"
README_CONFIGURATION = "Configuration"
README_GROWING = "Growing: sharding, several processes, PostgreSQL, an HTTP proxy"

#: How to fix a variable whose type and bounds alone do not say it; the others are worded from their field.
_ADVICE: dict[str, str] = {
    "discord_token": "set it in .env to your bot's token from the Discord developer portal, "
                     "your application -> Bot -> Reset Token",
    "openrouter_api_key": "set it in .env to an OpenRouter API key from https://openrouter.ai/settings/keys",
    "openrouter_base_url": "set it to an http(s) URL such as https://openrouter.ai/api/v1, "
                           "or leave it out for that default",
    "discord_api_base_url": "set it to the http(s) URL of Discord's REST API through your proxy, such as "
                            "http://nirn-proxy:8080/api/v10, or leave it empty for Discord itself",
    "database_path": "set it to a file path such as data/bot.sqlite3, or leave it out for that default",
    "database_url": "set it to sqlite:///data/bot.sqlite3 (a file) or postgresql://user:password@host:5432/database "
                    "(a server), or leave it empty for the SQLite file at DATABASE_PATH",
    "default_image_model": "set it to an OpenRouter model id that makes images, such as "
                           "google/gemini-2.5-flash-image, or leave it out for that default",
    "default_edit_model": "set it to an OpenRouter model id that reads and makes images, such as "
                          "google/gemini-2.5-flash-image, or leave it out for that default",
    "default_vision_model": "set it to an OpenRouter model id that reads images, such as "
                            "google/gemini-2.5-flash, or leave it out for that default",
    "dev_guild_id": "set it to your test server's id, the whole number Discord's Copy Server ID gives "
                    "(with developer mode on), or leave it empty",
    "shard_count": "set it to the total number of shards across all processes, a whole number from 1 to "
                   "100000, or leave it and SHARD_IDS empty to run unsharded",
    "shard_ids": "set SHARD_COUNT to the total number of shards and SHARD_IDS to this process's shards, "
                 "comma-separated and each below SHARD_COUNT (e.g. SHARD_COUNT=4 and SHARD_IDS=0,1), "
                 "or leave SHARD_IDS empty for all of them",
}
#: Where each variable is explained; every other one is in the settings table under "Configuration".
_SECTION: dict[str, str] = {"discord_token": README_DISCORD_APP, "database_url": README_GROWING}
_SECRETS = frozenset({"discord_token", "openrouter_api_key"})
#: Fields whose `ValueError`s come from this module's validators, worded as problems and free of values.
_OWN_MESSAGES = _SECRETS | {"shard_ids", "database_url"}

#: pydantic error type -> what is wrong, in words (anything else "is not valid").
_PROBLEMS: dict[str, str] = {
    "int_parsing": "is not a whole number",
    "int_from_float": "is not a whole number",
    "int_type": "is not a whole number",
    "float_parsing": "is not a number",
    "float_type": "is not a number",
    "finite_number": "is not a number",
    "greater_than": "is too small",
    "greater_than_equal": "is too small",
    "less_than": "is too large",
    "less_than_equal": "is too large",
    "literal_error": "is not one of the choices",
    "url_parsing": "is not a valid URL",
    "url_scheme": "is not an http or https URL",
    "url_syntax_violation": "is not a valid URL",
    "url_too_long": "is too long for a URL",
    "string_too_short": "is too short",
}


def _problem(error: Any, field: str) -> tuple[str, bool]:
    """What is wrong, and whether the variable is simply not filled in."""
    kind = error["type"]
    if kind == "missing" or (field in _SECRETS and kind in ("too_short", "string_too_short")):
        return "is missing", True
    if kind == "value_error" and field in _OWN_MESSAGES:  # already worded as a problem, without the value
        reason = str(error.get("ctx", {}).get("error", "")).strip()
        return reason or "is not valid", field in _SECRETS and reason == "is blank"
    return _PROBLEMS.get(kind, "is not valid"), False


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _worded_advice(field: str, info: FieldInfo) -> str:
    """The advice for a field with none written by hand: its choices, or its kind of number and range."""
    annotation = info.annotation
    if isinstance(annotation, types.UnionType):
        annotation = next(arg for arg in get_args(annotation) if arg is not type(None))
    default = info.default
    if default is None:
        fallback = ", or leave it empty"
    elif default is PydanticUndefined:
        fallback = ""
    else:
        fallback = f", or leave it out for the default, {_number(default)}"
    if get_origin(annotation) is Literal:
        choices = [str(choice) for choice in get_args(annotation)]
        return f"set it to {', '.join(choices[:-1])} or {choices[-1]}{fallback}"
    if annotation in (int, float):
        kind = "a whole number" if annotation is int else "a number"
        if field.endswith("_s"):
            kind += " of seconds"
        bounds: dict[str, object] = {}
        for item in info.metadata:
            for bound in ("gt", "ge", "lt", "le"):
                if getattr(item, bound, None) is not None:
                    bounds[bound] = getattr(item, bound)
        low = f"from {_number(bounds['ge'])}" if "ge" in bounds else (
            f"above {_number(bounds['gt'])}" if "gt" in bounds else "")
        high = f"{'to' if 'ge' in bounds else 'and at most'} {_number(bounds['le'])}" if "le" in bounds else (
            f"and below {_number(bounds['lt'])}" if "lt" in bounds else "")
        span = " ".join(part for part in (low, high) if part)
        return f"set it to {kind}{' ' + span if span else ''}{fallback}"
    return f"set it to a valid value{fallback}"


def _advice(field: str) -> str:
    info = Settings.model_fields.get(field)
    if field in _ADVICE:
        text = _ADVICE[field]
    elif info is not None:
        text = _worded_advice(field, info)
    else:
        text = "see .env.example"
    return f'{text} (README: "{_SECTION.get(field, README_CONFIGURATION)}")'


def _describe_problems(error: ValidationError) -> list[SettingProblem]:
    """One problem per failing variable, in the order pydantic found them, without any input value."""
    problems: dict[str, SettingProblem] = {}
    for item in error.errors(include_input=False, include_url=False):
        field = str(item["loc"][0]) if item["loc"] else "?"
        if field in problems:  # one line per variable: its first error says enough
            continue
        problem, missing = _problem(item, field)
        problems[field] = SettingProblem(field.upper(), problem, _advice(field), missing)
    return list(problems.values())


def load_settings(**overrides: object) -> Settings:
    """Build the settings; a problem raises `SettingsError` with one secret-free line per variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(_describe_problems(exc)) from None
