"""The `/usage` chart: daily spend over the last days, stacked by operation, as a PNG.

Drawn with Pillow alone (no plotting library to install for one chart). It is a pure function, bytes
out, CPU-bound, so callers run it with `asyncio.to_thread`. Colours follow Discord's palette on its
dark theme, where the chart is mostly seen.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from datetime import date

from PIL import Image, ImageDraw, ImageFont

from bot.i18n import DEFAULT_LOCALE, month_day
from bot.operations import Operation

__all__ = ["OPERATION_COLOURS", "render_daily_spend"]

WIDTH, HEIGHT = 960, 440
BACKGROUND = (43, 45, 49)
GRID = (70, 73, 80)
TEXT = (219, 222, 225)
MUTED = (148, 155, 164)
OPERATION_COLOURS: dict[Operation, tuple[int, int, int]] = {
    Operation.IMAGINE: (88, 101, 242),
    Operation.EDIT: (87, 242, 135),
    Operation.DESCRIBE: (254, 231, 92),
}
LEFT, RIGHT, TOP, BOTTOM = 78, 20, 64, 48


#: Locales whose words the chart's font can draw (Pillow's built-in font has Latin letters only); a
#: member of any other locale gets the chart's own few words (title, legend, dates) in English.
DRAWABLE_LOCALES = frozenset({DEFAULT_LOCALE, "en-GB", "de", "fr", "es-ES", "pt-BR"})


def chart_locale(locale: str) -> str:
    """The locale the chart is drawn in for a member of `locale`."""
    return locale if locale in DRAWABLE_LOCALES else DEFAULT_LOCALE


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (OSError, TypeError, ValueError):  # Pillow without FreeType: the bitmap font, fixed size
        return ImageFont.load_default()


def _nice_step(top: float, lines: int = 4) -> float:
    """A round gridline step (1, 2 or 5 times a power of ten) so that `lines` steps cover `top`."""
    raw = top / lines
    power = 10 ** math.floor(math.log10(raw))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= raw)


def _money(value: float) -> str:
    if value == 0:
        return "$0"
    if value >= 100:
        return f"${value:,.0f}"
    if value >= 1:
        return f"${value:.2f}"
    return f"${value:.4f}".rstrip("0")


def render_daily_spend(
    days: Sequence[date], spend: Mapping[date, Mapping[Operation, float]], *, title: str
) -> bytes:
    """A stacked bar per day of `days` (oldest first), one colour per operation, with a legend; PNG bytes."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    title_font, font = _font(20), _font(13)
    draw.text((LEFT, 18), title, fill=TEXT, font=title_font)
    _legend(draw, font)

    totals = [sum(spend.get(day, {}).values()) for day in days]
    highest = max(totals, default=0.0)
    step = _nice_step(highest) if highest > 0 else 0.01
    top_value = step * max(math.ceil(highest / step), 1)
    plot_height = HEIGHT - TOP - BOTTOM
    plot_width = WIDTH - LEFT - RIGHT

    def y_of(value: float) -> float:
        return HEIGHT - BOTTOM - value / top_value * plot_height

    lines = round(top_value / step)
    for index in range(lines + 1):
        value = step * index
        y = y_of(value)
        draw.line([(LEFT, y), (WIDTH - RIGHT, y)], fill=GRID, width=1)
        label = _money(value)
        draw.text((LEFT - 8 - draw.textlength(label, font=font), y - 8), label, fill=MUTED, font=font)

    if not days:
        return _png(image)
    slot = plot_width / len(days)
    bar = max(slot * 0.7, 1.0)
    for index, day in enumerate(days):
        x0 = LEFT + index * slot + (slot - bar) / 2
        base = 0.0
        for operation in Operation:
            value = spend.get(day, {}).get(operation, 0.0)
            if value <= 0:
                continue
            y_top, y_bottom = y_of(base + value), y_of(base)
            draw.rectangle([(x0, y_top), (x0 + bar, max(y_bottom - 1, y_top))], fill=OPERATION_COLOURS[operation])
            base += value
        if index % 5 == 0 or index == len(days) - 1:
            label = month_day(day)
            width = draw.textlength(label, font=font)
            draw.text((x0 + bar / 2 - width / 2, HEIGHT - BOTTOM + 8), label, fill=MUTED, font=font)
    return _png(image)


def _legend(draw: ImageDraw.ImageDraw, font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> None:
    x: float = WIDTH - RIGHT
    for operation in reversed(Operation):
        label = operation.label
        x -= draw.textlength(label, font=font)
        draw.text((x, 24), label, fill=TEXT, font=font)
        x -= 20
        draw.rectangle([(x, 26), (x + 12, 38)], fill=OPERATION_COLOURS[operation])
        x -= 18


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()
