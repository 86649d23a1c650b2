"""Validate, normalise and shrink images on their way to and from the image models.

Members upload arbitrary files and the models return arbitrary images, and both directions have hard
limits: the upstream API only takes a few formats and chokes on huge or animated inputs, and Discord refuses
attachments over the server's upload limit. Doing this with Pillow (decoding the bytes, never trusting a
filename or a Content-Type) turns every failure into an `ImageRejected` whose message tells the member what to
do, instead of an opaque upstream error.

Everything here is synchronous and pure (bytes in, bytes out) because decoding is CPU-bound: callers run these
functions on the bot's image thread pool (`bot.workers.run_cpu`) so the event loop keeps serving Discord while
Pillow works.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import re
import struct
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from PIL import ExifTags, Image, ImageOps

from bot.messages import images as texts
from bot.messages import ui

__all__ = [
    "MAX_INPUT_BYTES",
    "MAX_PIXELS",
    "MAX_UPLOAD_SIDE",
    "SUPPORTED_MIME",
    "DamagedImage",
    "FittedImage",
    "ImageRejected",
    "ImageTooLarge",
    "NotAnImage",
    "PreparedImage",
    "TooManyPixels",
    "UnsupportedImageFormat",
    "aspect_label",
    "decode_data_url",
    "fit_to_size",
    "image_size",
    "inspect_image",
    "prepare_for_upstream",
    "sniff_mime",
]

SUPPORTED_MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
"""Pillow format name -> MIME type for the formats both the models and Discord handle."""

MAX_INPUT_BYTES = 25 * 1024 * 1024
"""Largest upload we even try to decode; Discord's own attachment cap for most servers."""

MAX_PIXELS = 40_000_000
"""Decompression-bomb guard: a small file can declare a huge canvas that would need gigabytes to decode."""

MAX_UPLOAD_SIDE = 2048
"""Long side we scale inputs down to; models downscale anyway, so larger only costs bandwidth and latency."""

_MIB = 1024 * 1024
_MIN_FIT_SIDE = 256
_WEBP_MAX_SIDE = 16383
_JPEG_UPSTREAM_QUALITY = 90
_FIT_WEBP_QUALITIES = (90, 80, 70, 60)
_FIT_JPEG_QUALITIES = (85, 75, 65)
_FIT_DOWNSCALE_QUALITY = 80
_FIT_DOWNSCALE_STEP = 0.75
# What maximum PNG re-compression typically gains over a fast encoder; needing more, its seconds are wasted.
_LOSSLESS_MAX_SAVING = 0.25
# A PNG file larger than this share of its raw pixel bytes holds a photograph or a rendered picture: PNG cannot
# compress its grain, so a lossless re-encode keeps nothing a model can see, yet takes ~25x longer than JPEG q90
# (270 ms against 10 ms for a 2048x1152 picture on the benchmark machine) and sends ~5x the bytes upstream.
# Screenshots, drawings and text compress to a small fraction and stay PNG.
_PHOTO_PNG_RATIO = 0.35
# Padding: how many file bytes per raw pixel byte a real image can need at most. The worst cases are pure noise:
# JPEG at quality 100 takes ~1.6 bytes per 8-bit sample (greyscale; ~1.4 for colour), GIF's LZW ~1.4 per pixel,
# PNG and WebP ~1.0 (PNG's raw size is counted at its real bit depth, so 16-bit PNGs are not padded at 1.0).
_PADDED_RATIO = 2.0
# Headers, palettes, an ICC profile, EXIF with its thumbnail: what any image may carry besides its pixels.
_PADDED_SLACK = 64 * 1024
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # IHDR colour type -> samples per pixel

# Phone cameras write multi-picture JPEGs that Pillow reports as MPO; to everyone else they are plain JPEGs.
_FORMAT_ALIASES = {"MPO": "JPEG"}
_FORMAT_NAMES = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP", "GIF": "GIF"}
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}
_ANIMATABLE = frozenset({"PNG", "WEBP", "GIF"})
_ROTATING_ORIENTATIONS = frozenset({5, 6, 7, 8})
_MARKDOWN_SPECIALS = re.compile(r"([\\*_~`|>\[\]])")
_DATA_URL_MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


class ImageRejected(Exception):
    """An image we refuse to process; `str(exc)` is safe to show the member as is.

    Callers branch on `reason` (a short, stable machine key) for logging and metrics, and show the message,
    which always says what the member can do about it (its words are in `bot.messages.images`).
    """

    reason: str = "rejected"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        """Store the member-facing message, optionally overriding the class's `reason` key."""
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class NotAnImage(ImageRejected):
    """The bytes are not an image Pillow can identify (a text file, a PDF, a zip, nothing at all)."""

    reason = "not_an_image"


class UnsupportedImageFormat(ImageRejected):
    """A real image in a format the models or Discord cannot take (BMP, TIFF, ICO, ...)."""

    reason = "unsupported_format"


class DamagedImage(ImageRejected):
    """The header looks right but the pixels do not decode, usually a truncated upload or a broken export."""

    reason = "damaged"


class ImageTooLarge(ImageRejected):
    """The file is over `MAX_INPUT_BYTES`, so we refuse it before spending any time decoding it."""

    reason = "too_large"


class TooManyPixels(ImageRejected):
    """The canvas is over `MAX_PIXELS`: decoding it could exhaust memory, whatever the file size."""

    reason = "too_many_pixels"


@dataclass(frozen=True)
class PreparedImage:
    """An input image made ready for the upstream API, plus what happened to it, so callers can say so.

    `width`/`height` describe `data`; `original_width`/`original_height` describe the upload as displayed
    (EXIF orientation applied), so "scaled from 4000x3000" reads the way the member sees their photo.
    """

    data: bytes = field(repr=False)
    mime: str
    width: int
    height: int
    original_width: int
    original_height: int
    scaled: bool

    def data_url(self) -> str:
        """Return the image as a base64 data URL, the form OpenRouter accepts for inline image inputs."""
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"


@dataclass(frozen=True)
class FittedImage:
    """A result image that fits an upload limit, with what was done to it.

    `filename_ext` has no leading dot (`"webp"`) so callers can build `f"result.{ext}"`. `note` is empty when
    the bytes are untouched, else a short member-facing phrase such as
    "re-encoded as WebP q80 to fit Discord's 10 MiB limit".
    """

    data: bytes = field(repr=False)
    mime: str
    filename_ext: str
    width: int
    height: int
    reencoded: bool
    note: str


@dataclass
class _Opened:
    """An identified, format- and size-checked image whose pixels have not necessarily been decoded yet."""

    image: Image.Image
    format: str
    mime: str
    width: int
    height: int
    animated: bool


def inspect_image(data: bytes, *, name: str = "image") -> tuple[str, int, int]:
    """Fully validate an image and return `(mime, width, height)`, so bad uploads fail before any API call.

    The MIME type comes from decoding the bytes, never from `name`, which only appears in error messages.
    Dimensions are as displayed (EXIF orientation applied).

    Raises:
        ImageRejected: One of its subclasses, with a message for the member.
    """
    opened = _open_checked(data, name)
    frame = _decode_first_frame(opened, name)
    width, height = _oriented(opened.width, opened.height, _orientation(frame))
    return opened.mime, width, height


def prepare_for_upstream(
    data: bytes, *, name: str = "image", max_side: int = MAX_UPLOAD_SIDE
) -> PreparedImage:
    """Validate an upload and turn it into a still image the models accept, touching it only when needed.

    A still image that is small enough, upright and not padded is passed through byte for byte, which keeps
    the member's exact pixels and costs nothing. Otherwise the first frame is EXIF-rotated, scaled so its long
    side is at most `max_side` (LANCZOS, aspect ratio kept) and re-encoded: PNG when it has transparency, came
    from a GIF, was animated (models take stills only), or came from a PNG that compresses well (screenshots,
    drawings, text, whose edges JPEG would smear); JPEG quality 90 otherwise, photographic PNGs included (see
    `_PHOTO_PNG_RATIO`).

    *Padded* means the file is far larger than its pixels can need, which a passed-through file would carry
    upstream at the member's (and every retry's) expense, 24 MiB of junk behind a 1024x1024 PNG being base64-
    encoded, sent and billed as input. The rule, from the bytes alone (see `_is_padded`): the file is over
    `_PADDED_RATIO` (2) times the raw size of its pixels plus 64 KiB (no real encoding of even pure noise
    needs that much: JPEG q100 noise takes ~1.6x), or it is a PNG with data after its IEND chunk (nothing
    may follow it; a re-encoded PNG keeps every pixel). Re-encoding drops the padding and keeps the size.

    Raises:
        ImageRejected: One of its subclasses, with a message for the member.
        ValueError: `max_side` is not positive.
    """
    if max_side < 1:
        raise ValueError(f"max_side must be positive, got {max_side}")
    opened = _open_checked(data, name)
    draft_target = None
    if opened.format == "JPEG" and not opened.animated and max(opened.width, opened.height) > max_side:
        # Let libjpeg decode at a reduced scale (it still reads the whole stream, so truncation is still
        # caught): a 12 MP phone photo then decodes at a quarter of the pixels before the LANCZOS pass.
        scale = max_side / max(opened.width, opened.height)
        draft_target = (math.ceil(opened.width * scale), math.ceil(opened.height * scale))
    frame = _decode_first_frame(opened, name, draft_target=draft_target)
    orientation = _orientation(frame)
    # From the header, not the frame: a JPEG draft has already shrunk the decoded frame.
    original_width, original_height = _oriented(opened.width, opened.height, orientation)
    too_big = max(original_width, original_height) > max_side
    png_layout = _png_layout(data) if opened.format == "PNG" else None
    padded = _is_padded(data, opened, png_layout)
    if not opened.animated and not too_big and orientation == 1 and not padded:
        return PreparedImage(
            data=data,
            mime=opened.mime,
            width=original_width,
            height=original_height,
            original_width=original_width,
            original_height=original_height,
            scaled=False,
        )

    icc_profile = frame.info.get("icc_profile")
    frame = _normalise_mode(_transpose(frame))
    if too_big:
        frame = frame.resize(
            _scaled_size(original_width, original_height, max_side / max(original_width, original_height)),
            Image.Resampling.LANCZOS,
            reducing_gap=3.0,
        )
    pixel_bytes = png_layout.pixel_bytes if png_layout is not None else len(data)
    keep_png = opened.format == "GIF" or (opened.format == "PNG" and not _photographic_png(pixel_bytes, opened))
    if opened.animated or frame.mode == "RGBA" or keep_png:
        out, mime = _encode(frame, "PNG", icc_profile=icc_profile), "image/png"
    else:
        out = _encode(frame, "JPEG", quality=_JPEG_UPSTREAM_QUALITY, icc_profile=icc_profile)
        mime = "image/jpeg"
    return PreparedImage(
        data=out,
        mime=mime,
        width=frame.width,
        height=frame.height,
        original_width=original_width,
        original_height=original_height,
        scaled=too_big,
    )


def decode_data_url(url: str) -> tuple[bytes, str]:
    """Parse a base64 `data:` URL (how the models return images) into `(bytes, mime)`.

    Strict on purpose: a malformed URL means a broken upstream response, and failing loudly beats posting
    garbage.

    Raises:
        ValueError: The URL is not `data:<type>/<subtype>[;params];base64,<payload>`, or the payload is not
            valid base64 or is empty.
    """
    # A 4 MiB image is a 5.6 MB string: slice it once (`strip` returns the same string when there is nothing to
    # strip) and let binascii read the ASCII string as it is, instead of partitioning, stripping and re-encoding
    # it, each of which copies all of it.
    url = url.strip()
    if not url[:5].lower() == "data:":
        raise ValueError("not a data: URL")
    comma = url.find(",", 5)
    if comma < 0:
        raise ValueError("data: URL has no ',' separating header and payload")
    params = [part.strip() for part in url[5:comma].split(";")]
    if len(params) < 2 or params[-1].lower() != "base64":
        raise ValueError("data: URL is not base64-encoded")
    mime = params[0].lower()
    if not _DATA_URL_MIME.match(mime):
        raise ValueError(f"data: URL has an invalid media type {params[0]!r}")
    try:
        raw = binascii.a2b_base64(url[comma + 1 :].strip(), strict_mode=True)  # = b64decode(validate=True)
    except binascii.Error as exc:
        raise ValueError(f"data: URL payload is not valid base64: {exc}") from exc
    if not raw:
        raise ValueError("data: URL payload is empty")
    return raw, mime


def sniff_mime(data: bytes) -> str | None:
    """Guess the MIME type from magic numbers alone, for cheap routing before paying for a decode.

    Only recognises the supported formats; it proves nothing about the rest of the file, so anything that
    matters still goes through `inspect_image` or `prepare_for_upstream`.
    """
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def image_size(data: bytes) -> tuple[int, int]:
    """Return `(width, height)` from the header alone, without decoding pixels, e.g. to label an aspect.

    EXIF orientation is applied when the header carries it, so a rotated phone photo reports its displayed
    size.

    Raises:
        NotAnImage: Pillow cannot identify the bytes.
        DamagedImage: The header is recognisable but broken.
        TooManyPixels: Pillow's own decompression-bomb check fired.
    """
    image = _open(data, "image")
    return _displayed_size(image, header_only=True)


def fit_to_size(data: bytes, limit_bytes: int) -> FittedImage:
    """Make a result image fit an upload limit (Discord's), losing as little as possible.

    Untouched if it already fits. Otherwise, cheapest loss first: lossless PNG re-compression (PNG sources
    only, and only when within 25% of the limit: it is slow and rarely saves more), WebP at quality
    90/80/70/60, JPEG at 85/75/65 (skipped for transparent images, which JPEG would flatten), then WebP q80 at
    0.75x, 0.56x, ... of the size down to a 256 px long side. Only the first frame of an animation survives
    re-encoding.

    Raises:
        ImageRejected: `reason == "cannot_fit"` when even the 256 px version is over the limit, or one of its
            subclasses when the bytes are not a usable image.
        ValueError: `limit_bytes` is not positive.
    """
    if limit_bytes < 1:
        raise ValueError(f"limit_bytes must be positive, got {limit_bytes}")
    name = "result"
    opened = _open_checked(data, name, check_bytes=False)
    if len(data) <= limit_bytes:
        width, height = _displayed_size(opened.image, header_only=True)
        return FittedImage(data, opened.mime, _EXTENSIONS[opened.mime], width, height, False, "")

    frame = _decode_first_frame(opened, name)
    icc_profile = frame.info.get("icc_profile")
    frame = _normalise_mode(_transpose(frame))
    has_alpha = frame.mode == "RGBA"
    limit_text = _format_size(limit_bytes)
    note_text = ui.FIT_FIRST_FRAME_NOTE if opened.animated else ui.FIT_NOTE

    def fitted(out: bytes, mime: str, image: Image.Image, how: str) -> FittedImage:
        note = note_text.format(how=how, limit=limit_text)
        return FittedImage(out, mime, _EXTENSIONS[mime], image.width, image.height, True, note)

    if opened.format == "PNG" and len(data) * (1 - _LOSSLESS_MAX_SAVING) <= limit_bytes:
        out = _encode(frame, "PNG", optimize=True, icc_profile=icc_profile)
        if len(out) <= limit_bytes:
            return fitted(out, "image/png", frame, ui.FIT_LOSSLESS.text)
    for quality in _FIT_WEBP_QUALITIES:
        webp = _encode_webp(frame, quality, icc_profile)
        if webp is not None and len(webp) <= limit_bytes:
            return fitted(webp, "image/webp", frame, ui.FIT_WEBP.format(quality=quality))
    if not has_alpha:
        for quality in _FIT_JPEG_QUALITIES:
            out = _encode(frame, "JPEG", quality=quality, optimize=True, icc_profile=icc_profile)
            if len(out) <= limit_bytes:
                return fitted(out, "image/jpeg", frame, ui.FIT_JPEG.format(quality=quality))

    long_side = max(frame.size)
    current = long_side
    smaller = frame
    while current > _MIN_FIT_SIDE:
        current = max(_MIN_FIT_SIDE, int(current * _FIT_DOWNSCALE_STEP))
        size = _scaled_size(frame.width, frame.height, current / long_side)
        smaller = frame.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        webp = _encode_webp(smaller, _FIT_DOWNSCALE_QUALITY, icc_profile)
        if webp is not None and len(webp) <= limit_bytes:
            how = ui.FIT_SCALED.format(width=smaller.width, height=smaller.height, quality=_FIT_DOWNSCALE_QUALITY)
            return fitted(webp, "image/webp", smaller, how)
    raise ImageRejected(
        texts.CANNOT_FIT.format(width=smaller.width, height=smaller.height, limit=limit_text), reason="cannot_fit"
    )


def aspect_label(width: int, height: int) -> str:
    """Classify a shape as "landscape", "portrait" or "square", with 10% slack so near-squares are square.

    Raises:
        ValueError: A side is not positive.
    """
    if width < 1 or height < 1:
        raise ValueError(f"image sides must be positive, got {width}x{height}")
    ratio = width / height
    if ratio > 1.1:
        return "landscape"
    if ratio < 0.9:
        return "portrait"
    return "square"


# --- internals ---


@contextmanager
def _bomb_guard(label: str, width: int | None = None, height: int | None = None) -> Iterator[None]:
    """Turn Pillow's decompression-bomb warning and error into `TooManyPixels` for the enclosed Pillow call.

    Our own `MAX_PIXELS` check normally fires first; this is the backstop for whatever Pillow finds on its
    own (e.g. a frame bigger than the header said). Note that `catch_warnings` swaps process-wide filters, so
    a thread running concurrently may briefly see Pillow's warning as a plain warning; the explicit check is
    what we rely on.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _too_many_pixels(label, width, height) from exc


def _open(data: bytes, name: str) -> Image.Image:
    """Identify the bytes with Pillow (header only, lazy), mapping every failure to an `ImageRejected`."""
    label = _label(name)
    try:
        with _bomb_guard(label):
            return Image.open(io.BytesIO(data))
    except ImageRejected:
        raise
    except Exception as exc:  # Pillow raises a zoo of types on hostile input; all mean "can't read it".
        sniffed = sniff_mime(data)
        if sniffed is None:
            raise NotAnImage(_not_an_image_message(label)) from exc
        # A supported signature that Pillow still refuses is a damaged file, not a random one.
        fmt = next(key for key, value in SUPPORTED_MIME.items() if value == sniffed)
        raise DamagedImage(_damaged_message(label, fmt)) from exc


def _open_checked(data: bytes, name: str, *, check_bytes: bool = True) -> _Opened:
    """Open and run every check that needs only the header: byte size, real format, pixel count, animation."""
    label = _label(name)
    if check_bytes and len(data) > MAX_INPUT_BYTES:
        raise ImageTooLarge(texts.TOO_LARGE.format(
            label=label, size=_format_size(len(data), round_up=True), limit=_format_size(MAX_INPUT_BYTES)
        ))
    if not data:
        raise NotAnImage(_not_an_image_message(label))
    image = _open(data, name)
    found = image.format or "unknown"
    fmt = _FORMAT_ALIASES.get(found, found)
    if fmt not in SUPPORTED_MIME:
        raise UnsupportedImageFormat(texts.UNSUPPORTED_FORMAT.format(label=label, format=found))
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise _too_many_pixels(label, width, height)
    try:
        with _bomb_guard(label, width, height):
            animated = fmt in _ANIMATABLE and bool(getattr(image, "is_animated", False))
            if animated:
                image.seek(0)
    except ImageRejected:
        raise
    except Exception as exc:  # Walking the frames parses every frame header; broken ones land here.
        raise DamagedImage(_damaged_message(label, fmt)) from exc
    return _Opened(image, fmt, SUPPORTED_MIME[fmt], width, height, animated)


def _photographic_png(pixel_bytes: int, opened: _Opened) -> bool:
    """Whether an opaque RGB or greyscale PNG compresses so little that it must be a photographic picture.

    `pixel_bytes` is the size of its compressed pixel data (the IDAT chunks), so padding or a large metadata
    chunk does not make a screenshot look like a photograph.
    """
    bands = {"RGB": 3, "L": 1}.get(opened.image.mode)
    return bands is not None and pixel_bytes > _PHOTO_PNG_RATIO * opened.width * opened.height * bands


@dataclass(frozen=True)
class _PngLayout:
    """What walking a PNG's chunks tells: its raw pixel size, its compressed pixel bytes, where IEND ends."""

    raw_bytes: int
    pixel_bytes: int
    end: int


def _png_layout(data: bytes) -> _PngLayout | None:
    """Walk a PNG's chunk headers (no decompression): None when the structure is broken (decoding judges that).

    The raw size is what the pixels take uncompressed at the file's own bit depth, one filter byte per row
    included; interlacing adds a little, which `_PADDED_RATIO` covers.
    """
    if not data.startswith(_PNG_SIGNATURE) or len(data) < 33 or data[12:16] != b"IHDR":
        return None
    width, height, depth, colour = struct.unpack_from(">IIBB", data, 16)
    channels = _PNG_CHANNELS.get(colour)
    if channels is None or depth not in (1, 2, 4, 8, 16):
        return None
    raw_bytes = height * (1 + math.ceil(width * channels * depth / 8))
    offset, pixel_bytes = len(_PNG_SIGNATURE), 0
    while offset + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        kind = data[offset + 4 : offset + 8]
        offset += 12 + length
        if kind == b"IDAT":
            pixel_bytes += length
        elif kind == b"IEND":
            return _PngLayout(raw_bytes, pixel_bytes, offset) if offset <= len(data) else None
    return None


def _is_padded(data: bytes, opened: _Opened, png_layout: _PngLayout | None) -> bool:
    """Whether the file is far larger than its pixels need (see `prepare_for_upstream`)."""
    if png_layout is not None:
        if png_layout.end < len(data):
            return True
        raw_bytes = png_layout.raw_bytes
    else:
        raw_bytes = opened.width * opened.height * len(opened.image.getbands())
    return len(data) > _PADDED_RATIO * raw_bytes + _PADDED_SLACK


def _decode_first_frame(
    opened: _Opened, name: str, *, draft_target: tuple[int, int] | None = None
) -> Image.Image:
    """Decode the first frame's pixels, which is what exposes truncated or corrupt data."""
    label = _label(name)
    image = opened.image
    try:
        with _bomb_guard(label, opened.width, opened.height):
            if draft_target is not None:
                image.draft(None, draft_target)
            image.load()
    except ImageRejected:
        raise
    except Exception as exc:  # Truncation is an OSError, corrupt streams are anything from SyntaxError on.
        raise DamagedImage(_damaged_message(label, opened.format)) from exc
    return image


def _orientation(image: Image.Image, *, header_only: bool = False) -> int:
    """Return the EXIF orientation (1 = upright) without ever failing on junk EXIF.

    With `header_only`, only EXIF already parsed from the header is consulted: for PNG, `getexif()` would
    otherwise decode the whole image to look for a trailing eXIf chunk.
    """
    if header_only and "exif" not in image.info:
        return 1
    try:
        value = image.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # Malformed EXIF is common in the wild and must not cost the member their upload.
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _displayed_size(image: Image.Image, *, header_only: bool = False) -> tuple[int, int]:
    """Return the size as a viewer shows it, from the image's own size and EXIF orientation."""
    return _oriented(image.width, image.height, _orientation(image, header_only=header_only))


def _oriented(width: int, height: int, orientation: int) -> tuple[int, int]:
    """Swap width and height for the 90-degree EXIF orientations, which viewers display rotated."""
    if orientation in _ROTATING_ORIENTATIONS:
        return height, width
    return width, height


def _transpose(image: Image.Image) -> Image.Image:
    """Apply EXIF orientation to the pixels, since re-encoding drops the tag that told viewers to rotate."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # Same junk-EXIF tolerance as `_orientation`: keep the pixels as stored.
        return image


def _normalise_mode(image: Image.Image) -> Image.Image:
    """Convert to RGB, RGBA or L, the modes LANCZOS resampling and every encoder here handle."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L"):
        # 16-bit greyscale PNG: a plain convert() clips everything above 255 to white, so rescale first.
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.has_transparency_data:
        return image if image.mode == "RGBA" else image.convert("RGBA")
    if image.mode in ("RGB", "L"):
        return image
    return image.convert("RGB")


def _scaled_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """Scale both sides by the same factor, never below one pixel."""
    return max(1, round(width * scale)), max(1, round(height * scale))


def _encode(image: Image.Image, fmt: str, *, icc_profile: bytes | None = None, **options: object) -> bytes:
    """Encode to bytes, keeping the colour profile so wide-gamut photos do not shift colour."""
    if icc_profile:
        options["icc_profile"] = icc_profile
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _encode_webp(image: Image.Image, quality: int, icc_profile: bytes | None) -> bytes | None:
    """Encode lossy WebP, or return None when the image is too big for WebP (16383 px) or encoding fails."""
    if max(image.size) > _WEBP_MAX_SIDE:
        return None
    try:
        return _encode(image, "WEBP", quality=quality, icc_profile=icc_profile)
    except (OSError, ValueError):
        return None


def _format_size(size: int, *, round_up: bool = False) -> str:
    """Format a byte count for members: "25 MiB", "30.5 MiB", "488 KiB".

    `round_up` keeps a file just over a limit from being shown as exactly the limit.
    """
    if size >= _MIB:
        value = size / _MIB
        if round_up:
            value = math.ceil(value * 10) / 10
        text = f"{value:.1f}".removesuffix(".0")
        return f"{text} MiB"
    if size >= 1024:
        kib = math.ceil(size / 1024) if round_up else round(size / 1024)
        return f"{kib} KiB"
    return f"{size} bytes"


def _label(name: str) -> str:
    """Quote a member-supplied filename for a Discord message: one line, bounded, markdown escaped."""
    shown = " ".join(name.split()) or "image"
    if len(shown) > 80:
        shown = shown[:79] + "\u2026"
    escaped = _MARKDOWN_SPECIALS.sub(r"\\\1", shown)
    return f"\u201c{escaped}\u201d"


def _not_an_image_message(label: str) -> str:
    """Build the message for bytes that are not an image at all."""
    return texts.NOT_AN_IMAGE.format(label=label)


def _damaged_message(label: str, fmt: str) -> str:
    """Build the message for an image whose data is truncated or corrupt."""
    return texts.DAMAGED.format(label=label, format=_FORMAT_NAMES.get(fmt, fmt))


def _too_many_pixels(label: str, width: int | None, height: int | None) -> TooManyPixels:
    """Build the pixel-count rejection, naming the dimensions when we know them."""
    limit = texts.PIXEL_LIMIT.format(megapixels=MAX_PIXELS / 1_000_000)
    if width is None or height is None:
        return TooManyPixels(texts.TOO_MANY_PIXELS.format(label=label, limit=limit))
    megapixels = width * height / 1_000_000
    return TooManyPixels(
        texts.TOO_MANY_PIXELS_SIZED.format(label=label, width=width, height=height, megapixels=megapixels, limit=limit)
    )
