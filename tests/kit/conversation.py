"""What a member would see of one interaction, rebuilt from the requests the bot sent to Discord.

Discord's rules are applied: a deferred response is a message the first follow-up replaces (keeping
its visibility), a deleted original disappears, an edit replaces content, embeds and attachments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.kit.fake_discord import DiscordRequest, SentFile

EPHEMERAL = 64


@dataclass
class Reply:
    """One message as the member finally sees it."""

    ephemeral: bool
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    files: list[SentFile] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    allowed_mentions: dict[str, Any] | None = None
    loading: bool = False
    deleted: bool = False
    #: The message's flags (`IS_COMPONENTS_V2` = 1 << 15 for a layout of components).
    flags: int = 0

    def apply(self, body: dict[str, Any], files: list[SentFile]) -> None:
        """Apply a create or edit body."""
        if "content" in body:
            self.content = body["content"] or ""
        if "embeds" in body:
            self.embeds = body["embeds"] or []
        if "components" in body:
            self.components = body["components"] or []
        if "attachments" in body:
            self.attachments = body["attachments"] or []
            kept = {item.get("filename") for item in self.attachments}
            self.files = [f for f in self.files if f.filename in kept] if not files else list(files)
        elif files:
            self.files = list(files)
        if "allowed_mentions" in body:
            self.allowed_mentions = body["allowed_mentions"]
        if "flags" in body:
            self.flags = int(body["flags"] or 0)
        self.loading = False

    @property
    def components_v2(self) -> bool:
        """Whether the message is laid out with Components V2 (its text is in text displays)."""
        return bool(self.flags & (1 << 15))

    def _walk(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []

        def walk(items: list[Any]) -> None:
            for item in items:
                if isinstance(item, dict):
                    found.append(item)
                    walk(item.get("components", []))
                    if isinstance(item.get("accessory"), dict):
                        walk([item["accessory"]])

        walk(self.components)
        return found

    @property
    def gallery(self) -> list[dict[str, Any]]:
        """The media gallery items (`media.url`, `description`, `spoiler`) of every gallery, in order."""
        return [entry for item in self._walk() if item.get("type") == 12 for entry in item.get("items", [])]

    @property
    def labels(self) -> dict[str, str]:
        """Custom id -> label of every button."""
        return {item["custom_id"]: item.get("label", "") for item in self._walk()
                if item.get("type") == 2 and "custom_id" in item}

    @property
    def text(self) -> str:
        """Content plus every embed's title, description and fields: what a member reads."""
        parts = [self.content]
        parts += [item.get("content", "") for item in self._walk() if item.get("type") == 10]
        for embed in self.embeds:
            parts += [embed.get("title", ""), embed.get("description", "")]
            for embed_field in embed.get("fields", []):
                parts += [embed_field.get("name", ""), embed_field.get("value", "")]
            parts.append((embed.get("footer") or {}).get("text", ""))
        return "\n".join(part for part in parts if part)

    @property
    def custom_ids(self) -> list[str]:
        """Every component custom id on the message."""
        found: list[str] = []

        def walk(items: list[Any]) -> None:
            for item in items:
                if isinstance(item, dict):
                    if "custom_id" in item:
                        found.append(item["custom_id"])
                    walk(item.get("components", []))

        walk(self.components)
        return found


class Conversation:
    """The replies of one interaction token."""

    def __init__(self, requests: list[DiscordRequest]) -> None:
        self.requests = requests
        self.callback_types: list[int] = []
        self.original: Reply | None = None
        self.followups: list[Reply] = []
        self.autocomplete_choices: list[dict[str, Any]] | None = None
        self.modal: dict[str, Any] | None = None
        self.message_update: dict[str, Any] | None = None
        for request in requests:
            self._apply(request)

    def _apply(self, request: DiscordRequest) -> None:
        if request.refusal is not None:
            return  # Discord refused it (400): nothing changed
        body = request.json if isinstance(request.json, dict) else {}
        if request.path.endswith("/callback"):
            kind = int(body.get("type", 0))
            data = body.get("data") or {}
            self.callback_types.append(kind)
            if kind == 4:
                self.original = Reply(ephemeral=bool(data.get("flags", 0) & EPHEMERAL))
                self.original.apply(data, request.files)
            elif kind == 5:
                self.original = Reply(ephemeral=bool(data.get("flags", 0) & EPHEMERAL), loading=True)
            elif kind == 8:
                self.autocomplete_choices = data.get("choices", [])
            elif kind == 9:
                self.modal = data
            elif kind == 7:
                self.message_update = data
            return
        if "/messages/@original" in request.path:
            if self.original is None:
                self.original = Reply(ephemeral=False)
            if request.method == "DELETE":
                self.original.deleted = True
            elif request.method == "PATCH":
                self.original.apply(body, request.files)
            return
        if request.method == "POST" and request.path.startswith("/webhooks/"):
            if self.original is not None and self.original.loading and not self.original.deleted:
                self.original.apply(body, request.files)  # Discord keeps the deferred visibility
            else:
                reply = Reply(ephemeral=bool(body.get("flags", 0) & EPHEMERAL))
                reply.apply(body, request.files)
                self.followups.append(reply)

    @property
    def visible(self) -> list[Reply]:
        """Every message still shown, original first."""
        replies = [self.original] if self.original and not self.original.deleted else []
        return replies + self.followups

    @property
    def last(self) -> Reply:
        """The reply the member sees last; fails the test when the bot said nothing."""
        visible = self.visible
        assert visible, f"the bot never answered; requests: {[r.path for r in self.requests]}"
        assert not visible[-1].loading, "the bot left the member on 'thinking…'"
        return visible[-1]
