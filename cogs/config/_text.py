"""What `/config` says: the wording of settings, warnings, refusals and history, within Discord's limits.

Kept apart from the commands so the rules for presenting a value (defaults marked, only-over-ignore
spelled out, embed limits respected) live in one place and the command callbacks stay short.
"""

from __future__ import annotations

import discord

from bot.access import mention_channels
from bot.catalog import CatalogSnapshot, is_capable
from bot.errors import refusal
from bot.i18n import listing
from bot.messages import config as texts
from bot.messages import configuration as words
from bot.operations import Operation
from bot.rendering import escape_member_text, shorten
from bot.requests import Route
from bot.storage.channels import AllowedChannel, ChannelLists, Scope
from bot.storage.config_history import RESET_SETTING, HistoryEntry
from bot.storage.guild_config import OperationConfig, SpoilerMode

SAVED_COLOUR = discord.Colour.green()
WARNING_COLOUR = discord.Colour.orange()
INFO_COLOUR = discord.Colour.blurple()
MAX_PROVIDERS = 25
CLEAR = "none"
#: Translated where used (`words.DEFAULT_MARK.text`): the mark of a value that follows the defaults.
DEFAULT_MARK = words.DEFAULT_MARK


def code(value: str) -> str:
    """A value in inline code, with backticks that would break out of it replaced."""
    cleaned = value.replace("`", "'")
    return f"`{cleaned}`"


def providers_text(config: OperationConfig) -> str:
    """The provider filter in words, saying when ignore is overridden and when it is the default."""
    if config.only_providers:
        only = listing(code(slug) for slug in config.only_providers)
        if config.ignore_providers:
            ignored = listing(code(slug) for slug in config.ignore_providers)
            return words.PROVIDERS_ONLY_IGNORED.format(providers=only, ignored=ignored)
        return words.PROVIDERS_ONLY.format(providers=only)
    if config.ignore_providers:
        return words.PROVIDERS_EXCEPT.format(providers=listing(code(slug) for slug in config.ignore_providers))
    return words.PROVIDERS_ANY.format(default=DEFAULT_MARK)


def scope_text(scope: Scope) -> str:
    """Whose list it is: "all commands" or one command."""
    return words.SCOPE_ALL.text if scope is None else f"`/{scope.value}`"


def where_text(entries: tuple[AllowedChannel, ...]) -> str:
    """Where a command works: its channels, or every channel (the default)."""
    if not entries:
        return words.WHERE_EVERYWHERE.format(default=DEFAULT_MARK)
    return words.WHERE_CHANNELS.format(channels=shorten(mention_channels(entry.channel_id for entry in entries), 900))


def where_lines(lists: ChannelLists) -> list[str]:
    """One line per command saying where it works now."""
    return [f"`/{op.value}`: {where_text(lists.for_operation(op))}" for op in Operation]


def channels_embed(lists: ChannelLists) -> discord.Embed:
    """`/config channels list`: each list as set, then where each command works as a result."""
    embed = discord.Embed(title=words.WHERE_TITLE.text, description=words.CHANNELS_EXPLAINED.text, colour=INFO_COLOUR)
    for scope in (None, *Operation):
        entries = lists.scope(scope)
        listed = (
            shorten(mention_channels(entry.channel_id for entry in entries), 1024) if entries
            else words.NONE_LISTED.text
        )
        name = words.LISTED_FOR.format(scope=scope_text(scope)).replace("`", "")
        embed.add_field(name=name, value=listed, inline=False)
    embed.add_field(name=words.RESULT_FIELD.text, value=shorten("\n".join(where_lines(lists)), 1024), inline=False)
    return embed


def spoiler_label(mode: SpoilerMode) -> str:
    """The spoiler mode in words (`SpoilerMode.label`, in the member's language)."""
    return {
        SpoilerMode.OFF: words.SPOILERS_OFF,
        SpoilerMode.ALWAYS: words.SPOILERS_ALWAYS,
        SpoilerMode.OUTSIDE_AGE_RESTRICTED: words.SPOILERS_OUTSIDE,
    }[mode].text


def spoilers_text(mode: SpoilerMode) -> str:
    """The spoiler mode in words, the default marked."""
    return f"{spoiler_label(mode)} {DEFAULT_MARK}" if mode is SpoilerMode.OFF else spoiler_label(mode)


def model_warning(snapshot: CatalogSnapshot, operation: Operation, model_id: str) -> str | None:
    """Why a saved model may not work, judged from the catalog; None when it looks right."""
    if not snapshot.has_models:
        return words.UNCHECKED_MODEL.format(model=code(model_id))
    model = snapshot.model(model_id)
    if model is None:
        return words.UNKNOWN_MODEL_WARNING.format(model=code(model_id), command=operation.value)
    if not is_capable(model, operation):
        if operation.needs_image_output:
            outputs = ", ".join(sorted(model.output_modalities)) or words.NOTHING_LISTED.text
            return words.CANNOT_MAKE_IMAGES.format(model=code(model.id), outputs=outputs, command=operation.value)
        inputs = ", ".join(sorted(model.input_modalities)) or words.NOTHING_LISTED.text
        return words.CANNOT_READ_IMAGES.format(model=code(model.id), inputs=inputs)
    if operation is Operation.EDIT:
        params = snapshot.image_params(model_id)
        if params.known and params.max_references == 0:
            inputs = ", ".join(sorted(model.input_modalities)) or words.NOTHING_LISTED.text
            return words.CANNOT_EDIT_PICTURES.format(model=code(model.id), inputs=inputs)
    return None


def parse_provider_list(snapshot: CatalogSnapshot, text: str) -> tuple[tuple[str, ...], str | None]:
    """Comma-separated slugs or names to slugs; `none` clears. Refuses unknown names with suggestions."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise refusal(texts.NO_PROVIDERS_GIVEN)
    if any(item.casefold() == CLEAR for item in items):
        if len(items) > 1:
            raise refusal(texts.NONE_ALONE)
        return (), None
    if len(items) > MAX_PROVIDERS:
        raise refusal(texts.TOO_MANY_PROVIDERS, maximum=MAX_PROVIDERS)
    if not snapshot.has_providers:
        note = words.PROVIDERS_UNCHECKED.text
        return tuple(dict.fromkeys(items)), note
    slugs: list[str] = []
    unknown: list[str] = []
    for item in items:
        provider = snapshot.provider(item)
        if provider is None:
            close = snapshot.close_providers(item)
            hint = ", ".join(f"{code(p.slug)} ({p.name})" for p in close) if close else texts.NOTHING_SIMILAR
            unknown.append(texts.UNKNOWN_PROVIDER_LINE.format(name=code(shorten(item, 60)), suggestions=hint))
        elif provider.slug not in slugs:
            slugs.append(provider.slug)
    if unknown:
        raise refusal(texts.UNKNOWN_PROVIDER, lines="\n".join(unknown[:10]))
    return tuple(slugs), None


def saved_embed(title: str, lines: list[str], warnings: list[str]) -> discord.Embed:
    """The answer to a change: green when all is well, orange with one field per warning."""
    embed = discord.Embed(
        title=title, description=shorten("\n".join(lines), 4096), colour=WARNING_COLOUR if warnings else SAVED_COLOUR
    )
    for warning in warnings[:5]:
        embed.add_field(name=words.WARNING_FIELD.text, value=shorten(warning, 1024), inline=False)
    return embed


def _history_value(value: str | None) -> str:
    return code(shorten(value, 80)) if value is not None else words.HISTORY_DEFAULT.text


def _history_line(entry: HistoryEntry) -> str:
    when = f"<t:{int(entry.changed_at.timestamp())}:f>"
    who = f"<@{entry.user_id}> ({escape_member_text(entry.user_name, 32)})"
    label = entry.operation.capitalize()
    if entry.setting == RESET_SETTING:
        what = words.HISTORY_RESET.format(operation=label, old=_history_value(entry.old_value))
    else:
        what = f"**{label}** {entry.setting}: {_history_value(entry.old_value)} → {_history_value(entry.new_value)}"
    return f"{when} · {who} · {what}"


def history_text(entries: list[HistoryEntry], limit: int = 4096) -> str:
    """As many lines as fit in an embed description, and a note if some did not."""
    lines: list[str] = []
    used = 0
    for number, entry in enumerate(entries):
        line = _history_line(entry)
        reserve = 40 if number < len(entries) - 1 else 0  # room for the "not shown" note
        if used + len(line) + 1 + reserve > limit:
            lines.append(words.HISTORY_NOT_SHOWN.format(len(entries) - number))
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


def route_text(route: Route | None) -> str:
    """A forced route, or that the route follows the model."""
    if route is not None:
        return words.ROUTE_ALWAYS.format(route=route.value)
    return words.ROUTE_AUTO.format(default=DEFAULT_MARK)


def count_text(config: OperationConfig) -> str:
    """Default and most images per request, marking defaults."""
    default = str(config.default_count) if config.default_count else f"{config.effective_default_count} {DEFAULT_MARK}"
    most = str(config.max_count) if config.max_count else f"{config.effective_max_count} {DEFAULT_MARK}"
    return words.COUNT_LINE.format(default=default, maximum=most)
