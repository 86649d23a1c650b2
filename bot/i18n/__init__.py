"""The member's language: which catalog a text is looked up in, and numbers and money in its style.

How a locale is chosen. Discord tells the bot, with every interaction, the language of the member's
client (`interaction.locale`) and of the server (`interaction.guild_locale`). A reply to an
interaction (ephemeral or the "thinking" message it replaces) is read by that member: it is in their
language. A message the bot posts in a channel on its own (`bot.replies.post_in_channel`, once an
interaction token has expired) is for the channel: it is in the server's language. A locale without a
shipped catalog falls back to one of the same language (`es-419` reads `es-ES`), then to English.

Why a context variable. The texts are formatted deep inside the code (an exception's `__init__`, a
progress line set by the job service, a `/config` reply), far from the interaction. Passing a locale
to every one of those calls would touch every signature in the bot; instead the locale lives in a
`ContextVar` that is set once where the bot first sees an interaction: the tree's `interaction_check`
(commands, context menus, autocomplete, and `on_error` for what fails before it), the component
callbacks (`cogs.result_buttons`, `cogs.cancel`) and the persistent modal routes
(`cogs._prompt_form.PromptRoutes.dispatch`). asyncio copies the context into every task created
from there, so a job's background tasks (progress edits, queue positions) speak the member's
language with no further plumbing, and concurrent interactions never see each other's locale. Code
that runs outside any interaction (startup, logs) sees the default, English.

Logs stay English: log lines are written with plain `%s` strings, never through the catalogs.

Catalogs are gettext `.po` files, one per locale, in `bot/locales/<dir>/LC_MESSAGES/bot.po`, compiled to
`.mo` by the package build (`setup.py`'s `build_py` step runs Babel's compiler). A missing `.mo`, or one
older than its `.po` (an editable checkout being worked on), is compiled from the `.po` in memory on
first use, so a catalog is never silently ignored. `bot/locales/bot.pot` is the template, extracted with
`pybabel extract -F babel.cfg` (see `bot.i18n.extract`); plural forms come from each catalog's
`Plural-Forms` header through `ngettext`.
"""

from __future__ import annotations

import gettext as _gettext
import io
import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime, format_skeleton, format_timedelta
from babel.lists import format_list
from babel.numbers import format_currency, format_decimal

__all__ = [
    "DEFAULT_LOCALE",
    "DOMAIN",
    "LOCALES_DIR",
    "SHIPPED",
    "ago",
    "babel_locale",
    "catalog",
    "listing",
    "channel_locale",
    "command_mentions",
    "current",
    "date_time",
    "day",
    "decimal",
    "gettext",
    "language_name",
    "money",
    "month_day",
    "ngettext",
    "pgettext",
    "remember_command_ids",
    "resolve",
    "set_locale",
    "speak_to",
    "using",
]

log = logging.getLogger(__name__)

DOMAIN = "bot"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
#: The locale of the texts as written in the code: the catalogs translate from it.
DEFAULT_LOCALE = "en-US"
#: Discord's locale codes with a catalog, and the catalog's directory (gettext's naming).
SHIPPED: dict[str, str] = {"de": "de", "fr": "fr", "es-ES": "es_ES", "pt-BR": "pt_BR", "ja": "ja"}

_current: ContextVar[str] = ContextVar("bot_locale", default=DEFAULT_LOCALE)


def resolve(locale: object) -> str:
    """The shipped locale that serves a Discord locale (`discord.Locale` or its code), else English.

    Exact match first, then the same language (`es-419` -> `es-ES`, `pt-PT` -> `pt-BR`): a member reads
    their own language in another region's spelling more easily than English.
    """
    code = str(getattr(locale, "value", locale) or "")
    if code in SHIPPED:
        return code
    language = code.split("-")[0].lower()
    for shipped in SHIPPED:
        if shipped.split("-")[0].lower() == language:
            return shipped
    return DEFAULT_LOCALE


def current() -> str:
    """The locale texts are looked up in right now."""
    return _current.get()


def set_locale(locale: object) -> Token[str]:
    """Speak `locale` (resolved) in this context from now on; returns the token to undo it."""
    return _current.set(resolve(locale))


def speak_to(interaction: object) -> str:
    """Speak the member's language for the rest of this interaction's task (and the tasks it starts).

    `interaction` is a `discord.Interaction` (read duck-typed: this module imports nothing of
    discord.py); its `locale` is the member's client language. Returns the locale chosen.
    """
    set_locale(getattr(interaction, "locale", None))
    return current()


def channel_locale(interaction: object) -> object:
    """The locale of a message posted in the interaction's channel: the server's (`guild_locale`), else English."""
    return getattr(interaction, "guild_locale", None) or DEFAULT_LOCALE


@contextmanager
def using(locale: object) -> Iterator[str]:
    """Speak `locale` within the block only (a channel post in the server's language)."""
    token = set_locale(locale)
    try:
        yield current()
    finally:
        _current.reset(token)


@cache
def catalog(locale: str) -> _gettext.NullTranslations:
    """The compiled catalog of a shipped locale (English and unknown ones translate nothing)."""
    directory = SHIPPED.get(locale)
    if directory is None:
        return _gettext.NullTranslations()
    po = LOCALES_DIR / directory / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as compiled:
            return _gettext.GNUTranslations(compiled)
    if po.exists():
        log.info("compiling the %s catalog in memory (no up-to-date .mo next to %s)", locale, po.name)
        return _gettext.GNUTranslations(io.BytesIO(compile_po(po.read_bytes(), locale=directory)))
    log.warning("no catalog for %s at %s: its members read English", locale, po)
    return _gettext.NullTranslations()


def compile_po(source: bytes, *, locale: str | None = None) -> bytes:
    """A `.po` file's bytes compiled to `.mo` bytes with Babel (fuzzy entries are left out, as msgfmt does)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    parsed = read_po(io.BytesIO(source), locale=locale)
    out = io.BytesIO()
    write_mo(out, parsed)
    return out.getvalue()


def gettext(message: str) -> str:
    """`message` in the current locale (as written when the catalog has no translation)."""
    return catalog(current()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of a message for `count`, by the current catalog's plural rules."""
    return catalog(current()).ngettext(singular, plural, count)


def pgettext(context: str, message: str) -> str:
    """`message` in the current locale, for one `context` (a command's name is not a button's label)."""
    return catalog(current()).pgettext(context, message)


# -- commands named in texts ------------------------------------------------------------------------

#: Top-level command name -> its id, as Discord gave them at the last sync (or look-up) of global commands.
_command_ids: dict[str, int] = {}
#: A command named in a text the way `bot.messages` writes it: its path in backticks, no options.
_COMMAND_IN_TEXT = re.compile(r"`/([a-z0-9_-]+(?: [a-z0-9_-]+){0,2})`")


def remember_command_ids(ids: dict[str, int]) -> None:
    """The ids of the synced top-level commands (`bot.command_sync`), so texts can mention them."""
    _command_ids.clear()
    _command_ids.update(ids)


def command_mentions(text: str) -> str:
    """`text` with each command named in backticks (`/config budget`) made a Discord command mention.

    A mention (`</config budget:id>`) is shown by the member's client with the command's name in their
    own language, and is clickable, where the English name in backticks would not match what their
    command list shows. Used for texts in another language than English (there the name in backticks is
    the name the client lists); a command whose id is not known yet, or written with options
    (`/config enable operation:edit`), stays as written.
    """
    def mention(found: re.Match[str]) -> str:
        path = found[1]
        command_id = _command_ids.get(path.split(" ")[0])
        return f"</{path}:{command_id}>" if command_id is not None else found[0]

    return _COMMAND_IN_TEXT.sub(mention, text) if _command_ids else text


# -- numbers, money, dates --------------------------------------------------------------------------


@cache
def babel_locale(locale: str) -> Locale:
    """Babel's locale for a Discord locale code."""
    return Locale.parse(locale, sep="-")


def listing(items: Iterable[str]) -> str:
    """Items joined as the current locale writes a list ("a, b and c", "a、b、c"), not glued with ", "."""
    values = list(items)
    if len(values) < 2:
        return "".join(values)
    return format_list(values, style="standard", locale=babel_locale(current()))


def decimal(value: float, digits: int | None = None) -> str:
    """A number in the current locale's style (`digits`: exactly that many decimals)."""
    pattern = None if digits is None else "#,##0." + "0" * digits if digits else "#,##0"
    return format_decimal(value, format=pattern, locale=babel_locale(current()))


def money(amount: float, *, precise: bool = False) -> str:
    """An amount in USD in the current locale's style: cents, or (`precise`) up to four decimals below $1.

    Costs of single images are fractions of a cent, so below a dollar `precise` keeps up to four
    decimals and drops trailing zeros (`$0.0039`, `$0.5`, `$0`; `0,0039 $` in German), as the English
    texts always showed them; a dollar and above always shows cents (`$1,234.50`).
    """
    locale = babel_locale(current())
    if precise and abs(amount) < 1:
        return format_currency(round(amount, 4), "USD", locale=locale, format=_fraction_pattern(locale),
                               currency_digits=False)
    return format_currency(amount, "USD", locale=locale)


@cache
def _fraction_pattern(locale: Locale) -> str:
    """The locale's currency pattern with up to four optional decimals ("¤#,##0.####", "#,##0.#### ¤")."""
    pattern = locale.currency_formats["standard"].pattern.split(";")[0]
    return pattern.replace("0.00", "0.####")


def ago(delta: timedelta) -> str:
    """How long ago, in words of the current locale ("5 minutes ago", "vor 5 Minuten"); a date past 30 days."""
    return format_timedelta(-delta, add_direction=True, threshold=1, format="short", locale=babel_locale(current()))


def day(value: date) -> str:
    """A date in the current locale's short style (for places Discord does not format timestamps)."""
    return format_date(value, format="medium", locale=babel_locale(current()))


def language_name(locale: object) -> str:
    """The English name of a Discord locale's language ("German"), for instructions to a model.

    English for a locale Babel does not know.
    Any Discord locale counts here, shipped or not: a model can answer in Korean even where the bot's own
    texts fall back to English.
    """
    code = str(getattr(locale, "value", locale) or DEFAULT_LOCALE)
    try:
        return Locale.parse(code, sep="-").get_display_name("en") or "English"
    except (ValueError, TypeError, LookupError):
        return "English"


def month_day(value: date) -> str:
    """A day as a chart's axis names it, in the current locale ("Dec 1", "1. Dez.", "12月1日")."""
    return format_skeleton("MMMd", value, locale=babel_locale(current()))


def date_time(value: datetime) -> str:
    """A date and time in the current locale's medium style."""
    return format_datetime(value, format="medium", locale=babel_locale(current()))
