"""Builds the INTERACTION_CREATE payloads Discord sends, from the bot's real registered commands.

Option types come from the command tree itself (so a renamed or retyped option breaks the test the
way it would break Discord), and guild, channel and user objects come from dpytest's factories.
"""

from __future__ import annotations

import itertools
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


def snowflake() -> str:
    """A fresh, unique id whose timestamp is now, as Discord's are (the bot reads interaction age from it)."""
    return str(discord.utils.time_snowflake(discord.utils.utcnow()) + next(_counter) % 4096)


@dataclass
class Actor:
    """A member who sends interactions."""

    name: str
    permissions: discord.Permissions = field(default_factory=lambda: MEMBER_PERMISSIONS)
    user_id: int = field(default_factory=lambda: int(snowflake()))

    def user_dict(self) -> dict[str, Any]:
        """The user object, via dpytest's factory, completed to what Discord sends today."""
        user = factories.make_user_dict(self.name, 1, None, id_num=self.user_id)  # type: ignore[arg-type]
        user.update({"id": str(self.user_id), "discriminator": "0", "global_name": self.name.title()})
        return user

    def member_dict(self, joined_at: str = "2026-01-01T00:00:00+00:00") -> dict[str, Any]:
        """The member object of a guild interaction, with its computed permissions."""
        return {
            "user": self.user_dict(), "roles": [], "flags": 0, "joined_at": joined_at, "deaf": False,
            "mute": False, "nick": None, "avatar": None, "pending": False, "premium_since": None,
            "communication_disabled_until": None, "permissions": str(self.permissions.value),
        }


class PayloadFactory:
    """Makes interaction payloads for one guild and channel."""

    def __init__(self, tree: app_commands.CommandTree[Any], discord_api: FakeDiscord) -> None:
        self.tree = tree
        self.discord_api = discord_api
        self.guild_id = int(snowflake())
        self.channel_id = int(snowflake())
        self.member = Actor("member")
        self.admin = Actor("admin", permissions=ADMIN_PERMISSIONS)
        self.filesize_limit = DEFAULT_FILESIZE_LIMIT

    # -- objects --------------------------------------------------------------------------------

    def guild_dict(self) -> dict[str, Any]:
        """A full guild (for the bot's cache), built with dpytest's factory."""
        everyone = {"id": str(self.guild_id), "name": "@everyone", "permissions": str(MEMBER_PERMISSIONS.value),
                    "position": 0, "color": 0, "hoist": False, "managed": False, "mentionable": False,
                    "flags": 0}
        guild = factories.make_guild_dict("Test Server", int(self.admin.user_id), [everyone], id_num=self.guild_id)
        guild["channels"] = [self.channel_dict()]
        guild["member_count"] = 2
        return guild

    def channel_dict(self) -> dict[str, Any]:
        """The text channel interactions come from."""
        channel = factories.make_text_channel_dict("general", id_num=self.channel_id, guild_id=self.guild_id,
                                                   position=0, permission_overwrites=[], nsfw=False,
                                                   topic=None, rate_limit_per_user=0, parent_id=None)
        channel.update({"id": str(self.channel_id), "guild_id": str(self.guild_id)})
        return channel

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
            "token": f"itoken-{snowflake()}", "version": 1, "data": data, "locale": "en-US",
            "entitlements": [], "attachment_size_limit": self.filesize_limit,
            "app_permissions": str(BOT_PERMISSIONS.value),
        }
        if in_guild:
            payload.update({
                "guild_id": str(self.guild_id), "channel_id": str(self.channel_id),
                "channel": self.channel_dict(), "member": actor.member_dict(), "guild_locale": "en-US",
                "guild": {"id": str(self.guild_id), "locale": "en-US", "features": []},
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
