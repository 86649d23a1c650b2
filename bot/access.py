"""Whether an operation may run where a member asks for it, and whether its results are spoilered there.

`require_access` is the one gate every command, menu, result button and form passes before it does
anything: the operation must be enabled in the server (`OperationDisabled` otherwise), and, when the
server lists channels for it (`/config channels`), the interaction must come from one of them or from
a thread or forum post inside one (`ChannelNotAllowed` otherwise, naming where it works). It runs at
the moment of use, so an old result's buttons obey today's lists. Deleting a result is not an
operation and stays possible everywhere.

`channel_lists` is how anything reads the lists: a listed channel that Discord no longer has is
dropped from storage (and the history) the first time it is read after its deletion. The bot has the
guilds intent, so its channel cache knows every channel of every available server; while a server is
unavailable (an outage, or before its GUILD_CREATE) nothing is dropped, since the cache cannot tell.

`spoiler_results` decides whether a result is posted behind a spoiler, from the member's option, the
server's `/config spoilers` mode and whether the channel is age-restricted (Discord's NSFW flag; a
thread follows its parent). A result made from a spoilered image (a Re-roll or Edit of a spoilered
result, the "Edit image" menu on a spoilered attachment) stays spoilered.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.errors import UserFacingError
from bot.i18n import listing
from bot.messages.commands import CHANNEL_NOT_ALLOWED
from bot.operations import Operation
from bot.rendering import shorten
from bot.storage.channels import AllowedChannel, ChannelLists, RecordChannelChange, Scope
from bot.storage.guild_config import OperationConfig, SpoilerMode

if TYPE_CHECKING:
    from bot.core import ImageBot
    from bot.storage.config_history import ConfigHistoryStore

__all__ = [
    "SPOILER_PREFIX",
    "ChannelNotAllowed",
    "channel_lists",
    "channels_recorder",
    "comes_from",
    "home_channel_id",
    "is_age_restricted",
    "is_spoilered",
    "mention_channels",
    "require_access",
    "spoiler_results",
    "wants_spoiler",
]

#: How Discord marks a spoilered attachment: its file name starts with this (`discord.File(spoiler=True)`).
SPOILER_PREFIX = "SPOILER_"

#: The history's name for who dropped a deleted channel from a list.
DELETED_CHANNEL_CLEANUP = "channel deleted"


def mention_channels(channel_ids: Iterable[int]) -> str:
    """Channel mentions (`<#id>`, shown with the channel's current name), as a list in the member's language."""
    return listing(f"<#{channel_id}>" for channel_id in channel_ids)


class ChannelNotAllowed(UserFacingError):
    """The server lists channels for this operation, and the interaction came from none of them."""

    title = CHANNEL_NOT_ALLOWED.title

    def __init__(self, operation: Operation, allowed: Sequence[AllowedChannel]) -> None:
        places = shorten(mention_channels(entry.channel_id for entry in allowed), 3000)
        super().__init__(CHANNEL_NOT_ALLOWED.format(operation=operation.label, channels=places))


def home_channel_id(interaction: discord.Interaction[Any]) -> int | None:
    """The channel an interaction counts as: a thread's (or forum post's) parent, else its own channel."""
    channel = interaction.channel
    if isinstance(channel, discord.Thread):
        return channel.parent_id
    return interaction.channel_id


def comes_from(interaction: discord.Interaction[Any], channel_ids: Collection[int]) -> bool:
    """Whether the interaction is in one of these channels, or in a thread or forum post of one."""
    return interaction.channel_id in channel_ids or home_channel_id(interaction) in channel_ids


async def channel_lists(bot: ImageBot, guild_id: int | None) -> ChannelLists:
    """A server's channel lists without deleted channels, which are dropped from storage on the way."""
    lists = await bot.store.channels.get(guild_id)
    if guild_id is None or not lists.entries:
        return lists
    guild = bot.get_guild(guild_id)
    if guild is None or guild.unavailable:
        return lists  # the cache cannot tell a deleted channel from one it has not been told about
    gone = {channel_id for channel_id in lists.channel_ids if guild.get_channel_or_thread(channel_id) is None}
    if not gone:
        return lists
    me = bot.user
    record = channels_recorder(
        bot.store.config_history, guild_id, me.id if me else 0, f"{me.name if me else 'bot'}: {DELETED_CHANNEL_CLEANUP}"
    )
    _old, new = await bot.store.channels.drop(guild_id, gone, record=record)
    return new


async def require_access(bot: ImageBot, interaction: discord.Interaction[Any], operation: Operation) -> OperationConfig:
    """The operation's configuration in force, if it may run here; else the refusal to show the member.

    Raises `OperationDisabled` when an admin turned the operation off, and `ChannelNotAllowed` when the
    server lists channels for it and this interaction is in none of them (a thread counts as its parent).
    """
    config = await bot.store.guild_config.enabled(interaction.guild_id, operation)
    await require_channel(bot, interaction, operation)
    return config


async def require_channel(bot: ImageBot, interaction: discord.Interaction[Any], operation: Operation) -> None:
    """Raise `ChannelNotAllowed` when the server lists channels for `operation` and this is none of them."""
    allowed = (await channel_lists(bot, interaction.guild_id)).for_operation(operation)
    if allowed and not comes_from(interaction, {entry.channel_id for entry in allowed}):
        raise ChannelNotAllowed(operation, allowed)


def channels_recorder(history: ConfigHistoryStore, guild_id: int, user_id: int, user_name: str) -> RecordChannelChange:
    """The `record` callback of a channel list change: one history row per list that changed."""

    async def record(
        connection: Any, scope: Scope, old: tuple[AllowedChannel, ...], new: tuple[AllowedChannel, ...]
    ) -> None:
        await history.record_setting(
            connection, guild_id=guild_id, user_id=user_id, user_name=user_name, setting="channels",
            old_value=_history_value(old), new_value=_history_value(new),
            **({} if scope is None else {"operation": scope.value}),
        )

    return record


def _history_value(entries: Sequence[AllowedChannel]) -> str | None:
    """A list as the history shows it: names, since the history stays readable after a channel is gone."""
    if not entries:
        return None  # "the default": everywhere
    return ", ".join(f"#{entry.name}" if entry.name else str(entry.channel_id) for entry in entries)


# -- spoilers -------------------------------------------------------------------------------------


def wants_spoiler(mode: SpoilerMode, *, asked: bool, age_restricted: bool) -> bool:
    """The rule: what the member asked for always wins; otherwise the server's mode decides."""
    if asked or mode is SpoilerMode.ALWAYS:
        return True
    if mode is SpoilerMode.OUTSIDE_AGE_RESTRICTED:
        return not age_restricted
    return False


def is_age_restricted(interaction: discord.Interaction[Any]) -> bool:
    """Whether Discord marks the interaction's channel age-restricted (NSFW); a thread follows its parent.

    `Thread.is_nsfw` asks the bot's channel cache for the parent; when it is not there the answer is
    "no", so `outside-age-restricted` errs on the side of a spoiler.
    """
    is_nsfw = getattr(interaction.channel, "is_nsfw", None)
    return bool(is_nsfw()) if callable(is_nsfw) else False


def is_spoilered(filenames: Iterable[str]) -> bool:
    """Whether any of these attachment names is a spoiler's."""
    return any(name.startswith(SPOILER_PREFIX) for name in filenames)


async def spoiler_results(bot: ImageBot, interaction: discord.Interaction[Any], *, asked: bool = False) -> bool:
    """Whether this interaction's image results are posted as spoilers.

    `asked` is the member's own option, or a spoilered source image: either always wins.
    """
    settings = await bot.store.guild_config.server_settings(interaction.guild_id)
    return wants_spoiler(settings.spoilers, asked=asked, age_restricted=is_age_restricted(interaction))
