"""Refusals of a command as a whole: where it may run, who may run it, and the unexpected failure."""

from __future__ import annotations

from collections.abc import Iterable

from bot.messages import DEFAULT_TITLE, Msg, Text

__all__ = [
    "BOT_MISSING_PERMISSION",
    "CHANNEL_NOT_ALLOWED",
    "COMMAND_ON_COOLDOWN",
    "COMMAND_OUT_OF_DATE",
    "DESCRIBE_LABEL",
    "EDIT_LABEL",
    "IMAGINE_LABEL",
    "DEFAULT_TITLE",
    "INVALID_OPTION",
    "LATE_REPLY",
    "MISSING_PERMISSION",
    "NOT_ALLOWED",
    "NO_PRIVATE_MESSAGE",
    "OPERATION_DISABLED",
    "SERVER_ONLY",
    "UNEXPECTED",
    "operation_label",
    "permission_names",
]

UNEXPECTED = Text(
    "Something went wrong",
    "An unexpected error stopped this command. It has been logged for the bot's operator; "
    "try again, and tell a server admin if it keeps happening.",
)

# -- where and by whom ----------------------------------------------------------------------------

SERVER_ONLY = Text(
    "Servers only",
    "This bot works only in the channels of a server that added it, where that server's admins set "
    "its limits. Use the command there instead of in a direct message.",
)

#: `operation`: the operation's label ("Imagine"); `command`: its command name (`imagine`).
OPERATION_DISABLED = Text(
    "Not available here",
    "{operation} is turned off in this server. A member with Manage Server can turn it "
    "back on with `/config enable operation:{command}`.",
)

#: `channels`: the channel mentions where it works.
CHANNEL_NOT_ALLOWED = Text(
    "Not in this channel",
    "In this server, **{operation}** can be used only in {channels} (and in threads there). "
    "Try it in one of those channels.",
)

# -- discord.py's check failures ------------------------------------------------------------------

#: `permissions`: `permission_names(...)`.
MISSING_PERMISSION = Text("Missing permission", "You need the {permissions} permission to use this command.")
BOT_MISSING_PERMISSION = Text(
    "The bot lacks a permission", "The bot needs {permissions} here. Ask a server admin to grant it."
)
NO_PRIVATE_MESSAGE = Text("Servers only", "This command works in a server, not in direct messages.")
#: `retry_after`: seconds, a number.
COMMAND_ON_COOLDOWN = Text("Slow down", "You can use this again in {retry_after:.0f} s.")
#: `value`: the refused value, shortened.
INVALID_OPTION = Text("Invalid option", "The value `{value}` is not valid here. Pick one from the list.")
COMMAND_OUT_OF_DATE = Text(
    "Command out of date",
    "Discord has an older version of this command. It updates within a few minutes; try again then.",
)
NOT_ALLOWED = Text("Not allowed", "You can't use this command here.")

#: The line above an answer posted in the channel once Discord no longer takes a reply (`mention`: the member).
LATE_REPLY = Msg("{mention} (your request took longer than Discord lets a bot reply to it)")


# -- how the commands are named in texts ------------------------------------------------------------

IMAGINE_LABEL = Msg("Imagine")
EDIT_LABEL = Msg("Edit")
DESCRIBE_LABEL = Msg("Describe")


def operation_label(operation: str) -> str:
    """The name members read for an operation (`imagine` -> "Imagine"); an unknown value as it is."""
    label = {"imagine": IMAGINE_LABEL, "edit": EDIT_LABEL, "describe": DESCRIBE_LABEL}.get(operation)
    return label.text if label is not None else operation


def permission_names(permissions: Iterable[str]) -> str:
    """Discord's permission keys as members read them: `manage_guild` is "Manage Server", comma-separated."""
    return ", ".join(key.replace("_", " ").replace("guild", "server").title() for key in permissions)
