"""Start the bot: `python -m bot` (or the `openrouter-image-bot` console script).

`python -m bot check` verifies the configuration instead (token, key, default models, database) and
prints a table; its exit code is 0 when every check passed, 1 when one failed, 2 for bad settings.
`python -m bot migrate-db [--from FILE] [--to URL] [--force]` copies the SQLite file into an empty
PostgreSQL database (bot/migrate_db.py); 0 when copied and verified, 1 when not (nothing changed).

Configuration errors, an unusable database (or a PostgreSQL `DATABASE_URL` without its driver) and a
rejected token end the process with one clear line on stderr and a non-zero exit, never a traceback
or a secret (a database password included). SIGINT and SIGTERM close it cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import aiohttp
import discord

from bot.core import create_bot
from bot.database_url import DatabaseUrl, DatabaseUrlError, asyncpg_installed, driver_missing_message, redact_url
from bot.logs import setup_logging
from bot.preflight import run_checks, settings_failure, startup_check
from bot.services import open_services
from bot.settings import Settings, SettingsError, load_settings
from bot.storage import DatabaseError

log = logging.getLogger("bot")


async def run_bot(settings: Settings) -> None:
    """Run until the gateway closes or a stop signal arrives.

    The services are opened here, once, and handed to the bot (discord.py's `advanced_startup.py`);
    the one `async with` closes the bot first, then the services in reverse order. A `DatabaseError`
    from opening the store propagates before any bot exists, for `main` to report in one line.
    """
    await startup_check(settings)  # logs one summary line; bounded to a few seconds, never fatal
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    async with open_services(settings) as services, create_bot(settings, services) as bot:
        runner = asyncio.create_task(bot.start(settings.discord_token.get_secret_value()))
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if stopper in done:
            log.info("stop signal received")
            await bot.shutdown()
        else:
            stopper.cancel()
        await runner


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    try:
        arguments = _parse_command(argv)
    except SystemExit as exc:  # argparse printed usage or --help
        return exc.code if isinstance(exc.code, int) else 2
    command = arguments.command
    try:
        settings = load_settings()
    except SettingsError as exc:
        if command == "check":
            print(settings_failure(exc).table())
        else:  # a headline, then one line per variable: what is wrong and what to set
            print(f"error: {exc}", file=sys.stderr)
        return 2
    if settings.database.is_postgres and command == "run" and not asyncpg_installed():
        print(f"error: {driver_missing_message()}", file=sys.stderr)  # `check` reports it in its table
        return 1
    if command == "migrate-db":
        return run_migrate_db(settings, arguments)
    if command == "check":
        setup_logging(logging.WARNING, settings.secrets(), settings.log_format)
        report = asyncio.run(run_checks(settings))
        print(report.table())
        return 0 if report.ok else 1
    setup_logging(settings.log_level_number, settings.secrets(), settings.log_format)
    try:
        asyncio.run(run_bot(settings))
    except DatabaseError as exc:
        print(f"error: {_without_secrets(str(exc), settings)}", file=sys.stderr)
        return 1
    except discord.LoginFailure:
        print("error: Discord rejected DISCORD_TOKEN; copy the bot token again from the developer portal",
              file=sys.stderr)
        return 1
    except discord.PrivilegedIntentsRequired:
        print("error: the bot asked for a privileged intent it does not need; this is a bug", file=sys.stderr)
        return 1
    except (aiohttp.ClientConnectionError, discord.GatewayNotFound) as exc:
        where = settings.discord_api_base or "Discord"
        print(f"error: cannot reach {where} ({type(exc).__name__}); check the network and DISCORD_API_BASE_URL",
              file=sys.stderr)
        return 1
    except discord.ConnectionClosed as exc:
        if exc.code != 4011:
            raise
        print("error: Discord requires sharding for a bot in this many servers; set SHARDING=auto "
              "(or SHARD_COUNT and SHARD_IDS)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


def run_migrate_db(settings: Settings, arguments: argparse.Namespace) -> int:
    """`migrate-db`: from `--from` (or DATABASE_PATH) to `--to` (or DATABASE_URL); 0 done, 1 failed, 2 usage."""
    try:
        target = DatabaseUrl.parse(arguments.target) if arguments.target else settings.database
    except DatabaseUrlError as exc:
        print(f"error: --to {exc}", file=sys.stderr)
        return 2
    try:
        source = _source_file(arguments.source, settings)
    except DatabaseUrlError as exc:
        print(f"error: --from {exc}", file=sys.stderr)
        return 2
    if not target.is_postgres:
        print("error: migrate-db copies into PostgreSQL: give --to postgresql://user@host:5432/database, or set "
              "DATABASE_URL to it", file=sys.stderr)
        return 2
    if not asyncpg_installed():
        print(f"error: {driver_missing_message()}", file=sys.stderr)
        return 1
    from bot.migrate_db import MigrateError, migrate  # noqa: PLC0415 - only this command needs it

    secrets = (*settings.secrets(), *target.secrets())
    setup_logging(logging.WARNING, secrets, settings.log_format)
    print(f"migrate-db: copying {source} into PostgreSQL at {target.where}")
    try:
        report = asyncio.run(migrate(source, target, force=arguments.force, statement_timeout_s=max(
            settings.database_statement_timeout_s, 300.0), progress=print))
    except MigrateError as exc:
        print(f"error: {_without_secrets(str(exc), settings, target)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; the target was rolled back and is unchanged", file=sys.stderr)
        return 1
    tables = len(report.tables)
    if report.already_done:
        print(f"nothing to do: {target.where} already holds exactly the data of {source} "
              f"({report.rows} rows in {tables} tables)")
        return 0
    print(f"verified: {report.rows} rows in {tables} tables; the row counts, the value counts of every column and "
          f"the sums of {report.summed_columns} number columns match. Committed.")
    print(f"Now set DATABASE_URL to it for the bot (keep {source} as a backup).")
    return 0


def _source_file(given: str | None, settings: Settings) -> Path:
    """`--from` as a path or a sqlite:/// URL; by default the SQLite file of DATABASE_PATH."""
    if not given:
        return settings.database_path
    if "://" in given:
        database = DatabaseUrl.parse(given)
        if database.is_postgres:
            raise DatabaseUrlError("is a PostgreSQL URL; it must name the SQLite file to copy from")
        return database.sqlite_path
    return Path(given)


def _without_secrets(text: str, settings: Settings, *urls: DatabaseUrl) -> str:
    """A driver's error text with every URL's password and every known secret masked."""
    text = redact_url(text)
    for secret in (*settings.secrets(), *(secret for url in urls for secret in url.secrets())):
        text = text.replace(secret, "[redacted]")
    return text


def _parse_command(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot", description="The OpenRouter image bot for Discord.")
    commands = parser.add_subparsers(dest="command", metavar="{run,check,migrate-db}")
    commands.add_parser("run", help="run the bot (the default)")
    commands.add_parser("check", help="check the configuration and exit")
    migrate = commands.add_parser(
        "migrate-db", help="copy the SQLite file into an empty PostgreSQL database",
        description="Copy everything from the SQLite file into an empty PostgreSQL database in one verified "
                    "transaction (README: Growing, PostgreSQL). Stop the bot first.")
    migrate.add_argument("--from", dest="source", metavar="FILE",
                         help="the SQLite file (a path or sqlite:/// URL; default: DATABASE_PATH)")
    migrate.add_argument("--to", dest="target", metavar="URL",
                         help="the PostgreSQL database (default: DATABASE_URL); prefer DATABASE_URL for the password")
    migrate.add_argument("--force", action="store_true",
                         help="replace whatever the target holds (otherwise a target with data is refused)")
    arguments = parser.parse_args(argv)
    arguments.command = arguments.command or "run"
    return arguments


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
