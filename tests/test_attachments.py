"""The shared attachment pipeline: what reaches OpenRouter, and every refusal before it.

Refusals are driven through the real tree for both commands that take uploads (`/edit` and
`/describe`), so a rule that holds for one and not the other fails here. The download bounds that
need a server misbehaving in ways the stand-in CDN cannot (no Content-Length, a dropped connection)
are checked on the pipeline itself with `httpx.MockTransport`.
"""

from __future__ import annotations

import base64
import io
import random
import struct
import zlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from PIL import Image

from bot.attachments import AttachmentPipeline, AttachmentUnavailable, ImageSource
from bot.fetcher import GuardedFetcher, StaticResolver
from bot.images import MAX_INPUT_BYTES, ImageTooLarge
from tests.kit.harness import BotHarness

# -- image factories (shared with the other test modules of this feature) ----------------------


def png_bytes(width: int, height: int, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


def encoded(width: int, height: int, fmt: str, color: tuple[int, int, int] = (20, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, fmt)
    return buffer.getvalue()


def noise_png(width: int, height: int, seed: int = 0) -> bytes:
    """A PNG that does not compress, so cutting it loses real pixel data."""
    raw = random.Random(seed).randbytes(width * height * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (width, height), raw).save(buffer, "PNG")
    return buffer.getvalue()


def animated_gif() -> bytes:
    """Two frames: red first, then blue."""
    frames = [Image.new("RGB", (64, 48), (255, 0, 0)), Image.new("RGB", (64, 48), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares `width` x `height`: a decompression bomb's calling card."""
    base = png_bytes(1, 1)
    ihdr = struct.pack(">II", width, height) + base[24:29]
    return base[:16] + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)) + base[33:]


def decode_data_url(url: str) -> tuple[str, Image.Image]:
    header, _, payload = url.partition(",")
    mime = header.removeprefix("data:").removesuffix(";base64")
    return mime, Image.open(io.BytesIO(base64.b64decode(payload)))


def upstream_images(harness: BotHarness) -> list[tuple[str, Image.Image]]:
    (request,) = harness.openrouter.chat_requests()
    return [decode_data_url(url) for url in request.input_image_urls]


# -- what arrives upstream --------------------------------------------------------------------


def _run_command(harness: BotHarness, command: str, attachment: dict[str, Any]) -> dict[str, Any]:
    if command == "edit":
        return harness.payloads.slash("edit", prompt="make it blue", image=attachment)
    return harness.payloads.slash("describe", image=attachment)


@pytest.mark.parametrize("command", ["edit", "describe"])
async def test_a_large_upload_is_scaled_to_2048_on_its_long_side(harness: BotHarness, command: str) -> None:
    attachment = harness.payloads.attachment("wide.png", png_bytes(4000, 1000), "image/png")
    conversation = await harness.run(_run_command(harness, command, attachment))

    assert not conversation.last.ephemeral
    ((mime, image),) = upstream_images(harness)
    assert (mime, image.size) == ("image/png", (2048, 512))


@pytest.mark.parametrize(
    ("filename", "declared", "data", "real_mime"),
    [
        ("photo.png", "image/png", encoded(300, 200, "JPEG"), "image/jpeg"),
        ("picture.jpg", "image/jpeg", encoded(300, 200, "WEBP"), "image/webp"),
        ("noext", None, encoded(300, 200, "PNG"), "image/png"),
        ("still.gif", "image/gif", encoded(300, 200, "GIF"), "image/gif"),
    ],
)
async def test_the_mime_label_is_what_the_bytes_are_not_what_the_name_says(
    harness: BotHarness, filename: str, declared: str | None, data: bytes, real_mime: str
) -> None:
    attachment = harness.payloads.attachment(filename, data, declared)
    await harness.run(harness.payloads.slash("describe", image=attachment))

    ((mime, image),) = upstream_images(harness)
    assert mime == real_mime
    assert image.size == (300, 200)
    assert base64.b64decode(harness.openrouter.chat_requests()[0].input_image_urls[0].split(",")[1]) == data, (
        "a small still image is passed through byte for byte"
    )


@pytest.mark.parametrize("command", ["edit", "describe"])
async def test_an_animated_gif_sends_its_first_frame_as_a_still(harness: BotHarness, command: str) -> None:
    attachment = harness.payloads.attachment("anim.gif", animated_gif(), "image/gif")
    await harness.run(_run_command(harness, command, attachment))

    ((mime, image),) = upstream_images(harness)
    assert mime == "image/png"
    assert not getattr(image, "is_animated", False)
    assert image.convert("RGB").getpixel((10, 10)) == (255, 0, 0), "the first (red) frame, not the blue one"


# -- refusals: private, before the public "thinking" message, nothing upstream ---------------------

REFUSALS = [
    # filename, bytes, declared content type, declared size, words the message must contain
    ("notes.txt", b"Shopping list: eggs, milk, bread.\n" * 20, "text/plain", None, "isn't an image"),
    ("cat.png", b"I am really a text file wearing a .png costume.\n" * 5, "image/png", None, "isn't an image"),
    ("cut.png", noise_png(96, 96)[:9000], "image/png", None, "damaged or incomplete"),
    ("huge.png", png_bytes(8, 8), "image/png", 30 * 1024 * 1024, "at most 25 MiB"),
    ("bomb.png", png_claiming(8000, 6000), "image/png", None, "40 megapixels"),
    ("old.bmp", encoded(20, 20, "BMP"), "image/bmp", None, "BMP format"),
]


@pytest.mark.parametrize("command", ["edit", "describe"])
@pytest.mark.parametrize(("filename", "data", "content_type", "size", "words"), REFUSALS,
                         ids=[case[0] for case in REFUSALS])
async def test_bad_uploads_are_refused_privately_before_anything_is_sent(
    harness: BotHarness, command: str, filename: str, data: bytes, content_type: str, size: int | None,
    words: str,
) -> None:
    attachment = harness.payloads.attachment(filename, data, content_type, size=size)
    conversation = await harness.run(_run_command(harness, command, attachment))

    assert conversation.callback_types == [4], "refused before any public 'thinking' message"
    reply = conversation.last
    assert reply.ephemeral
    assert words in reply.text
    assert filename in reply.text, "the member is told which file"
    assert harness.openrouter.chat_requests() == []


@pytest.mark.parametrize("command", ["edit", "describe"])
async def test_an_attachment_that_cannot_be_downloaded_is_refused(harness: BotHarness, command: str) -> None:
    url = f"http://127.0.0.1:{harness.discord.port}/attachments/0/gone.png"
    attachment = harness.payloads.attachment("gone.png", b"", "image/png", size=1234, url=url)
    conversation = await harness.run(_run_command(harness, command, attachment))

    reply = conversation.last
    assert conversation.callback_types == [4] and reply.ephemeral
    assert reply.embeds[0]["title"] == "Couldn't fetch the image"
    assert "HTTP 404" in reply.text and "gone.png" in reply.text
    assert harness.openrouter.chat_requests() == []


async def test_a_download_larger_than_declared_is_cut_off_at_25_mib(harness: BotHarness) -> None:
    oversized = b"\0" * (MAX_INPUT_BYTES + 1)
    attachment = harness.payloads.attachment("liar.png", oversized, "image/png", size=2048)
    conversation = await harness.run(harness.payloads.slash("describe", image=attachment))

    reply = conversation.last
    assert reply.ephemeral and "at most 25 MiB" in reply.text
    assert harness.openrouter.chat_requests() == []


@pytest.mark.parametrize("command", ["edit", "describe"])
async def test_a_refusal_after_a_slow_download_still_ends_private(harness: BotHarness, command: str) -> None:
    """When loading outlasts the defer budget the bot defers publicly, then replaces it with the refusal.

    The budget is set on the bot's one pipeline, which every command shares.
    """
    assert harness.bot is not None
    harness.bot.attachments.defer_after_s = 0
    attachment = harness.payloads.attachment("notes.txt", b"not an image at all", "text/plain")
    conversation = await harness.run(_run_command(harness, command, attachment))

    assert conversation.callback_types == [5]
    assert conversation.original is not None and conversation.original.deleted
    reply = conversation.last
    assert reply.ephemeral and "isn't an image" in reply.text
    assert harness.openrouter.chat_requests() == []


@pytest.mark.parametrize("command", ["edit", "describe"])
async def test_a_slow_but_good_download_still_delivers_publicly(harness: BotHarness, command: str) -> None:
    assert harness.bot is not None
    harness.bot.attachments.defer_after_s = 0
    attachment = harness.payloads.attachment("ok.png", png_bytes(64, 64), "image/png")
    conversation = await harness.run(_run_command(harness, command, attachment))

    assert conversation.callback_types == [5], "deferred once, by the pipeline; the job did not defer again"
    assert not conversation.last.ephemeral
    assert conversation.last.embeds[0]["title"] == command.capitalize()


async def test_the_bot_owns_the_pipeline_and_closes_it_on_shutdown(harness: BotHarness) -> None:
    assert harness.bot is not None
    pipeline = harness.bot.attachments
    assert not pipeline.closed
    await harness.stop()
    assert pipeline.closed


# -- the download bounds, on the pipeline itself ----------------------------------------------------


#: What the unit tests' names resolve to: a public address (the MockTransport answers; nothing is dialled).
PUBLIC_IP = "93.184.215.14"


def _pipeline(handler: Any, *, trusted_origins: tuple[str, ...] = (), **kwargs: Any) -> AttachmentPipeline:
    fetcher = GuardedFetcher(
        trusted_origins=trusted_origins, transport=httpx.MockTransport(handler),
        resolver=StaticResolver({"images.example.org": [PUBLIC_IP]}),
    )
    return AttachmentPipeline(fetcher, **kwargs)


async def test_a_declared_size_over_the_limit_is_refused_without_a_request() -> None:
    calls: list[httpx.Request] = []
    pipeline = _pipeline(lambda request: calls.append(request) or httpx.Response(200, content=b""))
    source = ImageSource(url="https://cdn.discordapp.com/a/b/big.png", filename="big.png",
                         declared_size=MAX_INPUT_BYTES + 1)
    with pytest.raises(ImageTooLarge, match="25 MiB"):
        await pipeline.load(source)
    assert calls == []
    await pipeline.fetcher.aclose()


async def test_a_stream_without_length_is_cut_off_once_past_the_limit() -> None:
    chunk = b"\0" * (1024 * 1024)
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(64):
            sent += 1
            yield chunk

    pipeline = _pipeline(lambda request: httpx.Response(200, content=endless()))
    assert "content-length" not in httpx.Response(200, content=endless()).headers
    source = ImageSource(url="https://cdn.discordapp.com/a/b/stream.png", filename="stream.png", declared_size=None)
    with pytest.raises(ImageTooLarge, match="larger than 25 MiB"):
        await pipeline.download(source)
    assert sent <= 27, "stopped reading just past 25 MiB, not at the end of the stream"
    await pipeline.fetcher.aclose()


@pytest.mark.parametrize(
    ("error", "words"),
    [(httpx.ConnectError("connection refused"), "connection failed"),
     (httpx.ReadTimeout("read timed out"), "took too long")],
)
async def test_a_failed_or_stalled_connection_is_a_clear_refusal(error: httpx.HTTPError, words: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    pipeline = _pipeline(handler)
    with pytest.raises(AttachmentUnavailable, match=words):
        await pipeline.download(ImageSource(url="https://cdn.discordapp.com/x.png", filename="x.png"))
    await pipeline.fetcher.aclose()


@pytest.mark.parametrize(
    "url",
    ["http://10.0.0.7/inside.png", "http://169.254.169.254/latest/meta-data", "http://localhost:8080/a.png",
     "http://[::1]/a.png", "file:///etc/passwd", "ftp://example.com/a.png"],
)
async def test_embed_urls_may_not_point_into_the_bots_network(url: str) -> None:
    calls: list[httpx.Request] = []
    pipeline = _pipeline(lambda request: calls.append(request) or httpx.Response(200, content=b""))
    source = ImageSource(url=url, filename="a.png", from_discord=False)
    with pytest.raises(AttachmentUnavailable, match="Upload the image as an attachment"):
        await pipeline.download(source)
    assert calls == []
    await pipeline.fetcher.aclose()


async def test_public_and_trusted_embed_hosts_are_fetched() -> None:
    png = png_bytes(4, 4)
    seen: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.host, request.headers["host"]))
        return httpx.Response(200, content=png)

    pipeline = _pipeline(handler, trusted_origins=("http://127.0.0.1:9",))
    for url in ("https://images.example.org/a.png", "http://127.0.0.1:9/b.png",
                "https://media.discordapp.net/external/abc/c.png"):
        assert await pipeline.download(ImageSource(url=url, filename="x.png", from_discord=False)) == png
    assert seen == [
        (PUBLIC_IP, "images.example.org"),  # the checked address, asked for by name
        ("127.0.0.1", "127.0.0.1:9"),
        ("media.discordapp.net", "media.discordapp.net"),
    ]
    await pipeline.fetcher.aclose()


async def test_trust_is_by_origin_so_another_port_of_a_trusted_host_is_refused() -> None:
    calls: list[httpx.Request] = []
    pipeline = _pipeline(lambda request: calls.append(request) or httpx.Response(200, content=b""),
                         trusted_origins=("http://127.0.0.1:9",))
    for url in ("http://127.0.0.1:10/b.png", "https://127.0.0.1:9/b.png", "http://cdn.discordapp.com/c.png"):
        with pytest.raises(AttachmentUnavailable, match="private network|could not be found"):
            await pipeline.download(ImageSource(url=url, filename="x.png", from_discord=False))
    assert calls == []
    await pipeline.fetcher.aclose()


async def test_an_attachment_url_off_discords_origins_gets_the_same_check() -> None:
    """`from_discord` only changes the wording: a stored or forged attachment URL is checked like an embed's."""
    calls: list[httpx.Request] = []
    pipeline = _pipeline(lambda request: calls.append(request) or httpx.Response(200, content=b""))
    source = ImageSource(url="http://10.0.0.7/attachments/1/2/a.png", filename="a.png", from_discord=True)
    with pytest.raises(AttachmentUnavailable) as refused:
        await pipeline.download(source)
    assert calls == []
    assert "it points into a private network" in str(refused.value)
    assert "Upload the image as an attachment instead" in str(refused.value)
    await pipeline.fetcher.aclose()


async def test_decoding_runs_on_the_image_pool_not_the_default_executor(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    import bot.attachments as attachments_module

    threads: list[str] = []
    real = attachments_module.prepare_for_upstream

    def spy(data: bytes, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real(data, **kwargs)

    monkeypatch.setattr(attachments_module, "prepare_for_upstream", spy)
    png = png_bytes(6, 6)
    pipeline = _pipeline(lambda request: httpx.Response(200, content=png))
    loaded = await pipeline.load(ImageSource(url="https://cdn.discordapp.com/a/b/c.png", filename="c.png"))
    assert loaded.prepared.data == png
    assert len(threads) == 1 and threads[0].startswith("image-work"), threads
    await pipeline.fetcher.aclose()


# -- padded uploads (issue item 6) --------------------------------------------------------------------


@pytest.mark.parametrize("command", ["edit", "describe"])
async def test_a_padded_upload_is_re_encoded_not_forwarded(harness: BotHarness, command: str) -> None:
    """A 1024x1024 PNG with 24 MiB appended: what reaches OpenRouter is the picture, not the padding."""
    picture = png_bytes(1024, 1024)
    attachment = harness.payloads.attachment("padded.png", picture + b"\0" * (24 * 1024 * 1024), "image/png")
    conversation = await harness.run(_run_command(harness, command, attachment))

    assert not conversation.last.ephemeral, conversation.last.text
    (request,) = harness.openrouter.chat_requests()
    (url,) = request.input_image_urls
    sent = base64.b64decode(url.split(",", 1)[1])
    assert len(sent) < len(picture) + 1024, "the padding was dropped"
    mime, image = decode_data_url(url)
    assert (mime, image.size) == ("image/png", (1024, 1024)), "a drawing stays PNG, at its size"
    assert len(request.body) < 1024 * 1024
