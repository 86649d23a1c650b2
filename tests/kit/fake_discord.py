"""A stand-in for Discord's REST API on 127.0.0.1, recording everything the bot sends.

`discord.http.Route.BASE` (the bot's `DISCORD_API_BASE_URL`) points here, so the bot's real HTTP
client, multipart encoding and interaction-callback handling all run; the tests read back what
Discord would have received. It also serves attachment bytes, standing in for Discord's CDN.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aiohttp import BodyPartReader, web

API_PREFIX = "/api/v10"


def _json(data: Any, status: int = 200) -> web.Response:
    """A JSON answer with the exact content type Discord sends (discord.py compares it verbatim)."""
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json"})
APPLICATION_ID = 900000000000000001
BOT_USER_ID = 900000000000000001
BOT_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.test.discord-secret-token"
#: The developer who owns the application by default: nobody a test sends interactions as.
OWNER_USER_ID = 900000000000000002
TEAM_ID = 900000000000000003
#: `flags` of the user object that stands for a team (Discord's TEAM_PSEUDO_USER).
TEAM_PSEUDO_USER = 1 << 10


#: Message flag IS_COMPONENTS_V2 (Discord's spec: `MessageFlags`): the message is laid out by its components.
IS_COMPONENTS_V2 = 1 << 15
#: Component types allowed at the top of a Components V2 message, and inside a container.
V2_TOP_LEVEL = frozenset({1, 9, 10, 12, 13, 14, 17})
V2_IN_CONTAINER = frozenset({1, 9, 10, 12, 13, 14})
#: Interactive components (they carry a custom id, or a URL for link buttons).
BUTTON, SELECTS = 2, frozenset({3, 5, 6, 7, 8})
MAX_COMPONENTS_V2 = 40
MAX_ACTION_ROWS = 5
MAX_CUSTOM_ID = 100
MAX_TEXT_DISPLAY_CHARS = 4000


def invalid_form_body(errors: dict[str, Any]) -> dict[str, Any]:
    """Discord's error shape for a message it refuses (400, code 50035), `errors` keyed by field path."""
    return {"message": "Invalid Form Body", "code": 50035,
            "errors": {path: {"_errors": [{"code": code, "message": text}]} for path, (code, text) in errors.items()}}


def message_problems(body: Any, uploaded: list[str]) -> dict[str, tuple[str, str]]:
    """What Discord would refuse in a message create or edit body: field path -> (error code, message).

    `uploaded` are the file names of the request's multipart parts; the body's `attachments` (kept ones)
    count too. Checked as Discord does: with `IS_COMPONENTS_V2` no `content`, `embeds`, `poll` or
    `sticker_ids`, only V2 top-level types, at most 40 components (nested ones counted, gallery items
    not), media galleries of 1-10 items with alt text of at most 1024, text displays of 1-4000 characters
    (4000 in all), and every `attachment://` reference naming a file of this message; without it only
    action rows, at most 5. Always: action rows of 1-5 buttons or one select, custom ids of 1-100
    characters, unique within the message.
    """
    problems: dict[str, tuple[str, str]] = {}
    if not isinstance(body, dict):
        return problems
    components = body.get("components") or []
    v2 = bool(int(body.get("flags") or 0) & IS_COMPONENTS_V2)
    names = set(uploaded) | {str(item.get("filename")) for item in body.get("attachments") or []
                             if isinstance(item, dict) and item.get("filename")}
    custom_ids: list[str] = []
    counted = 0
    text_chars = 0

    def walk(items: Any, path: str, allowed: frozenset[int] | None) -> None:
        nonlocal counted, text_chars
        if not isinstance(items, list):
            problems[path] = ("BASE_TYPE_BAD_ARRAY", "Must be an array.")
            return
        for index, item in enumerate(items):
            here = f"{path}.{index}"
            kind = item.get("type") if isinstance(item, dict) else None
            if not isinstance(kind, int):
                problems[here] = ("BASE_TYPE_REQUIRED", "This field is required")
                continue
            counted += 1
            if allowed is not None and kind not in allowed:
                problems[here] = ("UNION_TYPE_CHOICES", f"Value of field \"type\" must be one of {sorted(allowed)}.")
                continue
            if kind == BUTTON:
                link = item.get("style") in (5, 6)  # link and premium buttons carry no custom id
                if not link and "custom_id" not in item:
                    problems[f"{here}.custom_id"] = ("BASE_TYPE_REQUIRED", "This field is required")
                if item.get("style") not in (1, 2, 3, 4, 5, 6):
                    problems[f"{here}.style"] = ("BASE_TYPE_CHOICES", "Value must be one of (1, 2, 3, 4, 5, 6).")
                if not link and not (item.get("label") or item.get("emoji")):
                    problems[f"{here}.label"] = ("BUTTON_COMPONENT_INVALID", "A button needs a label or an emoji.")
                if len(str(item.get("label") or "")) > 80:
                    problems[f"{here}.label"] = ("BASE_TYPE_MAX_LENGTH", "Must be 80 or fewer in length.")
            if kind in (BUTTON, *SELECTS) and "custom_id" in item:
                custom_id = item["custom_id"]
                if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= MAX_CUSTOM_ID:
                    problems[f"{here}.custom_id"] = ("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
                custom_ids.append(str(custom_id))
            if kind == 1:
                children = item.get("components") or []
                buttons = [c for c in children if isinstance(c, dict) and c.get("type") == BUTTON]
                selects = [c for c in children if isinstance(c, dict) and c.get("type") in SELECTS]
                if not children or len(children) > 5 or (selects and len(children) > 1):
                    problems[f"{here}.components"] = (
                        "BASE_TYPE_BAD_LENGTH", "An action row holds 1-5 buttons or one select menu.")
                if len(buttons) + len(selects) != len(children):
                    problems[f"{here}.components"] = ("UNION_TYPE_CHOICES", "Only buttons and select menus.")
                walk(children, f"{here}.components", None)
            elif kind == 17:
                walk(item.get("components") or [], f"{here}.components", V2_IN_CONTAINER)
            elif kind == 9:
                walk(item.get("components") or [], f"{here}.components", frozenset({10}))
                accessory = item.get("accessory")
                if accessory is not None:
                    walk([accessory], f"{here}.accessory", frozenset({2, 11}))
            elif kind == 10:
                content = item.get("content")
                if not isinstance(content, str) or not 1 <= len(content) <= MAX_TEXT_DISPLAY_CHARS:
                    problems[f"{here}.content"] = ("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 4000 in length.")
                text_chars += len(content) if isinstance(content, str) else 0
            elif kind == 12:
                gallery = item.get("items")
                if not isinstance(gallery, list) or not 1 <= len(gallery) <= 10:
                    problems[f"{here}.items"] = ("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 10 in length.")
                    continue
                for number, entry in enumerate(gallery):
                    description = entry.get("description") if isinstance(entry, dict) else None
                    if description is not None and not 1 <= len(str(description)) <= 1024:
                        problems[f"{here}.items.{number}.description"] = (
                            "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 1024 in length.")
                    check_media(entry.get("media") if isinstance(entry, dict) else None, f"{here}.items.{number}")
            elif kind in (11, 13):
                check_media(item.get("media") if kind == 11 else item.get("file"), here)

    def check_media(media: Any, path: str) -> None:
        url = media.get("url") if isinstance(media, dict) else None
        if not isinstance(url, str) or not url:
            problems[f"{path}.media.url"] = ("BASE_TYPE_REQUIRED", "This field is required")
        elif url.startswith("attachment://") and url.removeprefix("attachment://") not in names:
            problems[f"{path}.media.url"] = (
                "UNFURLED_MEDIA_ITEM_ATTACHMENT_NOT_FOUND", f"No attachment named {url.removeprefix('attachment://')}")

    if v2:
        for legacy in ("content", "embeds", "poll", "sticker_ids"):
            if body.get(legacy):
                problems[legacy] = ("MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                                    "The 'content', 'embeds', 'sticker_ids' and 'poll' fields cannot be used "
                                    "when the IS_COMPONENTS_V2 flag is set.")
        walk(components, "components", V2_TOP_LEVEL)
        if counted > MAX_COMPONENTS_V2:
            problems["components"] = ("BASE_TYPE_MAX_LENGTH", "Must be 40 or fewer in length (nested included).")
        if text_chars > MAX_TEXT_DISPLAY_CHARS:
            problems["components"] = ("MAX_TEXT_DISPLAY_CHARS", "Text displays may hold 4000 characters in all.")
    else:
        walk(components, "components", frozenset({1}))
        if len(components) > MAX_ACTION_ROWS:
            problems["components"] = ("BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    if len(set(custom_ids)) != len(custom_ids):
        problems["components"] = ("COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated")
    return problems


def user_object(user_id: int, username: str, *, flags: int = 0) -> dict[str, Any]:
    """A user object as Discord sends it (UserResponse), for application owners and team members."""
    return {"id": str(user_id), "username": username, "discriminator": "0", "global_name": None,
            "avatar": None, "public_flags": flags, "flags": flags, "primary_guild": None}


def team_member(user: dict[str, Any], *, role: str = "developer", accepted: bool = True,
                team_id: int = TEAM_ID) -> dict[str, Any]:
    """A team member (TeamMemberResponse); `role` is `admin`, `developer` or `read_only`."""
    return {"user": user, "team_id": str(team_id), "membership_state": 2 if accepted else 1, "role": role,
            "permissions": ["*"]}


def team(members: list[dict[str, Any]], *, owner_user_id: int | None = None, name: str = "Operators",
         team_id: int = TEAM_ID) -> dict[str, Any]:
    """A team (TeamResponse) of `team_member(...)`s; its owner is the first member unless given."""
    owner = owner_user_id if owner_user_id is not None else int(members[0]["user"]["id"])
    return {"id": str(team_id), "icon": None, "name": name, "owner_user_id": str(owner), "members": members}


@dataclass
class SentFile:
    """A file the bot uploaded."""

    filename: str
    data: bytes
    content_type: str


@dataclass
class DiscordRequest:
    """One request the bot made to the stand-in."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    files: list[SentFile] = field(default_factory=list)
    #: `time.perf_counter()` when the request (body included) had arrived: what benchmarks time against.
    received_at: float = field(default_factory=time.perf_counter)
    #: Discord's 400 answer when the stand-in refused the body (`message_problems`), else None.
    refusal: dict[str, Any] | None = None
    #: The message object the stand-in answered with (creates and edits), as a click on it would carry it.
    answered: dict[str, Any] | None = None

    @property
    def token(self) -> str | None:
        """The interaction token in the path, for interaction and webhook routes."""
        parts = self.path.split("/")
        if len(parts) > 3 and parts[1] == "interactions":
            return parts[3]
        if len(parts) > 3 and parts[1] == "webhooks":
            return parts[3]
        return None


class FakeDiscord:
    """The REST stand-in; start with `async with FakeDiscord() as discord_api:`."""

    #: Every instance made, so a fixture can search all that reached "Discord" in a test.
    instances: ClassVar[list[FakeDiscord]] = []

    def __init__(self) -> None:
        FakeDiscord.instances.append(self)
        self.requests: list[DiscordRequest] = []
        self.attachments: dict[str, tuple[bytes, str]] = {}
        #: (channel id, message id) -> message object served at GET /channels/{c}/messages/{m}.
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.valid_token = BOT_TOKEN
        self.bot_name = "ImageBot"
        #: Who owns the application (a user object) while no team does; `GET /oauth2/applications/@me`.
        self.application_owner: dict[str, Any] = user_object(OWNER_USER_ID, "operator")
        #: The team that owns the application (`team(...)`), or None for a single owner.
        self.application_team: dict[str, Any] | None = None
        #: Set to an HTTP status to make `GET /oauth2/applications/@me` fail (after the bot logged in).
        self.application_status: int | None = None
        #: Set to an HTTP status to make interaction callbacks fail (e.g. 404 for an expired token).
        self.callback_status: int | None = None
        self.fail_delete_original = False
        #: Interaction tokens whose webhook routes answer as Discord does after 15 minutes.
        self.expired_tokens: set[str] = set()
        #: Set to an HTTP status to make follow-up messages (POST /webhooks/...) fail.
        self.followup_status: int | None = None
        #: Message bodies refused as Discord would (invalid components), with the error answered.
        self.refused: list[tuple[DiscordRequest, dict[str, Any]]] = []
        self._ids = itertools.count(1_100_000_000_000_000_000)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        #: Guild objects announced (GUILD_CREATE) to a bot that connects to the gateway.
        self.guilds: list[dict[str, Any]] = []
        self.identified = asyncio.Event()
        self.identify_payload: dict[str, Any] | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self._sequence = 0

    # -- lifecycle ------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway-ws", self._gateway)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening."""
        for socket in list(self._sockets):
            await socket.close()
        if self._runner:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        """What `DISCORD_API_BASE_URL` should be."""
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    # -- attachments (CDN) ----------------------------------------------------------------------

    def host_attachment(self, filename: str, data: bytes, content_type: str = "") -> str:
        """Serve bytes at a CDN-like URL and return the URL."""
        key = f"{next(self._ids)}/{filename}"
        self.attachments[key] = (data, content_type or "application/octet-stream")
        return f"http://127.0.0.1:{self.port}/attachments/{key}"

    # -- queries for tests ----------------------------------------------------------------------

    def for_token(self, token: str) -> list[DiscordRequest]:
        """Every request about one interaction, in order."""
        return [request for request in self.requests if request.token == token]

    def matching(self, method: str, path_part: str) -> list[DiscordRequest]:
        """Requests with this method whose path contains `path_part`."""
        return [r for r in self.requests if r.method == method and path_part in r.path]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until `predicate()` holds, re-checked on every recorded request."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    # -- the server -----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/attachments/"):
            return self._serve_attachment(path.removeprefix("/attachments/"))
        if not path.startswith(API_PREFIX):
            return _json({"message": "404: Not Found", "code": 0}, status=404)
        recorded = await self._record(request, path.removeprefix(API_PREFIX))
        try:
            return await self._respond(request, recorded)
        finally:
            async with self._changed:
                self._changed.notify_all()

    def _serve_attachment(self, key: str) -> web.StreamResponse:
        if key not in self.attachments:
            return web.Response(status=404, text="Not Found")
        data, content_type = self.attachments[key]
        return web.Response(body=data, content_type=content_type)

    async def _record(self, request: web.Request, path: str) -> DiscordRequest:
        body: Any = None
        files: list[SentFile] = []
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue
                data = await part.read()
                if part.name == "payload_json":
                    body = json.loads(data)
                else:
                    files.append(
                        SentFile(part.filename or "", bytes(data), part.headers.get("Content-Type", ""))
                    )
        elif request.can_read_body:
            raw = await request.read()
            body = json.loads(raw) if raw else None
        recorded = DiscordRequest(
            method=request.method,
            path=path,
            query=dict(request.query),
            headers=dict(request.headers),
            json=body,
            files=files,
        )
        self.requests.append(recorded)
        return recorded

    def _authorised(self, request: web.Request, path: str) -> bool:
        if path.startswith(("/interactions/", "/webhooks/")):
            return True  # interaction routes authenticate by their token, as on Discord
        return request.headers.get("Authorization") == f"Bot {self.valid_token}"

    async def _respond(self, request: web.Request, recorded: DiscordRequest) -> web.StreamResponse:
        path, method = recorded.path, recorded.method
        if not self._authorised(request, path):
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        if path == "/users/@me":
            return _json(self.bot_user())
        if path == "/oauth2/applications/@me":
            if self.application_status:
                return _json({"message": "Missing Access", "code": 50001}, status=self.application_status)
            return _json(self.application())
        if path.startswith("/applications/") and path.endswith("/commands"):
            if method == "PUT":
                # Discord answers with every field, `description` included ("" for context menus).
                commands = [{"description": "", **command, "id": str(next(self._ids)),
                             "application_id": str(APPLICATION_ID), "version": "1"}
                            for command in recorded.json or []]
                return _json(commands)
            return _json([])
        if path.startswith("/interactions/") and path.endswith("/callback"):
            return self._interaction_callback(recorded)
        if path.startswith("/webhooks/"):
            return self._webhook(recorded)
        if path.startswith("/channels/") and path.endswith("/messages") and method == "POST":
            refused = self._refuse_invalid(recorded, recorded.json)
            if refused is not None:
                return refused
            return _json(self.message_from(recorded, channel_id=int(path.split("/")[2])))
        if path.startswith("/channels/") and "/messages/" in path and method == "GET":
            parts = path.split("/")
            stored = self.messages.get((int(parts[2]), int(parts[4]))) if len(parts) == 5 else None
            if stored is None:
                return _json({"message": "Unknown Message", "code": 10008}, status=404)
            return _json(stored)
        if path.startswith("/channels/") and "/messages/" in path and method == "DELETE":
            return web.Response(status=204)
        if path == "/gateway" or path == "/gateway/bot":
            return _json({"url": f"ws://127.0.0.1:{self.port}/gateway-ws", "shards": 1,
                                      "session_start_limit": {"total": 1000, "remaining": 1000,
                                                              "reset_after": 0, "max_concurrency": 1}})
        return _json({"message": "404: Not Found", "code": 0}, status=404)

    def _interaction_callback(self, recorded: DiscordRequest) -> web.StreamResponse:
        if self.callback_status:
            return _json({"message": "Unknown interaction", "code": 10062},
                                     status=self.callback_status)
        previous = [r for r in self.for_token(recorded.token or "") if r.path.endswith("/callback")]
        if len(previous) > 1:
            return _json({"message": "Interaction has already been acknowledged.",
                                      "code": 40060}, status=400)
        interaction_id = recorded.path.split("/")[2]
        body = recorded.json or {}
        if body.get("type") in (4, 7):
            refused = self._refuse_invalid(recorded, body.get("data"))
            if refused is not None:
                return refused
        message = None
        if body.get("type") in (4, 5, 7):
            message = self.message_from(recorded)
        answer: dict[str, Any] = {
            "interaction": {"id": interaction_id, "type": 2, "activity_instance_id": None,
                            "response_message_id": message["id"] if message else None,
                            "response_message_loading": body.get("type") == 5,
                            "response_message_ephemeral": bool((body.get("data") or {}).get("flags", 0) & 64)},
        }
        if message:
            answer["resource"] = {"type": body.get("type"), "message": message}
        if recorded.query.get("with_response") in ("1", "true", "True"):
            return _json(answer)
        return web.Response(status=204)

    def _webhook(self, recorded: DiscordRequest) -> web.StreamResponse:
        if recorded.token in self.expired_tokens:
            return _json({"message": "Invalid Webhook Token", "code": 50027}, status=401)
        if recorded.method == "DELETE":
            if self.fail_delete_original:
                return _json({"message": "Unknown Message", "code": 10008}, status=404)
            return web.Response(status=204)
        if recorded.method == "POST" and self.followup_status:
            return _json({"message": "Invalid Form Body", "code": 50035}, status=self.followup_status)
        if recorded.method in ("PATCH", "POST"):
            refused = self._refuse_invalid(recorded, recorded.json)
            if refused is not None:
                return refused
        if recorded.method in ("PATCH", "POST", "GET"):
            return _json(self.message_from(recorded))
        return _json({"message": "405: Method Not Allowed", "code": 0}, status=405)

    def _refuse_invalid(self, recorded: DiscordRequest, body: Any) -> web.Response | None:
        """Discord's 400 (code 50035) for a message body it would refuse, recorded in `refused`; else None."""
        problems = message_problems(body, [sent.filename for sent in recorded.files])
        if not problems:
            return None
        answer = invalid_form_body(problems)
        recorded.refusal = answer
        self.refused.append((recorded, answer))
        return _json(answer, status=400)

    # -- the gateway (just enough for a real bot process: hello, identify, ready, heartbeats) -------

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        try:
            await socket.send_json({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
            async for frame in socket:
                message = json.loads(frame.data)
                if message["op"] == 1:
                    await socket.send_json({"op": 11, "d": None, "s": None, "t": None})
                elif message["op"] == 2:
                    self.identify_payload = message["d"]
                    await self._send(socket, "READY", {
                        "v": 10, "user": self.bot_user(), "session_id": "fake-session",
                        "guilds": [{"id": guild["id"], "unavailable": True} for guild in self.guilds],
                        "resume_gateway_url": f"ws://127.0.0.1:{self.port}/gateway-ws",
                        "application": {"id": str(APPLICATION_ID), "flags": 0}, "shard": [0, 1],
                    })
                    for guild in self.guilds:
                        await self._send(socket, "GUILD_CREATE", guild)
                    self.identified.set()
        finally:
            self._sockets.remove(socket)
        return socket

    async def _send(self, socket: web.WebSocketResponse, event: str, data: dict[str, Any]) -> None:
        self._sequence += 1
        await socket.send_json({"op": 0, "t": event, "s": self._sequence, "d": data})

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway event (e.g. INTERACTION_CREATE) to every connected bot."""
        assert self._sockets, "no bot is connected to the gateway"
        for socket in list(self._sockets):
            await self._send(socket, event, data)

    # -- payloads -------------------------------------------------------------------------------

    def bot_user(self) -> dict[str, Any]:
        """The bot's own user object."""
        return {"id": str(BOT_USER_ID), "username": self.bot_name, "discriminator": "0", "global_name": None,
                "avatar": None, "bot": True, "flags": 0, "verified": True, "mfa_enabled": False}

    def application(self) -> dict[str, Any]:
        """The application object `application_info()` reads (PrivateApplicationResponse).

        A team-owned application's `owner` is the team's pseudo-user (id and name of the team), as on
        Discord; who may act for the application is then in `team.members`.
        """
        team_payload = self.application_team
        owner = (
            user_object(int(team_payload["id"]), f"team{team_payload['id']}", flags=TEAM_PSEUDO_USER)
            if team_payload is not None
            else self.application_owner
        )
        return {"id": str(APPLICATION_ID), "name": self.bot_name, "icon": None, "description": "",
                "type": None, "bot_public": True, "bot_require_code_grant": False, "verify_key": "0" * 64,
                "owner": owner, "flags": 0, "flags_new": "0", "team": team_payload, "summary": "",
                "rpc_origins": [], "redirect_uris": [], "interactions_endpoint_url": None,
                "role_connections_verification_url": None, "approximate_guild_count": 1,
                "approximate_user_install_count": 0, "approximate_user_authorization_count": 0,
                "explicit_content_filter": 0, "eligible_oauth2_scopes": [], "bot": self.bot_user()}

    def message_from(self, recorded: DiscordRequest, *, channel_id: int = 1) -> dict[str, Any]:
        """A message object echoing what the bot sent, with uploaded files as attachments."""
        body = recorded.json or {}
        data = body.get("data", body) if isinstance(body, dict) else {}
        if not isinstance(data, dict):
            data = {}
        message_id = str(next(self._ids))
        attachments = []
        for index, sent in enumerate(recorded.files):
            url = self.host_attachment(sent.filename, sent.data, sent.content_type)
            attachments.append({"id": str(next(self._ids)), "filename": sent.filename, "size": len(sent.data),
                                "url": url, "proxy_url": url, "content_type": sent.content_type or None,
                                "index": index})
        recorded.answered = {
            "id": message_id, "channel_id": str(channel_id), "type": 0, "content": data.get("content") or "",
            "author": self.bot_user(), "attachments": attachments, "embeds": data.get("embeds") or [],
            "mentions": [], "mention_roles": [], "mention_everyone": False, "pinned": False, "tts": False,
            "timestamp": "2026-11-24T00:00:00+00:00", "edited_timestamp": None,
            "flags": data.get("flags") or 0, "components": _numbered(data.get("components") or []),
            "webhook_id": str(APPLICATION_ID),
        }
        return recorded.answered

    def last_message(self, token: str) -> dict[str, Any]:
        """The message an interaction's last accepted create or edit left, as Discord would send it on a click."""
        answered = [r.answered for r in self.for_token(token) if r.answered is not None and r.method != "GET"]
        assert answered, "the bot posted no message for this interaction"
        return answered[-1]


def _numbered(components: list[Any]) -> list[Any]:
    """Components as Discord answers them: each with an `id` (numbered in order where the bot gave none)."""
    counter = itertools.count(1)

    def number(item: Any) -> Any:
        if not isinstance(item, dict):
            return item
        copied = {**item, "id": item.get("id") or next(counter)}
        if isinstance(item.get("components"), list):
            copied["components"] = [number(child) for child in item["components"]]
        if isinstance(item.get("accessory"), dict):
            copied["accessory"] = number(item["accessory"])
        return copied

    return [number(item) for item in components]
