"""One image's expected price from the Images API endpoints' price lines (`bot.image_pricing`)."""

from __future__ import annotations

import pytest

from bot.image_pricing import image_price
from bot.openrouter.types import ImageEndpointInfo


def endpoint(*lines: tuple[str, str, float]) -> ImageEndpointInfo:
    return ImageEndpointInfo.from_api({
        "provider_name": "P", "provider_slug": "p", "provider_tag": "p", "supported_parameters": {},
        "allowed_passthrough_parameters": [], "supports_streaming": False,
        "pricing": [{"billable": billable, "unit": unit, "cost_usd": cost} for billable, unit, cost in lines],
    })


def test_per_image_per_megapixel_and_per_token_prices() -> None:
    assert image_price([endpoint(("output_image", "image", 0.04))], resolution=None, input_images=0) == 0.04
    per_mp = [endpoint(("output_image", "megapixel", 0.03), ("input_reference", "megapixel", 0.015))]
    assert image_price(per_mp, resolution="4K", input_images=0) == pytest.approx(0.03 * 16.8)
    assert image_price(per_mp, resolution="1K", input_images=2) == pytest.approx(0.03 * 1.05 + 2 * 0.015 * 1.05)
    tokens = [endpoint(("output_image", "token", 0.00003))]
    assert image_price(tokens, resolution="1K", input_images=0) == pytest.approx(0.00003 * 4000 * 1.05)


def test_the_dearest_endpoint_counts_and_unknown_prices_give_none() -> None:
    cheap, dear = endpoint(("output_image", "image", 0.02)), endpoint(("output_image", "image", 0.05))
    assert image_price([cheap, dear], resolution=None, input_images=0) == 0.05
    assert image_price([], resolution=None, input_images=0) is None
    assert image_price([endpoint(("input_text", "token", 0.000001))], resolution=None, input_images=0) is None
    assert image_price([endpoint(("output_image", "image", -1))], resolution=None, input_images=0) is None
