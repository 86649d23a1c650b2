"""Pre-flight checks: is this configuration able to run the bot? (`python -m bot check`, and at start).

Each check asks the real dependency the cheapest question that proves it usable, without touching the
gateway or changing anything on disk (what a check creates to prove it can, it removes):

- settings: they parsed (the caller reports a `SettingsError` with `settings_failure`);
- Discord: `GET /users/@me` with the token, then `GET /gateway/bot` for Discord's shard advice;
- OpenRouter: `GET /key` (the key works, and how much of its limit is left), then the catalog
  (`GET /models?output_modalities=all`) for each default model and the modality its command needs;
- the database: for SQLite, its folder can be created and takes new files (a probe, removed again),
  the file opens for writing, and, opened read-only, its `PRAGMA user_version` matches the newest
  migration; for PostgreSQL (`DATABASE_URL=postgresql://...`), the server accepts the connection
  (or why not: refused, unknown host, authentication failed, no such database), its version is one
  the bot supports, and its schema is behind, at or newer than this bot's, read without migrating.

The three groups run concurrently under one time budget, so a dead host costs at most that budget;
at start-up that keeps the delay to a few seconds. Nothing a check prints or logs carries a secret:
details are built from ids, names and numbers, and `Report` masks the secrets once more on output.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import discord
import httpx

from bot.database_url import POSTGRES_EXTRA_HINT, DatabaseUrl, asyncpg_installed, redact_url
from bot.openrouter import OpenRouterClient
from bot.openrouter.errors import AuthenticationError, OpenRouterError
from bot.openrouter.retry import RetryPolicy
from bot.openrouter.types import ImageModelInfo, ModelInfo
from bot.operations import Operation
from bot.services import open_clients
from bot.settings import Settings, SettingsError
from bot.storage import DatabaseError
from bot.storage.database import load_migrations

__all__ = [
    "BOT_PERMISSIONS",
    "CHECK_TIMEOUT_S",
    "DISCORD_API_BASE",
    "INVITE_SCOPES",
    "STARTUP_TIMEOUT_S",
    "CheckResult",
    "Report",
    "Status",
    "invite_url",
    "run_checks",
    "settings_failure",
    "startup_check",
]

log = logging.getLogger(__name__)

#: Discord's REST base when `DISCORD_API_BASE_URL` is unset (what discord.py 2.7 uses).
DISCORD_API_BASE = "https://discord.com/api/v10"
#: `bot` makes it a member; `applications.commands` lets it register slash commands there.
INVITE_SCOPES: tuple[str, ...] = ("bot", "applications.commands")
#: What the commands need in a channel: see it, answer with embeds and images, read replied-to images.
BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    use_application_commands=True,
)
#: Time budget of `python -m bot check`: generous, a person is waiting for a verdict.
CHECK_TIMEOUT_S = 15.0
#: Time budget at start-up: the bot must not sit for long before connecting.
STARTUP_TIMEOUT_S = 5.0

#: Where an operator finds image models, for the "fix" hint of a model check.
_MODELS_PAGE = "https://openrouter.ai/models?output_modalities=image"
_KEYS_PAGE = "https://openrouter.ai/settings/keys"


class Status(StrEnum):
    """The verdict of one check. Only FAIL makes `check` exit non-zero; WARN is advice."""

    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"
    SKIP = "SKIP"  # could not run because an earlier check failed (that one is the FAIL)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One line of the table: what was checked, the verdict, what was found, and what to do."""

    name: str
    status: Status
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class Report:
    """All results, rendered as a table for people or as one line for the start-up log."""

    results: tuple[CheckResult, ...]
    secrets: tuple[str, ...] = field(default=(), repr=False)

    @property
    def ok(self) -> bool:
        """True when nothing failed (warnings and skips alone do not fail)."""
        return not self.failures

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        """The failed checks."""
        return tuple(result for result in self.results if result.status is Status.FAIL)

    def result(self, name: str) -> CheckResult:
        """The result of the check called `name`."""
        return next(result for result in self.results if result.name == name)

    def table(self) -> str:
        """The table `python -m bot check` prints: one row per check, a `fix:` line under failures."""
        width = max(len(result.name) for result in self.results)
        lines = [f"{'CHECK'.ljust(width)}  STATUS  DETAILS"]
        for result in self.results:
            first, *more = result.detail.splitlines() or [""]
            lines.append(f"{result.name.ljust(width)}  {result.status.value.ljust(6)}  {first}")
            lines.extend(f"{' ' * width}          {line}" for line in more)  # under DETAILS
            if result.fix and result.status is not Status.OK:
                lines.append(f"{' ' * width}          fix: {result.fix}")
        failed = len(self.failures)
        lines.append("")
        lines.append(
            f"All {len(self.results)} checks passed." if not failed
            else f"{failed} of {len(self.results)} checks failed."
        )
        return self._mask("\n".join(lines))

    def summary(self) -> str:
        """One log line: the counts, and the name and detail of each failure or warning."""
        counts = ", ".join(
            f"{sum(result.status is status for result in self.results)} {status.value}"
            for status in Status
            if any(result.status is status for result in self.results)
        )
        notes = "; ".join(
            f"{result.name}: {result.detail}"
            for result in self.results
            if result.status in (Status.FAIL, Status.WARN)
        )
        line = f"pre-flight checks: {counts}" + (f" ({notes})" if notes else "")
        if not self.ok:
            line += "; run `python -m bot check` for what to do"
        return self._mask(line)

    def _mask(self, text: str) -> str:
        for secret in self.secrets:
            if len(secret) >= 8:
                text = text.replace(secret, "[redacted]")
        return text


def settings_failure(error: SettingsError | str) -> Report:
    """The report when the settings themselves do not parse: nothing else can be checked.

    Its one row shows the same headline and per-variable lines that `python -m bot` prints.
    """
    return Report((CheckResult("settings", Status.FAIL, str(error),
                               "fill in .env (.env.example lists every setting), then run the check again"),))


def invite_url(application_id: int) -> str:
    """The link that adds the bot to a server with the scopes and permissions it needs."""
    return discord.utils.oauth_url(application_id, permissions=BOT_PERMISSIONS, scopes=INVITE_SCOPES)


async def run_checks(settings: Settings, *, timeout_s: float = CHECK_TIMEOUT_S) -> Report:
    """Run every check concurrently within `timeout_s` and collect the results in table order."""
    groups = await asyncio.gather(
        _bounded("discord", timeout_s, lambda: _discord_checks(settings, timeout_s)),
        _bounded("openrouter", timeout_s, lambda: _openrouter_checks(settings, timeout_s)),
        _bounded("database", timeout_s, lambda: _database_check(settings, timeout_s)),
    )
    settings_row = CheckResult("settings", Status.OK, _describe_settings(settings))
    results = [settings_row, *(result for group in groups for result in group)]
    return Report(tuple(results), secrets=settings.secrets())


async def startup_check(settings: Settings, *, timeout_s: float = STARTUP_TIMEOUT_S) -> Report | None:
    """Run the checks before connecting and log one summary line; never raises, never blocks for long.

    Start-up goes on whatever the result: the same problems surface again, with their own messages,
    when the bot logs in or opens the database, and a transient OpenRouter outage must not stop it.
    """
    try:
        report = await run_checks(settings, timeout_s=timeout_s)
    except Exception as exc:  # noqa: BLE001 - a bug in a check must not keep the bot from starting
        log.warning("pre-flight checks could not run (%s)", type(exc).__name__)
        return None
    level = logging.INFO if report.ok and not any(r.status is Status.WARN for r in report.results) else logging.WARNING
    log.log(level, "%s", report.summary())
    return report


# -- plumbing -----------------------------------------------------------------------------------


async def _bounded(
    group: str, timeout_s: float, run: Callable[[], Awaitable[list[CheckResult]]]
) -> list[CheckResult]:
    """Run one group of checks under the overall time budget; a group that overruns fails as one row."""
    try:
        async with asyncio.timeout(timeout_s + 1.0):  # the requests' own time-outs normally fire first
            return await run()
    except TimeoutError:
        return [CheckResult(group, Status.FAIL, f"no answer within {timeout_s:g} s", "check the network and try again")]


def _describe_settings(settings: Settings) -> str:
    parts = [f"log format {settings.log_format}"]
    database = settings.database
    if database.is_postgres:  # where only: never the user or password
        parts.append(f"PostgreSQL at {database.where} (pool {settings.database_pool_size}, statement time-out "
                     f"{settings.database_statement_timeout_s:g} s)")
    if settings.discord_api_base:
        parts.append(f"Discord REST via {_host(settings.discord_api_base)}")
    return "parsed; " + ", ".join(parts)


def _host(url: str) -> str:
    """Host and port of a URL, never its user name, password, path or query."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{host}:{parts.port}" if parts.port else host


# -- Discord ------------------------------------------------------------------------------------


async def _discord_checks(settings: Settings, timeout_s: float) -> list[CheckResult]:
    base = settings.discord_api_base or DISCORD_API_BASE
    headers = {
        "Authorization": f"Bot {settings.discord_token.get_secret_value()}",
        # Discord asks every client for a User-Agent of this form.
        "User-Agent": f"DiscordBot ({settings.app_url}, {discord.__version__})",
    }
    async with httpx.AsyncClient(
        base_url=base, headers=headers, timeout=httpx.Timeout(timeout_s), follow_redirects=False
    ) as http:
        token, user_id = await _discord_token(http, base)
        if user_id is None:
            skipped = "skipped: the Discord token check failed"
            return [token, CheckResult("invite link", Status.SKIP, skipped),
                    CheckResult("sharding", Status.SKIP, skipped)]
        # The application id of every current bot equals its user id; the invite link needs it.
        invite = CheckResult("invite link", Status.OK, invite_url(user_id))
        return [token, invite, await _sharding_check(http, settings)]


async def _discord_token(http: httpx.AsyncClient, base: str) -> tuple[CheckResult, int | None]:
    """The token's verdict, and the bot's user id when the token is good."""
    name = "discord token"
    try:
        response = await http.get("/users/@me")
    except httpx.HTTPError as exc:
        return CheckResult(name, Status.FAIL, f"could not reach Discord at {_host(base)} ({type(exc).__name__})",
                           "check the network, or DISCORD_API_BASE_URL if you use a proxy"), None
    if response.status_code == 401:
        return CheckResult(name, Status.FAIL, "Discord rejected DISCORD_TOKEN (HTTP 401)",
                           "Developer Portal -> your application -> Bot -> Reset Token, "
                           "and put the new token in DISCORD_TOKEN"), None
    if response.status_code != 200:
        return CheckResult(name, Status.FAIL, f"Discord answered HTTP {response.status_code}",
                           "try again later; if you use a proxy, check DISCORD_API_BASE_URL"), None
    try:
        user = response.json()
        user_id = int(user["id"])
    except (ValueError, KeyError, TypeError):
        return CheckResult(name, Status.FAIL, "Discord's answer is not a user object",
                           "check DISCORD_API_BASE_URL: it must end in /api/v10"), None
    if not user.get("bot"):
        return CheckResult(name, Status.FAIL, "DISCORD_TOKEN belongs to a user account, not a bot",
                           "use the token from Developer Portal -> your application -> Bot"), None
    return CheckResult(name, Status.OK, f"valid: logged in as {user.get('username', '?')} (id {user_id})"), user_id


async def _get_json(http: httpx.AsyncClient, path: str) -> dict[str, Any] | None:
    try:
        response = await http.get(path)
        data = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    return data if isinstance(data, dict) else None


async def _sharding_check(http: httpx.AsyncClient, settings: Settings) -> CheckResult:
    name = "sharding"
    configured = _describe_sharding(settings)
    gateway = await _get_json(http, "/gateway/bot")
    try:
        recommended = int(gateway["shards"]) if gateway else None
    except (KeyError, TypeError, ValueError):
        recommended = None
    if recommended is None:
        return CheckResult(name, Status.WARN, f"{configured}; Discord's shard recommendation is unavailable")
    advice = f"Discord recommends {recommended} shard{'s' if recommended != 1 else ''}"
    running = settings.shard_count if settings.shard_count is not None else (recommended if settings.sharded else 1)
    if running < recommended:
        return CheckResult(
            name, Status.WARN, f"{configured}; {advice}",
            "set SHARDING=auto (one process), or SHARD_COUNT and SHARD_IDS (several); "
            "Discord refuses an unsharded bot in 2,500 or more servers",
        )
    return CheckResult(name, Status.OK, f"{configured}; {advice}")


def _describe_sharding(settings: Settings) -> str:
    if not settings.sharded:
        return "off"
    count = f"{settings.shard_count} shards" if settings.shard_count is not None else "Discord's count of shards"
    ids = ", ".join(map(str, settings.shard_ids)) if settings.shard_ids is not None else "all"
    return f"{count}, this process runs {ids}"


# -- OpenRouter ---------------------------------------------------------------------------------


def _default_models(settings: Settings) -> list[tuple[Operation, str, str]]:
    """(operation, variable, model id) for each command's default model."""
    return [
        (Operation.IMAGINE, "DEFAULT_IMAGE_MODEL", settings.default_image_model),
        (Operation.EDIT, "DEFAULT_EDIT_MODEL", settings.default_edit_model),
        (Operation.DESCRIBE, "DEFAULT_VISION_MODEL", settings.default_vision_model),
    ]


async def _openrouter_checks(settings: Settings, timeout_s: float) -> list[CheckResult]:
    """The key and the default models, asked through the same clients the bot builds (`open_clients`).

    The check opens only those two (the fetcher and the OpenRouter client), within its own time
    budget and without retries, and closes them again; never `open_services`, whose store would
    create and migrate the database that the database check only reads (read-only).
    """
    # A check reports what it sees: no waiting on retries.
    async with open_clients(settings, timeout_s=timeout_s, retry=RetryPolicy(max_attempts=1)) as clients:
        client = clients.openrouter
        key, key_works = await _key_check(client, settings)
        models = _default_models(settings)
        if not key_works:
            return [key, *(CheckResult(f"{op.value} model", Status.SKIP, "skipped: the OpenRouter key check failed")
                           for op, _, _ in models)]
        try:
            catalog = {model.id: model for model in await client.list_models("all")}
        except OpenRouterError as exc:
            failed = f"could not read OpenRouter's model catalog: {exc.message}"
            return [key, *(CheckResult(f"{op.value} model", Status.FAIL, failed, "try again later")
                           for op, _, _ in models)]
        images = await _images_catalog(client)
        return [key, *(_model_check(op, variable, model_id, catalog, images) for op, variable, model_id in models)]


async def _images_catalog(client: OpenRouterClient) -> dict[str, ImageModelInfo]:
    """The Images API's models: some image models are served only there (the bot routes them there too).

    Empty when it cannot be read: the chat catalog's verdicts still stand, and a model listed only here
    is then reported as not found, which names the variable to check.
    """
    try:
        return {model.id: model for model in await client.list_image_models()}
    except OpenRouterError:
        log.debug("could not read the Images API's model listing", exc_info=True)
        return {}


async def _key_check(client: OpenRouterClient, settings: Settings) -> tuple[CheckResult, bool]:
    """The key's verdict, and whether it authenticates (a spent key still reads the catalog)."""
    name = "openrouter key"
    try:
        info = await client.key_info()
    except AuthenticationError:
        return CheckResult(name, Status.FAIL, "OpenRouter rejected OPENROUTER_API_KEY (HTTP 401)",
                           f"create a key at {_KEYS_PAGE} and put it in OPENROUTER_API_KEY"), False
    except OpenRouterError as exc:
        return CheckResult(name, Status.FAIL, f"could not check the key at {_host(settings.openrouter_base)}: "
                           f"{exc.message}", "check the network and OPENROUTER_BASE_URL, then try again"), False
    if info.limit_remaining is None:
        return CheckResult(name, Status.OK, "valid; the key has no spending limit"), True
    left = f"${info.limit_remaining:,.2f} left" + (f" of ${info.limit:,.2f}" if info.limit is not None else "")
    if info.limit_remaining <= 0:
        return CheckResult(name, Status.FAIL, f"valid, but its limit is used up ({left})",
                           f"raise the key's limit at {_KEYS_PAGE} or add credits"), True
    return CheckResult(name, Status.OK, f"valid; {left}"), True


def _model_check(
    operation: Operation,
    variable: str,
    model_id: str,
    catalog: dict[str, ModelInfo],
    images: dict[str, ImageModelInfo] | None = None,
) -> CheckResult:
    """Image output for imagine; image output and input for edit (it sends references); input for describe.

    An image model only the Images API lists (`images`) is fine for imagine and edit, as the bot serves
    it there; describe needs a text answer, so only the chat catalog counts for it.
    """
    name = f"{operation.value} model"
    fix = f"set {variable} to a model listed at {_MODELS_PAGE}" if operation.needs_image_output else (
        f"set {variable} to a model that accepts images (https://openrouter.ai/models?input_modalities=image)"
    )
    model = catalog.get(model_id) or catalog.get(model_id.split(":", 1)[0])
    image_model = (images or {}).get(model_id) if operation.needs_image_output else None
    if model is None and image_model is not None:
        if operation is Operation.EDIT and not image_model.reads_images:
            return CheckResult(name, Status.FAIL, f"{model_id} ({variable}) does not accept images", fix)
        needs = "outputs images" if operation is Operation.IMAGINE else "reads and outputs images"
        return CheckResult(name, Status.OK, f"{model_id} {needs} (through the Images API)")
    if model is None:
        return CheckResult(name, Status.FAIL, f"{model_id} ({variable}) is not in OpenRouter's catalog", fix)
    missing = []
    if operation.needs_image_output and not model.makes_images:
        missing.append("does not output images")
    if operation is not Operation.IMAGINE and not model.reads_images:
        missing.append("does not accept images")
    if missing:
        return CheckResult(name, Status.FAIL, f"{model_id} ({variable}) {' and '.join(missing)}", fix)
    needs = {Operation.IMAGINE: "outputs images", Operation.EDIT: "reads and outputs images",
             Operation.DESCRIBE: "reads images"}[operation]
    return CheckResult(name, Status.OK, f"{model_id} {needs}")


# -- database -----------------------------------------------------------------------------------


#: The oldest PostgreSQL the bot supports (13: `DROP DATABASE ... WITH (FORCE)`, and 12 is out of support).
MIN_POSTGRES_MAJOR = 13


async def _database_check(settings: Settings, timeout_s: float) -> list[CheckResult]:
    database = settings.database
    if database.is_postgres:
        return await _postgres_checks(database, timeout_s, settings.secrets())
    return [await asyncio.to_thread(_inspect_database, settings.database_path, timeout_s)]


#: Why a connection failed, told by the driver's words (in bot/storage's `DatabaseError` text), first match wins.
_POSTGRES_SIGNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("driver_missing", ("driver is not installed",)),
    ("auth", ("password authentication failed", "authentication failed", "no password supplied",
              "role \"", "no pg_hba.conf entry")),
    ("no_database", ("database \"",)),
    ("refused", ("connection refused", "connect call failed", "errno 111")),
    ("unreachable", ("name or service not known", "nodename nor servname", "temporary failure in name resolution",
                     "no address associated", "getaddrinfo", "network is unreachable", "no route to host")),
    ("timeout", ("did not answer in time", "timed out", "timeout")),
)
#: What the check says for each reason (the driver's own text for anything else).
_POSTGRES_REASONS: dict[str, str] = {
    "refused": "PostgreSQL at {where} refused the connection: nothing accepts connections on that host and port",
    "unreachable": "PostgreSQL at {where} cannot be reached: the host name is unknown or the network is down",
    "timeout": "PostgreSQL at {where} did not answer within {timeout} s",
    "auth": "PostgreSQL at {where}: authentication failed (the user name or password in DATABASE_URL is wrong, "
            "or the server does not let this user in)",
    "no_database": "PostgreSQL at {where}: the database \"{database}\" does not exist",
    "driver_missing": "DATABASE_URL is PostgreSQL, but the asyncpg driver is not installed",
}
#: What to do about each reason.
_POSTGRES_FIXES: dict[str, str] = {
    "refused": "start PostgreSQL, or correct the host and port in DATABASE_URL",
    "unreachable": "correct the host in DATABASE_URL, or check the network and DNS",
    "timeout": "check that the host in DATABASE_URL is right and reachable (a firewall?), then try again",
    "auth": "correct the user name and password in DATABASE_URL (or the server's pg_hba.conf)",
    "no_database": "create it (e.g. `createdb -O <user> <database>`), or correct its name in DATABASE_URL",
    "driver_missing": f"install the driver: {POSTGRES_EXTRA_HINT}",
}


async def _postgres_checks(database: DatabaseUrl, timeout_s: float, secrets: tuple[str, ...]) -> list[CheckResult]:
    """Connection, server version and schema of a PostgreSQL `DATABASE_URL`: three rows, never a password.

    `inspect_server` (bot/storage) opens one connection, reads the server version and the
    `schema_migrations` table, and closes it again: nothing is created or migrated.
    """
    where = database.where
    skipped = "skipped: the database connection failed"
    if not asyncpg_installed():
        return [CheckResult("database", Status.FAIL, "DATABASE_URL is PostgreSQL, but the asyncpg driver is "
                            "not installed", _POSTGRES_FIXES["driver_missing"]),
                CheckResult("database server", Status.SKIP, skipped),
                CheckResult("database schema", Status.SKIP, skipped)]
    from bot.storage.postgres import inspect_server  # noqa: PLC0415 - imports the optional driver

    try:
        info = await inspect_server(database.dsn, timeout_s=timeout_s)
    except DatabaseError as exc:
        text = _scrub(str(exc), secrets)
        reason = _postgres_reason(text)
        detail = _POSTGRES_REASONS[reason].format(where=where, database=database.database_name,
                                                  timeout=f"{timeout_s:g}") if reason != "other" else text
        fix = _POSTGRES_FIXES.get(reason, "check DATABASE_URL and the server's log")
        return [CheckResult("database", Status.FAIL, detail, fix),
                CheckResult("database server", Status.SKIP, skipped),
                CheckResult("database schema", Status.SKIP, skipped)]
    connected = CheckResult("database", Status.OK, f"PostgreSQL at {where} accepts the connection")
    return [connected, _server_version_check(info.server_version), _schema_check(where, info.schema_version,
                                                                                info.latest_version)]


def _postgres_reason(text: str) -> str:
    lowered = text.lower()
    if "does not exist" in lowered and "database \"" in lowered:
        return "no_database"
    for reason, signs in _POSTGRES_SIGNS:
        if reason != "no_database" and any(sign in lowered for sign in signs):
            return reason
    return "other"


def _server_version_check(version: str) -> CheckResult:
    name = "database server"
    try:
        major = int(version.split(".", 1)[0].split()[0])
    except (ValueError, IndexError):
        return CheckResult(name, Status.WARN, f"PostgreSQL reports version {version!r}, which the bot cannot read",
                           f"use PostgreSQL {MIN_POSTGRES_MAJOR} or newer")
    if major < MIN_POSTGRES_MAJOR:
        return CheckResult(name, Status.FAIL, f"PostgreSQL {version} is too old for this bot",
                           f"upgrade to PostgreSQL {MIN_POSTGRES_MAJOR} or newer")
    return CheckResult(name, Status.OK, f"PostgreSQL {version}")


def _schema_check(where: str, version: int, latest: int) -> CheckResult:
    name = "database schema"
    if version > latest:
        return CheckResult(name, Status.FAIL, f"{where} is at schema {version}, newer than this bot's {latest}",
                           "run the newer bot version, or restore a backup made for this one")
    if version == 0:
        return CheckResult(name, Status.OK, f"{where} is empty; the schema ({latest}) is created at start")
    if version < latest:
        return CheckResult(name, Status.OK, f"{where} is at schema {version}; upgraded to {latest} at start")
    return CheckResult(name, Status.OK, f"{where} is at the current schema ({latest})")


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    """A driver's text without a URL's password or any known secret (the password of any length)."""
    text = redact_url(text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def _inspect_database(path: Path, timeout_s: float) -> CheckResult:
    """Whether the bot can create or open this file for writing, and what its schema is.

    The bot creates the folder and the file itself at start (`Database.open`), so nothing made here
    needs to outlive the check, and `check` promises to change nothing: `_probe_folder` creates the
    missing folders, creates and deletes a uniquely named probe file in the database's folder (SQLite
    creates its `-wal` and `-shm` files beside the database, so the folder must take new files even
    when the database exists), then removes the folders it created. The probe never uses the
    database's own name, so a bot starting at the same moment cannot open a file the check then
    deletes. An existing file is opened for reading and writing without changing a byte, and read
    through a read-only SQLite connection: never migrated, never holding a write lock.

    `os.access` is not enough on its own: root passes it everywhere, even where the kernel then
    refuses (a folder under `/proc`, a read-only mount), so the check does what the bot will do.
    """
    name = "database"
    latest = load_migrations()[-1].version
    fix_path = "set DATABASE_PATH to a file in a folder this user can write to, or fix that folder's permissions"
    if path.is_dir():
        return CheckResult(name, Status.FAIL, f"{path} is a folder, not a file", "set DATABASE_PATH to a file path")
    problem = _probe_folder(path.parent)
    if problem is not None:
        return CheckResult(name, Status.FAIL, problem, fix_path)
    if not path.exists():
        return CheckResult(name, Status.OK, f"{path} will be created at start (schema {latest})")
    try:
        with path.open("r+b"):  # opening for writing changes nothing, but proves the bot may write
            pass
    except OSError as exc:
        return CheckResult(name, Status.FAIL, f"cannot open {path} for writing: {_os_reason(exc)}", fix_path)
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout_s)
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
            version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        finally:
            connection.close()
    except sqlite3.Error as exc:
        return CheckResult(name, Status.FAIL, f"{path} cannot be read: {_sqlite_reason(exc)}",
                           "restore a backup, or move the file away so a new one is created")
    if version > latest:
        return CheckResult(name, Status.FAIL, f"{path} is at schema {version}, newer than this bot's {latest}",
                           "run the newer bot version, or restore a backup made for this one")
    if version < latest:
        return CheckResult(name, Status.OK, f"{path} is at schema {version}; upgraded to {latest} at start")
    return CheckResult(name, Status.OK, f"{path} is at the current schema ({latest})")


def _probe_folder(folder: Path) -> str | None:
    """Create `folder` (and its missing parents) and a probe file in it, then undo both.

    Returns why the bot could not create its files there, or None when it can.
    """
    missing: list[Path] = []
    for candidate in (folder.absolute(), *folder.absolute().parents):
        if candidate.is_dir():
            break
        if candidate.exists() or candidate.is_symlink():
            return _in_the_way(folder, candidate)
        missing.append(candidate)
    created: list[Path] = []
    try:
        for candidate in reversed(missing):  # the outermost missing folder first
            try:
                candidate.mkdir()
            except FileExistsError:  # made by someone else meanwhile (a bot starting): fine if a folder
                if not candidate.is_dir():
                    return _in_the_way(folder, candidate)
                continue
            except OSError as exc:
                return f"cannot create the folder {candidate}: {_os_reason(exc)}"
            created.append(candidate)
        try:
            descriptor, probe = tempfile.mkstemp(prefix=".bot-check-", suffix=".probe", dir=folder)
        except OSError as exc:
            return f"cannot create files in the folder {folder}: {_os_reason(exc)}"
        os.close(descriptor)
        with contextlib.suppress(OSError):  # gone already is as good as removed
            os.unlink(probe)
        return None
    finally:
        for candidate in reversed(created):  # the innermost first; one someone filled meanwhile stays
            with contextlib.suppress(OSError):
                candidate.rmdir()


def _in_the_way(folder: Path, blocker: Path) -> str:
    what = "a file of that name exists" if blocker == folder.absolute() else f"{blocker} is a file, not a folder"
    return f"cannot create the folder {folder}: {what}"


def _os_reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _sqlite_reason(exc: sqlite3.Error) -> str:
    text = str(exc).lower()
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return "the file is corrupt or not a SQLite database"
    if "locked" in text or "busy" in text:
        return "it is locked by another process"
    return str(exc)
