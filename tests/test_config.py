"""`/config` through the real tree: permissions, models, providers, limits, switches, show and reset.

Every command goes in as the INTERACTION_CREATE payload Discord would send; what the member sees is
read back from the stand-in Discord, and what reached OpenRouter from the stand-in OpenRouter.
"""

from __future__ import annotations

from typing import Any

import discord
import pytest
from discord import app_commands

from bot.operations import Operation
from bot.storage import OperationConfig
from tests.kit.conversation import Reply
from tests.kit.harness import BotHarness
from tests.kit.payloads import MEMBER_PERMISSIONS, Actor


async def loaded(harness: BotHarness) -> BotHarness:
    assert harness.bot is not None
    assert await harness.bot.catalog.wait_until_loaded()
    return harness


async def admin(harness: BotHarness, path: str, **values: Any) -> Reply:
    """Run a /config subcommand as a member with Manage Server; config replies are always private."""
    reply = (await harness.run(harness.payloads.slash(path, actor=harness.payloads.admin, **values))).last
    assert reply.ephemeral
    return reply


async def config_of(harness: BotHarness, operation: Operation) -> Any:
    assert harness.bot is not None
    return await harness.bot.store.guild_config.get(harness.payloads.guild_id, operation)


def fields(reply: Reply) -> dict[str, str]:
    return {item["name"]: item["value"] for item in reply.embeds[0].get("fields", [])}


def assert_within_embed_limits(reply: Reply) -> None:
    total = 0
    for embed in reply.embeds:
        assert len(embed.get("title", "")) <= 256
        assert len(embed.get("description", "")) <= 4096
        assert len(embed.get("fields", [])) <= 25
        for item in embed.get("fields", []):
            assert len(item["name"]) <= 256 and len(item["value"]) <= 1024
        total += len(embed.get("title", "")) + len(embed.get("description", ""))
        total += sum(len(item["name"]) + len(item["value"]) for item in embed.get("fields", []))
        total += len((embed.get("footer") or {}).get("text", ""))
    assert total <= 6000


# -- who may configure ---------------------------------------------------------------------------


def _required_values(command: app_commands.Command[Any, ..., Any]) -> dict[str, Any]:
    """A valid value for each required option, read from the registered command itself."""
    values: dict[str, Any] = {}
    for parameter in command.parameters:
        if not parameter.required:
            continue
        if parameter.choices:
            values[parameter.display_name] = parameter.choices[0].value
        elif parameter.type is discord.AppCommandOptionType.integer:
            values[parameter.display_name] = int(parameter.min_value or 1)
        elif parameter.type is discord.AppCommandOptionType.number:
            values[parameter.display_name] = float(parameter.min_value or 1)
        else:
            values[parameter.display_name] = "google/gemini-2.5-flash-image"
    return values


def _all_subcommands(harness: BotHarness) -> list[app_commands.Command[Any, ..., Any]]:
    assert harness.bot is not None
    group = harness.bot.tree.get_command("config")
    assert isinstance(group, app_commands.Group)
    return [command for command in group.commands if isinstance(command, app_commands.Command)]


EXPECTED_SUBCOMMANDS = {
    "model", "providers", "max-references", "cooldown", "enable", "disable", "show", "reset", "history",
}


async def test_every_subcommand_refuses_a_member_without_manage_server(harness: BotHarness) -> None:
    await loaded(harness)
    await admin(harness, "config model", operation="imagine", model="openai/gpt-5-image")
    commands = _all_subcommands(harness)
    assert EXPECTED_SUBCOMMANDS <= {command.name for command in commands}
    before = {op: await config_of(harness, op) for op in Operation}

    for command in commands:
        values = _required_values(command)
        if command.name == "providers":
            values["only"] = "openai"
        payload = harness.payloads.slash(f"config {command.name}", actor=harness.payloads.member, **values)
        reply = (await harness.run(payload)).last
        assert reply.ephemeral, command.name
        assert "Manage Server" in reply.text, command.name
        assert "settings" not in reply.embeds[0].get("title", "").lower(), f"{command.name} showed settings"

    assert {op: await config_of(harness, op) for op in Operation} == before, "a refusal changed nothing"
    assert harness.bot is not None
    history = await harness.bot.store.config_history.recent(harness.payloads.guild_id)
    assert len(history) == 1, "only the admin's change was recorded"


async def test_payload_permissions_decide_not_the_role_name(harness: BotHarness) -> None:
    """A member whose computed permissions include Manage Server may configure; Administrator too."""
    await loaded(harness)
    manager = Actor("manager", permissions=MEMBER_PERMISSIONS | discord.Permissions(manage_guild=True))
    owner = Actor("owner", permissions=discord.Permissions(administrator=True))
    for actor, operation in ((manager, "edit"), (owner, "describe")):
        payload = harness.payloads.slash("config disable", actor=actor, operation=operation)
        reply = (await harness.run(payload)).last
        assert "now **off**" in reply.text
        assert not (await config_of(harness, Operation(operation))).enabled


def test_the_group_is_guild_only_and_hidden_by_default(harness: BotHarness) -> None:
    assert harness.bot is not None
    group = harness.bot.tree.get_command("config")
    assert group is not None
    data = group.to_dict(harness.bot.tree)
    assert int(data["default_member_permissions"]) == discord.Permissions(manage_guild=True).value
    assert data["contexts"] == [0], "guild only"


async def test_direct_messages_are_refused(harness: BotHarness) -> None:
    payload = harness.payloads.slash("config show", actor=harness.payloads.admin, in_guild=False)
    reply = (await harness.run(payload)).last
    assert reply.ephemeral and "server" in reply.text.lower()


# -- model ---------------------------------------------------------------------------------------


async def test_a_chosen_model_is_used_by_the_next_imagine(harness: BotHarness) -> None:
    await loaded(harness)
    reply = await admin(harness, "config model", operation="imagine", model="openai/gpt-5-image")
    assert "now uses `openai/gpt-5-image`" in reply.text
    assert "google/gemini-2.5-flash-image" in reply.text and "(default)" in reply.text, "the old value"
    assert "Warning" not in reply.text

    await harness.run(harness.payloads.slash("imagine", prompt="a cat"))
    (request,) = harness.openrouter.chat_requests()
    assert request.json["model"] == "openai/gpt-5-image"
    assert request.json["modalities"] == ["image", "text"]


async def test_an_image_only_model_is_asked_for_images_only(harness: BotHarness) -> None:
    await loaded(harness)
    await admin(harness, "config model", operation="imagine", model="black-forest-labs/flux.2-pro")
    await harness.run(harness.payloads.slash("imagine", prompt="a cat"))
    (request,) = harness.openrouter.chat_requests()
    assert request.json["model"] == "black-forest-labs/flux.2-pro"
    assert request.json["modalities"] == ["image"]


@pytest.mark.parametrize(
    ("operation", "model", "warning"),
    [
        ("imagine", "acme/brand-new-model", "does not know `acme/brand-new-model`"),
        ("edit", "meta-llama/llama-3.1-8b-instruct", "cannot make images"),
        ("imagine", "google/gemini-2.5-flash", "cannot make images"),
        ("describe", "meta-llama/llama-3.1-8b-instruct", "cannot read images"),
    ],
)
async def test_unknown_or_incapable_models_are_saved_with_a_warning(
    harness: BotHarness, operation: str, model: str, warning: str
) -> None:
    await loaded(harness)
    reply = await admin(harness, "config model", operation=operation, model=model)
    assert "Warning" in reply.text and warning in reply.text
    assert reply.embeds[0]["color"] == discord.Colour.orange().value
    assert (await config_of(harness, Operation(operation))).model == model


async def test_a_capable_model_for_describe_gets_no_warning(harness: BotHarness) -> None:
    await loaded(harness)
    reply = await admin(harness, "config model", operation="describe", model="openai/gpt-4o-mini")
    assert "Warning" not in reply.text
    assert (await config_of(harness, Operation.DESCRIBE)).model == "openai/gpt-4o-mini"


async def test_a_model_typed_by_name_or_in_other_case_is_stored_by_its_id(harness: BotHarness) -> None:
    await loaded(harness)
    await admin(harness, "config model", operation="imagine", model="OpenAI: GPT-5 Image")
    assert (await config_of(harness, Operation.IMAGINE)).model == "openai/gpt-5-image"
    await admin(harness, "config model", operation="edit", model="Black-Forest-Labs/FLUX.2-Pro")
    assert (await config_of(harness, Operation.EDIT)).model == "black-forest-labs/flux.2-pro"


async def test_text_that_cannot_be_a_model_id_is_refused(harness: BotHarness) -> None:
    await loaded(harness)
    reply = await admin(harness, "config model", operation="imagine", model="the best one please")
    assert "not a model id" in reply.text and "Nothing was changed" in reply.text
    assert (await config_of(harness, Operation.IMAGINE)).model is None


async def test_default_goes_back_to_the_default_model(harness: BotHarness) -> None:
    await loaded(harness)
    await admin(harness, "config model", operation="imagine", model="openai/gpt-5-image")
    reply = await admin(harness, "config model", operation="imagine", model="default")
    assert "google/gemini-2.5-flash-image" in reply.text
    assert (await config_of(harness, Operation.IMAGINE)).model is None


async def test_setting_the_same_model_again_changes_nothing(harness: BotHarness) -> None:
    await loaded(harness)
    await admin(harness, "config model", operation="imagine", model="openai/gpt-5-image")
    reply = await admin(harness, "config model", operation="imagine", model="openai/gpt-5-image")
    assert "nothing changed" in reply.text
    assert harness.bot is not None
    assert len(await harness.bot.store.config_history.recent(harness.payloads.guild_id)) == 1


# -- providers -----------------------------------------------------------------------------------


async def test_providers_by_name_or_slug_are_stored_as_slugs_and_sent_as_only(harness: BotHarness) -> None:
    await loaded(harness)
    reply = await admin(harness, "config providers", operation="imagine", only="Google Vertex, GOOGLE-AI-STUDIO")
    assert "only `google-vertex` and `google-ai-studio`" in reply.text
    assert (await config_of(harness, Operation.IMAGINE)).only_providers == ("google-vertex", "google-ai-studio")

    await harness.run(harness.payloads.slash("imagine", prompt="a cat"))
    (request,) = harness.openrouter.chat_requests()
    assert request.json["provider"] == {"only": ["google-vertex", "google-ai-studio"]}


async def test_only_takes_precedence_over_ignore_in_the_reply_and_the_next_request(harness: BotHarness) -> None:
    await loaded(harness)
    await admin(harness, "config providers", operation="imagine", ignore="openai")
    reply = await admin(harness, "config providers", operation="imagine", only="google-vertex")
    assert "**only** takes precedence" in reply.text and "**ignore** is not sent" in reply.text
    config = await config_of(harness, Operation.IMAGINE)
    assert config.only_providers == ("google-vertex",) and config.ignore_providers == ("openai",)

    await harness.run(harness.payloads.slash("imagine", prompt="a cat"))
    (request,) = harness.openrouter.chat_requests()
    assert request.json["provider"] == {"only": ["google-vertex"]}
    assert "ignore" not in request.json["provider"]


async def test_ignore_alone_is_sent_as_ignore(harness: BotHarness) -> None:
    await loaded(harness)
    reply = await admin(harness, "config providers", operation="imagine", ignore="Google AI Studio")
    assert "takes precedence" not in reply.text
    await harness.run(harness.payloads.slash("imagine", prompt="a cat"))
    (request,) = harness.openrouter.chat_requests()
    assert request.json["provider"] == {"ignore": ["google-ai-studio"]}


async def test_unknown_providers_are_refused_with_close_matches_and_nothing_changes(harness: BotHarness) -> None:
    await loaded(harness)
    reply = await admin(harness, "config providers", operation="imagine", only="gogle-vertex, openai, zzqx")
    assert reply.embeds[0]["title"] == "Unknown provider"
    assert "`gogle-vertex`: did you mean `google-vertex`" in reply.text
    assert "`zzqx`: did you mean nothing similar" in reply.text
    assert "`openai`:" not in reply.text, "known names are not listed as unknown"
    assert "Nothing was changed" in reply.text
    assert (await config_of(harness, Operation.IMAGINE)).only_providers == ()


async def test_none_clears_a_list(harness: BotHarness) -> None:
    await loaded(harness)
    await admin(harness, "config providers", operation="edit", only="openai", ignore="together")
    reply = await admin(harness, "config providers", operation="edit", only="none")
    assert "any except `together`" in reply.text
    config = await config_of(harness, Operation.EDIT)
    assert config.only_providers == () and config.ignore_providers == ("together",)


@pytest.mark.parametrize(
    ("values", "message"),
    [({}, "Give `only`, `ignore` or both"), ({"only": "none, openai"}, "use it on its own"), ({"ignore": " , "}, "")],
)
async def test_malformed_provider_lists_are_refused(harness: BotHarness, values: dict[str, str], message: str) -> None:
    await loaded(harness)
    reply = await admin(harness, "config providers", operation="imagine", **values)
    assert reply.embeds[0]["color"] == discord.Colour.red().value
    assert message in reply.text
    assert await config_of(harness, Operation.IMAGINE) == OperationConfig(Operation.IMAGINE)


# -- max references, enable, disable ----------------------------------------------------------


async def test_max_references_is_saved_for_edit(harness: BotHarness) -> None:
    reply = await admin(harness, "config max-references", value=3)
    assert "up to 3 reference" in reply.text and "Before: 1 *(default)*" in reply.text
    config = await config_of(harness, Operation.EDIT)
    assert config.max_references == 3 and config.effective_max_references == 3


async def test_max_references_out_of_range_is_refused(harness: BotHarness) -> None:
    reply = await admin(harness, "config max-references", value=5)  # Discord enforces 1-3; an old client may not
    assert "Choose 1 to 3" in reply.text
    assert (await config_of(harness, Operation.EDIT)).max_references is None


async def test_a_disabled_imagine_tells_members_and_calls_nothing_upstream(harness: BotHarness) -> None:
    reply = await admin(harness, "config disable", operation="imagine")
    assert "now **off**" in reply.text

    conversation = await harness.run(harness.payloads.slash("imagine", prompt="a cat"))
    refusal = conversation.last
    assert refusal.ephemeral
    assert "turned off in this server" in refusal.text and "/config enable" in refusal.text
    assert harness.openrouter.chat_requests() == []

    await admin(harness, "config enable", operation="imagine")
    await harness.run(harness.payloads.slash("imagine", prompt="a cat"))
    assert len(harness.openrouter.chat_requests()) == 1


async def test_switching_to_the_current_state_changes_nothing(harness: BotHarness) -> None:
    reply = await admin(harness, "config enable", operation="describe")
    assert "already **on**" in reply.text


# -- show --------------------------------------------------------------------------------------


async def test_show_marks_defaults_and_reports_each_operations_state(harness: BotHarness) -> None:
    await loaded(harness)
    reply = await admin(harness, "config show")
    shown = fields(reply)
    assert list(shown) == ["Imagine", "Edit", "Describe"]
    assert all("🟢 Ready" in value for value in shown.values())
    assert "Model: `google/gemini-2.5-flash-image` *(default)*" in shown["Imagine"]
    assert "Providers: any *(default)*" in shown["Edit"]
    assert "Max references: 1 *(default)*" in shown["Edit"]
    assert "Max references" not in shown["Imagine"]

    await admin(harness, "config model", operation="imagine", model="google/gemini-2.5-flash")
    await admin(harness, "config model", operation="edit", model="acme/unknown")
    await admin(harness, "config disable", operation="describe")
    await admin(harness, "config providers", operation="edit", only="openai", ignore="together")
    await admin(harness, "config max-references", value=2)
    shown = fields(await admin(harness, "config show"))
    assert "can't make images" in shown["Imagine"] and "Model: `google/gemini-2.5-flash`\n" in shown["Imagine"]
    assert "not in OpenRouter's list" in shown["Edit"]
    assert "only `openai` (ignore `together` is not sent: only takes precedence)" in shown["Edit"]
    assert "Max references: 2\nCooldown: none *(default)*" in shown["Edit"], "no default mark on a chosen value"
    assert "Disabled" in shown["Describe"]


async def test_show_stays_within_discords_embed_limits(harness: BotHarness) -> None:
    harness.openrouter.providers += [
        {"name": f"Provider {number} " + "x" * 60, "slug": f"provider-{number}-" + "y" * 60} for number in range(25)
    ]
    assert harness.bot is not None
    await harness.bot.catalog.refresh()
    slugs = ", ".join(f"provider-{number}-" + "y" * 60 for number in range(25))
    for operation in ("imagine", "edit", "describe"):
        await admin(harness, "config providers", operation=operation, only=slugs[:1000].rpartition(",")[0],
                    ignore=slugs[:1000].rpartition(",")[0])
        await admin(harness, "config model", operation=operation, model="acme/" + "m" * 190)
    reply = await admin(harness, "config show")
    assert_within_embed_limits(reply)
    assert all(value.startswith("🟡") for value in fields(reply).values())


# -- reset -------------------------------------------------------------------------------------


async def test_reset_one_operation(harness: BotHarness) -> None:
    await loaded(harness)
    await admin(harness, "config model", operation="imagine", model="openai/gpt-5-image")
    await admin(harness, "config disable", operation="edit")
    reply = await admin(harness, "config reset", operation="imagine")
    assert "**Imagine** back to the defaults" in reply.text
    assert (await config_of(harness, Operation.IMAGINE)).model is None
    assert not (await config_of(harness, Operation.EDIT)).enabled, "other operations keep their settings"


async def test_reset_all_and_reset_when_nothing_is_set(harness: BotHarness) -> None:
    await loaded(harness)
    await admin(harness, "config disable", operation="edit")
    await admin(harness, "config providers", operation="describe", ignore="openai")
    reply = await admin(harness, "config reset", operation="all")
    assert "**Edit** and **Describe** back to the defaults" in reply.text
    for op in Operation:
        assert await config_of(harness, op) == OperationConfig(op)
    again = await admin(harness, "config reset", operation="all")
    assert "already used the defaults; nothing changed" in again.text


# -- persistence ---------------------------------------------------------------------------------


async def test_settings_survive_a_restart_and_apply_at_once(harness: BotHarness) -> None:
    await loaded(harness)
    await admin(harness, "config model", operation="imagine", model="black-forest-labs/flux.2-pro")
    await admin(harness, "config providers", operation="imagine", only="google-vertex", ignore="openai")
    await admin(harness, "config disable", operation="describe")
    await admin(harness, "config max-references", value=2)

    await harness.restart()
    await loaded(harness)

    shown = fields(await admin(harness, "config show"))
    assert "`black-forest-labs/flux.2-pro`" in shown["Imagine"]
    assert "Disabled" in shown["Describe"]
    assert "Max references: 2" in shown["Edit"]
    await harness.run(harness.payloads.slash("imagine", prompt="a cat"))
    (request,) = harness.openrouter.chat_requests()
    assert request.json["model"] == "black-forest-labs/flux.2-pro"
    assert request.json["modalities"] == ["image"]
    assert request.json["provider"] == {"only": ["google-vertex"]}
    assert harness.bot is not None
    assert len(await harness.bot.store.config_history.recent(harness.payloads.guild_id)) == 5


async def test_a_change_whose_history_cannot_be_written_is_not_applied(harness: BotHarness) -> None:
    """The change and its history row are one transaction: if one fails, neither is kept."""
    assert harness.bot is not None
    async with harness.bot.store.database.transaction() as connection:
        await connection.execute("ALTER TABLE guild_config_history RENAME TO history_moved_away")
    reply = (await harness.run(harness.payloads.slash(
        "config disable", actor=harness.payloads.admin, operation="imagine"
    ))).last
    assert reply.ephemeral and "Something went wrong" in reply.text
    assert (await config_of(harness, Operation.IMAGINE)).enabled, "rolled back, and the cache agrees"
    harness.bot.store.guild_config.forget_cache()
    assert (await config_of(harness, Operation.IMAGINE)).enabled, "and the database agrees"

