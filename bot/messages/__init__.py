"""Every text a member reads when something is refused or fails: the one home of that wording.

Why one home. The words a member reads were spread over the code: `bot.error_messages` had the texts
for OpenRouter's errors and failed checks, and each `UserFacingError` subclass (queue, budgets,
attachments, access, /config, /show, the result buttons, ...) built its own text where it was raised.
Kept here instead:

- The wording can be reviewed in one place, area by area, so the same thing is said the same way
  ("Nothing was changed.", who may change a setting and with which command, how a job is named).
- Localization (gettext catalogs through Babel, `bot.i18n`) has exactly one place to extract from:
  `pybabel extract -F babel.cfg` finds every `Text`, `Msg` and `Plural` here (`bot.i18n.extract`), and
  each is looked up in the member's language when it is formatted. That is also why the texts are
  `str.format` templates with named fields (`"Job #{job_id} ..."`), never f-strings: an f-string is
  filled in before a translation could be looked up, and a named field lets a translation put the
  value wherever its language needs it. A text that varies (one image / several images, with or
  without a link) is two whole templates chosen by a small function here, not a sentence glued
  together at the call site, so each can be translated as a whole.
- Exceptions keep their types (callers and tests catch them by type) and only take their text from
  here: a subclass's `title` is its text's title, and its `__init__` formats its text with the values
  it is given. A refusal without a class of its own is `bot.errors.refusal(TEXT, **values)`.

Which text answers which error is still decided in code: `bot.error_messages.describe_error` maps
OpenRouter's errors and failed checks to the texts of `bot.messages.upstream` and
`bot.messages.commands`, and each exception picks its own. The modules, one per area:

- `commands`: refusals of a command as a whole (servers only, disabled, wrong channel, failed checks,
  the unexpected error) and the default title.
- `upstream`: what OpenRouter's errors mean for a member.
- `images`: refused uploads and downloads (format, size, damage, addresses), inputs gone.
- `jobs`: the queue, cooldowns, image counts, and the answers to a Cancel click.
- `budgets`: daily budgets and role quotas.
- `results`: `/show`, `/jobs`, `/describe` and the result buttons.
- `grid`: results of several images (the grid's text, its per-image buttons, Upscale and Vary).
- `config`: `/config` and its settings' refusals.
- `configuration`: what `/config` answers when a setting is saved or shown.
- `status`: `/status`, and the readiness line `/config show` shares.
- `history`: the `/jobs` list and a result shown again by `/show`.
- `usage`: `/usage`, `/config budget` and `/config quota`.
- `ui`: labels of buttons, forms and result embeds, progress lines, notes on results.

Rules for a text here: every public name of an area module is a text (a `Text`, a `Msg`, a `Plural`,
or a function returning a text); nothing here imports from the bot or from discord.py (only
`bot.i18n`, which imports nothing of the bot), so any module can use it without a cycle; values come
in already formatted where formatting is not wording (a channel mention, a quoted filename, an amount
formatted for the locale by `bot.i18n.money`). `tests/test_messages.py` checks that every template
formats and that no module outside this package builds a member-facing error text inline.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import DEFAULT_LOCALE, command_mentions, current, gettext, ngettext

__all__ = [
    "DEFAULT_TITLE", "Msg", "Plural", "Rendered", "Text", "in_english", "lower_first", "translated", "upper_first",
]

#: The title of a refusal whose text does not bring its own.
DEFAULT_TITLE = "That didn't work"


def translated(text: str) -> str:
    """A text written here (a `Text.title`, say) in the current locale: its catalog entry, or itself.

    Sinks that receive titles as plain strings (`bot.replies.error_embed`) pass them through this,
    so a class attribute `title = texts.X.title`, set once at import, still reads in each member's
    language. A text already translated, or not from here, has no entry and comes back unchanged.
    """
    return gettext(text) if text else text


class Rendered(str):
    """A text as the member reads it that also carries its English rendering, for the logs.

    Logs stay English whatever the member's language, yet a refusal's text is formatted (translated)
    where it is raised, long before the tree's error handler logs it. So every text formatted here in
    another language is a `Rendered`: the member's words, with `english` beside them; `in_english`
    gives the logs the latter. Values that are themselves `Rendered` are rendered in English too.
    """

    english: str

    def __new__(cls, text: str, english: str) -> Rendered:
        """`text` as shown, `english` as logged."""
        rendered = super().__new__(cls, text)
        rendered.english = english
        return rendered


def in_english(value: object) -> str:
    """A text (or an exception carrying one) as the logs show it: in English."""
    if isinstance(value, BaseException):
        value = getattr(value, "message", None) or (value.args[0] if value.args else value)
    english = getattr(value, "english", None)
    return english if isinstance(english, str) else str(value)


def _render(template: str, source: str, values: dict[str, object]) -> str:
    """`template` (the translation of `source`) filled with `values`, carrying the English when it differs.

    In another language than English, commands named in the text become command mentions, which the
    member's client shows under their localized names (`bot.i18n.command_mentions`).
    """
    text = template.format(**values)
    if current() != DEFAULT_LOCALE:
        text = command_mentions(text)
    if template == source and not any(isinstance(value, Rendered) for value in values.values()):
        return text
    return Rendered(text, source.format(**{name: _english_value(value) for name, value in values.items()}))


def _english_value(value: object) -> object:
    return value.english if isinstance(value, Rendered) else value


@dataclass(frozen=True, slots=True)
class Text:
    """A title and a message template whose `{name}` fields are filled by `format`, both from the catalogs.

    `title` and `message` are the English source texts (the catalogs' msgids); `format`, `pair` and
    `heading` look them up in the current locale (`bot.i18n`) first.
    """

    title: str
    message: str

    def format(self, **values: object) -> str:
        """The message, translated, with its fields filled in."""
        return _render(gettext(self.message), self.message, values)

    def pair(self, **values: object) -> tuple[str, str]:
        """(title, message), translated, as error embeds take them."""
        return self.heading, self.format(**values)

    @property
    def heading(self) -> str:
        """The title, translated."""
        return gettext(self.title)


@dataclass(frozen=True, slots=True)
class Msg:
    """One text (a label, a line, a phrase) that is looked up in the catalogs when it is used.

    Not a `str` on purpose: a `Msg` handed to code that wants a `str` is a type error (mypy), so no
    English source text can reach a member untranslated by being passed along as it is.
    """

    source: str

    def format(self, **values: object) -> str:
        """The text, translated, with its fields filled in."""
        return _render(gettext(self.source), self.source, values)

    @property
    def text(self) -> str:
        """The text, translated (for a text without fields)."""
        translation = gettext(self.source)
        if translation == self.source:
            return translation
        return Rendered(command_mentions(translation) if current() != DEFAULT_LOCALE else translation, self.source)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Plural:
    """A text whose wording depends on a number, its form chosen by the catalog's plural rules (`ngettext`).

    Both English forms are templates with a `{count}` field; a language with more forms has them in
    its catalog.
    """

    singular: str
    plural: str

    def format(self, count: int, **values: object) -> str:
        """The form for `count`, translated, with `count` and the other fields filled in."""
        english = self.singular if count == 1 else self.plural
        return _render(ngettext(self.singular, self.plural, count), english, {"count": count, **values})


def lower_first(text: str) -> str:
    """The text with its first letter lower-cased, for a phrase that moves into the middle of a sentence."""
    return text[:1].lower() + text[1:]


def upper_first(text: str) -> str:
    """The text with its first letter upper-cased, for a phrase that starts a sentence."""
    return text[:1].upper() + text[1:]
