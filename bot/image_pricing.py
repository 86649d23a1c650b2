"""What one image from the Images API is expected to cost, from its endpoints' price lines.

The Images API's model listing carries no prices; each endpoint of a model lists its own
(`ImagePricingEntry`: `billable`, `unit` image / megapixel / token, `cost_usd`). A budget must hold a
job's cost before anything is sent, and OpenRouter may route the call to any endpoint the server's
provider filter allows, so the estimate is the dearest endpoint's price: a budget then never lets
through a job it could not afford, at the price of sometimes holding a little more than is spent.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.openrouter.types import ImageEndpointInfo, ImagePricing

__all__ = ["MEGAPIXELS", "OUTPUT_TOKENS_PER_MEGAPIXEL", "image_price"]

#: Megapixels of an image at each resolution tier (a square: 1K is 1024 x 1024, 4K 4096 x 4096); a request
#: without a resolution is made at the model's default, 1K for every model seen in 2026.
MEGAPIXELS = {"512": 0.26, "1K": 1.05, "2K": 4.19, "4K": 16.8}
#: Output tokens per megapixel for token-priced image models (OpenAI's gpt-image at high quality: about
#: 4,160 tokens for 1024 x 1024; lower qualities use fewer, so this errs on the safe side).
OUTPUT_TOKENS_PER_MEGAPIXEL = 4000
#: Tokens one reference image counts for, for token-priced input (a ~1 MP image, generously).
INPUT_IMAGE_TOKENS = 1500


def image_price(
    endpoints: Iterable[ImageEndpointInfo], *, resolution: str | None, input_images: int
) -> float | None:
    """The expected cost of one image in USD on the dearest endpoint, or None when none lists a price."""
    prices = [
        price for endpoint in endpoints
        if (price := _endpoint_price(endpoint.pricing, resolution, input_images)) is not None
    ]
    return max(prices) if prices else None


def _endpoint_price(lines: Iterable[ImagePricing], resolution: str | None, input_images: int) -> float | None:
    megapixels = MEGAPIXELS.get(resolution or "1K", MEGAPIXELS["1K"])
    output: float | None = None
    inputs = 0.0
    for line in lines:
        if line.cost_usd < 0:  # "varies": no estimate from this endpoint
            return None
        if line.billable == "output_image":
            per_image = {"image": 1.0, "megapixel": megapixels,
                         "token": OUTPUT_TOKENS_PER_MEGAPIXEL * megapixels}.get(line.unit)
            if per_image is not None:
                output = (output or 0.0) + line.cost_usd * per_image
        elif line.billable in ("input_image", "input_reference"):
            per_reference = {"image": 1.0, "megapixel": MEGAPIXELS["1K"], "token": INPUT_IMAGE_TOKENS}.get(line.unit)
            if per_reference is not None:
                inputs += line.cost_usd * per_reference * input_images
    return None if output is None else output + inputs
