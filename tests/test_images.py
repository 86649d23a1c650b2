"""Tests for bot.images: every fixture is generated in memory with Pillow."""

from __future__ import annotations

import base64
import io
import random
import struct
import zlib

import pytest
from PIL import Image

from bot import images
from bot.images import (
    MAX_INPUT_BYTES,
    DamagedImage,
    FittedImage,
    ImageRejected,
    ImageTooLarge,
    NotAnImage,
    PreparedImage,
    TooManyPixels,
    UnsupportedImageFormat,
    aspect_label,
    decode_data_url,
    fit_to_size,
    image_size,
    inspect_image,
    prepare_for_upstream,
    sniff_mime,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def still(fmt: str, size: tuple[int, int] = (32, 24), color: tuple[int, ...] = RED) -> bytes:
    return encode(Image.new("RGB", size, color), fmt)


def animated(fmt: str) -> bytes:
    frames = [Image.new("RGB", (32, 32), color) for color in (RED, GREEN, BLUE)]
    options: dict[str, object] = {"save_all": True, "append_images": frames[1:], "duration": 100, "loop": 0}
    if fmt == "WEBP":
        options["lossless"] = True
    return encode(frames[0], fmt, **options)


def noisy(side: int, cells: int, mode: str = "RGB", seed: int = 1) -> Image.Image:
    """Random cells blown up to `side`: photo-like entropy that WebP still compresses, and fast to make."""
    rng = random.Random(seed)
    small = Image.frombytes(mode, (cells, cells), rng.randbytes(cells * cells * len(mode)))
    return small if cells == side else small.resize((side, side), Image.Resampling.BICUBIC)


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def crafted_png_header(width: int, height: int) -> bytes:
    """A PNG that declares a huge canvas but whose pixel data is garbage: decoding it would fail loudly."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", b"definitely not zlib")
        + png_chunk(b"IEND", b"")
    )


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# --- accepting and labelling ---


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp"), ("GIF", "image/gif")],
)
def test_each_supported_format_is_labelled_by_its_real_type(fmt: str, mime: str) -> None:
    data = still(fmt)
    # The name lies on purpose: only the bytes decide.
    assert inspect_image(data, name="holiday.bmp") == (mime, 32, 24)
    assert sniff_mime(data) == mime

    prepared = prepare_for_upstream(data, name="holiday.bmp")
    assert prepared.mime == mime
    assert prepared.data is data
    assert (prepared.width, prepared.height, prepared.scaled) == (32, 24, False)


def test_png_disguised_as_jpg_is_a_png() -> None:
    data = still("PNG")
    assert inspect_image(data, name="photo.jpg")[0] == "image/png"
    assert prepare_for_upstream(data, name="photo.jpg").mime == "image/png"


def test_multi_picture_jpeg_counts_as_jpeg() -> None:
    first, second = Image.new("RGB", (32, 24), RED), Image.new("RGB", (32, 24), BLUE)
    data = encode(first, "MPO", save_all=True, append_images=[second])
    assert opened(data).format == "MPO"
    assert inspect_image(data) == ("image/jpeg", 32, 24)
    prepared = prepare_for_upstream(data)
    assert prepared.data is data
    assert prepared.mime == "image/jpeg"


def test_pass_through_returns_identical_bytes_and_a_matching_data_url() -> None:
    data = still("PNG", size=(2048, 10))  # exactly at the limit is not "too big"
    prepared = prepare_for_upstream(data)
    assert prepared.data is data
    assert not prepared.scaled
    assert (prepared.original_width, prepared.original_height) == (2048, 10)
    assert prepared.data_url() == "data:image/png;base64," + base64.b64encode(data).decode()
    assert decode_data_url(prepared.data_url()) == (data, "image/png")
    assert "data=" not in repr(prepared)  # never dump megabytes into logs


# --- refusing ---


def test_text_file_is_not_an_image() -> None:
    with pytest.raises(NotAnImage) as info:
        prepare_for_upstream(b"hello, this is a shopping list\n", name="notes.png")
    assert info.value.reason == "not_an_image"
    assert isinstance(info.value, ImageRejected)
    message = str(info.value)
    assert "notes.png" in message
    assert "PNG, JPEG, WebP or GIF" in message


def test_empty_bytes_are_not_an_image() -> None:
    with pytest.raises(NotAnImage):
        inspect_image(b"")


def test_member_supplied_name_is_escaped_and_bounded() -> None:
    with pytest.raises(NotAnImage) as info:
        inspect_image(b"nope", name="**bold**\n" + "x" * 200)
    message = str(info.value)
    assert "\\*\\*bold\\*\\*" in message
    assert "\n" not in message
    assert len(message) < 200


@pytest.mark.parametrize("fmt", ["BMP", "TIFF"])
def test_other_image_formats_are_unsupported_and_named(fmt: str) -> None:
    data = still(fmt)
    with pytest.raises(UnsupportedImageFormat) as info:
        prepare_for_upstream(data, name="scan.png")
    assert info.value.reason == "unsupported_format"
    assert fmt in str(info.value)
    assert "scan.png" in str(info.value)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_images_are_damaged(fmt: str) -> None:
    data = encode(noisy(64, 64), fmt)
    truncated = data[: len(data) * 2 // 3]
    with pytest.raises(DamagedImage) as info:
        inspect_image(truncated, name="cut.img")
    assert info.value.reason == "damaged"
    assert "re-export" in str(info.value).lower()
    with pytest.raises(DamagedImage):
        prepare_for_upstream(truncated)


def test_image_cut_inside_its_header_is_damaged_not_foreign() -> None:
    with pytest.raises(DamagedImage):
        inspect_image(still("PNG")[:20])


def test_huge_canvas_is_refused_from_the_header_without_decoding() -> None:
    data = crafted_png_header(7000, 7000)
    # Header-only helpers still work: nothing has been decoded.
    assert image_size(data) == (7000, 7000)
    # Decoding the garbage pixel data would raise DamagedImage, so TooManyPixels proves we stopped first.
    for call in (inspect_image, prepare_for_upstream):
        with pytest.raises(TooManyPixels) as info:
            call(data, name="bomb.png")
        assert info.value.reason == "too_many_pixels"
        assert "7000\u00d77000" in str(info.value)
        assert "40 megapixels" in str(info.value)


def test_solid_huge_image_is_too_many_pixels() -> None:
    data = encode(Image.new("1", (8000, 5001)), "PNG")
    with pytest.raises(TooManyPixels):
        prepare_for_upstream(data)


@pytest.mark.parametrize("size", [(12, 10), (30, 30)], ids=["warning", "error"])
def test_pillow_decompression_bomb_checks_become_too_many_pixels(
    monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    data = still("PNG", size=size)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 120 px warns, 900 px errors
    with pytest.raises(TooManyPixels):
        inspect_image(data)


def test_too_many_bytes_are_refused_before_decoding() -> None:
    data = PNG_SIGNATURE + bytes(MAX_INPUT_BYTES)
    with pytest.raises(ImageTooLarge) as info:
        prepare_for_upstream(data, name="huge.png")
    assert info.value.reason == "too_large"
    message = str(info.value)
    assert "25.1 MiB" in message
    assert "25 MiB" in message


def test_max_side_must_be_positive() -> None:
    with pytest.raises(ValueError):
        prepare_for_upstream(still("PNG"), max_side=0)


# --- converting ---


@pytest.mark.parametrize(("fmt", "mime"), [("PNG", "image/png"), ("JPEG", "image/jpeg")])
def test_scaling_keeps_aspect_ratio(fmt: str, mime: str) -> None:
    data = still(fmt, size=(4000, 1000), color=GREEN)
    prepared = prepare_for_upstream(data)
    assert prepared.scaled
    assert (prepared.width, prepared.height) == (2048, 512)
    assert (prepared.original_width, prepared.original_height) == (4000, 1000)
    assert prepared.mime == mime
    out = opened(prepared.data)
    assert out.size == (2048, 512)
    assert Image.MIME[out.format or ""] == mime


@pytest.mark.parametrize(
    ("fmt", "mime"), [("WEBP", "image/jpeg"), ("GIF", "image/png")], ids=["webp-to-jpeg", "gif-to-png"]
)
def test_scaled_output_format_follows_the_source(fmt: str, mime: str) -> None:
    prepared = prepare_for_upstream(still(fmt, size=(300, 100)), max_side=150)
    assert prepared.mime == mime
    assert opened(prepared.data).size == (150, 50)


def test_alpha_is_kept_as_png() -> None:
    image = Image.new("RGBA", (300, 100), (*RED, 255))
    image.paste((0, 0, 0, 0), (0, 0, 150, 100))  # left half fully transparent
    prepared = prepare_for_upstream(encode(image, "WEBP", lossless=True), max_side=150)
    assert prepared.mime == "image/png"
    out = opened(prepared.data)
    assert out.format == "PNG"
    assert out.mode == "RGBA"
    assert out.size == (150, 50)
    assert out.getpixel((10, 25))[3] == 0  # type: ignore[index]
    assert out.getpixel((140, 25)) == (*RED, 255)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_animation_becomes_a_still_of_its_first_frame(fmt: str) -> None:
    data = animated(fmt)
    assert getattr(opened(data), "is_animated", False)
    assert inspect_image(data)[1:] == (32, 32)

    prepared = prepare_for_upstream(data)
    assert prepared.mime == "image/png"
    assert not prepared.scaled
    out = opened(prepared.data)
    assert out.format == "PNG"
    assert not getattr(out, "is_animated", False)
    assert out.convert("RGB").getpixel((16, 16)) == RED


def test_sixteen_bit_greyscale_is_rescaled_not_clipped() -> None:
    data = encode(Image.new("I;16", (300, 10), 30000), "PNG")
    prepared = prepare_for_upstream(data, max_side=150)
    assert prepared.mime == "image/png"
    assert opened(prepared.data).convert("L").getpixel((75, 2)) == 30000 // 256


def test_exif_orientation_is_applied() -> None:
    image = Image.new("RGB", (40, 20), BLUE)
    image.paste(RED, (0, 0, 20, 20))  # stored: red left, blue right
    exif = Image.Exif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise: red on top
    data = encode(image, "JPEG", exif=exif.tobytes(), quality=95)

    assert inspect_image(data) == ("image/jpeg", 20, 40)
    assert image_size(data) == (20, 40)

    prepared = prepare_for_upstream(data)
    assert prepared.data != data  # the models may ignore EXIF, so the pixels themselves are rotated
    assert (prepared.width, prepared.height) == (20, 40)
    assert (prepared.original_width, prepared.original_height) == (20, 40)
    assert not prepared.scaled
    out = opened(prepared.data).convert("RGB")
    assert out.size == (20, 40)
    top, bottom = out.getpixel((10, 5)), out.getpixel((10, 35))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 200 and top[2] < 60
    assert bottom[2] > 200 and bottom[0] < 60
    assert opened(prepared.data).getexif().get(0x0112) is None


def test_exif_orientation_is_applied_before_scaling() -> None:
    exif = Image.Exif()
    exif[0x0112] = 8
    data = encode(Image.new("RGB", (400, 100), GREEN), "JPEG", exif=exif.tobytes())
    prepared = prepare_for_upstream(data, max_side=200)
    assert (prepared.original_width, prepared.original_height) == (100, 400)
    assert (prepared.width, prepared.height) == (50, 200)
    assert opened(prepared.data).size == (50, 200)


# --- data URLs and sniffing ---


def test_decode_data_url_good() -> None:
    payload = still("PNG")
    encoded = base64.b64encode(payload).decode()
    assert decode_data_url(f"data:image/png;base64,{encoded}") == (payload, "image/png")
    assert decode_data_url(f"  DATA:Image/WebP;name=x.webp;BASE64,{encoded}\n") == (payload, "image/webp")


@pytest.mark.parametrize(
    "url",
    [
        "",
        "https://example.com/cat.png",
        "data:image/png;base64",
        "data:image/png,iVBORw0KGgo=",
        "data:;base64,iVBORw0KGgo=",
        "data:png;base64,iVBORw0KGgo=",
        "data:image/png;base64,not base64!",
        "data:image/png;base64,iVBORw0KGgo",
        "data:image/png;base64,",
    ],
)
def test_decode_data_url_bad(url: str) -> None:
    with pytest.raises(ValueError):
        decode_data_url(url)


def test_sniff_mime_unknown() -> None:
    assert sniff_mime(b"") is None
    assert sniff_mime(b"RIFF\x00\x00\x00\x00WAVE") is None
    assert sniff_mime(still("BMP")) is None


# --- fitting results under an upload limit ---


def test_fit_leaves_small_results_untouched() -> None:
    data = still("PNG", size=(64, 32))
    fitted = fit_to_size(data, 10 * 1024 * 1024)
    assert fitted == FittedImage(data, "image/png", "png", 64, 32, False, "")
    assert fitted.data is data


def test_fit_shrinks_a_noisy_png_and_says_how() -> None:
    data = encode(noisy(2000, 100), "PNG", compress_level=1)
    limit = 500_000
    assert len(data) > limit
    fitted = fit_to_size(data, limit)
    assert len(fitted.data) <= limit
    assert fitted.reencoded
    assert (fitted.mime, fitted.filename_ext) == ("image/webp", "webp")
    assert (fitted.width, fitted.height) == (2000, 2000)
    assert fitted.note.startswith("re-encoded as WebP q")
    assert fitted.note.endswith("to fit Discord's 488 KiB limit")
    assert opened(fitted.data).size == (2000, 2000)


def test_fit_tries_lossless_png_first() -> None:
    data = encode(Image.linear_gradient("L").convert("RGB"), "PNG", compress_level=0)
    fitted = fit_to_size(data, len(data) - 1)
    assert fitted.mime == "image/png"
    assert fitted.note.startswith("losslessly re-compressed")
    assert opened(fitted.data).tobytes() == opened(data).tobytes()


def test_fit_falls_back_to_jpeg_when_webp_cannot_encode() -> None:
    data = encode(Image.new("RGB", (17000, 20), GREEN), "PNG", compress_level=0)  # wider than WebP allows
    fitted = fit_to_size(data, 200_000)
    assert (fitted.mime, fitted.filename_ext) == ("image/jpeg", "jpg")
    assert fitted.note.startswith("re-encoded as JPEG q85")
    assert (fitted.width, fitted.height) == (17000, 20)


def test_fit_downscales_transparent_images_without_jpeg() -> None:
    data = encode(noisy(600, 600, mode="RGBA"), "PNG", compress_level=1)
    fitted = fit_to_size(data, 100_000)
    assert fitted.mime == "image/webp"
    assert fitted.note.startswith("scaled down to ")
    assert len(fitted.data) <= 100_000
    out = opened(fitted.data)
    assert out.mode == "RGBA"
    assert out.size == (fitted.width, fitted.height)
    assert fitted.width < 600


def test_fit_gives_up_below_256_pixels() -> None:
    data = encode(noisy(300, 300), "PNG")
    with pytest.raises(ImageRejected) as info:
        fit_to_size(data, 1000)
    assert info.value.reason == "cannot_fit"
    assert "256x256" in str(info.value)


def test_fit_rejects_non_images_and_bad_limits() -> None:
    with pytest.raises(NotAnImage):
        fit_to_size(b"<html>rate limited</html>", 10)
    with pytest.raises(ValueError):
        fit_to_size(still("PNG"), 0)


# --- small helpers ---


@pytest.mark.parametrize(
    ("width", "height", "label"),
    [
        (1920, 1080, "landscape"),
        (1080, 1920, "portrait"),
        (1024, 1024, "square"),
        (1100, 1000, "square"),
        (1101, 1000, "landscape"),
        (900, 1000, "square"),
        (899, 1000, "portrait"),
    ],
)
def test_aspect_label(width: int, height: int, label: str) -> None:
    assert aspect_label(width, height) == label


def test_aspect_label_rejects_empty_sides() -> None:
    with pytest.raises(ValueError):
        aspect_label(0, 10)


def test_every_rejection_carries_a_reason_key() -> None:
    classes = [NotAnImage, UnsupportedImageFormat, DamagedImage, ImageTooLarge, TooManyPixels]
    assert len({cls.reason for cls in classes} | {ImageRejected.reason}) == len(classes) + 1
    assert ImageRejected("x", reason="cannot_fit").reason == "cannot_fit"
    assert set(images.SUPPORTED_MIME) == {"PNG", "JPEG", "WEBP", "GIF"}
    assert PreparedImage.__dataclass_params__.frozen  # type: ignore[attr-defined]


def test_a_large_photographic_png_goes_upstream_as_jpeg_but_a_drawing_stays_png() -> None:
    import os

    width, height = 3000, 1500
    noise = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG", compress_level=1)
    photo = prepare_for_upstream(buffer.getvalue(), name="photo.png")
    assert photo.mime == "image/jpeg" and photo.scaled and (photo.width, photo.height) == (2048, 1024)

    drawing = Image.new("RGB", (width, height), (255, 255, 255))
    buffer = io.BytesIO()
    drawing.save(buffer, format="PNG")
    flat = prepare_for_upstream(buffer.getvalue(), name="drawing.png")
    assert flat.mime == "image/png" and flat.scaled


# --- padded uploads: re-encoded, not forwarded (issue item 6) ---


def test_a_png_with_24_mib_appended_is_re_encoded_at_its_size() -> None:
    picture = still("PNG", size=(1024, 1024))
    padded = picture + b"\0" * (24 * 1024 * 1024)
    prepared = prepare_for_upstream(padded, name="padded.png")
    assert len(prepared.data) < len(picture) + 1024, "the padding is gone"
    assert prepared.mime == "image/png", "a flat drawing stays PNG (its pixels, not its padding, decide)"
    assert opened(prepared.data).size == (1024, 1024)
    assert (prepared.width, prepared.height, prepared.scaled) == (1024, 1024, False)
    assert opened(prepared.data).getpixel((5, 5)) == RED


def test_any_data_after_a_pngs_end_is_dropped() -> None:
    picture = still("PNG", size=(64, 64))
    prepared = prepare_for_upstream(picture + b"PK\x03\x04 a zip file hiding behind the picture")
    assert prepared.data is not picture and prepared.data.endswith(b"IEND\xaeB`\x82")
    assert opened(prepared.data).size == (64, 64)


def test_a_huge_metadata_chunk_counts_as_padding() -> None:
    picture = still("PNG", size=(256, 256))
    iend = picture.rindex(b"IEND") - 4
    bloated = picture[:iend] + png_chunk(b"tEXt", b"Comment\0" + b"x" * (2 * 1024 * 1024)) + picture[iend:]
    prepared = prepare_for_upstream(bloated)
    assert len(prepared.data) < 64 * 1024 and opened(prepared.data).size == (256, 256)


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "GIF"])
def test_padded_jpeg_webp_and_gif_are_re_encoded_too(fmt: str) -> None:
    picture = still(fmt, size=(300, 200))
    prepared = prepare_for_upstream(picture + b"\0" * (2 * 1024 * 1024))
    assert len(prepared.data) < 256 * 1024
    assert opened(prepared.data).size == (300, 200)


@pytest.mark.parametrize(
    ("mode", "fmt", "options"),
    [("RGB", "JPEG", {"quality": 100, "subsampling": 0}), ("L", "JPEG", {"quality": 100}), ("RGB", "PNG", {}),
     ("RGBA", "PNG", {}), ("RGB", "WEBP", {"lossless": True}), ("I;16", "PNG", {})],
)
def test_the_padding_rule_spares_the_largest_real_images(mode: str, fmt: str, options: dict[str, object]) -> None:
    """Pure noise is the most bytes real pixels can need (JPEG q100 of grain is over its raw size, a 16-bit PNG
    twice an 8-bit one): it passes through untouched, while the same file with 1 MiB appended is re-encoded."""
    bands = 2 if mode == "I;16" else len(mode)
    image = Image.frombytes(mode, (256, 256), random.Random(3).randbytes(256 * 256 * bands))
    data = encode(image, fmt, **options)
    assert prepare_for_upstream(data).data is data
    padded = prepare_for_upstream(data + b"\0" * (1024 * 1024))
    assert len(padded.data) < len(data) + 1024 * 1024 and opened(padded.data).size == (256, 256)
