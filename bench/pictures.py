"""Synthetic photo-like images of a given file size, made once and cached in the temp folder.

A solid colour compresses to almost nothing, so "a 4 MiB PNG" or "a 10 MiB attachment" must hold
detail: a colour gradient blended with Gaussian noise, which PNG and JPEG can barely shrink, as with
a real photo or a generated picture full of texture. Sizes land within a few percent of the target.
"""

from __future__ import annotations

import io
import math
import tempfile
from pathlib import Path

from PIL import Image

__all__ = ["jpeg_of_size", "png_of_size"]

_CACHE = Path(tempfile.gettempdir()) / "openrouter-image-bot-bench"
_MIB = 1024 * 1024


def _photo(width: int, height: int, sigma: float = 60.0) -> Image.Image:
    channels = []
    for index in range(3):
        gradient = Image.linear_gradient("L")
        if index == 1:
            gradient = gradient.transpose(Image.Transpose.ROTATE_90)
        if index == 2:
            gradient = gradient.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
        noise = Image.effect_noise((width, height), sigma)
        channels.append(Image.blend(gradient.resize((width, height)), noise, 0.5))
    return Image.merge("RGB", channels)


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _sized(name: str, target_bytes: int, aspect: float, fmt: str, options: dict[str, object]) -> bytes:
    """An image of about `target_bytes`: guess the side from the bytes per pixel, then correct once."""
    path = _CACHE / f"{name}-{target_bytes}-{aspect:.3f}.{fmt.lower()}"
    if path.exists():
        return path.read_bytes()
    bytes_per_pixel = 3.0 if fmt == "PNG" else 1.0
    data = b""
    for _ in range(3):
        pixels = target_bytes / bytes_per_pixel
        height = max(16, round(math.sqrt(pixels / aspect)))
        width = max(16, round(height * aspect))
        data = _encode(_photo(width, height), fmt, **options)
        if abs(len(data) - target_bytes) <= 0.04 * target_bytes:
            break
        bytes_per_pixel = len(data) / (width * height)
    _CACHE.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def png_of_size(target_bytes: int, *, aspect: float = 1.0, fast: bool = False) -> bytes:
    """A PNG of about `target_bytes`; `fast` encodes as an image model's server would (level 1)."""
    options: dict[str, object] = {"compress_level": 1} if fast else {}
    return _sized("photo-fast" if fast else "photo", target_bytes, aspect, "PNG", options)


def jpeg_of_size(target_bytes: int, *, aspect: float = 4 / 3) -> bytes:
    """A camera-like JPEG (quality 92) of about `target_bytes`."""
    return _sized("photo", target_bytes, aspect, "JPEG", {"quality": 92})


if __name__ == "__main__":
    samples = (("png 4 MiB", png_of_size(4 * _MIB, fast=True)),
               ("png 10 MiB, 16:9", png_of_size(10 * _MIB, aspect=16 / 9)), ("jpeg 10 MiB", jpeg_of_size(10 * _MIB)))
    for label, blob in samples:
        with Image.open(io.BytesIO(blob)) as opened:
            print(f"{label}: {len(blob) / _MIB:.2f} MiB, {opened.size[0]}x{opened.size[1]}")
