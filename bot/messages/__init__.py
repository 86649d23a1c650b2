"""Every text a member reads when something is refused or fails: the one home of that wording.

Why one home. The words a member reads were spread over the code: `bot.error_messages` had the texts
for OpenRouter's errors and failed checks, and each `UserFacingError` subclass (queue, budgets,
attachments, access, /config, /show, the result buttons, ...) built its own text where it was raised.
Kept here instead:

- The wording can be reviewed in one place, area by area, so the same thing is said the same way
  ("Nothing was changed.", who may change a setting and with which command, how a job is named).
- Localization (message catalogs with gettext/Babel, a later step) has exactly one place to extract
  from and one place to wrap in `_()`: `pybabel extract bot/messages` finds every text, and nothing
  outside this package has to change when a catalog is added. That is also why the texts are
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

Rules for a text here: every public name of an area module is a text (a `Text`, a `str` template,
or a function returning one); nothing here imports from the bot or from discord.py, so any module
can use it without a cycle; values come in already formatted where formatting is not wording (a
channel mention, a quoted filename, `$0.0039`). `tests/test_messages.py` checks that every template
formats and that no module outside this package builds a member-facing error text inline.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_TITLE", "Text", "lower_first", "upper_first"]

#: The title of a refusal whose text does not bring its own.
DEFAULT_TITLE = "That didn't work"


@dataclass(frozen=True, slots=True)
class Text:
    """A title and a message template whose `{name}` fields are filled by `format`."""

    title: str
    message: str

    def format(self, **values: object) -> str:
        """The message with its fields filled in."""
        return self.message.format(**values)

    def pair(self, **values: object) -> tuple[str, str]:
        """(title, message), as error embeds take them."""
        return self.title, self.format(**values)


def lower_first(text: str) -> str:
    """The text with its first letter lower-cased, for a phrase that moves into the middle of a sentence."""
    return text[:1].lower() + text[1:]


def upper_first(text: str) -> str:
    """The text with its first letter upper-cased, for a phrase that starts a sentence."""
    return text[:1].upper() + text[1:]
