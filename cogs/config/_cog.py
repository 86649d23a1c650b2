"""The `/config` commands; see the package docstring for the rules they follow."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.access import channel_lists, channels_recorder, mention_channels
from bot.catalog import AUTOCOMPLETE_LIMIT, is_capable
from bot.errors import refusal
from bot.i18n import listing
from bot.messages import config as texts
from bot.messages import configuration as words
from bot.messages import upper_first
from bot.operations import Operation
from bot.rendering import escape_member_text, shorten
from bot.requests import Route
from bot.storage.channels import SCOPES, RecordChannelChange, Scope
from bot.storage.guild_config import (
    DEFAULT_MAX_REFERENCES,
    MAX_COUNT,
    OperationConfig,
    ServerSettings,
    SpoilerMode,
)
from cogs.config._text import (
    CLEAR,
    DEFAULT_MARK,
    INFO_COLOUR,
    channels_embed,
    code,
    count_text,
    history_text,
    model_warning,
    parse_provider_list,
    providers_text,
    route_text,
    saved_embed,
    scope_text,
    spoiler_label,
    spoilers_text,
    where_lines,
    where_text,
)

if TYPE_CHECKING:
    from bot.core import ImageBot

log = logging.getLogger(__name__)

OPERATION_CHOICES = [app_commands.Choice(name=op.value, value=op.value) for op in Operation]
IMAGE_OPERATION_CHOICES = [choice for choice in OPERATION_CHOICES if Operation(choice.value).needs_image_output]
ROUTE_CHOICES = [app_commands.Choice(name=name, value=name) for name in ("auto", "chat", "images")]
#: How replies name a route (translated where used: `ROUTE_NAMES[route].text`).
ROUTE_NAMES = {Route.CHAT: words.ROUTE_CHAT_NAME, Route.IMAGES: words.ROUTE_IMAGES_NAME}
RESET_CHOICES = [*OPERATION_CHOICES, app_commands.Choice(name="all", value="all")]
HISTORY_LIMIT = 20
MAX_REFERENCES = 3
MAX_COOLDOWN_S = 3600


def cooldown_text(seconds: int) -> str:
    """How a cooldown reads in replies and in `/config show`."""
    if seconds:
        return words.COOLDOWN_SECONDS.format(seconds=seconds)
    return words.COOLDOWN_NONE.format(default=DEFAULT_MARK)


def may_configure(interaction: discord.Interaction[ImageBot]) -> bool:
    """Manage Server (or Administrator) in the member's permissions as Discord computed them."""
    permissions = interaction.permissions
    return permissions.manage_guild or permissions.administrator


def parse_operation(value: object) -> Operation:
    """The operation a choice names; Discord enforces choices, this guards against stale clients."""
    try:
        return Operation(str(value))
    except ValueError:
        raise refusal(texts.PICK_OPERATION) from None


def parse_scope(value: object) -> Scope:
    """A channel list's scope from its choice: `all` (None) or one operation."""
    return None if value == "all" else parse_operation(value)


SPOILER_CHOICES = [
    app_commands.Choice(name="off: only when a member asks", value=SpoilerMode.OFF.value),
    app_commands.Choice(name="always", value=SpoilerMode.ALWAYS.value),
    app_commands.Choice(
        name="outside-age-restricted: all but age-restricted channels",
        value=SpoilerMode.OUTSIDE_AGE_RESTRICTED.value,
    ),
]

#: Channels members can run commands in: not categories, and not threads (they follow their parent).
LISTABLE_CHANNEL_TYPES = [
    discord.ChannelType.text, discord.ChannelType.news, discord.ChannelType.voice,
    discord.ChannelType.stage_voice, discord.ChannelType.forum, discord.ChannelType.media,
]


class ListableChannel(app_commands.Transformer):
    """A channel option offering only channels a list can hold; the channel as Discord resolved it."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        """A channel picker."""
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        """What the picker offers."""
        return LISTABLE_CHANNEL_TYPES

    async def transform(self, interaction: discord.Interaction[Any], value: Any, /) -> Any:
        """The channel as resolved; `listable` refuses what a stale client may still send."""
        return value


ChannelOption = app_commands.Transform[app_commands.AppCommandChannel, ListableChannel]


def listable(channel: object) -> app_commands.AppCommandChannel:
    """The channel, unless it is a thread or a category (a thread counts as its parent channel)."""
    if not isinstance(channel, app_commands.AppCommandChannel) or channel.type not in LISTABLE_CHANNEL_TYPES:
        raise refusal(texts.NOT_LISTABLE)
    return channel


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Config(commands.GroupCog, group_name="config", group_description="Server settings for the image commands"):
    """The `/config` group; every subcommand is for members with Manage Server."""

    def __init__(self, bot: ImageBot) -> None:
        self.bot = bot
        # The check sits on the group, not the cog, so it also guards subcommands other cogs attach
        # to `/config` (such as `budget`); discord.py runs a parent group's check before each child.
        group = self.app_command
        assert group is not None  # a GroupCog always has its group
        group.interaction_check = self.check_permissions  # type: ignore[method-assign, assignment]
        # discord.py runs only a command's own parent's check, not its grandparent's: a nested group
        # (`/config channels ...`) needs the check itself.
        for child in group.commands:
            if isinstance(child, app_commands.Group):
                child.interaction_check = self.check_permissions  # type: ignore[method-assign, assignment]

    @staticmethod
    async def check_permissions(interaction: discord.Interaction[ImageBot]) -> bool:
        """Refuse (with the reason) anyone without Manage Server, whatever the server's overrides say."""
        if interaction.guild_id is None:
            raise app_commands.NoPrivateMessage()
        if not may_configure(interaction):
            raise app_commands.MissingPermissions(["manage_guild"])
        return True

    # -- helpers --------------------------------------------------------------------------------

    async def _change(
        self, interaction: discord.Interaction[ImageBot], operation: Operation, **changes: object
    ) -> tuple[OperationConfig, OperationConfig]:
        """Apply and record a change in one transaction; returns (old, new)."""
        assert interaction.guild_id is not None  # interaction_check
        record = self.bot.store.config_history.recorder(
            interaction.guild_id, interaction.user.id, interaction.user.display_name
        )
        old, new = await self.bot.store.guild_config.change(interaction.guild_id, operation, changes, record=record)
        log.info(
            "config changed guild=%s user=%s operation=%s changes=%s",
            interaction.guild_id, interaction.user.id, operation.value, sorted(changes),
        )
        return old, new

    def _model_text(self, operation: Operation, model: str | None) -> str:
        if model is None:
            return f"{code(self.bot.default_model(operation))} {DEFAULT_MARK}"
        return code(model)

    @staticmethod
    async def _reply(interaction: discord.Interaction[ImageBot], embed: discord.Embed) -> None:
        await interaction.response.send_message(embed=embed, ephemeral=True)

    # -- model ----------------------------------------------------------------------------------

    @app_commands.command(name="model")
    @app_commands.describe(
        operation="The command to configure",
        model="An OpenRouter model id (pick or type it); `default` resets it",
    )
    @app_commands.choices(operation=OPERATION_CHOICES)
    async def model(
        self, interaction: discord.Interaction[ImageBot], operation: str, model: app_commands.Range[str, 1, 200]
    ) -> None:
        """Choose the model a command uses in this server."""
        op = parse_operation(operation)
        typed = model.strip()
        snapshot = await self.bot.catalog.snapshot()
        chosen: str | None
        if typed.casefold() == "default":
            chosen = None
        else:
            known = snapshot.model(typed) or snapshot.model_by_name(typed)
            if known is None and (not typed or any(char.isspace() for char in typed)):
                raise refusal(texts.NOT_A_MODEL_ID, typed=code(shorten(typed, 100)))
            chosen = known.id if known else typed
        old, new = await self._change(interaction, op, model=chosen)
        warning = model_warning(snapshot, op, chosen) if chosen else None
        if old == new:
            lines = [words.MODEL_ALREADY.format(operation=op.label, model=self._model_text(op, new.model))]
        else:
            lines = [
                words.MODEL_NOW.format(operation=op.label, model=self._model_text(op, new.model)),
                words.MODEL_BEFORE.format(model=self._model_text(op, old.model)),
            ]
        await self._reply(interaction, saved_embed(words.MODEL_SAVED_TITLE.text, lines, [warning] if warning else []))

    @model.autocomplete("model")
    async def model_autocomplete(
        self, interaction: discord.Interaction[ImageBot], current: str
    ) -> list[app_commands.Choice[str]]:
        """Models matching what is typed; capable ones first for the chosen operation."""
        if not may_configure(interaction):
            return []
        try:
            op = Operation(str(interaction.namespace.operation or Operation.IMAGINE.value))
        except ValueError:
            op = Operation.IMAGINE  # the operation is not chosen yet: order as for imagine
        snapshot = await self.bot.catalog.snapshot()  # waits a second at most, and only when empty
        if op.needs_image_output:
            # Both catalogs (the chat route's and the Images API's), image-capable first, each with what it
            # supports ("n≤4 · seed · 4K"), so an admin sees which model can do what before choosing.
            found_models = snapshot.search_image_models(current, op, AUTOCOMPLETE_LIMIT * 2)
        else:
            found_models = snapshot.search_models(current, op, limit=AUTOCOMPLETE_LIMIT * 2)
        choices = []
        for found in found_models:
            if len(found.id) > 100:
                continue  # Discord caps a choice's value at 100 characters
            lacking = "" if is_capable(found, op) else (
                words.NO_IMAGE_OUTPUT if op.needs_image_output else words.NO_IMAGE_INPUT
            ).text
            hint = snapshot.hint(found.id) if op.needs_image_output and not lacking else ""
            suffix = f" · {hint}" if hint else lacking
            name = shorten(f"{found.name} · {found.id}", 100 - len(suffix)) + suffix
            choices.append(app_commands.Choice(name=name, value=found.id))
        return choices[:AUTOCOMPLETE_LIMIT]

    # -- providers ------------------------------------------------------------------------------

    @app_commands.command(name="providers")
    @app_commands.describe(
        operation="The command to configure",
        only="Only these providers (comma-separated); `none` clears",
        ignore="Never these providers (comma-separated); `none` clears",
    )
    @app_commands.choices(operation=OPERATION_CHOICES)
    async def providers(
        self,
        interaction: discord.Interaction[ImageBot],
        operation: str,
        only: app_commands.Range[str, 1, 1000] | None = None,
        ignore: app_commands.Range[str, 1, 1000] | None = None,
    ) -> None:
        """Limit which providers a command may use here."""
        op = parse_operation(operation)
        if only is None and ignore is None:
            raise refusal(texts.PROVIDERS_NOTHING_GIVEN)
        snapshot = await self.bot.catalog.snapshot()
        changes: dict[str, object] = {}
        notes: list[str] = []
        for key, text in (("only_providers", only), ("ignore_providers", ignore)):
            if text is not None:
                changes[key], note = parse_provider_list(snapshot, text)
                if note and note not in notes:
                    notes.append(note)
        old, new = await self._change(interaction, op, **changes)
        lines = [words.PROVIDERS_LINE.format(operation=op.label, providers=providers_text(new))]
        if old == new:
            lines.append(words.PROVIDERS_ALREADY.text)
        else:
            lines.append(words.BEFORE.format(before=providers_text(old)))
        if new.only_providers and new.ignore_providers:
            lines.append(words.PRECEDENCE_NOTE.text)
        await self._reply(interaction, saved_embed(words.PROVIDERS_SAVED_TITLE.text, lines, notes))

    @providers.autocomplete("only")
    @providers.autocomplete("ignore")
    async def provider_autocomplete(
        self, interaction: discord.Interaction[ImageBot], current: str
    ) -> list[app_commands.Choice[str]]:
        """Complete the last item of a comma-separated list, keeping the items before it."""
        if not may_configure(interaction):
            return []
        snapshot = await self.bot.catalog.snapshot()
        head, comma, last = current.rpartition(",")
        chosen = [item.strip() for item in head.split(",") if item.strip()] if comma else []
        prefix = "".join(f"{item}, " for item in chosen)
        exclude = [found.slug for found in map(snapshot.provider, chosen) if found]
        choices = []
        for provider in snapshot.search_providers(last, exclude=exclude, limit=AUTOCOMPLETE_LIMIT - 1):
            value = prefix + provider.slug
            if len(value) <= 100:
                choices.append(app_commands.Choice(name=shorten(f"{value} ({provider.name})", 100), value=value))
        if not chosen and CLEAR.startswith(last.strip().casefold()):
            choices.append(app_commands.Choice(name=words.CLEAR_CHOICE.text, value=CLEAR))
        return choices[:AUTOCOMPLETE_LIMIT]

    # -- limits and switches --------------------------------------------------------------------

    @app_commands.command(name="max-references")
    @app_commands.describe(value="How many images members may give /edit at once")
    async def max_references(
        self, interaction: discord.Interaction[ImageBot], value: app_commands.Range[int, 1, 3]
    ) -> None:
        """How many images /edit accepts here."""
        if not 1 <= value <= MAX_REFERENCES:  # Discord enforces the range; a stale client might not
            raise refusal(texts.MAX_REFERENCES_RANGE, maximum=MAX_REFERENCES)
        old, new = await self._change(interaction, Operation.EDIT, max_references=value)
        before = old.max_references or f"{DEFAULT_MAX_REFERENCES} {DEFAULT_MARK}"
        line = words.LIMIT_NOW.format(new.max_references or value, before=before)
        if old == new:
            line = words.LIMIT_ALREADY.format(value)
        await self._reply(interaction, saved_embed(words.LIMIT_SAVED_TITLE.text, [line], []))

    @app_commands.command(name="cooldown")
    @app_commands.describe(
        operation="The command to limit",
        seconds="Seconds between two uses per member (0: off)",
    )
    @app_commands.choices(operation=OPERATION_CHOICES)
    async def cooldown(
        self,
        interaction: discord.Interaction[ImageBot],
        operation: str,
        seconds: app_commands.Range[int, 0, MAX_COOLDOWN_S],
    ) -> None:
        """Make members wait between two uses of a command."""
        if not 0 <= seconds <= MAX_COOLDOWN_S:  # Discord enforces the range; a stale client might not
            raise refusal(texts.COOLDOWN_RANGE, maximum=MAX_COOLDOWN_S)
        op = parse_operation(operation)
        old, new = await self._change(interaction, op, cooldown_s=seconds)
        if old == new:
            line = words.COOLDOWN_ALREADY.format(command=op.value, cooldown=cooldown_text(seconds))
        else:
            line = words.COOLDOWN_NOW.format(
                command=op.value, cooldown=cooldown_text(seconds), before=cooldown_text(old.cooldown_s)
            )
        await self._reply(interaction, saved_embed(words.COOLDOWN_SAVED_TITLE.text, [line], []))

    @app_commands.command(name="route")
    @app_commands.describe(
        operation="The command whose route to choose",
        route="auto (per model), chat, or images (the Images API)",
    )
    @app_commands.choices(operation=IMAGE_OPERATION_CHOICES, route=ROUTE_CHOICES)
    async def route(self, interaction: discord.Interaction[ImageBot], operation: str, route: str) -> None:
        """Which OpenRouter API makes a command's images."""
        op = parse_operation(operation)
        if not op.needs_image_output:
            raise refusal(texts.ROUTE_NOT_IMAGES)
        forced = None if route == "auto" else Route(route)
        old, new = await self._change(interaction, op, route=forced)
        model = new.model_or(self.bot.default_model(op))
        used = self.bot.catalog.route_for(model, forced)
        lines = [words.ROUTE_NOW.format(command=op.value, route=route_text(new.route), before=route_text(old.route))]
        warnings = []
        shown = f"`{escape_member_text(model)}`"
        if forced is not None and used is not forced:
            warnings.append(
                words.ROUTE_KEPT.format(model=shown, forced=ROUTE_NAMES[forced].text, used=ROUTE_NAMES[used].text)
            )
        else:
            lines.append(words.ROUTE_GOES_THROUGH.format(model=shown, used=ROUTE_NAMES[used].text))
        await self._reply(interaction, saved_embed(words.ROUTE_SAVED_TITLE.text, lines, warnings))

    @app_commands.command(name="count")
    @app_commands.describe(
        operation="The command to set",
        default="Images per request when not given (1-4)",
        maximum="Most images per request (1-4)",
    )
    @app_commands.choices(operation=IMAGE_OPERATION_CHOICES)
    async def count(
        self,
        interaction: discord.Interaction[ImageBot],
        operation: str,
        default: app_commands.Range[int, 1, MAX_COUNT] | None = None,
        maximum: app_commands.Range[int, 1, MAX_COUNT] | None = None,
    ) -> None:
        """How many images a command makes, by default and at most."""
        op = parse_operation(operation)
        if not op.needs_image_output:
            raise refusal(texts.COUNT_NOT_IMAGES)
        if default is None and maximum is None:
            raise refusal(texts.COUNT_NOTHING_GIVEN)
        changes: dict[str, object] = {}
        if default is not None:
            changes["default_count"] = default
        if maximum is not None:
            changes["max_count"] = maximum
        current = await self.bot.store.guild_config.get(interaction.guild_id, op)
        if (default or current.effective_default_count) > (maximum or current.effective_max_count):
            raise refusal(
                texts.COUNT_DEFAULT_ABOVE_MAXIMUM,
                default=default or current.effective_default_count,
                maximum=maximum or current.effective_max_count,
            )
        old, new = await self._change(interaction, op, **changes)
        line = words.COUNT_NOW.format(
            new.effective_default_count, command=op.value, maximum=new.effective_max_count,
            old_default=old.effective_default_count, old_maximum=old.effective_max_count,
        )
        await self._reply(interaction, saved_embed(words.COUNT_SAVED_TITLE.text, [line], []))

    @app_commands.command(name="enable")
    @app_commands.describe(operation="The command to turn on")
    @app_commands.choices(operation=OPERATION_CHOICES)
    async def enable(self, interaction: discord.Interaction[ImageBot], operation: str) -> None:
        """Turn a command back on in this server."""
        await self._switch(interaction, parse_operation(operation), enabled=True)

    @app_commands.command(name="disable")
    @app_commands.describe(operation="The command to turn off")
    @app_commands.choices(operation=OPERATION_CHOICES)
    async def disable(self, interaction: discord.Interaction[ImageBot], operation: str) -> None:
        """Turn a command off in this server."""
        await self._switch(interaction, parse_operation(operation), enabled=False)

    async def _switch(self, interaction: discord.Interaction[ImageBot], op: Operation, *, enabled: bool) -> None:
        old, new = await self._change(interaction, op, enabled=enabled)
        line = (words.SWITCHED_ON if enabled else words.SWITCHED_OFF).format(command=op.value)
        if old == new:
            line = (words.ALREADY_ON if enabled else words.ALREADY_OFF).format(command=op.value)
        elif not enabled:
            line += " " + words.TURNED_OFF_HINT.format(command=op.value)
        title = (words.SWITCH_TITLE_ON if enabled else words.SWITCH_TITLE_OFF).format(operation=op.label)
        await self._reply(interaction, saved_embed(title, [line], []))

    # -- channels -------------------------------------------------------------------------------

    channels = app_commands.Group(name="channels", description="Where in this server the image commands work")

    def _channels_record(self, interaction: discord.Interaction[ImageBot]) -> RecordChannelChange:
        """The history callback of one admin's channel list change."""
        assert interaction.guild_id is not None  # interaction_check
        return channels_recorder(
            self.bot.store.config_history, interaction.guild_id, interaction.user.id, interaction.user.display_name
        )

    async def _channels_reply(self, interaction: discord.Interaction[ImageBot], title: str, line: str) -> None:
        assert interaction.guild_id is not None
        log.info("config changed guild=%s user=%s changes=['channels']", interaction.guild_id, interaction.user.id)
        current = await channel_lists(self.bot, interaction.guild_id)  # also drops channels deleted meanwhile
        lines = [line, "", words.WHERE_NOW.text, *where_lines(current)]
        await self._reply(interaction, saved_embed(title, lines, []))

    @channels.command(name="add")
    @app_commands.describe(
        channel="The channel (its threads and forum posts count too)",
        operation="The command (default: all commands)",
    )
    @app_commands.choices(operation=RESET_CHOICES)
    async def channels_add(
        self, interaction: discord.Interaction[ImageBot], channel: ChannelOption, operation: str = "all"
    ) -> None:
        """Let the image commands (or one) work in a channel."""
        assert interaction.guild_id is not None
        channel = listable(channel)
        scope = parse_scope(operation)
        old, new = await self.bot.store.channels.add(
            interaction.guild_id, scope, channel.id, channel.name, record=self._channels_record(interaction)
        )
        mention = f"<#{channel.id}>"
        if old == new:
            line = words.ALREADY_LISTED.format(channel=mention, scope=scope_text(scope))
        else:
            line = words.LISTED.format(channel=mention, scope=scope_text(scope))
            if not old.entries:
                line += " " + words.EVERYWHERE_ELSE_TOLD.text
        await self._channels_reply(interaction, words.CHANNEL_LISTED_TITLE.text, line)

    @channels.command(name="remove")
    @app_commands.describe(
        channel="The channel to take off the lists",
        operation="Only this command's list (default: every list)",
    )
    @app_commands.choices(operation=RESET_CHOICES)
    async def channels_remove(
        self, interaction: discord.Interaction[ImageBot], channel: ChannelOption, operation: str | None = None
    ) -> None:
        """Take a channel off the lists."""
        assert interaction.guild_id is not None
        channel = listable(channel)
        scopes = SCOPES if operation is None else (parse_scope(operation),)
        old, new = await self.bot.store.channels.remove(
            interaction.guild_id, scopes, channel.id, record=self._channels_record(interaction)
        )
        where = words.ANY_LIST.text if operation is None else words.LIST_FOR.format(scope=scope_text(scopes[0]))
        if old == new:
            line = words.NOT_LISTED.format(channel=f"<#{channel.id}>", where=where)
        else:
            line = words.TOOK_OFF.format(channel=f"<#{channel.id}>", where=where)
        await self._channels_reply(interaction, words.CHANNEL_REMOVED_TITLE.text, line)

    @channels.command(name="list")
    async def channels_list(self, interaction: discord.Interaction[ImageBot]) -> None:
        """Show where in this server the image commands work."""
        assert interaction.guild_id is not None
        await self._reply(interaction, channels_embed(await channel_lists(self.bot, interaction.guild_id)))

    @channels.command(name="clear")
    @app_commands.describe(operation="Only this list (default: every list)")
    @app_commands.choices(operation=RESET_CHOICES)
    async def channels_clear(self, interaction: discord.Interaction[ImageBot], operation: str | None = None) -> None:
        """Empty the channel lists: commands then work everywhere."""
        assert interaction.guild_id is not None
        scopes = SCOPES if operation is None else (parse_scope(operation),)
        old, _new = await self.bot.store.channels.clear(
            interaction.guild_id, scopes, record=self._channels_record(interaction)
        )
        which = words.EVERY_LIST.text if operation is None else words.LIST_FOR.format(scope=scope_text(scopes[0]))
        cleared = [entry.channel_id for scope in scopes for entry in old.scope(scope)]
        if not cleared:
            line = words.CLEARED_ALREADY_EMPTY.format(which=upper_first(which))
        else:
            line = words.CLEARED.format(which=which, channels=shorten(mention_channels(dict.fromkeys(cleared)), 1500))
        await self._channels_reply(interaction, words.CHANNELS_CLEARED_TITLE.text, line)

    # -- spoilers -------------------------------------------------------------------------------

    @app_commands.command(name="spoilers")
    @app_commands.describe(mode="When results are hidden behind a spoiler")
    @app_commands.choices(mode=SPOILER_CHOICES)
    async def spoilers(self, interaction: discord.Interaction[ImageBot], mode: str) -> None:
        """When image results are posted as spoilers."""
        assert interaction.guild_id is not None
        try:
            chosen = SpoilerMode(mode)
        except ValueError:
            raise refusal(texts.PICK_SPOILER_MODE) from None
        guild_id, user = interaction.guild_id, interaction.user

        async def record(connection: Any, old: ServerSettings, new: ServerSettings) -> None:
            await self.bot.store.config_history.record_setting(
                connection, guild_id=guild_id, user_id=user.id, user_name=user.display_name, setting="spoilers",
                old_value=None if old.spoilers is SpoilerMode.OFF else old.spoilers.value,
                new_value=None if new.spoilers is SpoilerMode.OFF else new.spoilers.value,
            )

        old, new = await self.bot.store.guild_config.change_server_settings(
            guild_id, {"spoilers": chosen}, record=record
        )
        log.info("config changed guild=%s user=%s changes=['spoilers']", guild_id, user.id)
        if old == new:
            line = words.SPOILERS_ALREADY.format(mode=spoiler_label(chosen))
        else:
            line = words.SPOILERS_NOW.format(mode=spoiler_label(chosen), before=spoilers_text(old.spoilers))
        lines = [line, words.SPOILERS_NOTE.text]
        await self._reply(interaction, saved_embed(words.SPOILERS_SAVED_TITLE.text, lines, []))

    # -- show, reset, history -------------------------------------------------------------------

    @app_commands.command(name="show")
    async def show(self, interaction: discord.Interaction[ImageBot]) -> None:
        """Show this server's settings for every command."""
        assert interaction.guild_id is not None
        configs = await self.bot.store.guild_config.get_all(interaction.guild_id)
        server = await self.bot.store.guild_config.server_settings(interaction.guild_id)
        lists = await channel_lists(self.bot, interaction.guild_id)
        snapshot = await self.bot.catalog.snapshot()
        guild_name = interaction.guild.name if interaction.guild else words.THIS_SERVER.text
        embed = discord.Embed(
            title=shorten(words.SETTINGS_TITLE.format(server=guild_name), 256),
            description=words.SETTINGS_EXPLAINED.format(default=DEFAULT_MARK, spoilers=spoilers_text(server.spoilers)),
            colour=INFO_COLOUR,
        )
        for op in Operation:
            config = configs[op]
            model = config.model_or(self.bot.default_model(op))
            lines = [
                snapshot.readiness(op, model, enabled=config.enabled).describe(op),
                words.SHOW_MODEL.format(model=self._model_text(op, config.model)),
                words.SHOW_PROVIDERS.format(providers=providers_text(config)),
            ]
            if op is Operation.EDIT:
                references = config.max_references or f"{DEFAULT_MAX_REFERENCES} {DEFAULT_MARK}"
                lines.append(words.SHOW_MAX_REFERENCES.format(references=references))
            lines.append(words.SHOW_COOLDOWN.format(cooldown=cooldown_text(config.cooldown_s)))
            if op.needs_image_output:
                used = self.bot.catalog.route_for(model, config.route)
                lines.append(words.SHOW_ROUTE.format(used=ROUTE_NAMES[used].text, setting=route_text(config.route)))
                lines.append(words.SHOW_COUNT.format(count=count_text(config)))
            lines.append(words.SHOW_CHANNELS.format(where=where_text(lists.for_operation(op))))
            embed.add_field(name=op.label, value=shorten("\n".join(lines), 1024), inline=False)
        quotas = await _quota_lines(self.bot, interaction.guild_id)
        if quotas:
            embed.add_field(name=words.QUOTAS_FIELD.text, value=shorten("\n".join(quotas), 1024), inline=False)
        count = len(snapshot.models)
        embed.set_footer(text=words.MODELS_CHECKED.format(count) if count else words.MODELS_NOT_LOADED.text)
        await self._reply(interaction, embed)

    @app_commands.command(name="reset")
    @app_commands.describe(operation="The command to reset, or all of them")
    @app_commands.choices(operation=RESET_CHOICES)
    async def reset(self, interaction: discord.Interaction[ImageBot], operation: str) -> None:
        """Put a command's settings (or all) back to the defaults."""
        assert interaction.guild_id is not None
        operations = tuple(Operation) if operation == "all" else (parse_operation(operation),)
        record = self.bot.store.config_history.recorder(
            interaction.guild_id, interaction.user.id, interaction.user.display_name, reset=True
        )
        changed = await self.bot.store.guild_config.reset_recorded(interaction.guild_id, operations, record=record)
        names = listing(f"**{op.label}**" for op in operations)
        if changed:
            reset_names = listing(f"**{old.operation.label}**" for old, _new in changed)
            line = words.RESET_DONE.format(operations=reset_names)
        else:
            line = words.RESET_ALREADY.format(operations=names)
        await self._reply(interaction, saved_embed(words.RESET_TITLE.text, [line], []))

    @app_commands.command(name="history")
    async def history(self, interaction: discord.Interaction[ImageBot]) -> None:
        """The last 20 changes to this server's settings."""
        assert interaction.guild_id is not None
        entries = await self.bot.store.config_history.recent(interaction.guild_id, HISTORY_LIMIT)
        embed = discord.Embed(title=words.HISTORY_TITLE.text, colour=INFO_COLOUR)
        if not entries:
            embed.description = words.NO_CHANGES.text
        else:
            embed.description = history_text(entries)
            embed.set_footer(text=words.HISTORY_FOOTER.format(len(entries)))
        await self._reply(interaction, embed)


async def _quota_lines(bot: ImageBot, guild_id: int) -> list[str]:
    """The role quotas `/config quota` set (cogs.usage owns them; imported here so the cogs load in any order)."""
    from cogs.usage import quota_lines

    return await quota_lines(bot, guild_id)
