"""`/usage` (what image commands cost), `/config budget` and `/config quota` (daily limits on it).

Members see their own spend in this server; members with Manage Server see the server's totals by
operation and by member, and a chart, since admins would rather look than read. Permissions are
checked when the command runs: Discord's defaults are only hints a server can override.

The OpenRouter key's limit and spend cover every server the bot is in, so they are the operator's
business, not a server's: they are shown (in the server view) only to the bot's owner, that is the
application's owner or an admin or developer of the team that owns it (`commands.Bot.is_owner`,
from `GET /oauth2/applications/@me`, asked once per process). Neither the key nor its label is ever
shown.

`/config budget` and `/config quota` belong to the `/config` group that `cogs.config` defines. This
cog attaches its commands to that group when it loads (so it must load after `cogs.config`); without
that group it defines a `/config` group holding just these two, so limits work either way. The
commands are built per cog instance from plain functions: a bound method cannot be an
`app_commands.Command` callback, and a module-level Command object would be shared between bot
instances.

`/config quota` gives a role its own daily quota of images and/or USD (a number, 0 for none, or
`unlimited`; `clear` removes it). Which limit a member gets is `bot.budgets.member_allowance`'s rule:
per dimension the most generous quota among their roles, or the member default of `/config budget`.
A deleted role's quota is removed (and recorded in the history) when Discord reports the deletion.
"""

from __future__ import annotations

import asyncio
import io
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.budgets import (
    Allowance,
    member_allowance,
    member_role_ids,
    next_reset,
    role_text,
    usd,
    utc_day,
)
from bot.errors import UserFacingError, refusal
from bot.i18n import DEFAULT_LOCALE, current, decimal, using
from bot.messages import config as texts
from bot.messages import usage as words
from bot.openrouter import OpenRouterError
from bot.operations import Operation
from bot.rendering import RESULT_COLOUR, shorten
from bot.storage.quotas import UNLIMITED, ImageQuota, RecordQuotaChange, RoleQuota, Unlimited, UsdQuota
from bot.storage.usage import Budget, RecordBudgetChange, Spend
from bot.usage_chart import chart_locale, render_daily_spend
from bot.workers import run_cpu

if TYPE_CHECKING:
    from bot.core import ImageBot

__all__ = ["Usage", "budget_lines", "parse_images_quota", "parse_usd_quota", "quota_lines"]

log = logging.getLogger(__name__)

CHART_DAYS = 30
TOP_MEMBERS = 5
KEY_TIMEOUT_S = 5.0
MAX_USD = 100_000.0
MAX_IMAGES = 1_000_000


def _spend(spend: Spend) -> str:
    return words.SPEND.format(spend.calls, amount=usd(spend.cost))


def _resets(bot: ImageBot) -> str:
    return f"<t:{int(next_reset(bot.jobs.clock()).timestamp())}:R>"


async def budget_lines(bot: ImageBot, guild_id: int, budget: Budget, member_id: int | None = None) -> list[str]:
    """Each limit with what today used of it (the member's own use when `member_id` is given)."""
    today = utc_day(bot.jobs.clock())
    lines = []
    if budget.guild_daily_usd is not None:
        used = await bot.store.usage.spend(guild_id, since=today, until=today)
        lines.append(words.SERVER_PER_DAY.format(limit=usd(budget.guild_daily_usd), used=usd(used.cost)))
    if budget.member_daily_usd is not None or budget.member_daily_images is not None:
        mine = (
            await bot.store.usage.spend(guild_id, since=today, until=today, member_id=member_id)
            if member_id is not None
            else None
        )
        if budget.member_daily_usd is not None:
            limit = usd(budget.member_daily_usd)
            lines.append(
                words.MEMBER_USD_PER_DAY_YOURS.format(limit=limit, used=usd(mine.cost)) if mine is not None
                else words.MEMBER_USD_PER_DAY.format(limit=limit)
            )
        if budget.member_daily_images is not None:
            count = budget.member_daily_images
            lines.append(
                words.MEMBER_IMAGES_PER_DAY_YOURS.format(count, made=mine.images) if mine is not None
                else words.MEMBER_IMAGES_PER_DAY.format(count)
            )
    return lines


def _images(count: int) -> str:
    return words.IMAGES.format(count)


def _allowance_line(name: str, allowance: Allowance[Any], left: str | None, guild_id: int) -> str | None:
    """One of a member's own limits in `/usage`: what is left, and which role (or the default) gives it."""
    source = (
        words.FROM_ROLE.format(role=role_text(allowance.role_id, guild_id))
        if allowance.role_id is not None
        else words.MEMBER_DEFAULT_SOURCE.text
    )
    if allowance.limit is None:
        return words.LIMIT_UNLIMITED.format(name=name, source=source) if allowance.role_id is not None else None
    if allowance.limit <= 0:
        return words.LIMIT_NONE_ALLOWED.format(name=name, source=source)
    return words.LIMIT_LEFT.format(name=name, left=left, source=source)


async def member_limit_lines(bot: ImageBot, guild_id: int, member_id: int, role_ids: Sequence[int]) -> list[str]:
    """A member's limits in `/usage`: the server's budget, then their own (role quota or default) with what is left."""
    budget = await bot.store.budgets.get(guild_id)
    allowance = member_allowance(budget, await bot.store.quotas.get(guild_id), guild_id, role_ids)
    lines = await budget_lines(bot, guild_id, Budget(guild_daily_usd=budget.guild_daily_usd))
    if not allowance.is_limited and allowance.images.role_id is None and allowance.usd.role_id is None:
        return lines
    today = utc_day(bot.jobs.clock())
    mine = await bot.store.usage.spend(guild_id, since=today, until=today, member_id=member_id)
    images_left = usd_left = None
    if allowance.images.limit is not None:
        remaining = max(allowance.images.limit - mine.images, 0)
        images_left = words.IMAGES_LEFT.format(remaining=remaining, images=_images(allowance.images.limit))
    if allowance.usd.limit is not None:
        usd_left = words.LIMIT_LEFT_AMOUNT.format(
            remaining=usd(max(allowance.usd.limit - mine.cost, 0.0)), limit=usd(allowance.usd.limit)
        )
    for line in (
        _allowance_line(words.YOUR_IMAGES.text, allowance.images, images_left, guild_id),
        _allowance_line(words.YOUR_SPEND.text, allowance.usd, usd_left, guild_id),
    ):
        if line is not None:
            lines.append(line)
    return lines


def images_quota_text(value: ImageQuota) -> str | None:
    """A role's image quota as replies and the history show it (None: not set)."""
    if value is None:
        return None
    if isinstance(value, Unlimited):
        return words.UNLIMITED.text
    return _images(value)


def usd_quota_text(value: UsdQuota) -> str | None:
    """A role's USD quota as replies and the history show it (None: not set)."""
    if value is None:
        return None
    if isinstance(value, Unlimited):
        return words.UNLIMITED.text
    return usd(value)


def _quota_summary(quota: RoleQuota) -> str:
    images = spend = None
    if quota.images_per_day is not None:
        images = (
            words.UNLIMITED_IMAGES.text if isinstance(quota.images_per_day, Unlimited)
            else f"**{images_quota_text(quota.images_per_day)}**"
        )
    if quota.usd_per_day is not None:
        spend = (
            words.UNLIMITED_USD.text if isinstance(quota.usd_per_day, Unlimited)
            else f"**{usd_quota_text(quota.usd_per_day)}**"
        )
    if images is not None and spend is not None:
        return words.QUOTA_SUMMARY_BOTH.format(images=images, usd=spend)
    return words.QUOTA_SUMMARY.format(limit=images or spend or "")


def _default_text(budget: Budget) -> str:
    return words.DEFAULT_TEXT.format(
        images=_images(budget.member_daily_images) if budget.member_daily_images is not None
        else words.NO_IMAGE_LIMIT.text,
        usd=usd(budget.member_daily_usd) if budget.member_daily_usd is not None else words.NO_USD_LIMIT.text,
    )


async def quota_lines(bot: ImageBot, guild_id: int) -> list[str]:
    """Every role's quota, highest role first, then the default for the rest; [] when no role has one.

    For `/config show`, `/config quota` and the admins' `/usage`. Roles are mentions (Discord shows
    their current names; a deleted role shows as such).
    """
    quotas = await bot.store.quotas.get(guild_id)
    if not quotas:
        return []
    guild = bot.get_guild(guild_id)

    def order(quota: RoleQuota) -> tuple[int, int]:
        role = guild.get_role(quota.role_id) if guild is not None else None
        return (-role.position if role is not None else 1, quota.role_id)

    lines = [
        f"{role_text(quota.role_id, guild_id)}: {_quota_summary(quota)}" for quota in sorted(quotas.values(), key=order)
    ]
    budget = await bot.store.budgets.get(guild_id)
    lines.append(words.QUOTA_DEFAULT_LINE.format(default=_default_text(budget)))
    return lines


class Usage(commands.Cog):
    """Spend reports and budgets."""

    def __init__(self, bot: ImageBot) -> None:
        self.bot = bot
        self.budget_command: app_commands.Command[Any, ..., None] = app_commands.Command(
            name="budget",
            description="Show or set the server's daily limits (0 removes one)",
            callback=config_budget,
        )
        self.quota_command: app_commands.Command[Any, ..., None] = app_commands.Command(
            name="quota",
            description="Show or set a role's daily quota of images and USD",
            callback=config_quota,
        )
        self._own_group: app_commands.Group | None = None
        self._host_group: app_commands.Group | None = None

    @property
    def _commands(self) -> tuple[app_commands.Command[Any, ..., None], ...]:
        return (self.budget_command, self.quota_command)

    async def cog_load(self) -> None:
        """Attach `budget` and `quota` to `/config` (defined by `cogs.config`), or define a `/config` for them."""
        existing = self.bot.tree.get_command("config")
        if isinstance(existing, app_commands.Group):
            for command in self._commands:
                existing.add_command(command)
            self._host_group = existing
            return
        group = app_commands.Group(
            name="config",
            description="Server settings for the image commands (Manage Server)",
            guild_only=True,
            default_permissions=discord.Permissions(manage_guild=True),
        )
        for command in self._commands:
            group.add_command(command)
        self.bot.tree.add_command(group)
        self._own_group = group

    async def cog_unload(self) -> None:
        """Take `budget` and `quota` (and a `/config` group of our own) off the tree."""
        if self._host_group is not None:
            for command in self._commands:
                self._host_group.remove_command(command.name)
        if self._own_group is not None:
            self.bot.tree.remove_command(self._own_group.name)

    @commands.Cog.listener()
    async def on_guild_role_delete(self, role: discord.Role) -> None:
        """A deleted role's quota goes too (nobody could pick the role to clear it any more)."""
        guild_id = role.guild.id
        if role.id not in await self.bot.store.quotas.get(guild_id):
            return
        bot_user = self.bot.user
        record = _quota_recorder(
            self.bot, guild_id, bot_user.id if bot_user is not None else 0, "role deleted", role.id
        )
        await self.bot.store.quotas.update(guild_id, role.id, images_per_day=None, usd_per_day=None, record=record)
        log.info("quota of deleted role %s removed in guild %s", role.id, guild_id)

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
            (words.TODAY, today),
            (words.THIS_WEEK, today - timedelta(days=today.weekday())),
            (words.THIS_MONTH, today.replace(day=1)),
        ]
        embed = discord.Embed(title=words.MEMBER_TITLE.text, colour=RESULT_COLOUR)
        for name, since in periods:
            embed.add_field(name=name.text, value=_spend(await ledger.spend(guild_id, since=since, member_id=member)))
        lines = await member_limit_lines(self.bot, guild_id, member, member_role_ids(interaction.user))
        if lines:
            value = shorten("\n".join([*lines, words.RESET_AT.format(when=_resets(self.bot))]), 1024)
            embed.add_field(name=words.DAILY_LIMITS.text, value=value, inline=False)
        embed.set_footer(text=words.MEMBER_FOOTER.text)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    async def _server_usage(self, interaction: discord.Interaction[ImageBot], guild_id: int) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        today = utc_day(self.bot.jobs.clock())
        ledger = self.bot.store.usage
        embed = discord.Embed(title=words.SERVER_TITLE.text, colour=RESULT_COLOUR)
        for name, length in ((words.TODAY, 1), (words.LAST_7_DAYS, 7), (words.LAST_30_DAYS, 30)):
            since = today - timedelta(days=length - 1)
            total = await ledger.spend(guild_id, since=since)
            by_operation = await ledger.by_operation(guild_id, since=since)
            top = await ledger.top_members(guild_id, since=since, limit=TOP_MEMBERS)
            embed.add_field(name=name.text, value=_period(total, by_operation, top))
        lines = await budget_lines(self.bot, guild_id, await self.bot.store.budgets.get(guild_id))
        budgets = (
            "\n".join([*lines, words.RESET_AT.format(when=_resets(self.bot))]) if lines else words.NO_BUDGETS.text
        )
        embed.add_field(name=words.DAILY_LIMITS.text, value=budgets, inline=False)
        quotas = await quota_lines(self.bot, guild_id)
        if quotas:
            embed.add_field(name=words.QUOTAS_FIELD.text, value=shorten("\n".join(quotas), 1024), inline=False)
        if await self._is_owner(interaction.user):
            embed.add_field(name=words.KEY_FIELD.text, value=await self._key_text(), inline=False)
        days = [today - timedelta(days=CHART_DAYS - 1 - index) for index in range(CHART_DAYS)]
        daily = await ledger.daily_by_operation(guild_id, since=days[0])
        with using(chart_locale(current())):  # the chart's font draws Latin letters only
            chart = await run_cpu(render_daily_spend, days, daily, title=words.CHART_TITLE.text)
        embed.set_image(url="attachment://usage.png")
        embed.set_footer(text=words.SERVER_FOOTER.text)
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
            return words.KEY_UNAVAILABLE.text
        if info.limit is None:
            if info.usage is not None:
                return words.KEY_NO_LIMIT_USED.format(used=usd(info.usage))
            return words.KEY_NO_LIMIT.text
        remaining = usd(info.limit_remaining) if info.limit_remaining is not None else words.UNKNOWN.text
        return words.KEY_LEFT.format(remaining=remaining, limit=usd(info.limit))


def _period(total: Spend, by_operation: dict[Operation, Spend], top: Sequence[tuple[int, Spend]]) -> str:
    lines = [f"**{_spend(total)}**"]
    lines += [
        words.OPERATION_SPEND.format(operation=op.label, spend=_spend(by_operation[op]))
        for op in Operation if op in by_operation
    ]
    if top:
        lines.append(words.TOP_MEMBERS.text)
        lines += [f"<@{member}> {_spend(spend)}" for member, spend in top]
    return shorten("\n".join(lines), 1024)


# -- /config budget -------------------------------------------------------------------------------


def _limit_text(value: float | int | None, *, images: bool = False) -> str | None:
    if value is None:
        return None
    return _images(int(value)) if images else usd(float(value))


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
        with using(DEFAULT_LOCALE):  # the history keeps values as recorded, in English (like the logs)
            pairs = _budget_pairs(old, new)
        for setting, before, after in pairs:
            if before != after:
                await record_setting(
                    connection, guild_id=interaction.guild_id, user_id=interaction.user.id,
                    user_name=str(interaction.user), setting=setting, old_value=before, new_value=after,
                )

    return record


def _budget_pairs(old: Budget, new: Budget) -> list[tuple[str, str | None, str | None]]:
    """(setting, before, after) of each budget, as the history records them."""
    return [
        ("server daily budget", _limit_text(old.guild_daily_usd), _limit_text(new.guild_daily_usd)),
        ("member daily budget", _limit_text(old.member_daily_usd), _limit_text(new.member_daily_usd)),
        (
            "member daily images",
            _limit_text(old.member_daily_images, images=True),
            _limit_text(new.member_daily_images, images=True),
        ),
    ]


@app_commands.describe(
    guild_daily_usd="The server's daily limit in USD (0 removes it)",
    member_daily_usd="Each member's daily limit in USD (0 removes it)",
    member_daily_images="Each member's daily images (0 removes the limit)",
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
                raise refusal(texts.NEGATIVE_LIMIT)
            changes[name] = value or None
    if changes:
        old, budget = await bot.store.budgets.update(
            interaction.guild_id, record=_history_recorder(bot, interaction), **changes
        )
        log.info("budgets of guild %s changed by %s: %s -> %s", interaction.guild_id, interaction.user.id, old, budget)
        title = words.BUDGET_UPDATED_TITLE.text
    else:
        budget = await bot.store.budgets.get(interaction.guild_id)
        title = words.BUDGET_TITLE.text
    lines = await budget_lines(bot, interaction.guild_id, budget)
    if await bot.store.quotas.get(interaction.guild_id):
        lines.append(words.QUOTAS_REPLACE.text)
    embed = discord.Embed(title=title, colour=RESULT_COLOUR)
    embed.description = (
        "\n".join([*lines, "", words.DAYS_ARE_UTC.format(when=_resets(bot))]) if lines else words.NO_LIMITS.text
    )
    await interaction.response.send_message(embed=embed, ephemeral=True)


# -- /config quota --------------------------------------------------------------------------------

CLEAR_WORD = "clear"
UNLIMITED_WORD = UNLIMITED.value


def _quota_word(text: str, option: str) -> str | None:
    """The keyword typed (`clear`, `unlimited`), or None for a number; refuses the ambiguous `none`."""
    word = text.strip().lower()
    if word in (CLEAR_WORD, UNLIMITED_WORD):
        return word
    if word == "none":
        raise refusal(texts.QUOTA_NONE_AMBIGUOUS, option=option)
    return None


def _invalid(option: str, text: str, what: str) -> UserFacingError:
    shown = shorten(text.strip().replace("`", "'"), 30)
    return refusal(texts.QUOTA_INVALID, option=option, shown=shown, what=what)


def parse_images_quota(text: str, option: str = "images_per_day") -> ImageQuota:
    """`images_per_day` as typed: a whole number up to MAX_IMAGES, `unlimited`, or `clear` (None)."""
    word = _quota_word(text, option)
    if word is not None:
        return None if word == CLEAR_WORD else UNLIMITED
    try:
        count = int(text.strip())
    except ValueError:
        raise _invalid(option, text, texts.QUOTA_COUNT.text) from None
    if not 0 <= count <= MAX_IMAGES:
        raise _invalid(option, text, texts.QUOTA_COUNT_RANGE.format(maximum=decimal(MAX_IMAGES)))
    return count


def parse_usd_quota(text: str, option: str = "usd_per_day") -> UsdQuota:
    """`usd_per_day` as typed: an amount in USD (a leading `$` allowed) up to MAX_USD, `unlimited`, or `clear`."""
    word = _quota_word(text, option)
    if word is not None:
        return None if word == CLEAR_WORD else UNLIMITED
    try:
        amount = float(text.strip().removeprefix("$").strip())
    except ValueError:
        raise _invalid(option, text, texts.QUOTA_AMOUNT.text) from None
    if not math.isfinite(amount) or not 0 <= amount <= MAX_USD:
        raise _invalid(option, text, texts.QUOTA_AMOUNT_RANGE.format(maximum=usd(MAX_USD)))
    return amount


async def _quota_choices(current: str, *, images: bool) -> list[app_commands.Choice[str]]:
    """Suggestions while an admin types a quota: what they typed (if valid), then the keywords that match."""
    typed = current.strip()
    lowered = typed.lower()
    choices: list[app_commands.Choice[str]] = []
    if typed and lowered not in (CLEAR_WORD, UNLIMITED_WORD):
        try:
            shown = images_quota_text(parse_images_quota(typed)) if images else usd_quota_text(parse_usd_quota(typed))
        except UserFacingError:
            shown = None
        if shown is not None:
            choices.append(app_commands.Choice(name=words.QUOTA_PER_DAY_CHOICE.format(shown=shown), value=typed[:100]))
    keywords = [
        app_commands.Choice(name=words.UNLIMITED.text, value=UNLIMITED_WORD),
        app_commands.Choice(name=words.QUOTA_ZERO_CHOICE.text, value="0"),
        app_commands.Choice(name=words.QUOTA_CLEAR_CHOICE.text, value=CLEAR_WORD),
    ]
    taken = {choice.value for choice in choices}
    # The keywords are typed in English (`clear`, `unlimited`), whatever the language they are shown in.
    choices += [
        keyword for keyword in keywords
        if keyword.value not in taken and (
            not lowered or keyword.value.startswith(lowered) or keyword.name.lower().startswith(lowered)
        )
    ]
    return choices


async def images_autocomplete(
    interaction: discord.Interaction[ImageBot], current: str
) -> list[app_commands.Choice[str]]:
    """Suggestions for `images_per_day`."""
    return await _quota_choices(current, images=True)


async def usd_autocomplete(interaction: discord.Interaction[ImageBot], current: str) -> list[app_commands.Choice[str]]:
    """Suggestions for `usd_per_day`."""
    return await _quota_choices(current, images=False)


def _quota_recorder(
    bot: ImageBot, guild_id: int, user_id: int, user_name: str, role_id: int
) -> RecordQuotaChange | None:
    """Write a role's quota changes to the configuration history, inside the quota's own transaction.

    Uses the same generic hook as the budgets (`config_history.record_setting`, see `_history_recorder`).
    """
    history = getattr(bot.store, "config_history", None)
    record_setting: Callable[..., Awaitable[None]] | None = getattr(history, "record_setting", None)
    if record_setting is None:
        return None
    role = role_text(role_id, guild_id)

    async def record(connection: Any, old: RoleQuota, new: RoleQuota) -> None:
        with using(DEFAULT_LOCALE):  # the history keeps values as recorded, in English (like the logs)
            pairs = [
                (
                    f"images per day for {role}",
                    images_quota_text(old.images_per_day),
                    images_quota_text(new.images_per_day),
                ),
                (f"USD per day for {role}", usd_quota_text(old.usd_per_day), usd_quota_text(new.usd_per_day)),
            ]
        for setting, before, after in pairs:
            if before != after:
                await record_setting(
                    connection, guild_id=guild_id, user_id=user_id, user_name=user_name,
                    setting=setting, old_value=before, new_value=after,
                )

    return record


def _role_quota_lines(quota: RoleQuota) -> list[str]:
    unset = words.QUOTA_UNSET.text
    images, spend = images_quota_text(quota.images_per_day), usd_quota_text(quota.usd_per_day)
    if quota.images_per_day == 0:
        images = words.QUOTA_ZERO_IMAGES.text
    if quota.usd_per_day == 0:
        spend = words.QUOTA_ZERO_USD.format(amount=usd(0))
    return [
        words.QUOTA_IMAGES_LINE.format(images=images) if images is not None
        else words.QUOTA_IMAGES_UNSET.format(unset=unset),
        words.QUOTA_USD_LINE.format(usd=spend) if spend is not None else words.QUOTA_USD_UNSET.format(unset=unset),
    ]


@app_commands.describe(
    role="The role (leave out to list all quotas)",
    images_per_day="Images per day: a number, 0, unlimited or clear",
    usd_per_day="USD per day: an amount, 0, unlimited or clear",
)
@app_commands.autocomplete(images_per_day=images_autocomplete, usd_per_day=usd_autocomplete)
async def config_quota(
    interaction: discord.Interaction[ImageBot],
    role: discord.Role | None = None,
    images_per_day: app_commands.Range[str, 1, 30] | None = None,
    usd_per_day: app_commands.Range[str, 1, 30] | None = None,
) -> None:
    """Show or set a role's daily quota of images and USD (0: none, unlimited, clear)."""
    guild_id = interaction.guild_id
    if guild_id is None:
        raise app_commands.NoPrivateMessage()
    permissions = interaction.permissions
    if not (permissions.manage_guild or permissions.administrator):
        raise app_commands.MissingPermissions(["manage_guild"])
    bot = interaction.client
    changes: dict[str, Any] = {}
    if images_per_day is not None:
        changes["images_per_day"] = parse_images_quota(images_per_day)
    if usd_per_day is not None:
        changes["usd_per_day"] = parse_usd_quota(usd_per_day)
    embed = discord.Embed(colour=RESULT_COLOUR)
    if role is None:
        if changes:
            raise refusal(texts.PICK_ROLE)
        embed.title = words.QUOTAS_TITLE.text
        lines = await quota_lines(bot, guild_id)
        embed.description = (
            "\n".join(lines) if lines
            else words.NO_QUOTAS.format(default=_default_text(await bot.store.budgets.get(guild_id)))
        )
    else:
        shown = role_text(role.id, guild_id)
        if changes:
            record = _quota_recorder(bot, guild_id, interaction.user.id, str(interaction.user), role.id)
            old, quota = await bot.store.quotas.update(guild_id, role.id, record=record, **changes)
            log.info("quota of role %s in guild %s changed by %s: %s -> %s", role.id, guild_id,
                     interaction.user.id, old, quota)
            embed.title = (words.QUOTA_UPDATED_TITLE if quota != old else words.QUOTA_UNCHANGED_TITLE).text
        else:
            quota = await bot.store.quotas.role(guild_id, role.id)
            embed.title = words.QUOTA_TITLE.text
        default = _default_text(await bot.store.budgets.get(guild_id))
        embed.description = "\n".join([
            words.QUOTA_OF.format(role=shown),
            *_role_quota_lines(quota),
            "",
            words.QUOTA_EXPLAINED.format(default=default, when=_resets(bot)),
        ])
    embed.description = shorten(embed.description, 4096)
    await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: ImageBot) -> None:
    """Load the cog."""
    await bot.add_cog(Usage(bot))
