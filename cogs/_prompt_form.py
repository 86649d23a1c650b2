"""The one form that asks for an edit prompt, and the persistent way its submissions are served.

Both "Edit image" (the message menu) and the Edit button under a result ask for a prompt in a modal.
A `discord.ui.Modal` object lives only in the process that opened it and only until its timeout, so
a member who submits after a restart, or after leaving the form open a while, would get no answer
at all. Instead the form is sent as a plain definition (never stored by discord.py), and every
submission is routed by its custom id (`PromptRoutes`, fed from `on_interaction`), which carries
everything the handler needs: the job id, or the message whose images to edit. Any process serves
it, at any time.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.i18n import speak_to
from bot.messages import ui
from bot.operations import MAX_PROMPT_LENGTH

__all__ = ["PROMPT_FIELD", "PromptForm", "PromptRoutes", "submitted_prompt"]

PROMPT_FIELD = "prompt"

#: Handles one submission: the interaction and the custom id's named groups.
SubmitHandler = Callable[[discord.Interaction[Any], dict[str, str]], Awaitable[None]]


class PromptForm(discord.ui.Modal):
    """An edit-prompt form; its answer is read by `submitted_prompt` in the route's handler."""

    def __init__(self, *, title: str, custom_id: str) -> None:
        super().__init__(title=title, custom_id=custom_id, timeout=None)
        # Made per form, not as a class attribute, so its label and hint are in the member's language.
        self.prompt: discord.ui.TextInput[PromptForm] = discord.ui.TextInput(
            label=ui.PROMPT_LABEL.text,
            style=discord.TextStyle.paragraph,
            placeholder=ui.PROMPT_PLACEHOLDER.text,
            min_length=1,
            max_length=MAX_PROMPT_LENGTH,
            custom_id=PROMPT_FIELD,
        )
        self.add_item(self.prompt)
        # Finished before it is sent, so discord.py does not keep it: submissions go to the routes instead.
        self.stop()


def submitted_prompt(interaction: discord.Interaction[Any]) -> str:
    """The text the member typed into the form's prompt field ("" if missing)."""
    data: Any = interaction.data or {}
    for row in data.get("components", []):
        for component in row.get("components", []) if isinstance(row, dict) else []:
            if isinstance(component, dict) and component.get("custom_id") == PROMPT_FIELD:
                return str(component.get("value") or "")
    return ""


class PromptRoutes:
    """Modal submissions by custom-id pattern; a cog registers its patterns and feeds `on_interaction` here."""

    def __init__(self) -> None:
        self._routes: list[tuple[re.Pattern[str], SubmitHandler]] = []

    def add(self, pattern: str, handler: SubmitHandler) -> None:
        """Serve submissions whose custom id matches `pattern` (named groups go to the handler)."""
        self._routes.append((re.compile(pattern), handler))

    async def dispatch(self, interaction: discord.Interaction[Any]) -> bool:
        """Run the handler for a modal submission; False when it is not one of ours."""
        if interaction.type is not discord.InteractionType.modal_submit:
            return False
        speak_to(interaction)  # a submission does not pass the tree: the member's language is set here
        data: Any = interaction.data or {}
        custom_id = str(data.get("custom_id", ""))
        for pattern, handler in self._routes:
            match = pattern.fullmatch(custom_id)
            if match is not None:
                await handler(interaction, match.groupdict())
                return True
        return False
