"""`/usage`, `/config budget` and `/config quota` (`cogs.usage`): what was spent, and the daily limits.

Amounts come formatted for the locale (`bot.budgets.usd`), roles as mentions, and `when` is a Discord
timestamp (`<t:...:R>`, which each client shows in its own language). Days are UTC days.
"""

from __future__ import annotations

from bot.messages import Msg, Plural

__all__ = [
    "BUDGET_TITLE",
    "BUDGET_UPDATED_TITLE",
    "CHART_TITLE",
    "DAILY_LIMITS",
    "DAYS_ARE_UTC",
    "DEFAULT_TEXT",
    "FROM_ROLE",
    "IMAGES",
    "IMAGES_LEFT",
    "KEY_FIELD",
    "KEY_LEFT",
    "KEY_NO_LIMIT",
    "KEY_NO_LIMIT_USED",
    "KEY_UNAVAILABLE",
    "LAST_30_DAYS",
    "LAST_7_DAYS",
    "LIMIT_LEFT",
    "LIMIT_LEFT_AMOUNT",
    "LIMIT_NONE_ALLOWED",
    "LIMIT_UNLIMITED",
    "MEMBER_DEFAULT_SOURCE",
    "MEMBER_FOOTER",
    "MEMBER_IMAGES_PER_DAY",
    "MEMBER_IMAGES_PER_DAY_YOURS",
    "MEMBER_TITLE",
    "MEMBER_USD_PER_DAY",
    "MEMBER_USD_PER_DAY_YOURS",
    "NO_BUDGETS",
    "NO_IMAGE_LIMIT",
    "NO_LIMITS",
    "NO_QUOTAS",
    "NO_USD_LIMIT",
    "OPERATION_SPEND",
    "QUOTAS_FIELD",
    "QUOTAS_REPLACE",
    "QUOTA_CLEAR_CHOICE",
    "QUOTA_DEFAULT_LINE",
    "QUOTA_EXPLAINED",
    "QUOTA_IMAGES_LINE",
    "QUOTA_IMAGES_UNSET",
    "QUOTA_OF",
    "QUOTA_PER_DAY_CHOICE",
    "QUOTA_SUMMARY",
    "QUOTA_SUMMARY_BOTH",
    "QUOTA_TITLE",
    "QUOTA_UNCHANGED_TITLE",
    "QUOTA_UNSET",
    "QUOTA_UPDATED_TITLE",
    "QUOTA_USD_LINE",
    "QUOTA_USD_UNSET",
    "QUOTA_ZERO_CHOICE",
    "QUOTA_ZERO_IMAGES",
    "QUOTA_ZERO_USD",
    "RESET_AT",
    "SERVER_FOOTER",
    "SERVER_PER_DAY",
    "SERVER_TITLE",
    "SPEND",
    "THIS_MONTH",
    "THIS_WEEK",
    "TODAY",
    "TOP_MEMBERS",
    "UNKNOWN",
    "UNLIMITED",
    "UNLIMITED_IMAGES",
    "UNLIMITED_USD",
    "YOUR_IMAGES",
    "YOUR_SPEND",
    "QUOTAS_TITLE",
]

# -- spend ----------------------------------------------------------------------------------------

#: `amount`: what was spent; `count`: the jobs.
SPEND = Plural("{amount} · {count} job", "{amount} · {count} jobs")
#: `operation`: the command's name ("Imagine"); `spend`: `SPEND`.
OPERATION_SPEND = Msg("{operation}: {spend}")
TOP_MEMBERS = Msg("Top members:")
#: `count`: a number of images.
IMAGES = Plural("{count} image", "{count} images")

# -- /usage ---------------------------------------------------------------------------------------

MEMBER_TITLE = Msg("Your usage in this server")
SERVER_TITLE = Msg("Usage in this server")
TODAY = Msg("Today")
THIS_WEEK = Msg("This week")
THIS_MONTH = Msg("This month")
LAST_7_DAYS = Msg("Last 7 days")
LAST_30_DAYS = Msg("Last 30 days")
DAILY_LIMITS = Msg("Daily limits")
#: `when`: the next reset, a Discord timestamp.
RESET_AT = Msg("Reset {when}")
NO_BUDGETS = Msg("None (`/config budget` sets them)")
QUOTAS_FIELD = Msg("Role quotas")
KEY_FIELD = Msg("OpenRouter key")
#: The chart's title (drawn into the image).
CHART_TITLE = Msg("Daily spend, last 30 days (UTC)")
MEMBER_FOOTER = Msg("Days and weeks in UTC; costs in USD as OpenRouter reported them.")
SERVER_FOOTER = Msg("Days in UTC; costs in USD as OpenRouter reported them.")

# The key's figures, for the bot's owner only (never the key or its label).
KEY_UNAVAILABLE = Msg("Could not ask OpenRouter right now.")
KEY_NO_LIMIT = Msg("No spending limit set on the key.")
#: `used`: what the key spent in all.
KEY_NO_LIMIT_USED = Msg("No spending limit set on the key ({used} used in all).")
#: `remaining`: an amount, or `UNKNOWN`; `limit`: the key's limit.
KEY_LEFT = Msg("{remaining} left of its {limit} limit.")
UNKNOWN = Msg("unknown")

# -- the limits, as /usage and /config budget list them -------------------------------------------

#: `limit`: the server's daily budget; `used`: what today used of it.
SERVER_PER_DAY = Msg("Server, per day: **{limit}** ({used} used today)")
MEMBER_USD_PER_DAY = Msg("Each member, per day: **{limit}**")
MEMBER_USD_PER_DAY_YOURS = Msg("Each member, per day: **{limit}** ({used} used by you today)")
#: `count`: the member limit of images.
MEMBER_IMAGES_PER_DAY = Plural("Each member, per day: **{count} image**", "Each member, per day: **{count} images**")
#: `made`: the images the member made today.
MEMBER_IMAGES_PER_DAY_YOURS = Plural(
    "Each member, per day: **{count} image** ({made} made by you today)",
    "Each member, per day: **{count} images** ({made} made by you today)",
)
#: A member's own limits in `/usage`; `name`: `YOUR_IMAGES` or `YOUR_SPEND`; `source`: where it comes from.
YOUR_IMAGES = Msg("Your images")
YOUR_SPEND = Msg("Your spend")
LIMIT_UNLIMITED = Msg("{name}: **unlimited** ({source})")
LIMIT_NONE_ALLOWED = Msg("{name}: **none allowed** ({source})")
#: `left`: `IMAGES_LEFT` or `LIMIT_LEFT`.
LIMIT_LEFT = Msg("{name}: **{left}** today ({source})")
#: `role`: the role's mention.
FROM_ROLE = Msg("from the role {role}")
MEMBER_DEFAULT_SOURCE = Msg("the server's limit for each member")
#: `remaining` of `images` (`IMAGES`).
IMAGES_LEFT = Msg("{remaining} of {images} left")
LIMIT_LEFT_AMOUNT = Msg("{remaining} of {limit} left")

# -- /config budget -------------------------------------------------------------------------------

BUDGET_TITLE = Msg("Daily limits")
BUDGET_UPDATED_TITLE = Msg("Daily limits updated")
QUOTAS_REPLACE = Msg("Role quotas (`/config quota`) replace the member limits for members whose roles set one.")
DAYS_ARE_UTC = Msg("Days are UTC days: the limits reset at 00:00 UTC ({when}).")
NO_LIMITS = Msg("No limits: image commands run whatever they cost. Set one with an option of this command.")

# -- /config quota --------------------------------------------------------------------------------

QUOTAS_TITLE = Msg("Role quotas")
QUOTA_TITLE = Msg("Role quota")
QUOTA_UPDATED_TITLE = Msg("Role quota updated")
QUOTA_UNCHANGED_TITLE = Msg("Role quota unchanged")
UNLIMITED = Msg("unlimited")
UNLIMITED_IMAGES = Msg("**unlimited** images")
UNLIMITED_USD = Msg("**unlimited** USD")
#: A role's quota: `limit` (one of images or USD) per day, or `images` and `usd` (both set).
QUOTA_SUMMARY = Msg("{limit} per day")
QUOTA_SUMMARY_BOTH = Msg("{images} and {usd} per day")
NO_IMAGE_LIMIT = Msg("no image limit")
NO_USD_LIMIT = Msg("no USD limit")
#: The member default: `images` (`IMAGES` or `NO_IMAGE_LIMIT`) and `usd` (an amount or `NO_USD_LIMIT`).
DEFAULT_TEXT = Msg("{images} and {usd}")
#: `default`: `DEFAULT_TEXT`.
QUOTA_DEFAULT_LINE = Msg("Where none of a member's roles sets one: the member default, {default}")
NO_QUOTAS = Msg("No role has a quota: every member has the member default of `/config budget` ({default}).")
#: `role`: the role's mention.
QUOTA_OF = Msg("Quota of {role}:")
QUOTA_UNSET = Msg("not set (the member's other roles or the member default decide)")
QUOTA_ZERO_IMAGES = Msg("0 (none allowed)")
#: `amount`: zero, formatted.
QUOTA_ZERO_USD = Msg("{amount} (nothing allowed: no command at all)")
QUOTA_IMAGES_LINE = Msg("Images per day: **{images}**")
QUOTA_IMAGES_UNSET = Msg("Images per day: {unset}")
QUOTA_USD_LINE = Msg("USD per day: **{usd}**")
QUOTA_USD_UNSET = Msg("USD per day: {unset}")
QUOTA_EXPLAINED = Msg(
    "Each member gets the most generous quota among their roles, for images and USD separately; where none "
    "of their roles sets one, the member default ({default}, `/config budget`). The server's own daily budget "
    "still applies to everyone. Quotas reset at 00:00 UTC ({when})."
)
#: Autocomplete choices while a quota is typed; `shown`: the typed value as it would be saved.
QUOTA_PER_DAY_CHOICE = Msg("{shown} per day")
QUOTA_ZERO_CHOICE = Msg("0 (none allowed)")
QUOTA_CLEAR_CHOICE = Msg("clear (remove this role's quota)")
