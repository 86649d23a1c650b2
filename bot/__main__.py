"""Start the bot: `python -m bot` (or the `openrouter-image-bot` console script).

`python -m bot check` verifies the configuration instead (token, key, default models, database) and
prints a table; its exit code is 0 when every check passed, 1 when one failed, 2 for bad settings.

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

import aiohttp
import discord

from bot.core import create_bot
from bot.database_url import asyncpg_installed, driver_missing_message, redact_url
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
        command = _parse_command(argv)
    except SystemExit as exc:  # argparse printed usage or --help
        return exc.code if isinstance(exc.code, int) else 2
    try:
        settings = load_settings()
    except SettingsError as exc:
        if command == "check":
            print(settings_failure(exc).table())
        else:  # a headline, then one line per variable: what is wrong and what to set
            print(f"error: {exc}", file=sys.stderr)
        return 2
    if settings.database.is_postgres and command != "check" and not asyncpg_installed():
        print(f"error: {driver_missing_message()}", file=sys.stderr)  # `check` reports it in its table
        return 1
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


def _without_secrets(text: str, settings: Settings) -> str:
    """A driver's error text with every URL's password and every known secret masked."""
    text = redact_url(text)
    for secret in settings.secrets():
        text = text.replace(secret, "[redacted]")
    return text


def _parse_command(argv: Sequence[str] | None) -> str:
    parser = argparse.ArgumentParser(prog="python -m bot", description="The OpenRouter image bot for Discord.")
    parser.add_argument("command", nargs="?", choices=("run", "check"), default="run",
                        help="run the bot (default), or check the configuration and exit")
    return str(parser.parse_args(argv).command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
