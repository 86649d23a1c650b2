"""The floor: the least a discord.py bot can do to serve `/imagine`, for the benchmarks to compare with.

`/imagine` defers, calls the upstream with one shared `httpx.AsyncClient`, decodes the image and
uploads it; nothing else: no database, no queue, no limits, no retries, no validation, no progress
edits, work done on the event loop wherever it lands. Whatever the project's bot costs beyond this
is the price of its features. With `count` it asks for that many images: on a model only OpenRouter's
Images API serves (the ids `GET /images/models` lists that `GET /models` does not list as making
images, fetched once at start) in one `POST /images` with `n`, decoding every `data[].b64_json` and
uploading them in one message; on the chat route, `count` calls at once. For the rows that are not
about `/imagine`, equally bare equivalents: `/describe` (defer, download the attachment, send it
upstream as it is, show the text), `/config model` autocomplete (a substring filter over the model
ids fetched once at start) and a per-guild configuration read from a dict. `max_concurrent` (off
unless set) is a plain semaphore around the upstream call and upload, for the memory scenario where
the project's bot holds 200 jobs behind a bound, and for the scaling scenario's steps beyond the
HTTP pool's 256 connections.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
from collections.abc import AsyncIterator
from typing import Any

import discord
import httpx
from discord import app_commands

__all__ = ["MinimalBot"]


class MinimalBot(discord.Client):
    """A bare `discord.Client` with a command tree; see the module docstring."""

    def __init__(self, *, openrouter_base: str, api_key: str, model: str = "google/gemini-2.5-flash-image",
                 vision_model: str = "google/gemini-2.5-flash", max_concurrent: int | None = None) -> None:
        super().__init__(intents=discord.Intents(guilds=True), allowed_mentions=discord.AllowedMentions.none())
        self.tree = app_commands.CommandTree(self)
        self.openrouter_base = openrouter_base.rstrip("/")
        self.model = model
        self.vision_model = vision_model
        self.auth = {"Authorization": f"Bearer {api_key}"}
        self.upstream = httpx.AsyncClient(timeout=httpx.Timeout(180.0, connect=10.0),
                                          limits=httpx.Limits(max_connections=256, max_keepalive_connections=64))
        self.model_ids: list[str] = []
        #: Models only the Images API serves: `/imagine` sends them to `POST /images`.
        self.images_api_models: set[str] = set()
        #: guild id -> model chosen there: the whole "configuration" of the minimal bot.
        self.guild_models: dict[int, str] = {}
        self._gate = asyncio.Semaphore(max_concurrent) if max_concurrent else None
        self._register()

    async def setup_hook(self) -> None:
        """Fetch the model ids once, for autocomplete."""
        response = await self.upstream.get(f"{self.openrouter_base}/models", params={"output_modalities": "all"},
                                           headers=self.auth)
        chat = response.json()["data"]
        self.model_ids = [str(item["id"]) for item in chat]
        makes_images = {str(item["id"]) for item in chat
                        if "image" in item.get("architecture", {}).get("output_modalities", [])}
        response = await self.upstream.get(f"{self.openrouter_base}/images/models", headers=self.auth)
        self.images_api_models = {str(item["id"]) for item in response.json()["data"]} - makes_images

    async def close(self) -> None:
        """Close the gateway side and the shared client."""
        await super().close()
        await self.upstream.aclose()

    async def guild_model(self, guild_id: int | None) -> str:
        """The configuration read: the guild's model, else the default."""
        return self.guild_models.get(guild_id or 0, self.model)

    @contextlib.asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        if self._gate is None:
            yield
            return
        async with self._gate:
            yield

    async def _chat(self, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.upstream.post(f"{self.openrouter_base}/chat/completions", json=body, headers=self.auth)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer["choices"][0]["message"]

    async def _images(self, model: str, prompt: str, count: int) -> list[bytes]:
        body: dict[str, Any] = {"model": model, "prompt": prompt, "aspect_ratio": "1:1"}
        if count > 1:
            body["n"] = count
        response = await self.upstream.post(f"{self.openrouter_base}/images", json=body, headers=self.auth)
        response.raise_for_status()
        return [base64.b64decode(item["b64_json"]) for item in response.json()["data"]]

    async def _chat_image(self, model: str, prompt: str) -> bytes:
        message = await self._chat({
            "model": model, "modalities": ["image", "text"], "messages": [{"role": "user", "content": prompt}],
            "image_config": {"aspect_ratio": "1:1"},
        })
        return base64.b64decode(message["images"][0]["image_url"]["url"].partition(",")[2])

    def _register(self) -> None:
        @self.tree.command(name="imagine")
        async def imagine(interaction: discord.Interaction, prompt: str, count: int = 1) -> None:
            """Create an image from a text prompt."""
            await interaction.response.defer(thinking=True)
            async with self._slot():
                model = await self.guild_model(interaction.guild_id)
                if model in self.images_api_models:
                    images = await self._images(model, prompt, count)
                elif count > 1:
                    images = list(await asyncio.gather(*(self._chat_image(model, prompt) for _ in range(count))))
                else:
                    images = [await self._chat_image(model, prompt)]
                files = [discord.File(io.BytesIO(data), f"image_{number}.png") for number, data in enumerate(images, 1)]
                await interaction.edit_original_response(attachments=files)

        @self.tree.command(name="describe")
        async def describe(interaction: discord.Interaction, image: discord.Attachment) -> None:
            """Describe an image."""
            await interaction.response.defer(thinking=True)
            data = (await self.upstream.get(image.url)).content
            url = f"data:{image.content_type or 'image/png'};base64,{base64.b64encode(data).decode('ascii')}"
            message = await self._chat({"model": self.vision_model, "messages": [{"role": "user", "content": [
                {"type": "text", "text": "Describe this image."}, {"type": "image_url", "image_url": {"url": url}}]}]})
            await interaction.edit_original_response(content=str(message.get("content") or "")[:2000])

        config = app_commands.Group(name="config", description="Settings")

        @config.command(name="model")
        async def model(interaction: discord.Interaction, operation: str, model: str) -> None:
            """Choose a model."""
            self.guild_models[interaction.guild_id or 0] = model
            await interaction.response.send_message("Saved.", ephemeral=True)

        @model.autocomplete("model")
        async def model_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            wanted = current.casefold()
            found = [model_id for model_id in self.model_ids if wanted in model_id.casefold()][:25]
            return [app_commands.Choice(name=model_id, value=model_id) for model_id in found]

        self.tree.add_command(config)
