"""The long-lived services of one bot process, opened together in one `async with` and closed by it.

One place wires everything (`../shared/style.md`, as discord.py's `examples/advanced_startup.py` does):
`python -m bot` opens the services with `open_services(settings)` and hands them to the Bot's
constructor. The Bot uses them and never closes them; the `async with` that opened them closes them,
in reverse order, when it ends: after the bot closed, after a crash, and also when opening one of
them fails midway (the ones already open are closed again, nothing is left half-open).

Nothing here is built at import time: there is no module-level store or client, so each test, the
bench and `python -m bot check` open their own, from their own settings. `check` opens only
`open_clients` (the fetcher and the OpenRouter client, built here as for the bot), never the store:
opening it creates and migrates the database, which `check` must only read.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.attachments import AttachmentPipeline
from bot.catalog import ModelCatalog
from bot.fetcher import GuardedFetcher
from bot.openrouter import OpenRouterClient, build_http_client
from bot.openrouter.retry import RetryPolicy
from bot.settings import Settings
from bot.storage import DEFAULT_POOL_SIZE, DEFAULT_STATEMENT_TIMEOUT_S, Store

__all__ = ["Clients", "Services", "database_target", "open_clients", "open_services", "open_store", "retry_policy"]


@dataclass(frozen=True, slots=True)
class Clients:
    """The two HTTP clients: the guarded fetcher for every URL the bot downloads, and OpenRouter's API."""

    fetcher: GuardedFetcher
    openrouter: OpenRouterClient


@dataclass(frozen=True, slots=True)
class Services:
    """Everything the bot keeps open for its whole life; the Bot exposes each as an attribute of its own."""

    store: Store
    fetcher: GuardedFetcher
    openrouter: OpenRouterClient
    attachments: AttachmentPipeline
    catalog: ModelCatalog


def retry_policy(settings: Settings) -> RetryPolicy:
    """The retries the settings ask for (`RETRY_*`)."""
    return RetryPolicy(
        max_attempts=settings.retry_max_attempts,
        max_total_s=settings.retry_max_total_s,
        base_delay_s=settings.retry_base_delay_s,
        max_delay_s=settings.retry_max_delay_s,
    )


@contextlib.asynccontextmanager
async def open_clients(
    settings: Settings, *, timeout_s: float | None = None, retry: RetryPolicy | None = None
) -> AsyncIterator[Clients]:
    """The fetcher, then the OpenRouter client downloading through it; closed in reverse order on exit.

    `timeout_s` (default `REQUEST_TIMEOUT_S`) and `retry` (default the `RETRY_*` settings) are for
    `python -m bot check`, which has a time budget of its own and reports what it sees without retrying.
    """
    timeout = settings.request_timeout_s if timeout_s is None else timeout_s
    async with contextlib.AsyncExitStack() as stack:
        # Every URL the bot fetches (input images, result links) goes through this one fetcher: trusted
        # origins (Discord's media, the two configured APIs) or public addresses only, and no API key.
        fetcher = GuardedFetcher.open(
            discord_api_base=settings.discord_api_base, openrouter_base=settings.openrouter_base
        )
        stack.push_async_callback(fetcher.aclose)
        openrouter = OpenRouterClient(
            build_http_client(timeout_s=timeout, app_name=settings.app_name, app_url=settings.app_url,
                              concurrent_calls=settings.max_concurrent_jobs),
            api_key=settings.openrouter_api_key.get_secret_value(),
            base_url=settings.openrouter_base,
            timeout_s=timeout,
            retry=retry if retry is not None else retry_policy(settings),
            fetcher=fetcher,
        )
        stack.push_async_callback(openrouter.aclose)
        yield Clients(fetcher=fetcher, openrouter=openrouter)


def database_target(settings: Settings, database_url: str | None = None) -> Path | str:
    """Which database the settings name: `database_url` if given, else `DATABASE_URL`, else `DATABASE_PATH`.

    The URL (`settings.database`, a `bot.database_url.DatabaseUrl`) is read through `getattr`, so this
    works with settings that only know `DATABASE_PATH` too.
    """
    if database_url:
        return database_url
    database: Any = getattr(settings, "database", None)
    if database is not None and getattr(database, "backend", None) == "postgresql":
        return str(database.dsn)
    if database is not None and getattr(database, "backend", None) == "sqlite":
        return Path(database.sqlite_path)
    return settings.database_path


async def open_store(settings: Settings, database_url: str | None = None) -> Store:
    """Open (and migrate) the database the settings name, with their pool size and statement time-out."""
    return await Store.open(
        database_target(settings, database_url),
        pool_size=int(getattr(settings, "database_pool_size", DEFAULT_POOL_SIZE)),
        statement_timeout_s=float(getattr(settings, "database_statement_timeout_s", DEFAULT_STATEMENT_TIMEOUT_S)),
    )


@contextlib.asynccontextmanager
async def open_services(settings: Settings, *, database_url: str | None = None) -> AsyncIterator[Services]:
    """Open the store, the fetcher, the OpenRouter client, the attachment pipeline and the model catalog.

    In that order, each after what it depends on; on exit (normal, or an exception in the block) they
    are closed in reverse order, so the catalog stops its refresh before the client it uses closes.
    If opening one fails, those already open are closed before the error propagates: a
    `DatabaseError` from the store, the first, leaves nothing open.

    The catalog is built, not started: the bot starts its background load in `setup_hook`. The store
    is SQLite or PostgreSQL as `database_target` says (`database_url` overrides the settings).
    """
    async with contextlib.AsyncExitStack() as stack:
        store = await open_store(settings, database_url)
        stack.push_async_callback(store.close)
        clients = await stack.enter_async_context(open_clients(settings))
        # Input images for /edit, /describe, the menus and the result buttons, through the same fetcher.
        attachments = AttachmentPipeline(clients.fetcher)
        stack.push_async_callback(attachments.aclose)
        catalog = ModelCatalog(clients.openrouter)
        stack.push_async_callback(catalog.aclose)
        yield Services(
            store=store,
            fetcher=clients.fetcher,
            openrouter=clients.openrouter,
            attachments=attachments,
            catalog=catalog,
        )
