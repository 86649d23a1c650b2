"""`/usage` (what image commands cost) and `/config budget` (daily limits on it).

Members see their own spend in this server; members with Manage Server see the server's totals by
operation and by member, and a chart, since admins would rather look than read. Permissions are
checked when the command runs: Discord's defaults are only hints a server can override.

The OpenRouter key's limit and spend cover every server the bot is in, so they are the operator's
business, not a server's: they are shown (in the server view) only to the bot's owner, that is the
application's owner or an admin or developer of the team that owns it (`commands.Bot.is_owner`,
from `GET /oauth2/applications/@me`, asked once per process). Neither the key nor its label is ever
shown.

`/config budget` belongs to the `/config` group that `cogs.config` defines. This cog attaches its
command to that group when it loads (so it must load after `cogs.config`); without that group it
defines a `/config` group holding just `budget`, so budgets work either way. The command is built
per cog instance from a plain function: a bound method cannot be an `app_commands.Command` callback,
and a module-level Command object would be shared between bot instances.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.budgets import next_reset, usd, utc_day
from bot.errors import UserFacingError
from bot.openrouter import OpenRouterError
from bot.operations import Operation
from bot.rendering import RESULT_COLOUR, shorten
from bot.storage.usage import Budget, RecordBudgetChange, Spend
from bot.usage_chart import render_daily_spend
from bot.workers import run_cpu

if TYPE_CHECKING:
    from bot.core import ImageBot

__all__ = ["Usage", "budget_lines"]

log = logging.getLogger(__name__)

CHART_DAYS = 30
TOP_MEMBERS = 5
KEY_TIMEOUT_S = 5.0
MAX_USD = 100_000.0
MAX_IMAGES = 1_000_000


def _spend(spend: Spend) -> str:
    jobs = "job" if spend.calls == 1 else "jobs"
    return f"{usd(spend.cost)} · {spend.calls} {jobs}"


def _resets(bot: ImageBot) -> str:
    return f"<t:{int(next_reset(bot.jobs.clock()).timestamp())}:R>"


async def budget_lines(bot: ImageBot, guild_id: int, budget: Budget, member_id: int | None = None) -> list[str]:
    """Each limit with what today used of it (the member's own use when `member_id` is given)."""
    today = utc_day(bot.jobs.clock())
    lines = []
    if budget.guild_daily_usd is not None:
        used = await bot.store.usage.spend(guild_id, since=today, until=today)
        lines.append(f"Server, per day: **{usd(budget.guild_daily_usd)}** ({usd(used.cost)} used today)")
    if budget.member_daily_usd is not None or budget.member_daily_images is not None:
        mine = (
            await bot.store.usage.spend(guild_id, since=today, until=today, member_id=member_id)
            if member_id is not None
            else None
        )
        if budget.member_daily_usd is not None:
            used_text = f" ({usd(mine.cost)} used by you today)" if mine is not None else ""
            lines.append(f"Each member, per day: **{usd(budget.member_daily_usd)}**{used_text}")
        if budget.member_daily_images is not None:
            used_text = f" ({mine.images} made by you today)" if mine is not None else ""
            lines.append(f"Each member, per day: **{budget.member_daily_images} images**{used_text}")
    return lines


class Usage(commands.Cog):
    """Spend reports and budgets."""

    def __init__(self, bot: ImageBot) -> None:
        self.bot = bot
        self.budget_command: app_commands.Command[Any, ..., None] = app_commands.Command(
            name="budget",
            description="Show or set this server's daily spending limits (0 removes a limit)",
            callback=config_budget,
        )
        self._own_group: app_commands.Group | None = None
        self._host_group: app_commands.Group | None = None

    async def cog_load(self) -> None:
        """Attach `budget` to `/config` (defined by `cogs.config`), or define a `/config` for it."""
        existing = self.bot.tree.get_command("config")
        if isinstance(existing, app_commands.Group):
            existing.add_command(self.budget_command)
            self._host_group = existing
            return
        group = app_commands.Group(
            name="config",
            description="Server settings for the image commands (Manage Server)",
            guild_only=True,
            default_permissions=discord.Permissions(manage_guild=True),
        )
        group.add_command(self.budget_command)
        self.bot.tree.add_command(group)
        self._own_group = group

    async def cog_unload(self) -> None:
        """Take `budget` (and a `/config` group of our own) off the tree."""
        if self._host_group is not None:
            self._host_group.remove_command(self.budget_command.name)
        if self._own_group is not None:
            self.bot.tree.remove_command(self._own_group.name)

    @app_commands.command(name="usage")
    @app_commands.guild_only()
    async def usage(self, interaction: discord.Interaction[ImageBot]) -> None:
        """What the image commands cost here: yours, or the whole server's for admins."""
        assert interaction.guild_id is not None  # guild_only
        if interaction.permissions.manage_guild:
            await self._server_usage(interaction, interaction.guild_id)
        else:
            await self._member_usage(interaction, interaction.guild_id)

    async def _member_usage(self, interaction: discord.Interaction[ImageBot], guild_id: int) -> None:
        today = utc_day(self.bot.jobs.clock())
        ledger, member = self.bot.store.usage, interaction.user.id
        periods = [
            ("Today", today),
            ("This week", today - timedelta(days=today.weekday())),
            ("This month", today.replace(day=1)),
        ]
        embed = discord.Embed(title="Your usage in this server", colour=RESULT_COLOUR)
        for name, since in periods:
            embed.add_field(name=name, value=_spend(await ledger.spend(guild_id, since=since, member_id=member)))
        lines = await budget_lines(self.bot, guild_id, await self.bot.store.budgets.get(guild_id), member)
        if lines:
            embed.add_field(name="Daily limits", value="\n".join(lines) + f"\nReset {_resets(self.bot)}", inline=False)
        embed.set_footer(text="Days and weeks in UTC; costs in USD as OpenRouter reported them.")
        await interaction.response.send_message(embed=embed, ephemeral=True)

    async def _server_usage(self, interaction: discord.Interaction[ImageBot], guild_id: int) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        today = utc_day(self.bot.jobs.clock())
        ledger = self.bot.store.usage
        embed = discord.Embed(title="Usage in this server", colour=RESULT_COLOUR)
        for name, length in (("Today", 1), ("Last 7 days", 7), ("Last 30 days", 30)):
            since = today - timedelta(days=length - 1)
            total = await ledger.spend(guild_id, since=since)
            by_operation = await ledger.by_operation(guild_id, since=since)
            top = await ledger.top_members(guild_id, since=since, limit=TOP_MEMBERS)
            embed.add_field(name=name, value=_period(total, by_operation, top))
        lines = await budget_lines(self.bot, guild_id, await self.bot.store.budgets.get(guild_id))
        budgets = "\n".join(lines) + f"\nReset {_resets(self.bot)}" if lines else "None (`/config budget` sets them)"
        embed.add_field(name="Daily limits", value=budgets, inline=False)
        if await self._is_owner(interaction.user):
            embed.add_field(name="OpenRouter key", value=await self._key_text(), inline=False)
        days = [today - timedelta(days=CHART_DAYS - 1 - index) for index in range(CHART_DAYS)]
        daily = await ledger.daily_by_operation(guild_id, since=days[0])
        chart = await run_cpu(render_daily_spend, days, daily, title="Daily spend, last 30 days (UTC)")
        embed.set_image(url="attachment://usage.png")
        embed.set_footer(text="Days in UTC; costs in USD as OpenRouter reported them.")
        await interaction.followup.send(embed=embed, file=discord.File(io.BytesIO(chart), filename="usage.png"))

    async def _is_owner(self, user: discord.abc.User) -> bool:
        """Whether `user` runs this bot; when Discord cannot say, nobody is taken for the owner."""
        try:
            return await self.bot.is_owner(user)
        except discord.HTTPException as error:
            log.warning("could not ask Discord who owns the application (%s): key figures not shown", error)
            return False

    async def _key_text(self) -> str:
        """The key's remaining limit, if OpenRouter reports one; never the key or its label."""
        try:
            async with asyncio.timeout(KEY_TIMEOUT_S):
                info = await self.bot.openrouter.key_info()
        except (OpenRouterError, TimeoutError):
            return "Could not ask OpenRouter right now."
        if info.limit is None:
            spent = f" ({usd(info.usage)} used in all)" if info.usage is not None else ""
            return f"No spending limit set on the key{spent}."
        remaining = usd(info.limit_remaining) if info.limit_remaining is not None else "unknown"
        return f"{remaining} left of its {usd(info.limit)} limit."


def _period(total: Spend, by_operation: dict[Operation, Spend], top: Sequence[tuple[int, Spend]]) -> str:
    lines = [f"**{_spend(total)}**"]
    lines += [f"{op.label}: {_spend(by_operation[op])}" for op in Operation if op in by_operation]
    if top:
        lines.append("Top members:")
        lines += [f"<@{member}> {_spend(spend)}" for member, spend in top]
    return shorten("\n".join(lines), 1024)


# -- /config budget -------------------------------------------------------------------------------


def _limit_text(value: float | int | None, *, images: bool = False) -> str | None:
    if value is None:
        return None
    return f"{value} images" if images else usd(float(value))


def _history_recorder(bot: ImageBot, interaction: discord.Interaction[Any]) -> RecordBudgetChange | None:
    """Write budget changes to the configuration history, if the store has one with a generic hook.

    `bot.store.config_history.record_setting(connection, guild_id=, user_id=, user_name=, setting=,
    old_value=, new_value=)` is called inside the budget's own transaction, so history and budgets
    cannot disagree. Without that hook (the history is another cog's), changes are only logged.
    """
    history = getattr(bot.store, "config_history", None)
    record_setting = getattr(history, "record_setting", None)
    if record_setting is None:
        return None
    assert interaction.guild_id is not None

    async def record(connection: Any, old: Budget, new: Budget) -> None:
        pairs = [
            ("server daily budget", _limit_text(old.guild_daily_usd), _limit_text(new.guild_daily_usd)),
            ("member daily budget", _limit_text(old.member_daily_usd), _limit_text(new.member_daily_usd)),
            (
                "member daily images",
                _limit_text(old.member_daily_images, images=True),
                _limit_text(new.member_daily_images, images=True),
            ),
        ]
        for setting, before, after in pairs:
            if before != after:
                await record_setting(
                    connection, guild_id=interaction.guild_id, user_id=interaction.user.id,
                    user_name=str(interaction.user), setting=setting, old_value=before, new_value=after,
                )

    return record


@app_commands.describe(
    guild_daily_usd="Most the whole server may spend per UTC day, in USD (0 removes the limit)",
    member_daily_usd="Most each member may spend per UTC day, in USD (0 removes the limit)",
    member_daily_images="Most images each member may make per UTC day (0 removes the limit)",
)
async def config_budget(
    interaction: discord.Interaction[ImageBot],
    guild_daily_usd: app_commands.Range[float, 0.0, MAX_USD] | None = None,
    member_daily_usd: app_commands.Range[float, 0.0, MAX_USD] | None = None,
    member_daily_images: app_commands.Range[int, 0, MAX_IMAGES] | None = None,
) -> None:
    """Show or set this server's daily spending limits (0 removes a limit)."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    if not interaction.permissions.manage_guild:
        raise app_commands.MissingPermissions(["manage_guild"])
    bot = interaction.client
    changes: dict[str, float | int | None] = {}
    for name, value in (
        ("guild_daily_usd", guild_daily_usd),
        ("member_daily_usd", member_daily_usd),
        ("member_daily_images", member_daily_images),
    ):
        if value is not None:
            if value < 0:
                raise UserFacingError("Limits can't be negative. Use 0 to remove one.", title="Invalid limit")
            changes[name] = value or None
    if changes:
        old, budget = await bot.store.budgets.update(
            interaction.guild_id, record=_history_recorder(bot, interaction), **changes
        )
        log.info("budgets of guild %s changed by %s: %s -> %s", interaction.guild_id, interaction.user.id, old, budget)
        title = "Daily limits updated"
    else:
        budget = await bot.store.budgets.get(interaction.guild_id)
        title = "Daily limits"
    lines = await budget_lines(bot, interaction.guild_id, budget)
    embed = discord.Embed(title=title, colour=RESULT_COLOUR)
    embed.description = (
        "\n".join(lines) + f"\n\nDays are UTC days: the limits reset at 00:00 UTC ({_resets(bot)})."
        if lines
        else "No limits: image commands run whatever they cost. Set one with an option of this command."
    )
    await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: ImageBot) -> None:
    """Load the cog."""
    await bot.add_cog(Usage(bot))
