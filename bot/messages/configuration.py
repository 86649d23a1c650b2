"""What `/config` answers when a setting is saved or shown (`cogs.config`); its refusals are in `config`.

Values come in ready to show: model ids and provider slugs in backticks (`code`), channel mentions,
command names as `/imagine`. `default` is always `DEFAULT_MARK`, the mark of a value that follows the
bot's defaults. Settings in `/config history` are shown as they were recorded.
"""

from __future__ import annotations

from bot.messages import Msg, Plural

__all__ = [
    "ALREADY_LISTED",
    "ALREADY_OFF",
    "ALREADY_ON",
    "BEFORE",
    "CHANNELS_CLEARED_TITLE",
    "CHANNELS_EXPLAINED",
    "CHANNEL_LISTED_TITLE",
    "CHANNEL_REMOVED_TITLE",
    "CLEARED",
    "CLEARED_ALREADY_EMPTY",
    "CLEAR_CHOICE",
    "COOLDOWN_ALREADY",
    "COOLDOWN_NONE",
    "COOLDOWN_NOW",
    "COOLDOWN_SAVED_TITLE",
    "COOLDOWN_SECONDS",
    "COUNT_LINE",
    "COUNT_NOW",
    "COUNT_SAVED_TITLE",
    "DEFAULT_MARK",
    "EVERY_LIST",
    "EVERYWHERE_ELSE_TOLD",
    "HISTORY_DEFAULT",
    "HISTORY_FOOTER",
    "HISTORY_NOT_SHOWN",
    "HISTORY_RESET",
    "HISTORY_TITLE",
    "LIMIT_ALREADY",
    "LIMIT_NOW",
    "LIMIT_SAVED_TITLE",
    "LISTED",
    "LISTED_FOR",
    "LIST_FOR",
    "ANY_LIST",
    "MODELS_CHECKED",
    "MODELS_NOT_LOADED",
    "MODEL_ALREADY",
    "MODEL_BEFORE",
    "MODEL_NOW",
    "MODEL_SAVED_TITLE",
    "NONE_LISTED",
    "NOT_LISTED",
    "NO_CHANGES",
    "NO_IMAGE_INPUT",
    "NO_IMAGE_OUTPUT",
    "OFF",
    "ON",
    "PRECEDENCE_NOTE",
    "PROVIDERS_ALREADY",
    "PROVIDERS_ANY",
    "PROVIDERS_EXCEPT",
    "PROVIDERS_LINE",
    "PROVIDERS_ONLY",
    "PROVIDERS_ONLY_IGNORED",
    "PROVIDERS_SAVED_TITLE",
    "PROVIDERS_UNCHECKED",
    "QUOTAS_FIELD",
    "RESET_ALREADY",
    "RESET_DONE",
    "RESET_TITLE",
    "RESULT_FIELD",
    "ROUTE_ALWAYS",
    "ROUTE_AUTO",
    "ROUTE_CHAT_NAME",
    "ROUTE_GOES_THROUGH",
    "ROUTE_IMAGES_NAME",
    "ROUTE_KEPT",
    "ROUTE_NOW",
    "ROUTE_SAVED_TITLE",
    "SCOPE_ALL",
    "SETTINGS_EXPLAINED",
    "SETTINGS_TITLE",
    "SHOW_CHANNELS",
    "SHOW_COOLDOWN",
    "SHOW_COUNT",
    "SHOW_MAX_REFERENCES",
    "SHOW_MODEL",
    "SHOW_PROVIDERS",
    "SHOW_ROUTE",
    "SPOILERS_ALREADY",
    "SPOILERS_ALWAYS",
    "SPOILERS_NOTE",
    "SPOILERS_NOW",
    "SPOILERS_OFF",
    "SPOILERS_OUTSIDE",
    "SPOILERS_SAVED_TITLE",
    "SWITCHED_OFF",
    "SWITCHED_ON",
    "SWITCH_TITLE_OFF",
    "SWITCH_TITLE_ON",
    "THIS_SERVER",
    "TOOK_OFF",
    "TURNED_OFF_HINT",
    "UNCHECKED_MODEL",
    "UNKNOWN_MODEL_WARNING",
    "CANNOT_EDIT_PICTURES",
    "CANNOT_MAKE_IMAGES",
    "CANNOT_READ_IMAGES",
    "NOTHING_LISTED",
    "WARNING_FIELD",
    "WHERE_CHANNELS",
    "WHERE_EVERYWHERE",
    "WHERE_NOW",
    "WHERE_TITLE",
]

#: The mark of a value that follows the bot's defaults.
DEFAULT_MARK = Msg("*(default)*")
#: Field name of a warning under a saved setting.
WARNING_FIELD = Msg("⚠️ Warning")
#: `before`: the value before the change.
BEFORE = Msg("Before: {before}")

# -- model ----------------------------------------------------------------------------------------

MODEL_SAVED_TITLE = Msg("Model saved")
#: `operation`: the command's name ("Imagine"); `model`: the model in backticks, maybe with `DEFAULT_MARK`.
MODEL_ALREADY = Msg("**{operation}** already used {model}; nothing changed.")
MODEL_NOW = Msg("**{operation}** now uses {model}.")
MODEL_BEFORE = Msg("Before: {model}")
UNCHECKED_MODEL = Msg(
    "OpenRouter's model list could not be loaded just now, so {model} was saved without being checked."
)
#: `command`: the command's name (`imagine`).
UNKNOWN_MODEL_WARNING = Msg(
    "OpenRouter's model list does not know {model}. It was saved anyway (the list can lag behind new "
    "models), but `/{command}` will fail if the id is wrong."
)
#: `outputs`: what the model outputs, comma-separated, or `NOTHING_LISTED`.
CANNOT_MAKE_IMAGES = Msg("{model} cannot make images (it outputs: {outputs}); `/{command}` will fail.")
#: `inputs`: what the model accepts, comma-separated, or `NOTHING_LISTED`.
CANNOT_READ_IMAGES = Msg("{model} cannot read images (it accepts: {inputs}); `/describe` will fail.")
#: `inputs`: what the model accepts ("text"): it makes images from text only, so it cannot edit a picture.
CANNOT_EDIT_PICTURES = Msg(
    "{model} makes images from text only (it accepts: {inputs}), so it can't edit a picture: `/edit`, "
    "\"Edit image\" and the Edit buttons will refuse to run with it."
)
NOTHING_LISTED = Msg("nothing listed")
#: Autocomplete hints after a model that lacks what the command needs.
NO_IMAGE_OUTPUT = Msg(" (no image output)")
NO_IMAGE_INPUT = Msg(" (no image input)")

# -- providers ------------------------------------------------------------------------------------

PROVIDERS_SAVED_TITLE = Msg("Providers saved")
#: `providers`: `PROVIDERS_*` below.
PROVIDERS_LINE = Msg("**{operation}** may use: {providers}.")
PROVIDERS_ALREADY = Msg("That was already the setting; nothing changed.")
#: `providers`: slugs in backticks, comma-separated.
PROVIDERS_ONLY = Msg("only {providers}")
PROVIDERS_ONLY_IGNORED = Msg("only {providers} (ignore {ignored} is not sent: only takes precedence)")
PROVIDERS_EXCEPT = Msg("any except {providers}")
PROVIDERS_ANY = Msg("any {default}")
PRECEDENCE_NOTE = Msg("Both lists are set: **only** takes precedence, so **ignore** is not sent to OpenRouter.")
PROVIDERS_UNCHECKED = Msg(
    "OpenRouter's provider list could not be loaded just now, so the names were saved unchecked."
)
#: The autocomplete choice that clears a provider list.
CLEAR_CHOICE = Msg("none (clear this list)")

# -- limits and switches --------------------------------------------------------------------------

LIMIT_SAVED_TITLE = Msg("Limit saved")
#: `count`: the new limit; `before`: the old one.
LIMIT_NOW = Plural(
    "**Edit** accepts up to {count} reference image. Before: {before}.",
    "**Edit** accepts up to {count} reference images. Before: {before}.",
)
LIMIT_ALREADY = Plural(
    "**Edit** already accepted up to {count} reference image; nothing changed.",
    "**Edit** already accepted up to {count} reference images; nothing changed.",
)
COOLDOWN_SAVED_TITLE = Msg("Cooldown saved")
#: `cooldown`: `COOLDOWN_SECONDS` or `COOLDOWN_NONE`.
COOLDOWN_ALREADY = Msg("`/{command}` already had {cooldown}; nothing changed.")
COOLDOWN_NOW = Msg("`/{command}` now has {cooldown}. Before: {before}.")
COOLDOWN_SECONDS = Msg("{seconds} s per member")
COOLDOWN_NONE = Msg("none {default}")
ROUTE_SAVED_TITLE = Msg("Route saved")
#: `route`: `ROUTE_ALWAYS` or `ROUTE_AUTO`.
ROUTE_NOW = Msg("`/{command}` route: {route}. Before: {before}.")
#: `route`: the route's value (`chat`, `images`).
ROUTE_ALWAYS = Msg("always {route}")
ROUTE_AUTO = Msg("auto {default}")
ROUTE_CHAT_NAME = Msg("chat route (/chat/completions)")
ROUTE_IMAGES_NAME = Msg("Images API (/images)")
#: `forced`/`used`: `ROUTE_*_NAME`.
ROUTE_KEPT = Msg(
    "{model} is not served by the {forced}, so it keeps the {used} until this command uses a model that is."
)
ROUTE_GOES_THROUGH = Msg("{model} goes through the {used}.")
COUNT_SAVED_TITLE = Msg("Count saved")
#: `count`: images by default; `maximum`: at most; `old_default`/`old_maximum`: before.
COUNT_NOW = Plural(
    "`/{command}` makes {count} image by default, at most {maximum} per request. Before: {old_default}, "
    "at most {old_maximum}.",
    "`/{command}` makes {count} images by default, at most {maximum} per request. Before: {old_default}, "
    "at most {old_maximum}.",
)
#: `default`/`maximum`: numbers, each maybe followed by `DEFAULT_MARK`.
COUNT_LINE = Msg("{default} by default, at most {maximum}")
ON = Msg("on")
OFF = Msg("off")
#: `operation`: the command's name ("Imagine").
SWITCH_TITLE_ON = Msg("{operation} turned on")
SWITCH_TITLE_OFF = Msg("{operation} turned off")
SWITCHED_ON = Msg("`/{command}` is now **on** in this server.")
SWITCHED_OFF = Msg("`/{command}` is now **off** in this server.")
ALREADY_ON = Msg("`/{command}` was already **on**; nothing changed.")
ALREADY_OFF = Msg("`/{command}` was already **off**; nothing changed.")
TURNED_OFF_HINT = Msg(
    "Members who try it are told so. Turn it back on with `/config enable operation:{command}`."
)

# -- channels -------------------------------------------------------------------------------------

#: Whose list it is: all commands, or one (`/imagine`).
SCOPE_ALL = Msg("all commands")
WHERE_EVERYWHERE = Msg("every channel {default}")
#: `channels`: channel mentions.
WHERE_CHANNELS = Msg("{channels} (and their threads)")
WHERE_TITLE = Msg("Where the image commands work")
CHANNELS_EXPLAINED = Msg(
    "A command works in the channels listed for all commands plus those listed for it, threads and forum "
    "posts in them included; with no channel listed it works everywhere. Elsewhere members are told "
    "privately where to use it. Deleting a result works everywhere."
)
NONE_LISTED = Msg("none listed")
#: A field name; `scope`: `SCOPE_ALL` or a command (`/imagine`).
LISTED_FOR = Msg("Listed for {scope}")
RESULT_FIELD = Msg("Result")
WHERE_NOW = Msg("Where each command works now:")
CHANNEL_LISTED_TITLE = Msg("Channel listed")
CHANNEL_REMOVED_TITLE = Msg("Channel removed")
CHANNELS_CLEARED_TITLE = Msg("Channels cleared")
#: `channel`: the channel's mention.
ALREADY_LISTED = Msg("{channel} was already listed for {scope}; nothing changed.")
LISTED = Msg("Listed {channel} for {scope}.")
EVERYWHERE_ELSE_TOLD = Msg("Everywhere else, members are now told privately where to use the bot.")
#: `where`: `ANY_LIST` or `LIST_FOR`.
NOT_LISTED = Msg("{channel} was not on {where}; nothing changed.")
TOOK_OFF = Msg("Took {channel} off {where}.")
ANY_LIST = Msg("any list")
LIST_FOR = Msg("the list for {scope}")
EVERY_LIST = Msg("every list")
#: `which`: `EVERY_LIST` or `LIST_FOR`, its first letter made upper case.
CLEARED_ALREADY_EMPTY = Msg("{which} was already empty; nothing changed.")
#: `channels`: the channel mentions the list(s) held.
CLEARED = Msg("Cleared {which} (it held {channels}).")
#: `where`: `WHERE_EVERYWHERE` or `WHERE_CHANNELS`.
SHOW_CHANNELS = Msg("Channels: {where}")

# -- spoilers -------------------------------------------------------------------------------------

SPOILERS_SAVED_TITLE = Msg("Spoilers saved")
SPOILERS_OFF = Msg("off (only when a member asks)")
SPOILERS_ALWAYS = Msg("always")
SPOILERS_OUTSIDE = Msg("everywhere except age-restricted channels")
#: `mode`: `SPOILERS_*`.
SPOILERS_ALREADY = Msg("Spoilers were already **{mode}**; nothing changed.")
SPOILERS_NOW = Msg("Spoilers: **{mode}**. Before: {before}.")
SPOILERS_NOTE = Msg(
    "Age-restricted means Discord's age-restricted (NSFW) channel setting; threads follow their channel."
)

# -- /config show ---------------------------------------------------------------------------------

#: `server`: the server's name (or `THIS_SERVER`).
SETTINGS_TITLE = Msg("Settings for {server}")
THIS_SERVER = Msg("this server")
#: `spoilers`: the server's spoiler mode.
SETTINGS_EXPLAINED = Msg(
    "Values marked {default} follow the bot's defaults; `/config reset` returns to them.\n"
    "Spoilers (whole server): {spoilers}"
)
SHOW_MODEL = Msg("Model: {model}")
SHOW_PROVIDERS = Msg("Providers: {providers}")
SHOW_MAX_REFERENCES = Msg("Max references: {references}")
SHOW_COOLDOWN = Msg("Cooldown: {cooldown}")
#: `used`: `ROUTE_*_NAME`; `setting`: `ROUTE_ALWAYS` or `ROUTE_AUTO`.
SHOW_ROUTE = Msg("Route: {used} ({setting})")
SHOW_COUNT = Msg("Images per request: {count}")
QUOTAS_FIELD = Msg("Role quotas (per UTC day)")
#: `count`: models in OpenRouter's catalog.
MODELS_CHECKED = Plural("Checked against {count} OpenRouter model", "Checked against {count} OpenRouter models")
MODELS_NOT_LOADED = Msg("Model list not loaded yet")

# -- reset and history ----------------------------------------------------------------------------

RESET_TITLE = Msg("Settings reset")
#: `operations`: the commands' names in bold, comma-separated.
RESET_DONE = Msg("{operations} back to the defaults.")
RESET_ALREADY = Msg("{operations} already used the defaults; nothing changed.")
HISTORY_TITLE = Msg("Settings history")
NO_CHANGES = Msg("No changes yet: every command uses the defaults.")
#: `count`: changes listed.
HISTORY_FOOTER = Plural("The last change, newest first", "The last {count} changes, newest first")
#: `count`: older changes left out.
HISTORY_NOT_SHOWN = Plural("…{count} older change not shown.", "…{count} older changes not shown.")
#: `operation`: the setting's command, capitalised as recorded; `old`: the former value.
HISTORY_RESET = Msg("**{operation}** reset to defaults (was {old})")
HISTORY_DEFAULT = Msg("*default*")
