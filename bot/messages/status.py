"""`/status` (`cogs.status`) and the readiness line it shares with `/config show` (`bot.catalog.Readiness`)."""

from __future__ import annotations

from bot.messages import Msg, Plural

__all__ = [
    "ALL_READY",
    "CHANNELS_ONLY",
    "CHANNELS_NOT_THIS_ONE",
    "CHECKED_JUST_NOW",
    "CHECKED_MINUTES_AGO",
    "KEY_FIELD",
    "KEY_NO_CREDIT",
    "KEY_REJECTED",
    "KEY_STATE",
    "KEY_UNREACHABLE",
    "KEY_WORKS",
    "MODEL_LINE",
    "NOT_ALL_READY",
    "NO_CREDIT",
    "NO_KEY",
    "READY",
    "READY_DISABLED",
    "READY_INCAPABLE_IMAGES",
    "READY_INCAPABLE_VISION",
    "READY_UNCHECKED",
    "READY_UNKNOWN_MODEL",
    "ROUTE_CHAT",
    "ROUTE_IMAGES",
    "ROUTE_LINE",
    "TITLE",
]

TITLE = Msg("Status")

# -- readiness of a command (`/status` and `/config show`) -----------------------------------------

READY = Msg("🟢 Ready")
READY_DISABLED = Msg("⚫ Disabled")
READY_UNKNOWN_MODEL = Msg("🟡 Model not in OpenRouter's list")
READY_UNCHECKED = Msg("⚪ Not checked (model list unavailable)")
READY_INCAPABLE_IMAGES = Msg("🔴 Model can't make images")
READY_INCAPABLE_VISION = Msg("🔴 Model can't read images")

# -- one command's field --------------------------------------------------------------------------

#: `model`: the model id, safe inside backticks.
MODEL_LINE = Msg("Model: `{model}`")
#: `route`: `ROUTE_IMAGES` or `ROUTE_CHAT`.
ROUTE_LINE = Msg("Route: {route}")
ROUTE_IMAGES = Msg("Images API")
ROUTE_CHAT = Msg("chat")
#: `channels`: channel mentions.
CHANNELS_ONLY = Msg("Channels: only {channels}")
CHANNELS_NOT_THIS_ONE = Msg("Channels: only {channels} (not this one)")

# -- the OpenRouter key (never the key or its label) -------------------------------------------------

KEY_FIELD = Msg("OpenRouter key")
KEY_WORKS = Msg("✅ Works")
KEY_NO_CREDIT = Msg("🟠 Accepted, but out of credits: image commands fail until credits are added")
#: `detail`: what OpenRouter answered (a status, "timed out").
KEY_REJECTED = Msg("❌ Refused by OpenRouter ({detail}): the bot's operator must check `OPENROUTER_API_KEY`")
KEY_UNREACHABLE = Msg("⚪ Could not be checked ({detail}): OpenRouter may be unreachable")
#: `state`: one of the `KEY_*` lines; `checked`: `CHECKED_*`.
KEY_STATE = Msg("{state} ({checked})")
CHECKED_JUST_NOW = Msg("checked just now")
CHECKED_MINUTES_AGO = Plural("checked {count} min ago", "checked {count} min ago")

# -- the summary ----------------------------------------------------------------------------------

NO_KEY = Msg("The bot cannot reach OpenRouter with its key right now, so no image command works.")
NO_CREDIT = Msg("The bot's OpenRouter account is out of credits, so no image command works.")
ALL_READY = Msg("Every image command is ready.")
#: `count` of `total` commands are ready.
NOT_ALL_READY = Plural(
    "{count} of {total} image commands is ready. Server admins can fix the rest with `/config`.",
    "{count} of {total} image commands are ready. Server admins can fix the rest with `/config`.",
)
