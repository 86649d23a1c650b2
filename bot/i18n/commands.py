"""Slash command, option and choice names and descriptions in each shipped locale, for Discord's client.

discord.py asks a `Translator` for every name and description of every command when it builds the
payload it syncs (`CommandTree.sync`, and `bot.command_sync`'s hash of it), once per Discord locale.
`CommandTranslator` answers from the same gettext catalogs as the replies, with a message context
per kind of text (`command_name`, `parameter_description`, `choice_name`, ...; a message menu's name is
`menu_name`, since it follows other rules), so "edit" the command and "Edit" the button are
translated separately. It answers only for the shipped locales' exact codes; anywhere else Discord
shows the English names.

Discord refuses a whole sync for one bad name, so a translation is checked here before it is used: a
slash command's or option's name must be lower case and match `NAME_PATTERN` (no spaces, at most 32
characters), a menu's name at most 32 characters, a description at most 100 and a choice's name at
most 100. A translation that breaks a rule is logged and left out (Discord then shows English there);
`tests/test_i18n_catalogs.py` makes sure none does.

The strings to translate are found by running this very path over the real command tree with a
recording translator (`command_strings`), which is how `pybabel extract` gets them
(`bot.i18n.extract.extract_commands`): no list of command texts is kept by hand.
"""

from __future__ import annotations

import logging
import unicodedata
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation as Location
from discord.app_commands import TranslationContextTypes, locale_str

from bot.i18n import SHIPPED, catalog

__all__ = [
    "NAME_PATTERN",
    "CommandTranslator",
    "command_strings",
    "context_name",
    "loaded_tree",
    "name_problem",
    "valid_name",
]

log = logging.getLogger(__name__)

#: Discord's rule for slash command and option names (CHAT_INPUT), per its API reference; `valid_name`
#: checks it with `unicodedata` (the standard `re` has no `\p{...}` classes).
NAME_PATTERN = r"^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$"
#: The Devanagari and Thai blocks (their combining vowel signs are marks, not letters, yet allowed).
_SCRIPTS = ((0x0900, 0x097F), (0xA8E0, 0xA8FF), (0x0E00, 0x0E7F))
#: The longest description, and the longest choice name, Discord takes.
DESCRIPTION_LIMIT = 100
CHOICE_NAME_LIMIT = 100
MENU_NAME_LIMIT = 32


def context_name(context: TranslationContextTypes) -> str:
    """The gettext message context of a text: the kind of text, a message menu's name apart."""
    if context.location is Location.command_name and isinstance(context.data, app_commands.ContextMenu):
        return "menu_name"
    return context.location.name


def valid_name(text: str) -> bool:
    """Whether `text` matches `NAME_PATTERN`: 1-32 letters, numbers, `-`, `_`, Devanagari or Thai."""
    return 1 <= len(text) <= 32 and all(
        char in "-_" or unicodedata.category(char)[0] in "LN"
        or any(low <= ord(char) <= high for low, high in _SCRIPTS)
        for char in text
    )


def name_problem(context: str, text: str) -> str | None:
    """What breaks Discord's rules in a translated text of this context, or None when it is fine."""
    if context in ("command_name", "group_name", "parameter_name"):
        if text != text.lower():
            return "names must be lower case"
        if not valid_name(text):
            return "names are 1-32 letters, digits, - or _, without spaces"
    elif context == "menu_name":
        if not 1 <= len(text) <= MENU_NAME_LIMIT:
            return f"menu names are 1-{MENU_NAME_LIMIT} characters"
    elif context in ("command_description", "group_description", "parameter_description"):
        if not 1 <= len(text) <= DESCRIPTION_LIMIT:
            return f"descriptions are 1-{DESCRIPTION_LIMIT} characters"
    elif context == "choice_name" and not 1 <= len(text) <= CHOICE_NAME_LIMIT:
        return f"choice names are 1-{CHOICE_NAME_LIMIT} characters"
    return None


class CommandTranslator(app_commands.Translator):
    """Names and descriptions from the catalogs, for the shipped locales; None (English) elsewhere."""

    async def translate(
        self, string: locale_str, locale: discord.Locale, context: TranslationContextTypes
    ) -> str | None:
        """The catalog's translation, if there is one and Discord would accept it."""
        code = locale.value
        if code not in SHIPPED:
            return None
        kind = context_name(context)
        translations = catalog(code)
        if not _has_entry(translations, kind, string.message):
            return None  # not translated: Discord shows the English text
        translated = translations.pgettext(kind, string.message)
        problem = name_problem(kind, translated)
        if problem is not None:
            log.warning("left out the %s %s of %r: %s", code, kind, string.message, problem)
            return None
        return translated


def _has_entry(translations: object, context: str, message: str) -> bool:
    r"""Whether a compiled catalog translates `message` in `context`.

    A translation may equal the English ("prompt" is "prompt" in French too) and is still synced as
    French. `gettext` has no public way to ask; a `GNUTranslations` keeps its entries in `_catalog`,
    keyed `context + "" + message` for a message with a context, as its own `pgettext` looks them up.
    """
    entries = getattr(translations, "_catalog", None)
    return isinstance(entries, dict) and f"{context}\x04{message}" in entries


class _Recorder(app_commands.Translator):
    """Translates nothing; notes every (context, text) discord.py asks about."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], None] = {}

    async def translate(
        self, string: locale_str, locale: discord.Locale, context: TranslationContextTypes
    ) -> str | None:
        self.seen[(context_name(context), string.message)] = None
        return None


async def loaded_tree() -> app_commands.CommandTree[Any]:
    """The bot's command tree with every cog loaded, built offline (nothing connects, nothing is opened)."""
    from typing import cast

    from pydantic import SecretStr

    from bot.core import DEFAULT_EXTENSIONS, ImageBot
    from bot.services import Services
    from bot.settings import Settings

    offline = SecretStr("offline")
    settings = Settings(discord_token=offline, openrouter_api_key=offline, _env_file=None)  # type: ignore[call-arg]
    services = cast(Services, _NoServices())
    bot = ImageBot(settings, services, sync_commands=False)
    for extension in DEFAULT_EXTENSIONS:
        await bot.load_extension(extension)
    return bot.tree


class _NoServices:
    """Stands in for the services while only the command tree is wanted: the cogs keep references only."""

    store = fetcher = openrouter = attachments = catalog = None


async def command_strings(tree: app_commands.CommandTree[Any] | None = None) -> list[tuple[str, str]]:
    """Every (context, English text) a sync of `tree` (default: the bot's) asks to translate, in order."""
    tree = tree or await loaded_tree()
    recorder = _Recorder()
    for command in tree.get_commands():
        await command.get_translated_payload(tree, recorder)
    return list(recorder.seen)
