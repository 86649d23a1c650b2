"""Member text (prompts, names, file names) is shown as written and never formats the bot's messages.

Above all, a prompt like `[free nitro](https://evil.example)` must not become a clickable masked
link inside the bot's own embed. `live_markdown` reads text the way Discord does as far as that
matters: a backslash before punctuation escapes it; whatever else is left is Markdown Discord acts on.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.rendering import escape_member_text
from tests.kit.conversation import Reply
from tests.kit.harness import BotHarness
from tests.kit.payloads import ADMIN_PERMISSIONS, Actor
from tests.test_attachments import png_bytes

#: Characters that format text wherever they are: emphasis, underline, strike-through, spoilers,
#: code, and the brackets of masked links.
INLINE = set("*_~`|[]")
#: Discord's escape: a backslash before any character that is neither a letter, a digit nor a space.
ESCAPE = re.compile(r"\\[^0-9A-Za-z\s]")
#: Marks that format a whole line: headings, subtext, block quotes, lists.
LINE_START = re.compile(r"^[ \t]*(#|>|-|\+|\d+\.)", re.MULTILINE)
MASKED_LINK = re.compile(r"\[[^\[\]]*\]\(")

NASTY_PROMPT = (
    "# [free nitro](https://evil.example) and [more](https://evil.example/2) \\[x](https://evil.example/3) "
    "**bold** __under__ ~~strike~~ ||spoiler|| `code` a*b c_d see https://evil.example/nitro"
)


def live_markdown(text: str) -> list[str]:
    """What Discord would format in `text`: every unescaped special character and line-start mark."""
    live = ESCAPE.sub("\0", text)  # left to right, as Discord reads it: `\\` is an escaped backslash
    found = [f"masked link {match[0]!r}" for match in MASKED_LINK.finditer(live)]
    found += [f"{char!r}" for char in live if char in INLINE]
    found += [f"line starting with {match[1]!r}" for match in LINE_START.finditer(live)]
    return found


def as_read(text: str) -> str:
    """The text a member reads once Discord removed the escapes."""
    return re.sub(r"\\([^0-9A-Za-z\s])", r"\1", text)


def fields(embed: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in embed.get("fields", [])}


def embed_chars(embed: dict[str, Any]) -> int:
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += sum(len(item["name"]) + len(item["value"]) for item in embed.get("fields", []))
    return total + len((embed.get("footer") or {}).get("text", ""))


# -- the helper ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "[free nitro](https://evil.example)",
        "[a](https://x.example) and [b](https://y.example)",  # escape_markdown leaves the second one live
        "\\[a](https://x.example)",  # a member's own backslash must not cancel the escape
        "[a](<https://x.example>) [b] (https://y.example)",
        "**bold** *it* __under__ _it_ ~~strike~~ ||spoiler|| `code` ```block```",
        "a*b c_d e~f g|h i`j \\",
        "# heading\n## smaller\n-# subtext\n> quote\n>>> quotes\n- item\n  * nested\n+ plus\n1. first",
    ],
)
def test_the_helper_leaves_no_live_markdown_and_reads_as_written(text: str) -> None:
    shown = escape_member_text(text)
    assert live_markdown(shown) == [], shown
    assert as_read(shown) == text


def test_the_helper_leaves_bare_links_working_and_mentions_alone() -> None:
    text = "see https://example.com/my_cat_(1).png?a=b_c and <@123> @everyone <t:0:R>"
    shown = escape_member_text(text)
    assert "https://example.com/my_cat_(1).png?a=b_c" in shown, "a bare link is left whole, so it still works"
    assert "<@123> @everyone <t:0:R>" in shown


def test_a_bare_link_cannot_carry_a_masked_link() -> None:
    shown = escape_member_text("https://a.example/[free](https://evil.example)")
    assert MASKED_LINK.search(ESCAPE.sub("\0", shown)) is None
    assert as_read(shown) == "https://a.example/[free](https://evil.example)"


@pytest.mark.parametrize("text", ["*" * 300, "a\\" * 150, "[x](https://e.example) " * 30, "word " * 100])
def test_the_limit_bounds_the_escaped_text_and_never_cuts_an_escape(text: str) -> None:
    for limit in range(2, 120):
        shown = escape_member_text(text, limit)
        assert len(shown) <= limit
        assert shown.endswith("…")
        kept = shown.removesuffix("…")
        assert live_markdown(kept) == [], (limit, shown)
        assert text.startswith(as_read(kept)), "the cut only drops the end"


def test_short_text_is_not_cut() -> None:
    assert escape_member_text("  a *cat*  ", 9) == "a \\*cat\\*"


# -- through the real command tree --------------------------------------------------------------


async def test_an_imagine_prompt_cannot_put_markdown_or_a_masked_link_in_the_result(harness: BotHarness) -> None:
    harness.openrouter.image_text = "Here you go: [claim your prize](https://evil.example) **now**"
    reply = (await harness.run(harness.payloads.slash("imagine", prompt=NASTY_PROMPT))).last
    (embed,) = reply.embeds
    assert live_markdown(embed["description"]) == []
    assert as_read(embed["description"]) == NASTY_PROMPT, "the prompt still reads exactly as written"
    assert "https://evil.example/nitro" in embed["description"], "a bare link stays a plain, visible link"
    said = fields(embed)["The model said"]
    assert live_markdown(said) == [], "a prompt can make the model repeat a link"
    assert as_read(said) == harness.openrouter.image_text


async def test_the_longest_prompt_of_markdown_stays_within_the_limits_and_is_cut_cleanly(
    harness: BotHarness,
) -> None:
    prompt = "*_" * 2000  # 4000 characters, the most the command takes: 8000 once escaped
    reply = (await harness.run(harness.payloads.slash("imagine", prompt=prompt))).last
    (embed,) = reply.embeds
    description = embed["description"]
    assert len(description) <= 4096 and embed_chars(embed) <= 6000
    assert description.endswith("…")
    kept = description.removesuffix("…")
    assert live_markdown(kept) == [] and prompt.startswith(as_read(kept))


async def test_jobs_shows_prompts_and_names_escaped(harness: BotHarness) -> None:
    author = Actor("**boss** [a](https://x.example) [b](https://y.example)")
    await harness.run(harness.payloads.slash("imagine", actor=author, prompt=NASTY_PROMPT))
    reply = (await harness.run(harness.payloads.slash("jobs", actor=harness.payloads.admin, member=author))).last
    (embed,) = reply.embeds
    title = embed["title"]
    assert live_markdown(title) == [] and as_read(title).startswith(author.user_dict()["global_name"])
    quoted = [line.removeprefix("> ") for line in embed["description"].splitlines() if line.startswith("> ")]
    assert len(quoted) == 1
    assert live_markdown(quoted[0]) == []
    assert NASTY_PROMPT.startswith(as_read(quoted[0]).removesuffix("…"))


async def test_config_history_shows_names_escaped(harness: BotHarness) -> None:
    assert harness.bot is not None
    await harness.bot.catalog.wait_until_loaded()
    sneaky = Actor("\\[a](https://x.example) b*c", permissions=ADMIN_PERMISSIONS)  # 32 characters at most
    await harness.run(harness.payloads.slash("config disable", actor=sneaky, operation="describe"))
    reply = (await harness.run(harness.payloads.slash("config history", actor=sneaky))).last
    (line,) = reply.embeds[0]["description"].splitlines()
    who = line.split(" · ")[1]
    name = who[who.index("(") + 1 : who.rindex(")")]
    assert live_markdown(name) == []
    assert as_read(name) == sneaky.user_dict()["global_name"]


async def test_status_keeps_a_models_id_inside_its_code_span(harness: BotHarness) -> None:
    assert harness.bot is not None
    await harness.bot.catalog.wait_until_loaded()
    typed = "acme/x`[free](https://evil.example)`"
    await harness.run(harness.payloads.slash("config model", actor=harness.payloads.admin, operation="imagine",
                                             model=typed))
    reply = (await harness.run(harness.payloads.slash("status"))).last
    value = fields(reply.embeds[0])["/imagine"]
    model_line = next(line for line in value.splitlines() if line.startswith("Model: "))
    assert model_line == "Model: `acme/x'[free](https://evil.example)'`", "one code span, nothing outside it"


# -- /edit and /describe show file names and questions escaped too ------------------------------------


def _source_names(reply: Reply) -> list[str]:
    value = fields(reply.embeds[0])["Source image"]
    return [re.sub(r"^\d+\. \[|\]\([^)]*\)$", "", line) for line in value.splitlines()]


async def test_edit_shows_source_file_names_escaped(harness: BotHarness) -> None:
    filename = "my_cat*[free](https:__evil.example).png"
    data = png_bytes(64, 64)
    url = harness.discord.host_attachment("cat.png", data, "image/png")  # a CDN link is percent-encoded
    attachment = harness.payloads.attachment(filename, data, "image/png", url=url)
    reply = (await harness.run(harness.payloads.slash("edit", prompt="a hat", image=attachment))).last
    (name,) = _source_names(reply)
    assert live_markdown(name) == []
    assert as_read(name) == filename


async def test_describe_shows_the_question_escaped(harness: BotHarness) -> None:
    attachment = harness.payloads.attachment("cat.png", png_bytes(64, 64), "image/png")
    question = "what is [this](https://evil.example) and [that](https://evil.example/2)? a*b"
    reply = (await harness.run(harness.payloads.slash("describe", image=attachment, prompt=question))).last
    shown = fields(reply.embeds[0])["Question"]
    assert live_markdown(shown) == []
    assert as_read(shown) == question
