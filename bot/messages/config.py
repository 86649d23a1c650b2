"""Refused settings: `/config` and its subcommands (`cogs.config`, `/config budget` and `quota` in `cogs.usage`).

Every refusal of a change ends in "Nothing was changed.", so an admin knows the setting is as it was.
"""

from __future__ import annotations

from bot.messages import DEFAULT_TITLE, Msg, Text

__all__ = [
    "CHANNEL_LIST_FULL",
    "COOLDOWN_RANGE",
    "COUNT_DEFAULT_ABOVE_MAXIMUM",
    "COUNT_NOTHING_GIVEN",
    "COUNT_NOT_IMAGES",
    "MAX_REFERENCES_RANGE",
    "NEGATIVE_LIMIT",
    "NONE_ALONE",
    "NOTHING_SIMILAR",
    "NOT_A_MODEL_ID",
    "NOT_LISTABLE",
    "NO_PROVIDERS_GIVEN",
    "PICK_OPERATION",
    "PICK_ROLE",
    "PICK_SPOILER_MODE",
    "PROVIDERS_NOTHING_GIVEN",
    "QUOTA_AMOUNT",
    "QUOTA_AMOUNT_RANGE",
    "QUOTA_COUNT",
    "QUOTA_COUNT_RANGE",
    "QUOTA_INVALID",
    "QUOTA_NONE_AMBIGUOUS",
    "QUOTA_VALUE_HELP",
    "ROUTE_NOT_IMAGES",
    "TOO_MANY_PROVIDERS",
    "UNKNOWN_PROVIDER",
    "UNKNOWN_PROVIDER_LINE",
]

PICK_OPERATION = Text(DEFAULT_TITLE, "Pick imagine, edit or describe from the list. Nothing was changed.")

# -- model and providers --------------------------------------------------------------------------

#: `typed`: what was typed, shortened and in backticks.
NOT_A_MODEL_ID = Text(
    DEFAULT_TITLE,
    "{typed} is not a model id. Ids look like `google/gemini-2.5-flash-image`: pick one from the list. "
    "Nothing was changed.",
)
PROVIDERS_NOTHING_GIVEN = Text(
    DEFAULT_TITLE, "Give `only`, `ignore` or both (`none` clears a list). Nothing was changed."
)
NO_PROVIDERS_GIVEN = Text(DEFAULT_TITLE, "Give provider slugs or names separated by commas, or `none` to clear.")
NONE_ALONE = Text(DEFAULT_TITLE, "`none` clears the list, so use it on its own. Nothing was changed.")
TOO_MANY_PROVIDERS = Text(DEFAULT_TITLE, "At most {maximum} providers per list. Nothing was changed.")
#: `lines`: one `UNKNOWN_PROVIDER_LINE` per unknown name, on lines of their own.
UNKNOWN_PROVIDER = Text(
    "Unknown provider",
    "OpenRouter has no such provider:\n{lines}\nNothing was changed. Pick slugs or names from the list, "
    "separated by commas.",
)
#: `name`: the unknown name in backticks; `suggestions`: close providers, or `NOTHING_SIMILAR`.
UNKNOWN_PROVIDER_LINE = Msg("{name}: did you mean {suggestions}?")
NOTHING_SIMILAR = Msg("nothing similar")


# -- limits ---------------------------------------------------------------------------------------

MAX_REFERENCES_RANGE = Text(DEFAULT_TITLE, "Choose 1 to {maximum}. Nothing was changed.")
COOLDOWN_RANGE = Text(DEFAULT_TITLE, "Choose 0 to {maximum} seconds. Nothing was changed.")
ROUTE_NOT_IMAGES = Text(
    DEFAULT_TITLE, "Only `/imagine` and `/edit` have a choice of route. Nothing was changed."
)
COUNT_NOT_IMAGES = Text(DEFAULT_TITLE, "Only `/imagine` and `/edit` make images. Nothing was changed.")
COUNT_NOTHING_GIVEN = Text(DEFAULT_TITLE, "Give `default`, `maximum` or both. Nothing was changed.")
COUNT_DEFAULT_ABOVE_MAXIMUM = Text(
    DEFAULT_TITLE, "The default ({default}) can't be above the maximum ({maximum}). Nothing was changed."
)

# -- channels and spoilers ------------------------------------------------------------------------

NOT_LISTABLE = Text(
    DEFAULT_TITLE,
    "Pick a text, voice, announcement or forum channel: threads and forum posts follow their "
    "parent channel, so list that instead. Nothing was changed.",
)
CHANNEL_LIST_FULL = Text(
    "Channel list full",
    "A list holds at most {maximum} channels. Remove one with `/config channels remove` "
    "first, or list a parent channel: its threads count too. Nothing was changed.",
)
PICK_SPOILER_MODE = Text(DEFAULT_TITLE, "Pick off, always or outside-age-restricted. Nothing was changed.")

# -- budgets and role quotas ----------------------------------------------------------------------

NEGATIVE_LIMIT = Text("Invalid limit", "Limits can't be negative. Use 0 to remove one.")
PICK_ROLE = Text("Which role?", "Pick the `role` the quota is for. Nothing was changed.")
QUOTA_NONE_AMBIGUOUS = Text(
    "Invalid quota",
    "`{option}:none` could mean either: use `0` to allow nothing, or `clear` to remove the role's "
    "quota. Nothing was changed.",
)
QUOTA_VALUE_HELP = Msg("a number, `0` (none allowed), `unlimited`, or `clear` (remove the role's quota)")
#: `shown`: the value as typed, shortened; `what`: one of the `QUOTA_*` phrases below.
QUOTA_INVALID = Text(
    QUOTA_NONE_AMBIGUOUS.title,
    "`{option}:{shown}` is not {what}. Use a number, `0` (none allowed), `unlimited`, or `clear` (remove "
    "the role's quota). Nothing was changed.",
)
QUOTA_COUNT = Msg("a whole number of images")
#: `maximum`: the largest quota, formatted ("1,000,000").
QUOTA_COUNT_RANGE = Msg("between 0 and {maximum} images")
QUOTA_AMOUNT = Msg("an amount in USD")
#: `maximum`: the largest quota, formatted ("$1,000").
QUOTA_AMOUNT_RANGE = Msg("between $0 and {maximum}")
