"""Builds the INTERACTION_CREATE payloads Discord sends, from the bot's real registered commands.

Option types come from the command tree itself (so a renamed or retyped option breaks the test the
way it would break Discord), and guild, channel and user objects come from dpytest's factories.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import discord
from discord import app_commands
from discord.ext.test import factories

from tests.kit.fake_discord import APPLICATION_ID, FakeDiscord

_counter = itertools.count()

MEMBER_PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, attach_files=True, embed_links=True,
    read_message_history=True, use_application_commands=True,
)
ADMIN_PERMISSIONS = MEMBER_PERMISSIONS | discord.Permissions(manage_guild=True, manage_messages=True)
BOT_PERMISSIONS = MEMBER_PERMISSIONS
DEFAULT_FILESIZE_LIMIT = 10 * 1024 * 1024
#: Channel types of threads (news, public, private): a guild lists them under `threads`, not `channels`.
THREAD_TYPES = (10, 11, 12)


def snowflake() -> str:
    """A fresh, unique id whose timestamp is now, as Discord's are (the bot reads interaction age from it)."""
    return str(discord.utils.time_snowflake(discord.utils.utcnow()) + next(_counter) % 4096)


@dataclass
class Actor:
    """A member who sends interactions."""

    name: str
    permissions: discord.Permissions = field(default_factory=lambda: MEMBER_PERMISSIONS)
    user_id: int = field(default_factory=lambda: int(snowflake()))
    #: Ids of the member's roles in the guild (`PayloadFactory.role` makes them), as `member.roles` lists them.
    roles: list[int] = field(default_factory=list)
    #: The language of the member's Discord client (the interaction's `locale`); None: the factory's.
    locale: str | None = None

    def user_dict(self) -> dict[str, Any]:
        """The user object, via dpytest's factory, completed to what Discord sends today."""
        user = factories.make_user_dict(self.name, 1, None, id_num=self.user_id)  # type: ignore[arg-type]
        user.update({"id": str(self.user_id), "discriminator": "0", "global_name": self.name.title()})
        return user

    def member_dict(self, joined_at: str = "2026-01-01T00:00:00+00:00") -> dict[str, Any]:
        """The member object of a guild interaction, with its computed permissions."""
        return {
            "user": self.user_dict(), "roles": [str(role) for role in self.roles], "flags": 0,
            "joined_at": joined_at, "deaf": False, "mute": False, "nick": None, "avatar": None, "pending": False,
            "premium_since": None, "communication_disabled_until": None, "permissions": str(self.permissions.value),
        }


class PayloadFactory:
    """Makes interaction payloads for one guild and channel."""

    def __init__(self, tree: app_commands.CommandTree[Any], discord_api: FakeDiscord) -> None:
        self.tree = tree
        self.discord_api = discord_api
        self.guild_id = int(snowflake())
        self.channel_id = int(snowflake())
        #: The "general" text channel; `channel_id` is where interactions come from (see `in_channel`).
        self.general_channel_id = self.channel_id
        #: Channels and threads besides "general" (`add_channel`, `add_thread`) by id, in `guild_dict()`.
        self.channels: dict[int, dict[str, Any]] = {}
        self.member = Actor("member")
        self.admin = Actor("admin", permissions=ADMIN_PERMISSIONS)
        self.filesize_limit = DEFAULT_FILESIZE_LIMIT
        #: The guild's roles besides @everyone (`role()`), in `guild_dict()` from then on.
        self.roles: list[dict[str, Any]] = []
        #: The `locale` of every interaction (an Actor's own `locale` wins) and the server's `guild_locale`.
        self.locale = "en-US"
        self.guild_locale = "en-US"

    # -- objects --------------------------------------------------------------------------------

    def role(self, name: str, *, permissions: discord.Permissions | None = None) -> dict[str, Any]:
        """A new role of the guild (a role object as Discord sends it), above the ones made before.

        It is part of `guild_dict()` from now on; a bot that is already running learns of it from a
        GUILD_ROLE_CREATE (`role_create_event`). Give it to members with `Actor(roles=[int(role["id"])])`.
        """
        role = {"id": snowflake(), "name": name, "permissions": str((permissions or discord.Permissions()).value),
                "position": len(self.roles) + 1, "color": 0, "hoist": False, "managed": False,
                "mentionable": False, "flags": 0, "icon": None, "unicode_emoji": None}
        self.roles.append(role)
        return role

    def everyone_role(self) -> dict[str, Any]:
        """The guild's @everyone role (its id is the guild's), every member's without being listed."""
        return {"id": str(self.guild_id), "name": "@everyone", "permissions": str(MEMBER_PERMISSIONS.value),
                "position": 0, "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0}

    def role_create_event(self, role: dict[str, Any]) -> dict[str, Any]:
        """The GUILD_ROLE_CREATE payload announcing `role`."""
        return {"guild_id": str(self.guild_id), "role": role}

    def role_delete_event(self, role: dict[str, Any]) -> dict[str, Any]:
        """The GUILD_ROLE_DELETE payload for `role` (it also leaves `guild_dict()`)."""
        self.roles = [kept for kept in self.roles if kept["id"] != role["id"]]
        return {"guild_id": str(self.guild_id), "role_id": role["id"]}

    def guild_dict(self) -> dict[str, Any]:
        """A full guild (for the bot's cache), built with dpytest's factory."""
        guild = factories.make_guild_dict("Test Server", int(self.admin.user_id), [self.everyone_role(), *self.roles],
                                          id_num=self.guild_id)
        guild["channels"] = [self.channel_dict(self.general_channel_id),
                             *(c for c in self.channels.values() if c["type"] not in THREAD_TYPES)]
        guild["threads"] = [c for c in self.channels.values() if c["type"] in THREAD_TYPES]
        guild["member_count"] = 2
        return guild

    def channel_dict(self, channel_id: int | None = None) -> dict[str, Any]:
        """The channel (or thread) interactions come from, or the one with this id."""
        channel_id = self.channel_id if channel_id is None else channel_id
        if channel_id in self.channels:
            return dict(self.channels[channel_id])
        channel = factories.make_text_channel_dict("general", id_num=channel_id, guild_id=self.guild_id,
                                                   position=0, permission_overwrites=[], nsfw=False,
                                                   topic=None, rate_limit_per_user=0, parent_id=None)
        channel.update({"id": str(channel_id), "guild_id": str(self.guild_id)})
        return channel

    def add_channel(self, name: str, *, nsfw: bool = False, kind: int = 0) -> dict[str, Any]:
        """A new channel of the guild (0 text, 2 voice, 5 announcement, 15 forum); `nsfw` is age-restricted.

        It is part of `guild_dict()` from now on; the returned object is also the CHANNEL_CREATE payload
        that tells a running bot (`bot._connection.parse_channel_create(channel)`).
        """
        channel_id = int(snowflake())
        channel = factories.make_text_channel_dict(name, id_num=channel_id, guild_id=self.guild_id,
                                                   position=len(self.channels) + 1, permission_overwrites=[],
                                                   nsfw=nsfw, topic=None, rate_limit_per_user=0, parent_id=None)
        channel.update({"id": str(channel_id), "guild_id": str(self.guild_id), "type": kind, "flags": 0})
        if kind in (2, 13):
            channel.update({"bitrate": 64000, "user_limit": 0, "rtc_region": None})
        if kind in (15, 16):
            channel.update({"available_tags": [], "default_reaction_emoji": None, "default_sort_order": None,
                            "default_forum_layout": 0})
        self.channels[channel_id] = channel
        return dict(channel)

    def add_thread(self, parent: dict[str, Any], name: str = "thread", *, kind: int = 11) -> dict[str, Any]:
        """A new thread (11 public, 12 private; in a forum: a post) in the channel `parent`.

        It is part of `guild_dict()` from now on; the returned object is also the THREAD_CREATE payload
        (`bot._connection.parse_thread_create(thread)`).
        """
        thread_id = int(snowflake())
        thread = {
            "id": str(thread_id), "guild_id": str(self.guild_id), "parent_id": str(parent["id"]), "type": kind,
            "name": name, "owner_id": str(self.member.user_id), "last_message_id": None, "message_count": 0,
            "member_count": 1, "rate_limit_per_user": 0, "flags": 0, "total_message_sent": 0, "applied_tags": [],
            "thread_metadata": {"archived": False, "auto_archive_duration": 1440, "locked": False,
                                "archive_timestamp": "2026-01-01T00:00:00+00:00",
                                "create_timestamp": "2026-01-01T00:00:00+00:00"},
        }
        self.channels[thread_id] = thread
        return dict(thread)

    def remove_channel(self, channel: dict[str, Any]) -> dict[str, Any]:
        """Delete a channel or thread from the guild: it leaves `guild_dict()`; returns the CHANNEL_DELETE
        (or THREAD_DELETE) payload for a running bot (`bot._connection.parse_channel_delete(payload)`)."""
        self.channels.pop(int(channel["id"]), None)
        return dict(channel)

    @contextmanager
    def speaking(self, locale: str, guild_locale: str | None = None) -> Iterator[None]:
        """Inside the block, interactions come from clients in `locale` (and the server is in `guild_locale`)."""
        before = self.locale, self.guild_locale
        self.locale = locale
        self.guild_locale = guild_locale or self.guild_locale
        try:
            yield
        finally:
            self.locale, self.guild_locale = before

    @contextmanager
    def in_channel(self, channel: dict[str, Any]) -> Iterator[None]:
        """Inside the block, interactions and messages come from this channel or thread."""
        before = self.channel_id
        self.channel_id = int(channel["id"])
        try:
            yield
        finally:
            self.channel_id = before

    def attachment(self, filename: str, data: bytes, content_type: str | None = "image/png",
                   *, width: int | None = None, height: int | None = None, size: int | None = None,
                   url: str | None = None) -> dict[str, Any]:
        """An attachment object whose bytes the stand-in CDN serves."""
        url = url or self.discord_api.host_attachment(filename, data, content_type or "")
        attachment = factories.make_attachment_dict(filename, size if size is not None else len(data), url, url,
                                                    id_num=int(snowflake()), height=height, width=width,
                                                    content_type=content_type)
        attachment["id"] = str(attachment["id"])
        return attachment

    def message(self, *, attachments: list[dict[str, Any]] = (), embeds: list[dict[str, Any]] = (),  # type: ignore[assignment]
                author: Actor | None = None, content: str = "", components: list[Any] = ()) -> dict[str, Any]:  # type: ignore[assignment]
        """A message object, for context menus and components."""
        author = author or self.member
        return {
            "id": snowflake(), "channel_id": str(self.channel_id), "guild_id": str(self.guild_id),
            "author": author.user_dict(), "content": content, "timestamp": "2026-11-24T00:00:00+00:00",
            "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [],
            "mention_roles": [], "attachments": list(attachments), "embeds": list(embeds), "pinned": False,
            "type": 0, "flags": 0, "components": list(components),
        }

    # -- interactions ---------------------------------------------------------------------------

    def _base(self, kind: int, data: dict[str, Any], actor: Actor | None, in_guild: bool) -> dict[str, Any]:
        actor = actor or self.member
        payload: dict[str, Any] = {
            "id": snowflake(), "application_id": str(APPLICATION_ID), "type": kind,
            "token": f"itoken-{snowflake()}", "version": 1, "data": data, "locale": actor.locale or self.locale,
            "entitlements": [], "attachment_size_limit": self.filesize_limit,
            "app_permissions": str(BOT_PERMISSIONS.value),
        }
        if in_guild:
            payload.update({
                "guild_id": str(self.guild_id), "channel_id": str(self.channel_id),
                "channel": self.channel_dict(), "member": actor.member_dict(), "guild_locale": self.guild_locale,
                "guild": {"id": str(self.guild_id), "locale": self.guild_locale, "features": []},
                "authorizing_integration_owners": {"0": str(self.guild_id)}, "context": 0,
            })
        else:
            dm_channel = {"id": snowflake(), "type": 1, "recipients": [actor.user_dict()]}
            payload.update({"channel_id": dm_channel["id"], "channel": dm_channel, "user": actor.user_dict(),
                            "authorizing_integration_owners": {"1": str(actor.user_id)}, "context": 1})
        return payload

    def _find(self, path: str) -> app_commands.Command[Any, ..., Any] | app_commands.Group:
        parts = path.split()
        found = self.tree.get_command(parts[0])
        if found is None:
            raise LookupError(f"/{parts[0]} is not registered")
        for part in parts[1:]:
            assert isinstance(found, app_commands.Group)
            child = found.get_command(part)
            if child is None:
                raise LookupError(f"/{path} is not registered")
            found = child
        return found

    def _options(self, command: app_commands.Command[Any, ..., Any], values: dict[str, Any],
                 resolved: dict[str, Any], focused: str | None) -> list[dict[str, Any]]:
        by_name = {parameter.display_name: parameter for parameter in command.parameters}
        options = []
        for name, value in values.items():
            if name not in by_name:
                raise LookupError(f"/{command.qualified_name} has no option {name!r}")
            option_type = by_name[name].type
            option: dict[str, Any] = {"name": name, "type": option_type.value}
            if option_type is discord.AppCommandOptionType.attachment and isinstance(value, dict):
                resolved.setdefault("attachments", {})[value["id"]] = value
                option["value"] = value["id"]
            elif option_type in (discord.AppCommandOptionType.user, discord.AppCommandOptionType.mentionable) \
                    and isinstance(value, Actor):
                resolved.setdefault("users", {})[str(value.user_id)] = value.user_dict()
                member = value.member_dict()
                member.pop("user")
                resolved.setdefault("members", {})[str(value.user_id)] = member
                option["value"] = str(value.user_id)
            elif option_type in (discord.AppCommandOptionType.role, discord.AppCommandOptionType.mentionable) \
                    and isinstance(value, dict) and "permissions" in value:
                resolved.setdefault("roles", {})[value["id"]] = value  # a role object, as from `role()`
                option["value"] = value["id"]
            elif option_type is discord.AppCommandOptionType.channel and isinstance(value, dict):
                # A channel object (`channel_dict`, `add_channel`): resolved as Discord sends it, with the
                # invoking member's permissions in it.
                resolved.setdefault("channels", {})[str(value["id"])] = {
                    **value, "id": str(value["id"]), "permissions": str(ADMIN_PERMISSIONS.value)}
                option["value"] = str(value["id"])
            else:
                option["value"] = value
            if focused == name:
                option["focused"] = True
            options.append(option)
        return options

    def _command_data(self, path: str, values: dict[str, Any], focused: str | None,
                      in_guild: bool) -> dict[str, Any]:
        command = self._find(path)
        assert isinstance(command, app_commands.Command), f"/{path} is a group"
        resolved: dict[str, Any] = {}
        options = self._options(command, values, resolved, focused)
        parents = path.split()
        for depth in range(len(parents) - 1, 0, -1):
            parent = self._find(" ".join(parents[: depth + 1]))
            kind = 1 if isinstance(parent, app_commands.Command) else 2
            options = [{"name": parents[depth], "type": kind, "options": options}]
        data: dict[str, Any] = {"id": snowflake(), "name": parents[0], "type": 1, "options": options}
        if resolved:
            data["resolved"] = resolved
        if in_guild:
            data["guild_id"] = str(self.guild_id)
        return data

    def slash(self, path: str, actor: Actor | None = None, *, in_guild: bool = True,
              **values: Any) -> dict[str, Any]:
        """A slash command invocation, e.g. `slash("imagine", prompt="a cat", format="portrait")`."""
        return self._base(2, self._command_data(path, values, None, in_guild), actor, in_guild)

    def autocomplete(self, path: str, focused: str, actor: Actor | None = None, *, in_guild: bool = True,
                     **values: Any) -> dict[str, Any]:
        """An autocomplete request with `focused` being the option being typed."""
        return self._base(4, self._command_data(path, values, focused, in_guild), actor, in_guild)

    @staticmethod
    def as_user_install(payload: dict[str, Any]) -> dict[str, Any]:
        """The same interaction authorised only by the member's own install of the app (no server install)."""
        user = payload.get("member", {}).get("user") or payload.get("user")
        payload["authorizing_integration_owners"] = {"1": user["id"]}
        return payload

    def message_command(self, name: str, message: dict[str, Any], actor: Actor | None = None, *,
                        in_guild: bool = True) -> dict[str, Any]:
        """A message context-menu invocation on `message`."""
        data: dict[str, Any] = {"id": snowflake(), "name": name, "type": 3, "target_id": message["id"],
                                "resolved": {"messages": {message["id"]: message}}}
        if in_guild:
            data["guild_id"] = str(self.guild_id)
        return self._base(2, data, actor, in_guild)

    def component(self, custom_id: str, message: dict[str, Any], actor: Actor | None = None,
                  component_type: int = 2, *, in_guild: bool = True) -> dict[str, Any]:
        """A button (or select) click on `message`."""
        payload = self._base(3, {"custom_id": custom_id, "component_type": component_type}, actor, in_guild)
        payload["message"] = message
        return payload

    def modal_submit(self, custom_id: str, values: dict[str, str], actor: Actor | None = None,
                     message: dict[str, Any] | None = None, *, in_guild: bool = True) -> dict[str, Any]:
        """A modal submission with text input values by custom id."""
        rows = [{"type": 1, "components": [{"type": 4, "custom_id": key, "value": value}]}
                for key, value in values.items()]
        payload = self._base(5, {"custom_id": custom_id, "components": rows}, actor, in_guild)
        if message is not None:
            payload["message"] = message
        return payload
